"""Reads of the orders side: carts as they stand now, orders each side may see, deadlines,
completion rates and statements. Each returns its rows in a fixed number of queries."""

import calendar
import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone
from django_countries import countries

from catalog.models import Listing
from sellers.models import Shop, ShopMember
from sellers.selectors import access_shop_for_edit, shipping_cost

from . import payments
from .lifecycle import (
    BEFORE_SHIPPING,
    MODERATED_CASE_STATES,
    OFFER_DEADLINE_TEXTS,
    OFFER_TIMERS,
    OPEN_OFFER_STATES,
    SHOP_TO_DO,
    TIMERS_BY_NAME,
    Actor,
    CaseState,
    OfferKind,
    OfferState,
    Remedy,
    State,
    case_transitions_for,
    offer_transitions_for,
    transitions_for,
)
from .models import (
    Address,
    Cart,
    CartItem,
    Case,
    CaseAccessLog,
    CaseProposal,
    Checkout,
    Offer,
    OfferEvent,
    Order,
    OrderDeadline,
    OrderEvent,
    ShopTerms,
    ThankYouNote,
)

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
    problems, each line with what changed since it was added (two queries, three signed in).
    Each shop comes with its order terms (shop_terms reads them without a query)."""
    chosen, country = cart_destination(cart=cart, user=user, address=address)
    if cart is None:
        return CartView(cart=None, groups=[], country=country, address=chosen)
    items = list(
        CartItem.objects.filter(cart=cart)
        .select_related("listing__shop__order_terms", "listing__condition")
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


FULFILLED_STATES = [
    State.SHIPPED,
    State.DELIVERED,
    State.COMPLETED,
    State.RETURN_REQUESTED,
    State.RETURNED,
    State.PROBLEM,
]


@dataclass(frozen=True)
class ShopOrderFacts:
    """What the storefront says of a shop's orders."""

    completion: CompletionRate
    return_window_days: int


# The completion rate is kept in the cache per shop: every page of a listing shows it, and
# counting six months of a large shop's orders costs more than the rest of the page. An order's
# change of state forgets it (orders.services); the lifetime bounds the drift of the window.
COMPLETION_CACHE_SECONDS = 600


def completion_cache_key(shop_id: int) -> str:
    return f"orders:completion:{shop_id}"


def shop_order_facts(*, shop: Shop, now: datetime.datetime | None = None) -> ShopOrderFacts:
    """The shop's completion rate and return window: one query, none when the rate is in the
    cache and the shop's terms came with it (select_related("order_terms")).

    The completion rate is the share of the shop's orders of the last six months that it
    fulfilled (shipped) rather than cancelled on its side (declined, or failed to accept in
    time). Cancellations by the buyer and unpaid orders that lapsed count neither way; orders
    still open wait for an outcome. It is worked out from the orders themselves, so no one can
    write it up or down."""
    cached = cache.get(completion_cache_key(shop.pk)) if now is None else None
    if cached is not None:
        fulfilled, cancelled_by_shop = cached
        return ShopOrderFacts(
            completion=CompletionRate(fulfilled=fulfilled, cancelled_by_shop=cancelled_by_shop),
            return_window_days=shop_terms(shop=shop).return_window_days,
        )
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
    if now is None:
        cache.set(completion_cache_key(shop.pk), (row["fulfilled"], row["cancelled_by_shop"]), COMPLETION_CACHE_SECONDS)
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
    """The shop's order terms (the defaults when it never set any; nothing is written): no query
    when they came with the shop (select_related("order_terms"))."""
    if Shop.order_terms.related.is_cached(shop):
        terms = getattr(shop, "order_terms", None)
    else:
        terms = ShopTerms.objects.filter(shop=shop).first()
    return terms or ShopTerms(shop=shop, return_window_days=settings.ORDERS_DEFAULT_RETURN_WINDOW_DAYS)


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


# --- People of Plural -------------------------------------------------------------------------


def is_moderator(user) -> bool:
    """Plural's moderators are its staff accounts."""
    return bool(user is not None and user.is_authenticated and user.is_staff)


def is_party_to_order(*, user, order: Order) -> bool:
    """Whether `user` is the order's buyer or one of its shop's people."""
    if user is None or not user.is_authenticated:
        return False
    return user.pk == order.buyer_id or ShopMember.objects.filter(shop_id=order.shop_id, user_id=user.pk).exists()


# --- Offers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingOffers:
    """What the listing page offers its viewer: whether the shop takes offers, and the viewer's
    own offer on it that is still open."""

    accepts_offers: bool
    response_days: int
    viewer_offer: Offer | None


def listing_offers(*, listing: Listing, user) -> ListingOffers:
    """Two queries (one for a visitor who is not signed in)."""
    terms = shop_terms(shop=listing.shop)
    viewer_offer = None
    if user is not None and user.is_authenticated:
        viewer_offer = (
            Offer.objects.filter(
                kind=OfferKind.BUYER, listing_id=listing.pk, buyer_id=user.pk, state__in=OPEN_OFFER_STATES
            )
            .order_by("-created_at")
            .first()
        )
    return ListingOffers(
        accepts_offers=terms.accepts_offers, response_days=terms.offer_response_days, viewer_offer=viewer_offer
    )


def _offer_queryset() -> QuerySet[Offer]:
    return Offer.objects.select_related("shop", "buyer", "listing__condition", "order").prefetch_related(
        Prefetch("events", queryset=OfferEvent.objects.select_related("actor").order_by("created_at", "pk"))
    )


def access_offer_for_buyer(*, user, token: str) -> Offer:
    """The offer at `token` when `user` is its buyer, with its history; Http404 for everyone
    else (the shop's people see theirs from the shop's dashboard), so an address cannot be probed."""
    if user is None or not user.is_authenticated or not token or len(str(token)) > 64:
        raise Http404("No such offer.")
    offer = _offer_queryset().filter(token=str(token), buyer_id=user.pk).first()
    if offer is None:
        raise Http404("No such offer.")
    return offer


def access_offer_for_shop(*, user, slug: str, offer_id) -> tuple[Shop, Offer]:
    """(shop, offer) when `user` is one of the people of the shop with `slug` and the offer is
    that shop's; Http404 for everyone and everything else."""
    shop = access_shop_for_edit(user=user, slug=slug)
    offer = _offer_queryset().filter(pk=_order_id(offer_id) or 0, shop=shop).first()
    if offer is None:
        raise Http404("No such offer.")
    offer.shop = shop
    return shop, offer


def offers_of_buyer(*, user) -> QuerySet[Offer]:
    """The offers `user` made, and the private offers made to them, newest first."""
    if user is None or not user.is_authenticated:
        return Offer.objects.none()
    return (
        Offer.objects.filter(buyer_id=user.pk).select_related("shop", "buyer", "listing").order_by("-created_at", "-pk")
    )


OFFER_FILTERS = {"to_do": "To answer", "open": "Open", "all": "All"}


def offers_of_shop(*, shop: Shop, state: str = "") -> QuerySet[Offer]:
    """The shop's offers, both kinds; `state` "to_do" keeps the buyers' offers waiting for the
    shop's answer, "open" every offer still running."""
    offers = Offer.objects.filter(shop=shop).select_related("shop", "buyer", "listing")
    if state == "to_do":
        offers = offers.filter(kind=OfferKind.BUYER, state=OfferState.OPEN)
    elif state == "open":
        offers = offers.filter(state__in=OPEN_OFFER_STATES)
    return offers.order_by("-created_at", "-pk")


def offer_deadline(*, offer: Offer, side: str) -> DeadlineView | None:
    """The offer's running deadline worded for `side`, if one is running."""
    texts = OFFER_DEADLINE_TEXTS.get((offer.kind, offer.state))
    timer = next((timer for timer in OFFER_TIMERS if offer.state in timer.states), None)
    if texts is None or timer is None:
        return None
    due = getattr(offer, timer.due_field)
    template = texts[0] if side == Actor.BUYER else texts[1]
    return DeadlineView(
        name=timer.name,
        due_at=due,
        text=template.format(shop=offer.shop.name, buyer=offer.buyer.public_name, due=_format_due(due)),
    )


def offer_actions(*, offer: Offer, side: str, now: datetime.datetime | None = None) -> list[str]:
    """What `side` may do with the offer now (none once its deadline has passed)."""
    deadline = offer_deadline(offer=offer, side=side)
    if deadline is not None and deadline.due_at <= (now or timezone.now()):
        return []
    return [t.name for t in offer_transitions_for(kind=offer.kind, state=offer.state, actor=side)]


@dataclass
class OfferLine:
    listing: Listing
    unit_price: Decimal
    quantity: int = 1

    @property
    def line_total(self) -> Decimal:
        return money(self.unit_price * self.quantity)


@dataclass
class OfferOrder:
    """An offer as the one-line order it becomes when the buyer sends it to `country`: the
    offer's price, and a private offer's own shipping charge or the shop's usual rate. It has
    what services._place_order reads of a cart's shop group."""

    offer: Offer
    country: str

    @property
    def shop(self) -> Shop:
        return self.offer.shop

    @property
    def lines(self) -> list[OfferLine]:
        return [OfferLine(listing=self.offer.listing, unit_price=self.offer.current_price)]

    @property
    def items_subtotal(self) -> Decimal:
        return money(self.offer.current_price)

    @property
    def shipping(self) -> Decimal | None:
        if self.offer.is_private:
            return self.offer.shipping_charge if self.country == self.offer.ship_to.code else None
        return shipping_cost(shop=self.shop, destination_country=self.country, item_count=1)

    @property
    def total(self) -> Decimal | None:
        shipping = self.shipping
        return None if shipping is None else money(self.items_subtotal + shipping)

    @property
    def payment_options(self) -> list[payments.PaymentOption]:
        return payments.options_for_shop(self.shop)

    def problems(self) -> dict[str, list[str]]:
        """What keeps it from being ordered, by field: {} when it can be."""
        shop, listing = self.shop, self.offer.listing
        found: dict[str, list[str]] = {}
        if shop.is_on_vacation:
            found["offer"] = [f"{shop.name} is on vacation: it cannot take orders now."]
        elif self.offer.is_private and (listing.status != Listing.Status.ACTIVE or listing.quantity < 1):
            found["offer"] = [f"“{listing.title}” has been sold meanwhile, so this offer can no longer be accepted."]
        if not self.payment_options:
            found["payment_method"] = [f"{shop.name} has not said how it takes payment, so it cannot take orders."]
        if self.shipping is None:
            if self.offer.is_private:
                where = self.offer.ship_to.name
                found["address"] = [f"This offer's shipping is for {where}: choose an address in {where}."]
            else:
                found["address"] = [f"{shop.name} does not ship to {countries.name(self.country)}."]
        return found


# --- Thank-you notes --------------------------------------------------------------------------

KIND_WORDS_SHOWN = 6


def buyer_may_thank(order: Order) -> bool:
    """The buyer writes a thank-you note once the order is on its way (and not cancelled)."""
    return order.state != State.CANCELLED and order.shipped_at is not None


def shop_thank_you_note(order: Order) -> ThankYouNote | None:
    return ThankYouNote.objects.filter(order_id=order.pk, direction=ThankYouNote.Direction.FROM_SHOP).first()


def kind_words(*, shop: Shop, limit: int = KIND_WORDS_SHOWN) -> list[ThankYouNote]:
    """The buyers' thank-you notes the shop may show on its storefront: only those whose
    writers agreed, newest first (one query)."""
    return list(
        ThankYouNote.objects.filter(
            order__shop_id=shop.pk, direction=ThankYouNote.Direction.FROM_BUYER, show_on_storefront=True
        ).order_by("-created_at", "-pk")[:limit]
    )


# --- Problem cases ----------------------------------------------------------------------------


@dataclass
class OrderAftercare:
    """Thank-you notes and problem cases of an order, as its pages show them."""

    order: Order
    shop_note: ThankYouNote | None
    buyer_note: ThankYouNote | None
    cases: list[Case]
    can_open_case: bool
    # A shipped order not marked delivered may be reported as not arrived from then on.
    late_from: datetime.datetime | None

    @property
    def open_case(self) -> Case | None:
        return next((case for case in self.cases if case.is_open), None)

    @property
    def buyer_may_thank(self) -> bool:
        return buyer_may_thank(self.order)


def case_late_from(order: Order) -> datetime.datetime | None:
    if order.state != State.SHIPPED or order.shipped_at is None:
        return None
    return order.shipped_at + settings.ORDERS_CASE_LATE_AFTER


def order_aftercare(*, order: Order, side: str, now: datetime.datetime | None = None) -> OrderAftercare:
    """Two queries."""
    now = now or timezone.now()
    notes = {note.direction: note for note in ThankYouNote.objects.filter(order_id=order.pk)}
    cases = list(Case.objects.filter(order_id=order.pk).order_by("-opened_at", "-pk"))
    late_from = case_late_from(order)
    can_open = side == Actor.BUYER and (order.state == State.DELIVERED or (late_from is not None and now >= late_from))
    return OrderAftercare(
        order=order,
        shop_note=notes.get(ThankYouNote.Direction.FROM_SHOP),
        buyer_note=notes.get(ThankYouNote.Direction.FROM_BUYER),
        cases=cases,
        can_open_case=can_open,
        late_from=late_from,
    )


def _case_queryset() -> QuerySet[Case]:
    return Case.objects.select_related(
        "order__shop", "order__buyer", "decided_by", "appeal_decided_by"
    ).prefetch_related(
        Prefetch("proposals", queryset=CaseProposal.objects.order_by("created_at", "pk")),
        Prefetch("access_log", queryset=CaseAccessLog.objects.order_by("accessed_at", "pk")),
        "order__items",
        Prefetch("order__events", queryset=OrderEvent.objects.select_related("actor").order_by("created_at", "pk")),
        Prefetch("order__deadlines", queryset=OrderDeadline.objects.order_by("due_at", "pk")),
    )


@dataclass(frozen=True)
class CaseAccess:
    """A case and the side from which its viewer sees it (Actor.BUYER, SHOP or MODERATOR)."""

    case: Case
    side: str


def access_case(*, user, case_id) -> CaseAccess:
    """The case with `case_id`, for its buyer, the shop's people, and Plural's moderators once it
    was escalated (the caller records each moderator's access: services.case_access_record);
    Http404 for everyone else, moderators before escalation included."""
    if user is None or not user.is_authenticated or _order_id(case_id) is None:
        raise Http404("No such case.")
    cases = _case_queryset().annotate(
        viewer_is_shop_person=Exists(ShopMember.objects.filter(shop_id=OuterRef("order__shop_id"), user_id=user.pk))
    )
    visible = Q(order__buyer_id=user.pk) | Q(viewer_is_shop_person=True)
    if is_moderator(user):
        visible |= Q(state__in=MODERATED_CASE_STATES)
    case = cases.filter(visible, pk=_order_id(case_id)).first()
    if case is None:
        raise Http404("No such case.")
    if case.order.buyer_id == user.pk:
        side = Actor.BUYER
    elif case.viewer_is_shop_person:
        side = Actor.SHOP
    else:
        side = Actor.MODERATOR
    return CaseAccess(case=case, side=side)


def cases_of(*, user) -> QuerySet[Case]:
    """The cases about `user`'s orders and their shops' orders, newest first."""
    if user is None or not user.is_authenticated:
        return Case.objects.none()
    shops = ShopMember.objects.filter(user_id=user.pk).values("shop_id")
    return (
        Case.objects.filter(Q(order__buyer_id=user.pk) | Q(order__shop_id__in=shops))
        .select_related("order__shop", "order__buyer")
        .order_by("-opened_at", "-pk")
    )


MODERATION_QUEUE_STATES = [CaseState.ESCALATED, CaseState.APPEALED, CaseState.DECIDED]


def cases_for_moderation() -> QuerySet[Case]:
    """Escalated cases that wait for a decision, appeals that wait for theirs, and decisions in
    their appeal period, oldest first."""
    return (
        Case.objects.filter(state__in=MODERATION_QUEUE_STATES)
        .select_related("order__shop", "order__buyer", "decided_by")
        .order_by("escalated_at", "pk")
    )


def pending_proposal(case: Case) -> CaseProposal | None:
    """Uses the prefetched proposals."""
    return next((p for p in case.proposals.all() if p.status == CaseProposal.Status.PENDING), None)


def case_actions(*, case: Case, side: str, user=None, now: datetime.datetime | None = None) -> list[str]:
    """What `side` may do in the case now, "message" included (the pages' forms, the API's list)."""
    now = now or timezone.now()
    names = [t.name for t in case_transitions_for(state=case.state, actor=side)]
    if "escalate" in names and now < case.answer_due_at and case.disagreed_at is None:
        names.remove("escalate")
    if "appeal" in names and (case.appeal_due_at is None or now >= case.appeal_due_at):
        names.remove("appeal")
    if "decide_appeal" in names and user is not None and user.pk == case.decided_by_id:
        names.remove("decide_appeal")
    if case.is_open and (side != Actor.MODERATOR or case.state in MODERATED_CASE_STATES):
        names.append("message")
    return names


def remedy_refund(*, order: Order, remedy: str, amount: Decimal | None) -> Decimal:
    """What the buyer gets back with `remedy`: the whole total for a refund or a return (every
    problem a case is about is the shop's, so shipping is refunded too), `amount` for a partial
    refund, nothing for a replacement or no remedy."""
    if remedy in {Remedy.REFUND, Remedy.RETURN}:
        return order.total
    if remedy == Remedy.PARTIAL_REFUND:
        return money(amount)
    return Decimal("0.00")


def remedy_phrase(*, order: Order, remedy: str, amount: Decimal | None) -> str:
    """A remedy as a sentence's object: "a partial refund of 5.00 GBP"."""
    currency = order.currency
    return {
        Remedy.REFUND: f"a full refund of {order.total} {currency}",
        Remedy.PARTIAL_REFUND: f"a partial refund of {money(amount or 0)} {currency}",
        Remedy.REPLACEMENT: "a replacement",
        Remedy.RETURN: f"sending it back for a full refund of {order.total} {currency}",
        Remedy.NO_REMEDY: "no remedy: nothing is owed",
    }[remedy]
