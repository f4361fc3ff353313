"""Celery tasks of orders: the timers, run by beat (CELERY_BEAT_SCHEDULE "orders-run-timers" and
"orders-run-deal-timers").

Safe to run twice and side by side: each deadline is claimed under its order's (or offer's) row
lock and re-checked before it fires (services.order_deadline_fire, offer_deadline_fire,
case_decision_finalize), each reminder with a conditional update."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True, acks_late=True)
def run_order_timers() -> dict[str, int]:
    """Every few minutes: fire the deadlines that fell due and send the reminders that are due."""
    return services.order_timers_run()


@shared_task(ignore_result=True, acks_late=True)
def run_deal_timers() -> dict[str, int]:
    """Every few minutes: expire unanswered offers, give back the copies of reservations not
    ordered in time, and let unappealed case decisions take effect."""
    return services.deal_timers_run()
