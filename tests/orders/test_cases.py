"""Problem cases through the services: the buyer reports, the shop proposes a fix within its
answer period, the buyer accepts or turns it down; either side escalates only after the period
or on disagreement; a moderator decides with reasons; one appeal, to a different moderator.
Every step is on the order's timeline; refusals change nothing."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from notifications.models import Notification
from orders import services
from orders.lifecycle import Actor
from orders.models import Case, CaseAccessLog, Order, OrderDeadline, ReturnRequest
from orders.selectors import shop_completion_rate
from orders.tasks import run_deal_timers, run_order_timers
from tests.orders.conftest import case_snapshot, ship

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
MONDAY = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def at(moment):
    return time_machine.travel(moment, tick=False)


def titles(user):
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("title", flat=True))


def case_events(order):
    return [
        (event.transition, event.actor_role, event.message, event.note)
        for event in Order.objects.get(pk=order.pk).events.all()
        if event.transition.startswith("case_") or event.transition == "open_case"
    ]


@pytest.fixture
def periods(settings):
    settings.ORDERS_CASE_ANSWER_PERIOD = datetime.timedelta(days=3)
    settings.ORDERS_CASE_APPEAL_PERIOD = datetime.timedelta(days=7)
    settings.ORDERS_CASE_LATE_AFTER = datetime.timedelta(days=14)
    settings.ORDERS_REMINDER_BEFORE = datetime.timedelta(hours=24)


@pytest.fixture
def damaged(delivered_order, buyer, periods):
    with at(MONDAY):
        return services.case_open(order=delivered_order, actor=buyer, reason="damaged", details="The spine is split.")


def test_the_buyer_reports_damage_and_the_shop_is_told_with_a_stated_answer_period(
    shop_staff, damaged, delivered_order, shop_owner
):
    order = Order.objects.get(pk=delivered_order.pk)
    assert (damaged.state, damaged.reason, damaged.answer_due_at) == (
        "open",
        "damaged",
        MONDAY + datetime.timedelta(days=3),
    )
    assert order.state == "problem"
    assert [d.timer for d in order.deadlines.all() if d.is_open] == ["case_answer"]
    assert case_events(order) == [
        ("open_case", "buyer", "Bea Buyer reported a problem: it arrived damaged.", "The spine is split.")
    ]
    change = f"Problem with order #{order.pk}: reported: it arrived damaged"
    assert titles(shop_owner)[-1] == change and titles(shop_staff)[-1] == change


def test_a_damaged_case_settled_with_a_partial_refund_without_escalation(
    damaged, delivered_order, buyer, shop_staff, shop, staff_user
):
    with at(MONDAY + datetime.timedelta(hours=5)):
        proposal = services.case_propose(
            case=damaged,
            actor=shop_staff,
            remedy="partial_refund",
            amount="5.00",
            message="Sorry! Keep it, with 5 back?",
        )
    assert (proposal.remedy, proposal.amount, proposal.status) == ("partial_refund", Decimal("5.00"), "pending")
    assert not OrderDeadline.objects.filter(
        order=delivered_order, timer="case_answer", resolved_at__isnull=True
    ).exists()
    assert (
        titles(buyer)[-1]
        == f"Problem with order #{delivered_order.pk}: Olive's Books proposes a partial refund of 5.00 GBP"
    )

    with at(MONDAY + datetime.timedelta(hours=6)):
        services.case_accept_proposal(case=damaged, actor=buyer)

    case = Case.objects.get(pk=damaged.pk)
    order = Order.objects.get(pk=delivered_order.pk)
    assert (case.state, case.remedy, case.refund_amount) == ("settled", "partial_refund", Decimal("5.00"))
    assert (order.state, order.completed_at) == ("completed", MONDAY + datetime.timedelta(hours=6))
    assert case_events(order)[1:] == [
        (
            "case_propose",
            "shop",
            "Sam Staff of Olive's Books proposed a partial refund of 5.00 GBP.",
            "Sorry! Keep it, with 5 back?",
        ),
        ("case_accept_proposal", "buyer", "Bea Buyer accepted a partial refund of 5.00 GBP.", ""),
        (
            "case_partial_refund",
            "buyer",
            "Settled by agreement: a partial refund of 5.00 GBP. "
            "Olive's Books refunds 5.00 GBP directly, by bank transfer.",
            "",
        ),
    ]
    assert CaseAccessLog.objects.count() == 0  # no moderator ever looked
    assert titles(staff_user) == []
    assert shop_completion_rate(shop=shop).fulfilled == 1


@pytest.mark.parametrize(
    ("remedy", "state", "refund", "return_request"),
    [
        ("refund", "returned", Decimal("23.00"), False),
        ("return", "returned", Decimal("23.00"), True),
        ("replacement", "paid", Decimal("0.00"), False),
    ],
)
def test_each_fix_takes_the_order_where_it_belongs(
    damaged, delivered_order, buyer, shop_owner, remedy, state, refund, return_request
):
    services.case_propose(case=damaged, actor=shop_owner, remedy=remedy)
    services.case_accept_proposal(case=damaged, actor=buyer)

    order = Order.objects.get(pk=delivered_order.pk)
    assert order.state == state
    assert Case.objects.get(pk=damaged.pk).refund_amount == refund
    assert (
        ReturnRequest.objects.filter(order=order, decision="accepted", refund_amount=refund).exists() == return_request
    )
    if remedy == "replacement":
        assert (order.carrier, order.tracking_number, order.shipped_at) == ("", "", None)
        shipped = services.order_ship(order=order, actor=shop_owner, carrier="DPD", tracking_number="DPD-2")
        assert shipped.state == "shipped"


def test_a_new_proposal_replaces_the_one_waiting(damaged, shop_owner, buyer):
    services.case_propose(case=damaged, actor=shop_owner, remedy="partial_refund", amount="3")
    services.case_propose(case=damaged, actor=shop_owner, remedy="partial_refund", amount="6")

    assert list(damaged.proposals.order_by("pk").values_list("amount", "status")) == [
        (Decimal("3.00"), "superseded"),
        (Decimal("6.00"), "pending"),
    ]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "Enter an amount to refund above zero."),
        ("-2", "Enter an amount to refund above zero."),
        ("23.00", "A partial refund is less than the order's total of 23.00 GBP."),
        ("1e9", "Enter an amount to refund of at most 999,999.99: larger amounts are typing mistakes."),
    ],
)
def test_a_partial_refund_must_be_part_of_the_total(damaged, shop_owner, amount, message):
    before = case_snapshot(damaged)

    with pytest.raises(ValidationError) as refused:
        services.case_propose(case=damaged, actor=shop_owner, remedy="partial_refund", amount=amount)

    assert refused.value.message_dict == {"amount": [message]}
    assert case_snapshot(damaged) == before


def test_escalating_before_the_answer_period_is_over_is_refused(damaged, buyer, shop_owner):
    before = case_snapshot(damaged)

    for person, by in ((buyer, Actor.BUYER), (shop_owner, Actor.SHOP)):
        with at(MONDAY + datetime.timedelta(days=2)), pytest.raises(ValidationError) as refused:
            services.case_escalate(case=damaged, actor=person, by=by)
        assert refused.value.message_dict == {
            "case": [
                "Plural's moderators can be asked once Olive's Books's time to propose a fix is over, on "
                "5 March 2026, 10:00 UTC, or once a proposal has been turned down."
            ]
        }
    assert case_snapshot(damaged) == before


def test_after_a_proposal_is_turned_down_either_side_may_escalate_at_once(damaged, buyer, shop_owner, staff_user):
    with at(MONDAY + datetime.timedelta(hours=1)):
        services.case_propose(case=damaged, actor=shop_owner, remedy="partial_refund", amount="2")
        services.case_decline_proposal(case=damaged, actor=buyer, message="2 is too little.")
        services.case_escalate(case=damaged, actor=shop_owner, by=Actor.SHOP, reason="We offered what we could.")

    case = Case.objects.get(pk=damaged.pk)
    assert (case.state, case.escalated_by, case.disagreed_at) == (
        "escalated",
        "shop",
        MONDAY + datetime.timedelta(hours=1),
    )
    assert titles(staff_user) == [f"Problem with order #{case.order_id}: escalated: it waits for a decision"]
    assert titles(buyer)[-1] == f"Problem with order #{case.order_id}: escalated to Plural's moderators"


def test_the_answer_timer_tells_the_buyer_and_then_escalation_is_allowed(damaged, buyer, shop_owner):
    with at(MONDAY + datetime.timedelta(days=2, hours=1)):
        assert run_order_timers() == {"fired": 0, "reminded": 1}
    assert titles(shop_owner)[-1] == (
        f"Reminder for order #{damaged.order_id}: answer the problem report and propose a fix by Thu 5 Mar 10:00 UTC"
    )
    with at(MONDAY + datetime.timedelta(days=3, minutes=1)):
        assert run_order_timers()["fired"] == 1
        services.case_escalate(case=damaged, actor=buyer, by=Actor.BUYER, reason="No answer at all.")

    assert (
        f"Order #{damaged.order_id}: the shop has not proposed a fix in time: you can ask Plural's moderators to decide"
        in titles(buyer)
    )
    assert Case.objects.get(pk=damaged.pk).state == "escalated"


def _escalated(case, buyer):
    with at(MONDAY + datetime.timedelta(days=3, minutes=1)):
        services.case_escalate(case=case, actor=buyer, by=Actor.BUYER, reason="No answer at all.")
    return Case.objects.get(pk=case.pk)


def test_a_moderator_decides_with_reasons_and_it_takes_effect_after_the_appeal_period(
    damaged, buyer, shop_owner, staff_user
):
    case = _escalated(damaged, buyer)
    with at(MONDAY + datetime.timedelta(days=4)):
        services.case_decide(
            case=case, moderator=staff_user, remedy="refund", reasons="The photos show the damage; no answer came."
        )
    case.refresh_from_db()
    assert (case.state, case.decision_remedy, case.decided_by, case.appeal_due_at) == (
        "decided",
        "refund",
        staff_user,
        MONDAY + datetime.timedelta(days=11),
    )
    assert Order.objects.get(pk=case.order_id).state == "problem"  # not before the appeal period is over
    assert titles(shop_owner)[-1] == f"Problem with order #{case.order_id}: decided: a full refund of 23.00 GBP"

    with at(MONDAY + datetime.timedelta(days=10)):
        assert run_deal_timers()["decisions_final"] == 0
    with at(MONDAY + datetime.timedelta(days=11, minutes=5)):
        assert run_deal_timers() == {"offers_expired": 0, "reservations_released": 0, "decisions_final": 1}
        assert run_deal_timers()["decisions_final"] == 0

    case.refresh_from_db()
    order = Order.objects.get(pk=case.order_id)
    assert (case.state, case.remedy, case.refund_amount, order.state) == (
        "resolved",
        "refund",
        Decimal("23.00"),
        "returned",
    )
    assert case_events(order)[-2:] == [
        (
            "case_decide",
            "moderator",
            "Stella Staff, Plural's moderator, decided: a full refund of 23.00 GBP. It takes effect on "
            "13 March 2026, 10:00 UTC unless one side appeals.",
            "The photos show the damage; no answer came.",
        ),
        (
            "case_refund",
            "system",
            "The moderator's decision took effect: a full refund of 23.00 GBP. Olive's Books refunds 23.00 GBP "
            "directly, by bank transfer.",
            "",
        ),
    ]


def test_a_decision_without_reasons_is_refused(damaged, buyer, staff_user):
    case = _escalated(damaged, buyer)
    before = case_snapshot(case)

    with pytest.raises(ValidationError) as refused:
        services.case_decide(case=case, moderator=staff_user, remedy="refund", reasons="  ")

    assert refused.value.message_dict == {"reasons": ["Give the reasons for the decision: both sides read them."]}
    assert case_snapshot(case) == before


def test_moderators_step_in_only_after_escalation_and_never_as_a_party(damaged, staff_user, shop, buyer):
    before = case_snapshot(damaged)
    with pytest.raises(PermissionDenied):
        services.case_decide(case=damaged, moderator=staff_user, remedy="refund", reasons="Too early.")
    with pytest.raises(PermissionDenied):
        services.case_access_record(case=damaged, moderator=staff_user, via="page")
    with pytest.raises(PermissionDenied):
        services.case_message(case=damaged, actor=staff_user, by=Actor.MODERATOR, text="Hello")
    assert case_snapshot(damaged) == before

    from sellers.models import ShopMember

    ShopMember.objects.create(shop=shop, user=staff_user)
    case = _escalated(damaged, buyer)
    with pytest.raises(PermissionDenied):
        services.case_decide(case=case, moderator=staff_user, remedy="refund", reasons="My own shop.")
    assert Case.objects.get(pk=case.pk).state == "escalated"


def test_one_appeal_decided_by_a_different_moderator(damaged, buyer, shop_owner, staff_user, second_moderator):
    case = _escalated(damaged, buyer)
    with at(MONDAY + datetime.timedelta(days=4)):
        services.case_decide(case=case, moderator=staff_user, remedy="no_remedy", reasons="Wear, not damage.")
    with at(MONDAY + datetime.timedelta(days=5)):
        services.case_appeal(case=case, actor=buyer, by=Actor.BUYER, reasons="It was new; the photos show a split.")
    case.refresh_from_db()
    assert (case.state, case.appealed_by) == ("appealed", "buyer")
    assert (
        titles(second_moderator)[-1] == f"Problem with order #{case.order_id}: appealed: it waits for another moderator"
    )
    assert f"Problem with order #{case.order_id}: appealed: it waits for another moderator" not in titles(staff_user)

    before = case_snapshot(case)
    with at(MONDAY + datetime.timedelta(days=5)), pytest.raises(ValidationError) as second:
        services.case_appeal(case=case, actor=shop_owner, by=Actor.SHOP, reasons="We appeal too.")
    with pytest.raises(ValidationError) as same_moderator:
        services.case_decide_appeal(case=case, moderator=staff_user, remedy="no_remedy", reasons="Still wear.")
    assert second.value.message_dict == {
        "reasons": ["This decision has been appealed already: a decision can be appealed once."]
    }
    assert same_moderator.value.message_dict == {
        "case": ["You decided this case: a different moderator decides the appeal."]
    }
    assert case_snapshot(case) == before

    with at(MONDAY + datetime.timedelta(days=6)):
        services.case_decide_appeal(
            case=case, moderator=second_moderator, remedy="partial_refund", amount="8.00", reasons="Both have a point."
        )
    case.refresh_from_db()
    order = Order.objects.get(pk=case.order_id)
    assert (case.state, case.remedy, case.refund_amount, case.appeal_decided_by) == (
        "resolved",
        "partial_refund",
        Decimal("8.00"),
        second_moderator,
    )
    assert order.state == "completed"
    assert case_events(order)[-2][2] == (
        "Milo Moderator, Plural's moderator, decided the appeal and changed the decision: a partial refund of 8.00 GBP."
    )
    assert run_deal_timers()["decisions_final"] == 0  # the appeal decided it: nothing waits


def test_the_database_refuses_an_appeal_decided_by_the_first_moderator(damaged, buyer, staff_user):
    case = _escalated(damaged, buyer)
    services.case_decide(case=case, moderator=staff_user, remedy="refund", reasons="Damaged.")
    services.case_appeal(case=case, actor=buyer, by=Actor.BUYER, reasons="More, please.")
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(
            appeal_decided_by=staff_user,
            appeal_decided_at=MONDAY,
            appeal_remedy="refund",
            appeal_decision_reasons="Mine again.",
        )


def test_an_appeal_after_the_appeal_period_is_refused(damaged, buyer, staff_user):
    case = _escalated(damaged, buyer)
    with at(MONDAY + datetime.timedelta(days=4)):
        services.case_decide(case=case, moderator=staff_user, remedy="refund", reasons="Damaged.")
    before = case_snapshot(case)

    with at(MONDAY + datetime.timedelta(days=11, minutes=1)), pytest.raises(ValidationError) as refused:
        services.case_appeal(case=case, actor=buyer, by=Actor.BUYER, reasons="Late.")

    assert refused.value.message_dict == {"reasons": ["The time to appeal ended on 13 March 2026, 10:00 UTC."]}
    assert case_snapshot(case) == before


def test_a_late_shipped_order_may_be_reported_as_not_arrived_only(order, shop_owner, buyer, periods):
    with at(MONDAY):
        shipped = ship(order, shop_owner)
    before = case_snapshot_order(shipped)

    with at(MONDAY + datetime.timedelta(days=13)), pytest.raises(ValidationError) as early:
        services.case_open(order=shipped, actor=buyer, reason="not_arrived")
    with at(MONDAY + datetime.timedelta(days=15)), pytest.raises(ValidationError) as wrong_reason:
        services.case_open(order=shipped, actor=buyer, reason="damaged")
    assert early.value.message_dict == {
        "reason": [
            "The order was shipped on 2 March 2026: if it has not arrived by 16 March 2026, you can report it then."
        ]
    }
    assert wrong_reason.value.message_dict == {
        "reason": ["The order has not arrived yet: if it has, mark it delivered first, then report the problem."]
    }
    assert case_snapshot_order(shipped) == before

    with at(MONDAY + datetime.timedelta(days=15)):
        case = services.case_open(order=shipped, actor=buyer, reason="not_arrived", details="Nothing came.")
    assert (case.state, Order.objects.get(pk=order.pk).state) == ("open", "problem")


def case_snapshot_order(order):
    from tests.orders.conftest import snapshot

    return snapshot(order), Case.objects.count()


def test_a_new_or_completed_order_cannot_be_reported_and_only_by_its_buyer(order, other_buyer, buyer, periods):
    before = case_snapshot_order(order)
    with pytest.raises(ValidationError) as refused:
        services.case_open(order=order, actor=buyer, reason="damaged")
    with pytest.raises(PermissionDenied):
        services.case_open(order=order, actor=other_buyer, reason="damaged")
    with pytest.raises(ValidationError) as unknown:
        services.case_open(order=order, actor=buyer, reason="changed_mind")

    assert refused.value.message_dict == {"state": ["This order is new: it cannot be reported as a problem now."]}
    assert unknown.value.message_dict == {"reason": ["Choose what the problem is."]}
    assert case_snapshot_order(order) == before


def test_one_open_case_per_order_and_messages_from_both_sides(damaged, delivered_order, buyer, shop_owner):
    with pytest.raises(ValidationError) as again:
        services.case_open(order=delivered_order, actor=buyer, reason="wrong_item")
    assert again.value.message_dict == {"reason": ["A problem with this order is reported already: see its case."]}
    services.case_message(case=damaged, actor=shop_owner, by=Actor.SHOP, text="Could you send a photo?")
    services.case_message(case=damaged, actor=buyer, by=Actor.BUYER, text="Here it is.")

    assert Case.objects.filter(order=delivered_order).count() == 1
    assert case_events(delivered_order)[-2:] == [
        ("case_message", "shop", "Olive Owner of Olive's Books wrote:", "Could you send a photo?"),
        ("case_message", "buyer", "Bea Buyer wrote:", "Here it is."),
    ]
    assert titles(buyer)[-1] == f"Problem with order #{delivered_order.pk}: a message from Olive Owner of Olive's Books"
    with pytest.raises(ValidationError) as empty:
        services.case_message(case=damaged, actor=buyer, by=Actor.BUYER, text=" ")
    assert empty.value.message_dict == {"text": ["Write your message."]}
