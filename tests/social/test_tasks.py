"""Where the social tasks run and when beat sends them."""

import datetime

import pytest

from marketplace import celery_app


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("social.tasks.refresh_recommendations", "recommendations"),
        ("social.tasks.refresh_trending", "recommendations"),
        ("social.tasks.fanout_listing_event", "default"),
        ("social.tasks.sweep_listing_events", "default"),
    ],
)
def test_recommendations_keep_to_their_queue_and_telling_people_does_not_wait_behind_them(task, queue):
    assert celery_app.amqp.router.route({}, task)["queue"].name == queue


def test_beat_counts_every_minute_recomputes_trending_and_sweeps_the_outbox():
    schedule = celery_app.conf.beat_schedule

    assert schedule["social-refresh-recommendations"]["schedule"] == datetime.timedelta(minutes=1)
    assert schedule["social-refresh-trending"]["schedule"] == datetime.timedelta(minutes=15)
    assert schedule["social-sweep-listing-events"]["task"] == "social.tasks.sweep_listing_events"
