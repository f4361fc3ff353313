"""Celery: routing, the beat schedule, and a real worker process recording its heartbeat."""

import uuid

import pytest
from celery.signals import worker_ready
from django.conf import settings
from django.utils import timezone

from marketplace import celery_app
from marketplace.models import WorkerHeartbeat
from marketplace.tasks import record_worker_heartbeat
from tests.workers import remove_redis_traces, running_worker

from .conftest import checks_by_name


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("marketplace.tasks.record_worker_heartbeat", "default"),
        ("notifications.tasks.send_notification", "notifications"),
        ("catalog.tasks.import_inventory", "imports"),
        ("social.tasks.refresh_recommendations", "recommendations"),
    ],
)
def test_tasks_are_routed_to_their_queue(task, queue):
    assert celery_app.amqp.router.route({}, task)["queue"].name == queue


def test_beat_sends_the_heartbeat_every_interval():
    entry = celery_app.conf.beat_schedule["worker-heartbeat"]

    assert entry["task"] == record_worker_heartbeat.name
    assert entry["schedule"].run_every == settings.WORKER_HEARTBEAT_INTERVAL


@pytest.mark.django_db(transaction=True)
def test_a_starting_worker_records_a_heartbeat_at_once():
    class Consumer:  # what Celery sends worker_ready with
        hostname = "celery@starting"

    worker_ready.send(sender=Consumer())

    assert WorkerHeartbeat.objects.filter(hostname="celery@starting").exists()


# --- A real worker process ----------------------------------------------------


@pytest.fixture
def worker_process(require_redis, require_postgresql, transactional_db, tmp_path):
    """`celery worker` on a queue of its own, sharing this test run's Redis and database."""
    queue = f"plural-test-{uuid.uuid4().hex[:12]}"
    try:
        with running_worker(queues=[queue], hostname=queue, log_path=tmp_path / "worker.log") as worker:
            yield worker
    finally:
        remove_redis_traces(settings.REDIS_URL, queue)


@pytest.mark.services
def test_real_worker_runs_the_heartbeat_task(client, worker_process):
    assert not celery_app.conf.task_always_eager, "the task must go through Redis to the worker"
    worker = worker_process

    started = worker.wait_for(
        "the worker never reported that it started",
        lambda: WorkerHeartbeat.objects.filter(hostname__startswith=f"{worker.queue}@").first(),
    )
    sent_at = timezone.now()
    record_worker_heartbeat.apply_async(queue=worker.queue)
    worker.wait_for(
        "the worker never ran record_worker_heartbeat",
        lambda: WorkerHeartbeat.objects.filter(hostname=started.hostname, last_seen_at__gt=sent_at).exists(),
    )

    response = client.get("/api/status/")
    checks = checks_by_name(response.json())
    assert checks["workers"]["state"] == "ok"
    assert started.hostname in checks["workers"]["detail"]
    assert checks["broker"]["state"] == "ok"
