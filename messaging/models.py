"""Conversations between a buyer and a shop, their messages, and the safety rails around them."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone

from marketplace.storage import private_storage

# The longest message, in characters (of markdown); the database refuses longer ones too.
MESSAGE_MAX_LENGTH = 5000


class Conversation(models.Model):
    """A buyer talking with a shop: the buyer on one side, every one of the shop's people on
    the other (who they are is read from sellers.ShopMember at each access).

    The context shown at the top is one nullable foreign key per kind of thing a conversation
    can be about, so each is a real constraint and joins with select_related: a listing, or an
    order (at most one of them; one conversation per order, whose buyer and shop are the
    order's, as messaging.services.conversation_start_about_order makes it)."""

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="buyer_conversations")
    shop = models.ForeignKey("sellers.Shop", on_delete=models.CASCADE, related_name="conversations")
    subject = models.CharField(max_length=200)
    listing = models.ForeignKey(
        "catalog.Listing", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    # PROTECT: orders are kept for good (Order is protected itself), so is what was said about one.
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="conversations"
    )
    context_title = models.CharField(
        max_length=255, blank=True, help_text="What the context was called when the conversation began."
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_message = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_message_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_message_at", "-pk"]
        indexes = [
            models.Index(fields=["buyer", "-last_message_at"]),
            models.Index(fields=["shop", "-last_message_at"]),
            models.Index(fields=["buyer", "created_at"], name="messaging_conv_started"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "shop", "listing"],
                condition=Q(listing__isnull=False),
                name="messaging_one_conversation_per_listing",
            ),
            models.CheckConstraint(condition=~Q(subject=""), name="messaging_conversation_has_subject"),
            models.UniqueConstraint(
                fields=["order"], condition=Q(order__isnull=False), name="messaging_one_conversation_per_order"
            ),
            models.CheckConstraint(
                condition=Q(listing__isnull=True) | Q(order__isnull=True), name="messaging_conversation_one_context"
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("messaging:conversation", kwargs={"pk": self.pk})


class Message(models.Model):
    """One message. Never edited; its author may delete it for a short while, which blanks it
    and leaves a visible trace (deleted_at)."""

    class Source(models.TextChoices):
        WEB = "web", "On the site"
        API = "api", "Through the API"
        EMAIL = "email", "By e-mail"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="conversation_messages"
    )
    for_shop = models.BooleanField(help_text="Written as one of the shop's people, and signed for the shop.")
    body = models.TextField(blank=True, help_text="Markdown.")
    body_html = models.TextField(blank=True, editable=False)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    email_message_id = models.CharField(
        max_length=255, blank=True, help_text="The Message-ID of the e-mail it came from: a re-sent e-mail posts once."
    )
    # A private offer the shop made from the thread: the message shows it, with its state read
    # from the offer itself, in its place among the messages.
    offer = models.OneToOneField(
        "orders.Offer", null=True, blank=True, on_delete=models.SET_NULL, related_name="thread_message"
    )
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["conversation", "-id"], name="messaging_msg_newest")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(deleted_at__isnull=True) & ~Q(body=""))
                | (Q(deleted_at__isnull=False) & Q(body="") & Q(body_html="")),
                name="messaging_message_has_text_or_is_a_deleted_trace",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), MESSAGE_MAX_LENGTH), name="messaging_message_not_too_long"
            ),
            models.UniqueConstraint(
                fields=["conversation", "email_message_id"],
                condition=~Q(email_message_id=""),
                name="messaging_email_posted_once",
            ),
            models.CheckConstraint(
                condition=Q(offer__isnull=True) | Q(for_shop=True), name="messaging_offers_come_from_the_shop"
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} in {self.conversation_id}"

    def get_absolute_url(self) -> str:
        return f"{reverse('messaging:conversation', kwargs={'pk': self.conversation_id})}#message-{self.pk}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def attachment_upload_to(attachment: "Attachment", filename: str) -> str:
    # Unguessable names: knowing one conversation's file tells nothing of another's.
    return f"messages/{uuid.uuid4().hex}-{filename}"


class Attachment(models.Model):
    """A picture sent with a message: re-encoded by marketplace.images, the upload itself never kept."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    position = models.PositiveSmallIntegerField(default=0)
    image = models.ImageField(storage=private_storage, upload_to=attachment_upload_to)
    thumbnail = models.ImageField(storage=private_storage, upload_to=attachment_upload_to)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"Picture {self.position} of message {self.message_id}"


class ParticipantState(models.Model):
    """One person's own view of a conversation: how far they have read, and whether they
    archived it. An archived conversation comes back to the inbox when a message arrives after."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="states")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_states")
    last_read_message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_read_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="messaging_one_state_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.conversation_id}"


class Block(models.Model):
    """`blocked` may no longer write to a person (by_user) or to a shop (by_shop): not in a new
    conversation, not in an existing one. A shop's block is made by one of its people for all."""

    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_against")
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="blocks_made"
    )
    by_shop = models.ForeignKey(
        "sellers.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="blocks_made"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(by_user__isnull=False, by_shop__isnull=True)
                | Q(by_user__isnull=True, by_shop__isnull=False),
                name="messaging_block_by_a_person_or_a_shop",
            ),
            models.CheckConstraint(condition=~Q(by_user=models.F("blocked")), name="messaging_block_not_oneself"),
            models.UniqueConstraint(
                fields=["by_user", "blocked"], condition=Q(by_user__isnull=False), name="messaging_person_blocks_once"
            ),
            models.UniqueConstraint(
                fields=["by_shop", "blocked"], condition=Q(by_shop__isnull=False), name="messaging_shop_blocks_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.blocked_id} blocked by {'shop ' + str(self.by_shop_id) if self.by_shop_id else self.by_user_id}"


class Report(models.Model):
    """A participant asking the moderators to look at a conversation or one of its messages.
    While it is open, and only then, moderators may read the conversation."""

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam or advertising"
        ABUSE = "abuse", "Abuse, threats or hate"
        SCAM = "scam", "A scam or an attempt at fraud"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a moderator"
        RESOLVED = "resolved", "Resolved"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reports")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_reports")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    details = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["conversation", "status"]), models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", resolved_at__isnull=True) | Q(status="resolved", resolved_at__isnull=False),
                name="messaging_report_resolved_has_time",
            ),
            models.UniqueConstraint(
                fields=["reporter", "conversation"],
                condition=Q(status="open", message__isnull=True),
                name="messaging_one_open_report_per_conversation",
            ),
            models.UniqueConstraint(
                fields=["reporter", "message"],
                condition=Q(status="open", message__isnull=False),
                name="messaging_one_open_report_per_message",
            ),
        ]

    def __str__(self) -> str:
        return f"Report {self.pk} on conversation {self.conversation_id} ({self.status})"


class ModeratorAccess(models.Model):
    """A moderator read a reported conversation: kept for good and shown to its participants."""

    class Via(models.TextChoices):
        PAGE = "page", "The conversation page"
        API = "api", "The API"
        ATTACHMENT = "attachment", "A picture"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="moderator_accesses")
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="accesses")
    via = models.CharField(max_length=10, choices=Via.choices)
    accessed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["accessed_at", "pk"]
        verbose_name_plural = "moderator accesses"

    def __str__(self) -> str:
        return f"{self.moderator_id} read {self.conversation_id} at {self.accessed_at:%Y-%m-%d %H:%M}"
