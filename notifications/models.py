from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from .kinds import EmailMode


class Notification(models.Model):
    """Something a person should know about. Its words and link are fixed when it is made,
    so it still reads right after its target has changed or gone."""

    # Found through the (recipient, -created_at) index: a second index of its own would only
    # slow down every fan-out to a shop's followers.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="Where the notification leads, a path on this site.")
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_id = models.CharField(max_length=40, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    in_app = models.BooleanField(default=True, help_text="Shown in the notification centre.")
    reply_to = models.EmailField(
        max_length=320,
        blank=True,
        help_text="Where replies to its e-mail go, when it can be answered by e-mail.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"]),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True, in_app=True), name="notif_unread"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Delivery(models.Model):
    """One notification on its way through one outside channel (e-mail): the outbox row.

    Written in the same transaction as what it tells of, so it exists exactly when that
    happened; workers claim it with a lease, and it is marked sent only once the mail
    server accepted it. The idempotency key becomes the e-mail's Message-ID, so a copy
    re-sent after a worker died between the two is recognised as the same message."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Gave up"
        CANCELLED = "cancelled", "Cancelled"

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, default="email")
    mode = models.CharField(
        max_length=10, choices=[c for c in EmailMode.CHOICES if c[0] != EmailMode.OFF], default=EmailMode.IMMEDIATE
    )
    idempotency_key = models.CharField(max_length=80)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(help_text="When the sweeper may hand it to a worker again.")
    lease_until = models.DateTimeField(null=True, blank=True)
    digest_key = models.CharField(max_length=80, blank=True, help_text="The digest e-mail that carried it.")
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["status", "mode", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False) | ~Q(status="sent"), name="notif_sent_has_time"
            ),
            # A constraint rather than unique=True, which on PostgreSQL adds a second index for
            # LIKE searches that nothing makes, paid for by every delivery written.
            models.UniqueConstraint(fields=["idempotency_key"], name="notif_delivery_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.idempotency_key} ({self.status})"


class Preference(models.Model):
    """A person's choice of channels for one kind; without a row, the kind's defaults apply."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=40)
    in_app = models.BooleanField(default=True)
    email = models.CharField(max_length=10, choices=EmailMode.CHOICES, default=EmailMode.IMMEDIATE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notif_preference_once")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: in app {self.in_app}, e-mail {self.email}"
