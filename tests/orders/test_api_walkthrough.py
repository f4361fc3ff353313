"""The whole story through the API: a new buyer buys from three shops in one checkout; one shop
ships and the order completes on its timer, the buyer cancels another, a third is returned as damaged."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from catalog.models import Listing
from orders.models import Order
from orders.tasks import run_order_timers
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_three_shops_one_checkout_through_the_api(
    api, shop, other_shop, third_shop, atlas, lp, print_listing, shop_owner, other_shop_owner, django_assert_num_queries
):
    newcomer = UserFactory(username="nia", display_name="Nia New", country="GB")
    guest = APIClient()
    for listing in (atlas, lp, print_listing):
        assert guest.post("/api/cart/items/", {"listing": listing.pk}, format="json").status_code == 201
    guest.force_login(newcomer)  # signing in keeps the guest's cart
    buyer = guest
    assert buyer.get("/api/cart/").json()["item_count"] == 3

    address = buyer.post(
        "/api/addresses/",
        {"full_name": "Nia New", "line1": "4 Mill Lane", "city": "York", "postal_code": "YO1 7HH", "country": "GB"},
        format="json",
    )
    assert address.status_code == 201
    refused = buyer.post("/api/addresses/", {"full_name": "Nia", "city": "York", "country": "GB"}, format="json")
    assert refused.status_code == 400 and "line1" in refused.json()

    checkout = {
        "idempotency_key": "nia-1",
        "address": address.json()["id"],
        "payment_methods": {"olives-books": "bank_transfer", "tess-prints": "cheque"},
        "notes": {"tess-prints": "It is a present."},
    }
    placed = buyer.post("/api/checkout/", checkout, format="json")
    replayed = buyer.post("/api/checkout/", checkout, format="json")

    assert (placed.status_code, replayed.status_code) == (201, 200)
    assert replayed.json()["id"] == placed.json()["id"]
    orders = {order["shop"]: order for order in placed.json()["orders"]}
    assert {slug: (o["total"], o["currency"], o["state"]) for slug, o in orders.items()} == {
        "olives-books": ("23.00", "GBP", "new"),
        "oscars-records": ("39.00", "EUR", "new"),
        "tess-prints": ("47.00", "GBP", "new"),
    }
    assert orders["tess-prints"]["buyer_note"] == "It is a present."
    assert orders["olives-books"]["available_transitions"] == ["cancel"]
    assert buyer.get("/api/cart/").json()["item_count"] == 0

    olive = api("shop_owner")
    oscar = api("other_shop_owner")
    tess = api(third_shop.owner)
    olive_id, oscar_id, tess_id = (orders[slug]["id"] for slug in ("olives-books", "oscars-records", "tess-prints"))

    def act(client, slug, order_id, **data):
        response = client.post(f"/api/shops/{slug}/orders/{order_id}/transitions/", data, format="json")
        assert response.status_code == 200, response.json()
        return response.json()

    # Olive's Books: accepted, paid, shipped; the buyer confirms; the order completes on its timer.
    act(olive, "olives-books", olive_id, transition="accept", message="Our bank: GB00 1234")
    wrong = olive.post(f"/api/shops/olives-books/orders/{olive_id}/transitions/", {"transition": "ship"}, format="json")
    assert wrong.status_code == 400
    act(olive, "olives-books", olive_id, transition="mark_paid")
    shipped = act(olive, "olives-books", olive_id, transition="ship", carrier="Royal Mail", tracking_number="RM9")
    assert (shipped["state"], shipped["tracking_number"], shipped["commission"], shipped["net"]) == (
        "shipped",
        "RM9",
        "1.15",
        "21.85",
    )
    delivered = buyer.post(f"/api/orders/{olive_id}/transitions/", {"transition": "mark_delivered"}, format="json")
    assert delivered.json()["state"] == "delivered"

    # Oscar's Records: the buyer changes their mind before it ships; the LP is back on sale.
    act(oscar, "oscars-records", oscar_id, transition="accept")
    cancelled = buyer.post(
        f"/api/orders/{oscar_id}/transitions/", {"transition": "cancel", "reason": "Found my own copy"}, format="json"
    )
    assert (cancelled.json()["state"], cancelled.json()["cancelled_by"]) == ("cancelled", "buyer")
    assert Listing.objects.filter(pk=lp.pk).values_list("quantity", "status").get() == (1, "active")

    # Tess's Prints: delivered damaged, returned with a full refund.
    act(tess, "tess-prints", tess_id, transition="accept")
    act(tess, "tess-prints", tess_id, transition="mark_paid")
    act(tess, "tess-prints", tess_id, transition="ship", carrier="DPD", tracking_number="DPD77")
    act(tess, "tess-prints", tess_id, transition="mark_delivered")
    asked = buyer.post(
        f"/api/orders/{tess_id}/transitions/",
        {"transition": "request_return", "reason": "damaged", "details": "The glass is cracked."},
        format="json",
    )
    assert asked.json()["return_request"]["refund_amount"] == "47.00"
    returned = act(tess, "tess-prints", tess_id, transition="accept_return")
    assert returned["state"] == "returned"
    assert (
        returned["timeline"][-1]["message"] == "Tess's Prints accepted the return. "
        "Tess's Prints refunds 47.00 GBP directly, by cheque or bank transfer, as you agree."
    )

    # Olive's order completes on its timer once its return window has closed.
    due = Order.objects.get(pk=olive_id).deadlines.get(timer="complete").due_at
    with time_machine.travel(due + datetime.timedelta(minutes=1), tick=False):
        run_order_timers()
    assert buyer.get(f"/api/orders/{olive_id}/").json()["state"] == "completed"

    listed = buyer.get("/api/orders/").json()["results"]
    assert sorted((order["shop"], order["state"]) for order in listed) == [
        ("olives-books", "completed"),
        ("oscars-records", "cancelled"),
        ("tess-prints", "returned"),
    ]
    to_do = olive.get("/api/shops/olives-books/orders/?state=to_do").json()
    assert to_do["count"] == 0
    month = Order.objects.get(pk=olive_id).completed_at.strftime("%Y-%m")
    statement = olive.get(f"/api/shops/olives-books/statements/{month}/").json()
    assert statement["totals"] == [
        {
            "currency": "GBP",
            "orders": 1,
            "items": "20.00",
            "shipping": "3.00",
            "gross": "23.00",
            "commission": "1.15",
            "net": "21.85",
        }
    ]
    rate = APIClient().get("/api/shops/olives-books/completion-rate/").json()
    assert rate == {"fulfilled": 1, "cancelled_by_shop": 0, "counted": 1, "percent": 100}


@pytest.mark.parametrize("count", [1, 5])
def test_order_list_endpoints_query_counts_do_not_grow(
    api, buyer, buyer_address, shop, count, django_assert_num_queries
):
    from tests.factories import ListingFactory
    from tests.orders.conftest import place

    for index in range(count):
        place(buyer, buyer_address, ListingFactory(shop=shop, price=Decimal("5.00")), key=f"k{index}")

    with django_assert_num_queries(3):  # count, page, items
        mine = api("buyer").get("/api/orders/")
    with django_assert_num_queries(4):  # shop, count, page, items
        theirs = api("shop_owner").get("/api/shops/olives-books/orders/")

    assert len(mine.json()["results"]) == len(theirs.json()["results"]) == count
