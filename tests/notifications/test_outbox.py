"""notify(): the transactional outbox, e-mail through a real SMTP server, digests, the sweeper."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.kinds import EmailMode
from notifications.models import Delivery, Notification, Preference
from notifications.tasks import send_digests
from tests.factories import UserFactory
from tests.mailserver import SMTPServer, free_port

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


def message_from(actor, recipient, subject="Is the atlas still available?"):
    return services.notify(recipient=recipient, kind="message.new", actor=actor, context={"subject": subject})


def test_notify_writes_the_notification_and_its_outbox_row_in_the_callers_transaction(buyer, shop_owner):
    with pytest.raises(RuntimeError), transaction.atomic():
        message_from(buyer, shop_owner)
        raise RuntimeError("the event itself failed")

    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()

    notification = message_from(buyer, shop_owner)

    assert notification.title == "Bea Buyer wrote to you: Is the atlas still available?"
    assert notification.actor == buyer
    delivery = notification.deliveries.get()
    assert (delivery.channel, delivery.mode, delivery.idempotency_key) == (
        "email",
        "immediate",
        f"notification-{notification.pk}-email",
    )


def test_a_notification_reaches_the_smtp_server_once_with_its_own_message_id(
    buyer, shop_owner, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = message_from(buyer, shop_owner)

    [mail] = smtp_server.mailbox.messages
    assert mail["To"] == shop_owner.email
    assert mail["Subject"] == "Bea Buyer wrote to you: Is the atlas still available?"
    assert mail["Message-ID"] == f"<notification-{notification.pk}-email@plural.localhost>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/notifications/unsubscribe/" in mail["List-Unsubscribe"]
    assert buyer.email not in mail.as_string()
    assert "Bea Buyer wrote to you" in smtp_server.mailbox.text(mail)
    delivery = notification.deliveries.get()
    assert delivery.status == Delivery.Status.SENT and delivery.sent_at is not None

    # Delivered again (a redelivered task, the sweeper): nothing more is sent.
    assert services.deliver_emails(delivery_ids=[delivery.pk]) == 0
    assert len(smtp_server.mailbox.messages) == 1


def test_nobody_is_notified_of_their_own_act_and_unknown_kinds_are_a_programming_error(buyer):
    assert services.notify(recipient=buyer, kind="message.new", actor=buyer, context={"subject": "x"}) is None
    with pytest.raises(ValueError, match="Unknown notification kind"):
        services.notify(recipient=buyer, kind="message.nwe", context={})
    assert not Notification.objects.exists()


def test_a_mail_server_that_is_down_leaves_the_delivery_in_the_outbox_until_it_is_back(
    settings, buyer, shop_owner, django_capture_on_commit_callbacks
):
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    notification = message_from(buyer, shop_owner)
    delivery = notification.deliveries.get()

    with pytest.raises(ConnectionRefusedError):
        services.deliver_emails(delivery_ids=[delivery.pk])

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, 1)
    assert "ConnectionRefusedError" in delivery.last_error

    server = SMTPServer(port=port).start()
    try:
        later = timezone.now() + timedelta(minutes=10)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.sweep_outbox(now=later) == 1  # Celery runs eagerly here
        assert services.sweep_outbox(now=later + timedelta(minutes=10)) == 0
    finally:
        server.stop()
    assert len(server.mailbox.messages) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Delivery.Status.SENT, 2, "")


def test_the_sweeper_takes_back_deliveries_whose_worker_died_holding_them(buyer, shop_owner, smtp_server):
    notification = message_from(buyer, shop_owner)
    delivery = notification.deliveries.get()
    claimed_at = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENDING, lease_until=claimed_at + services.LEASE, attempts=1
    )

    assert services.sweep_outbox(now=claimed_at + timedelta(minutes=1)) == 0  # the lease still holds
    assert services.sweep_outbox(now=claimed_at + services.LEASE + timedelta(seconds=1)) == 1

    assert len(smtp_server.mailbox.messages) == 1
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.SENT


def test_choices_decide_the_channels(buyer, shop_owner, smtp_server, django_capture_on_commit_callbacks):
    services.preferences_update(user=shop_owner, choices={"message.new": {"in_app": False, "email": "off"}})
    assert message_from(buyer, shop_owner) is None

    services.preferences_update(user=shop_owner, choices={"message.new": {"in_app": True, "email": "off"}})
    with django_capture_on_commit_callbacks(execute=True):
        notification = message_from(buyer, shop_owner)
    assert notification.in_app and not notification.deliveries.exists()
    assert smtp_server.mailbox.messages == []


def test_digest_gathers_the_days_notifications_into_one_mail(
    buyer, other_buyer, shop_owner, smtp_server, django_capture_on_commit_callbacks
):
    services.preferences_update(user=shop_owner, choices={"message.new": {"email": EmailMode.DIGEST}})
    with django_capture_on_commit_callbacks(execute=True):
        message_from(buyer, shop_owner, "About the atlas")
        message_from(other_buyer, shop_owner, "About the map")
    assert smtp_server.mailbox.messages == []

    assert send_digests() == 1
    assert send_digests() == 0

    [digest] = smtp_server.mailbox.messages
    assert digest["Subject"] == "Your Plural digest: 2 new things"
    text = smtp_server.mailbox.text(digest)
    assert "Bea Buyer wrote to you: About the atlas" in text and "Otto Other wrote to you: About the map" in text
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
    assert Delivery.objects.values("digest_key").distinct().count() == 1


def test_turning_email_off_cancels_what_waits_for_the_digest(buyer, shop_owner, smtp_server):
    services.preferences_update(user=shop_owner, choices={"message.new": {"email": EmailMode.DIGEST}})
    message_from(buyer, shop_owner)

    services.preferences_update(user=shop_owner, choices={"message.new": {"email": EmailMode.OFF}})
    send_digests()

    assert smtp_server.mailbox.messages == []
    assert Delivery.objects.get().status == Delivery.Status.CANCELLED


def test_bad_choices_change_nothing(shop_owner):
    services.preferences_update(user=shop_owner, choices={"message.new": {"email": EmailMode.DIGEST}})

    with pytest.raises(Exception, match="no kind of notification"):
        services.preferences_update(
            user=shop_owner, choices={"message.new": {"email": "off"}, "nonsense": {"email": "off"}}
        )
    with pytest.raises(Exception, match="E-mail must be one of"):
        services.preferences_update(user=shop_owner, choices={"message.new": {"email": "hourly"}})

    assert list(Preference.objects.values_list("kind", "email")) == [("message.new", "digest")]


def test_people_without_an_email_address_get_no_delivery(buyer):
    quiet = UserFactory(email="")
    notification = message_from(buyer, quiet)
    assert notification.in_app and not notification.deliveries.exists()


def test_a_broker_that_is_down_does_not_break_the_caller(
    buyer, shop_owner, redis_stopped_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = message_from(buyer, shop_owner)
    # The commit went through and the hand-over failed quietly: the sweeper will retry.
    delivery = notification.deliveries.get()
    assert delivery.status == Delivery.Status.PENDING
    assert services.enqueue_deliveries(delivery_ids=[delivery.pk]) == 0


def test_a_notification_with_a_reply_address_is_mailed_with_it_as_reply_to(
    buyer, shop_owner, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            recipient=shop_owner,
            kind="message.new",
            actor=buyer,
            context={"subject": "Atlas"},
            reply_to="reply+abc@plural.localhost",
        )
        message_from(buyer, shop_owner, "Without a reply address")

    answerable, plain = smtp_server.mailbox.messages
    assert answerable["Reply-To"] == "reply+abc@plural.localhost"
    assert smtp_server.mailbox.text(answerable).startswith(services.REPLY_MARKER)
    assert "Answer by replying to this e-mail" in smtp_server.mailbox.text(answerable)
    assert plain["Reply-To"] is None
    assert services.REPLY_MARKER not in smtp_server.mailbox.text(plain)
