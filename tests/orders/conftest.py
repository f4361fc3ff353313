"""Fixtures of the orders tests: shops that take payment, listings, addresses, carts and orders."""

from decimal import Decimal

import pytest

from orders import services
from orders.models import Address, Cart, CartItem, Order, OrderDeadline, OrderEvent, OrderItem
from tests.factories import ListingFactory, ShopFactory, UserFactory


@pytest.fixture
def shop(shop):
    """Olive's Books (GB, GBP), taking bank transfers and cash on pickup."""
    shop.payment_methods = ["bank_transfer", "cash_on_pickup"]
    shop.processing_days = 2
    shop.save(update_fields=["payment_methods", "processing_days"])
    return shop


@pytest.fixture
def other_shop(other_shop):
    """Oscar's Records (NL, EUR), taking bank transfers, shipping to GB."""
    other_shop.payment_methods = ["bank_transfer"]
    other_shop.ships_to = ["GB", "DE"]
    other_shop.save(update_fields=["payment_methods", "ships_to"])
    return other_shop


@pytest.fixture
def third_shop(db):
    owner = UserFactory(username="tess", display_name="Tess Third", email="tess@example.com")
    return ShopFactory(
        name="Tess's Prints",
        slug="tess-prints",
        owner=owner,
        country="GB",
        currency="GBP",
        payment_methods=["cheque"],
        domestic_first_item=Decimal("2.00"),
        domestic_additional_item=Decimal("0.50"),
    )


@pytest.fixture
def atlas(shop):
    return ListingFactory(shop=shop, title="An Atlas of Rivers", price=Decimal("20.00"), quantity=2, sku="ATL-1")


@pytest.fixture
def lp(other_shop):
    return ListingFactory(shop=other_shop, title="Blue Train LP", price=Decimal("30.00"), currency="EUR", quantity=1)


@pytest.fixture
def print_listing(third_shop):
    return ListingFactory(shop=third_shop, title="Heron, linocut", price=Decimal("45.00"), quantity=1)


@pytest.fixture
def buyer_address(buyer):
    return services.address_create(
        user=buyer, full_name="Bea Buyer", line1="1 Harbour Row", city="Bristol", postal_code="BS1 4RN", country="GB"
    )


@pytest.fixture
def other_buyer_address(other_buyer):
    return services.address_create(
        user=other_buyer,
        full_name="Otto Other",
        line1="2 Quay Street",
        city="Bath",
        postal_code="BA1 1AA",
        country="GB",
    )


def fill_cart(user, *listings, quantity=1) -> Cart:
    cart, _ = Cart.objects.get_or_create(owner=user)
    for listing in listings:
        services.cart_add_item(cart=cart, listing_id=listing.pk, quantity=quantity)
    return cart


def place(user, address, *listings, key="key-1", quantity=1):
    """Fill `user`'s cart with `listings` and check out; the orders, by shop name."""
    fill_cart(user, *listings, quantity=quantity)
    checkout = services.checkout_place(buyer=user, idempotency_key=key, address_id=address.pk)
    return list(checkout.orders.order_by("shop_name"))


@pytest.fixture
def order(buyer, buyer_address, atlas):
    """A new order of one atlas from Olive's Books, shipped to Bristol."""
    [placed] = place(buyer, buyer_address, atlas)
    return placed


def snapshot(order: Order):
    """Everything about an order, to show that a refused action changed nothing."""
    return (
        list(Order.objects.filter(pk=order.pk).values()),
        list(OrderItem.objects.filter(order=order).values()),
        list(OrderEvent.objects.filter(order=order).values()),
        list(OrderDeadline.objects.filter(order=order).values()),
    )


def cart_snapshot(user):
    return list(CartItem.objects.filter(cart__owner=user).values("listing_id", "quantity", "price_seen"))


def addresses_snapshot(user):
    return list(Address.objects.filter(user=user).values())


# --- Deals: offers, notes and cases -----------------------------------------------------------


def ship(order, person):
    """Take a new order through acceptance, payment and shipping, as its shop's `person`."""
    order = services.order_accept(order=order, actor=person)
    order = services.order_mark_paid(order=order, actor=person)
    return services.order_ship(order=order, actor=person, carrier="Royal Mail", tracking_number="RM123GB")


@pytest.fixture
def delivered_order(order, shop_owner, buyer):
    """The atlas order, shipped and marked delivered by the buyer (23.00 GBP in all)."""
    from orders.lifecycle import Actor

    shipped = ship(order, shop_owner)
    return services.order_mark_delivered(order=shipped, actor=buyer, by=Actor.BUYER)


@pytest.fixture
def takes_offers(shop, shop_owner):
    """Olive's Books takes offers and answers within 3 days."""
    return services.shop_offer_terms_update(shop=shop, actor=shop_owner, accepts_offers=True, offer_response_days=3)


@pytest.fixture
def second_moderator(db):
    return UserFactory(username="milo", display_name="Milo Moderator", is_staff=True)


@pytest.fixture
def japan_address(buyer):
    return services.address_create(
        user=buyer, full_name="Bea Buyer", line1="1-2-3 Shibuya", city="Tokyo", postal_code="150-0002", country="JP"
    )


def offer_snapshot(offer):
    """Everything about an offer and its listing's stock, to show a refused step changed nothing."""
    from catalog.models import Listing
    from orders.models import Offer, OfferEvent

    return (
        list(Offer.objects.filter(pk=offer.pk).values()),
        list(OfferEvent.objects.filter(offer=offer).values()),
        list(Listing.objects.filter(pk=offer.listing_id).values("quantity", "status")),
    )


def case_snapshot(case):
    """Everything about a case and its order, to show a refused step changed nothing."""
    from orders.models import Case, CaseAccessLog, CaseProposal

    return (
        list(Case.objects.filter(pk=case.pk).values()),
        list(CaseProposal.objects.filter(case=case).values()),
        list(CaseAccessLog.objects.filter(case=case).values()),
        snapshot(case.order),
    )
