"""Checkout: one order per shop with a snapshot, stock taken, idempotency, refusals that change nothing."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from catalog.models import Listing
from notifications.models import Notification
from orders import services
from orders.models import CartItem, Checkout, Order, OrderDeadline
from tests.factories import ListingFactory
from tests.orders.conftest import cart_snapshot, fill_cart, place

pytestmark = pytest.mark.django_db


def test_checkout_makes_one_order_per_shop_with_a_snapshot(
    buyer, buyer_address, shop, other_shop, atlas, lp, shop_staff, settings
):
    settings.ORDERS_COMMISSION_RATE = Decimal("0.05")
    fill_cart(buyer, atlas, lp)
    services.cart_set_quantity(cart=buyer.cart, listing_id=atlas.pk, quantity=2)

    checkout = services.checkout_place(
        buyer=buyer,
        idempotency_key="k1",
        address_id=buyer_address.pk,
        payment_methods={shop.pk: "cash_on_pickup"},
        notes={shop.pk: "Please wrap it well."},
    )

    olive, oscar = checkout.orders.order_by("shop_name")
    assert (olive.shop, olive.currency, olive.state, olive.payment_method, olive.buyer_note) == (
        shop,
        "GBP",
        "new",
        "cash_on_pickup",
        "Please wrap it well.",
    )
    # Two atlases at 20.00, domestic shipping 3.00 + 1.00.
    assert (olive.items_total, olive.shipping_total, olive.total, olive.commission) == (
        Decimal("40.00"),
        Decimal("4.00"),
        Decimal("44.00"),
        Decimal("2.20"),
    )
    assert [(i.title, i.unit_price, i.quantity, i.line_total, i.sku) for i in olive.items.all()] == [
        ("An Atlas of Rivers", Decimal("20.00"), 2, Decimal("40.00"), "ATL-1")
    ]
    # The LP ships from the Netherlands to Britain: the international rate, in euros.
    assert (oscar.currency, oscar.items_total, oscar.shipping_total, oscar.total, oscar.payment_method) == (
        "EUR",
        Decimal("30.00"),
        Decimal("9.00"),
        Decimal("39.00"),
        "bank_transfer",
    )
    assert olive.address_lines == ["Bea Buyer", "1 Harbour Row", "BS1 4RN Bristol", "United Kingdom"]
    assert (olive.shop_name, olive.processing_days, olive.return_window_days) == ("Olive's Books", 2, 14)
    # Stock taken; the last copies sold out, as the catalog keeps it.
    assert Listing.objects.get(pk=atlas.pk).quantity == 0
    assert Listing.objects.get(pk=atlas.pk).status == "sold_out"
    assert Listing.objects.get(pk=lp.pk).status == "sold_out"
    assert not CartItem.objects.filter(cart__owner=buyer).exists()
    # Every person of the shop hears of the new order; the timeline starts; timers run.
    assert sorted(Notification.objects.filter(kind="order.new").values_list("recipient__username", "title")) == [
        ("olive", f"New order #{olive.pk} from Bea Buyer"),
        ("oscar", f"New order #{oscar.pk} from Bea Buyer"),
        ("sam", f"New order #{olive.pk} from Bea Buyer"),
    ]
    assert [e.message for e in olive.events.all()] == ["Bea Buyer placed the order."]
    assert sorted(OrderDeadline.objects.filter(order=olive).values_list("timer", flat=True)) == [
        "accept",
        "cancel_unaccepted",
    ]


def test_the_snapshot_keeps_what_was_bought_when_the_listing_and_shop_change_later(buyer, buyer_address, shop, atlas):
    [order] = place(buyer, buyer_address, atlas)

    Listing.objects.filter(pk=atlas.pk).update(title="Renamed", price=Decimal("99.00"))
    shop.name = "Olive's New Name"
    shop.save()

    order.refresh_from_db()
    assert order.shop_name == "Olive's Books"
    assert [(item.title, item.unit_price) for item in order.items.all()] == [("An Atlas of Rivers", Decimal("20.00"))]


def test_a_second_submission_with_the_same_key_returns_the_first_checkout(buyer, buyer_address, atlas):
    fill_cart(buyer, atlas)
    first = services.checkout_place(buyer=buyer, idempotency_key="same", address_id=buyer_address.pk)
    fill_cart(buyer, atlas)  # the cart is filled again, as if the first response never came back

    again = services.checkout_place(buyer=buyer, idempotency_key="same", address_id=buyer_address.pk)

    assert again.pk == first.pk
    assert Checkout.objects.count() == 1
    assert Order.objects.count() == 1
    assert Listing.objects.get(pk=atlas.pk).quantity == 1


def test_the_database_refuses_a_second_checkout_with_the_same_key(buyer):
    from django.db import IntegrityError, transaction

    Checkout.objects.create(buyer=buyer, idempotency_key="k")
    with pytest.raises(IntegrityError), transaction.atomic():
        Checkout.objects.create(buyer=buyer, idempotency_key="k")


def test_an_empty_cart_cannot_be_checked_out(buyer, buyer_address):
    with pytest.raises(ValidationError) as refused:
        services.checkout_place(buyer=buyer, idempotency_key="k", address_id=buyer_address.pk)

    assert refused.value.message_dict == {"cart": ["Your cart is empty."]}
    assert not Checkout.objects.exists()


def test_a_checkout_without_an_address_of_ones_own_changes_nothing(buyer, other_buyer_address, atlas):
    fill_cart(buyer, atlas)
    before = cart_snapshot(buyer)

    with pytest.raises(ValidationError) as refused:
        services.checkout_place(buyer=buyer, idempotency_key="k", address_id=other_buyer_address.pk)

    assert refused.value.message_dict["address"] == ["Choose the address to send the order to."]
    assert cart_snapshot(buyer) == before
    assert not Order.objects.exists()
    assert Listing.objects.get(pk=atlas.pk).quantity == 2


def test_a_quantity_above_stock_is_refused_and_nothing_is_ordered(buyer, buyer_address, atlas, lp):
    fill_cart(buyer, atlas, lp)
    services.cart_set_quantity(cart=buyer.cart, listing_id=atlas.pk, quantity=2)
    Listing.objects.filter(pk=atlas.pk).update(quantity=1)  # someone bought one meanwhile

    with pytest.raises(ValidationError) as refused:
        services.checkout_place(buyer=buyer, idempotency_key="k", address_id=buyer_address.pk)

    assert refused.value.message_dict["cart"] == [
        "“An Atlas of Rivers”: Only 1 copy is left: lower the quantity.",
        "Nothing was ordered: fix these in your cart first.",
    ]
    assert not Order.objects.exists()
    assert Listing.objects.get(pk=lp.pk).quantity == 1


def test_a_changed_price_must_be_accepted_before_checkout(buyer, buyer_address, atlas):
    fill_cart(buyer, atlas)
    Listing.objects.filter(pk=atlas.pk).update(price=Decimal("22.00"))

    with pytest.raises(ValidationError) as refused:
        services.checkout_place(buyer=buyer, idempotency_key="k", address_id=buyer_address.pk)
    assert refused.value.message_dict["cart"][0] == (
        "“An Atlas of Rivers”: The price changed from 20.00 GBP to 22.00 GBP since you added it."
    )
    assert not Order.objects.exists()

    assert services.cart_accept_prices(cart=buyer.cart) == 1
    checkout = services.checkout_place(buyer=buyer, idempotency_key="k", address_id=buyer_address.pk)

    assert checkout.orders.get().items_total == Decimal("22.00")


def test_a_shop_that_does_not_ship_to_the_address_is_refused(buyer, lp):
    address = services.address_create(user=buyer, full_name="Bea", line1="1 Rue", city="Lyon", country="FR")
    fill_cart(buyer, lp)

    with pytest.raises(ValidationError) as refused:
        services.checkout_place(buyer=buyer, idempotency_key="k", address_id=address.pk)

    assert refused.value.message_dict["cart"][0] == "Oscar's Records: Oscar's Records does not ship to France."
    assert not Order.objects.exists()


def test_a_payment_method_the_shop_does_not_take_is_refused(buyer, buyer_address, shop, atlas):
    fill_cart(buyer, atlas)

    with pytest.raises(ValidationError) as refused:
        services.checkout_place(
            buyer=buyer, idempotency_key="k", address_id=buyer_address.pk, payment_methods={shop.pk: "card"}
        )

    assert refused.value.message_dict == {"payment_methods": ["Olive's Books does not take payment by card."]}
    assert not Order.objects.exists()


def test_the_last_copy_taken_between_cart_and_checkout_is_refused_with_a_clear_message(
    buyer, buyer_address, other_buyer, other_buyer_address, lp
):
    fill_cart(buyer, lp)
    fill_cart(other_buyer, lp)
    services.checkout_place(buyer=other_buyer, idempotency_key="first", address_id=other_buyer_address.pk)

    with pytest.raises(ValidationError) as refused:
        services.checkout_place(buyer=buyer, idempotency_key="second", address_id=buyer_address.pk)

    assert refused.value.message_dict["cart"][0] == "“Blue Train LP”: No longer available: remove it to check out."
    assert Order.objects.filter(buyer=buyer).count() == 0
    assert Listing.objects.get(pk=lp.pk).quantity == 0


def test_the_commission_rate_of_a_shop_overrides_the_site_wide_one(buyer, buyer_address, shop, atlas, settings):
    from orders.models import ShopTerms

    settings.ORDERS_COMMISSION_RATE = Decimal("0.05")
    ShopTerms.objects.create(shop=shop, commission_rate=Decimal("0.0300"))

    [order] = place(buyer, buyer_address, atlas)

    assert (order.commission_rate, order.commission) == (Decimal("0.0300"), Decimal("0.69"))


def test_one_cannot_buy_from_ones_own_shop(shop_owner, shop):
    mine = ListingFactory(shop=shop)
    from orders.models import Cart

    cart = Cart.objects.create(owner=shop_owner)
    with pytest.raises(ValidationError) as refused:
        services.cart_add_item(cart=cart, listing_id=mine.pk)

    assert refused.value.message_dict == {"listing": ["You cannot buy from your own shop."]}
    assert not cart.items.exists()
