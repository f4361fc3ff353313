"""Carts, addresses, checkouts and orders: one order per shop, with a snapshot of what was bought."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django_countries.fields import CountryField

from marketplace.money import CURRENCY_CHOICES
from sellers.models import PaymentMethod

from .lifecycle import RETURN_REASON_CHOICES, Actor, State

MAX_RETURN_WINDOW_DAYS = 90


def default_return_window_days() -> int:
    return settings.ORDERS_DEFAULT_RETURN_WINDOW_DAYS


class Address(models.Model):
    """One entry of a person's address book."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses")
    full_name = models.CharField("full name", max_length=120)
    line1 = models.CharField("address", max_length=200)
    line2 = models.CharField("address, second line", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postal_code = models.CharField("postal code", max_length=20, blank=True)
    region = models.CharField("region or state", max_length=100, blank=True)
    country = CountryField()
    phone = models.CharField(max_length=40, blank=True, help_text="For the carrier, if they need to reach you.")
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "full_name", "pk"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(is_default=True), name="orders_one_default_address"),
            models.CheckConstraint(
                condition=~Q(full_name="") & ~Q(line1="") & ~Q(city="") & ~Q(country=""),
                name="orders_address_required_fields",
            ),
        ]

    def __str__(self) -> str:
        return ", ".join(self.lines)

    @property
    def lines(self) -> list[str]:
        place = " ".join(part for part in (self.postal_code, self.city) if part)
        return [
            part for part in (self.full_name, self.line1, self.line2, place, self.region, self.country.name) if part
        ]


class Cart(models.Model):
    """A person's cart, or a guest's, whose token is kept in their session until they sign in."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="cart"
    )
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    address = models.ForeignKey(Address, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    country = CountryField(blank=True, help_text="Where to send it, while no address is chosen.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"cart of {self.owner_id or 'a guest'}"


class CartItem(models.Model):
    """A listing in a cart, with the price the person saw when they added it."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    listing = models.ForeignKey("catalog.Listing", on_delete=models.CASCADE, related_name="cart_items")
    quantity = models.PositiveIntegerField(default=1)
    price_seen = models.DecimalField(max_digits=8, decimal_places=2)
    currency_seen = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "listing"], name="orders_cart_listing_once"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orders_cart_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of listing {self.listing_id}"


class Checkout(models.Model):
    """One press of "Place order": the orders it made, one per shop.

    The idempotency key comes with the checkout form (or the API call); the database's
    unique constraint makes a second submission of it find the first instead of ordering twice."""

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkouts")
    idempotency_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "idempotency_key"], name="orders_checkout_once_per_key"),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="orders_checkout_key_not_empty"),
        ]

    def __str__(self) -> str:
        return f"checkout {self.pk} by {self.buyer_id}"

    def get_absolute_url(self) -> str:
        return reverse("orders:confirmation", kwargs={"pk": self.pk})


class ShopTerms(models.Model):
    """A shop's order terms kept by the orders side: its return window (set by its people)
    and a commission rate the operator may set for it instead of the site-wide one."""

    shop = models.OneToOneField("sellers.Shop", on_delete=models.CASCADE, primary_key=True, related_name="order_terms")
    return_window_days = models.PositiveSmallIntegerField(
        default=default_return_window_days,
        validators=[MaxValueValidator(MAX_RETURN_WINDOW_DAYS)],
        help_text="Days after delivery in which a buyer may ask to return an order.",
    )
    commission_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="For example 0.0300 for 3%. Empty: the site-wide rate (ORDERS_COMMISSION_RATE).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "shop's order terms"
        verbose_name_plural = "shops' order terms"
        constraints = [
            models.CheckConstraint(
                condition=Q(return_window_days__lte=MAX_RETURN_WINDOW_DAYS), name="orders_return_window_in_range"
            ),
            models.CheckConstraint(
                condition=Q(commission_rate__isnull=True) | Q(commission_rate__gte=0, commission_rate__lte=1),
                name="orders_commission_rate_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"order terms of {self.shop_id}"


class Order(models.Model):
    """What one buyer bought from one shop, as it was when they bought it."""

    checkout = models.ForeignKey(Checkout, on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    shop = models.ForeignKey("sellers.Shop", on_delete=models.PROTECT, related_name="orders")
    state = models.CharField(max_length=20, choices=State.choices, default=State.NEW)

    # Snapshot of the shop's terms at the moment of purchase.
    shop_name = models.CharField(max_length=80)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    processing_days = models.PositiveSmallIntegerField()
    return_window_days = models.PositiveSmallIntegerField()
    commission_rate = models.DecimalField(max_digits=5, decimal_places=4)

    items_total = models.DecimalField(max_digits=10, decimal_places=2)
    shipping_total = models.DecimalField(max_digits=10, decimal_places=2)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    commission = models.DecimalField(max_digits=10, decimal_places=2)

    # Where it goes, copied from the address book.
    ship_name = models.CharField(max_length=120)
    ship_line1 = models.CharField(max_length=200)
    ship_line2 = models.CharField(max_length=200, blank=True)
    ship_city = models.CharField(max_length=100)
    ship_postal_code = models.CharField(max_length=20, blank=True)
    ship_region = models.CharField(max_length=100, blank=True)
    ship_country = CountryField()
    ship_phone = models.CharField(max_length=40, blank=True)
    buyer_note = models.TextField(blank=True, help_text="What the buyer told the shop at checkout.")

    payment_provider = models.CharField(max_length=30)
    payment_method = models.CharField(max_length=30)
    payment_reference = models.CharField(max_length=100, blank=True)

    carrier = models.CharField(max_length=80, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)

    cancelled_by = models.CharField(max_length=10, choices=Actor.choices, blank=True)
    cancel_reason = models.TextField(blank=True)
    # Whether the cancellation was the shop's doing (or its failing to act in time):
    # only those count against its completion rate.
    cancelled_against_shop = models.BooleanField(default=False)

    placed_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        indexes = [
            models.Index(fields=["buyer", "-placed_at"]),
            models.Index(fields=["shop", "state", "-placed_at"]),
            models.Index(fields=["shop", "completed_at"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["checkout", "shop"], name="orders_one_order_per_shop_per_checkout"),
            models.UniqueConstraint(
                fields=["payment_provider", "payment_reference"],
                condition=~Q(payment_reference=""),
                name="orders_payment_reference_unique",
            ),
            models.CheckConstraint(
                condition=Q(items_total__gte=0) & Q(shipping_total__gte=0) & Q(commission__gte=0),
                name="orders_amounts_not_negative",
            ),
            models.CheckConstraint(condition=Q(state__in=State.values), name="orders_state_known"),
            models.CheckConstraint(
                condition=~Q(state="shipped") | (~Q(carrier="") & ~Q(tracking_number="")),
                name="orders_shipped_has_tracking",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.reference}"

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", kwargs={"pk": self.pk})

    def get_shop_url(self) -> str:
        return reverse("orders:shop_order", kwargs={"slug": self.shop.slug, "pk": self.pk})

    @property
    def reference(self) -> str:
        return f"#{self.pk}"

    @property
    def address_lines(self) -> list[str]:
        place = " ".join(part for part in (self.ship_postal_code, self.ship_city) if part)
        return [
            part
            for part in (
                self.ship_name,
                self.ship_line1,
                self.ship_line2,
                place,
                self.ship_region,
                self.ship_country.name,
            )
            if part
        ]

    @property
    def item_count(self) -> int:
        return sum(item.quantity for item in self.items.all())

    @property
    def payment_method_label(self) -> str:
        return dict(PaymentMethod.choices).get(self.payment_method, self.payment_method)

    @property
    def net(self) -> Decimal:
        return self.total - self.commission


class OrderItem(models.Model):
    """One line of an order: the listing as it was sold."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    listing = models.ForeignKey(
        "catalog.Listing", null=True, blank=True, on_delete=models.SET_NULL, related_name="order_items"
    )
    title = models.CharField(max_length=255)
    creator = models.CharField(max_length=255, blank=True)
    condition = models.CharField(max_length=40)
    sku = models.CharField(max_length=64, blank=True)
    unit_price = models.DecimalField(max_digits=8, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orders_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.title}"


class OrderEvent(models.Model):
    """One entry of the order's timeline, which the buyer and the shop both see."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    transition = models.CharField(max_length=40, help_text="The transition taken, or 'placed' / 'reminder'.")
    from_state = models.CharField(max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=State.choices)
    actor_role = models.CharField(max_length=10, choices=Actor.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    message = models.CharField(max_length=300)
    note = models.TextField(blank=True, help_text="What the person wrote with it.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.message}"


class OrderDeadline(models.Model):
    """A running timer of an order (see lifecycle.TIMERS): started when the order entered a
    state, resolved when it left it, fired by the beat task when it fell due first."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="deadlines")
    timer = models.CharField(max_length=30)
    state = models.CharField(max_length=20, choices=State.choices)
    due_at = models.DateTimeField()
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(fired_at__isnull=True, resolved_at__isnull=True),
                name="orders_deadline_open",
            ),
            models.Index(
                fields=["remind_at"],
                condition=Q(reminded_at__isnull=True, resolved_at__isnull=True, fired_at__isnull=True),
                name="orders_deadline_remind",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "timer"],
                condition=Q(resolved_at__isnull=True, fired_at__isnull=True),
                name="orders_one_open_deadline_per_timer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.timer} of {self.order_id} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.fired_at is None and self.resolved_at is None


class ReturnRequest(models.Model):
    """A buyer's request to return a delivered order, and the shop's decision."""

    class Decision(models.TextChoices):
        PENDING = "pending", "Waiting for the shop"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="return_request")
    reason = models.CharField(max_length=20, choices=RETURN_REASON_CHOICES)
    details = models.TextField(blank=True)
    refund_amount = models.DecimalField(max_digits=10, decimal_places=2)
    refund_rule = models.CharField(max_length=300)
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decision_reason = models.TextField(blank=True)
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(refund_amount__gte=0), name="orders_refund_not_negative"),
            models.CheckConstraint(
                condition=~Q(decision="declined") | ~Q(decision_reason=""), name="orders_decline_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"return of {self.order_id}: {self.reason} ({self.decision})"
