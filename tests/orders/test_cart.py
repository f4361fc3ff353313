"""The cart: grouped by shop, flagged (never silently changed), surviving sign-in; page and API."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from catalog.models import Listing
from orders import services
from orders.models import Cart, CartItem
from orders.selectors import SESSION_CART_KEY, cart_view
from tests.factories import TEST_PASSWORD, ListingFactory
from tests.orders.conftest import cart_snapshot, fill_cart

pytestmark = pytest.mark.django_db


def test_the_cart_groups_items_by_shop_with_shipping_and_a_subtotal_in_each_currency(buyer, atlas, lp, print_listing):
    cart = fill_cart(buyer, atlas, lp, print_listing)
    services.cart_set_quantity(cart=cart, listing_id=atlas.pk, quantity=2)

    view = cart_view(cart=cart, user=buyer)  # Bea lives in Britain: shipping there

    assert view.country == "GB"
    assert [
        (g.shop.name, g.currency, g.item_count, g.items_subtotal, g.shipping, g.total, g.is_ready) for g in view.groups
    ] == [
        ("Olive's Books", "GBP", 2, Decimal("40.00"), Decimal("4.00"), Decimal("44.00"), True),
        ("Oscar's Records", "EUR", 1, Decimal("30.00"), Decimal("9.00"), Decimal("39.00"), True),
        ("Tess's Prints", "GBP", 1, Decimal("45.00"), Decimal("2.00"), Decimal("47.00"), True),
    ]
    assert view.item_count == 4
    assert view.is_ready


def test_changes_since_adding_are_flagged_not_applied(buyer, atlas, lp, print_listing, other_shop, third_shop):
    cart = fill_cart(buyer, atlas, lp, print_listing)
    Listing.objects.filter(pk=atlas.pk).update(price=Decimal("18.00"))
    Listing.objects.filter(pk=lp.pk).update(status="paused")
    third_shop.is_on_vacation = True
    third_shop.save()

    view = cart_view(cart=cart, user=buyer)

    olive, oscar, tess = view.groups
    [atlas_line] = olive.lines
    assert (atlas_line.unit_price, atlas_line.item.price_seen, atlas_line.price_changed) == (
        Decimal("18.00"),
        Decimal("20.00"),
        True,
    )
    assert atlas_line.problems == ["The price changed from 20.00 GBP to 18.00 GBP since you added it."]
    assert oscar.lines[0].problems == ["No longer available: remove it to check out."]
    assert tess.problems == ["Tess's Prints is on vacation: it cannot take orders now."]
    assert not view.is_ready
    assert CartItem.objects.get(listing=atlas).price_seen == Decimal("20.00")


def test_a_shop_not_shipping_to_the_chosen_country_is_flagged_before_checkout(buyer, lp):
    cart = fill_cart(buyer, lp)

    services.cart_set_destination(cart=cart, user=buyer, country="FR")
    view = cart_view(cart=cart, user=buyer)

    assert view.groups[0].problems == ["Oscar's Records does not ship to France."]
    assert view.groups[0].shipping is None
    assert not view.is_ready


def test_a_listing_priced_in_another_currency_than_its_shops_is_flagged(buyer, shop):
    dollars = ListingFactory(shop=shop, currency="USD", title="Imported zine")
    cart = fill_cart(buyer, dollars)

    assert cart_view(cart=cart, user=buyer).groups[0].lines[0].problems == [
        "Priced in USD while Olive's Books charges in GBP: it cannot be ordered through the cart. Ask the shop."
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "sold_out", "quantity": 0}, {"listing": ["“An Atlas of Rivers” is sold out."]}),
        ({"status": "draft"}, {"listing": ["This listing is not for sale."]}),
    ],
)
def test_what_is_not_for_sale_cannot_be_added(buyer, atlas, change, message):
    Listing.objects.filter(pk=atlas.pk).update(**change)
    cart = Cart.objects.create(owner=buyer)

    with pytest.raises(ValidationError) as refused:
        services.cart_add_item(cart=cart, listing_id=atlas.pk)

    assert refused.value.message_dict == message
    assert not cart.items.exists()


def test_more_copies_than_in_stock_cannot_be_added(buyer, atlas):
    cart = fill_cart(buyer, atlas)
    before = cart_snapshot(buyer)

    with pytest.raises(ValidationError) as refused:
        services.cart_add_item(cart=cart, listing_id=atlas.pk, quantity=2)

    assert refused.value.message_dict == {
        "quantity": ["Only 2 of “An Atlas of Rivers” can be ordered (you have 1 in your cart)."]
    }
    assert cart_snapshot(buyer) == before


def test_a_guest_cart_survives_signing_in_through_the_login_form(buyer, atlas, lp):
    client = Client()
    client.post("/cart/add/", {"listing": atlas.pk, "quantity": 2})
    client.post("/cart/add/", {"listing": lp.pk, "quantity": 1})
    guest = Cart.objects.get(owner__isnull=True)
    fill_cart(buyer, lp)  # Bea already had the LP in her own cart

    response = client.post("/accounts/login/", {"login": "bea", "password": TEST_PASSWORD})

    assert response.status_code == 302
    assert not Cart.objects.filter(pk=guest.pk).exists()
    assert sorted(CartItem.objects.filter(cart__owner=buyer).values_list("listing__title", "quantity")) == [
        ("An Atlas of Rivers", 2),
        ("Blue Train LP", 1),
    ]
    assert SESSION_CART_KEY not in client.session
    assert 'Cart <span class="badge count">3' in client.get("/").content.decode()


def test_the_cart_page_shows_groups_flags_and_the_way_to_checkout(as_user, buyer, atlas, lp, django_assert_num_queries):
    fill_cart(buyer, atlas, lp)
    Listing.objects.filter(pk=lp.pk).update(price=Decimal("35.00"))
    client = as_user("buyer")

    page = client.get("/cart/").content.decode()

    assert 'From <a href="/shops/olives-books/">Olive&#x27;s Books</a>' in page
    assert "The price changed from 30.00 EUR to 35.00 EUR since you added it." in page
    assert "Accept the new price" in page
    assert "Fix what is marked above to check out." in page
    assert 'href="/checkout/"' not in page

    client.post("/cart/", {"action": "accept_price", "listing": lp.pk})
    page = client.get("/cart/").content.decode()
    assert 'href="/checkout/">Check out</a>' in page
    assert "<strong>74.00 EUR</strong>" not in page  # amounts in two currencies are never added up
    assert "<strong>23.00 GBP</strong>" in page and "<strong>44.00 EUR</strong>" in page


@pytest.mark.parametrize("count", [1, 6])
def test_the_cart_page_query_count_does_not_grow(as_user, buyer, shop, count, django_assert_num_queries):
    fill_cart(buyer, *[ListingFactory(shop=shop) for _ in range(count)])
    client = as_user("buyer")
    client.get("/cart/")

    # session, user, cart, items with listings and shops, own shops, addresses, notifications, messages
    with django_assert_num_queries(8):
        response = client.get("/cart/")

    assert response.status_code == 200


def test_cart_page_actions_change_quantity_remove_and_set_destination(as_user, buyer, atlas, lp):
    fill_cart(buyer, atlas, lp)
    client = as_user("buyer")

    client.post("/cart/", {"action": "quantity", "listing": atlas.pk, "quantity": 2})
    client.post("/cart/", {"action": "remove", "listing": lp.pk})
    client.post("/cart/", {"action": "destination", "country": "NL"})
    refused = client.post("/cart/", {"action": "quantity", "listing": atlas.pk, "quantity": 5}, follow=True)

    assert "Only 2 of “An Atlas of Rivers” can be ordered." in refused.content.decode()
    assert cart_snapshot(buyer) == [{"listing_id": atlas.pk, "quantity": 2, "price_seen": Decimal("20.00")}]
    assert Cart.objects.get(owner=buyer).country.code == "NL"


def test_the_cart_api_adds_changes_and_removes(api, atlas, lp):
    client = api("buyer")

    added = client.post("/api/cart/items/", {"listing": atlas.pk, "quantity": 1}, format="json")
    client.post("/api/cart/items/", {"listing": lp.pk}, format="json")
    changed = client.patch(f"/api/cart/items/{atlas.pk}/", {"quantity": 2}, format="json")
    removed = client.delete(f"/api/cart/items/{lp.pk}/")
    refused = client.post("/api/cart/items/", {"listing": atlas.pk, "quantity": 1}, format="json")
    moved = client.patch("/api/cart/", {"country": "NL"}, format="json")

    assert added.status_code == 201
    assert added.json()["groups"][0]["lines"][0]["title"] == "An Atlas of Rivers"
    assert changed.json()["item_count"] == 3
    assert [group["shop"] for group in removed.json()["groups"]] == ["olives-books"]
    assert refused.status_code == 400
    assert refused.json() == {"quantity": ["Only 2 of “An Atlas of Rivers” can be ordered (you have 2 in your cart)."]}
    body = moved.json()
    assert (body["country"], body["groups"][0]["shipping"], body["groups"][0]["total"]) == ("NL", "11.50", "51.50")


def test_a_guests_api_cart_lives_in_the_session(atlas):
    from rest_framework.test import APIClient

    client = APIClient()
    client.post("/api/cart/items/", {"listing": atlas.pk}, format="json")

    body = client.get("/api/cart/").json()

    assert (body["item_count"], body["country"], body["is_ready"]) == (1, None, False)
    assert Cart.objects.get().owner is None
