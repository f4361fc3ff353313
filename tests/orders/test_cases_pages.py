"""Problem cases on the pages and the API: a case is for the order's buyer and the shop's people;
Plural's moderators see it only once it is escalated, and each time they do is logged and shown
to both sides. Every other role gets a 404, and changes nothing."""

import datetime
from html import unescape

import pytest
import time_machine

from orders import services
from orders.lifecycle import Actor
from orders.models import Case, CaseAccessLog, Order
from tests.orders.conftest import case_snapshot, place, ship

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "buyer", "other_buyer", "shop_owner", "shop_staff", "other_shop_owner", "staff_user"]
SIDES = {"buyer", "shop_owner", "shop_staff"}
MONDAY = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)


def _text(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def case(delivered_order, buyer, shop_staff, other_shop, staff_user):
    return services.case_open(order=delivered_order, actor=buyer, reason="damaged", details="The spine is split.")


@pytest.fixture
def escalated(case, buyer, shop_owner):
    services.case_propose(case=case, actor=shop_owner, remedy="partial_refund", amount="2.00")
    services.case_decline_proposal(case=case, actor=buyer, message="Not enough.")
    services.case_escalate(case=case, actor=buyer, by=Actor.BUYER, reason="We disagree.")
    return Case.objects.get(pk=case.pk)


def _page_status(role, allowed):
    if role in allowed:
        return 200
    return 302 if role == "anonymous" else 404


@pytest.mark.parametrize("role", ROLES)
def test_before_escalation_the_case_is_the_two_sides_only(as_user, api, case, role):
    page = as_user(role).get(f"/cases/{case.pk}/")
    response = api(role).get(f"/api/cases/{case.pk}/")

    assert page.status_code == _page_status(role, SIDES)
    assert response.status_code == (200 if role in SIDES else 404)
    assert CaseAccessLog.objects.count() == 0
    if role in SIDES:
        assert response.json()["side"] == ("buyer" if role == "buyer" else "shop")
        assert "Nobody: Plural's moderators can read a case only once it is escalated" in _text(page)


@pytest.mark.parametrize("role", ROLES)
def test_after_escalation_moderators_see_the_whole_case_and_it_is_logged(as_user, api, escalated, role):
    page = as_user(role).get(f"/cases/{escalated.pk}/")
    response = api(role).get(f"/api/cases/{escalated.pk}/")

    allowed = SIDES | {"staff_user"}
    assert page.status_code == _page_status(role, allowed)
    assert response.status_code == (200 if role in allowed else 404)
    if role != "staff_user":
        assert CaseAccessLog.objects.count() == 0
        return
    assert list(CaseAccessLog.objects.values_list("moderator_name", "via")) == [
        ("Stella Staff", "page"),
        ("Stella Staff", "api"),
    ]
    body = response.json()
    assert body["side"] == "moderator"
    assert [entry["via"] for entry in body["access_log"]] == ["page", "api"]
    assert "Not enough." in [event["note"] for event in body["timeline"]]
    assert "You are reading this case as Plural's moderator" in _text(page)


def test_both_sides_see_who_at_plural_read_the_case(as_user, escalated):
    as_user("staff_user").get(f"/cases/{escalated.pk}/")

    for role in ("buyer", "shop_staff"):
        page = _text(as_user(role).get(f"/cases/{escalated.pk}/"))
        assert "Who at Plural read this case" in page
        assert "Stella Staff, Plural's moderator, on" in page and "(the case page)" in page


@pytest.mark.parametrize("role", ROLES)
def test_only_the_two_sides_take_steps_and_outsiders_change_nothing(as_user, api, case, role):
    before = case_snapshot(case)

    response = api(role).post(f"/api/cases/{case.pk}/steps/", {"step": "message", "text": "Hello"}, format="json")
    page = as_user(role).post(f"/cases/{case.pk}/", {"action": "message", "message-text": "Hello"})

    if role in SIDES:
        assert response.status_code == 200 and page.status_code == 302
        return
    assert response.status_code == 404
    assert page.status_code == (302 if role == "anonymous" else 404)
    assert case_snapshot(case) == before


@pytest.mark.parametrize("role", ROLES)
def test_only_the_buyer_reports_a_problem_with_their_order(as_user, api, delivered_order, role, other_shop, staff_user):
    before = list(Order.objects.filter(pk=delivered_order.pk).values("state"))

    form = as_user(role).get(f"/orders/{delivered_order.pk}/problem/")
    response = api(role).post(
        f"/api/orders/{delivered_order.pk}/cases/", {"reason": "damaged", "details": "Split."}, format="json"
    )

    assert form.status_code == _page_status(role, {"buyer"})
    assert response.status_code == (201 if role == "buyer" else 404)
    if role != "buyer":
        assert list(Order.objects.filter(pk=delivered_order.pk).values("state")) == before
        assert Case.objects.count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_the_moderators_queue_is_for_moderators(as_user, api, escalated, role):
    page = as_user(role).get("/moderation/cases/")
    response = api(role).get("/api/moderation/cases/")

    assert page.status_code == _page_status(role, {"staff_user"})
    assert response.status_code == (200 if role == "staff_user" else 404)
    if role == "staff_user":
        assert [row["id"] for row in response.json()["results"]] == [escalated.pk]
        assert CaseAccessLog.objects.count() == 0  # the queue lists; reading a case is what is logged


def test_a_moderator_cannot_see_a_case_that_was_not_escalated_even_by_guessing(as_user, api, case):
    assert as_user("staff_user").get(f"/cases/{case.pk}/").status_code == 404
    assert api("staff_user").get(f"/api/cases/{case.pk}/").status_code == 404
    assert api("staff_user").get("/api/moderation/cases/").json()["results"] == []
    assert as_user("buyer").get("/cases/999999/").status_code == 404


# --- Flows on the pages -----------------------------------------------------------------------


def test_a_damaged_order_settled_with_a_partial_refund_on_the_pages(as_user, delivered_order, shop_staff):
    buyer_page, shop_page = as_user("buyer"), as_user("shop_staff")

    assert "report a problem" in _text(buyer_page.get(f"/orders/{delivered_order.pk}/"))
    refused = buyer_page.post(f"/orders/{delivered_order.pk}/problem/", {"case-details": "Broken."})
    assert refused.status_code == 400 and "Broken." in _text(refused)
    assert Case.objects.count() == 0

    opened = buyer_page.post(
        f"/orders/{delivered_order.pk}/problem/", {"case-reason": "damaged", "case-details": "The spine is split."}
    )
    case = Case.objects.get()
    assert opened["Location"] == f"/cases/{case.pk}/"

    bad = shop_page.post(
        f"/cases/{case.pk}/", {"action": "propose", "propose-remedy": "partial_refund", "propose-amount": "50"}
    )
    assert bad.status_code == 400
    assert "A partial refund is less than the order's total of 23.00 GBP." in _text(bad)
    assert case.proposals.count() == 0
    proposed = shop_page.post(
        f"/cases/{case.pk}/",
        {"action": "propose", "propose-remedy": "partial_refund", "propose-amount": "5", "propose-message": "Sorry!"},
    )
    assert proposed.status_code == 302
    assert "Accept the proposal" in _text(buyer_page.get(f"/cases/{case.pk}/"))

    accepted = buyer_page.post(f"/cases/{case.pk}/", {"action": "accept_proposal"})
    assert accepted.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.remedy, str(case.refund_amount)) == ("settled", "partial_refund", "5.00")
    page = _text(buyer_page.get(f"/cases/{case.pk}/"))
    assert "Settled by agreement: a partial refund of 5.00 GBP." in page
    assert Order.objects.get(pk=delivered_order.pk).state == "completed"


def test_escalating_too_early_on_the_page_says_when_and_changes_nothing(as_user, case):
    before = case_snapshot(case)

    response = as_user("buyer").post(f"/cases/{case.pk}/", {"action": "escalate", "escalate-reason": "Now, please."})

    page = _text(response)
    assert response.status_code == 400
    assert "Plural's moderators can be asked once Olive's Books's time to propose a fix is over" in page
    assert "Now, please." in page
    assert case_snapshot(case) == before


def test_an_escalated_case_decided_on_the_page(as_user, escalated, second_moderator):
    moderator = as_user("staff_user")

    refused = moderator.post(
        f"/cases/{escalated.pk}/", {"action": "decide", "decide-remedy": "refund", "decide-reasons": ""}
    )
    assert refused.status_code == 400
    decided = moderator.post(
        f"/cases/{escalated.pk}/",
        {"action": "decide", "decide-remedy": "refund", "decide-reasons": "The photos show the split."},
    )
    assert decided.status_code == 302
    buyer_view = _text(as_user("buyer").get(f"/cases/{escalated.pk}/"))
    assert "The moderator's decision" in buyer_view and "The photos show the split." in buyer_view
    assert "Appeal the decision" in buyer_view
    same = moderator.get(f"/cases/{escalated.pk}/")
    assert "Decide the case" not in _text(same)


def test_the_order_pages_show_the_case_and_a_late_parcel_can_be_reported(as_user, order, shop_owner, buyer, settings):
    settings.ORDERS_CASE_LATE_AFTER = datetime.timedelta(days=14)
    with time_machine.travel(MONDAY, tick=False):
        shipped = ship(order, shop_owner)
    with time_machine.travel(MONDAY + datetime.timedelta(days=2), tick=False):
        assert "If it has not arrived by 16 March 2026, you can report that here." in _text(
            as_user("buyer").get(f"/orders/{shipped.pk}/")
        )
    with time_machine.travel(MONDAY + datetime.timedelta(days=15), tick=False):
        response = as_user("buyer").post(f"/orders/{shipped.pk}/problem/", {"case-reason": "not_arrived"})
        assert response.status_code == 302
        shop_view = _text(as_user("shop_owner").get(f"/shops/olives-books/dashboard/orders/{shipped.pk}/"))
    assert "Problems reported" in shop_view and "It has not arrived, reported 17 March 2026" in shop_view


@pytest.mark.parametrize("count", [1, 4])
def test_case_lists_cost_the_same_whatever_their_length(
    api, buyer, buyer_address, shop, shop_owner, staff_user, count, django_assert_num_queries
):
    from tests.factories import ListingFactory

    for index in range(count):
        [placed] = place(buyer, buyer_address, ListingFactory(shop=shop), key=f"k{index}")
        placed = services.order_mark_delivered(order=ship(placed, shop_owner), actor=buyer, by=Actor.BUYER)
        case = services.case_open(order=placed, actor=buyer, reason="wrong_item")
        services.case_propose(case=case, actor=shop_owner, remedy="replacement")
        services.case_decline_proposal(case=case, actor=buyer)
        services.case_escalate(case=case, actor=buyer, by=Actor.BUYER)
    buyer_api, moderator_api = api("buyer"), api("staff_user")

    with django_assert_num_queries(2):  # count, page with orders, shops and buyers
        assert len(buyer_api.get("/api/cases/").json()["results"]) == count
    with django_assert_num_queries(2):
        assert len(moderator_api.get("/api/moderation/cases/").json()["results"]) == count


def test_the_admin_does_not_show_a_cases_steps_unlogged(client, escalated):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    # The admin asks why before it opens a person's order (logged on their privacy page).
    response = client.get(f"/admin/orders/order/{escalated.order_id}/change/", {"access_reason": "Checking a payment"})

    assert response.status_code == 200
    page = _text(response)
    assert "Bea Buyer placed the order." in page
    assert "The spine is split." not in page and "Not enough." not in page and "We disagree." not in page
    assert CaseAccessLog.objects.count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_the_case_list_holds_ones_own_cases_only(api, escalated, role):
    response = api(role).get("/api/cases/")

    if role == "anonymous":
        assert response.status_code in {401, 403}
        return
    expected = [escalated.pk] if role in SIDES else []  # moderators use their queue
    assert [row["id"] for row in response.json()["results"]] == expected
