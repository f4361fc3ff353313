"""The lifecycle's timers, run by calling beat's task with the clock moved (no sleeping)."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from catalog.models import Listing
from notifications.models import Notification
from orders import services
from orders.lifecycle import Actor
from orders.models import Order, OrderDeadline
from orders.selectors import open_deadlines, shop_completion_rate
from orders.tasks import run_order_timers
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
MONDAY = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def at(moment):
    return time_machine.travel(moment, tick=False)


def titles(user):
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("title", flat=True))


@pytest.fixture
def placed(buyer, buyer_address, atlas, settings):
    settings.ORDERS_CANCEL_UNACCEPTED_AFTER = datetime.timedelta(days=2)
    settings.ORDERS_PAYMENT_PERIOD = datetime.timedelta(days=7)
    settings.ORDERS_ASSUME_DELIVERED_AFTER = datetime.timedelta(days=21)
    settings.ORDERS_COMPLETE_AFTER_DELIVERY = datetime.timedelta(days=7)
    settings.ORDERS_RETURN_DECISION_PERIOD = datetime.timedelta(days=7)
    settings.ORDERS_REMINDER_BEFORE = datetime.timedelta(hours=24)
    with at(MONDAY):
        [order] = place(buyer, buyer_address, atlas)
    return order


def test_both_sides_are_told_the_deadlines_in_advance(placed):
    order = Order.objects.prefetch_related("deadlines").get(pk=placed.pk)

    assert [d.text for d in open_deadlines(order=order, side=Actor.BUYER)] == [
        "Olive's Books accepts or declines by Wed 4 Mar 2026, 10:00 UTC. If it has not by then, you can cancel "
        "and it counts against the shop.",
        "If Olive's Books has not accepted it, the order is cancelled automatically on Fri 6 Mar 2026, 10:00 UTC.",
    ]
    assert open_deadlines(order=order, side=Actor.SHOP)[0].text == (
        "Accept or decline by Wed 4 Mar 2026, 10:00 UTC (your processing time). After that the buyer may cancel, "
        "and it counts against your completion rate."
    )


def test_the_acceptance_deadline_counts_working_days(buyer, buyer_address, shop, atlas):
    friday = datetime.datetime(2026, 3, 6, 16, 30, tzinfo=UTC)
    with at(friday):
        [order] = place(buyer, buyer_address, atlas)

    due = OrderDeadline.objects.get(order=order, timer="accept").due_at
    assert due == datetime.datetime(2026, 3, 10, 16, 30, tzinfo=UTC)  # Tuesday: the weekend does not count


def test_the_shop_is_reminded_once_before_its_acceptance_deadline(placed, shop_owner, shop_staff, buyer):
    with at(MONDAY + datetime.timedelta(hours=23)):
        assert run_order_timers() == {"fired": 0, "reminded": 0}
    with at(MONDAY + datetime.timedelta(hours=24, minutes=5)):
        assert run_order_timers() == {"fired": 0, "reminded": 1}
        assert run_order_timers() == {"fired": 0, "reminded": 0}

    reminder = f"Reminder for order #{placed.pk}: accept or decline it by Wed 4 Mar 10:00 UTC"
    assert titles(shop_owner)[-1] == reminder
    assert titles(shop_staff)[-1] == reminder
    assert reminder not in titles(buyer)
    assert placed.events.last().message == ("Reminder sent to the shop: accept or decline it by Wed 4 Mar 10:00 UTC.")


def test_past_the_acceptance_deadline_the_buyer_may_cancel_and_it_counts_against_the_shop(placed, buyer, shop):
    with at(MONDAY + datetime.timedelta(days=2, minutes=1)):
        assert run_order_timers()["fired"] == 1
        order = services.order_cancel(order=placed, actor=buyer, by=Actor.BUYER)

    assert titles(buyer)[0] == f"Order #{placed.pk}: not accepted in time: you can cancel it now"
    assert (order.state, order.cancelled_against_shop) == ("cancelled", True)
    assert order.events.last().message == ("Bea Buyer cancelled the order: Olive's Books had not accepted it in time.")
    assert shop_completion_rate(shop=shop, now=MONDAY).cancelled_by_shop == 1


def test_an_order_not_accepted_is_cancelled_automatically_and_its_stock_returns(placed, buyer, shop_owner, atlas):
    with at(MONDAY + datetime.timedelta(days=4, minutes=1)):
        assert run_order_timers() == {"fired": 2, "reminded": 0}
        assert run_order_timers() == {"fired": 0, "reminded": 0}

    order = Order.objects.get(pk=placed.pk)
    assert (order.state, order.cancelled_by, order.cancelled_against_shop) == ("cancelled", "system", True)
    assert Listing.objects.get(pk=atlas.pk).quantity == 2
    assert titles(buyer)[-1] == f"Order #{order.pk}: cancelled: not accepted in time"
    assert titles(shop_owner)[-1] == f"Order #{order.pk}: cancelled: not accepted in time"


def test_an_accepted_order_not_paid_in_time_expires_without_counting_against_the_shop(placed, buyer, shop_owner):
    with at(MONDAY + datetime.timedelta(hours=1)):
        services.order_accept(order=placed, actor=shop_owner)
    with at(MONDAY + datetime.timedelta(days=6, hours=2)):
        assert run_order_timers() == {"fired": 0, "reminded": 1}
    assert titles(buyer)[-1] == f"Reminder for order #{placed.pk}: pay by Mon 9 Mar 11:00 UTC or the order is cancelled"
    with at(MONDAY + datetime.timedelta(days=7, hours=1, minutes=1)):
        assert run_order_timers()["fired"] == 1

    order = Order.objects.get(pk=placed.pk)
    assert (order.state, order.cancelled_by, order.cancelled_against_shop) == ("cancelled", "system", False)
    assert order.events.last().message == "The order was cancelled: it was not paid in time."


def _shipped(order, person, moment):
    with at(moment):
        order = services.order_accept(order=order, actor=person)
        order = services.order_mark_paid(order=order, actor=person)
        return services.order_ship(order=order, actor=person, carrier="DHL", tracking_number="JD0001")


def test_a_shipped_order_counts_as_delivered_then_completes_when_the_return_window_closes(
    placed, buyer, shop_owner, shop
):
    _shipped(placed, shop_owner, MONDAY + datetime.timedelta(hours=1))
    shipped_at = MONDAY + datetime.timedelta(hours=1)

    with at(shipped_at + datetime.timedelta(days=21, minutes=1)):
        assert run_order_timers()["fired"] == 1
    order = Order.objects.get(pk=placed.pk)
    assert order.state == "delivered"
    delivered_at = order.delivered_at

    # The shop's 14-day return window is longer than the 7 configured days: it decides.
    complete = OrderDeadline.objects.get(order=order, timer="complete", resolved_at__isnull=True)
    assert complete.due_at == delivered_at + datetime.timedelta(days=14)
    with at(delivered_at + datetime.timedelta(days=13, hours=1)):
        assert run_order_timers() == {"fired": 0, "reminded": 1}
    with at(delivered_at + datetime.timedelta(days=14, minutes=1)):
        assert run_order_timers()["fired"] == 1

    order = Order.objects.get(pk=placed.pk)
    assert (order.state, order.completed_at) == ("completed", delivered_at + datetime.timedelta(days=14, minutes=1))
    assert order.events.last().message == "The order is complete: its return window has closed."
    assert titles(buyer)[-1] == f"Order #{order.pk}: completed"
    assert shop_completion_rate(shop=shop, now=order.completed_at).percent == 100


def test_a_return_the_shop_does_not_decide_on_is_accepted(placed, buyer, shop_owner):
    _shipped(placed, shop_owner, MONDAY)
    with at(MONDAY + datetime.timedelta(days=2)):
        order = services.order_mark_delivered(order=placed, actor=buyer, by=Actor.BUYER)
        order = services.order_request_return(order=order, actor=buyer, reason="damaged")

    with at(MONDAY + datetime.timedelta(days=9, minutes=1)):
        assert run_order_timers()["fired"] == 1

    order = Order.objects.get(pk=placed.pk)
    assert (order.state, order.return_request.decision, order.return_request.refund_amount) == (
        "returned",
        "accepted",
        Decimal("23.00"),
    )
    assert order.events.last().message == (
        "The return was accepted: Olive's Books did not decide in time. Olive's Books refunds 23.00 GBP "
        "directly, by bank transfer."
    )


def test_a_timer_resolved_by_a_transition_does_not_fire(placed, shop_owner):
    with at(MONDAY + datetime.timedelta(hours=1)):
        services.order_accept(order=placed, actor=shop_owner)
    with at(MONDAY + datetime.timedelta(days=5)):
        result = run_order_timers()

    assert result == {"fired": 0, "reminded": 0}
    assert Order.objects.get(pk=placed.pk).state == "accepted"
