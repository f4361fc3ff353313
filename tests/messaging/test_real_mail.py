"""Message e-mails and e-mail replies end to end, on real parts: PostgreSQL, Redis, a Celery
worker process sending to a real SMTP server, and `manage.py mail_gateway` run as its own
process on a free port."""

import os
import re
import smtplib
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.conf import settings
from django.db import connection

from messaging import services
from messaging.models import Message
from notifications.models import Delivery
from tests.factories import ListingFactory, ShopFactory, UserFactory
from tests.mailserver import Mailbox, SMTPServer, free_port
from tests.workers import database_url, remove_redis_traces, running_worker

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

QUEUE = "notifications"
REPLY_TO = re.compile(r"^reply\+[0-9a-z]+-[0-9a-z]+-[0-9a-z]+-[a-z2-7]{24}@plural\.localhost$")


@pytest.fixture
def mail_server():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def worker(require_redis, require_postgresql, mail_server, tmp_path):
    remove_redis_traces(settings.REDIS_URL, QUEUE)
    with running_worker(
        queues=[QUEUE],
        hostname="messaging-mailer",
        log_path=tmp_path / "worker.log",
        env={"EMAIL_URL": mail_server.url},
    ) as running:
        yield running
    remove_redis_traces(settings.REDIS_URL, QUEUE)


@contextmanager
def running_gateway(*, port: int, log_path):
    """`manage.py mail_gateway` in a process of its own, on this test run's database."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
    }
    command = [sys.executable, "manage.py", "mail_gateway", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the mail gateway did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def all_sent() -> bool:
    return not Delivery.objects.exclude(status=Delivery.Status.SENT).exists()


def reply(*, port: int, sender: str, to: str, text: str) -> None:
    message = EmailMessage()
    message["From"], message["To"] = sender, to
    message["Subject"] = "Re: your message"
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content(text)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(message)


def test_a_message_is_mailed_once_with_a_reply_address_and_the_reply_comes_back(worker, mail_server, tmp_path):
    bea = UserFactory(username="bea", display_name="Bea Buyer", email="bea@example.com")
    olive = UserFactory(username="olive", display_name="Olive Owner", email="olive@example.com")
    shop = ShopFactory(name="Olive's Books", slug="olives-books", owner=olive)
    listing = ListingFactory(shop=shop, title="A Field Guide to Lichens")

    conversation = services.conversation_start(
        buyer=bea, shop=shop, listing=listing, body="Is the lichen guide still available?"
    ).conversation

    worker.wait_for("the message e-mail was not sent", lambda: mail_server.mailbox.to("olive@example.com"))
    worker.wait_for("the delivery was not marked sent", all_sent)
    [mail] = mail_server.mailbox.messages
    assert mail["To"] == "olive@example.com"
    assert mail["Subject"] == "Bea Buyer wrote to you: A Field Guide to Lichens"
    assert REPLY_TO.match(mail["Reply-To"])
    assert "bea@example.com" not in mail.as_string()
    received = Mailbox.text(mail)
    assert "Is the lichen guide still available?" in received

    port = free_port()
    with running_gateway(port=port, log_path=tmp_path / "gateway.log"):
        quoted = "\n".join(f"> {line}" for line in received.splitlines())
        reply(
            port=port,
            sender="Olive Owner <olive@example.com>",
            to=mail["Reply-To"],
            text=f"Yes, it is still here.\n\n-- \nOlive, Olive's Books\n\nOn Tue, 3 Mar 2026 at 10:02, Plural "
            f"<{mail['Reply-To']}> wrote:\n{quoted}\n",
        )
        posted = worker.wait_for(
            "the reply was not posted", lambda: Message.objects.filter(source=Message.Source.EMAIL).first()
        )
        assert (posted.conversation_id, posted.author_id, posted.for_shop) == (conversation.pk, olive.pk, True)
        assert posted.body == "Yes, it is still here."

        # The answer reaches Bea once, with her own reply address, and without Olive's.
        worker.wait_for("the answer was not mailed to the buyer", lambda: mail_server.mailbox.to("bea@example.com"))
        worker.wait_for("the answer's delivery was not marked sent", all_sent)
        [answer] = mail_server.mailbox.to("bea@example.com")
        assert answer["Subject"] == "Olive Owner for Olive's Books wrote to you: A Field Guide to Lichens"
        assert REPLY_TO.match(answer["Reply-To"]) and answer["Reply-To"] != mail["Reply-To"]
        assert "olive@example.com" not in answer.as_string()

        # A forged address is refused at RCPT and nothing is posted or mailed.
        local, domain = mail["Reply-To"].split("@")
        forged = f"{local[:-1]}{'a' if local[-1] != 'a' else 'b'}@{domain}"
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            reply(port=port, sender="olive@example.com", to=forged, text="Forged")
        assert list(refused.value.recipients.values()) == [(550, b"5.1.1 No such reply address")]

    assert list(conversation.messages.values_list("body", flat=True)) == [
        "Is the lichen guide still available?",
        "Yes, it is still here.",
    ]
    assert len(mail_server.mailbox.messages) == 2
