"""Carts, addresses, checkouts and orders: one order per shop, with a snapshot of what was bought."""

import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django_countries.fields import CountryField

from marketplace.money import CURRENCY_CHOICES, MAX_PRICE, MIN_PRICE
from sellers.models import PaymentMethod

from .lifecycle import (
    CASE_REASON_CHOICES,
    OPEN_CASE_STATES,
    OPEN_OFFER_STATES,
    RETURN_REASON_CHOICES,
    Actor,
    CaseState,
    OfferKind,
    OfferState,
    Remedy,
    State,
)

MAX_RETURN_WINDOW_DAYS = 90
MAX_OFFER_RESPONSE_DAYS = 14


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
    accepts_offers = models.BooleanField(default=False, help_text="Buyers may offer a price on its listings.")
    offer_response_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_OFFER_RESPONSE_DAYS)],
        help_text="Days the shop has to answer a buyer's offer (and the buyer a counter-offer) before it lapses.",
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
            models.CheckConstraint(
                condition=Q(offer_response_days__gte=1, offer_response_days__lte=MAX_OFFER_RESPONSE_DAYS),
                name="orders_offer_response_days_in_range",
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


# --- Offers -----------------------------------------------------------------------------------


def new_offer_token() -> str:
    return secrets.token_urlsafe(24)


def _price_in_range(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": MIN_PRICE, f"{field}__lte": MAX_PRICE})


class Offer(models.Model):
    """A price for one copy of a listing agreed between a shop and one buyer (see
    lifecycle.OFFER_TRANSITIONS): a private offer the shop makes, with its own shipping charge
    to a country it names and an expiry, or an offer the buyer makes, which the shop accepts,
    declines or counters. The buyer reaches it at an unguessable address (its token)."""

    kind = models.CharField(max_length=10, choices=OfferKind.choices)
    token = models.CharField(max_length=64, unique=True, default=new_offer_token, editable=False)
    shop = models.ForeignKey("sellers.Shop", on_delete=models.CASCADE, related_name="offers")
    listing = models.ForeignKey("catalog.Listing", on_delete=models.CASCADE, related_name="offers")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offers")
    # Who made it: the buyer, or the person of the shop whose name signs a private offer.
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    signed_as = models.CharField(max_length=80)
    state = models.CharField(max_length=10, choices=OfferState.choices, default=OfferState.OPEN)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    message = models.TextField(blank=True)
    # Private offers only: the shipping charged, to the one country it is for.
    shipping_charge = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    ship_to = CountryField(blank=True)
    counter_price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    counter_message = models.TextField(blank=True)
    agreed_price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    # When the side whose turn it is must have answered (for a private offer: its expiry).
    respond_by = models.DateTimeField()
    reserved_until = models.DateTimeField(null=True, blank=True)
    order = models.OneToOneField(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="offer")
    # A private offer made in a conversation with the buyer (messaging.services.conversation_offer_make).
    conversation = models.ForeignKey(
        "messaging.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="offers"
    )
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["shop", "-created_at"]),
            models.Index(fields=["buyer", "-created_at"]),
            models.Index(fields=["respond_by"], condition=Q(state__in=["open", "countered"]), name="orders_offer_due"),
            models.Index(fields=["reserved_until"], condition=Q(state="accepted"), name="orders_offer_reserved"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "buyer"],
                condition=Q(kind=OfferKind.BUYER, state__in=sorted(OPEN_OFFER_STATES)),
                name="orders_one_open_offer_per_buyer_per_listing",
            ),
            models.CheckConstraint(condition=Q(kind__in=OfferKind.values), name="orders_offer_kind_known"),
            models.CheckConstraint(condition=Q(state__in=OfferState.values), name="orders_offer_state_known"),
            models.CheckConstraint(
                condition=Q(price__gte=MIN_PRICE, price__lte=MAX_PRICE)
                & _price_in_range("counter_price")
                & _price_in_range("agreed_price"),
                name="orders_offer_prices_in_range",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind=OfferKind.PRIVATE, shipping_charge__gte=0, shipping_charge__lte=MAX_PRICE)
                    & ~Q(ship_to="")
                    & Q(counter_price__isnull=True)
                )
                | Q(kind=OfferKind.BUYER, shipping_charge__isnull=True, ship_to=""),
                name="orders_offer_kind_fields",
            ),
            models.CheckConstraint(
                condition=~Q(state=OfferState.ACCEPTED) | Q(reserved_until__isnull=False, agreed_price__isnull=False),
                name="orders_accepted_offer_is_reserved",
            ),
            models.CheckConstraint(
                condition=~Q(buyer=models.F("made_by")) | Q(kind=OfferKind.BUYER),
                name="orders_private_offer_to_someone_else",
            ),
            models.CheckConstraint(
                condition=Q(conversation__isnull=True) | Q(kind=OfferKind.PRIVATE),
                name="orders_only_private_offers_in_conversations",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} on listing {self.listing_id}"

    def get_absolute_url(self) -> str:
        return reverse("orders:offer", kwargs={"token": self.token})

    def get_shop_url(self) -> str:
        return reverse("orders:shop_offer", kwargs={"slug": self.shop.slug, "pk": self.pk})

    @property
    def is_private(self) -> bool:
        return self.kind == OfferKind.PRIVATE

    @property
    def current_price(self) -> Decimal:
        """The price on the table now: agreed, countered, or as offered."""
        return self.agreed_price or self.counter_price or self.price


class OfferEvent(models.Model):
    """One step of an offer's history, which both sides see."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="events")
    transition = models.CharField(max_length=30, help_text="The transition taken, or 'made'.")
    from_state = models.CharField(max_length=10, choices=OfferState.choices, blank=True)
    to_state = models.CharField(max_length=10, choices=OfferState.choices)
    actor_role = models.CharField(max_length=10, choices=Actor.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    message = models.CharField(max_length=300)
    note = models.TextField(blank=True, help_text="What the person wrote with it.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"offer {self.offer_id}: {self.message}"


# --- Thank-you notes --------------------------------------------------------------------------


class ThankYouNote(models.Model):
    """A personal note on an order: from the shop, signed by one of its people (and printed on
    the packing slip), or from the buyer, shown on the shop's storefront only while the buyer
    agrees to it."""

    class Direction(models.TextChoices):
        FROM_SHOP = "from_shop", "From the shop"
        FROM_BUYER = "from_buyer", "From the buyer"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="thank_you_notes")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    signed_as = models.CharField(max_length=80, help_text="The writer's name as it was when they wrote it.")
    text = models.TextField()
    show_on_storefront = models.BooleanField(default=False)
    consented_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["-created_at"], condition=Q(show_on_storefront=True), name="orders_note_on_storefront"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["order", "direction"], name="orders_one_note_each_way_per_order"),
            models.CheckConstraint(condition=~Q(text=""), name="orders_note_not_empty"),
            models.CheckConstraint(
                condition=Q(show_on_storefront=False) | Q(direction="from_buyer", consented_at__isnull=False),
                name="orders_only_consented_buyer_notes_shown",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} on {self.order_id}"


# --- Problem cases ----------------------------------------------------------------------------


def _amount_positive(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": 0})


class Case(models.Model):
    """A problem the buyer reported with an order, and how it was solved (see
    lifecycle.CASE_TRANSITIONS): by a fix the shop proposed and the buyer accepted, or by a
    moderator's decision, which either side may appeal once (to a different moderator). Its
    steps are written on the order's timeline."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="cases")
    reason = models.CharField(max_length=20, choices=CASE_REASON_CHOICES)
    details = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=CaseState.choices, default=CaseState.OPEN)
    opened_at = models.DateTimeField()
    answer_due_at = models.DateTimeField(help_text="Until then the shop has time to propose a fix.")
    disagreed_at = models.DateTimeField(null=True, blank=True, help_text="When the buyer first turned a fix down.")
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_by = models.CharField(max_length=10, choices=Actor.choices, blank=True)

    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_remedy = models.CharField(max_length=20, choices=Remedy.choices, blank=True)
    decision_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    decision_reasons = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    appeal_due_at = models.DateTimeField(null=True, blank=True)

    appealed_by = models.CharField(max_length=10, choices=Actor.choices, blank=True)
    appeal_reasons = models.TextField(blank=True)
    appealed_at = models.DateTimeField(null=True, blank=True)
    appeal_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    appeal_remedy = models.CharField(max_length=20, choices=Remedy.choices, blank=True)
    appeal_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    appeal_decision_reasons = models.TextField(blank=True)
    appeal_decided_at = models.DateTimeField(null=True, blank=True)

    # How it ended, and what the buyer gets back.
    remedy = models.CharField(max_length=20, choices=Remedy.choices, blank=True)
    refund_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "appeal_due_at"], name="orders_case_appeal_due"),
            models.Index(fields=["state", "escalated_at"], name="orders_case_moderation_queue"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(state__in=sorted(OPEN_CASE_STATES)),
                name="orders_one_open_case_per_order",
            ),
            models.CheckConstraint(condition=Q(state__in=CaseState.values), name="orders_case_state_known"),
            models.CheckConstraint(
                condition=Q(decided_at__isnull=True) | (~Q(decision_reasons="") & ~Q(decision_remedy="")),
                name="orders_case_decision_has_reasons",
            ),
            models.CheckConstraint(
                condition=Q(appealed_at__isnull=True) | ~Q(appeal_reasons=""), name="orders_case_appeal_has_reasons"
            ),
            models.CheckConstraint(
                condition=Q(appealed_at__isnull=True) | Q(decided_at__isnull=False),
                name="orders_case_appeal_follows_a_decision",
            ),
            models.CheckConstraint(
                condition=Q(appeal_decided_at__isnull=True)
                | (~Q(appeal_decision_reasons="") & ~Q(appeal_remedy="") & Q(appealed_at__isnull=False)),
                name="orders_case_appeal_decision_has_reasons",
            ),
            # The appeal goes to someone else than the moderator who decided first.
            models.CheckConstraint(
                condition=Q(appeal_decided_by__isnull=True) | ~Q(appeal_decided_by=models.F("decided_by")),
                name="orders_case_appeal_decided_by_another",
            ),
            models.CheckConstraint(
                condition=_amount_positive("decision_amount")
                & _amount_positive("appeal_amount")
                & (Q(refund_amount__isnull=True) | Q(refund_amount__gte=0)),
                name="orders_case_amounts_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.pk} on order {self.order_id} ({self.state})"

    def get_absolute_url(self) -> str:
        return reverse("orders:case", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_CASE_STATES


class CaseProposal(models.Model):
    """A fix the shop proposes; the buyer accepts or turns it down. A new proposal replaces the
    one still waiting."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the buyer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Turned down"
        SUPERSEDED = "superseded", "Set aside"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="proposals")
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    signed_as = models.CharField(max_length=80)
    remedy = models.CharField(max_length=20, choices=Remedy.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    message = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="orders_one_pending_proposal_per_case"
            ),
            models.CheckConstraint(
                condition=(Q(remedy=Remedy.PARTIAL_REFUND) & Q(amount__gt=0))
                | (~Q(remedy=Remedy.PARTIAL_REFUND) & Q(amount__isnull=True)),
                name="orders_partial_refund_has_an_amount",
            ),
            models.CheckConstraint(condition=~Q(remedy=Remedy.NO_REMEDY), name="orders_shop_proposes_a_remedy"),
        ]

    def __str__(self) -> str:
        return f"{self.remedy} proposed on case {self.case_id}"


class CaseAccessLog(models.Model):
    """Each time a moderator opened an escalated case: both sides see who looked, and when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="access_log")
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    moderator_name = models.CharField(max_length=80)
    via = models.CharField(max_length=10, choices=[("page", "The case page"), ("api", "The API")])
    accessed_at = models.DateTimeField()

    class Meta:
        ordering = ["accessed_at", "pk"]
        indexes = [models.Index(fields=["case", "accessed_at"])]

    def __str__(self) -> str:
        return f"{self.moderator_name} read case {self.case_id}"
