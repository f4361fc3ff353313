"""Real Celery worker processes for tests, sharing the test run's Redis and database."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

CELERY = Path(sys.executable).with_name("celery")
WORKER_TIMEOUT_SECONDS = 30


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
    queues: list[str]
    log_path: Path

    @property
    def queue(self) -> str:
        return self.queues[0]

    def wait_for(self, what: str, condition, timeout: float = WORKER_TIMEOUT_SECONDS):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if result := condition():
                return result
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"{what} (worker exit code {self.process.poll()}); worker log:\n{self.log()[-4000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """Die at once, as a worker does when its machine goes away: no warm shutdown, no acks."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def remove_redis_traces(url: str, queue: str) -> None:
    """Delete the queue and its bindings, nothing else (kombu expires the worker's pidbox binding)."""
    with redis.Redis.from_url(url) as broker:
        broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@contextmanager
def running_worker(*, queues: list[str], hostname: str, log_path: Path, env: dict | None = None):
    """`celery worker` (solo pool: one task at a time) consuming `queues`."""
    environment = {
        **os.environ,
        "REDIS_URL": settings.REDIS_URL,
        "DATABASE_URL": database_url(connection.settings_dict),
        **(env or {}),
    }
    command = [
        str(CELERY),
        "-A",
        "marketplace",
        "worker",
        "--pool=solo",
        "--without-mingle",
        "--without-gossip",
        "--loglevel=INFO",
        f"--queues={','.join(queues)}",
        f"--hostname={hostname}@%h",
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    worker = WorkerProcess(process, queues, log_path)
    try:
        yield worker
    finally:
        worker.stop()
