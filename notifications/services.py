"""Writing notifications, delivering them and recording people's choices."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import CharField, F, Q, QuerySet
from django.db.models.functions import Cast
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from .kinds import KINDS, EmailMode, kind_for
from .models import Delivery, Notification, Preference
from .selectors import choices_for_many, preferences_for

logger = logging.getLogger(__name__)

# A worker has this long to hand an e-mail to the mail server before another may try.
LEASE = timedelta(minutes=5)
# Deliveries are handed to a worker at commit; the sweeper only steps in after this.
SWEEP_GRACE = timedelta(minutes=2)
MAX_ATTEMPTS = 10
UNSUBSCRIBE_SALT = "notifications.unsubscribe"
# Heads e-mails that can be answered by e-mail; whatever a reply quotes from this line on is
# not part of the answer (messaging.email_replies cuts there).
REPLY_MARKER = "-- Write your answer above this line --"


def notify(
    *, recipient, kind: str, actor=None, target=None, context: dict | None = None, reply_to: str = ""
) -> Notification | None:
    """Tell `recipient` that `kind` happened; call it inside the transaction that made it happen.

    The notification and its outbox rows are written in the caller's transaction, so they
    exist if and only if the event does; the e-mail is handed to Celery after commit.
    `reply_to` becomes the e-mail's Reply-To (e.g. an address that posts the answer back).
    Returns None when the recipient turned every channel of this kind off, or is the actor."""
    spec = kind_for(kind)
    if actor is not None and actor.pk == recipient.pk:
        return None
    choice = preferences_for(user=recipient)[kind]
    if not choice.in_app and choice.email == EmailMode.OFF:
        return None
    context = dict(context or {})
    context.setdefault("actor", actor.public_name if actor is not None else settings.SITE_NAME)
    url = context.pop("url", None) or (target.get_absolute_url() if hasattr(target, "get_absolute_url") else "")
    notification = Notification.objects.create(
        recipient=recipient,
        kind=kind,
        actor=actor,
        title=spec.title.format(**context)[:300],
        body=context.get("body", ""),
        url=url,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        in_app=choice.in_app,
        reply_to=reply_to,
    )
    if choice.email != EmailMode.OFF and recipient.email:
        delivery = Delivery.objects.create(
            notification=notification,
            mode=choice.email,
            idempotency_key=f"notification-{notification.pk}-email",
            next_attempt_at=timezone.now() + SWEEP_GRACE,
        )
        if choice.email == EmailMode.IMMEDIATE:
            transaction.on_commit(lambda: enqueue_delivery(delivery_id=delivery.pk))
    return notification


def notify_many(*, recipients, kind: str, actor=None, target=None, context: dict | None = None) -> list[Notification]:
    """`notify` for many people at once (a shop's followers): the same notification and outbox
    rows, written with one query for everyone's choices and one bulk insert each for the
    notifications and the deliveries, in the caller's transaction. Call it with a batch (a few
    hundred people), not with everyone. Returns the notifications written."""
    spec = kind_for(kind)
    recipients = [person for person in recipients if actor is None or person.pk != actor.pk]
    choices = choices_for_many(user_ids=[person.pk for person in recipients], kind=kind)
    context = dict(context or {})
    context.setdefault("actor", actor.public_name if actor is not None else settings.SITE_NAME)
    url = context.pop("url", None) or (target.get_absolute_url() if hasattr(target, "get_absolute_url") else "")
    title = spec.title.format(**context)[:300]
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    told = [person for person in recipients if choices[person.pk].in_app or choices[person.pk].email != EmailMode.OFF]
    notifications = Notification.objects.bulk_create(
        Notification(
            recipient=person,
            kind=kind,
            actor=actor,
            title=title,
            body=context.get("body", ""),
            url=url,
            target_type=target_type,
            target_id=str(target.pk) if target is not None else "",
            in_app=choices[person.pk].in_app,
        )
        for person in told
    )
    next_attempt_at = timezone.now() + SWEEP_GRACE
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            notification=notification,
            mode=choices[person.pk].email,
            idempotency_key=f"notification-{notification.pk}-email",
            next_attempt_at=next_attempt_at,
        )
        for person, notification in zip(told, notifications, strict=True)
        if choices[person.pk].email != EmailMode.OFF and person.email
    )
    immediate = [delivery.pk for delivery in deliveries if delivery.mode == EmailMode.IMMEDIATE]
    if immediate:
        transaction.on_commit(lambda: [enqueue_delivery(delivery_id=pk) for pk in immediate])
    return notifications


def enqueue_delivery(*, delivery_id: int) -> bool:
    """Hand a delivery to a worker. With the broker away the delivery simply waits in the
    outbox (the sweeper retries), so whatever the caller was doing still succeeds."""
    from .tasks import send_email_delivery

    try:
        send_email_delivery.apply_async(args=[delivery_id], retry=False)
    except (BrokerError, OSError):  # the outbox row is the source of truth: the sweeper tries again
        logger.warning("notification delivery %s stays in the outbox: the broker is unreachable", delivery_id)
        return False
    return True


# --- Delivering ------------------------------------------------------------------------------


def _claim(*, pks, now) -> int:
    """Take the deliveries for this worker: pending ones, or ones whose last worker's lease ran out."""
    claimable = Q(status=Delivery.Status.PENDING) | Q(status=Delivery.Status.SENDING, lease_until__lt=now)
    return Delivery.objects.filter(claimable, pk__in=pks).update(
        status=Delivery.Status.SENDING, lease_until=now + LEASE, attempts=F("attempts") + 1
    )


def _release(*, pks, error: Exception) -> None:
    """Put deliveries back in the outbox after a failed attempt; give up after MAX_ATTEMPTS."""
    now = timezone.now()
    message = f"{type(error).__name__}: {error}"[:500]
    Delivery.objects.filter(pk__in=pks, status=Delivery.Status.SENDING, attempts__gte=MAX_ATTEMPTS).update(
        status=Delivery.Status.FAILED, last_error=message, lease_until=None
    )
    Delivery.objects.filter(pk__in=pks, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.PENDING,
        last_error=message,
        lease_until=None,
        next_attempt_at=now + SWEEP_GRACE,
    )


def absolute_url(path: str) -> str:
    return settings.PLURAL_BASE_URL.rstrip("/") + path


def unsubscribe_token(*, user, kind: str) -> str:
    return signing.dumps({"user": user.pk, "kind": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def _message_id(key: str) -> str:
    return f"<{key}@{settings.PLURAL_MAIL_DOMAIN}>"


def _email_for_notification(notification: Notification, key: str) -> EmailMultiAlternatives:
    recipient = notification.recipient
    unsubscribe = absolute_url(
        reverse(
            "notifications:unsubscribe", kwargs={"token": unsubscribe_token(user=recipient, kind=notification.kind)}
        )
    )
    context = {
        "notification": notification,
        "person": recipient,
        "link": absolute_url(notification.url) if notification.url else absolute_url(reverse("notifications:centre")),
        "unsubscribe_url": unsubscribe,
        "preferences_url": absolute_url(reverse("notifications:preferences")),
        "kind": KINDS[notification.kind],
        "reply_marker": REPLY_MARKER,
        "SITE_NAME": settings.SITE_NAME,
    }
    return _email(
        to=recipient.email,
        subject=notification.title,
        text=render_to_string("notifications/email/notification.txt", context),
        html=render_to_string("notifications/email/notification.html", context),
        key=key,
        unsubscribe_url=unsubscribe,
        reply_to=notification.reply_to,
    )


def _email(
    *, to: str, subject: str, text: str, html: str, key: str, unsubscribe_url: str, reply_to: str = ""
) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject.replace("\n", " "),
        body=text,
        to=[to],
        reply_to=[reply_to] if reply_to else None,
        headers={
            "Message-ID": _message_id(key),
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def deliver_email(*, delivery_id: int) -> bool:
    """Send one immediate e-mail delivery. Safe to run twice and concurrently: only the worker
    that claims the delivery sends it, and a sent delivery is never sent again. Returns whether
    this call sent it; a mail server error puts it back in the outbox and is raised."""
    now = timezone.now()
    if not _claim(pks=[delivery_id], now=now):
        return False
    delivery = Delivery.objects.select_related("notification__recipient").get(pk=delivery_id)
    try:
        _email_for_notification(delivery.notification, delivery.idempotency_key).send()
    except Exception as error:
        _release(pks=[delivery_id], error=error)
        raise
    Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), lease_until=None, last_error=""
    )
    return True


def deliver_digest(*, user_id: int) -> int:
    """Send `user_id` one e-mail gathering their digest deliveries; returns how many it carried.
    The digest's key names the first and last delivery it carries, so a re-sent copy after a
    crash has the same Message-ID."""
    now = timezone.now()
    waiting = list(
        Delivery.objects.filter(
            notification__recipient_id=user_id, mode=EmailMode.DIGEST, status=Delivery.Status.PENDING
        ).values_list("pk", flat=True)
    )
    if not waiting or not _claim(pks=waiting, now=now):
        return 0
    claimed = list(
        Delivery.objects.filter(pk__in=waiting, status=Delivery.Status.SENDING, lease_until=now + LEASE)
        .select_related("notification__recipient")
        .order_by("notification__created_at", "pk")
    )
    if not claimed:
        return 0
    person = claimed[0].notification.recipient
    key = f"digest-{user_id}-{claimed[0].pk}-{claimed[-1].pk}"
    notifications = [delivery.notification for delivery in claimed]
    unsubscribe = absolute_url(reverse("notifications:preferences"))
    context = {
        "person": person,
        "items": [(n, absolute_url(n.url) if n.url else "") for n in notifications],
        "preferences_url": unsubscribe,
        "centre_url": absolute_url(reverse("notifications:centre")),
        "SITE_NAME": settings.SITE_NAME,
    }
    count = len(notifications)
    subject = f"Your {settings.SITE_NAME} digest: {count} new thing{'s' if count != 1 else ''}"
    pks = [delivery.pk for delivery in claimed]
    try:
        _email(
            to=person.email,
            subject=subject,
            text=render_to_string("notifications/email/digest.txt", context),
            html=render_to_string("notifications/email/digest.html", context),
            key=key,
            unsubscribe_url=unsubscribe,
        ).send()
    except Exception as error:
        _release(pks=pks, error=error)
        raise
    Delivery.objects.filter(pk__in=pks, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), lease_until=None, last_error="", digest_key=key
    )
    return count


def sweep_outbox(*, now=None) -> int:
    """Hand to the workers again what should have gone out by now: immediate deliveries still
    waiting after the grace period (the broker was away when they were written) and deliveries
    whose worker died while holding them. Returns how many were re-enqueued."""
    now = now or timezone.now()
    Delivery.objects.filter(status=Delivery.Status.SENDING, lease_until__lt=now).update(
        status=Delivery.Status.PENDING, lease_until=None, next_attempt_at=now
    )
    due = list(
        Delivery.objects.filter(
            status=Delivery.Status.PENDING, mode=EmailMode.IMMEDIATE, next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:1000]
    )
    if not due:
        return 0
    Delivery.objects.filter(pk__in=due, status=Delivery.Status.PENDING).update(next_attempt_at=now + SWEEP_GRACE)
    return sum(enqueue_delivery(delivery_id=pk) for pk in due)


def users_with_digest_waiting() -> list[int]:
    return list(
        Delivery.objects.filter(mode=EmailMode.DIGEST, status=Delivery.Status.PENDING)
        .values_list("notification__recipient_id", flat=True)
        .order_by()
        .distinct()
    )


# --- Reading and choosing --------------------------------------------------------------------


def mark_read(*, user, notification_id: int) -> Notification:
    """Mark one of `user`'s notifications read; someone else's is not found."""
    notification = Notification.objects.get(pk=notification_id, recipient=user, in_app=True)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_read_about(*, user, targets: QuerySet) -> int:
    """Mark read `user`'s unread notifications about any row of `targets` (a queryset of one
    model): e.g. every message of a conversation, once its reader has opened it."""
    target_ids = (
        targets.order_by().annotate(notification_target_id=Cast("pk", CharField())).values("notification_target_id")
    )
    return Notification.objects.filter(
        recipient=user,
        read_at__isnull=True,
        target_type=ContentType.objects.get_for_model(targets.model),
        target_id__in=target_ids,
    ).update(read_at=timezone.now())


def redact_about(*, target) -> int:
    """Blank the text of the notifications about `target` (its author took it back), in the
    notification centre and in e-mails not sent yet; their titles and links stay."""
    return Notification.objects.filter(
        target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)
    ).update(body="")


def mark_all_read(*, user) -> int:
    changed = Notification.objects.filter(recipient=user, in_app=True, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return changed


def preferences_update(*, user, choices: dict[str, dict]) -> None:
    """Set `user`'s channels: {kind: {"in_app": bool, "email": mode}}. All or nothing. Kinds that
    are always sent keep no choice (the preferences page shows them fixed): theirs are ignored."""
    choices = {kind: choice for kind, choice in choices.items() if kind not in KINDS or not KINDS[kind].always_sent}
    errors = {}
    for kind, choice in choices.items():
        if kind not in KINDS:
            errors[kind] = f"There is no kind of notification called {kind!r}."
        elif choice.get("email", EmailMode.IMMEDIATE) not in EmailMode.VALUES:
            errors[kind] = "E-mail must be one of: " + ", ".join(sorted(EmailMode.VALUES)) + "."
    if errors:
        raise ValidationError(errors)
    current = preferences_for(user=user)
    with transaction.atomic():
        for kind, choice in choices.items():
            Preference.objects.update_or_create(
                user=user,
                kind=kind,
                defaults={
                    "in_app": bool(choice.get("in_app", current[kind].in_app)),
                    "email": choice.get("email", current[kind].email),
                },
            )
        if any(choice.get("email") == EmailMode.OFF for choice in choices.values()):
            _cancel_waiting_email(user=user, kinds=[k for k, c in choices.items() if c.get("email") == EmailMode.OFF])


def _cancel_waiting_email(*, user, kinds: list[str]) -> None:
    """E-mail turned off takes effect at once, for the digest still being gathered too."""
    Delivery.objects.filter(
        notification__recipient=user, notification__kind__in=kinds, status=Delivery.Status.PENDING
    ).update(status=Delivery.Status.CANCELLED)


def unsubscribe(*, token: str, max_age_days: int = 365) -> tuple:
    """Turn off e-mail for the person and kind a mail's unsubscribe link names.
    Returns (user, kind); a forged or too old link raises ValidationError."""
    from accounts.models import User

    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=timedelta(days=max_age_days))
        user = User.objects.get(pk=payload["user"])
        kind = kind_for(payload["kind"])
    except (signing.BadSignature, User.DoesNotExist, KeyError, TypeError, ValueError):
        raise ValidationError(
            "This unsubscribe link is not valid. Change your e-mail choices on your notification settings page."
        ) from None
    preferences_update(user=user, choices={kind.slug: {"email": EmailMode.OFF}})
    return user, kind
