import socket

from celery import shared_task
from celery.signals import worker_ready
from django.db import connection

from .services import worker_heartbeat_record


@shared_task(bind=True, ignore_result=True)
def record_worker_heartbeat(self) -> None:
    hostname = self.request.hostname or socket.gethostname()
    worker_heartbeat_record(hostname=hostname)


@worker_ready.connect
def record_heartbeat_on_start(sender, **kwargs) -> None:
    """Report a starting worker at once instead of on beat's first tick, one interval later.

    Celery logs and otherwise ignores an exception here, so a worker still starts
    while the database is down.
    """
    try:
        worker_heartbeat_record(hostname=sender.hostname)
    finally:
        # Runs in the worker's main process: do not keep a connection open there.
        connection.close()
