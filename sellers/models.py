from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django_countries.fields import CountryField

from marketplace.money import CURRENCY_CHOICES, MAX_PRICE
from marketplace.storage import private_storage


def shop_upload_to(shop: "Shop", filename: str) -> str:
    return f"shops/{shop.pk}/{filename}"


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CASH_ON_PICKUP = "cash_on_pickup", "Cash on pickup"
    CHEQUE = "cheque", "Cheque"
    CARD = "card", "Card"


class Shop(models.Model):
    """A seller's storefront: its own name, voice, policies and people."""

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=60, unique=True)
    tagline = models.CharField(max_length=140, blank=True)
    about = models.TextField(blank=True, help_text="Markdown.")
    about_html = models.TextField(blank=True, editable=False)
    logo_small = models.ImageField(upload_to=shop_upload_to, blank=True)
    logo_large = models.ImageField(upload_to=shop_upload_to, blank=True)
    banner = models.ImageField(upload_to=shop_upload_to, blank=True)
    country = CountryField()
    city = models.CharField(max_length=100, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_shops")
    people = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ShopMember", related_name="shops", through_fields=("shop", "user")
    )

    # Policies
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    ships_to = CountryField(multiple=True, blank=True, help_text="Countries this shop ships to besides its own.")
    domestic_first_item = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"))
    domestic_additional_item = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"))
    international_first_item = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"))
    international_additional_item = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"))
    returns_policy = models.TextField(blank=True)
    payment_methods = models.JSONField(default=list, blank=True)
    processing_days = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(0), MaxValueValidator(60)], help_text="Working days to dispatch."
    )

    # Vacation
    is_on_vacation = models.BooleanField(default=False)
    vacation_message = models.CharField(max_length=280, blank=True)
    # The owner's choice: the shop's people open its dashboard (pages and API) only with
    # two-factor authentication turned on for their account.
    requires_mfa = models.BooleanField(default=False)
    vacation_until = models.DateField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(domestic_first_item__gte=0)
                & Q(domestic_additional_item__gte=0)
                & Q(international_first_item__gte=0)
                & Q(international_additional_item__gte=0)
                & Q(domestic_first_item__lte=MAX_PRICE)
                & Q(international_first_item__lte=MAX_PRICE),
                name="sellers_shop_shipping_rates_in_range",
            ),
            models.CheckConstraint(condition=~Q(slug=""), name="sellers_shop_slug_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sellers:storefront", kwargs={"slug": self.slug})

    @property
    def is_open_for_orders(self) -> bool:
        return not self.is_on_vacation


class ShopMember(models.Model):
    """A person behind a shop. The owner is a member too, with the owner role."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        STAFF = "staff", "Staff"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shop_memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    title = models.CharField(max_length=60, blank=True, help_text='What this person does, e.g. "Books and maps".')
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [F("role").desc(), "added_at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "user"], name="sellers_member_once_per_shop"),
            models.UniqueConstraint(
                fields=["shop"], condition=Q(role="owner"), name="sellers_one_owner_member_per_shop"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.shop} ({self.role})"


def import_upload_to(job: "InventoryImport", filename: str) -> str:
    return f"imports/{job.shop_id}/{filename}"


class InventoryImport(models.Model):
    """One uploaded inventory file and what became of each of its rows."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="imports")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    # Kept out of the public media folder: a shop's inventory file is its own business.
    data_file = models.FileField(storage=private_storage, upload_to=import_upload_to)
    images_archive = models.FileField(storage=private_storage, upload_to=import_upload_to, blank=True)
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    failure_reason = models.TextField(blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} for {self.shop} ({self.status})"


class InventoryImportRow(models.Model):
    """The outcome of one row of an import: created, updated or rejected with the reason."""

    class Outcome(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        REJECTED = "rejected", "Rejected"

    inventory_import = models.ForeignKey(InventoryImport, on_delete=models.CASCADE, related_name="rows")
    line_number = models.PositiveIntegerField()
    sku = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    message = models.TextField(blank=True)
    listing = models.ForeignKey("catalog.Listing", on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["line_number"]
        constraints = [
            models.UniqueConstraint(fields=["inventory_import", "line_number"], name="sellers_import_row_once"),
        ]

    def __str__(self) -> str:
        return f"line {self.line_number}: {self.outcome}"
