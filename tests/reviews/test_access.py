"""Who may see and change what, for every role, on the pages and the API: writing is the buyer's,
replying and buyer feedback the shop's people's, deciding the moderators'; held reviews are the
author's and the moderators' alone; everyone else gets a 404, for real and guessed ids."""

import pytest

from reviews import services
from reviews.models import Appeal, HelpfulVote, ModerationDecision, Review
from tests.reviews.conftest import RATING, REVIEW

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "buyer",
    "other_buyer",
    "shop_owner",
    "shop_staff",
    "other_shop_owner",
    "moderator",
    "second_moderator",
]
AUTHOR = {"buyer"}
SHOP = {"shop_owner", "shop_staff"}
MODERATORS = {"moderator", "second_moderator"}
MISSING = 999_999


def _page_status(response, role):
    if role == "anonymous" and response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")
        return "login"
    return response.status_code


def _expected(role, allowed, *, login_first: bool = True):
    if role in allowed:
        return 200
    return "login" if role == "anonymous" and login_first else 404


@pytest.fixture
def review(buyer, item):
    return services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)


@pytest.fixture
def held_review(buyer, item, settings):
    settings.REVIEWS_BURST_AUTHORS = 1
    return services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)


@pytest.fixture
def hidden_review(review, moderator):
    services.decision_make(subject=review, moderator=moderator, outcome="hide", reason="Names a courier.")
    review.refresh_from_db()
    return review


@pytest.fixture
def rating(buyer, order):
    return services.rating_create(author=buyer, order_id=order.pk, **RATING)


# --- Pages ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_writing_pages_are_the_buyers(as_user, order, item, role):
    client = as_user(role)

    for url in (f"/orders/{order.pk}/items/{item.pk}/review/", f"/orders/{order.pk}/rating/"):
        assert _page_status(client.get(url), role) == _expected(role, AUTHOR), url


@pytest.mark.parametrize("role", ROLES)
def test_the_dashboard_and_buyer_feedback_pages_are_the_shops(as_user, order, role, other_shop):
    client = as_user(role)

    for url in ("/shops/olives-books/dashboard/reviews/", f"/shops/olives-books/dashboard/orders/{order.pk}/feedback/"):
        assert _page_status(client.get(url), role) == _expected(role, SHOP), url


@pytest.mark.parametrize("role", ROLES)
def test_the_moderation_queue_is_the_moderators(as_user, role):
    expected = 200 if role in MODERATORS else 404
    assert as_user(role).get("/moderation/reviews/").status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_who_sees_a_review_in_each_state(as_user, api, review, moderator, role, settings):
    assert as_user(role).get(f"/reviews/{review.pk}/").status_code == 200
    assert api(role).get(f"/api/reviews/{review.pk}/").status_code == 200
    services.decision_make(subject=review, moderator=moderator, outcome="hide", reason="Names a courier.")

    sees_hidden = AUTHOR | SHOP | MODERATORS
    assert as_user(role).get(f"/reviews/{review.pk}/").status_code == (200 if role in sees_hidden else 404)
    assert api(role).get(f"/api/reviews/{review.pk}/").status_code == (200 if role in sees_hidden else 404)


@pytest.mark.parametrize("role", ROLES)
def test_held_reviews_are_the_authors_and_the_moderators(as_user, api, held_review, role):
    expected = 200 if role in AUTHOR | MODERATORS else 404

    assert as_user(role).get(f"/reviews/{held_review.pk}/").status_code == expected
    assert api(role).get(f"/api/reviews/{held_review.pk}/").status_code == expected
    assert api(role).get(f"/api/reviews/{held_review.pk}/moderation/").status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_an_unrevealed_rating_is_the_authors_and_the_moderators(as_user, api, rating, role):
    expected = 200 if role in AUTHOR | MODERATORS else 404

    assert as_user(role).get(f"/ratings/{rating.pk}/").status_code == expected
    assert api(role).get(f"/api/ratings/{rating.pk}/").status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_the_moderation_history_is_for_both_sides_and_moderators(api, hidden_review, role):
    expected = 200 if role in AUTHOR | SHOP | MODERATORS else 404

    response = api(role).get(f"/api/reviews/{hidden_review.pk}/moderation/")

    assert response.status_code == expected
    if expected == 200:
        decision = response.json()["decisions"][0]
        assert (decision["outcome"], decision["reason"]) == ("hide", "Names a courier.")
        assert decision["moderator"] == ("stella" if role in MODERATORS else None)
        assert response.json()["you_may_appeal"] == ("author" if role in AUTHOR else None)


# --- Changes, each role on its own ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_the_shops_people_reply(as_user, api, review, role):
    page = as_user(role).post(f"/reviews/{review.pk}/reply/", {"text": "Thanks"})
    review.refresh_from_db()
    replied_by_page = review.has_reply
    response = api(role).post(f"/api/reviews/{review.pk}/reply/", {"text": "Thanks"}, format="json")

    if role in SHOP:
        assert (page.status_code, replied_by_page) == (302, True)
        assert response.status_code == 400  # once
    else:
        assert _page_status(page, role) == ("login" if role == "anonymous" else 404)
        assert response.status_code == (403 if role == "anonymous" else 404)
        review.refresh_from_db()
        assert not review.has_reply


@pytest.mark.parametrize("role", ROLES)
def test_votes_by_role(api, review, role):
    response = api(role).post(f"/api/reviews/{review.pk}/vote/")

    expected = {"anonymous": 403, "buyer": 400, "shop_owner": 400, "shop_staff": 400}.get(role, 201)
    assert response.status_code == expected
    assert HelpfulVote.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize("role", ROLES)
def test_only_moderators_decide(as_user, api, review, role):
    key = f"review-{review.pk}"
    page = as_user(role).post(
        f"/moderation/reviews/review/{review.pk}/decide/", {f"{key}-outcome": "hide", f"{key}-reason": "Rude."}
    )
    if role in MODERATORS:
        assert page.status_code == 302
        assert ModerationDecision.objects.count() == 1
        return
    response = api(role).post(
        f"/api/moderation/reviews/{review.pk}/decisions/", {"outcome": "hide", "reason": "Rude."}, format="json"
    )
    assert (page.status_code, response.status_code) == (404, 404)
    assert ModerationDecision.objects.count() == 0
    review.refresh_from_db()
    assert review.status == "published"


@pytest.mark.parametrize("role", ROLES)
def test_who_may_appeal_a_hidden_review(api, hidden_review, role):
    decision = ModerationDecision.objects.get()

    response = api(role).post(f"/api/review-decisions/{decision.pk}/appeal/", {"statement": "Please"}, format="json")

    expected = {"anonymous": 403, "buyer": 201}.get(role, 400 if role in SHOP | MODERATORS else 404)
    assert response.status_code == expected
    assert Appeal.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_author_edits(api, review, role):
    response = api(role).patch(f"/api/reviews/{review.pk}/", {"title": "Changed"}, format="json")

    expected = {"anonymous": 403, "buyer": 200}.get(role, 403)
    assert response.status_code == expected
    assert Review.objects.get().title == ("Changed" if expected == 200 else "A fine atlas")


@pytest.mark.parametrize("role", ROLES)
def test_the_feedback_endpoints_by_role(api, order, role):
    buyer_side = api(role).get(f"/api/orders/{order.pk}/feedback/")
    shop_side = api(role).get(f"/api/shops/olives-books/orders/{order.pk}/buyer-feedback/")

    assert buyer_side.status_code == (200 if role in AUTHOR else 404)
    assert shop_side.status_code == (200 if role in SHOP else 404)


@pytest.mark.parametrize("role", ["buyer", "other_buyer", "shop_owner", "moderator"])
def test_guessed_ids_look_exactly_like_missing_ones(as_user, api, held_review, role):
    client, api_client = as_user(role), api(role)
    ids = [MISSING] if role in AUTHOR | MODERATORS else [held_review.pk, MISSING]

    for review_id in ids:
        assert client.get(f"/reviews/{review_id}/").status_code == 404
        assert api_client.get(f"/api/reviews/{review_id}/").status_code == 404
        assert api_client.get(f"/api/reviews/{review_id}/moderation/").status_code == 404
    assert api_client.post(f"/api/review-decisions/{MISSING}/appeal/", {"statement": "x"}).status_code == 404


def test_anonymous_gets_the_same_answer_for_real_and_missing_ids(api, review):
    client = api("anonymous")

    for review_id in (review.pk, MISSING):
        assert client.post(f"/api/reviews/{review_id}/vote/").status_code == 403
        assert client.post(f"/api/reviews/{review_id}/flags/", {"reason": "spam"}).status_code == 403
