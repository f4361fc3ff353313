from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker proved it was alive.

    Kept in the database rather than Redis so that the status page can still
    say when workers were last seen while Redis itself is down.
    """

    hostname = models.CharField(max_length=255, unique=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.hostname} at {self.last_seen_at:%Y-%m-%d %H:%M:%S}"
