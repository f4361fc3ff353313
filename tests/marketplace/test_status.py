"""The status page (/status/) and API (/api/status/): each service ok, degraded or down."""

import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from marketplace.models import WorkerHeartbeat
from marketplace.selectors import QUEUE_BACKLOG_DEGRADED, queue_depths

from .conftest import checks_by_name, page_states

SERVICES = ["database", "cache", "broker", "queues", "workers"]
LABELS = {
    "database": "Database",
    "cache": "Cache",
    "broker": "Task broker",
    "queues": "Task queues",
    "workers": "Background workers",
}
# A guard against hanging on a dead Redis, not a measure of speed.
ANSWER_WITHIN_SECONDS = 3


def assert_recent(value: str) -> None:
    checked_at = parse_datetime(value)
    assert checked_at is not None, value
    assert abs(timezone.now() - checked_at) < timedelta(minutes=1)


@pytest.fixture
def non_eager(settings):
    """Tasks go to separate workers, whose heartbeats the status reads."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.WORKER_HEARTBEAT_INTERVAL = timedelta(seconds=30)


def heartbeat(age: timedelta, hostname: str = "celery@worker-1") -> WorkerHeartbeat:
    return WorkerHeartbeat.objects.create(hostname=hostname, last_seen_at=timezone.now() - age)


# --- Embedded mode: no Redis at all -------------------------------------------


@pytest.mark.django_db
def test_api_in_embedded_mode_reports_every_service_ok(client, embedded):
    response = client.get("/api/status/")

    assert response.status_code == 200
    payload = response.json()
    assert payload["state"] == "ok"
    assert_recent(payload["checked_at"])
    assert [check["name"] for check in payload["checks"]] == SERVICES
    for check in payload["checks"]:
        assert check["state"] == "ok", check
        assert check["label"] == LABELS[check["name"]]
        assert check["detail"]
        assert_recent(check["checked_at"])


@pytest.mark.django_db
def test_page_in_embedded_mode_reports_every_service_ok(client, embedded):
    response = client.get("/status/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "All systems are working." in html
    assert page_states(html) == dict.fromkeys(LABELS.values(), "ok")
    # The page's own time and one per service.
    assert html.count("<time datetime=") == 1 + len(SERVICES)


# --- Worker heartbeats --------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("age", "state"),
    [
        (timedelta(seconds=5), "ok"),
        (timedelta(seconds=85), "ok"),  # up to 3 intervals
        (timedelta(seconds=95), "degraded"),
        (timedelta(minutes=9), "degraded"),  # up to 20 intervals
        (timedelta(minutes=11), "down"),
        (timedelta(days=2), "down"),
    ],
)
def test_workers_state_follows_the_latest_heartbeat(client, non_eager, age, state):
    heartbeat(timedelta(days=3), hostname="celery@retired")
    heartbeat(age)

    workers = checks_by_name(client.get("/api/status/").json())["workers"]

    assert workers["state"] == state
    assert "celery@worker-1" in workers["detail"]
    assert_recent(workers["checked_at"])


@pytest.mark.django_db
def test_workers_are_down_when_no_worker_ever_reported(client, non_eager):
    response = client.get("/api/status/")

    workers = checks_by_name(response.json())["workers"]
    assert workers["state"] == "down"
    assert workers["detail"] == "no worker has reported yet"
    assert response.status_code == 503


@pytest.mark.django_db
def test_workers_need_no_heartbeat_in_embedded_mode(client, embedded):
    workers = checks_by_name(client.get("/api/status/").json())["workers"]

    assert workers["state"] == "ok"
    assert "embedded" in workers["detail"]


# --- Queue depth from the real Redis ------------------------------------------


@pytest.fixture
def test_queues(settings, require_redis):
    """Two queues of our own, so that no worker on this Redis takes what we push."""
    names = [f"plural-test-{uuid.uuid4().hex[:12]}" for _ in range(2)]
    settings.CELERY_QUEUE_NAMES = names
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client, names
    client.delete(*names)
    client.close()


@pytest.mark.django_db
def test_queue_depth_is_the_length_of_the_redis_list(client, test_queues):
    broker, (busy, idle) = test_queues
    broker.rpush(busy, *[f"task-{n}" for n in range(3)])

    assert queue_depths() == {busy: 3, idle: 0}
    queues = checks_by_name(client.get("/api/status/").json())["queues"]
    assert queues["state"] == "ok"
    assert queues["detail"] == f"waiting: {busy} 3, {idle} 0"


@pytest.mark.django_db
def test_a_long_queue_is_degraded(client, test_queues):
    broker, (busy, _idle) = test_queues
    broker.rpush(busy, *["task"] * (QUEUE_BACKLOG_DEGRADED + 1))

    response = client.get("/status/")

    assert page_states(response.content.decode())["Task queues"] == "degraded"
    assert f"{busy} {QUEUE_BACKLOG_DEGRADED + 1}" in response.content.decode()


# --- Redis down: the page still answers, quickly ------------------------------

REDIS_DOWN = {"cache": "down", "broker": "down", "queues": "down"}


@pytest.mark.django_db
@pytest.mark.parametrize("redis_outage", ["redis_stopped", "redis_hung"])
def test_api_answers_when_redis_is_down(client, non_eager, request, redis_outage):
    request.getfixturevalue(redis_outage)
    heartbeat(timedelta(seconds=10))  # kept in the database, so still known

    started = time.monotonic()
    response = client.get("/api/status/")
    elapsed = time.monotonic() - started

    assert elapsed < ANSWER_WITHIN_SECONDS
    assert response.status_code == 503
    payload = response.json()
    assert payload["state"] == "down"
    states = {name: check["state"] for name, check in checks_by_name(payload).items()}
    assert states == {"database": "ok", **REDIS_DOWN, "workers": "ok"}
    for check in payload["checks"]:
        assert_recent(check["checked_at"])


@pytest.mark.django_db
@pytest.mark.parametrize("redis_outage", ["redis_stopped", "redis_hung"])
def test_page_answers_when_redis_is_down(client, non_eager, request, redis_outage):
    request.getfixturevalue(redis_outage)

    started = time.monotonic()
    response = client.get("/status/")
    elapsed = time.monotonic() - started

    assert elapsed < ANSWER_WITHIN_SECONDS
    assert response.status_code == 503
    html = response.content.decode()
    assert "Part of Plural is down." in html
    assert page_states(html) == {
        "Database": "ok",
        "Cache": "down",
        "Task broker": "down",
        "Task queues": "down",
        "Background workers": "down",
    }
