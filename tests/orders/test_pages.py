"""The orders pages as a person uses them: listing page, checkout, order pages, the shop's orders
section, packing slips, order terms, statements and the storefront's completion rate."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine

from catalog.models import Listing
from orders import services
from orders.lifecycle import Actor
from orders.models import Address, Checkout, Order
from tests.factories import ListingFactory
from tests.orders.conftest import addresses_snapshot, fill_cart, place, snapshot

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- The listing page and the header -----------------------------------------------------------


def test_the_listing_page_offers_add_to_cart_only_when_it_can_be_bought(as_user, atlas, shop, buyer):
    client = as_user("buyer")
    assert 'action="/cart/add/"' in client.get(f"/listings/{atlas.pk}/").content.decode()

    not_shipping = client.get(f"/listings/{atlas.pk}/?country=JP").content.decode()
    assert 'action="/cart/add/"' not in not_shipping
    assert "does not ship to Japan, so it cannot be bought for there." in not_shipping

    shop.is_on_vacation = True
    shop.save()
    assert 'action="/cart/add/"' not in client.get(f"/listings/{atlas.pk}/").content.decode()

    shop.is_on_vacation = False
    shop.save()
    Listing.objects.filter(pk=atlas.pk).update(quantity=0, status="sold_out")
    assert 'action="/cart/add/"' not in client.get(f"/listings/{atlas.pk}/").content.decode()

    Listing.objects.filter(pk=atlas.pk).update(quantity=2, status="active")
    assert 'action="/cart/add/"' not in as_user("shop_staff").get(f"/listings/{atlas.pk}/").content.decode()


def test_adding_from_the_listing_page_puts_it_in_the_cart_and_the_header_counts_it(as_user, atlas):
    client = as_user("buyer")

    response = client.post("/cart/add/", {"listing": atlas.pk, "quantity": 2}, follow=True)

    page = _text(response)
    assert "“An Atlas of Rivers” is in your cart." in page
    assert '<a href="/cart/">Cart <span class="badge count">2<span class="visually-hidden"> items</span>' in page
    assert '<a href="/orders/">Your orders</a>' in page


def test_a_refused_add_says_why_and_adds_nothing(as_user, atlas, buyer):
    client = as_user("buyer")

    response = client.post(
        "/cart/add/", {"listing": atlas.pk, "quantity": 3, "next": f"/listings/{atlas.pk}/"}, follow=True
    )

    assert "Only 2 of “An Atlas of Rivers” can be ordered." in response.content.decode()
    assert not hasattr(buyer, "cart") or not buyer.cart.items.exists()


# --- Checkout ----------------------------------------------------------------------------------


def test_a_new_buyer_adds_an_address_from_checkout_and_places_the_orders(as_user, buyer, atlas, lp):
    fill_cart(buyer, atlas, lp)
    client = as_user("buyer")

    first = client.get("/checkout/")
    assert "Add an address to your address book to check out." in first.content.decode()

    refused = client.post(
        "/accounts/addresses/",
        {"full_name": "Bea Buyer", "line1": "", "city": "Bristol", "country": "GB", "next": "/checkout/"},
    )
    assert refused.status_code == 400
    assert "This field is required." in refused.content.decode()
    assert 'value="Bea Buyer"' in refused.content.decode()  # what was typed is kept
    assert not Address.objects.exists()

    saved = client.post(
        "/accounts/addresses/",
        {
            "full_name": "Bea Buyer",
            "line1": "1 Harbour Row",
            "city": "Bristol",
            "postal_code": "BS1 4RN",
            "country": "GB",
            "next": "/checkout/",
        },
    )
    address = Address.objects.get()
    assert saved["Location"] == f"/checkout/?address={address.pk}"

    review = _text(client.get(saved["Location"]))
    assert "Order from Olive&#x27;s Books" in review and "Order from Oscar&#x27;s Records" in review
    assert "Total 23.00 GBP" in review and "Total 39.00 EUR" in review
    assert "Place 2 orders" in review
    key = re.search(r'name="idempotency_key" value="(\w+)"', review).group(1)

    form = {"idempotency_key": key, "address": address.pk, "payment_" + str(atlas.shop_id): "cash_on_pickup"}
    placed = client.post("/checkout/", form)
    again = client.post("/checkout/", form)  # a double submission

    checkout = Checkout.objects.get()
    assert placed["Location"] == again["Location"] == f"/checkout/{checkout.pk}/"
    assert Order.objects.count() == 2
    confirmation = _text(client.get(placed["Location"]))
    assert "Thank you: 2 orders placed" in confirmation
    assert "Pay Olive&#x27;s Books in cash when you pick the order up" in confirmation
    assert "Olive&#x27;s Books accepts or declines by" in confirmation
    olive = Order.objects.get(shop=atlas.shop)
    assert olive.payment_method == "cash_on_pickup"

    history = _text(client.get("/orders/"))
    assert f"Order #{olive.pk}" in history and "An Atlas of Rivers" in history


def test_a_refused_checkout_shows_why_and_keeps_the_notes(as_user, buyer, buyer_address, atlas):
    fill_cart(buyer, atlas)
    Listing.objects.filter(pk=atlas.pk).update(status="paused")
    client = as_user("buyer")

    response = client.post(
        "/checkout/",
        {"idempotency_key": "abc", "address": buyer_address.pk, f"note_{atlas.shop_id}": "Gift wrap, please"},
    )

    page = _text(response)
    assert "“An Atlas of Rivers”: No longer available: remove it to check out." in page
    assert "Gift wrap, please</textarea>" in page
    assert not Order.objects.exists() and not Checkout.objects.exists()


# --- The buyer's order page --------------------------------------------------------------------


def test_the_buyer_cancels_from_the_order_page(as_user, order, atlas):
    client = as_user("buyer")

    page = _text(client.get(f"/orders/{order.pk}/"))
    assert "What happens next" in page and "Cancel the order" in page

    response = client.post(
        f"/orders/{order.pk}/", {"action": "cancel", "cancel-reason": "Bought it elsewhere"}, follow=True
    )

    page = _text(response)
    assert f"Order #{order.pk} is cancelled." in page
    assert "Bea Buyer cancelled the order." in page and "Bought it elsewhere" in page
    assert Listing.objects.get(pk=atlas.pk).quantity == 2


def test_a_refused_return_request_keeps_what_was_typed(as_user, order, buyer, shop_owner):
    order = services.order_accept(order=order, actor=shop_owner)
    order = services.order_mark_paid(order=order, actor=shop_owner)
    order = services.order_ship(order=order, actor=shop_owner, carrier="DHL", tracking_number="1")
    order = services.order_mark_delivered(order=order, actor=buyer, by=Actor.BUYER)
    client = as_user("buyer")
    before = snapshot(order)

    response = client.post(f"/orders/{order.pk}/", {"action": "request_return", "return-details": "Torn cover"})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert "Torn cover</textarea>" in response.content.decode()
    assert snapshot(order) == before


# --- The shop's side ---------------------------------------------------------------------------


def test_the_shop_works_an_order_through_its_dashboard(as_user, order, buyer):
    client = as_user("shop_staff")
    url = f"/shops/olives-books/dashboard/orders/{order.pk}/"

    listing = _text(client.get("/shops/olives-books/dashboard/orders/"))
    assert f"Order #{order.pk}" in listing and "Accept or decline" in listing

    client.post(url, {"action": "accept", "accept-message": "IBAN GB00 1234"})
    client.post(url, {"action": "mark_paid"})
    refused = client.post(url, {"action": "ship", "ship-carrier": "Royal Mail", "ship-tracking_number": ""})
    assert refused.status_code == 400
    assert 'value="Royal Mail"' in refused.content.decode()
    client.post(url, {"action": "ship", "ship-carrier": "Royal Mail", "ship-tracking_number": "RM1"})

    page = _text(client.get(url))
    assert "Shipped with</dt><dd>Royal Mail, tracking number <strong>RM1</strong>" in page
    assert "IBAN GB00 1234" in page
    assert Order.objects.get(pk=order.pk).state == "shipped"
    buyer_page = _text(as_user("buyer").get(f"/orders/{order.pk}/"))
    assert "Olive&#x27;s Books shipped the order with Royal Mail, tracking number RM1." in buyer_page
    assert "It has arrived" in buyer_page


def test_the_shop_must_give_a_reason_to_decline(as_user, order):
    client = as_user("shop_owner")
    before = snapshot(order)

    response = client.post(f"/shops/olives-books/dashboard/orders/{order.pk}/", {"action": "cancel"})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert snapshot(order) == before


def test_the_packing_slip_lists_the_parcel_without_prices(as_user, order):
    page = _text(as_user("shop_owner").get(f"/shops/olives-books/dashboard/orders/{order.pk}/packing-slip/"))

    assert "Olive&#x27;s Books: packing slip" in page
    assert "1 Harbour Row<br>BS1 4RN Bristol<br>United Kingdom" in page
    assert "<td>1</td><td>An Atlas of Rivers, Ada Moss</td><td>Good</td><td>ATL-1</td>" in page
    assert "20.00" not in page


@pytest.mark.parametrize("count", [1, 5])
def test_the_shop_orders_list_query_count_does_not_grow(
    as_user, buyer, buyer_address, shop, count, django_assert_num_queries
):
    for index in range(count):
        place(buyer, buyer_address, ListingFactory(shop=shop), key=f"k{index}")
    client = as_user("shop_owner")

    # session, user, shop, page count, page, items, state counts, notifications, messages
    with django_assert_num_queries(9):
        response = client.get("/shops/olives-books/dashboard/orders/?state=all")

    assert response.status_code == 200
    assert _text(response).count('class="order-state state-new"') == count


@pytest.mark.parametrize("count", [1, 5])
def test_the_buyers_orders_list_query_count_does_not_grow(
    as_user, buyer, buyer_address, shop, count, django_assert_num_queries
):
    for index in range(count):
        place(buyer, buyer_address, ListingFactory(shop=shop), key=f"k{index}")
    client = as_user("buyer")

    with django_assert_num_queries(7):  # session, user, page count, page, items, notifications, messages
        response = client.get("/orders/")

    assert _text(response).count("Order #") == count


def test_the_shop_sets_its_return_window(as_user, shop, buyer, buyer_address, atlas):
    client = as_user("shop_owner")

    refused = client.post("/shops/olives-books/dashboard/order-terms/", {"return_window_days": 120})
    client.post("/shops/olives-books/dashboard/order-terms/", {"return_window_days": 30})
    [order] = place(buyer, buyer_address, atlas)

    assert refused.status_code == 200 and "Ensure this value is less than or equal to 90." in refused.content.decode()
    assert order.return_window_days == 30
    storefront = _text(client.get("/shops/olives-books/"))
    assert "You can ask to return an order within 30 days of delivery." in storefront


def test_monthly_statement_page_and_csv(as_user, buyer, buyer_address, shop, shop_owner, atlas, settings):
    settings.ORDERS_COMMISSION_RATE = Decimal("0.10")
    with time_machine.travel(datetime.datetime(2026, 4, 1, 9, 0, tzinfo=datetime.UTC), tick=False):
        [order] = place(buyer, buyer_address, atlas)
        order = services.order_accept(order=order, actor=shop_owner)
        order = services.order_mark_paid(order=order, actor=shop_owner)
        order = services.order_ship(order=order, actor=shop_owner, carrier="DHL", tracking_number="1")
        order = services.order_mark_delivered(order=order, actor=buyer, by=Actor.BUYER)
    with time_machine.travel(datetime.datetime(2026, 4, 20, 9, 0, tzinfo=datetime.UTC), tick=False):
        services.order_timers_run()
    client = as_user("shop_owner")

    months = _text(client.get("/shops/olives-books/dashboard/statements/"))
    page = _text(client.get("/shops/olives-books/dashboard/statements/2026-04/"))
    csv = client.get("/shops/olives-books/dashboard/statements/2026-04/csv/")
    empty = _text(client.get("/shops/olives-books/dashboard/statements/2026-03/"))

    assert 'href="/shops/olives-books/dashboard/statements/2026-04/">April 2026</a>' in months
    assert '<td class="number">23.00 GBP</td><td class="number">2.30 GBP</td><td class="number">20.70 GBP</td>' in page
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv.content.decode().splitlines() == [
        "order,placed,completed,buyer,currency,items,shipping,total,commission rate,commission,net",
        f"#{order.pk},2026-04-01,2026-04-20,bea,GBP,20.00,3.00,23.00,0.1000,2.30,20.70",
    ]
    assert "No orders completed in March 2026." in empty
    assert client.get("/shops/olives-books/dashboard/statements/2026-13/").status_code == 404


def test_the_storefront_shows_the_completion_rate(client, buyer, buyer_address, shop, shop_owner):
    assert "No completed orders in the last six months yet" in _text(client.get("/shops/olives-books/"))
    first, second = ListingFactory(shop=shop), ListingFactory(shop=shop)
    [kept] = place(buyer, buyer_address, first, key="a")
    [dropped] = place(buyer, buyer_address, second, key="b")
    services.order_ship(
        order=services.order_mark_paid(order=services.order_accept(order=kept, actor=shop_owner), actor=shop_owner),
        actor=shop_owner,
        carrier="DHL",
        tracking_number="1",
    )
    services.order_cancel(order=dropped, actor=shop_owner, by=Actor.SHOP, reason="Damaged in the shop")

    page = _text(client.get("/shops/olives-books/"))

    assert "<strong>50%</strong> of its orders in the last six months fulfilled without cancelling (1 of 2)" in page


def test_address_book_pages(as_user, buyer, buyer_address):
    client = as_user("buyer")
    second = services.address_create(
        user=buyer, full_name="Bea at work", line1="9 Dock Road", city="Leeds", country="GB"
    )

    client.post(f"/accounts/addresses/{second.pk}/default/")
    edited = client.post(
        f"/accounts/addresses/{second.pk}/",
        {"full_name": "Bea at work", "line1": "10 Dock Road", "city": "Leeds", "country": "GB"},
    )
    before = addresses_snapshot(buyer)
    refused = client.post(
        f"/accounts/addresses/{second.pk}/", {"full_name": "", "line1": "x", "city": "y", "country": "ZZ"}
    )

    assert edited.status_code == 302
    assert refused.status_code == 200 and "Select a valid choice." in refused.content.decode()
    assert addresses_snapshot(buyer) == before
    assert list(Address.objects.filter(user=buyer).values_list("line1", "is_default")) == [
        ("10 Dock Road", True),
        ("1 Harbour Row", False),
    ]
    page = _text(client.get("/accounts/addresses/"))
    assert "Your default address" in page


@pytest.mark.parametrize("shops", [1, 3])
def test_the_checkout_page_query_count_does_not_grow_with_shops(
    as_user, buyer, buyer_address, atlas, lp, print_listing, shops, django_assert_num_queries
):
    fill_cart(buyer, *[atlas, lp, print_listing][:shops])
    client = as_user("buyer")
    client.get("/checkout/")

    # session, user, cart, addresses, items with listings, shops and their terms, own shops,
    # notifications, messages
    with django_assert_num_queries(8):
        response = client.get("/checkout/")

    assert response.status_code == 200
    assert _text(response).count("accepts or declines within") == shops
