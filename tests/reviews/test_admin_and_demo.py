"""The moderation queue in the admin (through the same services as the staff page), and the demo data."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command

from reviews import services
from reviews.models import Appeal, BuyerFeedback, ModerationDecision, Review, SellerRating
from tests.reviews.conftest import REVIEW

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(buyer, item):
    return services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)


@pytest.fixture
def admin_client_of(client):
    def make(person):
        client.force_login(person)
        return client

    return make


def test_the_admin_lists_what_waits_for_a_moderator(admin_client_of, moderator, review, other_buyer, buyer, atlas):
    services.flag_create(subject=review, reporter=other_buyer, reason="spam")

    page = admin_client_of(moderator).get("/admin/reviews/review/?queue=waiting")

    assert page.status_code == 200
    assert "A fine atlas" in page.content.decode()


def test_hiding_from_the_admin_asks_for_the_reason_and_goes_through_the_rules(admin_client_of, moderator, review):
    client = admin_client_of(moderator)
    chosen = {"action": "hide", ACTION_CHECKBOX_NAME: [review.pk]}

    asked = client.post("/admin/reviews/review/", chosen)
    done = client.post("/admin/reviews/review/", {**chosen, "apply": "1", "reason": "Names a courier."})

    assert asked.status_code == 200 and "Hide them" in asked.content.decode()
    assert done.status_code == 302
    decision = ModerationDecision.objects.get()
    assert (decision.outcome, decision.reason, decision.moderator) == ("hide", "Names a courier.", moderator)
    review.refresh_from_db()
    assert review.status == "hidden"


def test_an_appeal_decided_in_the_admin_by_the_same_moderator_is_refused(admin_client_of, moderator, review, buyer):
    decision = services.decision_make(subject=review, moderator=moderator, outcome="hide", reason="Rude.")
    appeal = services.appeal_file(decision=decision, appellant=buyer, statement="It is not.")

    response = admin_client_of(moderator).post(
        "/admin/reviews/appeal/",
        {"action": "decide", ACTION_CHECKBOX_NAME: [appeal.pk], "apply": "1", "outcome": "keep", "reason": "Fine."},
        follow=True,
    )

    assert "a different moderator has to decide" in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.is_open and Appeal.objects.count() == 1


def test_seed_demo_writes_reviews_ratings_and_feedback_on_the_shipped_demo_orders_once():
    call_command("seed_demo", seed=7)
    first = (
        list(Review.objects.order_by("pk").values_list("order__state", "stars", "title", "status")),
        list(SellerRating.objects.order_by("pk").values_list("overall", "revealed_at", "replied_at")),
        BuyerFeedback.objects.count(),
    )
    call_command("seed_demo", seed=7)
    again = (
        list(Review.objects.order_by("pk").values_list("order__state", "stars", "title", "status")),
        list(SellerRating.objects.order_by("pk").values_list("overall", "revealed_at", "replied_at")),
        BuyerFeedback.objects.count(),
    )

    assert again == first
    assert [state for state, *_ in first[0]] == ["shipped", "delivered", "completed", "return_requested"]
    assert {status for *_, status in first[0]} == {"published"}
    revealed = [revealed_at is not None for _, revealed_at, _ in first[1]]
    replied = [replied_at is not None for *_, replied_at in first[1]]
    assert revealed == replied == [True, False, True, False]
    assert first[2] == 2
