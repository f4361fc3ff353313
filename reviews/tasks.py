"""Celery tasks of reviews, run by beat (CELERY_BEAT_SCHEDULE "reviews-reveal-feedback").

Safe to run twice and side by side: each order's feedback is revealed under its order's row
lock, and an order already revealed is left alone (services.feedback_reveal)."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True, acks_late=True)
def reveal_due_feedback() -> int:
    """Every quarter of an hour: show the ratings and buyer feedback of orders whose window closed."""
    return services.feedback_reveal_due()
