"""The whole story through the API: a buyer reviews what they bought and rates the shop, the shop
replies and leaves its feedback, another person reports the review, a moderator hides it, the
author appeals and another moderator restores it; a burst of ratings from fresh accounts is
held. And the list endpoints' query counts."""

import pytest

from reviews.models import Review, SellerRating
from tests.factories import UserFactory
from tests.reviews.conftest import RATING, REVIEW, shipped_order

pytestmark = pytest.mark.django_db


def _ok(response, status=200):
    assert response.status_code == status, response.json()
    return response.json()


def test_the_review_story_through_the_api(api, order, item, buyer, atlas, settings):
    author, shop, other, first_moderator, second = (
        api("buyer"),
        api("shop_staff"),
        api("other_buyer"),
        api("moderator"),
        api("second_moderator"),
    )

    # The buyer reviews the atlas; bad input is refused and nothing is saved.
    refused = author.post("/api/reviews/", {"order_item": item.pk, **REVIEW, "stars": 9}, format="json")
    assert refused.status_code == 400 and refused.json() == {"stars": ["Choose from 1 to 5 stars."]}
    script = author.post(
        "/api/reviews/", {"order_item": item.pk, **REVIEW, "text": "<script>x</script>"}, format="json"
    )
    assert script.status_code == 400 and list(script.json()) == ["text"]
    not_theirs = other.post("/api/reviews/", {"order_item": item.pk, **REVIEW}, format="json")
    assert not_theirs.json() == {
        "order_item": ["You can review only what you have bought: this is not an item of your orders."]
    }
    assert Review.objects.count() == 0
    review = _ok(author.post("/api/reviews/", {"order_item": item.pk, **REVIEW}, format="json"), 201)
    assert (review["status"], review["verified_purchase"], review["text_html"]) == (
        "published",
        True,
        "<p>Clear maps, <em>well</em> bound.</p>",
    )
    second_try = author.post("/api/reviews/", {"order_item": item.pk, **REVIEW}, format="json")
    assert second_try.json() == {"order_item": ["You have already reviewed this item: edit your review instead."]}

    # ...and rates the shop, which cannot see the rating until it has left its feedback.
    rating = _ok(author.post("/api/ratings/", {"order": order.pk, **RATING}, format="json"), 201)
    assert rating["revealed_at"] is None
    assert _ok(shop.get(f"/api/shops/olives-books/orders/{order.pk}/buyer-feedback/"))["rating"] is None
    negative = shop.post(f"/api/shops/olives-books/orders/{order.pk}/buyer-feedback/", {"value": "negative"})
    assert negative.status_code == 400
    feedback = _ok(shop.post(f"/api/shops/olives-books/orders/{order.pk}/buyer-feedback/", {"value": "positive"}), 201)
    assert feedback["revealed_at"] is not None
    assert _ok(author.get(f"/api/orders/{order.pk}/feedback/"))["feedback"]["value"] == "positive"
    summary = _ok(api("anonymous").get("/api/shops/olives-books/rating-summary/"))
    assert (summary["score"], summary["all_time"]["count"], summary["all_time"]["average"]) == ("3.636", 1, "5.0")
    assert summary["all_time"]["shipping_speed"] == "3.0"
    assert summary["last_12_months"]["count"] == 1
    assert summary["completion_rate"] == {"percent": 100, "fulfilled": 1, "counted": 1}

    # The shop replies once, signed; the review is frozen.
    replied = _ok(shop.post(f"/api/reviews/{review['id']}/reply/", {"text": "Thank you, Bea!"}, format="json"))
    assert (replied["reply"]["signed_by"], replied["reply"]["html"]) == ("Sam Staff", "<p>Thank you, Bea!</p>")
    frozen = author.patch(f"/api/reviews/{review['id']}/", {"stars": 1}, format="json")
    assert frozen.json() == {"non_field_errors": ["Olive's Books has replied: the review can no longer be edited."]}

    # Another person finds it helpful, and reports it; the author cannot vote on it.
    assert _ok(other.post(f"/api/reviews/{review['id']}/vote/"), 201)["helpful_count"] == 1
    assert author.post(f"/api/reviews/{review['id']}/vote/").json() == {
        "review": ["You cannot vote on your own review."]
    }
    _ok(other.post(f"/api/reviews/{review['id']}/flags/", {"reason": "personal", "note": "Names me."}), 201)

    # A moderator hides it; the author appeals; the same moderator may not decide the appeal.
    queue = _ok(first_moderator.get("/api/moderation/reviews/"))
    assert [(r["id"], r["open_flags"][0]["reason"]) for r in queue["reviews"]] == [(review["id"], "personal")]
    decision = _ok(
        first_moderator.post(
            f"/api/moderation/reviews/{review['id']}/decisions/",
            {"outcome": "hide", "reason": "Names a person."},
            format="json",
        ),
        201,
    )
    assert api("anonymous").get(f"/api/reviews/{review['id']}/").status_code == 404
    history = _ok(author.get(f"/api/reviews/{review['id']}/moderation/"))
    assert (history["status"], history["you_may_appeal"], history["flags"][0]["settled"]) == ("hidden", "author", True)
    appeal = _ok(author.post(f"/api/review-decisions/{decision['id']}/appeal/", {"statement": "It names no one."}), 201)
    again = author.post(f"/api/review-decisions/{decision['id']}/appeal/", {"statement": "Again"})
    assert again.json() == {
        "statement": ["This decision has already been appealed: each decision can be appealed once."]
    }
    same = first_moderator.post(
        f"/api/moderation/review-appeals/{appeal['id']}/decision/", {"outcome": "keep", "reason": "Fine."}
    )
    assert same.json() == {
        "non_field_errors": ["You made the decision appealed against: a different moderator has to decide."]
    }

    # Another moderator restores it; that decision is final.
    final = _ok(
        second.post(
            f"/api/moderation/review-appeals/{appeal['id']}/decision/",
            {"outcome": "keep", "reason": "It names no one."},
            format="json",
        ),
        201,
    )
    assert final["on_appeal"] is True
    assert _ok(api("anonymous").get(f"/api/reviews/{review['id']}/"))["status"] == "published"
    appeal_of_appeal = author.post(f"/api/review-decisions/{final['id']}/appeal/", {"statement": "Once more"})
    assert appeal_of_appeal.json() == {
        "statement": ["This decision was made on an appeal and is final: it cannot be appealed again."]
    }
    listed = _ok(api("anonymous").get(f"/api/listings/{atlas.pk}/reviews/?sort=newest"))
    assert [r["id"] for r in listed["results"]] == [review["id"]]

    # A burst of ratings from fresh accounts is held, not published.
    settings.REVIEWS_BURST_AUTHORS = 3
    for number in range(3):
        person = UserFactory(username=f"fresh{number}")
        bought = shipped_order(person, atlas, key=f"fresh{number}")
        held = _ok(api(person).post("/api/ratings/", {"order": bought.pk, **RATING}, format="json"), 201)
    assert held["status"] == "held"
    assert list(SellerRating.objects.filter(author__username__startswith="fresh").values_list("status", flat=True)) == [
        "held",
        "held",
        "held",
    ]
    # Bea's account is new and has only rated this shop: her rating of today belongs to the burst too.
    assert [r["author"] for r in _ok(second.get("/api/moderation/reviews/"))["ratings"]] == [
        "bea",
        "fresh0",
        "fresh1",
        "fresh2",
    ]
    summary = _ok(api("anonymous").get("/api/shops/olives-books/rating-summary/"))
    assert (summary["held_count"], summary["all_time"]["count"]) == (4, 0)


@pytest.mark.parametrize("count", [1, 4])
def test_list_endpoints_keep_their_query_counts(api, atlas, count, django_assert_num_queries, settings):
    settings.REVIEWS_BURST_AUTHORS = 100
    for number in range(count):
        person = UserFactory(username=f"writer{number}")
        order = shipped_order(person, atlas, key=f"w{number}")
        review = _ok(api(person).post("/api/reviews/", {"order_item": order.items.get().pk, **REVIEW}), 201)
        _ok(api(person).post("/api/ratings/", {"order": order.pk, **RATING}), 201)
        _ok(
            api("shop_owner").post(f"/api/shops/olives-books/orders/{order.pk}/buyer-feedback/", {"value": "neutral"}),
            201,
        )
        _ok(api("shop_owner").post(f"/api/reviews/{review['id']}/reply/", {"text": "Thanks"}))
    anonymous = api("anonymous")

    with django_assert_num_queries(3):  # listing, count, page (authors, shops, replies)
        assert len(anonymous.get(f"/api/listings/{atlas.pk}/reviews/").json()["results"]) == count
    with django_assert_num_queries(4):  # shop, its people, count, page
        assert len(anonymous.get("/api/shops/olives-books/reviews/").json()["results"]) == count
    with django_assert_num_queries(4):
        assert len(anonymous.get("/api/shops/olives-books/ratings/").json()["results"]) == count
    with django_assert_num_queries(5):  # shop, its people, summary row, last 12 months, completion rate
        assert anonymous.get("/api/shops/olives-books/rating-summary/").json()["all_time"]["count"] == count


def test_my_reviews_and_ratings_through_the_api(api, buyer, item, order, settings):
    settings.REVIEWS_BURST_AUTHORS = 1
    _ok(api("buyer").post("/api/reviews/", {"order_item": item.pk, **REVIEW}), 201)
    _ok(api("buyer").post("/api/ratings/", {"order": order.pk, **RATING}), 201)

    mine = _ok(api("buyer").get("/api/reviews/"))["results"]
    my_ratings = _ok(api("buyer").get("/api/ratings/"))["results"]

    assert [(r["title"], r["status"]) for r in mine] == [("A fine atlas", "held")]
    assert [(r["order"], r["status"], r["revealed_at"]) for r in my_ratings] == [(order.pk, "held", None)]
    assert _ok(api("other_buyer").get("/api/reviews/"))["results"] == []
    assert api("anonymous").get("/api/reviews/").status_code == 403
