"""deliver_emails, the batch drain the workers run: many e-mails over one connection to a real
SMTP server, each sent once even when two drains take the same batch, an address the server
refuses retried while the others go, and the lease a worker holds on what it claimed."""

import smtplib
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from notifications import services
from notifications.models import Delivery
from tests.factories import UserFactory
from tests.mailserver import Mailbox, SMTPServer, free_port

pytestmark = pytest.mark.django_db


class RefusingMailbox(Mailbox):
    """A mail server that turns some addresses away for a while (451: try again later)."""

    def __init__(self, refusals: dict[str, int]):
        super().__init__()
        self.refusals = dict(refusals)  # address: how many more times it is refused

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refusals.get(address, 0) > 0:
            self.refusals[address] -= 1
            return "451 4.2.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_server(settings):
    """Start a mail server refusing the addresses given, and point Django's mail at it."""
    controllers = []

    def start(refusals: dict[str, int]) -> RefusingMailbox:
        mailbox, port = RefusingMailbox(refusals), free_port()
        controllers.append(Controller(mailbox, hostname="127.0.0.1", port=port))
        controllers[-1].start()
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        return mailbox

    yield start
    for controller in controllers:
        controller.stop()


def waiting_deliveries(people) -> list[int]:
    """Immediate e-mails to `people` in the outbox, not handed to any worker yet."""
    services.notify_audience(
        audience=User.objects.filter(pk__in=[person.pk for person in people]).values("pk"),
        kind="message.new",
        context={"subject": "About the atlas"},
    )
    return list(Delivery.objects.order_by("pk").values_list("pk", flat=True))


def message_ids(pks) -> list[str]:
    return [
        f"<notification-{pk}-email@plural.localhost>"
        for pk in Delivery.objects.filter(pk__in=pks).values_list("notification_id", flat=True)
    ]


def test_a_batch_goes_out_over_one_connection_each_email_once(smtp_server, django_assert_max_num_queries):
    people = [UserFactory(username=f"reader{number}") for number in range(6)]
    pks = waiting_deliveries(people)

    # one claim, one read of the rows, the marks (at least one, at most one per e-mail)
    with django_assert_max_num_queries(2 + len(pks)):
        assert services.deliver_emails(delivery_ids=pks) == 6
    assert services.deliver_emails(delivery_ids=pks) == 0  # redelivered: nothing more

    assert sorted(smtp_server.mailbox.message_ids()) == sorted(message_ids(pks))
    assert sorted(mail["To"] for mail in smtp_server.mailbox.messages) == sorted(p.email for p in people)
    assert set(Delivery.objects.values_list("status", "attempts", "lease_until")) == {(Delivery.Status.SENT, 1, None)}


@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_send_each_email_once(require_postgresql, redis_stopped_broker, settings):
    server = SMTPServer(delay=0.01).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    people = [UserFactory(username=f"reader{number}") for number in range(40)]
    with transaction.atomic():  # committed, so that each drain's own connection sees them; the
        pks = waiting_deliveries(people)  # broker is away, so no worker took them after commit
    start = threading.Barrier(2)
    sent = []

    def drain(batch):
        try:
            start.wait()
            sent.append(services.deliver_emails(delivery_ids=batch))
        finally:
            connection.close()

    # two workers handed overlapping batches (the sweeper and a redelivered task, say)
    drains = [threading.Thread(target=drain, args=(pks[:30],)), threading.Thread(target=drain, args=(pks[10:],))]
    try:
        for thread in drains:
            thread.start()
        for thread in drains:
            thread.join(timeout=60)
    finally:
        server.stop()

    assert sum(sent) == 40
    assert sorted(server.mailbox.message_ids()) == sorted(message_ids(pks))
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}


def test_an_address_the_mail_server_refuses_is_retried_while_the_others_go(refusing_server):
    mailbox = refusing_server({"busy@example.com": 1})
    people = [UserFactory(username="first"), UserFactory(username="busy"), UserFactory(username="last")]
    pks = waiting_deliveries(people)

    with pytest.raises(smtplib.SMTPRecipientsRefused):  # raised once the batch is done: the task retries
        services.deliver_emails(delivery_ids=pks)

    assert sorted(mail["To"] for mail in mailbox.messages) == ["first@example.com", "last@example.com"]
    busy = Delivery.objects.get(notification__recipient__username="busy")
    assert (busy.status, busy.attempts, busy.lease_until) == (Delivery.Status.PENDING, 1, None)
    assert busy.last_error.startswith("SMTPRecipientsRefused")

    # the task's retry hands the same batch over again: only the refused e-mail is left to send
    assert services.deliver_emails(delivery_ids=pks) == 1
    assert sorted(mail["To"] for mail in mailbox.messages) == sorted(f"{p.username}@example.com" for p in people)
    busy.refresh_from_db()
    assert (busy.status, busy.attempts, busy.last_error) == (Delivery.Status.SENT, 2, "")


def test_an_address_refused_every_time_is_given_up_after_the_last_attempt(refusing_server):
    refusing_server({"gone@example.com": 1_000})
    [pk] = waiting_deliveries([UserFactory(username="gone")])
    Delivery.objects.filter(pk=pk).update(attempts=services.MAX_ATTEMPTS - 1)

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        services.deliver_emails(delivery_ids=[pk])

    delivery = Delivery.objects.get(pk=pk)
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, services.MAX_ATTEMPTS)
    assert services.deliver_emails(delivery_ids=[pk]) == 0


def test_a_mail_server_that_is_down_puts_the_whole_batch_back(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    pks = waiting_deliveries([UserFactory(username=f"reader{number}") for number in range(3)])

    with pytest.raises(ConnectionRefusedError):
        services.deliver_emails(delivery_ids=pks)

    assert set(Delivery.objects.values_list("status", "attempts", "lease_until")) == {
        (Delivery.Status.PENDING, 1, None)
    }


def test_what_a_live_worker_holds_is_left_alone_and_taken_over_once_its_lease_ran_out(smtp_server):
    pks = waiting_deliveries([UserFactory(username=f"reader{number}") for number in range(3)])
    held, abandoned = pks[:2], pks[2:]
    claimed_at = timezone.now()
    Delivery.objects.filter(pk__in=held).update(
        status=Delivery.Status.SENDING, lease_until=claimed_at + services.LEASE, attempts=1
    )
    Delivery.objects.filter(pk__in=abandoned).update(
        status=Delivery.Status.SENDING, lease_until=claimed_at - timedelta(seconds=1), attempts=1
    )

    assert services.deliver_emails(delivery_ids=pks) == 1

    assert smtp_server.mailbox.message_ids() == message_ids(abandoned)
    assert dict(Delivery.objects.values_list("pk", "status")) == {
        **dict.fromkeys(held, Delivery.Status.SENDING),
        **dict.fromkeys(abandoned, Delivery.Status.SENT),
    }
    assert Delivery.objects.get(pk=abandoned[0]).attempts == 2


def test_a_worker_whose_lease_runs_out_hands_the_rest_back_untried(settings, monkeypatch):
    # given a mail server that takes two seconds per e-mail, and a lease that leaves one and a
    # half (room for a slow first connection on a busy machine)
    server = SMTPServer(delay=2.0).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    monkeypatch.setattr(services, "LEASE_MARGIN", services.LEASE - timedelta(seconds=1.5))
    pks = waiting_deliveries([UserFactory(username=f"reader{number}") for number in range(3)])

    try:
        assert services.deliver_emails(delivery_ids=pks) == 1
    finally:
        server.stop()

    assert server.mailbox.message_ids() == message_ids(pks[:1])
    assert list(Delivery.objects.order_by("pk").values_list("status", "attempts", "lease_until")) == [
        (Delivery.Status.SENT, 1, None),
        (Delivery.Status.PENDING, 0, None),
        (Delivery.Status.PENDING, 0, None),
    ]
    # and the sweeper hands them out again at its next run
    assert not Delivery.objects.filter(pk__in=pks[1:], next_attempt_at__gt=timezone.now()).exists()
