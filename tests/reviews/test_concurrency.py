"""Racing writers on PostgreSQL, each thread with its own connection: the figures stay exact and
the one-per rules hold when everything arrives at once."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from accounts.models import User
from reviews import services
from reviews.models import HelpfulVote, Review, SellerRating, ShopRatingSummary
from tests.factories import ListingFactory, ShopFactory, UserFactory
from tests.reviews.conftest import RATING, REVIEW, shipped_order

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RACERS = 6


def _race(attempt, arguments):
    barrier = threading.Barrier(len(arguments))

    def run(argument):
        try:
            barrier.wait(timeout=10)
            return attempt(argument)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(arguments)) as pool:
        return list(pool.map(run, arguments))


def _shop_and_listing():
    shop = ShopFactory(payment_methods=["bank_transfer"])
    return shop, ListingFactory(shop=shop, quantity=RACERS * 2)


def test_one_item_reviewed_at_once_from_several_tabs_is_reviewed_once(require_postgresql):
    _, listing = _shop_and_listing()
    buyer = UserFactory(username="tabs")
    item = shipped_order(buyer, listing, key="tabs").items.get()

    def attempt(_):
        try:
            services.review_create(author=User.objects.get(pk=buyer.pk), order_item_id=item.pk, **REVIEW)
        except ValidationError as refused:
            return refused.message_dict["order_item"][0]
        return "reviewed"

    results = _race(attempt, range(RACERS))

    assert results.count("reviewed") == 1
    assert set(results) - {"reviewed"} == {"You have already reviewed this item: edit your review instead."}
    assert Review.objects.count() == 1
    assert ShopRatingSummary.objects.values_list("review_count", "review_sum").get() == (1, 4)


def test_votes_and_revealed_ratings_arriving_together_are_all_counted(require_postgresql, settings):
    settings.REVIEWS_BURST_AUTHORS = 100
    shop, listing = _shop_and_listing()
    author = UserFactory(username="author")
    review = services.review_create(
        author=author, order_item_id=shipped_order(author, listing, key="a").items.get().pk, **REVIEW
    )
    voters = [UserFactory(username=f"voter{n}").pk for n in range(RACERS)]
    raters = []
    for number in range(RACERS):
        person = UserFactory(username=f"rater{number}")
        order = shipped_order(person, listing, key=f"r{number}")
        services.buyer_feedback_create(order=order, actor=shop.owner, value="positive")
        raters.append((person.pk, order.pk))

    _race(lambda voter: services.vote_add(review=review, voter=User.objects.get(pk=voter)), voters)
    _race(
        lambda rater: services.rating_create(author=User.objects.get(pk=rater[0]), order_id=rater[1], **RATING),
        raters,
    )

    review.refresh_from_db()
    assert review.helpful_count == HelpfulVote.objects.count() == RACERS
    assert SellerRating.objects.filter(is_counted=True).count() == RACERS
    summary = ShopRatingSummary.objects.get(shop=shop)
    assert (summary.rating_count, summary.rating_sum, summary.shipping_sum) == (RACERS, 5 * RACERS, 3 * RACERS)
