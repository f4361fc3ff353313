"""Offers on the pages and the API: who may see and do what (an offer is the two sides' only:
everyone else, staff included, gets a 404), the forms with bad input, and list query counts."""

import datetime
from decimal import Decimal
from html import unescape

import pytest
import time_machine

from catalog.models import Listing
from orders import services
from orders.lifecycle import Actor
from orders.models import Offer, Order
from orders.selectors import shop_terms
from tests.factories import ListingFactory, UserFactory
from tests.orders.conftest import offer_snapshot

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "buyer", "other_buyer", "shop_owner", "shop_staff", "other_shop_owner", "staff_user"]
SHOP_SEES = {"shop_owner", "shop_staff"}


def _text(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def private_offer(atlas, shop_staff, buyer, other_shop):
    return services.private_offer_make(
        listing=atlas,
        actor=shop_staff,
        buyer_username="bea",
        price="15.00",
        shipping_charge="12.00",
        ship_to="JP",
        valid_days=7,
    )


@pytest.fixture
def buyer_offer(takes_offers, atlas, buyer, other_shop):
    return services.offer_make(listing_id=atlas.pk, actor=buyer, price="14.00", message="Would you take 14?")


def _page_status(role, allowed):
    if role in allowed:
        return 200
    return 302 if role == "anonymous" else 404


# --- Who sees what ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["private_offer", "buyer_offer"])
def test_the_offers_own_address_is_for_its_buyer_alone(as_user, api, request, role, kind, shop_staff):
    offer = request.getfixturevalue(kind)

    page = as_user(role).get(f"/offers/{offer.token}/")
    response = api(role).get(f"/api/offers/{offer.token}/")

    assert page.status_code == _page_status(role, {"buyer"})
    assert response.status_code == (200 if role == "buyer" else 404)
    if role == "buyer":
        assert response.json()["price"] in {"15.00", "14.00"}
        assert "token" in response.json()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["private_offer", "buyer_offer"])
def test_the_shops_side_of_an_offer_is_for_its_people(as_user, api, request, role, kind, shop_staff):
    offer = request.getfixturevalue(kind)
    urls = [f"/shops/olives-books/dashboard/offers/{offer.pk}/", "/shops/olives-books/dashboard/offers/"]

    for url in urls:
        assert as_user(role).get(url).status_code == _page_status(role, SHOP_SEES), url
    assert api(role).get(f"/api/shops/olives-books/offers/{offer.pk}/").status_code == (
        200 if role in SHOP_SEES else 404
    )
    listed = api(role).get("/api/shops/olives-books/offers/")
    assert listed.status_code == (200 if role in SHOP_SEES else 404)
    # Another shop's people asking under their own shop's address.
    if role == "other_shop_owner":
        assert as_user(role).get(f"/shops/oscars-records/dashboard/offers/{offer.pk}/").status_code == 404
        assert api(role).get(f"/api/shops/oscars-records/offers/{offer.pk}/").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_only_the_buyer_acts_on_their_side_of_an_offer(as_user, api, private_offer, buyer_address, role, shop_staff):
    before = offer_snapshot(private_offer)

    response = api(role).post(f"/api/offers/{private_offer.token}/actions/", {"action": "decline"}, format="json")
    page = as_user(role).post(f"/offers/{private_offer.token}/", {"action": "decline"})

    if role == "buyer":
        assert response.status_code == 200 and response.json()["state"] == "declined"
        return
    assert response.status_code == 404
    assert page.status_code == (302 if role == "anonymous" else 404)
    assert offer_snapshot(private_offer) == before


@pytest.mark.parametrize("role", ROLES)
def test_only_the_shops_people_answer_a_buyers_offer(as_user, api, buyer_offer, role, shop_staff):
    before = offer_snapshot(buyer_offer)

    response = api(role).post(
        f"/api/shops/olives-books/offers/{buyer_offer.pk}/actions/", {"action": "decline"}, format="json"
    )
    page = as_user(role).post(f"/shops/olives-books/dashboard/offers/{buyer_offer.pk}/", {"action": "decline"})

    if role in SHOP_SEES:
        assert response.status_code == 200 and response.json()["state"] == "declined"
        return
    assert response.status_code == 404
    assert page.status_code == (302 if role == "anonymous" else 404)
    assert offer_snapshot(buyer_offer) == before


@pytest.mark.parametrize("role", ROLES)
def test_only_the_shops_people_make_its_private_offers(as_user, api, atlas, buyer, role, shop_staff, other_shop):
    form = as_user(role).get(f"/shops/olives-books/dashboard/listings/{atlas.pk}/private-offer/")
    body = {"listing": atlas.pk, "buyer": "bea", "price": "15", "shipping_charge": "5", "ship_to": "JP"}
    response = api(role).post("/api/shops/olives-books/private-offers/", body, format="json")

    assert form.status_code == _page_status(role, SHOP_SEES)
    assert response.status_code == (201 if role in SHOP_SEES else 404)
    assert Offer.objects.count() == (1 if role in SHOP_SEES else 0)


def test_another_shops_listing_cannot_be_offered_under_ones_own_shop(api, shop, lp, buyer, other_shop):
    body = {"listing": lp.pk, "buyer": "bea", "price": "15", "shipping_charge": "5", "ship_to": "JP"}

    response = api("shop_owner").post("/api/shops/olives-books/private-offers/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"listing": ["No such listing in this shop."]}
    assert Offer.objects.count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_offer_terms_are_public_and_changed_by_the_shops_people_only(api, shop, role, shop_staff, other_shop):
    read = api(role).get("/api/shops/olives-books/offer-terms/")
    change = api(role).patch(
        "/api/shops/olives-books/offer-terms/", {"accepts_offers": True, "offer_response_days": 5}, format="json"
    )

    assert read.status_code == 200
    assert read.json() == {"accepts_offers": False, "offer_response_days": 3, "reservation_hours": 48}
    assert change.status_code == (200 if role in SHOP_SEES else 404)
    expected = (True, 5) if role in SHOP_SEES else (False, 3)
    terms = shop_terms(shop=shop)
    assert (terms.accepts_offers, terms.offer_response_days) == expected


def test_the_listing_page_offers_each_viewer_what_they_may_do(as_user, takes_offers, atlas, shop_staff, buyer):
    shop_person = _text(as_user("shop_staff").get(f"/listings/{atlas.pk}/"))
    visitor = _text(as_user("anonymous").get(f"/listings/{atlas.pk}/"))
    buyer_page = _text(as_user("buyer").get(f"/listings/{atlas.pk}/"))

    assert "Make a private offer" in shop_person and "Make the offer" not in shop_person
    assert "Make a private offer" not in visitor and "to offer a price" in visitor
    assert "Make a private offer" not in buyer_page and "Make the offer" in buyer_page
    services.offer_make(listing_id=atlas.pk, actor=buyer, price="15")
    assert "You offered 15.00 GBP" in _text(as_user("buyer").get(f"/listings/{atlas.pk}/"))


def test_the_listing_page_has_no_offer_form_when_the_shop_takes_no_offers(as_user, atlas, buyer):
    assert "Make an offer" not in _text(as_user("buyer").get(f"/listings/{atlas.pk}/"))


# --- The forms --------------------------------------------------------------------------------


def test_a_private_offer_from_the_listing_pages_form_reaches_the_buyer(
    as_user, atlas, shop_staff, buyer, japan_address
):
    shop_page = as_user("shop_staff")
    data = {
        "private-buyer": "bea",
        "private-price": "15.00",
        "private-shipping_charge": "12.00",
        "private-ship_to": "JP",
        "private-valid_days": "7",
        "private-message": "For you, to Tokyo.",
    }

    response = shop_page.post(f"/shops/olives-books/dashboard/listings/{atlas.pk}/private-offer/", data)

    offer = Offer.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/shops/olives-books/dashboard/offers/{offer.pk}/"
    buyer_page = as_user("buyer")
    page = _text(buyer_page.get(f"/offers/{offer.token}/"))
    assert (
        "A private offer from Olive's Books" in page and "12.00 GBP to Japan" in page and "For you, to Tokyo." in page
    )
    assert "Only you can see this offer." in page
    response = buyer_page.post(
        f"/offers/{offer.token}/",
        {"action": "order", "order-address": str(japan_address.pk), "order-payment_method": "bank_transfer"},
    )
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    assert (order.total, order.ship_country.code) == (Decimal("27.00"), "JP")


def test_a_refused_private_offer_shows_what_was_typed_and_why(as_user, atlas, buyer):
    data = {
        "private-buyer": "nobody",
        "private-price": "0",
        "private-shipping_charge": "12.00",
        "private-ship_to": "JP",
        "private-valid_days": "7",
        "private-message": "Typed with care.",
    }

    response = as_user("shop_owner").post(f"/shops/olives-books/dashboard/listings/{atlas.pk}/private-offer/", data)

    page = _text(response)
    assert response.status_code == 400
    assert "There is no one called “nobody” on Plural." in page and "Enter a price above zero." in page
    assert "Typed with care." in page and 'value="nobody"' in page
    assert Offer.objects.count() == 0


def test_a_buyers_offer_countered_and_accepted_on_the_pages(
    as_user, takes_offers, atlas, buyer, buyer_address, shop_owner
):
    buyer_page, shop_page = as_user("buyer"), as_user("shop_owner")

    refused = buyer_page.post(f"/listings/{atlas.pk}/offer/", {"offer-price": "-3", "offer-message": "Cheap?"})
    assert refused.status_code == 400
    assert "Enter a price above zero." in _text(refused) and "Cheap?" in _text(refused)
    assert Offer.objects.count() == 0

    made = buyer_page.post(f"/listings/{atlas.pk}/offer/", {"offer-price": "14", "offer-message": "Would you take 14?"})
    offer = Offer.objects.get()
    assert made["Location"] == f"/offers/{offer.token}/"
    second = buyer_page.post(f"/listings/{atlas.pk}/offer/", {"offer-price": "15"})
    assert second.status_code == 400 and "You already have an open offer on this listing" in _text(second)

    bad_counter = shop_page.post(
        f"/shops/olives-books/dashboard/offers/{offer.pk}/", {"action": "counter", "counter-price": "25"}
    )
    assert bad_counter.status_code == 400
    assert "Counter with less than the listing's price of 20.00 GBP, or decline the offer." in _text(bad_counter)
    countered = shop_page.post(
        f"/shops/olives-books/dashboard/offers/{offer.pk}/", {"action": "counter", "counter-price": "17"}
    )
    assert countered.status_code == 302

    accepted = buyer_page.post(f"/offers/{offer.token}/", {"action": "accept_counter"})
    assert accepted.status_code == 302
    page = _text(buyer_page.get(f"/offers/{offer.token}/"))
    assert "The copy is reserved for you until" in page and "Order for 17.00 GBP" in page
    assert Listing.objects.get(pk=atlas.pk).quantity == 1

    ordered = buyer_page.post(
        f"/offers/{offer.token}/",
        {"action": "order", "order-address": str(buyer_address.pk), "order-payment_method": "bank_transfer"},
    )
    order = Order.objects.get()
    assert ordered["Location"] == f"/orders/{order.pk}/"
    assert (order.items_total, order.total) == (Decimal("17.00"), Decimal("20.00"))


def test_the_shop_saves_its_offer_terms_on_its_order_terms_page(as_user, shop):
    client = as_user("shop_owner")

    refused = client.post(
        "/shops/olives-books/dashboard/order-terms/offers/", {"accepts_offers": "on", "offer_response_days": "40"}
    )
    saved = client.post(
        "/shops/olives-books/dashboard/order-terms/offers/", {"accepts_offers": "on", "offer_response_days": "5"}
    )

    assert refused.status_code == 400 and 'value="40"' in _text(refused)
    assert saved.status_code == 302
    assert (shop.order_terms.accepts_offers, shop.order_terms.offer_response_days) == (True, 5)
    assert "Buyers may offer a price on my listings" in _text(client.get("/shops/olives-books/dashboard/order-terms/"))


# --- Lists ------------------------------------------------------------------------------------


def test_the_buyers_list_holds_their_offers_and_the_private_offers_to_them(as_user, api, private_offer, buyer_offer):
    page = _text(as_user("buyer").get("/offers/"))
    other = _text(as_user("other_buyer").get("/offers/"))

    assert "Private offer on An Atlas of Rivers" in page and "Your offer on An Atlas of Rivers" in page
    assert "An Atlas of Rivers" not in other
    assert [o["kind"] for o in api("buyer").get("/api/offers/").json()["results"]] == ["buyer", "private"]
    assert api("other_buyer").get("/api/offers/").json()["results"] == []
    assert api("anonymous").get("/api/offers/").status_code in {401, 403}


@pytest.mark.parametrize("count", [1, 5])
def test_offer_lists_cost_the_same_whatever_their_length(
    as_user, api, takes_offers, shop, count, django_assert_num_queries
):
    buyers = [UserFactory(username=f"b{index}") for index in range(count)]
    for person in buyers:
        services.offer_make(listing_id=ListingFactory(shop=shop, price=Decimal("20")).pk, actor=person, price="10")
    shop_page, shop_api = as_user("shop_owner"), api("shop_owner")

    # session, user, shop, page count, page (with buyers and listings), notifications, messages
    with django_assert_num_queries(7):
        response = shop_page.get("/shops/olives-books/dashboard/offers/?state=all")
    assert _text(response).count("Offer on ") == count
    with django_assert_num_queries(3):  # shop, count, page
        assert len(shop_api.get("/api/shops/olives-books/offers/").json()["results"]) == count
    buyer_api = api(buyers[0])
    with django_assert_num_queries(2):  # count, page
        assert len(buyer_api.get("/api/offers/").json()["results"]) == 1


def test_an_offer_action_the_api_does_not_know_is_a_400(api, private_offer):
    response = api("buyer").post(f"/api/offers/{private_offer.token}/actions/", {"action": "counter"}, format="json")

    assert response.status_code == 400 and "action" in response.json()
    services.offer_decline(offer=private_offer, actor=private_offer.buyer, by=Actor.BUYER)
    refused = api("buyer").post(f"/api/offers/{private_offer.token}/actions/", {"action": "decline"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"offer": ["This offer was declined, so it cannot be declined now."]}


def test_ordering_an_expired_offer_on_the_page_says_so_and_orders_nothing(as_user, private_offer, japan_address):
    with time_machine.travel(private_offer.respond_by + datetime.timedelta(minutes=1), tick=False):
        response = as_user("buyer").post(
            f"/offers/{private_offer.token}/",
            {
                "action": "order",
                "order-address": str(japan_address.pk),
                "order-payment_method": "bank_transfer",
                "order-note": "Kept as typed.",
            },
        )

    page = _text(response)
    assert response.status_code == 400
    assert "This offer expired on" in page and "Kept as typed." in page
    assert Order.objects.count() == 0
    assert Offer.objects.get(pk=private_offer.pk).state == "open"


@pytest.mark.parametrize("role", ROLES)
def test_who_may_make_an_offer_on_a_listing(as_user, api, takes_offers, atlas, role, shop_staff, other_shop):
    page = as_user(role).post(f"/listings/{atlas.pk}/offer/", {"offer-price": "14"})
    response = api(role).post("/api/offers/", {"listing": atlas.pk, "price": "13"}, format="json")

    buyers = {"buyer", "other_buyer", "other_shop_owner", "staff_user"}  # anyone but the shop's own people
    if role == "anonymous":
        assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
        assert response.status_code in {401, 403}
    elif role in buyers:
        assert page.status_code == 302 and response.status_code == 400  # the second is one too many
        assert response.json() == {
            "price": ["You already have an open offer on this listing: see it under Your offers, or withdraw it first."]
        }
    else:
        assert page.status_code == 400 and response.status_code == 400
        assert response.json() == {"listing": ["You cannot make an offer to your own shop."]}
    assert Offer.objects.count() == (1 if role in buyers else 0)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_buyer_orders_an_offer(as_user, api, private_offer, japan_address, role, shop_staff):
    before = offer_snapshot(private_offer)

    response = api(role).post(f"/api/offers/{private_offer.token}/order/", {"address": japan_address.pk}, format="json")

    if role == "buyer":
        assert response.status_code == 201 and response.json()["total"] == "27.00"
        return
    assert response.status_code == 404
    assert offer_snapshot(private_offer) == before
    assert Order.objects.count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_only_the_shops_people_change_its_offer_terms_on_the_page(as_user, shop, role, shop_staff, other_shop):
    response = as_user(role).post(
        "/shops/olives-books/dashboard/order-terms/offers/", {"accepts_offers": "on", "offer_response_days": "4"}
    )

    assert response.status_code == (302 if role in SHOP_SEES | {"anonymous"} else 404)
    terms = shop_terms(shop=shop)
    assert (terms.accepts_offers, terms.offer_response_days) == ((True, 4) if role in SHOP_SEES else (False, 3))


@pytest.mark.parametrize("role", ROLES)
def test_only_the_shops_people_send_a_private_offer_from_the_page(as_user, atlas, buyer, role, shop_staff, other_shop):
    data = {
        "private-buyer": "bea",
        "private-price": "15",
        "private-shipping_charge": "5",
        "private-ship_to": "JP",
        "private-valid_days": "7",
    }

    response = as_user(role).post(f"/shops/olives-books/dashboard/listings/{atlas.pk}/private-offer/", data)

    assert response.status_code == (302 if role in SHOP_SEES | {"anonymous"} else 404)
    assert Offer.objects.count() == (1 if role in SHOP_SEES else 0)
