import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def build_export(export_id: int) -> None:
    try:
        services.export_build(export_id=export_id)
    except OSError:
        raise
    except Exception as error:
        # A bug or bad data will not mend itself on a retry: the person sees it failed and may ask again.
        logger.exception("data export %s failed", export_id)
        services.export_fail(export_id=export_id, error=str(error))


@shared_task
def purge_expired_data() -> dict:
    return services.retention_purge()
