"""Reports, moderators' decisions and appeals: who may decide, what each decision does to what is
shown and counted, who is told, and the rules of appeals (once, by the right side, decided by
another moderator, final)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from notifications.models import Notification
from reviews import selectors, services
from reviews.models import Appeal, Flag, ModerationDecision, ReviewTally, ShopRatingSummary
from sellers.models import ShopMember
from tests.factories import ListingFactory, UserFactory
from tests.reviews.conftest import RATING, REVIEW, shipped_order, snapshot

pytestmark = pytest.mark.django_db


def _refused(call, field: str) -> list[str]:
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        call()
    assert snapshot() == before
    return refused.value.message_dict[field]


@pytest.fixture
def review(buyer, item):
    return services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)


@pytest.fixture
def revealed_rating(buyer, order, shop_owner):
    rating = services.rating_create(author=buyer, order_id=order.pk, **RATING)
    services.buyer_feedback_create(order=order, actor=shop_owner, value="positive")
    rating.refresh_from_db()
    return rating


def _decide(review, moderator, outcome, reason="Breaks the rules on personal details."):
    review.refresh_from_db()
    return services.decision_make(subject=review, moderator=moderator, outcome=outcome, reason=reason)


# --- Reports ---------------------------------------------------------------------------------------


def test_anyone_signed_in_reports_a_review_once_with_a_reason(review, other_buyer):
    flag = services.flag_create(subject=review, reporter=other_buyer, reason="abusive", note="Rude about the postman.")

    assert (flag.review, flag.reason, flag.reporter_is_shop, flag.decision) == (review, "abusive", False, None)
    assert _refused(lambda: services.flag_create(subject=review, reporter=other_buyer, reason="spam"), "reason") == [
        "You have already reported this review: a moderator will look at it."
    ]


def test_a_report_needs_a_known_reason_and_a_note_for_something_else(review, other_buyer):
    assert _refused(lambda: services.flag_create(subject=review, reporter=other_buyer, reason="boring"), "reason") == [
        "Choose why you are reporting it."
    ]
    assert _refused(lambda: services.flag_create(subject=review, reporter=other_buyer, reason="other"), "note") == [
        "Tell the moderators what is wrong."
    ]


def test_the_author_cannot_report_their_own_review(review, buyer):
    assert _refused(lambda: services.flag_create(subject=review, reporter=buyer, reason="spam"), "reason") == [
        "You wrote this review: edit it instead of reporting it."
    ]


def test_a_report_by_the_shop_is_marked_as_the_shops(review, shop_staff):
    assert services.flag_create(subject=review, reporter=shop_staff, reason="fake").reporter_is_shop


def test_a_rating_not_yet_shown_cannot_be_reported(buyer, item, other_buyer):
    rating = services.rating_create(author=buyer, order_id=item.order_id, **RATING)

    assert _refused(lambda: services.flag_create(subject=rating, reporter=other_buyer, reason="spam"), "reason") == [
        "Only published ratings can be reported."
    ]


def test_reports_are_rate_limited(review, other_buyer, settings, shop):
    settings.REVIEWS_FLAGS_PER_HOUR = 1
    services.flag_create(subject=review, reporter=other_buyer, reason="spam")
    author = UserFactory(username="writer")
    second_item = shipped_order(author, ListingFactory(shop=shop), key="w").items.get()
    second = services.review_create(author=author, order_item_id=second_item.pk, **REVIEW)

    assert _refused(lambda: services.flag_create(subject=second, reporter=other_buyer, reason="spam"), "reason") == [
        "You have made 1 reports in the last hour: please wait a while before reporting more."
    ]


# --- Decisions ----------------------------------------------------------------------------------------


def test_hiding_takes_a_review_off_public_pages_and_out_of_the_figures(
    review, other_buyer, moderator, buyer, shop, atlas, shop_owner, shop_staff
):
    flag = services.flag_create(subject=review, reporter=other_buyer, reason="personal")

    decision = _decide(review, moderator, "hide")

    review.refresh_from_db()
    flag.refresh_from_db()
    assert (review.status, review.is_counted, flag.decision) == ("hidden", False, decision)
    assert (decision.moderator, decision.previous_status, decision.reason) == (
        moderator,
        "published",
        "Breaks the rules on personal details.",
    )
    summary = ShopRatingSummary.objects.get(shop=shop)
    assert (summary.review_count, summary.taken_down_count, summary.held_count) == (0, 1, 0)
    assert ReviewTally.objects.get(listing=atlas).review_count == 0
    assert list(selectors.shop_reviews(shop=shop)) == []
    told = Notification.objects.filter(kind="moderation.decided").order_by("recipient__username")
    assert [(n.recipient.username, n.title, n.body) for n in told] == [
        (
            "bea",
            "Your review of An Atlas of Rivers: hidden by a moderator",
            "The moderator's reason: Breaks the rules on personal details.",
        ),
        (
            "olive",
            "A review of An Atlas of Rivers: hidden by a moderator",
            "The moderator's reason: Breaks the rules on personal details.",
        ),
        (
            "sam",
            "A review of An Atlas of Rivers: hidden by a moderator",
            "The moderator's reason: Breaks the rules on personal details.",
        ),
    ]
    assert selectors.moderation_queue().reviews == []


def test_keeping_settles_the_reports_and_keeps_it_counted(review, other_buyer, moderator, shop):
    services.flag_create(subject=review, reporter=other_buyer, reason="spam")
    assert selectors.moderation_queue().reviews == [review]

    _decide(review, moderator, "keep", reason="An honest opinion.")

    review.refresh_from_db()
    assert (review.status, review.is_counted) == ("published", True)
    assert ShopRatingSummary.objects.get(shop=shop).review_count == 1
    assert selectors.moderation_queue().is_empty


def test_removing_a_rating_takes_it_out_of_the_score(revealed_rating, moderator, shop):
    assert ShopRatingSummary.objects.get(shop=shop).rating_count == 1

    _decide(revealed_rating, moderator, "remove")

    summary = ShopRatingSummary.objects.get(shop=shop)
    assert (summary.rating_count, summary.rating_sum, summary.score, summary.taken_down_count) == (
        0,
        0,
        Decimal("3.500"),
        1,
    )


def test_a_decision_needs_an_outcome_and_a_reason(review, moderator):
    assert _refused(lambda: _decide(review, moderator, "hide", reason=""), "reason") == [
        "Say why: both sides are told."
    ]
    assert _refused(lambda: _decide(review, moderator, "delete"), "outcome") == [
        "Choose whether to keep, hide or remove it."
    ]


def test_only_moderators_decide(review, buyer, other_buyer, shop_owner):
    for person in (buyer, other_buyer, shop_owner):
        with pytest.raises(PermissionDenied):
            _decide(review, person, "hide")
    assert ModerationDecision.objects.count() == 0


def test_a_moderator_does_not_decide_on_a_shop_they_belong_to(review, moderator, shop):
    ShopMember.objects.create(shop=shop, user=moderator)

    assert _refused(lambda: _decide(review, moderator, "hide"), "non_field_errors") == [
        "You are one of the people of Olive's Books: another moderator has to decide on it."
    ]


def test_a_moderator_does_not_decide_on_what_they_wrote(moderator, atlas):
    item = shipped_order(moderator, atlas, key="mod").items.get()
    own = services.review_create(author=moderator, order_item_id=item.pk, **REVIEW)

    assert _refused(lambda: _decide(own, moderator, "keep"), "non_field_errors") == [
        "You wrote this review: another moderator has to decide on it."
    ]


# --- Appeals ----------------------------------------------------------------------------------------------


def test_the_author_appeals_once_and_another_moderator_restores_it(review, buyer, moderator, second_moderator, shop):
    decision = _decide(review, moderator, "hide")

    appeal = services.appeal_file(decision=decision, appellant=buyer, statement="It names no one.")

    assert (appeal.side, appeal.statement, appeal.is_open) == ("author", "It names no one.", True)
    assert [a.pk for a in selectors.open_appeals()] == [appeal.pk]
    assert _refused(
        lambda: services.appeal_file(decision=decision, appellant=buyer, statement="Again"), "statement"
    ) == ["This decision has already been appealed: each decision can be appealed once."]
    assert _refused(
        lambda: services.appeal_decide(appeal=appeal, moderator=moderator, outcome="keep", reason="Fine."),
        "non_field_errors",
    ) == ["You made the decision appealed against: a different moderator has to decide."]
    assert _refused(lambda: _decide(review, second_moderator, "keep"), "non_field_errors") == [
        "An appeal of the last decision is open: decide the appeal instead."
    ]

    final = services.appeal_decide(
        appeal=appeal, moderator=second_moderator, outcome="keep", reason="No personal details in it."
    )

    review.refresh_from_db()
    appeal.refresh_from_db()
    assert (review.status, review.is_counted, appeal.is_open, final.appeal, final.is_final) == (
        "published",
        True,
        False,
        appeal,
        True,
    )
    summary = ShopRatingSummary.objects.get(shop=shop)
    assert (summary.review_count, summary.taken_down_count) == (1, 0)
    assert Notification.objects.filter(kind="moderation.decided", recipient=buyer).latest("pk").title == (
        "Your review of An Atlas of Rivers: appeal granted: now published again"
    )
    assert selectors.open_appeals() == []


def test_an_appeal_of_an_appeal_is_refused(review, buyer, moderator, second_moderator):
    appeal = services.appeal_file(decision=_decide(review, moderator, "remove"), appellant=buyer, statement="Unfair.")
    final = services.appeal_decide(appeal=appeal, moderator=second_moderator, outcome="remove", reason="It stays.")

    assert _refused(lambda: services.appeal_file(decision=final, appellant=buyer, statement="Again!"), "statement") == [
        "This decision was made on an appeal and is final: it cannot be appealed again."
    ]
    assert Notification.objects.filter(recipient=buyer, kind="moderation.decided").latest("pk").title == (
        "Your review of An Atlas of Rivers: appeal refused: stays removed"
    )


def test_only_the_right_side_may_appeal(review, buyer, other_buyer, shop_owner, moderator):
    hidden = _decide(review, moderator, "hide")

    for person in (other_buyer, shop_owner):
        assert _refused(
            lambda person=person: services.appeal_file(decision=hidden, appellant=person, statement="Please"),
            "statement",
        ) == [
            "Only the author of what a moderator took down, or the shop whose report was refused, can appeal this "
            "decision."
        ]


def test_the_shop_appeals_when_its_report_was_refused(
    review, buyer, shop_staff, shop_owner, moderator, second_moderator
):
    services.flag_create(subject=review, reporter=shop_staff, reason="fake", note="Never bought from us like this.")
    kept = _decide(review, moderator, "keep", reason="A real purchase.")

    assert selectors.appeal_side(decision=kept, user=shop_owner) == "shop"
    assert selectors.appeal_side(decision=kept, user=buyer) is None
    appeal = services.appeal_file(decision=kept, appellant=shop_owner, statement="See our order notes.")
    services.appeal_decide(appeal=appeal, moderator=second_moderator, outcome="hide", reason="Personal details.")

    review.refresh_from_db()
    assert (appeal.side, review.status) == ("shop", "hidden")


def test_a_shop_whose_report_was_not_there_cannot_appeal_a_keep(review, other_buyer, shop_owner, moderator):
    services.flag_create(subject=review, reporter=other_buyer, reason="spam")
    kept = _decide(review, moderator, "keep", reason="Fine.")

    assert selectors.appeal_side(decision=kept, user=shop_owner) is None


def test_an_earlier_decision_cannot_be_appealed_once_a_later_one_replaced_it(
    review, buyer, moderator, second_moderator
):
    first = _decide(review, moderator, "hide")
    _decide(review, second_moderator, "remove")

    assert _refused(lambda: services.appeal_file(decision=first, appellant=buyer, statement="Hm"), "statement") == [
        "A later decision replaced this one: appeal that one instead."
    ]


def test_an_appeal_needs_a_statement(review, buyer, moderator):
    decision = _decide(review, moderator, "hide")

    assert _refused(lambda: services.appeal_file(decision=decision, appellant=buyer, statement=" "), "statement") == [
        "Tell the moderators why they should decide otherwise."
    ]
    assert Appeal.objects.count() == 0


def test_the_history_shows_reports_without_who_and_decisions(review, other_buyer, moderator):
    services.flag_create(subject=review, reporter=other_buyer, reason="spam")
    decision = _decide(review, moderator, "hide")

    history = selectors.history_of(review)

    assert [(flag.reason, flag.decision_id) for flag in history.flags] == [("spam", decision.pk)]
    assert history.latest == decision
    assert Flag.objects.count() == 1


def test_a_published_review_is_shared_as_activity_until_a_moderator_hides_it(
    review, other_buyer, moderator, buyer, second_moderator
):
    from social.models import Activity

    # the review (published when written) is something its author did
    assert list(Activity.objects.filter(actor=buyer, kind="reviewed").values_list("kind", "listing_id")) == [
        ("reviewed", review.listing_id)
    ]

    decision = _decide(review, moderator, "hide")
    assert not Activity.objects.filter(actor=buyer, kind="reviewed").exists()

    # restored on appeal, it is shared again
    appeal = services.appeal_file(decision=decision, appellant=buyer, statement="It names nobody.")
    services.appeal_decide(appeal=appeal, moderator=second_moderator, outcome="keep", reason="It names nobody.")
    assert Activity.objects.filter(actor=buyer, kind="reviewed").count() == 1
