"""Buyers racing on PostgreSQL, each thread with its own database connection."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from accounts.models import User
from catalog.models import Listing
from orders import services
from orders.models import Checkout, Order
from tests.factories import ListingFactory, ShopFactory, UserFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RACERS = 8
SOLD = "Sorry, “The Last Copy” has just been bought by someone else and is no longer available."
GONE = "“The Last Copy”: No longer available: remove it to check out."


def _race(attempt, arguments):
    barrier = threading.Barrier(len(arguments))

    def run(argument):
        try:
            barrier.wait(timeout=10)
            return attempt(argument)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(arguments)) as pool:
        return list(pool.map(run, arguments))


def _buyer_with_cart(index: int, listing) -> tuple[int, int]:
    buyer = UserFactory(username=f"racer{index}", country="GB")
    address = services.address_create(
        user=buyer, full_name=f"Racer {index}", line1="1 Road", city="Leeds", country="GB"
    )
    services.cart_add_item(cart=services.cart_get_or_create(user=buyer, session={}), listing_id=listing.pk)
    return buyer.pk, address.pk


def test_the_last_copy_is_sold_exactly_once_and_the_others_are_told(require_postgresql):
    shop = ShopFactory(payment_methods=["bank_transfer"])
    listing = ListingFactory(shop=shop, title="The Last Copy", quantity=1, price=Decimal("15.00"))
    racers = [_buyer_with_cart(index, listing) for index in range(RACERS)]

    def attempt(racer):
        buyer_id, address_id = racer
        try:
            services.checkout_place(
                buyer=User.objects.get(pk=buyer_id), idempotency_key=f"race-{buyer_id}", address_id=address_id
            )
        except ValidationError as refused:
            return refused.message_dict["cart"][0]
        return "ordered"

    results = _race(attempt, racers)

    assert results.count("ordered") == 1
    losers = [result for result in results if result != "ordered"]
    assert len(losers) == RACERS - 1
    assert all(message.startswith(SOLD) or message == GONE for message in losers), losers
    assert Order.objects.count() == 1
    assert Checkout.objects.count() == 1  # the losers' checkouts were rolled back whole
    assert Listing.objects.filter(pk=listing.pk).values_list("quantity", "status").get() == (0, "sold_out")


def test_a_checkout_submitted_twice_at_once_orders_once(require_postgresql):
    shop = ShopFactory(payment_methods=["bank_transfer"])
    listing = ListingFactory(shop=shop, title="Twice Pressed", quantity=5)
    buyer_id, address_id = _buyer_with_cart(0, listing)

    def attempt(_):
        return services.checkout_place(
            buyer=User.objects.get(pk=buyer_id), idempotency_key="one-press", address_id=address_id
        ).pk

    results = _race(attempt, [1, 2, 3, 4])

    assert len(set(results)) == 1
    assert Order.objects.count() == 1
    assert Listing.objects.get(pk=listing.pk).quantity == 4
