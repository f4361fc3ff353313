"""Only a conversation's people read it: every page and endpoint, for every role, guessed
ids included. Moderators read it only while a report on it is open, and it shows."""

import pytest
from django.utils import timezone

from messaging import services
from messaging.models import Block, Message, ModeratorAccess, ParticipantState, Report
from tests.images import image_bytes, upload

pytestmark = pytest.mark.django_db

PARTICIPANTS = ["buyer", "shop_owner", "shop_staff"]
OUTSIDERS = ["other_buyer", "other_shop_owner", "staff_user"]


@pytest.fixture
def thread(buyer, shop, listing, shop_staff, other_shop):
    """Bea's question with a picture, and Sam's answer for the shop."""
    started = services.conversation_start(
        buyer=buyer, shop=shop, listing=listing, body="Is this the 1962 printing?", attachments=[upload(image_bytes())]
    )
    answer = services.message_send(conversation=started.conversation, author=shop_staff, body="It is.")
    return started.conversation, started.message, answer


def endpoints(conversation, question, answer):
    """(name, method, path, data, is_api) for everything that reaches one conversation."""
    c = conversation.pk
    picture = question.attachments.get().pk
    return [
        ("page", "get", f"/messages/{c}/", None, False),
        ("send", "post", f"/messages/{c}/", {"body": "Hello"}, False),
        ("archive", "post", f"/messages/{c}/archive/", {}, False),
        ("block", "post", f"/messages/{c}/block/", {"person": str(conversation.buyer_id)}, False),
        ("report page", "get", f"/messages/{c}/report/", None, False),
        ("report", "post", f"/messages/{c}/report/", {"reason": "spam"}, False),
        ("picture", "get", f"/messages/{c}/pictures/{picture}/image/", None, False),
        ("thumbnail", "get", f"/messages/{c}/pictures/{picture}/thumbnail/", None, False),
        ("api detail", "get", f"/api/conversations/{c}/", None, True),
        ("api messages", "get", f"/api/conversations/{c}/messages/", None, True),
        ("api send", "post", f"/api/conversations/{c}/messages/", {"body": "Hello"}, True),
        ("api read", "post", f"/api/conversations/{c}/read/", None, True),
        ("api archive", "post", f"/api/conversations/{c}/archive/", None, True),
        ("api unarchive", "delete", f"/api/conversations/{c}/archive/", None, True),
        ("api report", "post", f"/api/conversations/{c}/reports/", {"reason": "spam"}, True),
        # Last: deleting the question takes its picture with it.
        ("api delete", "delete", f"/api/conversations/{c}/messages/{question.pk}/", None, True),
        ("delete", "post", f"/messages/{c}/messages/{question.pk}/delete/", {}, False),
    ]


def request(client_for, person, method, path, data, is_api):
    client = client_for(person)
    if is_api:
        return getattr(client, method)(path, data, format="json") if data is not None else getattr(client, method)(path)
    return getattr(client, method)(path, data) if data is not None else getattr(client, method)(path)


def state():
    return (
        list(Message.objects.order_by("pk").values_list("pk", "body", "deleted_at")),
        ParticipantState.objects.count(),
        Report.objects.count(),
        Block.objects.count(),
        ModeratorAccess.objects.count(),
    )


def clients(as_user, api):
    def client_for(is_api):
        return lambda person: api(person) if is_api else as_user(person)

    return client_for


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_find_nothing_anywhere_and_change_nothing(role, people, thread, as_user, api):
    person = people(role)
    before = state()
    for name, method, path, data, is_api in endpoints(*thread):
        response = request(clients(as_user, api)(is_api), person, method, path, data, is_api)
        assert response.status_code == 404, (role, name)
        assert b"Is this the 1962 printing?" not in response.content
    assert state() == before


def test_anonymous_visitors_are_sent_to_log_in_whether_or_not_the_conversation_exists(thread, as_user, api):
    before = state()
    conversation = thread[0]
    for name, method, path, data, is_api in endpoints(*thread):
        missing = path.replace(f"/{conversation.pk}/", "/987654/", 1)
        for target in (path, missing):
            response = request(clients(as_user, api)(is_api), None, method, target, data, is_api)
            if is_api:
                assert response.status_code == 403, name
            else:
                assert response.status_code == 302, name
                assert response["Location"].startswith("/accounts/login/?next=")
    assert state() == before


EXPECTED_FOR_PARTICIPANTS = {
    "page": 200,
    "send": 302,
    "archive": 302,
    "block": 302,
    "report page": 200,
    "report": 302,
    "delete": 302,
    "picture": 200,
    "thumbnail": 200,
    "api detail": 200,
    "api messages": 200,
    "api send": 201,
    "api read": 200,
    "api archive": 200,
    "api unarchive": 200,
    "api report": 201,
}


@pytest.mark.parametrize("role", PARTICIPANTS)
def test_each_of_the_conversations_people_reaches_every_page_and_endpoint(role, people, thread, as_user, api):
    person = people(role)
    for name, method, path, data, is_api in endpoints(*thread):
        if role == "buyer" and name == "block":
            data = {"person": str(thread[2].author_id)}  # the buyer blocks the shop's person who wrote
        response = request(clients(as_user, api)(is_api), person, method, path, data, is_api)
        if name == "api delete":  # only its author, Bea, may delete the question
            assert response.status_code == (200 if role == "buyer" else 403), (role, name)
            continue
        if name == "report" or name == "api report":
            Report.objects.all().delete()  # one open report per person: let the other endpoint make one too
        assert response.status_code == EXPECTED_FOR_PARTICIPANTS[name], (role, name, response.content[:300])


@pytest.mark.parametrize("guess", ["987654", "0", "99999999999999999999999"])
def test_guessed_ids_are_not_found_even_by_participants(guess, buyer, thread, as_user, api):
    conversation = thread[0]
    for name, method, path, data, is_api in endpoints(*thread):
        response = request(
            clients(as_user, api)(is_api),
            buyer,
            method,
            path.replace(f"/{conversation.pk}/", f"/{guess}/", 1),
            data,
            is_api,
        )
        assert response.status_code == 404, (guess, name)


def test_another_conversations_messages_and_pictures_cannot_be_reached_through_mine(
    buyer, other_buyer, shop, thread, as_user, api
):
    mine = services.conversation_start(buyer=other_buyer, shop=shop, body="Mine")
    question = thread[1]
    picture = question.attachments.get().pk
    client = as_user(other_buyer)

    assert client.get(f"/messages/{mine.conversation.pk}/pictures/{picture}/image/").status_code == 404
    assert client.post(f"/messages/{mine.conversation.pk}/messages/{question.pk}/delete/").status_code == 404
    assert (
        api(other_buyer).delete(f"/api/conversations/{mine.conversation.pk}/messages/{question.pk}/").status_code == 404
    )
    assert client.get(f"/messages/{mine.conversation.pk}/report/?message={question.pk}").status_code == 404
    assert not Message.objects.get(pk=question.pk).is_deleted


def test_the_shop_inbox_is_for_the_shops_people_only(thread, as_user, people, api):
    for role in ["buyer", *OUTSIDERS]:
        assert as_user(people(role)).get("/shops/olives-books/messages/").status_code == 404, role
        assert api(people(role)).get("/api/conversations/?shop=olives-books").status_code == 404, role
    for role in ["shop_owner", "shop_staff"]:
        page = as_user(people(role)).get("/shops/olives-books/messages/")
        assert page.status_code == 200 and "Is this the 1962 printing?" not in page.content.decode()
        assert "Bea Buyer" in page.content.decode()
    assert as_user(None).get("/shops/olives-books/messages/").status_code == 302


def test_moderators_read_only_while_a_report_is_open_and_participants_see_it(
    thread, buyer, shop_owner, staff_user, as_user, api
):
    conversation, question, _ = thread
    moderator = as_user(staff_user)
    assert moderator.get(f"/messages/{conversation.pk}/").status_code == 404

    report = services.report_create(conversation=conversation, reporter=shop_owner, reason="abuse")

    page = moderator.get(f"/messages/{conversation.pk}/")
    assert page.status_code == 200
    assert "You are reading this as a moderator because it was reported" in page.content.decode()
    assert "Is this the 1962 printing?" in page.content.decode()
    assert 'name="body"' not in page.content.decode()
    assert api(staff_user).get(f"/api/conversations/{conversation.pk}/messages/").status_code == 200
    picture = question.attachments.get().pk
    assert moderator.get(f"/messages/{conversation.pk}/pictures/{picture}/thumbnail/").status_code == 200
    # Reading is all they do.
    assert moderator.post(f"/messages/{conversation.pk}/", {"body": "Moderator here"}).status_code == 403
    assert api(staff_user).post(f"/api/conversations/{conversation.pk}/read/").status_code == 403
    assert not Message.objects.filter(author=staff_user).exists()
    assert not ParticipantState.objects.filter(user=staff_user).exists()

    log = list(ModeratorAccess.objects.values_list("moderator__username", "report_id", "via"))
    assert log == [("stella", report.pk, "page"), ("stella", report.pk, "api"), ("stella", report.pk, "attachment")]
    today = timezone.now().strftime("%-d %B %Y")
    for person in (buyer, shop_owner):
        seen = as_user(person).get(f"/messages/{conversation.pk}/").content.decode()
        assert f"A moderator read this conversation on {today} because it was reported." in seen
    detail = api(buyer).get(f"/api/conversations/{conversation.pk}/").json()
    assert detail["moderator_reads"] == [timezone.now().date().isoformat()]

    services.report_resolve(report=report, moderator=staff_user, resolution="No abuse found.")
    assert moderator.get(f"/messages/{conversation.pk}/").status_code == 404
    assert api(staff_user).get(f"/api/conversations/{conversation.pk}/").status_code == 404
    assert ModeratorAccess.objects.count() == 3


def test_the_moderation_queue_is_for_moderators_only(thread, shop_owner, staff_user, as_user, api, people):
    services.report_create(
        conversation=thread[0], reporter=shop_owner, reason="scam", details="Asks for a bank transfer"
    )
    for role in ["anonymous", *PARTICIPANTS, "other_buyer", "other_shop_owner"]:
        response = as_user(people(role)).get("/messages/moderation/")
        assert response.status_code == (302 if role == "anonymous" else 404), role
        if role != "anonymous":
            assert api(people(role)).get("/api/moderation/reports/").status_code == 404, role
    queue = as_user(staff_user).get("/messages/moderation/").content.decode()
    assert "Asks for a bank transfer" in queue and "Is this the 1962 printing?" not in queue
    assert [r["reason"] for r in api(staff_user).get("/api/moderation/reports/").json()["results"]] == ["scam"]
