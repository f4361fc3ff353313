"""Reads of the orders side: carts as they stand now, orders each side may see, deadlines,
completion rates and statements. Each returns its rows in a fixed number of queries."""

import calendar
import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone
from django_countries import countries

from catalog.models import Listing
from sellers.models import Shop, ShopMember
from sellers.selectors import access_shop_for_edit, shipping_cost

from . import payments
from .lifecycle import BEFORE_SHIPPING, SHOP_TO_DO, TIMERS_BY_NAME, Actor, State, transitions_for
from .models import Address, Cart, CartItem, Checkout, Order, OrderDeadline, OrderEvent, ShopTerms

SESSION_CART_KEY = "orders_cart_token"
# The header's cart count, kept in the session by services.cart_count_remember so that pages
# spend no query on it; the cart page and every change to the cart through Plural refresh it.
SESSION_CART_COUNT_KEY = "orders_cart_count"
CENT = Decimal("0.01")
COMPLETION_PERIOD = datetime.timedelta(days=183)


def money(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


# --- The cart ---------------------------------------------------------------------------------


def cart_find(*, user, session) -> Cart | None:
    """The signed-in person's cart, or the guest cart whose token is in the session; None if none yet."""
    carts = Cart.objects.select_related("address")
    if user is not None and user.is_authenticated:
        return carts.filter(owner_id=user.pk).first()
    token = session.get(SESSION_CART_KEY) if session is not None else None
    if not token:
        return None
    return carts.filter(token=token, owner__isnull=True).first()


def cart_item_count(*, user, session) -> int:
    """How many copies the cart holds (one query; none for a guest without a cart)."""
    if user is not None and user.is_authenticated:
        items = CartItem.objects.filter(cart__owner_id=user.pk)
    else:
        token = session.get(SESSION_CART_KEY) if session is not None else None
        if not token:
            return 0
        items = CartItem.objects.filter(cart__token=token, cart__owner__isnull=True)
    return sum(items.values_list("quantity", flat=True))


@dataclass
class CartLine:
    item: CartItem

    @property
    def listing(self) -> Listing:
        return self.item.listing

    @property
    def quantity(self) -> int:
        return self.item.quantity

    @property
    def unit_price(self) -> Decimal:
        return self.listing.price

    @property
    def line_total(self) -> Decimal:
        return money(self.listing.price * self.item.quantity)

    @property
    def is_available(self) -> bool:
        return self.listing.status == Listing.Status.ACTIVE and self.listing.quantity > 0

    @property
    def price_changed(self) -> bool:
        return self.listing.price != self.item.price_seen or self.listing.currency != self.item.currency_seen

    @property
    def exceeds_stock(self) -> bool:
        return self.is_available and self.item.quantity > self.listing.quantity

    @property
    def currency_differs_from_shop(self) -> bool:
        return self.listing.currency != self.listing.shop.currency

    @property
    def problems(self) -> list[str]:
        found = []
        if not self.is_available:
            found.append("No longer available: remove it to check out.")
        elif self.exceeds_stock:
            left = self.listing.quantity
            found.append(f"Only {left} {'copy is' if left == 1 else 'copies are'} left: lower the quantity.")
        if self.price_changed:
            found.append(
                f"The price changed from {self.item.price_seen} {self.item.currency_seen} to "
                f"{self.listing.price} {self.listing.currency} since you added it."
            )
        if self.currency_differs_from_shop:
            found.append(
                f"Priced in {self.listing.currency} while {self.listing.shop.name} charges in "
                f"{self.listing.shop.currency}: it cannot be ordered through the cart. Ask the shop."
            )
        return found

    @property
    def is_ready(self) -> bool:
        return not self.problems


@dataclass
class CartGroup:
    """One shop's part of the cart: what becomes one order."""

    shop: Shop
    lines: list[CartLine]
    country: str | None
    is_own_shop: bool = False

    @property
    def currency(self) -> str:
        return self.shop.currency

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def items_subtotal(self) -> Decimal:
        return money(sum((line.line_total for line in self.lines), Decimal("0")))

    @property
    def shipping(self) -> Decimal | None:
        if self.country is None:
            return None
        return shipping_cost(shop=self.shop, destination_country=self.country, item_count=self.item_count)

    @property
    def total(self) -> Decimal | None:
        shipping = self.shipping
        return None if shipping is None else money(self.items_subtotal + shipping)

    @property
    def payment_options(self) -> list[payments.PaymentOption]:
        return payments.options_for_shop(self.shop)

    @property
    def problems(self) -> list[str]:
        found = []
        shop = self.shop
        if self.is_own_shop:
            found.append(f"You are one of the people of {shop.name}: you cannot buy from your own shop.")
        if shop.is_on_vacation:
            until = f" until {shop.vacation_until:%-d %B %Y}" if shop.vacation_until else ""
            found.append(f"{shop.name} is on vacation{until}: it cannot take orders now.")
        if self.country is not None and self.shipping is None:
            found.append(f"{shop.name} does not ship to {countries.name(self.country)}.")
        if not self.payment_options:
            found.append(f"{shop.name} has not said how it takes payment yet, so it cannot take orders.")
        return found

    @property
    def is_ready(self) -> bool:
        return not self.problems and all(line.is_ready for line in self.lines)


@dataclass
class CartView:
    cart: Cart | None
    groups: list[CartGroup]
    country: str | None
    address: Address | None

    @property
    def item_count(self) -> int:
        return sum(group.item_count for group in self.groups)

    @property
    def is_empty(self) -> bool:
        return not self.groups

    @property
    def is_ready(self) -> bool:
        return bool(self.groups) and self.country is not None and all(group.is_ready for group in self.groups)

    @property
    def country_name(self) -> str:
        return countries.name(self.country) if self.country else ""


def cart_destination(*, cart: Cart | None, user, address: Address | None = None) -> tuple[Address | None, str | None]:
    """Where the cart goes: the address given, else the cart's chosen address, else the
    cart's chosen country, else the person's own country; None when nothing is known."""
    chosen = address or (cart.address if cart is not None else None)
    if chosen is not None:
        return chosen, chosen.country.code
    if cart is not None and cart.country:
        return None, cart.country.code
    if user is not None and user.is_authenticated and user.country:
        return None, user.country.code
    return None, None


def cart_view(*, cart: Cart | None, user, address: Address | None = None) -> CartView:
    """The cart grouped by shop, each group with its shipping to the destination, subtotal and
    problems, each line with what changed since it was added (two queries, three signed in)."""
    chosen, country = cart_destination(cart=cart, user=user, address=address)
    if cart is None:
        return CartView(cart=None, groups=[], country=country, address=chosen)
    items = list(
        CartItem.objects.filter(cart=cart)
        .select_related("listing__shop", "listing__condition")
        .order_by("listing__shop__name", "listing__shop_id", "added_at", "pk")
    )
    by_shop: dict[int, CartGroup] = {}
    for item in items:
        shop = item.listing.shop
        group = by_shop.setdefault(shop.pk, CartGroup(shop=shop, lines=[], country=country))
        group.lines.append(CartLine(item=item))
    if by_shop and user is not None and user.is_authenticated:
        own = set(ShopMember.objects.filter(user_id=user.pk, shop_id__in=by_shop).values_list("shop_id", flat=True))
        for shop_id in own:
            by_shop[shop_id].is_own_shop = True
    return CartView(cart=cart, groups=list(by_shop.values()), country=country, address=chosen)


# --- Addresses --------------------------------------------------------------------------------


def addresses_of(*, user) -> QuerySet[Address]:
    if user is None or not user.is_authenticated:
        return Address.objects.none()
    return Address.objects.filter(user_id=user.pk).order_by("-is_default", "full_name", "pk")


def access_address(*, user, address_id) -> Address:
    """One of `user`'s addresses; Http404 for anyone else's or none."""
    address = addresses_of(user=user).filter(pk=address_id).first() if str(address_id).isdigit() else None
    if address is None:
        raise Http404("No such address.")
    return address


# --- Orders -----------------------------------------------------------------------------------


def _order_detail_queryset() -> QuerySet[Order]:
    return Order.objects.select_related("shop", "buyer", "return_request").prefetch_related(
        "items",
        Prefetch("events", queryset=OrderEvent.objects.select_related("actor").order_by("created_at", "pk")),
        Prefetch("deadlines", queryset=OrderDeadline.objects.order_by("due_at", "pk")),
    )


def _order_id(value) -> int | None:
    return int(value) if str(value).isdigit() else None


def access_order_for_buyer(*, user, order_id) -> Order:
    """`user`'s own order with `order_id`, with its items, timeline and deadlines; Http404 for
    anyone else's order, a missing one or an anonymous visitor, so ids cannot be probed."""
    if user is None or not user.is_authenticated or _order_id(order_id) is None:
        raise Http404("No such order.")
    order = _order_detail_queryset().filter(pk=_order_id(order_id), buyer_id=user.pk).first()
    if order is None:
        raise Http404("No such order.")
    return order


def access_order_for_shop(*, user, slug: str, order_id) -> tuple[Shop, Order]:
    """(shop, order) when `user` is one of the people of the shop with `slug` and the order is
    that shop's; Http404 for everyone and everything else."""
    shop = access_shop_for_edit(user=user, slug=slug)
    order = _order_detail_queryset().filter(pk=_order_id(order_id) or 0, shop=shop).first()
    if order is None:
        raise Http404("No such order.")
    order.shop = shop
    return shop, order


def access_checkout_for_buyer(*, user, checkout_id) -> Checkout:
    if user is None or not user.is_authenticated or _order_id(checkout_id) is None:
        raise Http404("No such checkout.")
    checkout = (
        Checkout.objects.filter(pk=_order_id(checkout_id), buyer_id=user.pk)
        .prefetch_related(
            Prefetch(
                "orders",
                queryset=Order.objects.select_related("shop")
                .prefetch_related("items", Prefetch("deadlines", queryset=OrderDeadline.objects.order_by("due_at")))
                .order_by("shop_name", "pk"),
            )
        )
        .first()
    )
    if checkout is None:
        raise Http404("No such checkout.")
    return checkout


def _list_queryset() -> QuerySet[Order]:
    return Order.objects.select_related("shop", "buyer").prefetch_related("items")


def orders_of_buyer(*, user, state: str = "") -> QuerySet[Order]:
    if user is None or not user.is_authenticated:
        return Order.objects.none()
    orders = _list_queryset().filter(buyer_id=user.pk)
    if state in State.values:
        orders = orders.filter(state=state)
    return orders.order_by("-placed_at", "-pk")


SHOP_FILTERS = {"to_do": "To do", **{state.value: state.label for state in State}}


def orders_of_shop(*, shop: Shop, state: str = "") -> QuerySet[Order]:
    """The shop's orders; `state` is a State or "to_do" (those waiting for the shop to act)."""
    orders = _list_queryset().filter(shop=shop)
    if state == "to_do":
        orders = orders.filter(state__in=list(SHOP_TO_DO))
    elif state in State.values:
        orders = orders.filter(state=state)
    return orders.order_by("-placed_at", "-pk")


def shop_order_counts(*, shop: Shop) -> dict[str, int]:
    """How many of the shop's orders are in each state, and how many wait for it ("to_do")."""
    counts = dict.fromkeys(State.values, 0)
    for row in Order.objects.filter(shop=shop).values("state").annotate(total=Count("pk")).order_by():
        counts[row["state"]] = row["total"]
    counts["to_do"] = sum(counts[state] for state in SHOP_TO_DO)
    return counts


@dataclass(frozen=True)
class DeadlineView:
    """A running deadline as one side reads it on the order page."""

    name: str
    due_at: datetime.datetime
    text: str


def _format_due(moment: datetime.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%a %-d %b %Y, %H:%M} {local.tzname()}"


def open_deadlines(*, order: Order, side: str) -> list[DeadlineView]:
    """The order's running deadlines worded for `side` (Actor.BUYER or Actor.SHOP); uses the
    prefetched deadlines."""
    views = []
    for deadline in order.deadlines.all():
        if not deadline.is_open or deadline.timer not in TIMERS_BY_NAME:
            continue
        timer = TIMERS_BY_NAME[deadline.timer]
        template = timer.buyer_text if side == Actor.BUYER else timer.shop_text
        views.append(
            DeadlineView(
                name=deadline.timer,
                due_at=deadline.due_at,
                text=template.format(shop=order.shop_name, due=_format_due(deadline.due_at)),
            )
        )
    return views


def acceptance_is_late(*, order: Order, now: datetime.datetime | None = None) -> bool:
    """Whether a new order has passed its acceptance deadline (the buyer's cancelling then counts
    against the shop). Uses the prefetched deadlines when there are."""
    if order.state != State.NEW:
        return False
    now = now or timezone.now()
    return any(deadline.timer == "accept" and deadline.due_at <= now for deadline in order.deadlines.all())


def return_deadline(order: Order) -> datetime.datetime | None:
    if order.delivered_at is None or order.return_window_days == 0:
        return None
    return order.delivered_at + datetime.timedelta(days=order.return_window_days)


def available_actions(*, order: Order, side: str) -> list[str]:
    """The transition names `side` may take on the order now (the pages' buttons, the API's list)."""
    names = [transition.name for transition in transitions_for(state=order.state, actor=side)]
    if "mark_paid" in names:
        provider = payments.provider(order.payment_provider)
        if provider is None or not provider.shop_marks_paid:
            names.remove("mark_paid")
    if "request_return" in names:
        deadline = return_deadline(order)
        if deadline is None or timezone.now() > deadline:
            names.remove("request_return")
    return names


def is_before_shipping(order: Order) -> bool:
    return order.state in BEFORE_SHIPPING


# --- Completion rate --------------------------------------------------------------------------


@dataclass(frozen=True)
class CompletionRate:
    fulfilled: int
    cancelled_by_shop: int

    @property
    def counted(self) -> int:
        return self.fulfilled + self.cancelled_by_shop

    @property
    def percent(self) -> int | None:
        if not self.counted:
            return None
        return int((Decimal(self.fulfilled) * 100 / self.counted).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


FULFILLED_STATES = [State.SHIPPED, State.DELIVERED, State.COMPLETED, State.RETURN_REQUESTED, State.RETURNED]


@dataclass(frozen=True)
class ShopOrderFacts:
    """What the storefront says of a shop's orders."""

    completion: CompletionRate
    return_window_days: int


def shop_order_facts(*, shop: Shop, now: datetime.datetime | None = None) -> ShopOrderFacts:
    """The shop's completion rate and return window, in one query.

    The completion rate is the share of the shop's orders of the last six months that it
    fulfilled (shipped) rather than cancelled on its side (declined, or failed to accept in
    time). Cancellations by the buyer and unpaid orders that lapsed count neither way; orders
    still open wait for an outcome. It is worked out from the orders themselves, so no one can
    write it up or down."""
    since = (now or timezone.now()) - COMPLETION_PERIOD
    recent = Q(orders__placed_at__gte=since)
    row = (
        Shop.objects.filter(pk=shop.pk)
        .annotate(
            fulfilled=Count("orders", filter=recent & Q(orders__state__in=FULFILLED_STATES)),
            cancelled_by_shop=Count(
                "orders", filter=recent & Q(orders__state=State.CANCELLED, orders__cancelled_against_shop=True)
            ),
            window=Subquery(ShopTerms.objects.filter(shop=OuterRef("pk")).values("return_window_days")[:1]),
        )
        .values("fulfilled", "cancelled_by_shop", "window")
        .get()
    )
    window = row["window"] if row["window"] is not None else settings.ORDERS_DEFAULT_RETURN_WINDOW_DAYS
    return ShopOrderFacts(
        completion=CompletionRate(fulfilled=row["fulfilled"], cancelled_by_shop=row["cancelled_by_shop"]),
        return_window_days=window,
    )


def shop_completion_rate(*, shop: Shop, now: datetime.datetime | None = None) -> CompletionRate:
    """The shop's completion rate over the last six months (see shop_order_facts)."""
    return shop_order_facts(shop=shop, now=now).completion


# --- Commission and statements ------------------------------------------------------------------


def commission_rate_for(*, shop: Shop) -> Decimal:
    """The operator's rate for this shop (set in the admin), else the site-wide rate."""
    override = ShopTerms.objects.filter(shop=shop).values_list("commission_rate", flat=True).first()
    return Decimal(override) if override is not None else Decimal(settings.ORDERS_COMMISSION_RATE)


def shop_terms(*, shop: Shop) -> ShopTerms:
    """The shop's order terms (the defaults when it never set any; nothing is written)."""
    return ShopTerms.objects.filter(shop=shop).first() or ShopTerms(
        shop=shop, return_window_days=settings.ORDERS_DEFAULT_RETURN_WINDOW_DAYS
    )


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def start(self) -> datetime.datetime:
        return datetime.datetime(self.year, self.month, 1, tzinfo=datetime.UTC)

    @property
    def end(self) -> datetime.datetime:
        days = calendar.monthrange(self.year, self.month)[1]
        return self.start + datetime.timedelta(days=days)

    @property
    def slug(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{calendar.month_name[self.month]} {self.year}"


def parse_month(value: str) -> Month:
    try:
        year, month = (int(part) for part in str(value).split("-"))
        if not (2000 <= year <= 9999 and 1 <= month <= 12):
            raise ValueError
    except ValueError:
        raise Http404("No such month.") from None
    return Month(year, month)


@dataclass
class CurrencyTotals:
    currency: str
    orders: int = 0
    items: Decimal = Decimal("0.00")
    shipping: Decimal = Decimal("0.00")
    gross: Decimal = Decimal("0.00")
    commission: Decimal = Decimal("0.00")
    net: Decimal = Decimal("0.00")


@dataclass
class Statement:
    shop: Shop
    month: Month
    orders: list[Order]
    totals: list[CurrencyTotals] = field(default_factory=list)


def shop_statement(*, shop: Shop, month: Month) -> Statement:
    """The shop's statement for `month`: every order completed in it (once its return window
    closed), with the commission at the rate fixed when it was placed, and the totals per
    currency (never converted). Returned and cancelled orders carry no commission."""
    orders = list(
        Order.objects.filter(
            shop=shop, state=State.COMPLETED, completed_at__gte=month.start, completed_at__lt=month.end
        )
        .select_related("buyer")
        .order_by("completed_at", "pk")
    )
    totals: dict[str, CurrencyTotals] = {}
    for order in orders:
        row = totals.setdefault(order.currency, CurrencyTotals(currency=order.currency))
        row.orders += 1
        row.items += order.items_total
        row.shipping += order.shipping_total
        row.gross += order.total
        row.commission += order.commission
        row.net += order.net
    return Statement(shop=shop, month=month, orders=orders, totals=sorted(totals.values(), key=lambda t: t.currency))


def shop_statement_months(*, shop: Shop) -> list[Month]:
    """The months in which the shop had completed orders, newest first (one query)."""
    months = (
        Order.objects.filter(shop=shop, state=State.COMPLETED, completed_at__isnull=False)
        .annotate(month=TruncMonth("completed_at", tzinfo=datetime.UTC))
        .values_list("month", flat=True)
        .distinct()
        .order_by("-month")
    )
    return [Month(moment.year, moment.month) for moment in months]


def people_of_shop(*, shop: Shop) -> list:
    return [member.user for member in ShopMember.objects.filter(shop=shop).select_related("user")]
