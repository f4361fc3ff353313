"""Defences against gaming: bursts from new or single-shop accounts are held for a moderator,
what was held and taken down is counted for all to see (not who), writing and voting are rate
limited, and helpful votes are one per person, never on one's own review or one's own shop's."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from notifications.models import Notification
from reviews import selectors, services
from reviews.models import HelpfulVote, Review, SellerRating, ShopRatingSummary
from tests.factories import ListingFactory, UserFactory
from tests.reviews.conftest import RATING, REVIEW, shipped_order, snapshot

pytestmark = pytest.mark.django_db


def _refused(call, field: str) -> list[str]:
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        call()
    assert snapshot() == before
    return refused.value.message_dict[field]


def _fresh_buyers_rate(listing, count: int, *, prefix: str = "fresh"):
    ratings = []
    for number in range(count):
        person = UserFactory(username=f"{prefix}{number}")
        order = shipped_order(person, listing, key=f"{prefix}-{number}")
        ratings.append(services.rating_create(author=person, order_id=order.pk, **RATING))
    return ratings


def _age(person, days: int) -> None:
    User.objects.filter(pk=person.pk).update(date_joined=timezone.now() - datetime.timedelta(days=days))


# --- Bursts ---------------------------------------------------------------------------------------------


def test_a_burst_of_ratings_from_fresh_accounts_is_held_earlier_ones_included(atlas, shop, settings):
    settings.REVIEWS_BURST_AUTHORS = 3

    first, second, third, fourth = _fresh_buyers_rate(atlas, 4)

    statuses = list(SellerRating.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["held", "held", "held", "held"]
    assert third.held_reason == (
        "Held automatically: 3 new or single-shop accounts wrote about this shop within 24 hours."
    )
    assert ShopRatingSummary.objects.get(shop=shop).held_count == 4
    assert [rating.pk for rating in selectors.moderation_queue().ratings] == [first.pk, second.pk, third.pk, fourth.pk]


def test_a_burst_of_reviews_is_held_and_the_shop_hears_only_of_what_is_published(atlas, shop, shop_owner, settings):
    settings.REVIEWS_BURST_AUTHORS = 2
    writers = [UserFactory(username=f"w{number}") for number in range(2)]
    items = [shipped_order(person, atlas, key=f"w{n}").items.get() for n, person in enumerate(writers)]

    first = services.review_create(author=writers[0], order_item_id=items[0].pk, **REVIEW)
    assert first.status == "published"
    second = services.review_create(author=writers[1], order_item_id=items[1].pk, **REVIEW)

    first.refresh_from_db()
    assert (first.status, first.is_counted, second.status) == ("held", False, "held")
    summary = ShopRatingSummary.objects.get(shop=shop)
    assert (summary.review_count, summary.held_count) == (0, 2)
    assert Notification.objects.filter(kind="review.received", recipient=shop_owner).count() == 1
    assert list(selectors.shop_reviews(shop=shop)) == []
    # Held ones are between the author and the moderators.
    assert selectors.is_visible_to(second, writers[1])
    assert not selectors.is_visible_to(second, shop_owner)
    assert not selectors.is_visible_to(second, writers[0])


def test_a_moderator_publishes_a_held_review_and_then_the_shop_is_told(atlas, shop, shop_owner, moderator, settings):
    settings.REVIEWS_BURST_AUTHORS = 1
    writer = UserFactory(username="w")
    review = services.review_create(
        author=writer, order_item_id=shipped_order(writer, atlas, key="w").items.get().pk, **REVIEW
    )
    assert review.status == "held"

    services.decision_make(subject=review, moderator=moderator, outcome="keep", reason="A real buyer.")

    review.refresh_from_db()
    assert (review.status, review.is_counted) == ("published", True)
    assert Notification.objects.filter(kind="review.received", recipient=shop_owner).count() == 1
    assert not Notification.objects.filter(kind="moderation.decided", recipient=shop_owner).exists()
    assert ShopRatingSummary.objects.get(shop=shop).review_count == 1


def test_established_buyers_who_review_other_shops_too_are_no_burst(atlas, shop, other_shop, settings):
    settings.REVIEWS_BURST_AUTHORS = 2
    elsewhere = ListingFactory(shop=other_shop, currency="EUR", quantity=5)
    people = [UserFactory(username=f"old{number}") for number in range(3)]
    for number, person in enumerate(people):
        _age(person, 400)
        with time_machine.travel(timezone.now() - datetime.timedelta(days=100), tick=False):
            order = shipped_order(person, elsewhere, key=f"else-{number}")
            services.review_create(author=person, order_item_id=order.items.get().pk, **REVIEW)

    for number, person in enumerate(people):
        order = shipped_order(person, atlas, key=f"here-{number}")
        services.rating_create(author=person, order_id=order.pk, **RATING)

    assert list(SellerRating.objects.values_list("status", flat=True)) == ["published"] * 3


def test_old_accounts_that_only_ever_review_this_shop_count_towards_a_burst(atlas, shop, settings):
    settings.REVIEWS_BURST_AUTHORS = 3
    people = [UserFactory(username=f"loyal{number}") for number in range(3)]
    for person in people:
        _age(person, 400)

    for number, person in enumerate(people):
        order = shipped_order(person, atlas, key=f"loyal-{number}")
        services.rating_create(author=person, order_id=order.pk, **RATING)

    assert list(SellerRating.objects.values_list("status", flat=True)) == ["held"] * 3


def test_a_burst_outside_the_window_is_no_burst(atlas, settings):
    settings.REVIEWS_BURST_AUTHORS = 2
    [earlier] = _fresh_buyers_rate(atlas, 1, prefix="early")
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25), tick=False):
        [later] = _fresh_buyers_rate(atlas, 1, prefix="late")

    assert (earlier.status, later.status) == ("published", "published")


def test_a_burst_does_not_hold_again_what_a_moderator_already_kept(atlas, moderator, settings):
    settings.REVIEWS_BURST_AUTHORS = 2
    [kept] = _fresh_buyers_rate(atlas, 1, prefix="a")
    services.decision_make(subject=kept, moderator=moderator, outcome="keep", reason="Checked.")

    _fresh_buyers_rate(atlas, 1, prefix="b")

    kept.refresh_from_db()
    assert kept.status == "published"
    assert list(SellerRating.objects.order_by("pk").values_list("status", flat=True)) == ["published", "held"]


def test_one_buyer_reviewing_many_items_is_not_a_burst(buyer, atlas, shop, settings):
    settings.REVIEWS_BURST_AUTHORS = 2
    items = [shipped_order(buyer, atlas, key=f"mine-{n}").items.get() for n in range(3)]

    for item in items:
        services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)

    assert list(Review.objects.values_list("status", flat=True)) == ["published"] * 3


def test_the_storefront_counts_what_was_held_and_taken_down_not_who(client, atlas, shop, moderator, settings):
    settings.REVIEWS_BURST_AUTHORS = 2
    ratings = _fresh_buyers_rate(atlas, 2, prefix="burst")
    services.decision_make(subject=ratings[0], moderator=moderator, outcome="remove", reason="Bought by the owner.")

    page = client.get("/shops/olives-books/").content.decode()

    assert "2 reviews or ratings held for a moderator before publication; 1 hidden or removed by moderators." in page
    assert "burst0" not in page and "burst1" not in page


# --- Rate limits ------------------------------------------------------------------------------------------


def test_writing_is_rate_limited_per_hour(buyer, atlas, settings):
    settings.REVIEWS_WRITES_PER_HOUR = 2
    items = [shipped_order(buyer, atlas, key=f"lim-{n}").items.get() for n in range(3)]
    services.review_create(author=buyer, order_item_id=items[0].pk, **REVIEW)
    services.rating_create(author=buyer, order_id=items[0].order_id, **RATING)

    assert _refused(
        lambda: services.review_create(author=buyer, order_item_id=items[1].pk, **REVIEW), "order_item"
    ) == ["You have written 2 reviews and ratings in the last hour: please wait a while before writing more."]
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=61), tick=False):
        assert services.review_create(author=buyer, order_item_id=items[1].pk, **REVIEW).status == "published"


# --- Helpful votes ----------------------------------------------------------------------------------------


@pytest.fixture
def review(buyer, item):
    return services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)


def test_a_helpful_vote_once_per_person_and_taken_back(review, other_buyer):
    services.vote_add(review=review, voter=other_buyer)
    assert review.helpful_count == 1

    assert _refused(lambda: services.vote_add(review=review, voter=other_buyer), "review") == [
        "You have already found this review helpful."
    ]
    assert services.vote_remove(review=review, voter=other_buyer) is True
    assert services.vote_remove(review=review, voter=other_buyer) is False
    assert (review.helpful_count, HelpfulVote.objects.count()) == (0, 0)


def test_no_vote_on_ones_own_review_nor_on_ones_own_shops(review, buyer, shop_staff):
    assert _refused(lambda: services.vote_add(review=review, voter=buyer), "review") == [
        "You cannot vote on your own review."
    ]
    assert _refused(lambda: services.vote_add(review=review, voter=shop_staff), "review") == [
        "You are one of the people of Olive's Books: you cannot vote on its reviews."
    ]


def test_votes_are_rate_limited(buyer, atlas, settings, other_buyer):
    settings.REVIEWS_VOTES_PER_HOUR = 1
    reviews = []
    for number in range(2):
        item = shipped_order(buyer, atlas, key=f"v{number}").items.get()
        reviews.append(services.review_create(author=buyer, order_item_id=item.pk, **REVIEW))
    services.vote_add(review=reviews[0], voter=other_buyer)

    assert _refused(lambda: services.vote_add(review=reviews[1], voter=other_buyer), "review") == [
        "You have voted 1 times in the last hour: please wait a while before voting again."
    ]


def test_reviews_sort_by_most_helpful_newest_highest_and_lowest(atlas, shop):
    voters = [UserFactory(username=f"voter{number}") for number in range(2)]
    writers = {}
    for stars, votes, name in [(3, 1, "middling"), (5, 0, "glowing"), (1, 2, "scathing")]:
        person = UserFactory(username=name)
        item = shipped_order(person, atlas, key=name).items.get()
        review = services.review_create(author=person, order_item_id=item.pk, **(REVIEW | {"stars": stars}))
        for voter in voters[:votes]:
            services.vote_add(review=review, voter=voter)
        writers[name] = review.pk

    def order(sort):
        names = {pk: name for name, pk in writers.items()}
        return [names[review.pk] for review in selectors.shop_reviews(shop=shop, sort=sort)]

    assert order("helpful") == ["scathing", "middling", "glowing"]
    assert order("newest") == ["scathing", "glowing", "middling"]
    assert order("highest") == ["glowing", "middling", "scathing"]
    assert order("lowest") == ["scathing", "middling", "glowing"]
    assert order("nonsense") == order("helpful")
