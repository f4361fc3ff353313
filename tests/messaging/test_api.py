"""The conversations API: the same rules as the pages, in the schema."""

import pytest

from messaging import services
from messaging.models import Block, Conversation, Message, Report
from tests.factories import ListingFactory
from tests.images import image_bytes, upload

pytestmark = pytest.mark.django_db


def test_a_buyer_writes_to_a_shop_and_asking_again_continues_the_conversation(api, buyer, shop, listing, shop_owner):
    client = api(buyer)

    created = client.post(
        "/api/conversations/", {"shop": "olives-books", "listing": listing.pk, "body": "Still there?"}, format="json"
    )
    again = client.post(
        "/api/conversations/", {"shop": "olives-books", "listing": listing.pk, "body": "Hello?"}, format="json"
    )

    assert created.status_code == 201 and again.status_code == 200
    body = created.json()
    conversation = Conversation.objects.get()
    assert body["id"] == again.json()["id"] == conversation.pk
    assert body["subject"] == "A Field Guide to Lichens"
    assert body["shop"] == {"slug": "olives-books", "name": "Olive's Books"}
    assert body["buyer"] == {"username": "bea", "name": "Bea Buyer"}
    assert body["context"] == {
        "kind": "listing",
        "id": listing.pk,
        "title": "A Field Guide to Lichens",
        "url": f"/listings/{listing.pk}/",
    }
    assert (body["role"], body["can_write"], body["write_refusal"]) == ("buyer", True, "")
    assert body["messages_url"] == f"/api/conversations/{conversation.pk}/messages/"
    assert list(conversation.messages.values_list("body", "source")) == [("Still there?", "api"), ("Hello?", "api")]


def test_the_list_shows_unread_counts_and_filters_by_role_box_and_words(
    api, conversation, buyer, shop_owner, shop_staff, other_shop
):
    services.message_send(conversation=conversation, author=shop_staff, body="Yes, it is")
    mine = services.conversation_start(buyer=shop_owner, shop=other_shop, body="Do you have Fela Kuti?")

    everything = api(shop_owner).get("/api/conversations/").json()["results"]
    assert [(c["subject"], c["unread"]) for c in everything] == [
        ("A question for Oscar's Records", 0),
        ("A Field Guide to Lichens", 2),
    ]
    assert everything[1]["last_message"]["signature"] == "Sam Staff for Olive's Books"
    assert everything[1]["last_message"]["excerpt"] == "Yes, it is"
    as_buyer = api(shop_owner).get("/api/conversations/", {"as_buyer": "true"}).json()["results"]
    assert [c["id"] for c in as_buyer] == [mine.conversation.pk]
    for_shop = api(shop_owner).get("/api/conversations/", {"shop": "olives-books"}).json()["results"]
    assert [c["id"] for c in for_shop] == [conversation.pk]
    assert api(shop_owner).get("/api/conversations/", {"q": "fela"}).json()["count"] == 1
    assert api(buyer).get("/api/conversations/unread-count/").json() == {"unread_conversations": 1, "more": False}

    api(buyer).post(f"/api/conversations/{conversation.pk}/archive/")
    assert api(buyer).get("/api/conversations/").json()["count"] == 0
    archived = api(buyer).get("/api/conversations/", {"box": "archived"}).json()["results"]
    assert [(c["id"], c["is_archived"]) for c in archived] == [(conversation.pk, True)]
    api(buyer).delete(f"/api/conversations/{conversation.pk}/archive/")
    assert api(buyer).get("/api/conversations/").json()["count"] == 1


def test_messages_come_newest_first_in_cursor_pages(api, conversation, buyer, shop_owner, settings):
    settings.MESSAGING_SEND_RATE_PER_MINUTE = 100
    for number in range(55):
        services.message_send(conversation=conversation, author=shop_owner, body=f"Answer {number}")

    first = api(buyer).get(f"/api/conversations/{conversation.pk}/messages/").json()
    assert len(first["results"]) == 50 and first["next"]
    assert first["results"][0]["body"] == "Answer 54"
    assert first["results"][0]["signature"] == "Olive Owner for Olive's Books"
    rest = api(buyer).get(first["next"]).json()
    assert [m["body"] for m in rest["results"]][-1] == "Is the lichen guide still available?"
    assert rest["next"] is None


def test_sending_with_pictures_reading_and_deleting(api, conversation, buyer, shop_owner):
    sent = api(shop_owner).post(
        f"/api/conversations/{conversation.pk}/messages/",
        {"body": "The cover", "attachments": [upload(image_bytes(), "cover.png"), upload(image_bytes(), "back.png")]},
        format="multipart",
    )

    assert sent.status_code == 201
    message = sent.json()
    assert (message["signature"], message["for_shop"], message["can_delete"]) == (
        "Olive Owner for Olive's Books",
        True,
        True,
    )
    assert len(message["attachments"]) == 2
    thumbnail = message["attachments"][0]["thumbnail"]
    assert thumbnail.startswith(f"http://testserver/messages/{conversation.pk}/pictures/")
    assert api(buyer).get(f"/api/conversations/{conversation.pk}/").json()["unread"] == 1

    read = api(buyer).post(f"/api/conversations/{conversation.pk}/read/").json()
    assert read["last_read_message"] == message["id"]
    assert api(buyer).get(f"/api/conversations/{conversation.pk}/").json()["unread"] == 0

    assert api(buyer).delete(f"/api/conversations/{conversation.pk}/messages/{message['id']}/").status_code == 403
    deleted = api(shop_owner).delete(f"/api/conversations/{conversation.pk}/messages/{message['id']}/").json()
    assert (deleted["is_deleted"], deleted["body"], deleted["attachments"]) == (True, "", [])


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"body": ""}, {"body": ["Write a message."]}),
        ({"body": "x" * 5001}, {"body": ["A message can be at most 5,000 characters; this one has 5,001."]}),
    ],
)
def test_bad_messages_are_refused_with_field_errors_and_nothing_stored(api, conversation, buyer, payload, errors):
    response = api(buyer).post(f"/api/conversations/{conversation.pk}/messages/", payload, format="json")

    assert response.status_code == 400 and response.json() == errors
    assert conversation.messages.count() == 1


def test_a_file_that_is_not_a_picture_is_refused(api, conversation, buyer):
    response = api(buyer).post(
        f"/api/conversations/{conversation.pk}/messages/",
        {"body": "Invoice", "attachments": [upload(b"<html>not an image</html>", "invoice.png")]},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["attachments"][0].startswith("invoice.png: This file is not an image we can read.")
    assert conversation.messages.count() == 1


def test_starting_with_a_listing_of_another_shop_or_a_shop_that_blocked_you(api, buyer, shop, shop_owner, other_shop):
    elsewhere = ListingFactory(shop=other_shop)
    draft = ListingFactory(shop=shop, status="draft")
    for listing_id in (elsewhere.pk, draft.pk, 987654):
        wrong = api(buyer).post(
            "/api/conversations/", {"shop": "olives-books", "listing": listing_id, "body": "Hi"}, format="json"
        )
        assert wrong.status_code == 400 and wrong.json() == {"listing": ["This shop has no such listing on sale."]}
    assert api(buyer).post("/api/conversations/", {"shop": "nope", "body": "Hi"}, format="json").status_code == 404

    services.block_create(actor=shop_owner, blocked=buyer, shop=shop)
    blocked = api(buyer).post("/api/conversations/", {"shop": "olives-books", "body": "Hi"}, format="json")
    assert blocked.status_code == 400
    assert blocked.json() == {"non_field_errors": ["Olive's Books does not accept messages from you."]}
    assert not Conversation.objects.exists()


def test_blocks_are_listed_made_and_lifted(api, conversation, buyer, shop_owner, shop_staff, other_buyer):
    made = api(shop_staff).post("/api/blocks/", {"username": "bea", "shop": "olives-books"}, format="json")
    assert made.status_code == 201
    assert made.json()["person"] == {"username": "bea", "name": "Bea Buyer"}
    assert made.json()["shop"] == {"slug": "olives-books", "name": "Olive's Books"}
    detail = api(buyer).get(f"/api/conversations/{conversation.pk}/").json()
    assert (detail["can_write"], detail["write_refusal"]) == (False, "Olive's Books does not accept messages from you.")

    assert (
        api(other_buyer).post("/api/blocks/", {"username": "bea", "shop": "olives-books"}, format="json").status_code
        == 404
    )
    assert api(buyer).post("/api/blocks/", {"username": "nobody-at-all"}, format="json").status_code == 400
    assert [b["person"]["username"] for b in api(shop_owner).get("/api/blocks/").json()["results"]] == ["bea"]
    assert api(buyer).get("/api/blocks/").json()["results"] == []

    block = Block.objects.get()
    assert api(other_buyer).delete(f"/api/blocks/{block.pk}/").status_code == 404
    assert api(shop_owner).delete(f"/api/blocks/{block.pk}/").status_code == 204
    assert not Block.objects.exists()


def test_reports_and_their_resolution(api, conversation, buyer, shop_owner, staff_user):
    message = conversation.messages.get()
    report = api(shop_owner).post(
        f"/api/conversations/{conversation.pk}/reports/",
        {"reason": "spam", "details": "Sent to every shop", "message": message.pk},
        format="json",
    )
    assert report.status_code == 201
    assert report.json()["status"] == "open" and report.json()["message"] == message.pk
    twice = api(shop_owner).post(
        f"/api/conversations/{conversation.pk}/reports/", {"reason": "spam", "message": message.pk}, format="json"
    )
    assert twice.status_code == 400
    assert (
        api(shop_owner)
        .post(f"/api/conversations/{conversation.pk}/reports/", {"reason": "rude"}, format="json")
        .status_code
        == 400
    )

    report_id = report.json()["id"]
    assert api(shop_owner).post(f"/api/moderation/reports/{report_id}/resolve/", {"resolution": "x"}).status_code == 404
    resolved = api(staff_user).post(
        f"/api/moderation/reports/{report_id}/resolve/", {"resolution": "Account suspended."}, format="json"
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert Report.objects.get().resolution == "Account suspended."


def test_no_answer_of_the_api_carries_the_other_partys_email(api, conversation, buyer, shop_owner, shop_staff):
    services.message_send(conversation=conversation, author=shop_staff, body="Hello")
    for person, others in ((buyer, [shop_owner, shop_staff]), (shop_staff, [buyer])):
        for path in (
            "/api/conversations/",
            f"/api/conversations/{conversation.pk}/",
            f"/api/conversations/{conversation.pk}/messages/",
        ):
            content = api(person).get(path).content.decode()
            assert not any(other.email in content for other in others), (person, path)


def test_lists_make_a_fixed_number_of_queries(api, buyer, shop, shop_owner, settings, django_assert_num_queries):
    settings.MESSAGING_NEW_ACCOUNT_CONVERSATIONS_PER_DAY = 50
    settings.MESSAGING_SEND_RATE_PER_MINUTE = 100

    def add(count):
        for _ in range(count):
            started = services.conversation_start(
                buyer=buyer, shop=shop, listing=ListingFactory(shop=shop), body="Hello"
            )
            services.message_send(
                conversation=started.conversation, author=shop_owner, body="Hi", attachments=[upload(image_bytes())]
            )
        return started.conversation

    first = add(2)
    with django_assert_num_queries(2):  # count, page
        api(buyer).get("/api/conversations/")
    with django_assert_num_queries(3):  # access, messages, pictures
        api(buyer).get(f"/api/conversations/{first.pk}/messages/")
    last = add(12)
    for _ in range(20):
        services.message_send(conversation=last, author=shop_owner, body="More")
    with django_assert_num_queries(2):
        api(buyer).get("/api/conversations/")
    with django_assert_num_queries(3):
        api(buyer).get(f"/api/conversations/{last.pk}/messages/")
    assert Message.objects.filter(conversation=last).count() == 22


def test_the_schema_describes_the_conversation_endpoints(client):
    schema = client.get("/api/schema/").content.decode()
    for path in (
        "/api/conversations/:",
        "/api/conversations/{id}/messages/:",
        "/api/conversations/{id}/read/:",
        "/api/conversations/{id}/archive/:",
        "/api/conversations/{id}/reports/:",
        "/api/blocks/:",
        "/api/moderation/reports/:",
    ):
        assert path in schema
