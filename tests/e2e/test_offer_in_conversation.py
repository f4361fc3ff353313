"""In the real browser: a buyer asks a shop about a listing, the shop makes a private offer in
the conversation, the buyer sees it in the thread, opens it and accepts it, which places the
order; the shop then sees the conversation counted in what its conversations brought."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.models import Offer, Order
from tests.e2e.conftest import from_database
from tests.e2e.test_conversation import messages_link, signed_in
from tests.factories import ListingFactory, ShopFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_people():
    UserFactory(username="bea", display_name="Bea Buyer", email="bea@example.com")
    olive = UserFactory(username="olive", display_name="Olive Owner", email="olive@example.com")
    shop = ShopFactory(name="Olive's Books", slug="olives-books", owner=olive, payment_methods=["bank_transfer"])
    return ListingFactory(shop=shop, title="An Atlas of Rivers", price=Decimal("20.00"), quantity=2).pk


def test_an_offer_made_in_a_conversation_is_accepted_and_counted(page, live_server, eager_tasks):
    listing_id = from_database(make_people)

    bea = signed_in(page, live_server, "bea")
    bea.goto(f"/listings/{listing_id}/")
    bea.get_by_role("link", name="Ask Olive's Books about this").click()
    bea.get_by_label("Your message").fill("Would you take 15 for the atlas, posted?")
    bea.get_by_role("button", name="Send to Olive's Books").click()
    expect(bea.get_by_text("Your message is on its way to Olive's Books.")).to_be_visible()

    olive = signed_in(page, live_server, "olive")
    messages_link(olive).click()
    olive.get_by_role("link", name="Olive's Books").first.click()
    olive.get_by_role("link", name=re.compile("An Atlas of Rivers")).click()
    olive.get_by_text("Make Bea Buyer a private offer").click()
    # A typing mistake first: refused, with what was typed kept.
    olive.get_by_label("Price").fill("-15")
    olive.get_by_label("Shipping charge").fill("3.50")
    olive.get_by_label("Country to ship to").select_option("GB")
    olive.get_by_role("button", name="Send the private offer").click()
    expect(olive.get_by_text("Enter a price above zero.")).to_be_visible()
    expect(olive.get_by_label("Shipping charge")).to_have_value("3.50")
    olive.get_by_label("Price").fill("15.00")
    olive.get_by_label("A note with the offer (optional)").fill("Deal, posted for 3.50.")
    olive.get_by_role("button", name="Send the private offer").click()
    expect(olive.get_by_text("Your private offer is on its way to Bea Buyer.")).to_be_visible()

    bea.goto("/")
    expect(messages_link(bea)).to_have_text("Messages 1 unread")
    messages_link(bea).click()
    bea.get_by_role("link", name=re.compile("An Atlas of Rivers")).click()
    thread = bea.get_by_role("list", name="Messages")
    offer = thread.get_by_label("Private offer")
    expect(offer.get_by_text("Open", exact=True)).to_be_visible()
    expect(offer.get_by_text("15.00 GBP, shipping to United Kingdom 3.50 GBP")).to_be_visible()
    expect(thread.get_by_text("Deal, posted for 3.50.")).to_be_visible()
    offer.get_by_role("link", name="See the offer and accept it").click()
    bea.get_by_role("link", name="add an address").click()
    bea.get_by_label("Full name").fill("Bea Buyer")
    bea.fill("input[name=line1]", "1 Harbour Row")
    bea.get_by_label("Town or city").fill("Bristol")
    bea.get_by_label("Country").select_option("GB")
    bea.get_by_role("button", name="Save the address").click()
    bea.get_by_role("button", name="Accept and order").click()
    expect(bea.get_by_text("is placed with Olive's Books")).to_be_visible()

    orders = from_database(lambda: list(Order.objects.values_list("total", "buyer__username")))
    assert orders == [(Decimal("18.50"), "bea")]
    assert from_database(lambda: Offer.objects.get().conversation_id) is not None

    messages_link(bea).click()
    bea.get_by_role("link", name=re.compile("An Atlas of Rivers")).click()
    expect(bea.get_by_label("Private offer").get_by_text("Accepted and ordered")).to_be_visible()

    olive.goto("/shops/olives-books/dashboard/")
    olive.get_by_role("navigation", name="Manage Olive's Books").get_by_role("link", name="Conversation value").click()
    total = olive.get_by_role("table").locator("tfoot tr")
    expect(total).to_contain_text("Total")
    expect(total.locator("td").nth(0)).to_have_text("1")
    expect(total.locator("td").nth(1)).to_have_text("1")
    expect(total.locator("td").nth(2)).to_have_text("100%")
    expect(total.locator("td").nth(4)).to_have_text("18.50 GBP")
