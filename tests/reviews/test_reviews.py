"""Listing reviews: only verified buyers, one per item once it shipped, sanitised, editable for a
while with the history kept, frozen by the shop's reply; the figures kept with every change."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from notifications.models import Notification
from reviews import services
from reviews.models import Review, ReviewTally, Revision, ShopRatingSummary, Status
from sellers.models import ShopMember
from tests.factories import ListingFactory
from tests.reviews.conftest import REVIEW, place, ship, shipped_order, snapshot

pytestmark = pytest.mark.django_db


def _refused(call, field: str) -> list[str]:
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        call()
    assert snapshot() == before
    return refused.value.message_dict[field]


def test_a_buyer_reviews_an_item_they_bought_once_it_shipped(buyer, item, shop, shop_owner, shop_staff, atlas, work):
    review = services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)

    assert (review.status, review.stars, review.title, review.item_title) == (
        "published",
        4,
        "A fine atlas",
        "An Atlas of Rivers",
    )
    assert (review.listing_id, review.work_id, review.shop_id, review.order_id) == (
        atlas.pk,
        work.pk,
        shop.pk,
        item.order_id,
    )
    assert review.text_html == "<p>Clear maps, <em>well</em> bound.</p>"
    assert review.editable_until == review.created_at + datetime.timedelta(days=30)
    summary = ShopRatingSummary.objects.get(shop=shop)
    assert (summary.review_count, summary.review_sum, summary.rating_count) == (1, 4, 0)
    assert list(ReviewTally.objects.order_by("pk").values_list("listing_id", "work_id", "review_count", "star_4")) == [
        (atlas.pk, None, 1, 1),
        (None, work.pk, 1, 1),
    ]
    told = Notification.objects.filter(kind="review.received").order_by("recipient__username")
    assert [(n.recipient.username, n.title) for n in told] == [
        ("olive", "Bea Buyer reviewed An Atlas of Rivers"),
        ("sam", "Bea Buyer reviewed An Atlas of Rivers"),
    ]


def test_nobody_reviews_what_they_did_not_buy(other_buyer, item):
    messages = _refused(
        lambda: services.review_create(author=other_buyer, order_item_id=item.pk, **REVIEW), "order_item"
    )

    assert messages == ["You can review only what you have bought: this is not an item of your orders."]


def test_an_item_not_yet_shipped_cannot_be_reviewed(buyer, atlas):
    [order] = place(buyer, atlas, key="new-1")

    messages = _refused(
        lambda: services.review_create(author=buyer, order_item_id=order.items.get().pk, **REVIEW), "order_item"
    )

    assert messages == ["You can review it once Olive's Books has shipped it."]


def test_a_second_review_of_the_same_item_is_refused(buyer, item):
    services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)

    messages = _refused(lambda: services.review_create(author=buyer, order_item_id=item.pk, **REVIEW), "order_item")

    assert messages == ["You have already reviewed this item: edit your review instead."]
    assert Review.objects.count() == 1


def test_a_buyer_who_became_one_of_the_shops_people_cannot_review_it(buyer, item, shop):
    ShopMember.objects.create(shop=shop, user=buyer, role=ShopMember.Role.STAFF)

    messages = _refused(lambda: services.review_create(author=buyer, order_item_id=item.pk, **REVIEW), "order_item")

    assert messages == ["You are one of the people of Olive's Books: you cannot review your own shop."]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"stars": 0}, "stars", "Choose from 1 to 5 stars."),
        ({"stars": 6}, "stars", "Choose from 1 to 5 stars."),
        ({"stars": "five"}, "stars", "Choose from 1 to 5 stars."),
        ({"stars": True}, "stars", "Choose from 1 to 5 stars."),
        ({"title": "  "}, "title", "Give your review a title."),
        ({"text": ""}, "text", "Write what you thought of it."),
        ({"title": "x" * 121}, "title", "This can be at most 120 characters (it has 121)."),
        ({"text": "x" * 5001}, "text", "This can be at most 5,000 characters (it has 5,001)."),
        ({"text": "Nice <script>alert(1)</script>"}, "text", services.MARKUP_MESSAGE),
        ({"text": "<img src=x onerror=alert(1)>"}, "text", services.MARKUP_MESSAGE),
        ({"text": "[click](javascript:alert(1))"}, "text", services.MARKUP_MESSAGE),
        ({"title": "<b>Great</b>"}, "title", services.MARKUP_MESSAGE),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(buyer, item, fields, field, message):
    messages = _refused(lambda: services.review_create(author=buyer, order_item_id=item.pk, **(REVIEW | fields)), field)

    assert messages == [message]


def test_markdown_autolinks_and_plain_angle_brackets_are_fine(buyer, item):
    review = services.review_create(
        author=buyer,
        order_item_id=item.pk,
        stars=5,
        title="5 > 4",
        text="Better than <https://example.org/atlas> says, and 3 < 4.",
    )

    assert review.text_html == (
        '<p>Better than <a href="https://example.org/atlas" rel="nofollow noopener noreferrer ugc">'
        "https://example.org/atlas</a> says, and 3 &lt; 4.</p>"
    )


def test_the_author_edits_within_the_window_and_the_history_is_kept(buyer, item, shop, atlas):
    review = services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)
    written = review.created_at

    edited = services.review_update(
        review=review, author=buyer, stars=2, title="Spine cracked", text="It *fell* apart."
    )

    assert (edited.stars, edited.title, edited.text_html) == (2, "Spine cracked", "<p>It <em>fell</em> apart.</p>")
    assert edited.edited_at is not None
    [revision] = Revision.objects.filter(review=review)
    assert revision.content == {"stars": 4, "title": "A fine atlas", "text": "Clear maps, *well* bound."}
    assert revision.written_at == written
    summary = ShopRatingSummary.objects.get(shop=shop)
    assert (summary.review_count, summary.review_sum) == (1, 2)
    tally = ReviewTally.objects.get(listing=atlas)
    assert (tally.review_count, tally.star_sum, tally.star_4, tally.star_2) == (1, 2, 0, 1)


def test_an_unchanged_edit_keeps_no_revision(buyer, item):
    review = services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)

    services.review_update(review=review, author=buyer, **REVIEW)

    assert Revision.objects.count() == 0


def test_a_review_can_no_longer_be_edited_after_the_window(buyer, item):
    review = services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)

    with time_machine.travel(review.created_at + datetime.timedelta(days=31), tick=False):
        messages = _refused(
            lambda: services.review_update(review=review, author=buyer, **(REVIEW | {"stars": 1})), "non_field_errors"
        )

    expected = f"A review can be edited for 30 days: this one could be edited until {review.editable_until:%-d %B %Y}."
    assert messages == [expected]


def test_the_shops_reply_freezes_the_review(buyer, item, shop_staff):
    review = services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)
    services.reply_create(subject=review, actor=shop_staff, text="Thank you, Bea!")
    review.refresh_from_db()

    messages = _refused(
        lambda: services.review_update(review=review, author=buyer, **(REVIEW | {"stars": 1})), "non_field_errors"
    )

    assert messages == ["Olive's Books has replied: the review can no longer be edited."]


def test_only_the_author_edits(buyer, other_buyer, item):
    review = services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)

    with pytest.raises(PermissionDenied):
        services.review_update(review=review, author=other_buyer, **REVIEW)


def test_the_shop_replies_once_signed_by_a_person_and_the_author_is_told(buyer, item, shop_staff, shop_owner):
    review = services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)

    replied = services.reply_create(subject=review, actor=shop_staff, text="Thank you, *Bea*!")

    assert (replied.reply_html, replied.replied_by, replied.replied_at is not None) == (
        "<p>Thank you, <em>Bea</em>!</p>",
        shop_staff,
        True,
    )
    assert Notification.objects.get(kind="review.replied", recipient=buyer).title == (
        "Sam Staff replied to your review of An Atlas of Rivers"
    )
    messages = _refused(lambda: services.reply_create(subject=replied, actor=shop_owner, text="Again"), "text")
    assert messages == ["Olive's Books has already replied to this review: a shop replies once."]


def test_only_the_shops_people_reply(buyer, item, other_shop_owner, other_buyer):
    review = services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)

    for outsider in (other_shop_owner, other_buyer, buyer):
        with pytest.raises(PermissionDenied):
            services.reply_create(subject=review, actor=outsider, text="Hijacked")

    review.refresh_from_db()
    assert review.replied_at is None


def test_a_reply_is_checked_like_a_review(buyer, item, shop_owner):
    review = services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)

    assert _refused(lambda: services.reply_create(subject=review, actor=shop_owner, text=""), "text") == [
        "Write your reply."
    ]
    assert _refused(
        lambda: services.reply_create(subject=review, actor=shop_owner, text="<script>x</script>"), "text"
    ) == [services.MARKUP_MESSAGE]


def test_every_item_of_an_order_is_reviewed_on_its_own(buyer, atlas, shop):
    second = ListingFactory(shop=shop, title="Tides of the Severn", quantity=3)
    [order] = place(buyer, atlas, second, key="two")
    ship(order)
    first_item, second_item = order.items.order_by("pk")

    services.review_create(author=buyer, order_item_id=first_item.pk, **REVIEW)
    services.review_create(author=buyer, order_item_id=second_item.pk, **(REVIEW | {"stars": 2}))

    summary = ShopRatingSummary.objects.get(shop=shop)
    assert (summary.review_count, summary.review_sum) == (2, 6)


def test_reviews_of_copies_of_one_work_from_other_shops_add_up_for_the_work(
    buyer, other_buyer, atlas, other_shop, work
):
    copy = ListingFactory(shop=other_shop, title="Atlas of Rivers", currency="EUR", work=work)
    mine = shipped_order(buyer, atlas, key="a").items.get()
    theirs = shipped_order(other_buyer, copy, key="b").items.get()

    services.review_create(author=buyer, order_item_id=mine.pk, **REVIEW)
    services.review_create(author=other_buyer, order_item_id=theirs.pk, **(REVIEW | {"stars": 2}))

    assert ReviewTally.objects.get(work=work).review_count == 2
    assert ReviewTally.objects.get(listing=atlas).review_count == 1
    assert Review.objects.filter(status=Status.PUBLISHED).count() == 2


def test_a_review_stays_when_the_listing_is_deleted(buyer, item, atlas):
    review = services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)

    atlas.delete()

    review.refresh_from_db()
    assert (review.listing_id, review.item_title, review.status) == (None, "An Atlas of Rivers", "published")


def test_the_database_refuses_stars_outside_one_to_five(buyer, item):
    from django.db import IntegrityError, transaction

    review = services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.filter(pk=review.pk).update(stars=9)


def test_a_new_account_alone_is_published(item, buyer):
    # One new account reviewing is no burst.
    assert buyer.date_joined > timezone.now() - datetime.timedelta(days=1)

    review = services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)

    assert review.status == "published"


def test_anonymous_cannot_review(item):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        services.review_create(author=AnonymousUser(), order_item_id=item.pk, **REVIEW)
    assert Review.objects.count() == 0
