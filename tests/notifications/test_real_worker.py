"""Delivery through a real Celery worker, real Redis and a real SMTP server: exactly one
e-mail per notification, none lost when a worker dies or the broker is away."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.models import Delivery
from tests.factories import UserFactory
from tests.mailserver import SMTPServer
from tests.workers import remove_redis_traces, running_worker

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

QUEUE = "notifications"


@pytest.fixture
def mail_server():
    server = SMTPServer(delay=0.05).start()
    yield server
    server.stop()


@pytest.fixture
def worker(require_redis, require_postgresql, mail_server, tmp_path):
    """Start workers on the notifications queue that send e-mail to `mail_server`."""
    remove_redis_traces(settings.REDIS_URL, QUEUE)
    started = []

    def start(name: str):
        context = running_worker(
            queues=[QUEUE], hostname=name, log_path=tmp_path / f"{name}.log", env={"EMAIL_URL": mail_server.url}
        )
        started.append(context)
        return context.__enter__()

    yield start
    for context in started:
        context.__exit__(None, None, None)
    remove_redis_traces(settings.REDIS_URL, QUEUE)


def send_messages(count: int) -> list[str]:
    """`count` people each write to one shop owner, each in a transaction of its own;
    returns the Message-IDs the e-mails must carry."""
    owner = UserFactory(username="olive", email="olive@example.com")
    keys = []
    for number in range(count):
        writer = UserFactory()
        with transaction.atomic():
            notification = services.notify(
                recipient=owner, kind="message.new", actor=writer, context={"subject": f"question {number}"}
            )
        keys.append(f"<notification-{notification.pk}-email@{settings.PLURAL_MAIL_DOMAIN}>")
    return keys


def all_sent() -> bool:
    return not Delivery.objects.exclude(status=Delivery.Status.SENT).exists()


def test_a_message_produces_exactly_one_email(worker, mail_server):
    running = worker("mailer")
    [key] = send_messages(1)

    running.wait_for("the worker never sent the e-mail", lambda: mail_server.mailbox.message_ids())
    running.wait_for("the delivery was never marked sent", all_sent)

    assert mail_server.mailbox.message_ids() == [key]
    [mail] = mail_server.mailbox.messages
    assert mail["To"] == "olive@example.com" and "question 0" in mail["Subject"]


def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing_and_sends_nothing_twice(worker, mail_server):
    keys = send_messages(30)
    first = worker("first")
    first.wait_for("the first worker sent nothing", lambda: len(mail_server.mailbox.messages) >= 8)
    first.kill()
    assert len(mail_server.mailbox.messages) < 30, "the batch finished before the worker was killed"

    # Once the dead worker's lease has run out, the sweeper hands its work to the living.
    assert services.sweep_outbox(now=timezone.now() + services.LEASE + timedelta(seconds=1)) > 0
    second = worker("second")
    second.wait_for("the deliveries were not all sent", all_sent, timeout=60)

    received = mail_server.mailbox.message_ids()
    assert sorted(set(received)) == sorted(keys)
    # At least once: an e-mail the mail server accepted just as the worker died is sent
    # again, under the same Message-ID, so that mail clients show it once.
    assert len(received) <= len(keys) + 1
    assert Delivery.objects.filter(attempts__gt=2).count() == 0


def test_deliveries_wait_out_a_broker_outage_and_go_out_once_when_it_is_back(
    worker, mail_server, broker_at, redis_stopped_broker
):
    keys = send_messages(5)  # each commit tries to hand its e-mail over and cannot
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 5

    broker_at(settings.REDIS_URL)
    running = worker("after-outage")
    assert services.sweep_outbox(now=timezone.now() + services.SWEEP_GRACE + timedelta(seconds=1)) == 5
    running.wait_for("the backlog was not sent", all_sent)

    assert sorted(mail_server.mailbox.message_ids()) == sorted(keys)
    assert services.sweep_outbox(now=timezone.now() + timedelta(hours=1)) == 0
