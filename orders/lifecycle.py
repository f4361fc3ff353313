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
    # The buyer reported a problem (a case is open): see CASE_TRANSITIONS below.
    PROBLEM = "problem", "Problem reported"


class Actor(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SHOP = "shop", "Shop"
    SYSTEM = "system", "Plural"
    PROVIDER = "provider", "Payment provider"
    # A person of Plural (is_staff) deciding an escalated case.
    MODERATOR = "moderator", "Plural's moderator"


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str
    actors: frozenset[str]
    # Taken through a problem case (services.case_*, on the case's page and endpoint), not among
    # the order's own actions.
    via_case: bool = False


CASE_DECIDERS = [Actor.MODERATOR, Actor.SYSTEM]
CASE_SETTLERS = [Actor.BUYER, *CASE_DECIDERS]


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
        # A problem case: the buyer opens it from an order that has arrived, or has not arrived in
        # time; it ends with the fix both sides agreed, or the one the moderators decided.
        # The buyer settles by accepting the shop's proposal; a moderator's decision takes effect
        # when its appeal period ends (SYSTEM) or when the appeal is decided (MODERATOR).
        *(
            Transition(
                name=name,
                label=label,
                sources=frozenset(sources),
                target=target,
                actors=frozenset(actors),
                via_case=True,
            )
            for name, label, sources, target, actors in [
                ("open_case", "Report a problem", [State.SHIPPED, State.DELIVERED], State.PROBLEM, [Actor.BUYER]),
                ("case_refund", "Settle with a full refund", [State.PROBLEM], State.RETURNED, CASE_SETTLERS),
                (
                    "case_partial_refund",
                    "Settle with a partial refund",
                    [State.PROBLEM],
                    State.COMPLETED,
                    CASE_SETTLERS,
                ),
                ("case_replacement", "Settle with a replacement", [State.PROBLEM], State.PAID, CASE_SETTLERS),
                ("case_return", "Settle with a return", [State.PROBLEM], State.RETURNED, CASE_SETTLERS),
                ("case_no_remedy", "Close without a remedy", [State.PROBLEM], State.COMPLETED, CASE_DECIDERS),
            ]
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
    State.PROBLEM: "Answer the problem report",
}


def transitions_for(*, state: str, actor: str) -> list[Transition]:
    """What `actor` may do to an order in `state` among its own actions, in the order of
    TRANSITIONS (a problem case's steps are taken on the case)."""
    return [t for t in TRANSITIONS.values() if state in t.sources and actor in t.actors and not t.via_case]


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
    # Resolved early when the shop proposes a fix, or when someone escalates on disagreement.
    Timer(
        name="case_answer",
        state=State.PROBLEM,
        due=lambda order, start: start + settings.ORDERS_CASE_ANSWER_PERIOD,
        fires=None,
        reminds=Actor.SHOP,
        buyer_text="{shop} has until {due} to answer and propose a fix. If you do not agree by then, either "
        "of you can ask Plural's moderators to decide.",
        shop_text="Answer and propose a fix by {due}. After that, if you have not agreed, either of you can ask "
        "Plural's moderators to decide.",
        reminder_text="answer the problem report and propose a fix by {due}",
        due_notice="the shop has not proposed a fix in time: you can ask Plural's moderators to decide",
        notify_when_due=Actor.BUYER,
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


# --- Offers ---------------------------------------------------------------------------------
# Two kinds share one table: a private offer the shop makes to one buyer (accepting it orders at
# once), and an offer a buyer makes on a listing, which the shop accepts, declines or counters;
# an accepted one reserves the copy until the buyer orders it. Timers are columns of the offer
# (OFFER_TIMERS), run by the beat task orders.tasks.run_deal_timers.


class OfferKind(models.TextChoices):
    PRIVATE = "private", "Private offer from the shop"
    BUYER = "buyer", "Offer from the buyer"


class OfferState(models.TextChoices):
    OPEN = "open", "Open"
    COUNTERED = "countered", "Countered by the shop"
    ACCEPTED = "accepted", "Accepted: the copy is reserved"
    ORDERED = "ordered", "Ordered"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"
    RELEASED = "released", "Reservation lapsed"


# A buyer's offer in one of these keeps them from making another on the same listing.
OPEN_OFFER_STATES = frozenset({OfferState.OPEN, OfferState.COUNTERED, OfferState.ACCEPTED})
# Someone has to answer by the offer's respond_by.
ANSWERABLE_OFFER_STATES = frozenset({OfferState.OPEN, OfferState.COUNTERED})


@dataclass(frozen=True)
class OfferTransition(Transition):
    kinds: frozenset[str] = frozenset()


def _offer_transition(name: str, label: str, sources, target, actors, kinds) -> OfferTransition:
    return OfferTransition(
        name=name,
        label=label,
        sources=frozenset(sources),
        target=target,
        actors=frozenset(actors),
        kinds=frozenset(kinds),
    )


PRIVATE, BUYERS = [OfferKind.PRIVATE], [OfferKind.BUYER]
OFFER_TRANSITIONS: dict[str, OfferTransition] = {
    t.name: t
    for t in [
        _offer_transition("order", "Accept and order", [OfferState.OPEN], OfferState.ORDERED, [Actor.BUYER], PRIVATE),
        _offer_transition(
            "order_reserved",
            "Order at the agreed price",
            [OfferState.ACCEPTED],
            OfferState.ORDERED,
            [Actor.BUYER],
            BUYERS,
        ),
        _offer_transition("accept", "Accept the offer", [OfferState.OPEN], OfferState.ACCEPTED, [Actor.SHOP], BUYERS),
        _offer_transition(
            "counter", "Make a counter-offer", [OfferState.OPEN], OfferState.COUNTERED, [Actor.SHOP], BUYERS
        ),
        _offer_transition(
            "accept_counter",
            "Accept the counter-offer",
            [OfferState.COUNTERED],
            OfferState.ACCEPTED,
            [Actor.BUYER],
            BUYERS,
        ),
        _offer_transition("decline", "Decline the offer", [OfferState.OPEN], OfferState.DECLINED, [Actor.SHOP], BUYERS),
        _offer_transition(
            "decline_counter",
            "Decline the counter-offer",
            [OfferState.COUNTERED],
            OfferState.DECLINED,
            [Actor.BUYER],
            BUYERS,
        ),
        _offer_transition(
            "decline_private", "Decline the offer", [OfferState.OPEN], OfferState.DECLINED, [Actor.BUYER], PRIVATE
        ),
        _offer_transition(
            "withdraw",
            "Withdraw the offer",
            [OfferState.OPEN, OfferState.COUNTERED],
            OfferState.WITHDRAWN,
            [Actor.BUYER],
            BUYERS,
        ),
        _offer_transition(
            "withdraw_private", "Withdraw the offer", [OfferState.OPEN], OfferState.WITHDRAWN, [Actor.SHOP], PRIVATE
        ),
        # Taken by the timers below, never by a person.
        _offer_transition(
            "lapse",
            "Expire: not answered in time",
            ANSWERABLE_OFFER_STATES,
            OfferState.EXPIRED,
            [Actor.SYSTEM],
            [*PRIVATE, *BUYERS],
        ),
        _offer_transition(
            "release",
            "Release the reserved copy: not ordered in time",
            [OfferState.ACCEPTED],
            OfferState.RELEASED,
            [Actor.SYSTEM],
            BUYERS,
        ),
    ]
}


def offer_transitions_for(*, kind: str, state: str, actor: str) -> list[OfferTransition]:
    """What `actor` may do to an offer of `kind` in `state`, in the order of OFFER_TRANSITIONS."""
    return [t for t in OFFER_TRANSITIONS.values() if kind in t.kinds and state in t.sources and actor in t.actors]


@dataclass(frozen=True)
class OfferTimer:
    """A deadline kept in an offer's own column `due_field`, running while the offer is in one of
    `states`; when it falls due the offer takes `fires` (a SYSTEM transition)."""

    name: str
    states: frozenset[str]
    due_field: str
    fires: str


OFFER_TIMERS = [
    OfferTimer(name="respond", states=ANSWERABLE_OFFER_STATES, due_field="respond_by", fires="lapse"),
    OfferTimer(
        name="reservation", states=frozenset({OfferState.ACCEPTED}), due_field="reserved_until", fires="release"
    ),
]
# What each side reads of an offer's running deadline, by (kind, state): {buyer}, {shop}, {due}.
OFFER_DEADLINE_TEXTS: dict[tuple[str, str], tuple[str, str]] = {
    (OfferKind.PRIVATE, OfferState.OPEN): (
        "This offer is yours until {due}: accept it by then or it expires.",
        "{buyer} can accept it until {due}; then it expires.",
    ),
    (OfferKind.BUYER, OfferState.OPEN): (
        "{shop} answers by {due}; if it has not, your offer lapses.",
        "Answer by {due}: an offer not answered by then lapses.",
    ),
    (OfferKind.BUYER, OfferState.COUNTERED): (
        "Answer the counter-offer by {due}; then it lapses.",
        "{buyer} answers your counter-offer by {due}; then it lapses.",
    ),
    (OfferKind.BUYER, OfferState.ACCEPTED): (
        "The copy is reserved for you until {due}: order it by then at the agreed price, or it goes back on sale.",
        "The copy is reserved for {buyer} until {due}; if they have not ordered it by then, it goes back on sale.",
    ),
}


# --- Problem cases --------------------------------------------------------------------------
# The buyer reports a problem with an order (open_case above); the shop proposes a fix, which the
# buyer accepts or turns down. Only after the shop's answer period, or once a proposal was turned
# down, can either side escalate to Plural's moderators, who decide with reasons; either side may
# appeal that decision once, and a different moderator decides the appeal. A decision takes
# effect when its appeal period ends without an appeal (beat: orders.tasks.run_deal_timers).


class CaseState(models.TextChoices):
    OPEN = "open", "Waiting for the shop's proposal"
    PROPOSED = "proposed", "A fix is proposed"
    ESCALATED = "escalated", "With Plural's moderators"
    DECIDED = "decided", "Decided, open to appeal"
    APPEALED = "appealed", "Appealed"
    SETTLED = "settled", "Settled by agreement"
    RESOLVED = "resolved", "Decided by Plural's moderators"


OPEN_CASE_STATES = frozenset(
    {CaseState.OPEN, CaseState.PROPOSED, CaseState.ESCALATED, CaseState.DECIDED, CaseState.APPEALED}
)
# Once escalated, Plural's moderators may read the whole case (each time is logged).
MODERATED_CASE_STATES = frozenset({CaseState.ESCALATED, CaseState.DECIDED, CaseState.APPEALED, CaseState.RESOLVED})


class Remedy(models.TextChoices):
    REFUND = "refund", "A full refund"
    PARTIAL_REFUND = "partial_refund", "A partial refund"
    REPLACEMENT = "replacement", "A replacement"
    RETURN = "return", "Send it back for a full refund"
    NO_REMEDY = "no_remedy", "No remedy: nothing is owed"


# What the shop may propose (a moderator may also decide that nothing is owed).
PROPOSED_REMEDIES = [Remedy.REFUND, Remedy.PARTIAL_REFUND, Remedy.REPLACEMENT, Remedy.RETURN]
# The order transition each remedy takes.
REMEDY_TRANSITIONS = {
    Remedy.REFUND: "case_refund",
    Remedy.PARTIAL_REFUND: "case_partial_refund",
    Remedy.REPLACEMENT: "case_replacement",
    Remedy.RETURN: "case_return",
    Remedy.NO_REMEDY: "case_no_remedy",
}
# The problems a case is opened for: the return reasons that are the shop's doing.
CASE_REASON_CHOICES = [(code, label) for code, label in RETURN_REASON_CHOICES if code != "changed_mind"]
CASE_REASONS = {code for code, _ in CASE_REASON_CHOICES}

CASE_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        _transition("propose", "Propose a fix", [CaseState.OPEN, CaseState.PROPOSED], CaseState.PROPOSED, [Actor.SHOP]),
        _transition("accept_proposal", "Accept the proposal", [CaseState.PROPOSED], CaseState.SETTLED, [Actor.BUYER]),
        _transition("decline_proposal", "Turn the proposal down", [CaseState.PROPOSED], CaseState.OPEN, [Actor.BUYER]),
        _transition(
            "escalate",
            "Ask Plural's moderators to decide",
            [CaseState.OPEN, CaseState.PROPOSED],
            CaseState.ESCALATED,
            [Actor.BUYER, Actor.SHOP],
        ),
        _transition("decide", "Decide", [CaseState.ESCALATED], CaseState.DECIDED, [Actor.MODERATOR]),
        _transition(
            "appeal", "Appeal the decision", [CaseState.DECIDED], CaseState.APPEALED, [Actor.BUYER, Actor.SHOP]
        ),
        _transition("decide_appeal", "Decide the appeal", [CaseState.APPEALED], CaseState.RESOLVED, [Actor.MODERATOR]),
        _transition("finalize", "The decision takes effect", [CaseState.DECIDED], CaseState.RESOLVED, [Actor.SYSTEM]),
    ]
}


def case_transitions_for(*, state: str, actor: str) -> list[Transition]:
    return [t for t in CASE_TRANSITIONS.values() if state in t.sources and actor in t.actors]
