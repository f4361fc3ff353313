"""Writing notifications, delivering them and recording people's choices."""

import json
import logging
import smtplib
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import CharField, F, QuerySet
from django.db.models.functions import Cast
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from .kinds import KINDS, EmailMode, kind_for
from .models import Delivery, Notification, Preference
from .selectors import preferences_for

logger = logging.getLogger(__name__)

# A worker has this long to hand an e-mail to the mail server before another may try.
LEASE = timedelta(minutes=5)
# Deliveries are handed to a worker at commit; the sweeper only steps in after this.
SWEEP_GRACE = timedelta(minutes=2)
MAX_ATTEMPTS = 10
# A worker takes no new e-mail this close to the end of its lease: the last one it hands to
# the mail server must be accepted before another worker may take it.
LEASE_MARGIN = timedelta(seconds=30)
# Immediate e-mails per task: one claim, one query for their rows and one mail connection each.
DRAIN_BATCH = 200
# How long e-mails the mail server accepted may wait to be marked sent (see deliver_emails).
SENT_MARK_EVERY = 0.05
# The mail server refused this e-mail but kept the connection: the batch goes on.
MESSAGE_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)
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
            transaction.on_commit(lambda: enqueue_deliveries(delivery_ids=[delivery.pk]))
    return notification


def notify_audience(*, audience: QuerySet, kind: str, actor=None, target=None, context: dict | None = None) -> int:
    """`notify` for many people at once (a batch of a shop's followers): `audience` is a
    queryset of user ids (e.g. `.values("follower_id")`), and each of them gets what notify()
    would give them: their own choice for `kind` or its defaults, nothing when they turned both
    channels off or are the actor, no e-mail without an address.

    Written set-based in the caller's transaction, one INSERT ... SELECT for the notifications
    and one for their deliveries whatever the number of people, so no row is built in Python.
    The immediate e-mails are handed to the workers after commit, DRAIN_BATCH per task.
    Returns how many people were told."""
    spec = kind_for(kind)
    context = dict(context or {})
    context.setdefault("actor", actor.public_name if actor is not None else settings.SITE_NAME)
    url = context.pop("url", None) or (target.get_absolute_url() if hasattr(target, "get_absolute_url") else "")
    now = timezone.now()
    users = get_user_model()._meta.db_table
    notifications, deliveries = Notification._meta.db_table, Delivery._meta.db_table
    choice_join, choice_params, in_app, email = _choice_sql(spec)
    try:
        audience_sql, audience_params = audience.order_by().query.get_compiler(using=audience.db).as_sql()
    except EmptyResultSet:  # e.g. `pk__in=[]`: nobody to tell, nothing to ask the database
        return 0
    not_the_actor, actor_params = ("AND u.id <> %s", [actor.pk]) if actor is not None else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {notifications}
                    (recipient_id, kind, actor_id, title, body, url, target_type_id, target_id, in_app, reply_to,
                     created_at)
                SELECT u.id, %s, %s, %s, %s, %s, %s, %s, {in_app}, '', %s
                FROM {users} u {choice_join}
                WHERE u.id IN ({audience_sql}) {not_the_actor} AND ({in_app} OR {email} <> '{EmailMode.OFF}')
                RETURNING id""",  # noqa: S608 - our own names and constants; values are parameters
            [
                kind,
                actor.pk if actor is not None else None,
                spec.title.format(**context)[:300],
                context.get("body", ""),
                url,
                ContentType.objects.get_for_model(target).pk if target is not None else None,
                str(target.pk) if target is not None else "",
                connection.ops.adapt_datetimefield_value(now),
                *choice_params,
                *audience_params,
                *actor_params,
            ],
        )
        notification_ids = [row[0] for row in cursor.fetchall()]
        if not notification_ids:
            return 0
        written_sql, written_params = _id_set_sql(notification_ids)
        cursor.execute(
            f"""INSERT INTO {deliveries}
                    (notification_id, channel, mode, idempotency_key, status, attempts, next_attempt_at, digest_key,
                     last_error, created_at)
                SELECT n.id, 'email', {email}, 'notification-' || CAST(n.id AS TEXT) || '-email',
                       '{Delivery.Status.PENDING}', 0, %s, '', '', %s
                FROM {notifications} n JOIN {users} u ON u.id = n.recipient_id {choice_join}
                WHERE n.id IN ({written_sql}) AND u.email <> '' AND {email} <> '{EmailMode.OFF}'
                RETURNING id, mode""",  # noqa: S608 - our own names and constants; values are parameters
            [
                connection.ops.adapt_datetimefield_value(now + SWEEP_GRACE),
                connection.ops.adapt_datetimefield_value(now),
                *choice_params,
                *written_params,
            ],
        )
        immediate = [pk for pk, mode in cursor.fetchall() if mode == EmailMode.IMMEDIATE]
    if immediate:
        transaction.on_commit(lambda: enqueue_deliveries(delivery_ids=immediate))
    return len(notification_ids)


def _choice_sql(spec) -> tuple[str, list, str, str]:
    """How notify_audience's SQL reads each person `u`'s channels for the kind `spec`: the join
    to their saved choice (and its parameters), and the in-app and e-mail expressions, with the
    kind's defaults where they saved none (as selectors.preferences_for). A kind that is always
    sent reads no choice. The defaults are the registry's own constants, never input."""
    if spec.always_sent:
        return "", [], "TRUE", f"'{spec.email}'"
    join = f"LEFT JOIN {Preference._meta.db_table} p ON p.user_id = u.id AND p.kind = %s"
    in_app = f"COALESCE(p.in_app, {'TRUE' if spec.in_app else 'FALSE'})"
    return join, [spec.slug], in_app, f"COALESCE(p.email, '{spec.email}')"


def _id_set_sql(ids: list[int]) -> tuple[str, list]:
    """A subquery of these ids passed as one parameter (a JSON array): tens of thousands of
    placeholders would pass the databases' limits on parameters (SQLite: 32,766)."""
    if connection.vendor == "postgresql":
        return "SELECT CAST(value AS bigint) FROM json_array_elements_text(CAST(%s AS json))", [json.dumps(ids)]
    return "SELECT value FROM json_each(%s)", [json.dumps(ids)]


def enqueue_deliveries(*, delivery_ids: list[int]) -> int:
    """Hand deliveries to the workers, DRAIN_BATCH per task; returns how many were handed over.
    With the broker away they simply wait in the outbox (the sweeper retries), so whatever the
    caller was doing still succeeds."""
    from .tasks import send_email_deliveries

    handed = 0
    for start in range(0, len(delivery_ids), DRAIN_BATCH):
        batch = delivery_ids[start : start + DRAIN_BATCH]
        try:
            send_email_deliveries.apply_async(args=[batch], retry=False)
        except (BrokerError, OSError):  # the outbox row is the source of truth: the sweeper tries again
            logger.warning("%s notification deliveries stay in the outbox: the broker is unreachable", len(batch))
            return handed
        handed += len(batch)
    return handed


# --- Delivering ------------------------------------------------------------------------------


def _claim(*, pks, now) -> list[int]:
    """Take the deliveries for this worker: pending ones, or ones whose last worker's lease ran
    out. One UPDATE ... RETURNING, so two workers claiming at once get disjoint sets."""
    ids_sql, ids_params = _id_set_sql(list(pks))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Delivery._meta.db_table}
                SET status = %s, lease_until = %s, attempts = attempts + 1
                WHERE id IN ({ids_sql}) AND (status = %s OR (status = %s AND lease_until < %s))
                RETURNING id""",  # noqa: S608 - our own names; values are parameters
            [
                Delivery.Status.SENDING,
                connection.ops.adapt_datetimefield_value(now + LEASE),
                *ids_params,
                Delivery.Status.PENDING,
                Delivery.Status.SENDING,
                connection.ops.adapt_datetimefield_value(now),
            ],
        )
        return [row[0] for row in cursor.fetchall()]


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


def _hand_back(*, pks) -> None:
    """Put back deliveries a worker claimed but did not try (its lease was running out): no
    attempt counts, and the sweeper hands them out again at its next run."""
    Delivery.objects.filter(pk__in=pks, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.PENDING, lease_until=None, attempts=F("attempts") - 1, next_attempt_at=timezone.now()
    )


def _mark_sent(*, pks, **fields) -> None:
    if pks:
        Delivery.objects.filter(pk__in=pks, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.SENT, sent_at=timezone.now(), lease_until=None, last_error="", **fields
        )


def absolute_url(path: str) -> str:
    return settings.PLURAL_BASE_URL.rstrip("/") + path


def unsubscribe_token(*, user, kind: str) -> str:
    return signing.dumps({"user": user.pk, "kind": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def _message_id(key: str) -> str:
    return f"<{key}@{settings.PLURAL_MAIL_DOMAIN}>"


class _NotificationMail:
    """Builds the e-mails of single notifications: the templates and the links every e-mail
    shares are looked up once for a whole batch; each person's own words are filled in per e-mail."""

    def __init__(self):
        self.text = get_template("notifications/email/notification.txt")
        self.html = get_template("notifications/email/notification.html")
        self.centre_url = absolute_url(reverse("notifications:centre"))
        self.preferences_url = absolute_url(reverse("notifications:preferences"))

    def build(self, notification: Notification, key: str) -> EmailMultiAlternatives:
        recipient = notification.recipient
        token = unsubscribe_token(user=recipient, kind=notification.kind)
        unsubscribe = absolute_url(reverse("notifications:unsubscribe", kwargs={"token": token}))
        context = {
            "notification": notification,
            "person": recipient,
            "link": absolute_url(notification.url) if notification.url else self.centre_url,
            "unsubscribe_url": unsubscribe,
            "preferences_url": self.preferences_url,
            "kind": KINDS[notification.kind],
            "reply_marker": REPLY_MARKER,
            "SITE_NAME": settings.SITE_NAME,
        }
        return _email(
            to=recipient.email,
            subject=notification.title,
            text=self.text.render(context),
            html=self.html.render(context),
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


def deliver_emails(*, delivery_ids) -> int:
    """Send these immediate e-mail deliveries over one connection to the mail server; returns
    how many this call sent. Safe to run twice and concurrently: one UPDATE claims them, so
    each is sent by one worker only, and a sent delivery is never claimed again.

    What the mail server accepted is marked sent in bulk, at least every SENT_MARK_EVERY
    (after each e-mail when the mail server is slower than that): a worker that dies re-sends
    at most that much, under the same Message-ID, once its lease has run out. A worker whose
    lease is running out hands the rest back untried. An e-mail the mail server refuses goes
    back to the outbox while the others go on, and its error is raised once the batch is done
    (the task retries with backoff); any other error puts back what was not sent yet and is
    raised at once."""
    now = timezone.now()
    claimed = _claim(pks=delivery_ids, now=now)
    if not claimed:
        return 0
    stop_at = now + LEASE - LEASE_MARGIN
    deliveries = list(
        Delivery.objects.filter(pk__in=claimed)
        .select_related("notification__recipient")
        .only(
            "idempotency_key",
            *(f"notification__{field}" for field in ("kind", "title", "body", "url", "reply_to")),
            *(f"notification__recipient__{field}" for field in ("username", "display_name", "email")),
        )
        .order_by("pk")
    )
    mail = _NotificationMail()
    connection = get_connection()
    accepted: list[int] = []  # by the mail server, not marked sent yet
    refused: Exception | None = None
    sent = position = 0
    marked_at = time.monotonic()
    try:
        connection.open()
        for position, delivery in enumerate(deliveries):
            if timezone.now() >= stop_at:
                _hand_back(pks=[later.pk for later in deliveries[position:]])
                break
            try:
                connection.send_messages([mail.build(delivery.notification, delivery.idempotency_key)])
            except MESSAGE_REFUSED as error:
                _release(pks=[delivery.pk], error=error)
                refused = refused or error
            else:
                accepted.append(delivery.pk)
                sent += 1
            if time.monotonic() - marked_at >= SENT_MARK_EVERY:
                _mark_sent(pks=accepted)
                accepted, marked_at = [], time.monotonic()
    except Exception as error:
        _release(pks=[later.pk for later in deliveries[position:]], error=error)
        raise
    finally:
        _mark_sent(pks=accepted)
        connection.close()
    if refused is not None:
        raise refused
    return sent


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
    claimed_ids = _claim(pks=waiting, now=now) if waiting else []
    if not claimed_ids:
        return 0
    claimed = list(
        Delivery.objects.filter(pk__in=claimed_ids)
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
    _mark_sent(pks=pks, digest_key=key)
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
    return enqueue_deliveries(delivery_ids=due)


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
