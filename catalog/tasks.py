"""Celery tasks of the catalog app."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import counters

logger = logging.getLogger(__name__)


@shared_task(
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
)
def reconcile_counts() -> None:
    """Count the maintained listing counts again and correct any that drifted (nightly, from
    beat). Idempotent: run twice, the second run corrects nothing."""
    recount = counters.recount_all()
    if recount.total:
        # The triggers keep the counts exact: a correction means something wrote around them.
        logger.warning("maintained listing counts corrected: %s", recount.corrected)
