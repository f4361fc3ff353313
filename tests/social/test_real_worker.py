"""The recommendations task run by a real Celery worker on PostgreSQL and Redis: checkouts
hand it their purchases after commit, and it recounts after new purchases."""

from decimal import Decimal

import pytest
from django.conf import settings

from marketplace import celery_app
from social import recommendations
from social.models import ItemPair, RecommendationEvent
from tests.factories import ListingFactory, ShopFactory, UserFactory
from tests.workers import remove_redis_traces, running_worker

from .buying import buy

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

QUEUE = "recommendations"


@pytest.fixture
def recommender(require_redis, require_postgresql, tmp_path):
    remove_redis_traces(settings.REDIS_URL, QUEUE)
    with running_worker(queues=[QUEUE], hostname="recommender", log_path=tmp_path / "recommender.log") as worker:
        yield worker
    remove_redis_traces(settings.REDIS_URL, QUEUE)


def _bought_together(first, second) -> int:
    pair = ItemPair.objects.filter(item__listing=first, other__listing=second).first()
    return pair.buyers if pair else 0


def test_checkouts_are_counted_by_the_worker_and_recounted_after_new_purchases(recommender):
    assert not celery_app.conf.task_always_eager, "the task must go through Redis to the worker"
    shop = ShopFactory(slug="herbarium", payment_methods=["bank_transfer"])
    lichens, mosses, ferns = (
        ListingFactory(shop=shop, title=title, price=Decimal("8.00"), quantity=20)
        for title in ("Lichens", "Mosses", "Ferns")
    )
    buyers = [UserFactory(username=f"buyer{number}") for number in range(5)]

    for person in buyers[:3]:
        buy(person, lichens, mosses)
    recommender.wait_for("the worker never counted the first checkouts", lambda: _bought_together(lichens, mosses) == 3)

    shown = recommendations.recommendations_for(viewer=None, scope="everyone", listing=lichens)
    assert [(entry.title, entry.people) for entry in shown.also_bought] == [("Mosses", 3)]

    for person in buyers[2:]:
        buy(person, lichens, ferns)
    recommender.wait_for("the worker never recounted", lambda: _bought_together(lichens, ferns) == 3)

    shown = recommendations.recommendations_for(viewer=None, scope="everyone", listing=lichens)
    assert [(entry.title, entry.people) for entry in shown.also_bought] == [("Mosses", 3), ("Ferns", 3)]
    assert (shown.viewers, shown.buyers) == (5, 5)
    assert _bought_together(mosses, ferns) == 1  # buyer2 bought all three
    assert not RecommendationEvent.objects.exists()
    assert "social.tasks.refresh_recommendations" in recommender.log()
