"""Celery: routing, the beat schedule, and a real worker process recording its heartbeat."""

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery.signals import worker_ready
from django.conf import settings
from django.db import connection
from django.utils import timezone

from marketplace import celery_app
from marketplace.models import WorkerHeartbeat
from marketplace.tasks import record_worker_heartbeat

from .conftest import checks_by_name

CELERY = Path(sys.executable).with_name("celery")
WORKER_TIMEOUT_SECONDS = 30


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


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database this test run uses (pytest-django's test database)."""
    credentials = quote(settings_dict["USER"] or "", safe="")
    if settings_dict["PASSWORD"]:
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = settings_dict["HOST"] or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(settings_dict['NAME'], safe='')}"


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    queue: str
    log_path: Path

    def wait_for(self, what: str, condition):
        deadline = time.monotonic() + WORKER_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if result := condition():
                return result
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(
            f"{what} (worker exit code {self.process.poll()}); worker log:\n{self.log_path.read_text()[-4000:]}"
        )


def remove_redis_traces(url: str, queue: str) -> None:
    """Delete the queue and its bindings, nothing else (kombu expires the worker's pidbox binding)."""
    with redis.Redis.from_url(url) as broker:
        broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@pytest.fixture
def worker_process(require_redis, require_postgresql, transactional_db, tmp_path):
    """`celery worker` on a queue of its own, sharing this test run's Redis and database."""
    queue = f"plural-test-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path / "worker.log"
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL, "DATABASE_URL": database_url(connection.settings_dict)}
    command = [
        str(CELERY),
        "-A",
        "marketplace",
        "worker",
        "--pool=solo",
        "--without-mingle",
        "--without-gossip",
        "--loglevel=INFO",
        f"--queues={queue}",
        f"--hostname={queue}@%h",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield WorkerProcess(process, queue, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
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
