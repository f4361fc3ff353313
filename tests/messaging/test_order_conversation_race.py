"""The buyer and the shop's people writing about one order at the same moment, on PostgreSQL."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connections

from accounts.models import User
from messaging import services
from messaging.models import Conversation, Message
from orders import services as order_services
from orders.models import Order
from sellers.models import ShopMember
from tests.factories import ListingFactory, ShopFactory, UserFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_first_messages_sent_at_once_about_an_order_open_one_conversation(require_postgresql, settings):
    settings.MESSAGING_SEND_RATE_PER_MINUTE = 100
    owner = UserFactory(username="olive")
    shop = ShopFactory(owner=owner, payment_methods=["bank_transfer"])
    people = [owner] + [UserFactory(username=f"staff{index}") for index in range(3)]
    for person in people[1:]:
        ShopMember.objects.create(shop=shop, user=person, role=ShopMember.Role.STAFF)
    buyer = UserFactory(username="bea")
    address = order_services.address_create(user=buyer, full_name="Bea", line1="1 Row", city="Leeds", country="GB")
    listing = ListingFactory(shop=shop, price=Decimal("10.00"), quantity=1)
    order_services.cart_add_item(cart=order_services.cart_get_or_create(user=buyer, session={}), listing_id=listing.pk)
    order_services.checkout_place(buyer=buyer, idempotency_key="race", address_id=address.pk)
    order_id = Order.objects.get().pk
    writers = [buyer.pk] + [person.pk for person in people]
    barrier = threading.Barrier(len(writers))

    def write(user_id):
        try:
            barrier.wait(timeout=10)
            started = services.conversation_start_about_order(
                order=Order.objects.select_related("shop", "buyer").get(pk=order_id),
                author=User.objects.get(pk=user_id),
                body=f"About the order, from {user_id}",
            )
            return started.is_new
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(writers)) as pool:
        opened = list(pool.map(write, writers))

    assert sorted(opened) == [False] * (len(writers) - 1) + [True]
    conversation = Conversation.objects.get()
    assert conversation.order_id == order_id and conversation.buyer_id == buyer.pk
    assert Message.objects.filter(conversation=conversation).count() == len(writers)
