"""Conversations about an order, private offers made in a conversation, and what a shop's
conversations brought it."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from messaging import selectors, services
from messaging.models import Conversation, Message
from notifications.models import Notification
from orders import services as order_services
from orders.lifecycle import Actor, OfferState
from orders.models import Offer, Order
from tests.factories import ListingFactory


@pytest.fixture
def shop(shop):
    """Olive's Books (GB, GBP) takes bank transfers."""
    shop.payment_methods = ["bank_transfer"]
    shop.save(update_fields=["payment_methods"])
    return shop


@pytest.fixture
def atlas(shop):
    return ListingFactory(shop=shop, title="An Atlas of Rivers", price=Decimal("20.00"), quantity=3)


@pytest.fixture
def record(other_shop):
    return ListingFactory(shop=other_shop, title="Blue Train LP", price=Decimal("30.00"), quantity=1)


@pytest.fixture
def address(buyer):
    return order_services.address_create(
        user=buyer, full_name="Bea Buyer", line1="1 Harbour Row", city="Bristol", postal_code="BS1 4RN", country="GB"
    )


def place_order(buyer, address, listing, key="key-1") -> Order:
    cart = order_services.cart_get_or_create(user=buyer, session={})
    cart.items.all().delete()
    order_services.cart_add_item(cart=cart, listing_id=listing.pk)
    checkout = order_services.checkout_place(buyer=buyer, idempotency_key=key, address_id=address.pk)
    return checkout.orders.get()


@pytest.fixture
def order(buyer, address, atlas):
    return place_order(buyer, address, atlas)


@pytest.fixture
def asked(buyer, shop, atlas, shop_staff):
    """Bea asked Olive's Books about the atlas."""
    return services.conversation_start(buyer=buyer, shop=shop, listing=atlas, body="Is it complete?").conversation


def kinds(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("kind", flat=True))


# --- Conversations about an order ---------------------------------------------------------------


def test_the_buyer_writes_about_an_order_from_its_page_and_the_shop_answers_from_its_own(
    as_user, buyer, shop_owner, shop_staff, order
):
    buyer_client = as_user(buyer)
    order_page = buyer_client.get(f"/orders/{order.pk}/")
    assert f'href="/orders/{order.pk}/message/"' in order_page.content.decode()

    form = buyer_client.get(f"/orders/{order.pk}/message/")
    assert form.status_code == 200
    sent = buyer_client.post(f"/orders/{order.pk}/message/", {"body": "Could you wrap it as a gift?"})
    conversation = Conversation.objects.get(order=order)
    assert sent.status_code == 302
    assert (conversation.buyer, conversation.shop, conversation.listing) == (buyer, order.shop, None)
    assert conversation.subject == f"Order #{order.pk} from Olive's Books"
    assert kinds(shop_owner)[-1] == "message.new"

    # The thread shows the order at its top, linking to each side's own order page.
    buyer_thread = buyer_client.get(conversation.get_absolute_url()).content.decode()
    assert f'<a href="/orders/{order.pk}/">your order #{order.pk}</a>' in buyer_thread
    shop_client = as_user(shop_staff)
    shop_thread = shop_client.get(conversation.get_absolute_url()).content.decode()
    assert f'<a href="/shops/olives-books/dashboard/orders/{order.pk}/">order #{order.pk}</a>' in shop_thread

    # From the shop's order page the same conversation continues; the buyer's link leads there too.
    shop_order_url = f"/shops/olives-books/dashboard/orders/{order.pk}/message/"
    assert shop_order_url in shop_client.get(f"/shops/olives-books/dashboard/orders/{order.pk}/").content.decode()
    assert shop_client.get(shop_order_url).url == conversation.get_absolute_url()
    shop_client.post(shop_order_url, {"body": "Of course, in brown paper."})
    assert buyer_client.get(f"/orders/{order.pk}/message/").url == conversation.get_absolute_url()
    assert Conversation.objects.filter(order=order).count() == 1
    assert list(conversation.messages.values_list("body", "for_shop")) == [
        ("Could you wrap it as a gift?", False),
        ("Of course, in brown paper.", True),
    ]


def test_the_shop_starts_the_conversation_about_an_order_through_the_api_and_the_buyer_continues(
    api, buyer, shop_owner, order
):
    started = api(shop_owner).post(
        f"/api/shops/olives-books/orders/{order.pk}/conversation/", {"body": "Your atlas ships on Monday."}
    )
    assert started.status_code == 201
    assert started.json()["context"] == {
        "kind": "order",
        "id": order.pk,
        "title": f"Order #{order.pk}",
        "url": f"/shops/olives-books/dashboard/orders/{order.pk}/",
    }
    assert started.json()["role"] == "shop"
    answered = api(buyer).post(f"/api/orders/{order.pk}/conversation/", {"body": "Thank you!"})
    assert answered.status_code == 200
    assert answered.json()["id"] == started.json()["id"]
    assert answered.json()["context"]["url"] == f"/orders/{order.pk}/"
    assert api(buyer).get(f"/api/orders/{order.pk}/conversation/").json()["id"] == started.json()["id"]
    listed = api(buyer).get("/api/conversations/").json()["results"]
    assert [item["context"]["kind"] for item in listed] == ["order"]
    assert "message.new" in kinds(buyer)


@pytest.mark.parametrize("role", ["other_buyer", "other_shop_owner", "staff_user"])
def test_only_the_orders_buyer_and_the_shops_people_write_about_it(as_user, api, people, role, order, other_shop):
    person = people(role)
    client = as_user(person)
    assert client.get(f"/orders/{order.pk}/message/").status_code == 404
    assert client.post(f"/orders/{order.pk}/message/", {"body": "Hello"}).status_code == 404
    assert client.post(f"/shops/olives-books/dashboard/orders/{order.pk}/message/", {"body": "Hi"}).status_code == 404
    own_shop = f"/shops/oscars-records/dashboard/orders/{order.pk}/message/"
    assert client.post(own_shop, {"body": "Hi"}).status_code == 404
    assert api(person).post(f"/api/orders/{order.pk}/conversation/", {"body": "Hi"}).status_code == 404
    shop_api = f"/api/shops/olives-books/orders/{order.pk}/conversation/"
    assert api(person).post(shop_api, {"body": "Hi"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.conversation_start_about_order(order=order, author=person, body="Hello")
    assert not Conversation.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in_and_nothing_is_written(client, api, order):
    assert client.post(f"/orders/{order.pk}/message/", {"body": "Hi"}).status_code == 302
    assert api().post(f"/api/orders/{order.pk}/conversation/", {"body": "Hi"}).status_code in {401, 403}
    assert not Conversation.objects.exists()


def test_an_empty_message_about_an_order_is_refused_and_a_block_holds(as_user, buyer, shop, shop_owner, order):
    response = as_user(buyer).post(f"/orders/{order.pk}/message/", {"body": "  "})
    assert response.status_code == 400
    assert "Write a message." in response.content.decode()
    services.block_create(actor=shop_owner, blocked=buyer, shop=shop)
    with pytest.raises(ValidationError, match="does not accept messages"):
        services.conversation_start_about_order(order=order, author=buyer, body="Hello?")
    assert not Conversation.objects.exists()


def test_the_database_keeps_one_conversation_per_order_with_one_context_and_keeps_the_order(buyer, shop, atlas, order):
    services.conversation_start_about_order(order=order, author=buyer, body="Hello")
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.create(buyer=buyer, shop=shop, order=order, subject="Again")
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.create(buyer=buyer, shop=shop, order=order, listing=atlas, subject="Both")
    with pytest.raises(ProtectedError):
        Conversation.objects.get(order=order).order.delete()


# --- Private offers in a conversation -----------------------------------------------------------


def test_the_shop_makes_an_offer_in_the_thread_and_the_buyer_sees_it_once_unread_with_a_way_to_accept(
    as_user, buyer, shop_owner, shop_staff, asked, atlas
):
    before = asked.last_message_at
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        response = as_user(shop_staff).post(
            f"/messages/{asked.pk}/offer/",
            {
                "offer-listing": str(atlas.pk),
                "offer-price": "15.00",
                "offer-shipping_charge": "3.50",
                "offer-ship_to": "FR",
                "offer-valid_days": "5",
                "offer-message": "For you, with a map case.",
            },
        )
    offer = Offer.objects.get()
    message = Message.objects.get(offer=offer)
    assert response.status_code == 302 and response.url == message.get_absolute_url()
    assert (offer.conversation, offer.buyer, offer.listing, offer.made_by) == (asked, buyer, atlas, shop_staff)
    assert (offer.price, offer.shipping_charge, offer.ship_to.code) == (Decimal("15.00"), Decimal("3.50"), "FR")
    assert message.for_shop and message.author == shop_staff
    asked.refresh_from_db()
    assert asked.last_message == message and asked.last_message_at > before
    # Told once, by the offer's own notification; the message adds no second one.
    assert kinds(buyer) == ["offer.received"]
    assert kinds(shop_owner) == ["message.new"]  # Bea's question only
    assert selectors.unread_conversation_count(user=buyer) == 1
    assert [c.pk for c in selectors.inbox(user=buyer)] == [asked.pk]
    assert selectors.inbox(user=buyer)[0].viewer_unread == 1

    thread = as_user(buyer).get(asked.get_absolute_url()).content.decode()
    assert "Private offer" in thread and '<span class="offer-state">Open</span>' in thread
    assert f'href="/offers/{offer.token}/"' in thread and "See the offer and accept it" in thread
    assert "For you, with a map case." in thread
    # Among the messages, in time order: after the question.
    assert thread.index("Is it complete?") < thread.index("Private offer")
    offer_page = as_user(buyer).get(f"/offers/{offer.token}/").content.decode()
    assert f'<a href="/messages/{asked.pk}/">your conversation</a>' in offer_page
    shop_thread = as_user(shop_owner).get(asked.get_absolute_url()).content.decode()
    assert offer.token not in shop_thread
    assert f'href="/shops/olives-books/dashboard/offers/{offer.pk}/"' in shop_thread


def make_offer(conversation, actor, **changes):
    values = {"price": "15.00", "shipping_charge": "3.00", "ship_to": "GB", "valid_days": 5, **changes}
    return services.conversation_offer_make(conversation=conversation, actor=actor, **values)


def test_the_offers_state_shows_in_the_thread_as_it_changes(as_user, buyer, shop_owner, asked, atlas, address):
    ordered = make_offer(asked, shop_owner)
    declined = make_offer(asked, shop_owner, price="14.00")
    lapsing = make_offer(asked, shop_owner, price="13.00", valid_days=1)
    order = order_services.offer_order(offer=ordered, actor=buyer, address_id=address.pk)
    order_services.offer_decline(offer=declined, actor=buyer, by=Actor.BUYER)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2)):
        thread = as_user(buyer).get(asked.get_absolute_url()).content.decode()
    states = [part.split("</span>")[0] for part in thread.split('<span class="offer-state">')[1:]]
    assert states == ["Accepted and ordered", "Declined", "Expired"]
    assert order.buyer == buyer and Offer.objects.get(pk=ordered.pk).state == OfferState.ORDERED
    assert Offer.objects.get(pk=lapsing.pk).state == OfferState.OPEN  # the timer has not run; it reads expired


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"offer-price": "-5"}, "price", "Enter a price above zero."),
        ({"offer-shipping_charge": "-1"}, "shipping_charge", "The shipping charge cannot be negative."),
        ({"offer-valid_days": "0"}, "valid_days", "Enter between 1 and"),
        ({"offer-valid_days": "-3"}, "valid_days", "Enter between 1 and"),
    ],
)
def test_bad_offer_input_is_refused_clearly_keeping_what_was_typed(
    as_user, shop_owner, asked, atlas, changes, field, error
):
    data = {
        "offer-listing": str(atlas.pk),
        "offer-price": "15.00",
        "offer-shipping_charge": "3.00",
        "offer-ship_to": "GB",
        "offer-valid_days": "5",
        "offer-message": "A kind note",
        **changes,
    }
    response = as_user(shop_owner).post(f"/messages/{asked.pk}/offer/", data)
    page = response.content.decode()
    assert response.status_code == 400
    assert error in page
    assert f'value="{data[f"offer-{field}"]}"' in page and "A kind note" in page
    assert '<details class="private-offer" id="private-offer" open>' in page
    assert not Offer.objects.exists()
    assert asked.messages.count() == 1


def test_an_offer_for_another_shops_listing_is_refused(as_user, api, shop_owner, asked, record):
    response = as_user(shop_owner).post(
        f"/messages/{asked.pk}/offer/",
        {
            "offer-listing": str(record.pk),
            "offer-price": "15.00",
            "offer-shipping_charge": "3.00",
            "offer-ship_to": "GB",
            "offer-valid_days": "5",
        },
    )
    assert response.status_code == 400  # not among the choices
    refused = api(shop_owner).post(
        f"/api/conversations/{asked.pk}/offers/",
        {"listing": record.pk, "price": "15.00", "shipping_charge": "3.00", "ship_to": "GB"},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["listing"] == ["Choose one of the listings of Olive's Books."]
    with pytest.raises(ValidationError):
        make_offer(asked, shop_owner, listing_id=record.pk)
    assert not Offer.objects.exists()


def test_the_buyer_another_shop_and_moderators_cannot_make_offers_in_a_conversation(
    as_user, api, buyer, other_shop_owner, staff_user, asked, atlas
):
    data = {"offer-price": "15.00", "offer-shipping_charge": "3.00", "offer-ship_to": "GB", "offer-valid_days": "5"}
    assert as_user(buyer).post(f"/messages/{asked.pk}/offer/", data).status_code == 403
    assert as_user(other_shop_owner).post(f"/messages/{asked.pk}/offer/", data).status_code == 404
    assert as_user(staff_user).post(f"/messages/{asked.pk}/offer/", data).status_code == 404
    body = {"price": "15.00", "shipping_charge": "3.00", "ship_to": "GB"}
    assert api(buyer).post(f"/api/conversations/{asked.pk}/offers/", body, format="json").status_code == 403
    assert api(other_shop_owner).post(f"/api/conversations/{asked.pk}/offers/", body, format="json").status_code == 404
    for person in (buyer, other_shop_owner):
        with pytest.raises(PermissionDenied):
            make_offer(asked, person)
    assert "private-offer" not in as_user(buyer).get(asked.get_absolute_url()).content.decode()
    assert not Offer.objects.exists()


def test_an_offer_always_goes_to_the_conversations_own_buyer(buyer, other_buyer, shop, shop_owner, atlas, asked):
    theirs = services.conversation_start(buyer=other_buyer, shop=shop, listing=atlas, body="And for me?").conversation
    offer = make_offer(asked, shop_owner)
    other = make_offer(theirs, shop_owner, price="16.00")
    assert (offer.buyer, other.buyer) == (buyer, other_buyer)
    assert list(selectors.offers_in_conversation(conversation=asked)) == [offer]


def test_an_offer_brings_an_archived_conversation_back_to_the_buyers_inbox(buyer, shop_owner, asked):
    services.conversation_archive(conversation=asked, user=buyer)
    assert not selectors.inbox(user=buyer).exists()
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=5)):
        make_offer(asked, shop_owner)
    assert [c.pk for c in selectors.inbox(user=buyer)] == [asked.pk]


def test_the_conversation_lists_cost_the_same_with_orders_and_offers_in_them(
    api, buyer, shop, shop_owner, address, atlas, asked, django_assert_num_queries
):
    make_offer(asked, shop_owner)
    for number in range(2):
        order = place_order(buyer, address, atlas, key=f"k{number}")
        services.conversation_start_about_order(order=order, author=buyer, body=f"About {number}")
    with django_assert_num_queries(2):  # count, page
        listed = api(buyer).get("/api/conversations/").json()["results"]
    assert sorted(item["context"]["kind"] for item in listed) == ["listing", "order", "order"]
    with django_assert_num_queries(3):  # access, messages with their offers, pictures
        newest = api(shop_owner).get(f"/api/conversations/{asked.pk}/messages/").json()["results"][0]
    assert newest["offer"]["url"].startswith("/shops/olives-books/dashboard/offers/")


def test_a_message_carrying_an_offer_cannot_be_deleted(shop_owner, asked):
    offer = make_offer(asked, shop_owner)
    with pytest.raises(ValidationError, match="withdraw the offer"):
        services.message_delete(message=offer.thread_message, actor=shop_owner)


def test_the_api_makes_an_offer_and_shows_it_in_the_detail_and_the_messages(api, buyer, shop_owner, asked, atlas):
    made = api(shop_owner).post(
        f"/api/conversations/{asked.pk}/offers/",
        {"price": "15.00", "shipping_charge": "0", "ship_to": "DE", "valid_days": 3, "message": "Free postage"},
        format="json",
    )
    assert made.status_code == 201
    offer = Offer.objects.get()
    assert made.json()["state"] == "open" and made.json()["listing"] == {"id": atlas.pk, "title": atlas.title}
    assert made.json()["url"] == f"/shops/olives-books/dashboard/offers/{offer.pk}/"
    detail = api(buyer).get(f"/api/conversations/{asked.pk}/").json()
    assert [(item["id"], item["price"], item["url"]) for item in detail["offers"]] == [
        (offer.pk, "15.00", f"/offers/{offer.token}/")
    ]
    assert detail["unread"] == 1
    newest = api(buyer).get(f"/api/conversations/{asked.pk}/messages/").json()["results"][0]
    assert newest["offer"]["id"] == offer.pk and newest["can_delete"] is False
    bad = api(shop_owner).post(
        f"/api/conversations/{asked.pk}/offers/",
        {"price": "-2", "shipping_charge": "1", "ship_to": "DE", "valid_days": 0},
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.json()) >= {"price", "valid_days"}
    assert Offer.objects.count() == 1


def test_a_conversation_page_costs_the_same_with_offers_in_it(
    as_user, buyer, shop_owner, asked, settings, django_assert_num_queries
):
    settings.MESSAGING_SEND_RATE_PER_MINUTE = 100
    client = as_user(shop_owner)
    make_offer(asked, shop_owner)
    client.get(asked.get_absolute_url())
    # The buyer's page's 12, the membership checked on marking it read, the offer form's listings.
    with django_assert_num_queries(14):
        client.get(asked.get_absolute_url())
    for number in range(4):
        make_offer(asked, shop_owner, price=f"1{number}.00")
    client.get(asked.get_absolute_url())
    with django_assert_num_queries(14):
        client.get(asked.get_absolute_url())


# --- What conversations bring ---------------------------------------------------------------------


def test_conversation_value_counts_conversations_that_led_to_an_order_within_the_window(
    as_user, api, buyer, other_buyer, shop, shop_owner, atlas, address
):
    now = timezone.now()
    asked = services.conversation_start(buyer=buyer, shop=shop, listing=atlas, body="Is it complete?").conversation
    first = place_order(buyer, address, atlas, key="k1")
    second = place_order(buyer, address, atlas, key="k2")
    # Otto asked 40 days before ordering: too long ago to count.
    other_address = order_services.address_create(
        user=other_buyer, full_name="Otto", line1="2 Quay", city="Bath", postal_code="BA1 1AA", country="GB"
    )
    late = services.conversation_start(buyer=other_buyer, shop=shop, body="Do you buy maps?").conversation
    Conversation.objects.filter(pk=late.pk).update(created_at=now - datetime.timedelta(days=40))
    place_order(other_buyer, other_address, atlas, key="k3")
    # An order placed before the conversation began does not count either.
    Order.objects.filter(pk=second.pk).update(placed_at=asked.created_at - datetime.timedelta(hours=1))

    value = selectors.conversation_value(shop=shop, now=now)
    this_month = value.months[0]
    assert len(value.months) == 12
    assert (this_month.conversations, this_month.led_to_order, this_month.orders) == (1, 1, 1)
    assert this_month.revenue == {"GBP": first.total}
    assert (value.total.conversations, value.total.led_to_order, value.total.orders) == (2, 1, 1)
    assert value.total.revenue == {"GBP": first.total}

    page = as_user(shop_owner).get("/shops/olives-books/dashboard/conversation-value/")
    assert page.status_code == 200
    assert f"{first.total} GBP" in page.content.decode()
    assert 'href="/shops/olives-books/dashboard/conversation-value/"' in page.content.decode()
    data = api(shop_owner).get("/api/shops/olives-books/conversation-value/").json()
    assert data["window_days"] == 30
    assert data["total"]["led_to_order"] == 1 and data["total"]["revenue"] == {"GBP": str(first.total)}


def test_a_cancelled_order_brings_nothing_and_an_order_is_counted_once(buyer, shop, shop_owner, atlas, address):
    services.conversation_start(buyer=buyer, shop=shop, listing=atlas, body="Is it complete?")
    services.conversation_start(buyer=buyer, shop=shop, body="And the other atlas?")
    kept = place_order(buyer, address, atlas, key="k1")
    cancelled = place_order(buyer, address, atlas, key="k2")
    order_services.order_cancel(order=cancelled, actor=buyer, by=Actor.BUYER, reason="Changed my mind")
    value = selectors.conversation_value(shop=shop)
    assert (value.total.conversations, value.total.led_to_order, value.total.orders) == (2, 2, 1)
    assert value.total.revenue == {"GBP": kept.total}


@pytest.mark.parametrize("role", ["anonymous", "buyer", "other_shop_owner", "staff_user"])
def test_only_the_shops_people_see_its_conversation_value(as_user, api, people, role, shop):
    person = people(role)
    page = as_user(person).get("/shops/olives-books/dashboard/conversation-value/")
    assert page.status_code == (302 if person is None else 404)
    assert api(person).get("/api/shops/olives-books/conversation-value/").status_code in (
        {401, 403} if person is None else {404}
    )


def test_conversation_value_costs_the_same_for_many_conversations(
    as_user, api, buyer, other_buyer, shop, shop_staff, atlas, address, django_assert_num_queries, settings
):
    services.conversation_start(buyer=buyer, shop=shop, listing=atlas, body="Hello")
    place_order(buyer, address, atlas, key="k1")
    client = as_user(shop_staff)
    client.get("/shops/olives-books/dashboard/conversation-value/")
    # session, user, the shop with the reader's membership, two aggregates, two header badges
    with django_assert_num_queries(7):
        client.get("/shops/olives-books/dashboard/conversation-value/")
    settings.MESSAGING_NEW_ACCOUNT_CONVERSATIONS_PER_DAY = 100
    for number in range(5):
        services.conversation_start(buyer=other_buyer, shop=shop, subject=f"Question {number}", body="Hi")
    with django_assert_num_queries(7):
        client.get("/shops/olives-books/dashboard/conversation-value/")
    with django_assert_num_queries(3):  # the shop with the caller's membership, two aggregates
        api(shop_staff).get("/api/shops/olives-books/conversation-value/")
