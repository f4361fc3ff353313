"""A new person, in the real browser, buys from three shops in one checkout: one shop ships and
the order completes on its timer, the buyer cancels another, and a third comes back as damaged."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.test import Client
from playwright.sync_api import expect

from orders.models import Order
from orders.tasks import run_order_timers
from tests.e2e.conftest import from_database
from tests.factories import ListingFactory, ShopFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "lanterns over the harbour"


def _shops_and_listings() -> dict:
    shops = {
        "olive": ShopFactory(
            name="Olive's Books",
            slug="olives-books",
            owner=UserFactory(username="olive"),
            payment_methods=["bank_transfer"],
        ),
        "oscar": ShopFactory(
            name="Oscar's Records",
            slug="oscars-records",
            owner=UserFactory(username="oscar"),
            country="NL",
            currency="EUR",
            ships_to=["GB"],
            payment_methods=["bank_transfer"],
        ),
        "tess": ShopFactory(
            name="Tess's Prints", slug="tess-prints", owner=UserFactory(username="tess"), payment_methods=["cheque"]
        ),
    }
    listings = {
        "olive": ListingFactory(shop=shops["olive"], title="An Atlas of Rivers", price=Decimal("20.00")),
        "oscar": ListingFactory(shop=shops["oscar"], title="Blue Train LP", price=Decimal("30.00"), currency="EUR"),
        "tess": ListingFactory(shop=shops["tess"], title="Heron, linocut", price=Decimal("45.00")),
    }
    sessions = {}
    for name, shop in shops.items():
        client = Client()
        client.force_login(shop.owner)
        sessions[name] = client.cookies["sessionid"].value
    return {"listings": {name: listing.pk for name, listing in listings.items()}, "sessions": sessions}


def _shop_page(browser, live_server, session_key):
    """A browser window of a shop's owner (signed in already: the shop side is not what is tried here)."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": "sessionid", "value": session_key, "url": live_server.url}])
    return context.new_page()


def _order_ids() -> dict:
    return {order.shop.slug: order.pk for order in Order.objects.select_related("shop")}


def test_three_shops_one_checkout_in_the_browser(page, live_server):
    data = from_database(_shops_and_listings)

    # A visitor fills the cart before having an account.
    for listing_id in data["listings"].values():
        page.goto(f"/listings/{listing_id}/")
        page.get_by_role("button", name="Add to cart").click()
        expect(page.get_by_text("is in your cart.")).to_be_visible()
    account_menu = page.get_by_role("navigation", name="Account")
    expect(account_menu.get_by_role("link", name="Cart 3 items")).to_be_visible()

    # They sign up, confirm their address and log in: the cart is still theirs.
    page.get_by_role("link", name="Sign up").click()
    page.fill("input[name=email]", "nia@example.com")
    page.fill("input[name=username]", "nia")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/accounts/confirm-email/")
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "nia")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/")
    account_menu.get_by_role("link", name="Cart 3 items").click()

    # The cart, by shop; shipping once the country is known; every amount in its own currency.
    expect(page.get_by_text("Choose where to send it to see the shipping.")).to_be_visible()
    page.get_by_label("Country", exact=True).select_option("GB")
    page.get_by_role("button", name="Work out shipping").click()
    for heading in ("From Olive's Books", "From Oscar's Records", "From Tess's Prints"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_text("39.00 EUR")).to_be_visible()
    page.get_by_role("link", name="Check out").click()

    # A first address, then one checkout for three orders.
    page.get_by_label("Full name").fill("Nia New")
    page.fill("input[name=line1]", "4 Mill Lane")
    page.get_by_label("Town or city").fill("York")
    page.get_by_label("Postal code").fill("YO1 7HH")
    page.get_by_label("Country").select_option("GB")
    page.get_by_role("button", name="Save the address").click()
    page.get_by_label("A note for Tess's Prints (optional)").fill("It is a present.")
    page.get_by_role("button", name="Place 3 orders").click()
    expect(page.get_by_role("heading", name="Thank you: 3 orders placed")).to_be_visible()
    expect(page.get_by_text("Send Tess's Prints a cheque")).to_be_visible()
    ids = from_database(_order_ids)

    browser = page.context.browser
    olive = _shop_page(browser, live_server, data["sessions"]["olive"])
    tess = _shop_page(browser, live_server, data["sessions"]["tess"])

    # Olive's Books accepts, is paid, ships; the buyer confirms the parcel came.
    olive.goto("/shops/olives-books/dashboard/orders/")
    olive.get_by_role("link", name=f"Order #{ids['olives-books']}").click()
    olive.get_by_label("Message to the buyer").fill("Our bank: GB00 1234 5678")
    olive.get_by_role("button", name="Accept the order").click()
    olive.get_by_role("button", name="Mark as paid").click()
    olive.get_by_label("Carrier").fill("Royal Mail")
    olive.get_by_label("Tracking number").fill("RM123456789GB")
    olive.get_by_role("button", name="Mark as shipped").click()
    expect(olive.get_by_text("The order is marked shipped: the buyer has the tracking number.")).to_be_visible()

    page.goto(f"/orders/{ids['olives-books']}/")
    expect(page.get_by_text("Our bank: GB00 1234 5678")).to_be_visible()
    expect(page.get_by_text("Royal Mail, tracking number RM123456789GB", exact=True)).to_be_visible()
    page.get_by_role("button", name="It has arrived").click()
    expect(page.get_by_text("You can ask to return it until")).to_be_visible()

    # The buyer changes their mind about the record before it ships.
    page.goto(f"/orders/{ids['oscars-records']}/")
    page.get_by_label("Why (optional)").fill("I found my own copy.")
    page.get_by_role("button", name="Cancel the order").click()
    expect(page.get_by_text(f"Order #{ids['oscars-records']} is cancelled.")).to_be_visible()

    # The print arrives damaged and goes back, with a full refund.
    tess.goto(f"/shops/tess-prints/dashboard/orders/{ids['tess-prints']}/")
    expect(tess.get_by_text("It is a present.").first).to_be_visible()
    tess.get_by_role("button", name="Accept the order").click()
    tess.get_by_role("button", name="Mark as paid").click()
    tess.get_by_label("Carrier").fill("DPD")
    tess.get_by_label("Tracking number").fill("DPD-77")
    tess.get_by_role("button", name="Mark as shipped").click()
    tess.get_by_role("button", name="Mark as delivered").click()

    page.goto(f"/orders/{ids['tess-prints']}/")
    page.get_by_label("It arrived damaged").check()
    page.get_by_label("What happened").fill("The glass is cracked.")
    page.get_by_role("button", name="Ask to return it").click()
    expect(page.get_by_text("Your return request has been sent to Tess's Prints.")).to_be_visible()

    tess.reload()
    tess.get_by_label("Accept the return").check()
    tess.get_by_role("button", name="Send your decision").click()
    expect(tess.get_by_text("Your decision has been sent to the buyer.")).to_be_visible()
    page.reload()
    expect(page.get_by_text("Tess's Prints accepted the return. Tess's Prints refunds 48.00 GBP")).to_be_visible()

    # Beat runs the timers after Olive's return window: that order completes.
    def run_timers_after_the_return_window():
        order = Order.objects.get(pk=ids["olives-books"])
        with time_machine.travel(order.delivered_at + datetime.timedelta(days=15), tick=False):
            return run_order_timers()

    assert from_database(run_timers_after_the_return_window)["fired"] == 1
    page.goto(f"/orders/{ids['olives-books']}/")
    expect(page.get_by_text("The order is complete: its return window has closed.")).to_be_visible()

    page.get_by_role("navigation", name="Account").get_by_role("link", name="Your orders").click()
    states = from_database(lambda: dict(Order.objects.values_list("shop__slug", "state")))
    assert states == {"olives-books": "completed", "oscars-records": "cancelled", "tess-prints": "returned"}
    rows = page.get_by_role("row")
    expect(rows.filter(has_text="Olive's Books").get_by_text("Completed")).to_be_visible()
    expect(rows.filter(has_text="Oscar's Records").get_by_text("Cancelled")).to_be_visible()
    expect(rows.filter(has_text="Tess's Prints").get_by_text("Returned")).to_be_visible()
