"""Celery tasks of notifications: all go to the `notifications` queue (CELERY_TASK_ROUTES).

Each is safe to run twice: deliveries are claimed with a conditional update and marked
sent only after the mail server accepted them (see services.deliver_emails)."""

import smtplib

from celery import shared_task

from . import services

TRANSIENT_MAIL_ERRORS = (smtplib.SMTPException, OSError)


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=TRANSIENT_MAIL_ERRORS,
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def send_email_deliveries(delivery_ids: list[int]) -> int:
    """Send a batch of immediate e-mails (at most services.DRAIN_BATCH) over one mail connection."""
    return services.deliver_emails(delivery_ids=delivery_ids)


@shared_task(ignore_result=True, acks_late=True)
def send_digests() -> int:
    """Daily: one e-mail per person gathering their digest notifications."""
    sent = 0
    for user_id in services.users_with_digest_waiting():
        send_digest.delay(user_id)
        sent += 1
    return sent


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=TRANSIENT_MAIL_ERRORS,
    retry_backoff=30,
    max_retries=6,
)
def send_digest(user_id: int) -> None:
    services.deliver_digest(user_id=user_id)


@shared_task(ignore_result=True, acks_late=True)
def sweep_outbox() -> int:
    """Every minute: re-enqueue what the broker or a dead worker left behind."""
    return services.sweep_outbox()
