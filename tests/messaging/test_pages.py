"""The conversation pages as people use them: asking a shop, answering, inboxes, badges."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import services
from messaging.models import Block, Conversation, Message, Report
from tests.factories import ListingFactory
from tests.images import image_bytes, upload

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def test_a_buyer_asks_about_a_listing_from_its_page(as_user, buyer, shop, listing, shop_owner):
    client = as_user(buyer)
    listing_page = text(client.get(f"/listings/{listing.pk}/"))
    assert (
        f'href="/messages/new/olives-books/?listing={listing.pk}">Ask Olive&#x27;s Books about this</a>' in listing_page
    )

    form = text(client.get(f"/messages/new/olives-books/?listing={listing.pk}"))
    assert "About <a href=" in form and "A Field Guide to Lichens" in form
    assert '<label for="id_body">Your message' in form

    response = client.post(
        "/messages/new/olives-books/", {"listing": listing.pk, "subject": "", "body": "Is the *map* included?"}
    )

    conversation = Conversation.objects.get()
    message = conversation.messages.get()
    assert response.status_code == 302 and response["Location"] == f"/messages/{conversation.pk}/#message-{message.pk}"
    page = text(client.get(response["Location"]))
    assert '<h1 id="conversation-title">A Field Guide to Lichens</h1>' in page
    assert f'About <a href="/listings/{listing.pk}/">A Field Guide to Lichens</a>' in page
    assert "<p>Is the <em>map</em> included?</p>" in page
    assert "Your message is on its way to Olive&#x27;s Books." in page
    owner_home = text(as_user(shop_owner).get("/"))
    assert re.search(
        r'href="/messages/">Messages <span class="badge count">1<span class="visually-hidden"> unread', owner_home
    )


def test_the_storefront_offers_to_write_to_the_shop_except_to_its_own_people(as_user, buyer, shop, shop_staff):
    assert 'href="/messages/new/olives-books/">Write to Olive&#x27;s Books</a>' in text(
        as_user(buyer).get("/shops/olives-books/")
    )
    assert "Write to Olive" not in text(as_user(shop_staff).get("/shops/olives-books/"))
    assert 'href="/shops/olives-books/messages/"' in text(as_user(shop_staff).get("/shops/olives-books/"))

    own = text(as_user(shop_staff).get("/messages/new/olives-books/"))
    assert "You are one of the people of Olive&#x27;s Books" in own and 'name="body"' not in own


def test_the_listing_page_offers_no_question_to_the_shops_people(as_user, shop_owner, listing):
    assert "about this</a>" not in text(as_user(shop_owner).get(f"/listings/{listing.pk}/"))


def test_a_refused_start_keeps_what_was_typed_and_stores_nothing(as_user, buyer, shop, shop_owner):
    services.block_create(actor=shop_owner, blocked=buyer, shop=shop)

    response = as_user(buyer).post(
        "/messages/new/olives-books/", {"subject": "Collections", "body": "I have 300 atlases to sell"}
    )

    assert response.status_code == 200
    page = text(response)
    assert "Olive&#x27;s Books does not accept messages from you." in page
    assert "I have 300 atlases to sell</textarea>" in page
    assert 'value="Collections"' in page
    assert not Conversation.objects.exists()


def test_an_empty_answer_is_refused_with_a_clear_message(as_user, conversation, shop_owner):
    response = as_user(shop_owner).post(f"/messages/{conversation.pk}/", {"body": "   "})

    assert response.status_code == 400
    assert "Write a message." in text(response)
    assert conversation.messages.count() == 1


def test_two_of_the_shops_people_answer_each_signing_for_the_shop(as_user, conversation, buyer, shop_owner, shop_staff):
    as_user(shop_owner).post(f"/messages/{conversation.pk}/", {"body": "Yes, with the map."})
    as_user(shop_staff).post(
        f"/messages/{conversation.pk}/", {"body": "I packed it.", "attachments": [upload(image_bytes(), "box.png")]}
    )

    home = text(as_user(buyer).get("/"))
    assert '<span class="badge count">1<span class="visually-hidden"> unread</span></span></a></li>' in home
    inbox = text(as_user(buyer).get("/messages/"))
    assert "<strong>Olive&#x27;s Books</strong>" in inbox
    assert '<span class="badge count">2<span class="visually-hidden"> unread' in inbox
    assert "Sam Staff for Olive&#x27;s Books: I packed it." in inbox

    page = text(as_user(buyer).get(f"/messages/{conversation.pk}/"))
    assert re.search(r"<strong>Olive Owner</strong> for Olive&#x27;s Books", page)
    assert re.search(r"<strong>Sam Staff</strong> for Olive&#x27;s Books", page)
    assert re.search(r"<strong>Bea Buyer</strong>\s*·", page)
    picture = Message.objects.get(body="I packed it.").attachments.get()
    assert f'src="/messages/{conversation.pk}/pictures/{picture.pk}/thumbnail/"' in page
    # Opening the conversation read it.
    assert "badge count" not in text(as_user(buyer).get("/messages/"))
    image = as_user(buyer).get(f"/messages/{conversation.pk}/pictures/{picture.pk}/image/")
    assert image["Content-Type"] == "image/webp" and b"".join(image.streaming_content)[:4] == b"RIFF"


def test_the_author_deletes_within_the_window_and_everyone_sees_the_trace(as_user, conversation, buyer, shop_owner):
    message = conversation.messages.get()
    page = text(as_user(buyer).get(f"/messages/{conversation.pk}/"))
    assert f'action="/messages/{conversation.pk}/messages/{message.pk}/delete/"' in page
    assert "delete/" not in text(as_user(shop_owner).get(f"/messages/{conversation.pk}/"))

    response = as_user(buyer).post(f"/messages/{conversation.pk}/messages/{message.pk}/delete/", follow=True)

    assert "Your message has been deleted." in text(response)
    owner_view = text(as_user(shop_owner).get(f"/messages/{conversation.pk}/"))
    assert "<em>Message deleted</em>" in owner_view and "Is the lichen guide still available?" not in owner_view


def test_deleting_after_the_window_says_why_and_keeps_the_message(as_user, conversation, buyer):
    message = conversation.messages.get()
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(hours=1))

    response = as_user(buyer).post(f"/messages/{conversation.pk}/messages/{message.pk}/delete/", follow=True)

    assert "A message can be deleted only in the 15 minutes after it was sent." in text(response)
    assert not Message.objects.get(pk=message.pk).is_deleted


def test_a_shop_blocks_the_buyer_who_then_sees_why_they_cannot_answer(
    as_user, conversation, buyer, shop_staff, listing
):
    response = as_user(shop_staff).post(f"/messages/{conversation.pk}/block/", {"person": str(buyer.pk)}, follow=True)
    assert "Bea Buyer can no longer write to Olive&#x27;s Books." in text(response)
    assert "Unblock Bea Buyer" in text(response)

    page = text(as_user(buyer).get(f"/messages/{conversation.pk}/"))
    assert "Olive&#x27;s Books does not accept messages from you." in page and 'name="body"' not in page
    refused = as_user(buyer).post(f"/messages/{conversation.pk}/", {"body": "Why?"})
    assert refused.status_code == 400 and "does not accept messages from you" in text(refused)
    assert conversation.messages.count() == 1

    blocks_page = text(as_user(shop_staff).get("/messages/blocked/"))
    assert "for Olive&#x27;s Books, by Sam Staff" in blocks_page
    block = Block.objects.get()
    unblocked = as_user(shop_staff).post(f"/messages/blocked/{block.pk}/remove/", follow=True)
    assert "Bea Buyer can write to Olive&#x27;s Books again." in text(unblocked)
    assert as_user(buyer).post(f"/messages/{conversation.pk}/", {"body": "Thanks"}).status_code == 302


def test_the_buyer_can_block_only_people_of_the_shop_who_wrote(as_user, conversation, buyer, shop_owner, shop_staff):
    as_user(shop_staff).post(f"/messages/{conversation.pk}/", {"body": "Hello"})
    page = text(as_user(buyer).get(f"/messages/{conversation.pk}/"))
    assert "Block Sam Staff" in page and "Block Olive Owner" not in page

    assert as_user(buyer).post(f"/messages/{conversation.pk}/block/", {"person": str(shop_owner.pk)}).status_code == 404
    as_user(buyer).post(f"/messages/{conversation.pk}/block/", {"person": str(shop_staff.pk)})
    assert list(Block.objects.values_list("by_user__username", "blocked__username")) == [("bea", "sam")]
    page = text(as_user(buyer).get(f"/messages/{conversation.pk}/"))
    assert "Unblock Sam Staff" in page and "Block Olive Owner" not in page


def test_reporting_a_message_page(as_user, conversation, shop_owner):
    message = conversation.messages.get()
    form = text(as_user(shop_owner).get(f"/messages/{conversation.pk}/report/?message={message.pk}"))
    assert "<legend>What is wrong?</legend>" in form and "Is the lichen guide still available?" in form

    missing = as_user(shop_owner).post(f"/messages/{conversation.pk}/report/", {"message": message.pk})
    assert "This field is required." in text(missing) and not Report.objects.exists()

    done = as_user(shop_owner).post(
        f"/messages/{conversation.pk}/report/",
        {"message": message.pk, "reason": "spam", "details": "Bulk"},
        follow=True,
    )
    assert "A moderator will look at it" in text(done)
    assert list(Report.objects.values_list("reason", "details", "message_id")) == [("spam", "Bulk", message.pk)]


def test_archive_and_bring_back(as_user, conversation, buyer):
    client = as_user(buyer)
    archived = client.post(f"/messages/{conversation.pk}/archive/", follow=True)
    assert "Archived. It comes back to your inbox when someone writes in it." in text(archived)
    assert "Nothing archived." not in text(client.get("/messages/?box=archived"))
    assert "No conversations yet." in text(client.get("/messages/"))

    client.post(f"/messages/{conversation.pk}/archive/", {"archived": "0"})
    assert "A Field Guide to Lichens" in text(client.get("/messages/"))


def test_searching_the_inboxes(as_user, conversation, buyer, shop, shop_owner):
    services.conversation_start(buyer=buyer, shop=shop, subject="Bookplates", body="Do you sell ex libris?")
    client = as_user(buyer)

    found = text(client.get("/messages/", {"q": "libris"}))
    assert "Bookplates" in found and "A Field Guide to Lichens" not in found
    assert "No conversation here matches “nothing”." in text(client.get("/messages/", {"q": "nothing"}))
    shop_found = text(as_user(shop_owner).get("/shops/olives-books/messages/", {"q": "lichen"}))
    assert "A Field Guide to Lichens" in shop_found and "Bookplates" not in shop_found


def test_the_inbox_lists_the_shops_one_runs_with_their_unread_counts(as_user, conversation, shop_owner):
    page = text(as_user(shop_owner).get("/messages/"))
    assert re.search(
        r'<a href="/shops/olives-books/messages/">Olive&#x27;s Books</a> <span class="badge count">1<span', page
    )


def test_no_page_shows_the_other_partys_email_address(as_user, conversation, buyer, shop_owner, shop_staff):
    services.message_send(conversation=conversation, author=shop_staff, body="Hello")
    for person, others in ((buyer, [shop_owner, shop_staff]), (shop_owner, [buyer]), (shop_staff, [buyer])):
        client = as_user(person)
        for path in (f"/messages/{conversation.pk}/", "/messages/", "/shops/olives-books/messages/", "/"):
            content = text(client.get(path))
            for other in others:
                assert other.email not in content, (person, path)


def test_state_changing_pages_need_the_csrf_token(as_user, conversation, buyer):
    client = as_user(buyer, csrf=True)
    for path, data in (
        (f"/messages/{conversation.pk}/", {"body": "Hello"}),
        (f"/messages/{conversation.pk}/archive/", {}),
        ("/messages/new/olives-books/", {"body": "Hello"}),
    ):
        assert client.post(path, data).status_code == 403
    assert Message.objects.count() == 1


def test_inbox_pages_make_a_fixed_number_of_queries(
    as_user, buyer, shop_owner, shop, django_assert_num_queries, settings
):
    settings.MESSAGING_NEW_ACCOUNT_CONVERSATIONS_PER_DAY = 50
    settings.MESSAGING_SEND_RATE_PER_MINUTE = 100

    def add(count):
        for _ in range(count):
            listing = ListingFactory(shop=shop)
            services.conversation_start(buyer=buyer, shop=shop, listing=listing, body="Hello")

    buyer_client, owner_client = as_user(buyer), as_user(shop_owner)
    add(2)
    # session, user, count, page, shop inboxes, and the two header badges
    with django_assert_num_queries(7):
        buyer_client.get("/messages/")
    # session, user, shop, count, page, two header badges
    with django_assert_num_queries(7):
        owner_client.get("/shops/olives-books/messages/")
    add(15)
    with django_assert_num_queries(7):
        buyer_client.get("/messages/")
    with django_assert_num_queries(7):
        owner_client.get("/shops/olives-books/messages/")


def test_a_conversation_page_makes_a_fixed_number_of_queries(
    as_user, conversation, buyer, shop_staff, django_assert_num_queries, settings
):
    settings.MESSAGING_SEND_RATE_PER_MINUTE = 100

    def answer(count):
        for number in range(count):
            services.message_send(
                conversation=conversation,
                author=shop_staff,
                body=f"Answer {number}",
                attachments=[upload(image_bytes())],
            )

    client = as_user(buyer)
    client.get(f"/messages/{conversation.pk}/")
    # session, user, access, read state (also whether it is archived), notifications, messages,
    # pictures, the block that would stop the reader, the blocks they made, moderator reads,
    # two header badges: also while only the reader has written
    with django_assert_num_queries(12):
        client.get(f"/messages/{conversation.pk}/")
    answer(1)
    client.get(f"/messages/{conversation.pk}/")  # reads what is new; the next visit has nothing new
    with django_assert_num_queries(12):
        client.get(f"/messages/{conversation.pk}/")
    answer(12)
    client.get(f"/messages/{conversation.pk}/")
    with django_assert_num_queries(12):
        client.get(f"/messages/{conversation.pk}/")


def test_long_conversations_show_the_newest_and_page_back(as_user, conversation, buyer, shop_owner, settings):
    settings.MESSAGING_SEND_RATE_PER_MINUTE = 100
    for number in range(55):
        services.message_send(conversation=conversation, author=shop_owner, body=f"Answer number {number}")
    client = as_user(buyer)

    newest = text(client.get(f"/messages/{conversation.pk}/"))
    assert "Answer number 54" in newest and "Answer number 4<" not in newest
    older = re.search(r'href="\?before=(\d+)" rel="prev">Older messages', newest).group(1)
    back = text(client.get(f"/messages/{conversation.pk}/", {"before": older}))
    assert "Is the lichen guide still available?" in back and "Answer number 4</p>" in back
    assert "Answer number 5</p>" not in back
    assert f'<a href="/messages/{conversation.pk}/">The newest messages</a>' in back


def test_a_listing_no_longer_on_sale_is_named_not_linked(as_user, conversation, buyer, listing):
    listing.status = "paused"
    listing.save(update_fields=["status"])

    page = text(as_user(buyer).get(f"/messages/{conversation.pk}/"))

    assert 'About A Field Guide to Lichens <span class="muted">(no longer on sale)</span>' in page
    assert f'href="/listings/{listing.pk}/"' not in page
    listing.delete()
    assert "About A Field Guide to Lichens" in text(as_user(buyer).get(f"/messages/{conversation.pk}/"))
