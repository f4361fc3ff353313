from decimal import Decimal

import pytest
from django.core.management import call_command

from orders.models import Case, Offer, Order, ThankYouNote

pytestmark = pytest.mark.django_db


def _orders():
    return list(Order.objects.order_by("pk").values_list("buyer__username", "shop__slug", "state", "total"))


def test_seed_demo_places_orders_in_every_state_once():
    call_command("seed_demo", seed=7)
    first = _orders()
    call_command("seed_demo", seed=7)

    assert _orders() == first
    assert [state for _, _, state, _ in first] == [
        "new",
        "accepted",
        "paid",
        "shipped",
        "delivered",
        "completed",
        "cancelled",
        "return_requested",
        "problem",
    ]
    assert {shop for _, shop, _, _ in first} <= {"harbour-books", "groove-crates", "paper-heron"}


def _deals():
    return (
        list(Offer.objects.order_by("pk").values_list("kind", "shop__slug", "state", "price", "counter_price")),
        list(
            Offer.objects.filter(conversation__isnull=False).values_list(
                "conversation__subject", "thread_message__for_shop"
            )
        ),
        list(ThankYouNote.objects.order_by("pk").values_list("direction", "show_on_storefront")),
        list(Case.objects.order_by("pk").values_list("reason", "state", "proposals__remedy", "proposals__amount")),
    )


def test_seed_demo_makes_a_few_deals_once():
    call_command("seed_demo", seed=7)
    first = _deals()
    call_command("seed_demo", seed=7)

    assert _deals() == first
    offers, in_conversations, notes, cases = first
    assert in_conversations == [("The Times Atlas of the World, 1967", True)]
    assert offers == [
        ("private", "paper-heron", "open", Decimal("32.00"), None),
        ("buyer", "harbour-books", "countered", Decimal("10.00"), Decimal("11.50")),
        # Made in a demo conversation (messaging.demo).
        ("private", "harbour-lights-books", "open", Decimal("42.00"), None),
    ]
    assert notes == [("from_shop", False), ("from_buyer", True)]
    assert cases == [("damaged", "proposed", "partial_refund", Decimal("4.00"))]
