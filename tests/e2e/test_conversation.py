"""In the real browser: a buyer asks a shop about a listing, two of the shop's people answer,
the buyer sees the badge and the answers; once blocked, the buyer cannot write again."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from messaging.models import Conversation, Message
from sellers.models import ShopMember
from tests.e2e.conftest import from_database
from tests.factories import TEST_PASSWORD, ListingFactory, ShopFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_people():
    UserFactory(username="bea", display_name="Bea Buyer", email="bea@example.com")
    olive = UserFactory(username="olive", display_name="Olive Owner", email="olive@example.com")
    shop = ShopFactory(name="Olive's Books", slug="olives-books", owner=olive)
    sam = UserFactory(username="sam", display_name="Sam Staff", email="sam@example.com")
    ShopMember.objects.create(shop=shop, user=sam, role=ShopMember.Role.STAFF)
    return ListingFactory(shop=shop, title="A Field Guide to Lichens").pk


def signed_in(page, live_server, username):
    """A page of a new browser context (its own cookies) where `username` has logged in."""
    context = page.context.browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    person = context.new_page()
    person.goto("/accounts/login/")
    person.fill("input[name=login]", username)
    person.fill("input[name=password]", TEST_PASSWORD)
    person.get_by_role("button", name="Sign In").click()
    person.wait_for_url(f"{live_server.url}/")
    return person


def messages_link(person):
    return person.get_by_role("navigation", name="Account").get_by_role("link", name=re.compile("^Messages"))


def answer(person, text):
    messages_link(person).click()
    person.get_by_role("link", name="Olive's Books").first.click()
    person.get_by_role("link", name=re.compile("A Field Guide to Lichens")).click()
    person.get_by_label("Your message").fill(text)
    person.get_by_role("button", name="Send").click()
    expect(person.get_by_text(text)).to_be_visible()


def test_a_buyer_asks_two_shop_people_answer_and_a_blocked_buyer_cannot_write(page, live_server, eager_tasks):
    listing_id = from_database(make_people)

    bea = signed_in(page, live_server, "bea")
    bea.goto(f"/listings/{listing_id}/")
    bea.get_by_role("link", name="Ask Olive's Books about this").click()
    expect(bea.get_by_role("complementary", name="About").get_by_text("A Field Guide to Lichens")).to_be_visible()
    bea.get_by_label("Your message").fill("Is the lichen guide still available?")
    bea.get_by_role("button", name="Send to Olive's Books").click()
    expect(bea.get_by_text("Your message is on its way to Olive's Books.")).to_be_visible()
    expect(bea.get_by_role("heading", name="A Field Guide to Lichens")).to_be_visible()

    olive = signed_in(page, live_server, "olive")
    assert messages_link(olive).text_content() == "Messages 1 unread"
    answer(olive, "Yes, and it has the fold-out map.")
    sam = signed_in(page, live_server, "sam")
    answer(sam, "I can post it on Monday.")

    bea.goto("/")
    assert messages_link(bea).text_content() == "Messages 1 unread"
    messages_link(bea).click()
    expect(bea.get_by_role("main").get_by_text("2 unread")).to_be_visible()
    bea.get_by_role("link", name=re.compile("A Field Guide to Lichens")).click()
    thread = bea.get_by_role("list", name="Messages")
    expect(thread.get_by_text("Olive Owner for Olive's Books")).to_be_visible()
    expect(thread.get_by_text("Yes, and it has the fold-out map.")).to_be_visible()
    expect(thread.get_by_text("Sam Staff for Olive's Books")).to_be_visible()
    expect(thread.get_by_text("I can post it on Monday.")).to_be_visible()
    assert messages_link(bea).text_content() == "Messages"

    # One e-mail per message to each of the others, each with its own reply address.
    received = {}
    for message in mail.outbox:
        received.setdefault(message.to[0], []).append(message.subject)
        assert message.reply_to and message.reply_to[0].startswith("reply+")
    assert received == {
        "olive@example.com": [
            "Bea Buyer wrote to you: A Field Guide to Lichens",
            "Sam Staff for Olive's Books wrote to you: A Field Guide to Lichens",
        ],
        "sam@example.com": [
            "Bea Buyer wrote to you: A Field Guide to Lichens",
            "Olive Owner for Olive's Books wrote to you: A Field Guide to Lichens",
        ],
        "bea@example.com": [
            "Olive Owner for Olive's Books wrote to you: A Field Guide to Lichens",
            "Sam Staff for Olive's Books wrote to you: A Field Guide to Lichens",
        ],
    }

    olive.reload()
    olive.get_by_role("button", name="Block Bea Buyer").click()
    expect(olive.get_by_text("Bea Buyer can no longer write to Olive's Books.")).to_be_visible()

    bea.reload()
    expect(bea.get_by_text("Olive's Books does not accept messages from you.")).to_be_visible()
    assert bea.get_by_label("Your message").count() == 0
    bea.goto("/shops/olives-books/")
    bea.get_by_role("link", name="Write to Olive's Books").click()
    bea.get_by_label("Your message").fill("Why can I not write?")
    bea.get_by_role("button", name="Send to Olive's Books").click()
    expect(bea.get_by_role("alert").get_by_text("Olive's Books does not accept messages from you.")).to_be_visible()
    assert bea.get_by_label("Your message").input_value() == "Why can I not write?"
    assert from_database(lambda: (Conversation.objects.count(), Message.objects.count())) == (1, 3)
