"""Who may see and change what, for every role, on the pages and the API: a buyer sees only their
orders, a shop's people only their shop's; everyone else gets a 404, for real and guessed ids."""

import pytest
from django.test import Client

from orders.models import Address
from tests.orders.conftest import addresses_snapshot, snapshot

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "buyer", "other_buyer", "shop_owner", "shop_staff", "other_shop_owner"]
BUYER_SEES = {"buyer"}
SHOP_SEES = {"shop_owner", "shop_staff"}
MISSING = 999_999


def _expected(role, allowed):
    return 200 if role in allowed else 404


@pytest.mark.parametrize("role", ROLES)
def test_buyer_order_page_and_api(as_user, api, order, role, other_shop):
    page = as_user(role).get(f"/orders/{order.pk}/")
    response = api(role).get(f"/api/orders/{order.pk}/")

    if role == "anonymous":
        assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    else:
        assert page.status_code == _expected(role, BUYER_SEES)
    assert response.status_code == _expected(role, BUYER_SEES)
    if role in BUYER_SEES:
        assert response.json()["reference"] == f"#{order.pk}"


@pytest.mark.parametrize("role", ROLES)
def test_shop_order_page_packing_slip_and_api(as_user, api, order, role, other_shop):
    expected = _expected(role, SHOP_SEES)
    client = as_user(role)
    urls = [
        f"/shops/olives-books/dashboard/orders/{order.pk}/",
        f"/shops/olives-books/dashboard/orders/{order.pk}/packing-slip/",
    ]
    for url in urls:
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302
        else:
            assert response.status_code == expected, url
    assert api(role).get(f"/api/shops/olives-books/orders/{order.pk}/").status_code == expected


@pytest.mark.parametrize("role", ["buyer", "other_buyer", "shop_owner", "other_shop_owner"])
def test_guessed_ids_look_exactly_like_missing_ones(as_user, api, order, role, other_shop):
    client, api_client = as_user(role), api(role)
    not_theirs = [MISSING] if role == "buyer" else [order.pk, MISSING]

    for order_id in not_theirs:
        assert client.get(f"/orders/{order_id}/").status_code == 404
        assert api_client.get(f"/api/orders/{order_id}/").status_code == 404
        assert client.get(f"/checkout/{order_id}/").status_code == 404
    # Another shop's people asking for the order under their own shop's address.
    assert client.get(f"/shops/oscars-records/dashboard/orders/{order.pk}/").status_code == 404
    assert api_client.get(f"/api/shops/oscars-records/orders/{order.pk}/").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_only_the_buyer_changes_the_buyers_side(api, as_user, order, role, other_shop):
    before = snapshot(order)
    cancel = {"transition": "cancel", "reason": ""}

    response = api(role).post(f"/api/orders/{order.pk}/transitions/", cancel, format="json")
    page = as_user(role).post(f"/orders/{order.pk}/", {"action": "cancel"})

    if role == "buyer":
        assert response.status_code == 200
        assert response.json()["state"] == "cancelled"
        return
    assert response.status_code == 404
    assert page.status_code == (302 if role == "anonymous" else 404)
    assert snapshot(order) == before


@pytest.mark.parametrize("role", ROLES)
def test_only_the_shops_people_change_the_shops_side(api, as_user, order, role, other_shop):
    before = snapshot(order)

    response = api(role).post(
        f"/api/shops/olives-books/orders/{order.pk}/transitions/", {"transition": "accept"}, format="json"
    )

    if role in SHOP_SEES:
        assert response.status_code == 200
        assert response.json()["state"] == "accepted"
        return
    page = as_user(role).post(f"/shops/olives-books/dashboard/orders/{order.pk}/", {"action": "accept"})
    assert response.status_code == 404
    assert page.status_code == (302 if role == "anonymous" else 404)
    assert snapshot(order) == before


@pytest.mark.parametrize("role", ROLES)
def test_shop_lists_terms_and_statements_are_the_shops_people_only(api, as_user, order, role, other_shop):
    expected = _expected(role, SHOP_SEES)
    api_client, client = api(role), as_user(role)
    for url in [
        "/api/shops/olives-books/orders/",
        "/api/shops/olives-books/order-terms/",
        "/api/shops/olives-books/statements/",
        "/api/shops/olives-books/statements/2026-05/",
    ]:
        assert api_client.get(url).status_code == expected, url
    for url in [
        "/shops/olives-books/dashboard/orders/",
        "/shops/olives-books/dashboard/order-terms/",
        "/shops/olives-books/dashboard/statements/",
        "/shops/olives-books/dashboard/statements/2026-05/",
        "/shops/olives-books/dashboard/statements/2026-05/csv/",
    ]:
        assert client.get(url).status_code == (302 if role == "anonymous" else expected), url
    if role not in SHOP_SEES:
        refused = api_client.patch("/api/shops/olives-books/order-terms/", {"return_window_days": 0}, format="json")
        assert refused.status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_order_lists_show_only_ones_own(api, order, role, other_shop):
    response = api(role).get("/api/orders/")

    if role == "anonymous":
        assert response.status_code == 403  # nothing to reveal: there is no one to list orders for
        return
    assert [item["id"] for item in response.json()["results"]] == ([order.pk] if role in BUYER_SEES else [])


@pytest.mark.parametrize("role", ROLES)
def test_addresses_are_their_owners_only(api, as_user, buyer_address, role, people):
    before = addresses_snapshot(buyer_address.user)
    api_client, client = api(role), as_user(role)

    got = api_client.get(f"/api/addresses/{buyer_address.pk}/")
    changed = api_client.patch(f"/api/addresses/{buyer_address.pk}/", {"city": "Elsewhere"}, format="json")
    page = client.get(f"/accounts/addresses/{buyer_address.pk}/")
    deleted = client.post(f"/accounts/addresses/{buyer_address.pk}/delete/")

    if role == "buyer":
        assert (got.status_code, changed.status_code, page.status_code, deleted.status_code) == (200, 200, 200, 302)
        assert not Address.objects.filter(pk=buyer_address.pk).exists()
        return
    assert (got.status_code, changed.status_code) == (404, 404)
    assert page.status_code == deleted.status_code == (302 if role == "anonymous" else 404)
    assert addresses_snapshot(buyer_address.user) == before


def test_checkout_confirmation_is_the_buyers_only(as_user, order):
    url = f"/checkout/{order.checkout_id}/"

    assert as_user("buyer").get(url).status_code == 200
    assert as_user("other_buyer").get(url).status_code == 404
    assert as_user("shop_owner").get(url).status_code == 404
    assert Client().get(url).status_code == 302


def test_state_changing_pages_need_the_csrf_token(buyer, order):
    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)
    before = snapshot(order)

    response = client.post(f"/orders/{order.pk}/", {"action": "cancel"})

    assert response.status_code == 403
    assert snapshot(order) == before
