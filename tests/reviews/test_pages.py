"""The reviews pages as people use them: from the order page to a published review, the listing
page and the storefront, the dashboard's replies and feedback, votes, reports, appeals and the
moderators' queue; refusals keep what was typed; no script reaches a page; fixed query counts."""

import re

import pytest
from django.test import Client

from marketplace.markdown import render_markdown
from orders import services as order_services
from orders.lifecycle import Actor
from reviews import services
from reviews.models import Appeal, Flag, HelpfulVote, ModerationDecision, Review, SellerRating
from tests.factories import ListingFactory, UserFactory
from tests.reviews.conftest import RATING, REVIEW, place, ship, shipped_order, snapshot

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def review(buyer, item):
    return services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)


def _post_review(client, order, item, **fields):
    return client.post(f"/orders/{order.pk}/items/{item.pk}/review/", REVIEW | fields)


# --- From the order page ------------------------------------------------------------------------------------


def test_the_order_page_links_to_reviewing_each_item_and_rating_the_shop(as_user, order, item):
    page = _text(as_user("buyer").get(f"/orders/{order.pk}/"))

    assert f'href="/orders/{order.pk}/items/{item.pk}/review/">Review this item' in page
    assert f'href="/orders/{order.pk}/rating/">Rate the shop</a>' in page


def test_before_shipping_the_order_page_says_when_reviews_open(as_user, buyer, atlas):
    [order] = place(buyer, atlas, key="new")

    page = _text(as_user("buyer").get(f"/orders/{order.pk}/"))

    assert "You can review what you bought and rate Olive&#x27;s Books once the order has been shipped." in page
    assert "Review this item" not in page


def test_a_buyer_writes_a_review_from_their_order(as_user, order, item):
    client = as_user("buyer")

    form = client.get(f"/orders/{order.pk}/items/{item.pk}/review/")
    response = _post_review(client, order, item)

    assert form.status_code == 200 and "Review An Atlas of Rivers" in form.content.decode()
    assert (response.status_code, response["Location"]) == (302, f"/orders/{order.pk}/")
    review = Review.objects.get()
    assert (review.stars, review.title) == (4, "A fine atlas")
    after = _text(client.get(f"/orders/{order.pk}/"))
    assert "Thank you: your review is published." in after
    assert "Edit your review" in after


def test_editing_a_review_keeps_its_query_count(as_user, order, item, review, django_assert_num_queries):
    client = as_user("buyer")
    client.get(f"/orders/{order.pk}/items/{item.pk}/review/")

    # session, user, the item with its order, the review; then, in one transaction, the shop's
    # summary and the review locked, the earlier version kept, the review changed
    with django_assert_num_queries(10):
        response = _post_review(client, order, item, title="A finer atlas")

    assert (response.status_code, response["Location"]) == (302, f"/orders/{order.pk}/")
    assert Review.objects.get().title == "A finer atlas"


def test_the_review_form_is_not_found_for_anyone_elses_item(as_user, order, item, other_buyer):
    assert as_user(other_buyer).get(f"/orders/{order.pk}/items/{item.pk}/review/").status_code == 404
    assert as_user("buyer").get(f"/orders/{order.pk}/items/{item.pk + 1000}/review/").status_code == 404
    assert as_user("buyer").get(f"/orders/{order.pk + 1000}/items/{item.pk}/review/").status_code == 404


def test_a_refused_review_shows_the_message_and_what_was_typed(as_user, order, item):
    before = snapshot()

    response = _post_review(as_user("buyer"), order, item, text="x" * 5001, title="Too long a story")

    assert response.status_code == 400
    page = response.content.decode()
    assert "This can be at most 5,000 characters (it has 5,001)." in page
    assert 'value="Too long a story"' in page and "x" * 5001 in page
    assert snapshot() == before


def test_script_in_a_review_is_refused_and_never_reaches_the_page_unescaped(as_user, order, item):
    response = _post_review(as_user("buyer"), order, item, text='<script>alert("x")</script>', title="<b>Hi</b>")

    page = response.content.decode()
    assert response.status_code == 400
    assert "<script>alert" not in page and "<b>Hi</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert Review.objects.count() == 0


def test_markup_that_reached_the_database_is_still_escaped_or_cleaned_on_every_page(as_user, review, atlas, client):
    # Written around the services (an old import, a hand edit): pages never trust it.
    Review.objects.filter(pk=review.pk).update(
        title='"><script>alert(1)</script>', text_html=render_markdown("<script>alert(2)</script> **bold**")
    )

    for url in (
        f"/reviews/{review.pk}/",
        f"/listings/{atlas.pk}/",
        "/shops/olives-books/",
        "/shops/olives-books/reviews/",
    ):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url


def test_the_author_edits_and_the_earlier_version_is_shown(as_user, order, item, review, client):
    response = _post_review(as_user("buyer"), order, item, stars="2", title="Spine cracked")

    assert response.status_code == 302
    page = _text(client.get(f"/reviews/{review.pk}/"))
    assert "Spine cracked" in page
    assert "Earlier versions" in page and "4 of 5 stars: A fine atlas" in page


def test_a_buyer_rates_the_shop_and_learns_when_it_is_shown(as_user, order):
    client = as_user("buyer")

    response = client.post(f"/orders/{order.pk}/rating/", RATING)

    assert response.status_code == 302
    rating = SellerRating.objects.get()
    assert (rating.overall, rating.revealed_at) == (5, None)
    page = _text(client.get(f"/orders/{order.pk}/"))
    assert "your rating of Olive&#x27;s Books is shown once the shop has left its feedback on you" in page
    assert "Change your rating" in page


def test_a_rating_outside_one_to_five_is_refused_on_the_page(as_user, order):
    before = snapshot()

    response = as_user("buyer").post(f"/orders/{order.pk}/rating/", RATING | {"overall": "7", "comment": "Typed"})

    assert response.status_code == 400
    assert "Choose from 1 to 5 stars for overall." in response.content.decode()
    assert "Typed</textarea>" in response.content.decode()
    assert snapshot() == before


def test_the_shop_leaves_feedback_and_both_sides_see_both(as_user, order, buyer):
    services.rating_create(author=buyer, order_id=order.pk, **RATING)
    shop_client = as_user("shop_staff")

    before = _text(shop_client.get(f"/shops/olives-books/dashboard/orders/{order.pk}/"))
    refused = shop_client.post(f"/shops/olives-books/dashboard/orders/{order.pk}/feedback/", {"value": "negative"})
    done = shop_client.post(
        f"/shops/olives-books/dashboard/orders/{order.pk}/feedback/", {"value": "positive", "comment": "Paid fast."}
    )

    assert "The buyer has rated your shop: you will see the rating once you have left your feedback" in before
    assert refused.status_code == 400 and "feedback on buyers is never negative" in refused.content.decode()
    assert done.status_code == 302
    after = _text(shop_client.get(f"/shops/olives-books/dashboard/orders/{order.pk}/"))
    assert "The buyer's rating of your shop:" in after and "see it and reply" in after
    assert "What shops said about Bea Buyer: 1 positive, 0 neutral." in after
    buyer_page = _text(as_user("buyer").get(f"/orders/{order.pk}/"))
    assert "Olive&#x27;s Books's feedback on you: <strong>Positive</strong>: “Paid fast.”" in buyer_page


# --- Listing page and storefront --------------------------------------------------------------------------------


def test_the_listing_page_shows_reviews_of_this_and_other_copies(client, review, atlas, other_shop, other_buyer, work):
    copy = ListingFactory(shop=other_shop, title="Atlas of Rivers", currency="EUR", work=work)
    theirs = shipped_order(other_buyer, copy, key="copy").items.get()
    services.review_create(author=other_buyer, order_item_id=theirs.pk, stars=2, title="Faded maps", text="Pale.")

    page = _text(client.get(f"/listings/{atlas.pk}/?reviews=lowest"))

    section = page[page.index('<section class="listing-reviews"') :]
    section = section[: section.index("</section>")]
    assert "<strong>3.0</strong> out of 5 from 2 verified buyers of this and other copies of the same work" in section
    assert section.index("Faded maps") < section.index("A fine atlas")
    assert "of another copy, from Oscar&#x27;s Records" in section
    assert section.count("Verified purchase") == 2


def test_the_listing_page_shows_the_shops_stars_beside_its_completion_rate(client, atlas, buyer, order, shop_owner):
    services.rating_create(author=buyer, order_id=order.pk, **RATING)
    services.buyer_feedback_create(order=order, actor=shop_owner, value="positive")

    page = _text(client.get(f"/listings/{atlas.pk}/"))

    assert "5.0 out of 5 from 1 rating</a> · 100% of orders fulfilled" in page


def test_the_storefront_shows_the_summary_praise_and_reviews(client, review, buyer, order, shop_owner):
    services.rating_create(author=buyer, order_id=order.pk, **RATING)
    services.buyer_feedback_create(order=order, actor=shop_owner, value="positive")
    services.reply_create(subject=review, actor=shop_owner, text="Thanks for the kind review!")

    page = _text(client.get("/shops/olives-books/"))

    assert "<strong>5.0</strong> out of 5 from 1 rating</a>" in page
    assert "100%</strong> of its orders in the last six months fulfilled" in page
    assert "The last 12 months" in page and "All time" in page
    assert "<dt>Shipping speed</dt><dd>3.0 of 5</dd>" in page
    assert "What buyers say" in page and "Quick and kind." in page
    assert "A fine atlas" in page
    assert "Reply from Olive&#x27;s Books</strong>, signed Olive Owner" in page


def test_the_shops_reviews_page_sorts_and_its_ratings_page_lists_ratings(client, review, buyer, order, shop_owner):
    services.rating_create(author=buyer, order_id=order.pk, **RATING)
    services.buyer_feedback_create(order=order, actor=shop_owner, value="positive")

    reviews_page = client.get("/shops/olives-books/reviews/?sort=newest")
    ratings_page = _text(client.get("/shops/olives-books/ratings/"))

    assert reviews_page.status_code == 200 and 'value="newest" selected' in reviews_page.content.decode()
    assert "Quick and kind." in ratings_page and "<dt>Communication</dt><dd>4 of 5</dd>" in ratings_page


# --- Votes, reports, replies, appeals ------------------------------------------------------------------------


def test_another_buyer_finds_a_review_helpful_on_the_listing_page(as_user, review, atlas):
    client = as_user("other_buyer")

    response = client.post(f"/reviews/{review.pk}/vote/", {"next": f"/listings/{atlas.pk}/"})
    page = _text(client.get(f"/listings/{atlas.pk}/"))

    assert response["Location"] == f"/listings/{atlas.pk}/"
    assert "1 person found this helpful" in page and "Take back my vote" in page
    assert HelpfulVote.objects.count() == 1


def test_a_vote_on_ones_own_review_is_refused_with_the_message(as_user, review):
    client = as_user("buyer")

    response = client.post(f"/reviews/{review.pk}/vote/", follow=True)

    assert "You cannot vote on your own review." in response.content.decode()
    assert HelpfulVote.objects.count() == 0


def test_someone_reports_a_review_and_a_refused_report_keeps_the_note(as_user, review):
    client = as_user("other_buyer")

    refused = client.post(f"/reviews/{review.pk}/flag/", {"reason": "other", "note": ""})
    done = client.post(f"/reviews/{review.pk}/flag/", {"reason": "abusive", "note": "Insults the courier."})

    assert refused.status_code == 400 and "Tell the moderators what is wrong." in refused.content.decode()
    assert done.status_code == 302
    assert Flag.objects.get().note == "Insults the courier."


def test_the_shop_replies_from_its_dashboard(as_user, review):
    client = as_user("shop_staff")

    dashboard = _text(client.get("/shops/olives-books/dashboard/reviews/?show=awaiting"))
    response = client.post(
        f"/reviews/{review.pk}/reply/", {"text": "Thank you!", "next": "/shops/olives-books/dashboard/reviews/"}
    )

    assert "Your reply to “A fine atlas”" in dashboard
    assert response["Location"] == "/shops/olives-books/dashboard/reviews/"
    page = _text(client.get(f"/reviews/{review.pk}/"))
    assert "Reply from Olive&#x27;s Books</strong>, signed Sam Staff" in page
    assert "Reply for Olive&#x27;s Books" not in page  # once


def test_the_author_sees_the_decision_and_appeals_it(as_user, review, moderator):
    services.decision_make(subject=review, moderator=moderator, outcome="hide", reason="Names a courier.")
    decision = ModerationDecision.objects.get()
    client = as_user("buyer")

    page = _text(client.get(f"/reviews/{review.pk}/"))
    refused = client.post(f"/reviews/decisions/{decision.pk}/appeal/", {"statement": ""})
    done = client.post(f"/reviews/decisions/{decision.pk}/appeal/", {"statement": "The courier is not named."})

    assert "Hidden by a moderator: not shown on public pages." in page
    assert "<strong>Hide it</strong>" in page and ", by a moderator. Reason: Names a courier." in page
    assert "Stella" not in page
    assert "Appeal this decision" in page
    assert (
        refused.status_code == 400
        and "Tell the moderators why they should decide otherwise." in refused.content.decode()
    )
    assert done.status_code == 302
    after = _text(client.get(f"/reviews/{review.pk}/"))
    assert "Appealed by the author" in after and "waiting for a different moderator" in after
    assert "Appeal this decision" not in after
    assert Appeal.objects.count() == 1


# --- Moderation -----------------------------------------------------------------------------------------------


def test_moderators_decide_from_the_queue_and_a_missing_reason_keeps_the_choice(as_user, review, other_buyer):
    services.flag_create(subject=review, reporter=other_buyer, reason="spam", note="An advert.")
    client = as_user("moderator")
    key = f"review-{review.pk}"

    queue = _text(client.get("/moderation/reviews/"))
    refused = client.post(f"/moderation/reviews/review/{review.pk}/decide/", {f"{key}-outcome": "hide"})
    done = client.post(
        f"/moderation/reviews/review/{review.pk}/decide/", {f"{key}-outcome": "hide", f"{key}-reason": "Advert."}
    )

    assert "Review “A fine atlas” of An Atlas of Rivers" in queue and "Spam or advertising — “An advert.”" in queue
    assert refused.status_code == 400 and "Say why: both sides are told." in refused.content.decode()
    assert f'value="hide" id="id_{key}-outcome_1" checked' in refused.content.decode()
    assert done.status_code == 302
    review.refresh_from_db()
    assert review.status == "hidden"
    assert "Nothing is waiting for a moderator." in _text(client.get("/moderation/reviews/"))


def test_an_appeal_in_the_queue_is_decided_by_another_moderator(as_user, review, moderator, buyer):
    decision = services.decision_make(subject=review, moderator=moderator, outcome="hide", reason="Names a courier.")
    appeal = services.appeal_file(decision=decision, appellant=buyer, statement="It does not.")
    key = f"appeal-{appeal.pk}"

    own = _text(as_user("moderator").get("/moderation/reviews/"))
    done = as_user("second_moderator").post(
        f"/moderation/reviews/appeals/{appeal.pk}/decide/", {f"{key}-outcome": "keep", f"{key}-reason": "Fine."}
    )

    assert "You made the decision appealed against: a different moderator has to decide." in own
    assert done.status_code == 302
    review.refresh_from_db()
    assert review.status == "published"


def test_csrf_is_required_to_write_a_review(buyer, order, item):
    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)

    response = _post_review(client, order, item)

    assert response.status_code == 403
    assert Review.objects.count() == 0


# --- Query counts -----------------------------------------------------------------------------------------------


def _reviews_with_replies_and_votes(atlas, count):
    voter = UserFactory(username="voter")
    for number in range(count):
        person = UserFactory(username=f"writer{number}")
        item = shipped_order(person, atlas, key=f"q{number}").items.get()
        review = services.review_create(author=person, order_item_id=item.pk, **REVIEW)
        services.reply_create(subject=review, actor=atlas.shop.owner, text="Thank you.")
        services.vote_add(review=review, voter=voter)
    return voter


@pytest.mark.parametrize("count", [1, 4])
def test_review_lists_keep_their_query_counts(client, as_user, atlas, count, django_assert_num_queries, settings):
    settings.REVIEWS_BURST_AUTHORS = 100
    voter = _reviews_with_replies_and_votes(atlas, count)
    signed_in = as_user(voter)

    with django_assert_num_queries(4):  # listing, count, page (authors, shops, replies), tally
        assert client.get(f"/listings/{atlas.pk}/reviews/").status_code == 200
    # shop, its people, count, page, summary row, last 12 months, completion rate
    with django_assert_num_queries(7):
        assert client.get("/shops/olives-books/reviews/").status_code == 200
    # session, user, the same, the viewer's votes, unread notifications, unread conversations
    with django_assert_num_queries(12):
        response = signed_in.get("/shops/olives-books/reviews/")
    assert response.content.decode().count("Take back my vote") == count


def _written_and_revealed(atlas, count, prefix):
    for number in range(count):
        person = UserFactory(username=f"{prefix}{number}")
        order = shipped_order(person, atlas, key=f"{prefix}{number}")
        services.review_create(author=person, order_item_id=order.items.get().pk, **REVIEW)
        services.rating_create(author=person, order_id=order.pk, **RATING)
        services.buyer_feedback_create(order=order, actor=atlas.shop.owner, value="positive")


@pytest.mark.parametrize("count", [1, 4])
def test_the_queue_keeps_its_query_count(as_user, atlas, count, django_assert_num_queries, settings):
    settings.REVIEWS_BURST_AUTHORS = 1  # everything written is held for the queue
    _written_and_revealed(atlas, count, "held")
    moderator = as_user("moderator")

    # session, user, reviews, their open flags, ratings, their open flags, appeals, unread notifications,
    # unread conversations
    with django_assert_num_queries(9):
        queue = moderator.get("/moderation/reviews/")

    assert queue.content.decode().count('class="queue-item"') == 2 * count


@pytest.mark.parametrize("count", [1, 4])
def test_the_dashboard_keeps_its_query_count(as_user, atlas, count, django_assert_num_queries, settings):
    settings.REVIEWS_BURST_AUTHORS = 100
    _written_and_revealed(atlas, count, "shown")
    ListingFactory(shop=atlas.shop)
    owner = as_user("shop_owner")

    # session, user, shop, count, reviews, ratings, orders awaiting feedback, unread notifications,
    # unread conversations
    with django_assert_num_queries(9):
        dashboard = owner.get("/shops/olives-books/dashboard/reviews/")

    assert dashboard.content.decode().count('class="dashboard-review"') == 2 * count


@pytest.mark.parametrize("count", [1, 3])
def test_the_order_page_keeps_its_query_count(as_user, buyer, atlas, shop, count, django_assert_num_queries):
    listings = [ListingFactory(shop=shop) for _ in range(count)]
    [order] = place(buyer, *listings, key="many")
    ship(order)
    for line in order.items.all():
        services.review_create(author=buyer, order_item_id=line.pk, **REVIEW)
    client = as_user("buyer")

    # session, user, the order, its items, timeline and deadlines, thank-you notes, the case,
    # unread notifications, unread conversations, and the reviews' three: the items' reviews,
    # the rating, the shop's feedback
    with django_assert_num_queries(13):
        response = client.get(f"/orders/{order.pk}/")

    assert response.content.decode().count("Edit your review") == count


def test_a_profile_shows_the_persons_reviews_and_the_shops_feedback(client, review, order, buyer, shop_owner):
    services.rating_create(author=buyer, order_id=order.pk, **RATING)
    services.buyer_feedback_create(order=order, actor=shop_owner, value="positive")

    page = _text(client.get("/people/bea/"))

    assert "Reviews by Bea Buyer" in page
    assert "A fine atlas" in page
    assert "Feedback from shops: 1 positive, 0 neutral." in page


def test_a_frozen_review_says_why_instead_of_offering_the_form(as_user, order, item, review, shop_owner):
    services.reply_create(subject=review, actor=shop_owner, text="Thank you!")

    page = _text(as_user("buyer").get(f"/orders/{order.pk}/items/{item.pk}/review/"))

    assert "Olive&#x27;s Books has replied: the review can no longer be edited." in page
    assert "Save your review" not in page


def test_a_cancelled_order_has_no_reviews_section(as_user, buyer, atlas):
    [order] = place(buyer, atlas, key="gone")
    order_services.order_cancel(order=order, actor=buyer, by=Actor.BUYER)

    page = _text(as_user("buyer").get(f"/orders/{order.pk}/"))

    assert "Reviews and rating" not in page


def test_the_author_finds_all_they_wrote_held_ones_included(as_user, buyer, item, order, settings):
    settings.REVIEWS_BURST_AUTHORS = 1
    services.review_create(author=buyer, order_item_id=item.pk, **REVIEW)
    services.rating_create(author=buyer, order_id=order.pk, **RATING)

    mine = _text(as_user("buyer").get("/reviews/mine/"))
    theirs = _text(as_user("other_buyer").get("/reviews/mine/"))

    assert "A fine atlas" in mine and "Held for moderation" in mine
    assert f"Olive&#x27;s Books, order #{order.pk}</a> · Held for moderation" in mine
    assert "A fine atlas" not in theirs and "You have not rated a shop yet." in theirs
    assert as_user("anonymous").get("/reviews/mine/").status_code == 302
