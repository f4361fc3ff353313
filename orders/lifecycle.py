"""The order lifecycle as data: its states, the transitions between them, who may take each,
and the timers that run in each state.

services.py carries out one transition per function and checks every call against these
tables; the order pages, the API and the timers read them too, so the rules are written here
once. The durations come from settings (ORDERS_*), read when a timer starts.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models


class State(models.TextChoices):
    NEW = "new", "New"
    ACCEPTED = "accepted", "Accepted"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    RETURN_REQUESTED = "return_requested", "Return requested"
    RETURNED = "returned", "Returned"


class Actor(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SHOP = "shop", "Shop"
    SYSTEM = "system", "Plural"
    PROVIDER = "provider", "Payment provider"


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str
    actors: frozenset[str]


def _transition(name: str, label: str, sources, target, actors) -> Transition:
    return Transition(name=name, label=label, sources=frozenset(sources), target=target, actors=frozenset(actors))


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        _transition("accept", "Accept the order", [State.NEW], State.ACCEPTED, [Actor.SHOP]),
        _transition("mark_paid", "Mark as paid", [State.ACCEPTED], State.PAID, [Actor.SHOP, Actor.PROVIDER]),
        _transition("ship", "Mark as shipped", [State.PAID], State.SHIPPED, [Actor.SHOP]),
        _transition("mark_delivered", "Mark as delivered", [State.SHIPPED], State.DELIVERED, [Actor.BUYER, Actor.SHOP]),
        _transition(
            "cancel",
            "Cancel the order",
            [State.NEW, State.ACCEPTED, State.PAID],
            State.CANCELLED,
            [Actor.BUYER, Actor.SHOP],
        ),
        _transition("request_return", "Ask to return it", [State.DELIVERED], State.RETURN_REQUESTED, [Actor.BUYER]),
        _transition("accept_return", "Accept the return", [State.RETURN_REQUESTED], State.RETURNED, [Actor.SHOP]),
        _transition("decline_return", "Decline the return", [State.RETURN_REQUESTED], State.COMPLETED, [Actor.SHOP]),
        # Taken by the timers below, never by a person.
        _transition("cancel_unaccepted", "Cancel: not accepted in time", [State.NEW], State.CANCELLED, [Actor.SYSTEM]),
        _transition("expire_unpaid", "Cancel: not paid in time", [State.ACCEPTED], State.CANCELLED, [Actor.SYSTEM]),
        _transition("assume_delivered", "Count as delivered", [State.SHIPPED], State.DELIVERED, [Actor.SYSTEM]),
        _transition("complete", "Complete the order", [State.DELIVERED], State.COMPLETED, [Actor.SYSTEM]),
        _transition(
            "accept_return_undecided",
            "Accept the return: the shop did not decide in time",
            [State.RETURN_REQUESTED],
            State.RETURNED,
            [Actor.SYSTEM],
        ),
    ]
}

# States in which the buyer can still change their mind without the shop's help.
BEFORE_SHIPPING = frozenset({State.NEW, State.ACCEPTED, State.PAID})
FINAL_STATES = frozenset({State.COMPLETED, State.CANCELLED, State.RETURNED})
# Orders the shop's people have to do something about, with what it is.
SHOP_TO_DO = {
    State.NEW: "Accept or decline",
    State.ACCEPTED: "Mark paid when the payment arrives",
    State.PAID: "Ship",
    State.RETURN_REQUESTED: "Decide on the return",
}


def transitions_for(*, state: str, actor: str) -> list[Transition]:
    """What `actor` may do to an order in `state`, in the order of TRANSITIONS."""
    return [t for t in TRANSITIONS.values() if state in t.sources and actor in t.actors]


def add_working_days(start: datetime, days: int) -> datetime:
    """`start` moved on by `days` working days (Monday to Friday), keeping its time of day."""
    moment = start
    remaining = days
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment


# --- Timers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timer:
    """A deadline that starts when an order enters `state` and ends when it leaves it.

    When it falls due the order takes `fires` (a SYSTEM transition), or, without one, `due_notice`
    is sent to `notify_when_due`. `reminds` is told ORDERS_REMINDER_BEFORE ahead. `buyer_text`
    and `shop_text` state the deadline in advance on each side's order page ({due} is filled in)."""

    name: str
    state: str
    due: Callable[["object", datetime], datetime]
    fires: str | None
    reminds: str
    buyer_text: str
    shop_text: str
    reminder_text: str
    due_notice: str = ""
    notify_when_due: str = ""


def _acceptance_due(order, start: datetime) -> datetime:
    # The shop's processing time, at least one working day, counted from the order.
    return add_working_days(start, max(order.processing_days, 1))


TIMERS: list[Timer] = [
    Timer(
        name="accept",
        state=State.NEW,
        due=_acceptance_due,
        fires=None,
        reminds=Actor.SHOP,
        buyer_text="{shop} accepts or declines by {due}. If it has not by then, you can cancel and it counts "
        "against the shop.",
        shop_text="Accept or decline by {due} (your processing time). After that the buyer may cancel, "
        "and it counts against your completion rate.",
        reminder_text="accept or decline it by {due}",
        due_notice="not accepted in time: you can cancel it now",
        notify_when_due=Actor.BUYER,
    ),
    Timer(
        name="cancel_unaccepted",
        state=State.NEW,
        due=lambda order, start: _acceptance_due(order, start) + settings.ORDERS_CANCEL_UNACCEPTED_AFTER,
        fires="cancel_unaccepted",
        reminds=Actor.SHOP,
        buyer_text="If {shop} has not accepted it, the order is cancelled automatically on {due}.",
        shop_text="If you have not accepted it, the order is cancelled automatically on {due}, and it counts "
        "against your completion rate.",
        reminder_text="it is cancelled automatically on {due} unless you accept it",
    ),
    Timer(
        name="pay",
        state=State.ACCEPTED,
        due=lambda order, start: start + settings.ORDERS_PAYMENT_PERIOD,
        fires="expire_unpaid",
        reminds=Actor.BUYER,
        buyer_text="Pay by {due}: an order not marked paid by then is cancelled.",
        shop_text="If the payment has not arrived by {due}, the order is cancelled (this does not count against you).",
        reminder_text="pay by {due} or the order is cancelled",
    ),
    Timer(
        name="assume_delivered",
        state=State.SHIPPED,
        due=lambda order, start: start + settings.ORDERS_ASSUME_DELIVERED_AFTER,
        fires="assume_delivered",
        reminds=Actor.BUYER,
        buyer_text="Tell us when it arrives. On {due} it counts as delivered; if it has not arrived, ask to "
        "return it as not arrived.",
        shop_text="On {due} the order counts as delivered unless the buyer says otherwise.",
        reminder_text="it counts as delivered on {due}: has it arrived?",
    ),
    Timer(
        name="complete",
        state=State.DELIVERED,
        due=lambda order, start: (
            start + max(settings.ORDERS_COMPLETE_AFTER_DELIVERY, timedelta(days=order.return_window_days))
        ),
        fires="complete",
        reminds=Actor.BUYER,
        buyer_text="You can ask to return it until {due}; then the order completes.",
        shop_text="The buyer can ask to return it until {due}; then the order completes.",
        reminder_text="you can ask to return it until {due}",
    ),
    Timer(
        name="decide_return",
        state=State.RETURN_REQUESTED,
        due=lambda order, start: start + settings.ORDERS_RETURN_DECISION_PERIOD,
        fires="accept_return_undecided",
        reminds=Actor.SHOP,
        buyer_text="{shop} decides by {due}; if it has not, the return is accepted.",
        shop_text="Decide by {due}: a return not decided by then is accepted.",
        reminder_text="decide on the return by {due} or it is accepted",
    ),
]


def timers_for(state: str) -> list[Timer]:
    return [timer for timer in TIMERS if timer.state == state]


TIMERS_BY_NAME = {timer.name: timer for timer in TIMERS}


# --- Returns --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnReason:
    code: str
    label: str
    refunds_shipping: bool
    buyer_pays_return_postage: bool
    needs_sending_back: bool
    rule: str


RETURN_REASONS: dict[str, ReturnReason] = {
    reason.code: reason
    for reason in [
        ReturnReason(
            "not_arrived",
            "It has not arrived",
            refunds_shipping=True,
            buyer_pays_return_postage=False,
            needs_sending_back=False,
            rule="Full refund, shipping included. Nothing to send back.",
        ),
        ReturnReason(
            "damaged",
            "It arrived damaged",
            refunds_shipping=True,
            buyer_pays_return_postage=False,
            needs_sending_back=True,
            rule="Full refund, shipping included. The shop pays the postage to send it back.",
        ),
        ReturnReason(
            "not_as_described",
            "It is not as described",
            refunds_shipping=True,
            buyer_pays_return_postage=False,
            needs_sending_back=True,
            rule="Full refund, shipping included. The shop pays the postage to send it back.",
        ),
        ReturnReason(
            "wrong_item",
            "I received the wrong item",
            refunds_shipping=True,
            buyer_pays_return_postage=False,
            needs_sending_back=True,
            rule="Full refund, shipping included. The shop pays the postage to send it back.",
        ),
        ReturnReason(
            "changed_mind",
            "I changed my mind",
            refunds_shipping=False,
            buyer_pays_return_postage=True,
            needs_sending_back=True,
            rule="Refund of the items' price; the original shipping is not refunded and you pay the postage "
            "to send it back.",
        ),
    ]
}
RETURN_REASON_CHOICES = [(reason.code, reason.label) for reason in RETURN_REASONS.values()]
