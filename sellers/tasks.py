"""Celery tasks of the sellers app. Tasks named import_* go to the `imports` queue
(CELERY_TASK_ROUTES), so a large import never delays notifications."""

import logging

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from .imports import INTERRUPTED_REASON, inventory_import_fail, inventory_import_process

logger = logging.getLogger(__name__)


class ImportTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Out of retries (the database stayed away): say so on the import instead of leaving it running."""
        import_id = args[0] if args else kwargs.get("import_id")
        try:
            inventory_import_fail(import_id=import_id, reason=INTERRUPTED_REASON)
        except Exception:  # the database may still be away; the import then shows as running
            logger.exception("inventory import %s: could not record the failure", import_id)


@shared_task(
    base=ImportTask,
    bind=True,
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=5,
)
def import_inventory(self, import_id: int, as_drafts: bool = False) -> None:
    """Import the rows of InventoryImport `import_id`. Safe to deliver twice: lines already
    recorded are skipped and a finished import is left alone. Retries while the database is away."""
    inventory_import_process(import_id=import_id, as_drafts=as_drafts)
