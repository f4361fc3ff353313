from django.contrib.auth.models import AbstractUser
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField

from marketplace.storage import private_storage


def avatar_upload_to(user: "User", filename: str) -> str:
    return f"avatars/{user.pk}/{filename}"


class User(AbstractUser):
    """A person on Plural: a buyer, a seller, or both.

    The username is the public handle used in profile addresses; the display
    name is what other people see beside everything the person writes.
    """

    display_name = models.CharField(max_length=80, blank=True)
    bio = models.TextField("short bio", max_length=500, blank=True)
    country = CountryField(blank=True)
    city = models.CharField(max_length=100, blank=True)
    avatar_small = models.ImageField(upload_to=avatar_upload_to, blank=True)
    avatar_large = models.ImageField(upload_to=avatar_upload_to, blank=True)
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text="When the person deleted their account: this row is what remains of it."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(username=""), name="accounts_user_username_not_empty"),
        ]

    def __str__(self) -> str:
        return self.public_name

    @property
    def public_name(self) -> str:
        return self.display_name or self.username

    @property
    def location(self) -> str:
        return ", ".join(part for part in (self.city, self.country.name if self.country else "") if part)

    def get_absolute_url(self) -> str:
        return reverse("accounts:profile", kwargs={"username": self.username})


class ConsentPurpose(models.TextChoices):
    """What Plural asks a person's permission for. Activity sharing and recommendations are kept
    by the social app (social.SharingSettings); marketing e-mail and storefront notes only here."""

    ACTIVITY_SHARING = "activity_sharing", "Sharing my activity"
    RECOMMENDATIONS = "recommendations", "Recommendations from what I look at and buy"
    MARKETING_EMAIL = "marketing_email", "News and offers by e-mail"
    THANK_YOU_NOTES = "thank_you_notes", "Showing my thank-you notes on shops' storefronts"


class ConsentRecord(models.Model):
    """One decision about one purpose: what the person was shown (the wording's version), what
    they chose and when. Never changed afterwards: the latest row is the current state."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="consent_records")
    purpose = models.CharField(max_length=30, choices=ConsentPurpose.choices)
    is_given = models.BooleanField()
    wording_version = models.CharField(max_length=20)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-pk"]
        indexes = [models.Index(fields=["user", "purpose", "-decided_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(purpose__in=ConsentPurpose.values), name="accounts_consent_purpose_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {'gave' if self.is_given else 'withdrew'} {self.purpose}"


def export_upload_to(export: "DataExport", filename: str) -> str:
    return f"exports/{export.user_id}/{filename}"


class DataExport(models.Model):
    """A person's request for a copy of their data, and the zip a task built for it. The file is
    in private storage: only its owner downloads it, through a view, until `expires_at`."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being prepared"
        READY = "ready", "Ready to download"
        FAILED = "failed", "Could not be built"
        EXPIRED = "expired", "Expired"

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    format_version = models.CharField(max_length=10, blank=True)
    file = models.FileField(upload_to=export_upload_to, storage=private_storage, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    requested_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="ready") | models.Q(expires_at__isnull=False, ready_at__isnull=False),
                name="accounts_ready_export_has_times",
            ),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} of {self.user_id} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("accounts:export_download", kwargs={"pk": self.pk})

    @property
    def is_downloadable(self) -> bool:
        return self.status == self.Status.READY and self.expires_at is not None and self.expires_at > timezone.now()


class DataAccess(models.Model):
    """An operator opened a person's private data in the admin (data exports are never opened by
    anyone but their owner: no operator view shows their content). Moderators' reads of reported
    conversations (messaging.ModeratorAccess) and of escalated cases (orders.CaseAccessLog) are
    kept by those apps; accounts.selectors.access_log merges all three for the person."""

    class What(models.TextChoices):
        PROFILE = "profile", "Your account details"
        ADDRESS = "address", "One of your addresses"
        ORDER = "order", "One of your orders"

    subject = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="accesses_to_my_data")
    accessed_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    accessed_by_name = models.CharField(max_length=150)
    what = models.CharField(max_length=10, choices=What.choices)
    object_label = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=300)
    accessed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-accessed_at", "-pk"]
        verbose_name_plural = "accesses to personal data"
        indexes = [models.Index(fields=["subject", "-accessed_at"])]
        constraints = [models.CheckConstraint(condition=~models.Q(reason=""), name="accounts_access_has_reason")]

    def __str__(self) -> str:
        return f"{self.accessed_by_name} opened {self.what} of {self.subject_id}"


class BreachNotice(models.Model):
    """An operator told people that their data may have been exposed."""

    title = models.CharField(max_length=200)
    description = models.TextField(help_text="What happened, what data it concerns and what people should do.")
    sent_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    recipients_count = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        constraints = [models.CheckConstraint(condition=~models.Q(description=""), name="accounts_breach_described")]

    def __str__(self) -> str:
        return self.title


class EarnedElsewhere(models.Model):
    """A review or rating a shop received on another Plural site, brought in with its export:
    shown as history from there, never counted in this site's ratings."""

    class Kind(models.TextChoices):
        REVIEW = "review", "Review of a listing"
        RATING = "rating", "Rating of the shop"

    shop = models.ForeignKey("sellers.Shop", on_delete=models.CASCADE, related_name="earned_elsewhere")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    origin = models.CharField(max_length=200, help_text="The Plural site where it was earned.")
    stars = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    about = models.CharField(max_length=255, blank=True, help_text="What was reviewed, as it was called there.")
    written_by = models.CharField(max_length=150, help_text="The author's public name there.")
    written_at = models.DateTimeField()
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-written_at", "-pk"]
        verbose_name_plural = "reviews earned elsewhere"
        constraints = [
            models.CheckConstraint(condition=models.Q(stars__gte=1, stars__lte=5), name="accounts_earned_stars_range"),
        ]

    def __str__(self) -> str:
        return f"{self.stars}★ for {self.shop_id} on {self.origin}"
