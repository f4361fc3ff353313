"""The reply gateway, served on a free port in this process and spoken to over SMTP."""

import smtplib
import time
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from messaging import services
from messaging.gateway import ReplyGateway
from messaging.models import Message
from messaging.reply_addresses import reply_address
from notifications.models import Notification
from sellers.models import ShopMember
from tests.mailserver import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gateway():
    running = ReplyGateway(host="127.0.0.1", port=free_port()).start()
    yield running
    running.stop()


def send(gateway, *, sender: str, to: str | list[str], text: str, **headers) -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to if isinstance(to, str) else ", ".join(to)
    message["Subject"] = "Re: Olive Owner for Olive's Books wrote to you"
    message["Message-ID"] = headers.pop("message_id", make_msgid(domain="example.com"))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    with smtplib.SMTP("127.0.0.1", gateway.controller.port, timeout=10) as client:
        client.send_message(message, to_addrs=[to] if isinstance(to, str) else to)


REPLY = "Monday is perfect, thank you!\n\nOn Tue, 3 Mar 2026 at 10:02, Plural wrote:\n> Shall I post it?\n"


def test_a_reply_is_posted_by_its_person_without_the_quote(gateway, conversation, buyer, shop_owner):
    address = reply_address(conversation_id=conversation.pk, user_id=shop_owner.pk)

    send(gateway, sender="Olive <olive@example.com>", to=address, text=REPLY)

    message = conversation.messages.latest("pk")
    assert (message.author, message.for_shop, message.source) == (shop_owner, True, "email")
    assert message.body == "Monday is perfect, thank you!"
    told = Notification.objects.filter(recipient=buyer).latest("pk")
    assert told.title == "Olive Owner for Olive's Books wrote to you: A Field Guide to Lichens"


def test_forged_and_unknown_addresses_are_refused_at_rcpt(gateway, conversation, shop_owner):
    genuine = reply_address(conversation_id=conversation.pk, user_id=shop_owner.pk)
    local, domain = genuine.split("@")
    forged = f"{local[:-1]}{'a' if local[-1] != 'a' else 'b'}@{domain}"  # one character of the signature changed
    for address, reply in (
        (forged, b"5.1.1 No such reply address"),
        (reply_address(conversation_id=987654, user_id=shop_owner.pk), b"5.1.1 No such reply address"),
        ("olive@plural.localhost", b"5.1.1 No such reply address"),
    ):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(gateway, sender="olive@example.com", to=address, text="Hello")
        [(code, text)] = refused.value.recipients.values()
        assert (code, text) == (550, reply)
    assert conversation.messages.count() == 1


def test_expired_addresses_are_refused(gateway, conversation, shop_owner, settings):
    old = int(time.time() - settings.PLURAL_REPLY_MAX_AGE.total_seconds() - 60)
    address = reply_address(conversation_id=conversation.pk, user_id=shop_owner.pk, issued_at=old)

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(gateway, sender="olive@example.com", to=address, text="Hello")

    assert list(refused.value.recipients.values()) == [
        (550, b"5.1.1 This reply address has expired: please answer on the website")
    ]
    assert conversation.messages.count() == 1


def test_someone_else_answering_with_the_address_is_refused(gateway, conversation, shop_owner):
    address = reply_address(conversation_id=conversation.pk, user_id=shop_owner.pk)

    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(gateway, sender="forwarded-to@example.net", to=address, text="I am not Olive")

    assert (refused.value.smtp_code, refused.value.smtp_error) == (
        550,
        b"5.7.1 This reply address was given to someone else",
    )
    assert conversation.messages.count() == 1


def test_a_person_no_longer_in_the_conversation_is_refused(gateway, conversation, shop, shop_staff):
    address = reply_address(conversation_id=conversation.pk, user_id=shop_staff.pk)
    ShopMember.objects.filter(shop=shop, user=shop_staff).delete()

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(gateway, sender="sam@example.com", to=address, text="Hello")
    assert conversation.messages.count() == 1


def test_a_blocked_buyer_is_refused_with_the_reason(gateway, conversation, buyer, shop, shop_owner):
    services.block_create(actor=shop_owner, blocked=buyer, shop=shop)
    address = reply_address(conversation_id=conversation.pk, user_id=buyer.pk)

    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(gateway, sender="bea@example.com", to=address, text="Why not?")

    assert refused.value.smtp_code == 550
    assert refused.value.smtp_error == b"5.7.1 Olive's Books does not accept messages from you."
    assert conversation.messages.count() == 1


def test_the_same_email_delivered_twice_is_posted_once(gateway, conversation, buyer):
    address = reply_address(conversation_id=conversation.pk, user_id=buyer.pk)
    message_id = make_msgid(domain="example.com")

    send(gateway, sender="bea@example.com", to=address, text="Once only", message_id=message_id)
    send(gateway, sender="bea@example.com", to=address, text="Once only", message_id=message_id)

    assert list(conversation.messages.values_list("body", flat=True)) == [
        "Is the lichen guide still available?",
        "Once only",
    ]


def test_out_of_office_answers_are_accepted_and_dropped(gateway, conversation, buyer):
    address = reply_address(conversation_id=conversation.pk, user_id=buyer.pk)

    send(gateway, sender="bea@example.com", to=address, text="I am on holiday", Auto_Submitted="auto-replied")

    assert conversation.messages.count() == 1


def test_a_reply_with_nothing_but_the_quote_is_refused(gateway, conversation, buyer):
    address = reply_address(conversation_id=conversation.pk, user_id=buyer.pk)

    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(gateway, sender="bea@example.com", to=address, text="On Tue, 3 Mar 2026, Plural wrote:\n> Hello")

    assert refused.value.smtp_code == 550
    assert conversation.messages.count() == 1


def test_one_reply_address_per_email(gateway, conversation, buyer, shop_owner):
    first = reply_address(conversation_id=conversation.pk, user_id=buyer.pk)
    second = reply_address(conversation_id=conversation.pk, user_id=shop_owner.pk)

    send(gateway, sender="bea@example.com", to=[first, second], text="To both")

    assert list(Message.objects.filter(source="email").values_list("author__username", flat=True)) == ["bea"]


def test_oversized_emails_are_refused(settings, conversation, buyer):
    settings.PLURAL_MAIL_GATEWAY_MAX_BYTES = 2000
    small = ReplyGateway(host="127.0.0.1", port=free_port()).start()
    try:
        # The gateway announces its limit (ESMTP SIZE), so the client is refused at MAIL FROM.
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            send(
                small,
                sender="bea@example.com",
                to=reply_address(conversation_id=conversation.pk, user_id=buyer.pk),
                text="x" * 5000,
            )
    finally:
        small.stop()
    assert refused.value.smtp_code == 552
    assert conversation.messages.count() == 1
