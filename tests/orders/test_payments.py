"""Payment providers: the manual one the shop marks paid, and a card processor added as one module."""

import json

import pytest
from django.test import Client

from notifications.models import Notification
from orders import services
from orders.lifecycle import Actor
from orders.models import Order
from orders.payments import options_for_shop
from tests.orders.conftest import fill_cart
from tests.orders.example_card_provider import sign

pytestmark = pytest.mark.django_db

WITH_CARD = ["orders.payments.manual.ManualProvider", "tests.orders.example_card_provider.ExampleCardProvider"]


def test_the_manual_provider_offers_the_shops_direct_methods_only(shop):
    shop.payment_methods = ["bank_transfer", "card", "cheque"]

    assert [(o.provider, o.method, o.label) for o in options_for_shop(shop)] == [
        ("manual", "bank_transfer", "Bank transfer"),
        ("manual", "cheque", "Cheque"),
    ]


def test_a_shop_taking_only_cards_cannot_take_orders_without_a_card_provider(buyer, shop, atlas):
    shop.payment_methods = ["card"]
    shop.save()
    from orders.selectors import cart_view

    view = cart_view(cart=fill_cart(buyer, atlas), user=buyer)

    assert view.groups[0].problems == ["Olive's Books has not said how it takes payment yet, so it cannot take orders."]


@pytest.fixture
def card_order(settings, buyer, buyer_address, shop, atlas):
    settings.ORDERS_PAYMENT_PROVIDERS = WITH_CARD
    shop.payment_methods = ["card", "bank_transfer"]
    shop.save()
    fill_cart(buyer, atlas)
    checkout = services.checkout_place(
        buyer=buyer, idempotency_key="card", address_id=buyer_address.pk, payment_methods={shop.pk: "card"}
    )
    return checkout.orders.get()


def _callback(order, charge="ch_1", signature=None):
    body = json.dumps({"order": order.pk, "charge": charge}).encode()
    return Client().post(
        "/orders/payments/examplecard/webhook/",
        body,
        content_type="application/json",
        headers={"X-Signature": signature if signature is not None else sign(body)},
    )


def test_a_card_processors_signed_webhook_marks_the_accepted_order_paid(card_order, shop_owner, buyer):
    assert (card_order.payment_provider, card_order.payment_method) == ("examplecard", "card")
    order = services.order_accept(order=card_order, actor=shop_owner)

    forged = _callback(order, signature="0" * 64)
    assert forged.status_code == 400
    assert Order.objects.get(pk=order.pk).paid_at is None

    response = _callback(order)
    repeated = _callback(order)

    order.refresh_from_db()
    assert response.json() == {"status": "paid"}
    assert repeated.json() == {"status": "already recorded"}
    assert (order.state, order.payment_reference) == ("paid", "ch_1")
    assert order.events.last().message == "Example Card Payments confirmed the payment."
    assert Notification.objects.filter(recipient=shop_owner, title=f"Order #{order.pk}: paid: you can ship it").exists()
    assert Notification.objects.filter(recipient=buyer, title=f"Order #{order.pk}: payment received").exists()


def test_a_webhook_before_acceptance_is_refused_and_changes_nothing(card_order):
    response = _callback(card_order)

    assert response.status_code == 409
    assert Order.objects.get(pk=card_order.pk).state == "new"


def test_a_card_payment_cannot_be_marked_paid_by_the_shop(card_order, shop_owner, as_user):
    services.order_accept(order=card_order, actor=shop_owner)

    page = as_user("shop_owner").get(f"/shops/olives-books/dashboard/orders/{card_order.pk}/").content.decode()

    assert "Mark as paid" not in page
    assert "Your card is charged 23.00 GBP when Olive&#x27;s Books accepts the order." not in page  # buyer's text


def test_the_manual_provider_has_no_webhook(client):
    assert client.post("/orders/payments/manual/webhook/").status_code == 404
    assert client.post("/orders/payments/nosuch/webhook/").status_code == 404


def test_a_refund_of_a_paid_card_order_goes_back_to_the_card(card_order, shop_owner, buyer):
    order = services.order_accept(order=card_order, actor=shop_owner)
    _callback(order)

    order = services.order_cancel(order=order, actor=buyer, by=Actor.BUYER)

    assert order.events.last().message == "Bea Buyer cancelled the order. 23.00 GBP go back to your card."
