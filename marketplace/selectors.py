"""Health of the services Plural depends on, for the status page and API."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.crypto import get_random_string

from .models import WorkerHeartbeat

# A backlog larger than this means tasks arrive faster than workers finish them.
QUEUE_BACKLOG_DEGRADED = 1000
SERVICE_TIMEOUT_SECONDS = 0.5


class State(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


STATE_ORDER = {State.OK: 0, State.DEGRADED: 1, State.DOWN: 2}


@dataclass(frozen=True)
class ServiceCheck:
    name: str
    label: str
    state: State
    detail: str
    checked_at: datetime
    latency_ms: float | None = None


@dataclass(frozen=True)
class SiteStatus:
    state: State
    checked_at: datetime
    checks: list[ServiceCheck]


def _timed(name: str, label: str, probe) -> ServiceCheck:
    started = time.perf_counter()
    try:
        state, detail = probe()
    except Exception as error:  # noqa: BLE001 - any failure means the service is down
        state, detail = State.DOWN, f"{type(error).__name__}: {error}"
    latency = (time.perf_counter() - started) * 1000
    return ServiceCheck(name, label, state, detail, timezone.now(), round(latency, 1))


def _check_database() -> tuple[State, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return State.OK, f"{connection.vendor} answers"


def _check_cache() -> tuple[State, str]:
    key = f"status-probe-{get_random_string(8)}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        # No delete: a hung Redis would make the page wait for a third timeout.
        return State.DOWN, "the cache did not return what was written; pages are served uncached"
    cache.delete(key)
    return State.OK, "reads and writes"


def _broker_client() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=SERVICE_TIMEOUT_SECONDS,
        socket_connect_timeout=SERVICE_TIMEOUT_SECONDS,
    )


def _check_broker() -> tuple[State, str]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return State.OK, "embedded mode: background tasks run inside the web process"
    with _broker_client() as client:
        client.ping()
    return State.OK, "accepts tasks"


def queue_depths() -> dict[str, int]:
    """Tasks waiting in each Celery queue (Redis keeps a queue as a list)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return dict.fromkeys(settings.CELERY_QUEUE_NAMES, 0)
    with _broker_client() as client:
        pipeline = client.pipeline(transaction=False)
        for name in settings.CELERY_QUEUE_NAMES:
            pipeline.llen(name)
        return dict(zip(settings.CELERY_QUEUE_NAMES, pipeline.execute(), strict=True))


def _check_queues() -> tuple[State, str]:
    depths = queue_depths()
    waiting = ", ".join(f"{name} {depth}" for name, depth in depths.items())
    if any(depth > QUEUE_BACKLOG_DEGRADED for depth in depths.values()):
        return State.DEGRADED, f"backlog: {waiting}"
    return State.OK, f"waiting: {waiting}"


def _check_workers() -> tuple[State, str]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return State.OK, "embedded mode: no separate workers needed"
    latest = WorkerHeartbeat.objects.order_by("-last_seen_at").first()
    if latest is None:
        return State.DOWN, "no worker has reported yet"
    age = timezone.now() - latest.last_seen_at
    interval: timedelta = settings.WORKER_HEARTBEAT_INTERVAL
    seen = f"last heartbeat {int(age.total_seconds())} s ago from {latest.hostname}"
    if age <= interval * 3:
        return State.OK, seen
    if age <= interval * 20:
        return State.DEGRADED, seen
    return State.DOWN, seen


def site_status() -> SiteStatus:
    database = _timed("database", "Database", _check_database)
    cache_check = _timed("cache", "Cache", _check_cache)
    broker = _timed("broker", "Task broker", _check_broker)
    if broker.state == State.DOWN:
        # The queues live in the broker: asking again would only wait for another timeout.
        queues = ServiceCheck("queues", "Task queues", State.DOWN, "unknown: the task broker is down", timezone.now())
    else:
        queues = _timed("queues", "Task queues", _check_queues)
    workers = _timed("workers", "Background workers", _check_workers)
    checks = [database, cache_check, broker, queues, workers]
    worst = max((check.state for check in checks), key=STATE_ORDER.__getitem__)
    return SiteStatus(state=worst, checked_at=timezone.now(), checks=checks)
