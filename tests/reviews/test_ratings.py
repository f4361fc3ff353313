"""Seller ratings and feedback on buyers: one per order once shipped, written blind and revealed
together (both written, or the window closed), counted in the shop's figures only once shown;
a repeat buyer counts once a week; the damped score ranks shops."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from notifications.models import Notification
from reviews import selectors, services
from reviews.models import BuyerFeedback, Revision, SellerRating, ShopRatingMonth, ShopRatingSummary
from reviews.tasks import reveal_due_feedback
from sellers.models import ShopMember
from tests.factories import ListingFactory, ShopFactory, UserFactory
from tests.reviews.conftest import RATING, place, ship, shipped_order, snapshot

pytestmark = pytest.mark.django_db


def _refused(call, field: str) -> list[str]:
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        call()
    assert snapshot() == before
    return refused.value.message_dict[field]


def _rate(buyer, order, **changes):
    return services.rating_create(author=buyer, order_id=order.pk, **(RATING | changes))


def test_a_rating_is_unseen_and_uncounted_until_the_shop_has_written_its_feedback(
    buyer, order, shop, shop_owner, shop_staff
):
    rating = _rate(buyer, order)

    assert (rating.status, rating.revealed_at, rating.is_counted, rating.counts_towards_score) == (
        "published",
        None,
        False,
        True,
    )
    assert not rating.is_public
    assert ShopRatingSummary.objects.get(shop=shop).rating_count == 0
    told = Notification.objects.filter(kind="review.received").order_by("recipient__username")
    assert [(n.recipient.username, n.title) for n in told] == [
        ("olive", f"Bea Buyer reviewed order #{order.pk}"),
        ("sam", f"Bea Buyer reviewed order #{order.pk}"),
    ]
    assert "5" not in told[0].body  # the score is not in what the shop is told
    assert selectors.shop_ratings(shop=shop).count() == 0


def test_the_shops_feedback_reveals_both_sides_and_counts_the_rating(buyer, order, shop, shop_staff):
    rating = _rate(buyer, order)

    feedback = services.buyer_feedback_create(order=order, actor=shop_staff, value="positive", comment="Paid fast.")

    rating.refresh_from_db()
    assert rating.revealed_at == feedback.revealed_at is not None
    assert rating.is_counted
    summary = ShopRatingSummary.objects.get(shop=shop)
    assert (summary.rating_count, summary.rating_sum, summary.star_5) == (1, 5, 1)
    assert (summary.described_sum, summary.communication_sum, summary.shipping_sum) == (5, 4, 3)
    assert summary.score == Decimal("3.636")  # (10 * 3.5 + 5) / 11
    month = ShopRatingMonth.objects.get(shop=shop)
    assert (month.month, month.rating_count, month.rating_sum) == (timezone.localdate().replace(day=1), 1, 5)
    assert list(selectors.shop_ratings(shop=shop)) == [rating]
    revealed = Notification.objects.filter(kind="feedback.revealed").order_by("recipient__username")
    assert [(n.recipient.username, n.title) for n in revealed] == [
        ("bea", f"Order #{order.pk}: the buyer's rating and the shop's feedback on the buyer can be seen now"),
        ("olive", f"Order #{order.pk}: the buyer's rating and the shop's feedback on the buyer can be seen now"),
        ("sam", f"Order #{order.pk}: the buyer's rating and the shop's feedback on the buyer can be seen now"),
    ]


def test_feedback_written_first_is_revealed_when_the_buyer_rates(buyer, order, shop_owner):
    feedback = services.buyer_feedback_create(order=order, actor=shop_owner, value="neutral")
    assert feedback.revealed_at is None
    assert Notification.objects.get(kind="feedback.received", recipient=buyer).title == (
        f"Olive Owner left feedback on your order #{order.pk}"
    )

    rating = _rate(buyer, order)

    feedback.refresh_from_db()
    assert rating.revealed_at == feedback.revealed_at is not None
    assert selectors.buyer_record(buyer=buyer) == selectors.BuyerRecord(positive=0, neutral=1)


def test_when_the_window_closes_whatever_was_written_is_revealed_by_the_task(buyer, order, shop, eager_tasks):
    rating = _rate(buyer, order)
    closes = order.delivered_at + datetime.timedelta(days=30)

    with time_machine.travel(closes - datetime.timedelta(minutes=1), tick=False):
        assert reveal_due_feedback.delay().get() == 0
    with time_machine.travel(closes, tick=False):
        assert reveal_due_feedback.delay().get() == 1
        assert reveal_due_feedback.delay().get() == 0  # a second run changes nothing

    rating.refresh_from_db()
    assert rating.revealed_at == closes
    assert ShopRatingSummary.objects.get(shop=shop).rating_count == 1
    assert Notification.objects.filter(kind="feedback.revealed", recipient=buyer).get().title == (
        f"Order #{order.pk}: the buyer's rating can be seen now"
    )


def test_nothing_is_revealed_while_the_parcel_is_on_its_way(buyer, atlas):
    order = shipped_order(buyer, atlas, key="slow", deliver=False)
    _rate(buyer, order)

    with time_machine.travel(timezone.now() + datetime.timedelta(days=20), tick=False):
        assert services.feedback_reveal_due() == 0
        assert services.feedback_reveal(order_id=order.pk) is False


def test_a_rating_outside_one_to_five_is_refused(buyer, order):
    assert _refused(lambda: _rate(buyer, order, overall=0), "overall") == ["Choose from 1 to 5 stars for overall."]
    assert _refused(lambda: _rate(buyer, order, communication=6), "communication") == [
        "Choose from 1 to 5 stars for communication."
    ]
    assert _refused(lambda: _rate(buyer, order, shipping_speed=""), "shipping_speed") == [
        "Choose from 1 to 5 stars for shipping speed."
    ]


def test_the_same_person_cannot_rate_a_shop_twice_for_one_order(buyer, order):
    _rate(buyer, order)

    assert _refused(lambda: _rate(buyer, order, overall=1), "order") == [
        "You have already rated Olive's Books for this order: edit your rating instead."
    ]


def test_nobody_rates_an_order_that_is_not_theirs_or_not_shipped(buyer, other_buyer, order, atlas):
    assert _refused(lambda: _rate(other_buyer, order), "order") == [
        "You can rate only shops you bought from: this is not one of your orders."
    ]
    [unshipped] = place(buyer, atlas, key="new")
    assert _refused(lambda: _rate(buyer, unshipped), "order") == [
        "You can rate Olive's Books once it has shipped the order."
    ]


def test_nobody_rates_their_own_shop(buyer, order, shop):
    ShopMember.objects.create(shop=shop, user=buyer)

    assert _refused(lambda: _rate(buyer, order), "order") == [
        "You are one of the people of Olive's Books: you cannot rate your own shop."
    ]


def test_no_rating_after_the_window_closed(buyer, order):
    closes = order.delivered_at + datetime.timedelta(days=30)

    with time_machine.travel(closes, tick=False):
        messages = _refused(lambda: _rate(buyer, order), "order")

    assert messages == [f"The time to rate this order ended on {timezone.localtime(closes):%-d %B %Y}."]


def test_a_repeat_buyers_ratings_count_at_most_once_a_week(buyer, atlas, shop, shop_owner):
    orders = [shipped_order(buyer, atlas, key=f"repeat-{n}") for n in range(3)]
    first = _rate(buyer, orders[0], overall=5)
    second = _rate(buyer, orders[1], overall=1)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8), tick=False):
        third = _rate(buyer, orders[2], overall=3)
    for order in orders:
        services.buyer_feedback_create(order=order, actor=shop_owner, value="positive")

    assert [r.counts_towards_score for r in (first, second, third)] == [True, False, True]
    summary = ShopRatingSummary.objects.get(shop=shop)
    assert (summary.rating_count, summary.rating_sum) == (2, 8)
    assert selectors.shop_ratings(shop=shop).count() == 3  # all shown, one not counted


def test_feedback_on_buyers_is_never_negative(order, shop_owner):
    messages = _refused(
        lambda: services.buyer_feedback_create(order=order, actor=shop_owner, value="negative"), "value"
    )

    assert messages == [
        "Choose positive or neutral: feedback on buyers is never negative, so that nobody is punished for an honest "
        "review."
    ]


def test_the_database_refuses_negative_feedback_too(order, shop_owner):
    from django.db import IntegrityError, transaction

    feedback = services.buyer_feedback_create(order=order, actor=shop_owner, value="positive")
    with pytest.raises(IntegrityError), transaction.atomic():
        BuyerFeedback.objects.filter(pk=feedback.pk).update(value="negative")


def test_feedback_once_per_order_by_the_shops_people_only(order, shop_owner, shop_staff, other_shop_owner, buyer):
    for outsider in (other_shop_owner, buyer):
        with pytest.raises(PermissionDenied):
            services.buyer_feedback_create(order=order, actor=outsider, value="positive")
    services.buyer_feedback_create(order=order, actor=shop_owner, value="positive")

    assert _refused(
        lambda: services.buyer_feedback_create(order=order, actor=shop_staff, value="neutral"), "non_field_errors"
    ) == ["You have already left feedback on the buyer of this order."]


def test_the_buyer_changes_a_rating_until_it_is_revealed(buyer, order, shop_owner):
    rating = _rate(buyer, order)

    changed = services.rating_update(rating=rating, author=buyer, **(RATING | {"overall": 2, "comment": "Slow."}))

    assert (changed.overall, changed.comment_html) == (2, "<p>Slow.</p>")
    assert Revision.objects.get(rating=rating).content == {
        "overall": 5,
        "item_as_described": 5,
        "communication": 4,
        "shipping_speed": 3,
        "comment": "Quick and kind.",
    }
    services.buyer_feedback_create(order=order, actor=shop_owner, value="positive")
    changed.refresh_from_db()
    assert _refused(lambda: services.rating_update(rating=changed, author=buyer, **RATING), "non_field_errors") == [
        "Your rating has been shown to the shop: it can no longer be changed."
    ]


def test_the_damped_score_ranks_many_good_ratings_above_one_perfect_one():
    one_perfect = services.damped_score(total=5, count=1)
    many_good = services.damped_score(total=2450, count=500)  # 500 ratings averaging 4.9

    assert (one_perfect, many_good) == (Decimal("3.636"), Decimal("4.873"))
    assert services.damped_score(total=0, count=0) == Decimal("3.500")


def _rated_shop(name: str, overalls: list[int]):
    shop = ShopFactory(name=name, payment_methods=["bank_transfer"])
    listing = ListingFactory(shop=shop, quantity=len(overalls))
    for number, overall in enumerate(overalls):
        buyer = UserFactory()
        order = shipped_order(buyer, listing, key=f"{name}-{number}")
        _rate(buyer, order, overall=overall)
        services.buyer_feedback_create(order=order, actor=shop.owner, value="positive")
    return shop


def test_shops_are_ranked_by_the_damped_score(db, settings):
    settings.REVIEWS_BURST_AUTHORS = 100  # six new buyers in a day would be held as a burst
    lucky = _rated_shop("One Perfect", [5])
    steady = _rated_shop("Steady", [5, 5, 5, 5, 4, 5])

    assert [shop.name for shop in selectors.shops_by_score()] == ["Steady", "One Perfect"]
    scores = selectors.shop_rating_scores(shop_ids=[lucky.pk, steady.pk, 999])
    # (10 * 3.5 + 5) / 11 and (10 * 3.5 + 29) / 16
    assert scores == {lucky.pk: Decimal("3.636"), steady.pk: Decimal("4.000"), 999: Decimal("3.5")}
    from catalog.models import Listing

    ranked = Listing.objects.annotate(shop_score=selectors.shop_score_expression()).order_by("-shop_score")
    assert [listing.shop.name for listing in ranked] == ["Steady", "One Perfect"]


def test_the_last_12_months_apart_from_all_time(buyer, atlas, shop, shop_owner):
    now = timezone.now()
    with time_machine.travel(now - datetime.timedelta(days=400), tick=False):
        old = shipped_order(buyer, atlas, key="old")
        _rate(buyer, old, overall=1)
        services.buyer_feedback_create(order=old, actor=shop_owner, value="positive")
    recent = shipped_order(buyer, atlas, key="recent")
    _rate(buyer, recent, overall=5, item_as_described=4)
    services.buyer_feedback_create(order=recent, actor=shop_owner, value="positive")

    rating = selectors.shop_rating(shop=shop)

    assert (rating.all_time.count, rating.all_time.average) == (2, Decimal("3.0"))
    assert (rating.recent.count, rating.recent.average) == (1, Decimal("5.0"))
    assert [(row.stars, row.count, row.percent) for row in rating.all_time.distribution] == [
        (5, 1, 50),
        (4, 0, 0),
        (3, 0, 0),
        (2, 0, 0),
        (1, 1, 50),
    ]
    assert rating.recent.dimensions == [
        ("item_as_described", "Item as described", Decimal("4.0")),
        ("communication", "Communication", Decimal("4.0")),
        ("shipping_speed", "Shipping speed", Decimal("3.0")),
    ]


def test_the_summary_is_read_in_two_queries_however_many_ratings(
    buyer, atlas, shop, shop_owner, django_assert_num_queries
):
    for number in range(3):
        order = shipped_order(buyer, atlas, key=f"n{number}")
        _rate(buyer, order)
        services.buyer_feedback_create(order=order, actor=shop_owner, value="positive")

    with django_assert_num_queries(2):
        rating = selectors.shop_rating(shop=shop)

    assert rating.all_time.count == 1  # the same buyer within a week counts once
    assert SellerRating.objects.count() == 3


def test_a_listing_in_two_orders_of_the_same_checkout_is_one_order_per_shop(buyer, atlas, other_shop):
    copy = ListingFactory(shop=other_shop, currency="EUR")
    orders = place(buyer, atlas, copy, key="two-shops")
    for order in orders:
        ship(order, deliver=True)

    ratings = [_rate(buyer, order) for order in orders]

    assert sorted(rating.shop.slug for rating in ratings) == ["olives-books", "oscars-records"]
