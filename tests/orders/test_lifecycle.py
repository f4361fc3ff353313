"""Each transition of the order lifecycle: who may take it, from which state, what it records."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from catalog.models import Listing
from notifications.models import Notification
from orders import services
from orders.lifecycle import TIMERS, TRANSITIONS, Actor, State, transitions_for
from orders.models import OrderDeadline, ReturnRequest
from orders.selectors import available_actions, shop_completion_rate
from tests.orders.conftest import place, snapshot

pytestmark = pytest.mark.django_db


def _ship(order, person):
    order = services.order_accept(order=order, actor=person, message="Our bank: GB00 1234")
    order = services.order_mark_paid(order=order, actor=person)
    return services.order_ship(order=order, actor=person, carrier="Royal Mail", tracking_number="RM123GB")


def _titles(user):
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("title", flat=True))


def test_the_tables_are_consistent():
    for timer in TIMERS:
        assert timer.fires is None or Actor.SYSTEM in TRANSITIONS[timer.fires].actors
        assert timer.fires is None or timer.state in TRANSITIONS[timer.fires].sources
    assert [t.name for t in transitions_for(state=State.NEW, actor=Actor.SHOP)] == ["accept", "cancel"]
    assert [t.name for t in transitions_for(state=State.SHIPPED, actor=Actor.BUYER)] == ["mark_delivered"]


def test_the_happy_path_from_new_to_delivered_with_a_timeline_both_sides_see(order, buyer, shop_owner, shop_staff):
    order = services.order_accept(order=order, actor=shop_staff, message="Our bank: GB00 1234")
    assert (order.state, order.accepted_at is not None) == ("accepted", True)
    order = services.order_mark_paid(order=order, actor=shop_owner)
    order = services.order_ship(order=order, actor=shop_owner, carrier="Royal Mail", tracking_number="RM123GB")
    order = services.order_mark_delivered(order=order, actor=buyer, by=Actor.BUYER)

    assert order.state == "delivered"
    assert [(e.transition, e.actor_role, e.message, e.note) for e in order.events.all()] == [
        ("placed", "buyer", "Bea Buyer placed the order.", ""),
        ("accept", "shop", "Olive's Books accepted the order.", "Our bank: GB00 1234"),
        ("mark_paid", "shop", "Olive's Books confirmed the payment.", ""),
        ("ship", "shop", "Olive's Books shipped the order with Royal Mail, tracking number RM123GB.", ""),
        ("mark_delivered", "buyer", "Bea Buyer confirmed the delivery.", ""),
    ]
    assert _titles(buyer) == [
        f"Order #{order.pk}: accepted by Olive's Books",
        f"Order #{order.pk}: payment received",
        f"Order #{order.pk}: shipped with Royal Mail (RM123GB)",
    ]
    assert _titles(shop_owner)[-1] == f"Order #{order.pk}: delivered"
    assert _titles(shop_staff)[-1] == f"Order #{order.pk}: delivered"
    # Only the delivered state's timer still runs.
    assert list(
        OrderDeadline.objects.filter(order=order, resolved_at__isnull=True).values_list("timer", flat=True)
    ) == ["complete"]


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("mark_paid", lambda order, person: services.order_mark_paid(order=order, actor=person)),
        (
            "ship",
            lambda order, person: services.order_ship(order=order, actor=person, carrier="DHL", tracking_number="1"),
        ),
        (
            "decline_return",
            lambda order, person: services.order_decide_return(order=order, actor=person, accept=False, reason="No"),
        ),
    ],
)
def test_a_transition_from_the_wrong_state_is_refused_and_changes_nothing(order, shop_owner, name, call):
    before = snapshot(order)

    with pytest.raises(ValidationError) as refused:
        call(order, shop_owner)

    assert refused.value.message_dict["state"][0].startswith("This order is new: it cannot be")
    assert snapshot(order) == before


@pytest.mark.parametrize("role", ["buyer", "other_buyer", "other_shop_owner"])
def test_only_the_shops_people_take_the_shops_transitions(order, people, role):
    before = snapshot(order)

    with pytest.raises(PermissionDenied):
        services.order_accept(order=order, actor=people(role))

    assert snapshot(order) == before


@pytest.mark.parametrize("role", ["other_buyer", "shop_owner", "shop_staff"])
def test_only_the_buyer_cancels_as_the_buyer(order, people, role):
    before = snapshot(order)

    with pytest.raises(PermissionDenied):
        services.order_cancel(order=order, actor=people(role), by=Actor.BUYER)

    assert snapshot(order) == before


def test_the_buyer_cancels_before_shipping_and_the_copies_go_back_on_sale(order, buyer, shop_owner, atlas):
    order = services.order_accept(order=order, actor=shop_owner)
    assert Listing.objects.get(pk=atlas.pk).quantity == 1

    order = services.order_cancel(order=order, actor=buyer, by=Actor.BUYER, reason="Found it locally")

    assert (order.state, order.cancelled_by, order.cancel_reason, order.cancelled_against_shop) == (
        "cancelled",
        "buyer",
        "Found it locally",
        False,
    )
    assert Listing.objects.get(pk=atlas.pk).quantity == 2
    assert _titles(shop_owner)[-1] == f"Order #{order.pk}: cancelled by Bea Buyer"
    assert not OrderDeadline.objects.filter(order=order, resolved_at__isnull=True, fired_at__isnull=True).exists()


def test_a_sold_out_listing_comes_back_on_sale_when_its_order_is_cancelled(buyer, buyer_address, lp, other_shop_owner):
    [order] = place(buyer, buyer_address, lp)
    assert Listing.objects.get(pk=lp.pk).status == "sold_out"

    services.order_cancel(order=order, actor=other_shop_owner, by=Actor.SHOP, reason="It is warped, sorry.")

    listing = Listing.objects.get(pk=lp.pk)
    assert (listing.quantity, listing.status) == (1, "active")


def test_a_paused_listing_stays_paused_when_stock_comes_back(order, buyer, atlas):
    Listing.objects.filter(pk=atlas.pk).update(status="paused")

    services.order_cancel(order=order, actor=buyer, by=Actor.BUYER)

    assert Listing.objects.filter(pk=atlas.pk).values_list("quantity", "status").get() == (2, "paused")


def test_nobody_cancels_after_shipping(order, buyer, shop_owner):
    order = _ship(order, shop_owner)
    before = snapshot(order)

    with pytest.raises(ValidationError) as refused:
        services.order_cancel(order=order, actor=buyer, by=Actor.BUYER)

    assert refused.value.message_dict == {"state": ["This order is shipped: it cannot be cancelled now."]}
    assert snapshot(order) == before


def test_the_shop_must_say_why_it_declines(order, shop_owner):
    before = snapshot(order)

    with pytest.raises(ValidationError) as refused:
        services.order_cancel(order=order, actor=shop_owner, by=Actor.SHOP, reason="  ")

    assert refused.value.message_dict == {"reason": ["Tell the buyer why you cancel the order."]}
    assert snapshot(order) == before


def test_cancelling_a_paid_order_records_the_refund(order, buyer, shop_owner):
    order = services.order_accept(order=order, actor=shop_owner)
    order = services.order_mark_paid(order=order, actor=shop_owner)

    order = services.order_cancel(order=order, actor=buyer, by=Actor.BUYER)

    assert order.events.last().message == (
        "Bea Buyer cancelled the order. Olive's Books refunds 23.00 GBP directly, by bank transfer."
    )


def test_shipping_needs_a_carrier_and_a_tracking_number(order, shop_owner):
    order = services.order_mark_paid(order=services.order_accept(order=order, actor=shop_owner), actor=shop_owner)
    before = snapshot(order)

    with pytest.raises(ValidationError) as refused:
        services.order_ship(order=order, actor=shop_owner, carrier="", tracking_number=" ")

    assert refused.value.message_dict == {
        "carrier": ["Enter the carrier, for example Royal Mail or DHL."],
        "tracking_number": ["Enter the tracking number so the buyer can follow the parcel."],
    }
    assert snapshot(order) == before


@pytest.mark.parametrize(
    ("reason", "refund", "rule"),
    [
        ("damaged", Decimal("23.00"), "Full refund, shipping included. The shop pays the postage to send it back."),
        ("not_arrived", Decimal("23.00"), "Full refund, shipping included. Nothing to send back."),
        (
            "changed_mind",
            Decimal("20.00"),
            "Refund of the items' price; the original shipping is not refunded and you pay the postage to send it "
            "back.",
        ),
    ],
)
def test_a_return_reason_fixes_the_refund(order, buyer, shop_owner, reason, refund, rule):
    order = services.order_mark_delivered(order=_ship(order, shop_owner), actor=buyer, by=Actor.BUYER)

    order = services.order_request_return(order=order, actor=buyer, reason=reason, details="The spine is split.")

    request = ReturnRequest.objects.get(order=order)
    assert (order.state, request.reason, request.refund_amount, request.refund_rule) == (
        "return_requested",
        reason,
        refund,
        rule,
    )
    assert _titles(shop_owner)[-1].startswith(f"Order #{order.pk}: return requested")

    order = services.order_decide_return(order=order, actor=shop_owner, accept=True)

    assert order.state == "returned"
    assert order.events.last().message == (
        f"Olive's Books accepted the return. Olive's Books refunds {refund} GBP directly, by bank transfer."
    )
    assert _titles(buyer)[-1] == f"Order #{order.pk}: return accepted"


def test_a_declined_return_completes_the_order_with_the_shops_reason(order, buyer, shop_owner):
    order = services.order_mark_delivered(order=_ship(order, shop_owner), actor=shop_owner, by=Actor.SHOP)
    order = services.order_request_return(order=order, actor=buyer, reason="changed_mind")

    with pytest.raises(ValidationError):
        services.order_decide_return(order=order, actor=shop_owner, accept=False, reason="")
    order = services.order_decide_return(order=order, actor=shop_owner, accept=False, reason="Returned unsealed.")

    assert (order.state, order.return_request.decision, order.return_request.decision_reason) == (
        "completed",
        "declined",
        "Returned unsealed.",
    )
    assert order.completed_at is not None


def test_returns_are_refused_outside_the_window_and_for_unknown_reasons(order, buyer, shop_owner):
    order = services.order_mark_delivered(order=_ship(order, shop_owner), actor=buyer, by=Actor.BUYER)
    with pytest.raises(ValidationError) as unknown:
        services.order_request_return(order=order, actor=buyer, reason="bored")
    assert unknown.value.message_dict == {"reason": ["Choose why you want to return it."]}

    with time_machine.travel(order.delivered_at + timedelta(days=15), tick=False):
        assert "request_return" not in available_actions(order=order, side=Actor.BUYER)
        before = snapshot(order)
        with pytest.raises(ValidationError) as late:
            services.order_request_return(order=order, actor=buyer, reason="damaged")
    assert late.value.message_dict["reason"][0].startswith("The return window closed on ")
    assert snapshot(order) == before


def test_a_shop_without_returns_refuses_them(buyer, buyer_address, shop, shop_owner, atlas):
    services.shop_terms_update(shop=shop, actor=shop_owner, return_window_days=0)
    [order] = place(buyer, buyer_address, atlas)
    order = services.order_mark_delivered(order=_ship(order, shop_owner), actor=buyer, by=Actor.BUYER)

    with pytest.raises(ValidationError) as refused:
        services.order_request_return(order=order, actor=buyer, reason="damaged")

    assert refused.value.message_dict == {"reason": ["Olive's Books does not take returns."]}


def test_the_shops_people_cannot_mark_a_provider_payment_by_hand(order, shop_owner):
    from orders.models import Order

    Order.objects.filter(pk=order.pk).update(payment_provider="examplecard", payment_method="card")
    order = services.order_accept(order=order, actor=shop_owner)
    before = snapshot(order)

    assert "mark_paid" not in available_actions(order=order, side=Actor.SHOP)
    with pytest.raises(ValidationError):
        services.order_mark_paid(order=order, actor=shop_owner)
    assert snapshot(order) == before


def test_the_completion_rate_counts_fulfilled_orders_against_cancellations_on_the_shops_side(
    buyer, buyer_address, shop, shop_owner
):
    from tests.factories import ListingFactory

    listings = [ListingFactory(shop=shop, quantity=1) for _ in range(5)]
    orders = [place(buyer, buyer_address, listing, key=f"k{index}")[0] for index, listing in enumerate(listings)]
    _ship(orders[0], shop_owner)
    _ship(orders[1], shop_owner)
    _ship(orders[2], shop_owner)
    services.order_cancel(order=orders[3], actor=shop_owner, by=Actor.SHOP, reason="Lost it")
    services.order_cancel(order=orders[4], actor=buyer, by=Actor.BUYER)  # the buyer's choice: not counted

    rate = shop_completion_rate(shop=shop)

    assert (rate.fulfilled, rate.cancelled_by_shop, rate.counted, rate.percent) == (3, 1, 4, 75)
