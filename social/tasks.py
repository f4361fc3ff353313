"""Celery tasks of the social layer. The recommendation tasks go to the `recommendations`
queue; telling people of listing events goes to `default` (CELERY_TASK_ROUTES), so neither
holds up the other. Every task is safe to run twice (see the services they call)."""

from datetime import timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from . import recommendations, services

# An event is handed to a worker at commit; the sweeper only steps in after this.
SWEEP_GRACE = timedelta(minutes=2)
DATABASE_AWAY = (OperationalError, InterfaceError)
# Idempotent tasks: run again after a worker died, and retried while the database is away.
RETRIED_WHILE_THE_DATABASE_IS_AWAY = {
    "ignore_result": True,
    "acks_late": True,
    "autoretry_for": DATABASE_AWAY,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(**RETRIED_WHILE_THE_DATABASE_IS_AWAY)
def refresh_recommendations() -> int:
    """Count the views and purchases recorded since the last run (every minute, and after
    each checkout)."""
    return recommendations.events_count()


@shared_task(**RETRIED_WHILE_THE_DATABASE_IS_AWAY)
def rebuild_recommendations() -> int:
    """Recount the recommendation tables from the orders and the people's numbered items (after
    a bulk load, or to repair them); returns how many rows changed (none on a second run)."""
    return recommendations.recommendations_rebuild().changed


@shared_task(ignore_result=True, acks_late=True, autoretry_for=DATABASE_AWAY, retry_backoff=5, max_retries=5)
def refresh_trending() -> dict[str, int]:
    """Recompute what the "everyone" view shows as trending."""
    return recommendations.trending_refresh()


@shared_task(**RETRIED_WHILE_THE_DATABASE_IS_AWAY)
def fanout_listing_event(event_id: int) -> bool:
    """Tell the people a new listing or a price drop concerns (social.services.listing_event_process)."""
    return services.listing_event_process(event_id=event_id)


@shared_task(**RETRIED_WHILE_THE_DATABASE_IS_AWAY)
def fanout_listing_events(event_ids: list[int]) -> int:
    """fanout_listing_event for the events of one batch of imported listings: one message for
    the batch instead of one per listing (an import writes thousands). Events already done are
    skipped, so a retry or a second delivery carries on where the last one stopped."""
    return sum(services.listing_event_process(event_id=event_id) for event_id in event_ids)


@shared_task(ignore_result=True, acks_late=True)
def sweep_listing_events() -> int:
    """Every minute: re-enqueue the listing events the broker or a dead worker left behind."""
    return services.listing_events_sweep(older_than=timezone.now() - SWEEP_GRACE)
