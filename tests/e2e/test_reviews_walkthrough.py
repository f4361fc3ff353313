"""In the real browser: a buyer reviews what they bought and rates the shop, the shop leaves its
feedback and replies, another person reports the review, a moderator hides it, the author
appeals and another moderator restores it; then a burst of ratings from fresh accounts is held."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from playwright.sync_api import expect

from reviews.models import Review, SellerRating
from tests.e2e.conftest import from_database
from tests.factories import TEST_PASSWORD, ListingFactory, ShopFactory, UserFactory
from tests.reviews.conftest import shipped_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _session(person) -> str:
    client = Client()
    client.force_login(person)
    return client.cookies["sessionid"].value


def _people_and_a_delivered_order() -> dict:
    owner = UserFactory(username="olive", display_name="Olive Owner")
    shop = ShopFactory(name="Olive's Books", slug="olives-books", owner=owner, payment_methods=["bank_transfer"])
    listing = ListingFactory(shop=shop, title="An Atlas of Rivers", price=Decimal("20.00"), quantity=10)
    buyer = UserFactory(username="nia", display_name="Nia New")
    order = shipped_order(buyer, listing, key="nia-1")
    reporter = UserFactory(username="otto", display_name="Otto Other")
    first_moderator = UserFactory(username="stella", display_name="Stella Staff", is_staff=True)
    second_moderator = UserFactory(username="mo", display_name="Mo Moderator")
    second_moderator.user_permissions.add(Permission.objects.get(codename="moderate_review"))
    fresh = []
    for number in range(3):
        person = UserFactory(username=f"fresh{number}")
        fresh.append({"session": _session(person), "order": shipped_order(person, listing, key=f"f{number}").pk})
    return {
        "listing": listing.pk,
        "order": order.pk,
        "sessions": {
            name: _session(person)
            for name, person in {
                "olive": owner,
                "otto": reporter,
                "stella": first_moderator,
                "mo": second_moderator,
            }.items()
        },
        "fresh": fresh,
    }


def _window(browser, live_server, session_key=None):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    if session_key:
        context.add_cookies([{"name": "sessionid", "value": session_key, "url": live_server.url}])
    return context.new_page()


def _rate(page, order_id, overall: str):
    page.goto(f"/orders/{order_id}/")
    page.get_by_role("link", name="Rate the shop").click()
    for group in ("Overall", "Item as described", "Communication", "Shipping speed"):
        page.get_by_role("group", name=group).get_by_label(overall).check()
    page.get_by_role("button", name="Send your rating").click()


def test_review_rate_reply_report_hide_appeal_restore_and_a_held_burst(page, live_server, settings):
    data = from_database(_people_and_a_delivered_order)
    browser = page.context.browser
    olive, otto, stella, mo = (
        _window(browser, live_server, data["sessions"][name]) for name in ("olive", "otto", "stella", "mo")
    )

    # The buyer signs in and reviews the atlas from their order; a script is refused.
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "nia")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.goto(f"/orders/{data['order']}/")
    page.get_by_role("link", name="Review this item").click()
    page.get_by_role("group", name="Your rating of the item").get_by_label("4 stars").check()
    page.get_by_label("Title").fill("Clear maps")
    page.get_by_label("Your review").fill("Lovely <script>alert(1)</script>")
    page.get_by_role("button", name="Publish your review").click()
    expect(page.get_by_text("HTML such as <script> and links other than http(s) are not allowed.")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Clear maps")
    page.get_by_label("Your review").fill("The rivers are *beautifully* drawn.")
    page.get_by_role("button", name="Publish your review").click()
    expect(page.get_by_text("Thank you: your review is published.")).to_be_visible()

    # ...and rates the shop: unseen until the shop has left its feedback.
    _rate(page, data["order"], "5 stars")
    expect(page.get_by_text("is shown once the shop has left its feedback on you")).to_be_visible()

    # The shop leaves its feedback on the buyer (never negative), which shows both; then replies.
    olive.goto(f"/shops/olives-books/dashboard/orders/{data['order']}/")
    expect(olive.get_by_text("The buyer has rated your shop: you will see the rating once")).to_be_visible()
    olive.get_by_role("link", name="Leave feedback on the buyer").click()
    olive.get_by_label("Positive").check()
    olive.get_by_label("A few words (optional)").fill("Paid at once.")
    olive.get_by_role("button", name="Leave your feedback").click()
    expect(olive.get_by_text("Thank you: your feedback and the buyer's rating are shown now.")).to_be_visible()
    olive.goto("/shops/olives-books/dashboard/reviews/?show=awaiting")
    olive.get_by_label("Your reply to “Clear maps”").fill("Thank you, Nia!")
    olive.get_by_role("button", name="Reply to “Clear maps”").click()
    expect(olive.get_by_text("Your reply is published, signed with your name.")).to_be_visible()
    page.goto(f"/orders/{data['order']}/")
    expect(page.get_by_text("Olive's Books's feedback on you: Positive")).to_be_visible()

    # Another person reads it on the listing page and reports it.
    otto.goto(f"/listings/{data['listing']}/")
    reviews = otto.get_by_role("region", name="Reviews", exact=True)
    expect(reviews.get_by_text("4.0 out of 5 from 1 verified buyer")).to_be_visible()
    expect(reviews.get_by_text("signed Olive Owner")).to_be_visible()
    reviews.get_by_role("link", name="Clear maps").click()
    otto.get_by_text("Report this review to the moderators").click()
    otto.get_by_label("Shares someone's personal information").check()
    otto.get_by_label("What is wrong").fill("It names the courier.")
    otto.get_by_role("button", name="Report it").click()
    expect(otto.get_by_text("Thank you: a moderator will look at it.")).to_be_visible()

    # A moderator hides it, saying why.
    stella.goto("/moderation/reviews/")
    item = stella.get_by_role("article", name="Review “Clear maps” of An Atlas of Rivers")
    expect(item.get_by_text("Shares someone's personal information — “It names the courier.”")).to_be_visible()
    item.get_by_label("Hide it").check()
    item.get_by_label("Why").fill("Names the courier.")
    item.get_by_role("button", name="Decide").click()
    expect(stella.get_by_text("Decided: hidden. The author and the shop have been told.")).to_be_visible()
    otto.goto(f"/listings/{data['listing']}/")
    expect(otto.get_by_text("No reviews yet.")).to_be_visible()

    # The author sees why and appeals, once.
    page.goto(f"/orders/{data['order']}/")
    page.get_by_role("link", name="your review “Clear maps”").click()
    expect(page.get_by_text("Reason: Names the courier.")).to_be_visible()
    page.get_by_label("Why the moderators should decide otherwise").fill("No courier is named in it.")
    page.get_by_role("button", name="Send the appeal").click()
    expect(page.get_by_text("Your appeal has been sent: a different moderator will decide it.")).to_be_visible()
    expect(page.get_by_role("button", name="Send the appeal")).to_have_count(0)

    # The moderator who hid it may not decide the appeal; another one restores it.
    stella.goto("/moderation/reviews/")
    expect(
        stella.get_by_text("You made the decision appealed against: a different moderator has to decide.")
    ).to_be_visible()
    mo.goto("/moderation/reviews/")
    appeal = mo.get_by_role("article", name="Appeal by the author of “Hide it” on the review “Clear maps”")
    appeal.get_by_label("Keep it published").check()
    appeal.get_by_label("Why").fill("Nobody is named.")
    appeal.get_by_role("button", name="Decide the appeal").click()
    expect(mo.get_by_text("Appeal decided: kept. Both sides have been told.")).to_be_visible()
    otto.goto(f"/listings/{data['listing']}/")
    expect(
        otto.get_by_role("region", name="Reviews", exact=True).get_by_text("The rivers are beautifully drawn.")
    ).to_be_visible()
    page.goto("/notifications/")
    expect(page.get_by_text("Your review of An Atlas of Rivers: appeal granted: now published again")).to_be_visible()

    # A burst: three fresh accounts rate the shop within the hour; what they wrote is held.
    settings.REVIEWS_BURST_AUTHORS = 3
    for person in data["fresh"]:
        window = _window(browser, live_server, person["session"])
        _rate(window, person["order"], "5 stars")
        window.goto(f"/orders/{person['order']}/")
        expect(window.get_by_text("Your rating of Olive's Books")).to_be_visible()
        window.context.close()
    statuses = from_database(
        lambda: list(SellerRating.objects.filter(author__username__startswith="fresh").values_list("status", flat=True))
    )
    assert statuses == ["held", "held", "held"]
    mo.goto("/moderation/reviews/")
    held = mo.get_by_role("region", name="Ratings held or reported")
    expect(held.get_by_text("Held automatically:")).to_have_count(4)
    otto.goto("/shops/olives-books/")
    expect(otto.get_by_text("4 reviews or ratings held for a moderator before publication")).to_be_visible()
    assert from_database(lambda: Review.objects.get().status) == "published"
