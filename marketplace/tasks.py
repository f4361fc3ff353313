import socket

from celery import shared_task

from .services import worker_heartbeat_record


@shared_task(bind=True, ignore_result=True)
def record_worker_heartbeat(self) -> None:
    hostname = self.request.hostname or socket.gethostname()
    worker_heartbeat_record(hostname=hostname)
