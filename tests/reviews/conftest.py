"""Fixtures of the reviews tests: shops that take payment, orders moved along to shipping
through the orders services, moderators, and clients for every role."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from catalog.models import Work
from notifications.models import Notification
from orders import services as order_services
from orders.lifecycle import Actor
from orders.models import Cart
from reviews.models import (
    Appeal,
    BuyerFeedback,
    Flag,
    HelpfulVote,
    ModerationDecision,
    Review,
    ReviewTally,
    Revision,
    SellerRating,
    ShopRatingMonth,
    ShopRatingSummary,
)
from tests.factories import ListingFactory, UserFactory


@pytest.fixture
def shop(shop):
    """Olive's Books (GB, GBP), taking bank transfers."""
    shop.payment_methods = ["bank_transfer"]
    shop.save(update_fields=["payment_methods"])
    return shop


@pytest.fixture
def other_shop(other_shop):
    """Oscar's Records (NL, EUR), taking bank transfers, shipping to GB."""
    other_shop.payment_methods = ["bank_transfer"]
    other_shop.ships_to = ["GB"]
    other_shop.save(update_fields=["payment_methods", "ships_to"])
    return other_shop


@pytest.fixture
def work(db):
    return Work.objects.create(title="An Atlas of Rivers", identifier_kind="isbn", identifier="9780000000019")


@pytest.fixture
def atlas(shop, work):
    return ListingFactory(
        shop=shop, title="An Atlas of Rivers", price=Decimal("20.00"), quantity=50, sku="ATL-1", work=work
    )


@pytest.fixture
def moderator(staff_user):
    """Stella, an operator (staff)."""
    return staff_user


@pytest.fixture
def second_moderator(db):
    """Mo, not staff, given the permission to moderate reviews."""
    person = UserFactory(username="mo", display_name="Mo Moderator", email="mo@example.com")
    person.user_permissions.add(Permission.objects.get(codename="moderate_review"))
    return person


def address_of(user):
    return user.addresses.first() or order_services.address_create(
        user=user, full_name=user.public_name, line1="1 Harbour Row", city="Bristol", country="GB"
    )


def place(user, *listings, key: str):
    """`user` buys one copy of each listing in one checkout; the orders."""
    cart, _ = Cart.objects.get_or_create(owner=user)
    for listing in listings:
        order_services.cart_add_item(cart=cart, listing_id=listing.pk)
    checkout = order_services.checkout_place(buyer=user, idempotency_key=key, address_id=address_of(user).pk)
    return list(checkout.orders.order_by("shop_name"))


def ship(order, *, deliver: bool = False):
    """Move a new order along to shipped (and delivered) as its shop's owner would."""
    owner = order.shop.owner
    order = order_services.order_accept(order=order, actor=owner)
    order = order_services.order_mark_paid(order=order, actor=owner)
    order = order_services.order_ship(order=order, actor=owner, carrier="Royal Mail", tracking_number="RM1")
    if deliver:
        order = order_services.order_mark_delivered(order=order, actor=order.buyer, by=Actor.BUYER)
    return order


def shipped_order(user, listing, *, key: str, deliver: bool = True):
    [order] = place(user, listing, key=key)
    return ship(order, deliver=deliver)


@pytest.fixture
def order(buyer, atlas):
    """Bea's order of one atlas from Olive's Books, shipped and delivered."""
    return shipped_order(buyer, atlas, key="bea-1")


@pytest.fixture
def item(order):
    return order.items.get()


REVIEW = {"stars": 4, "title": "A fine atlas", "text": "Clear maps, *well* bound."}
RATING = {"overall": 5, "item_as_described": 5, "communication": 4, "shipping_speed": 3, "comment": "Quick and kind."}


def snapshot():
    """Every row the reviews side keeps, and the notifications: to show that a refusal changed nothing."""
    models = (
        Review,
        SellerRating,
        BuyerFeedback,
        Revision,
        HelpfulVote,
        Flag,
        ModerationDecision,
        Appeal,
        ShopRatingSummary,
        ShopRatingMonth,
        ReviewTally,
        Notification,
    )
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}
