"""Deals between people, in the real browser: a shop that does not ship abroad makes a private
offer with shipping to Japan, which the buyer accepts; the buyer's own offer is countered and
accepted; both sides exchange thank-you notes, and the buyer's shows on the storefront once they
agree; a damaged parcel is settled with a partial refund, and another problem is escalated to
Plural's moderators and decided."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from playwright.sync_api import expect

from orders.models import Case, Order
from orders.tasks import run_deal_timers
from tests.e2e.conftest import from_database
from tests.factories import ListingFactory, ShopFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "lanterns over the harbour"


def _people_and_shop() -> dict:
    olive = UserFactory(username="olive", display_name="Olive Owner")
    shop = ShopFactory(
        name="Olive's Books", slug="olives-books", owner=olive, ships_to=[], payment_methods=["bank_transfer"]
    )
    from orders import services

    services.shop_offer_terms_update(shop=shop, actor=olive, accepts_offers=True, offer_response_days=3)
    atlas = ListingFactory(shop=shop, title="An Atlas of Rivers", price=Decimal("20.00"), quantity=3)
    UserFactory(username="nia", display_name="Nia New", password=PASSWORD)
    moderator = UserFactory(username="stella", display_name="Stella Staff", is_staff=True)
    sessions = {}
    for name, person in (("olive", olive), ("stella", moderator)):
        client = Client()
        client.force_login(person)
        sessions[name] = client.cookies["sessionid"].value
    return {"listing": atlas.pk, "sessions": sessions}


def _window(browser, live_server, session_key):
    """A browser window of someone already signed in (the shop's owner, the moderator)."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": "sessionid", "value": session_key, "url": live_server.url}])
    return context.new_page()


def _add_address(page, *, line1, city, country):
    page.get_by_label("Full name").fill("Nia New")
    page.fill("input[name=line1]", line1)
    page.get_by_label("Town or city").fill(city)
    page.get_by_label("Country").select_option(country)
    page.get_by_role("button", name="Save the address").click()


def _deliver(shop_page, order_id):
    shop_page.goto(f"/shops/olives-books/dashboard/orders/{order_id}/")
    shop_page.get_by_role("button", name="Accept the order").click()
    shop_page.get_by_role("button", name="Mark as paid").click()
    shop_page.get_by_label("Carrier").fill("Royal Mail")
    shop_page.get_by_label("Tracking number").fill(f"RM{order_id}GB")
    shop_page.get_by_role("button", name="Mark as shipped").click()
    shop_page.get_by_role("button", name="Mark as delivered").click()
    expect(shop_page.get_by_text("The order is marked delivered.")).to_be_visible()


def test_offers_notes_and_cases_in_the_browser(page, live_server):
    data = from_database(_people_and_shop)
    listing_url = f"/listings/{data['listing']}/"
    browser = page.context.browser
    olive = _window(browser, live_server, data["sessions"]["olive"])
    stella = _window(browser, live_server, data["sessions"]["stella"])

    # The shop does not ship abroad, but makes Nia a private offer with shipping to Japan.
    olive.goto(listing_url)
    olive.get_by_text("Make a private offer").click()
    olive.get_by_label("For (username)").fill("nia")
    olive.get_by_label("Price").fill("16.00")
    olive.get_by_label("Shipping charge").fill("14.50")
    olive.get_by_label("Country to ship to").select_option("JP")
    olive.get_by_role("button", name="Send the private offer").click()
    expect(olive.get_by_text("Your private offer is on its way to Nia New.")).to_be_visible()

    page.goto("/accounts/login/")
    page.fill("input[name=login]", "nia")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto("/offers/")
    page.get_by_role("link", name="Private offer on An Atlas of Rivers").click()
    expect(page.get_by_text("14.50 GBP to Japan")).to_be_visible()
    page.get_by_role("link", name="add an address").click()
    _add_address(page, line1="1-2-3 Shibuya", city="Tokyo", country="JP")
    page.get_by_role("button", name="Accept and order").click()
    expect(page.get_by_text("is placed with Olive's Books")).to_be_visible()
    expect(page.get_by_text("From a private offer by Olive Owner of Olive's Books")).to_be_visible()
    first = int(page.url.rstrip("/").rsplit("/", 1)[1])

    # Nia offers a price on the listing; the shop counters; Nia accepts and orders it.
    page.goto(listing_url)
    page.get_by_label("Your price").fill("14")
    page.get_by_role("button", name="Make the offer").click()
    expect(page.get_by_text("Your offer has been sent to Olive's Books.")).to_be_visible()
    olive.goto("/shops/olives-books/dashboard/offers/")
    olive.get_by_role("link", name="Offer on An Atlas of Rivers").click()
    olive.get_by_label("Your counter-offer").fill("17")
    olive.get_by_role("button", name="Send the counter-offer").click()
    expect(olive.get_by_text("Your counter-offer has been sent.")).to_be_visible()
    page.reload()
    page.get_by_role("button", name="Accept the counter-offer").click()
    expect(page.get_by_text("The copy is reserved for you until")).to_be_visible()
    page.get_by_role("link", name="Add another address").click()
    _add_address(page, line1="4 Mill Lane", city="York", country="GB")
    page.get_by_label("Send it to").select_option(label="Nia New, 4 Mill Lane, York, United Kingdom")
    page.get_by_role("button", name="Order for 17.00 GBP").click()
    expect(page.get_by_text("is placed with Olive's Books")).to_be_visible()
    second = int(page.url.rstrip("/").rsplit("/", 1)[1])
    totals = from_database(lambda: dict(Order.objects.values_list("pk", "total")))
    assert totals == {first: Decimal("30.50"), second: Decimal("20.00")}

    # Both orders arrive; the shop writes a note; Nia thanks the shop and, later, lets it show.
    _deliver(olive, first)
    _deliver(olive, second)
    olive.goto(f"/shops/olives-books/dashboard/orders/{first}/")
    olive.get_by_label("Your thank-you note").fill("Enjoy the rivers of the world!")
    olive.get_by_role("button", name="Add the note").click()
    expect(olive.get_by_text("Your thank-you note is on the order")).to_be_visible()
    page.goto(f"/orders/{first}/")
    expect(page.get_by_text("Enjoy the rivers of the world!")).to_be_visible()
    page.get_by_label("Your thank-you note to the shop").fill("Arrived safe in Tokyo. Thank you!")
    page.get_by_role("button", name="Send a thank-you note").click()
    expect(page.get_by_text("not shown on its storefront.")).to_be_visible()
    page.goto("/shops/olives-books/")
    expect(page.get_by_text("Arrived safe in Tokyo. Thank you!")).to_have_count(0)
    page.goto(f"/orders/{first}/")
    page.get_by_role("button", name="Let Olive's Books show my note on its storefront").click()
    page.goto("/shops/olives-books/")
    kind_words = page.get_by_role("region", name="Kind words")
    expect(kind_words.get_by_text("Arrived safe in Tokyo. Thank you!")).to_be_visible()
    expect(kind_words.get_by_text("Nia New")).to_be_visible()

    # The first parcel came damaged: settled between them with a partial refund.
    page.goto(f"/orders/{first}/")
    page.get_by_role("link", name="report a problem").click()
    page.get_by_label("It arrived damaged").check()
    page.get_by_label("What happened").fill("A corner is crushed.")
    page.get_by_role("button", name="Report the problem").click()
    expect(page.get_by_text("Your problem report has been sent to Olive's Books.")).to_be_visible()
    olive.goto(f"/shops/olives-books/dashboard/orders/{first}/")
    olive.get_by_role("link", name="It arrived damaged, reported").click()
    olive.get_by_label("A partial refund").check()
    olive.get_by_label("Amount to refund").fill("6.00")
    olive.get_by_role("button", name="Send the proposal").click()
    expect(olive.get_by_text("Your proposal has been sent to the buyer.")).to_be_visible()
    page.reload()
    page.get_by_role("button", name="Accept the proposal").click()
    expect(page.get_by_text("Thank you: the problem is settled.")).to_be_visible()
    expect(page.get_by_text("Settled by agreement: a partial refund of 6.00 GBP.")).to_be_visible()

    # The second is not as described: the fix is turned down, Nia escalates, Stella decides.
    page.goto(f"/orders/{second}/")
    page.get_by_role("link", name="report a problem").click()
    page.get_by_label("It is not as described").check()
    page.get_by_role("button", name="Report the problem").click()
    olive.goto(f"/shops/olives-books/dashboard/orders/{second}/")
    olive.get_by_role("link", name="It is not as described, reported").click()
    olive.get_by_label("A replacement").check()
    olive.get_by_role("button", name="Send the proposal").click()
    page.reload()
    page.get_by_label("Why not (optional)").fill("I wanted the edition described.")
    page.get_by_role("button", name="Turn the proposal down").click()
    page.get_by_role("button", name="Ask the moderators").click()
    expect(page.get_by_text("Plural's moderators have been asked to decide.")).to_be_visible()

    stella.goto("/moderation/cases/")
    stella.get_by_role("link", name=f"Order #{second}").click()
    expect(stella.get_by_text("You are reading this case as Plural's moderator.")).to_be_visible()
    expect(stella.get_by_text("I wanted the edition described.")).to_be_visible()
    stella.get_by_label("A full refund", exact=True).check()
    stella.get_by_label("Reasons").fill("The listing promised another edition.")
    stella.get_by_role("button", name="Decide", exact=True).click()
    expect(stella.get_by_text("Your decision has been sent to both sides.")).to_be_visible()

    page.reload()
    decision = page.get_by_role("region", name="The moderator's decision")
    expect(decision.get_by_text("The listing promised another edition.")).to_be_visible()
    expect(page.get_by_text("Stella Staff, Plural's moderator, on").first).to_be_visible()

    def decision_takes_effect():
        case = Case.objects.get(order_id=second)
        with time_machine.travel(case.appeal_due_at + datetime.timedelta(minutes=1), tick=False):
            return run_deal_timers()

    assert from_database(decision_takes_effect)["decisions_final"] == 1
    page.reload()
    expect(page.get_by_text("The moderator's decision took effect: a full refund of 20.00 GBP.")).to_be_visible()
    states = from_database(lambda: dict(Order.objects.values_list("pk", "state")))
    assert states == {first: "completed", second: "returned"}
