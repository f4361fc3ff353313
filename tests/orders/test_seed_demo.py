import pytest
from django.core.management import call_command

from orders.models import Order

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
    ]
    assert {shop for _, shop, _, _ in first} <= {"harbour-books", "groove-crates", "paper-heron"}
