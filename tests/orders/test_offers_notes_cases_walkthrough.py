"""The deals story through the API alone: a shop that does not ship abroad makes a private offer
with shipping to Japan, which the buyer accepts; a buyer's offer is countered and accepted; both
sides exchange thank-you notes and the buyer's shows on the storefront once they agree; a
damaged parcel is settled with a partial refund, and another problem is escalated and decided."""

import datetime

import pytest
import time_machine

from orders.models import CaseAccessLog
from orders.tasks import run_deal_timers
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


def _deliver(olive, buyer, order_id):
    for step in ({"transition": "accept"}, {"transition": "mark_paid"}):
        assert (
            olive.post(f"/api/shops/olives-books/orders/{order_id}/transitions/", step, format="json").status_code
            == 200
        )
    shipped = olive.post(
        f"/api/shops/olives-books/orders/{order_id}/transitions/",
        {"transition": "ship", "carrier": "Japan Post", "tracking_number": "EMS-1"},
        format="json",
    )
    assert shipped.status_code == 200
    delivered = buyer.post(f"/api/orders/{order_id}/transitions/", {"transition": "mark_delivered"}, format="json")
    assert delivered.json()["state"] == "delivered"


def test_private_and_buyer_offers_notes_and_cases_through_the_api(
    api, shop, shop_owner, shop_staff, staff_user, second_moderator, settings
):
    settings.ORDERS_CASE_APPEAL_PERIOD = datetime.timedelta(days=7)
    shop.ships_to = []
    shop.save(update_fields=["ships_to"])
    atlas = ListingFactory(shop=shop, title="An Atlas of Rivers", price="20.00", quantity=3)
    nia = UserFactory(username="nia", display_name="Nia New", country="JP")
    buyer, olive, sam = api(nia), api("shop_owner"), api("shop_staff")
    tokyo = buyer.post(
        "/api/addresses/",
        {"full_name": "Nia New", "line1": "1-2-3 Shibuya", "city": "Tokyo", "country": "JP"},
        format="json",
    ).json()
    york = buyer.post(
        "/api/addresses/",
        {"full_name": "Nia New", "line1": "4 Mill Lane", "city": "York", "country": "GB"},
        format="json",
    ).json()
    assert buyer.get("/api/cart/").status_code == 200

    # A private offer with shipping to Japan, where the shop does not usually ship.
    made = sam.post(
        "/api/shops/olives-books/private-offers/",
        {
            "listing": atlas.pk,
            "buyer": "nia",
            "price": "16.00",
            "shipping_charge": "14.50",
            "ship_to": "JP",
            "valid_days": 5,
            "message": "I don't usually ship abroad, but for you…",
        },
        format="json",
    )
    assert made.status_code == 201
    [listed] = buyer.get("/api/offers/").json()["results"]
    token = listed["token"]
    offer = buyer.get(f"/api/offers/{token}/").json()
    assert (offer["kind"], offer["signed_as"], offer["shipping_charge"], offer["ship_to"]) == (
        "private",
        "Sam Staff",
        "14.50",
        "JP",
    )
    assert offer["available_actions"] == ["order", "decline"]
    assert api("other_buyer").get(f"/api/offers/{token}/").status_code == 404
    wrong_country = buyer.post(f"/api/offers/{token}/order/", {"address": york["id"]}, format="json")
    assert wrong_country.status_code == 400
    ordered = buyer.post(f"/api/offers/{token}/order/", {"address": tokyo["id"], "note": "Arigatou!"}, format="json")
    replayed = buyer.post(f"/api/offers/{token}/order/", {"address": tokyo["id"]}, format="json")
    assert (ordered.status_code, replayed.status_code) == (201, 200)
    first = ordered.json()
    assert (first["total"], first["shipping_total"], first["ship_country"], first["id"]) == (
        "30.50",
        "14.50",
        "JP",
        replayed.json()["id"],
    )

    # The shop takes offers; a buyer's offer is countered and accepted, then ordered.
    terms = olive.patch(
        "/api/shops/olives-books/offer-terms/", {"accepts_offers": True, "offer_response_days": 2}, format="json"
    )
    assert terms.json()["accepts_offers"] is True
    too_high = buyer.post("/api/offers/", {"listing": atlas.pk, "price": "25"}, format="json")
    assert too_high.status_code == 400
    mine = buyer.post("/api/offers/", {"listing": atlas.pk, "price": "14.00", "message": "14?"}, format="json")
    assert mine.status_code == 201
    mine = mine.json()
    assert buyer.post("/api/offers/", {"listing": atlas.pk, "price": "15.00"}, format="json").status_code == 400
    [to_answer] = olive.get("/api/shops/olives-books/offers/?state=to_do").json()["results"]
    countered = olive.post(
        f"/api/shops/olives-books/offers/{to_answer['id']}/actions/",
        {"action": "counter", "price": "17.00", "message": "17 and it is yours."},
        format="json",
    )
    assert countered.json()["state"] == "countered"
    accepted = buyer.post(f"/api/offers/{mine['token']}/actions/", {"action": "accept_counter"}, format="json")
    assert (accepted.json()["state"], accepted.json()["agreed_price"]) == ("accepted", "17.00")
    assert accepted.json()["available_actions"] == ["order"]
    second = buyer.post(f"/api/offers/{mine['token']}/order/", {"address": york["id"]}, format="json")
    assert second.status_code == 201
    second = second.json()
    assert (second["items_total"], second["shipping_total"], second["total"]) == ("17.00", "3.00", "20.00")
    assert api("anonymous").get(f"/api/listings/{atlas.pk}/").json()["quantity"] == 1  # two copies sold

    # Thank-you notes both ways; the buyer's shows on the storefront once they agree.
    _deliver(olive, buyer, first["id"])
    _deliver(olive, buyer, second["id"])
    notes = sam.put(
        f"/api/shops/olives-books/orders/{first['id']}/thank-you-notes/",
        {"text": "Enjoy the rivers of the world!"},
        format="json",
    )
    assert notes.json()["from_shop"]["signed_as"] == "Sam Staff"
    assert buyer.get(f"/api/orders/{first['id']}/thank-you-notes/").json()["from_shop"]["text"] == (
        "Enjoy the rivers of the world!"
    )
    buyer.put(f"/api/orders/{first['id']}/thank-you-notes/", {"text": "Thank you, Sam!"}, format="json")
    assert api("anonymous").get("/api/shops/olives-books/kind-words/").json() == []
    buyer.patch(f"/api/orders/{first['id']}/thank-you-notes/", {"show_on_storefront": True}, format="json")
    [kind] = api("anonymous").get("/api/shops/olives-books/kind-words/").json()
    assert (kind["text"], kind["signed_as"]) == ("Thank you, Sam!", "Nia New")

    # A damaged parcel, settled with a partial refund without any moderator.
    opened = buyer.post(
        f"/api/orders/{first['id']}/cases/", {"reason": "damaged", "details": "A corner is crushed."}, format="json"
    )
    assert opened.status_code == 201
    case = opened.json()
    too_early = buyer.post(f"/api/cases/{case['id']}/steps/", {"step": "escalate"}, format="json")
    assert too_early.status_code == 400
    sam.post(
        f"/api/cases/{case['id']}/steps/",
        {"step": "propose", "remedy": "partial_refund", "amount": "6.00", "message": "Sorry about the corner."},
        format="json",
    )
    settled = buyer.post(f"/api/cases/{case['id']}/steps/", {"step": "accept_proposal"}, format="json").json()
    assert (settled["state"], settled["remedy"], settled["refund_amount"]) == ("settled", "partial_refund", "6.00")
    assert buyer.get(f"/api/orders/{first['id']}/").json()["state"] == "completed"
    assert api("staff_user").get(f"/api/cases/{case['id']}/").status_code == 404

    # Another problem: the fix is turned down, the buyer escalates, a moderator decides, the shop
    # appeals once, and a different moderator decides the appeal.
    case = buyer.post(f"/api/orders/{second['id']}/cases/", {"reason": "not_as_described"}, format="json").json()
    olive.post(f"/api/cases/{case['id']}/steps/", {"step": "propose", "remedy": "return"}, format="json")
    buyer.post(
        f"/api/cases/{case['id']}/steps/",
        {"step": "decline_proposal", "message": "Postage costs more than it."},
        format="json",
    )
    escalated = buyer.post(f"/api/cases/{case['id']}/steps/", {"step": "escalate"}, format="json").json()
    assert escalated["state"] == "escalated"
    [queued] = api("staff_user").get("/api/moderation/cases/").json()["results"]
    assert queued["id"] == case["id"]
    moderator = api("staff_user")
    decided = moderator.post(
        f"/api/cases/{case['id']}/steps/",
        {"step": "decide", "remedy": "partial_refund", "amount": "7.00", "reasons": "Not as described, but usable."},
        format="json",
    ).json()
    assert (decided["state"], decided["decision"]["remedy"], decided["side"]) == (
        "decided",
        "partial_refund",
        "moderator",
    )
    appealed = olive.post(
        f"/api/cases/{case['id']}/steps/", {"step": "appeal", "reasons": "The listing said it all."}, format="json"
    ).json()
    assert appealed["available_steps"] == ["message"]
    same = moderator.post(
        f"/api/cases/{case['id']}/steps/",
        {"step": "decide_appeal", "remedy": "no_remedy", "reasons": "Mine again."},
        format="json",
    )
    assert same.status_code == 400
    final = (
        api(second_moderator)
        .post(
            f"/api/cases/{case['id']}/steps/",
            {
                "step": "decide_appeal",
                "remedy": "partial_refund",
                "amount": "7.00",
                "reasons": "The first decision stands.",
            },
            format="json",
        )
        .json()
    )
    assert (final["state"], final["remedy"], final["refund_amount"]) == ("resolved", "partial_refund", "7.00")
    assert final["appeal"]["decision"]["moderator"] == "Milo Moderator"
    seen_by = [entry["moderator"] for entry in buyer.get(f"/api/cases/{case['id']}/").json()["access_log"]]
    assert seen_by == ["Stella Staff", "Stella Staff", "Milo Moderator"]
    assert CaseAccessLog.objects.count() == 3
    assert buyer.get(f"/api/orders/{second['id']}/").json()["state"] == "completed"
    with time_machine.travel(datetime.timedelta(days=30)):
        assert run_deal_timers()["decisions_final"] == 0
