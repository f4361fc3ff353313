"""Offers raced on PostgreSQL, each thread with its own database connection: the last copy goes
once whether bought through the cart or an offer, an offer ordered twice at once orders once, and
two of a shop's people accepting the same offer at once reserve one copy."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from catalog.models import Listing
from orders import services
from orders.lifecycle import Actor
from orders.models import Offer, Order
from sellers.models import ShopMember
from tests.factories import ListingFactory, ShopFactory, UserFactory
from tests.orders.test_concurrency import _buyer_with_cart, _race

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _private_offer(listing, buyer) -> Offer:
    return services.private_offer_make(
        listing=listing,
        actor=listing.shop.owner,
        buyer_username=buyer.username,
        price="9.00",
        shipping_charge="4.00",
        ship_to="GB",
        valid_days=3,
    )


def test_the_last_copy_goes_once_between_the_cart_and_a_private_offer(require_postgresql):
    shop = ShopFactory(payment_methods=["bank_transfer"])
    listing = ListingFactory(shop=shop, title="The Last Copy", quantity=1, price=Decimal("15.00"))
    carts = [_buyer_with_cart(index, listing) for index in range(3)]
    favoured = UserFactory(username="favoured")
    address = services.address_create(user=favoured, full_name="Fav", line1="1 Lane", city="Hull", country="GB")
    offer = _private_offer(listing, favoured)

    def attempt(racer):
        try:
            if racer == "offer":
                services.offer_order(offer=offer, actor=User.objects.get(pk=favoured.pk), address_id=address.pk)
            else:
                buyer_id, address_id = racer
                services.checkout_place(
                    buyer=User.objects.get(pk=buyer_id), idempotency_key=f"race-{buyer_id}", address_id=address_id
                )
        except ValidationError:
            return "refused"
        return "ordered"

    results = _race(attempt, ["offer", *carts])

    assert results.count("ordered") == 1
    assert Order.objects.count() == 1
    assert Listing.objects.filter(pk=listing.pk).values_list("quantity", "status").get() == (0, "sold_out")
    offer.refresh_from_db()
    assert (offer.state == "ordered") == (results[0] == "ordered")


def test_a_private_offer_ordered_four_times_at_once_orders_once(require_postgresql):
    shop = ShopFactory(payment_methods=["bank_transfer"])
    listing = ListingFactory(shop=shop, quantity=5)
    buyer = UserFactory(username="eager")
    address = services.address_create(user=buyer, full_name="Eager", line1="1 Lane", city="Hull", country="GB")
    offer = _private_offer(listing, buyer)

    def attempt(_):
        return services.offer_order(offer=offer, actor=User.objects.get(pk=buyer.pk), address_id=address.pk).pk

    results = _race(attempt, [1, 2, 3, 4])

    assert len(set(results)) == 1
    assert Order.objects.count() == 1
    assert Listing.objects.get(pk=listing.pk).quantity == 4


def test_two_of_the_shops_people_accepting_at_once_reserve_one_copy(require_postgresql):
    shop = ShopFactory(payment_methods=["bank_transfer"])
    helper = UserFactory(username="helper")
    ShopMember.objects.create(shop=shop, user=helper)
    services.shop_offer_terms_update(shop=shop, actor=shop.owner, accepts_offers=True, offer_response_days=2)
    listing = ListingFactory(shop=shop, quantity=3, price=Decimal("20.00"))
    offer = services.offer_make(listing_id=listing.pk, actor=UserFactory(username="haggler"), price="15")

    def attempt(person_id):
        try:
            services.offer_accept(offer=offer, actor=User.objects.get(pk=person_id), by=Actor.SHOP)
        except ValidationError as refused:
            return refused.message_dict["offer"][0]
        return "accepted"

    results = _race(attempt, [shop.owner_id, helper.pk])

    assert sorted(results) == ["This offer has been accepted, so it cannot be accepted now.", "accepted"]
    assert Listing.objects.get(pk=listing.pk).quantity == 2
    assert Offer.objects.get(pk=offer.pk).events.filter(transition="accept").count() == 1
