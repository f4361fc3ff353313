"""Every write of the orders side: carts, addresses, checkout, each transition of an order's
lifecycle, the timers, the shops' order terms, and the deals between people: offers,
thank-you notes and problem cases.

Each function validates before it writes, raises ValidationError (field -> messages) and
changes nothing when it refuses, and writes in one transaction, notifications included
(notifications.services.notify writes its rows in the caller's transaction). The transitions
check every call against orders.lifecycle: which states a transition leaves from, and who may
take it (PermissionDenied for the wrong person; pages and API resolve orders through
selectors.access_order_for_buyer / access_order_for_shop first, so outsiders get a 404).
"""

import datetime
import logging
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_countries import countries

from catalog import services as catalog_services
from catalog.models import Listing
from marketplace.money import MAX_PRICE
from notifications.services import notify
from sellers.models import Shop
from sellers.selectors import is_shop_member
from social import services as social_services

from . import payments
from .lifecycle import (
    ANSWERABLE_OFFER_STATES,
    CASE_REASONS,
    CASE_TRANSITIONS,
    MODERATED_CASE_STATES,
    OFFER_TIMERS,
    OFFER_TRANSITIONS,
    OPEN_OFFER_STATES,
    PROPOSED_REMEDIES,
    REMEDY_TRANSITIONS,
    RETURN_REASONS,
    TIMERS_BY_NAME,
    TRANSITIONS,
    Actor,
    CaseState,
    OfferKind,
    OfferState,
    Remedy,
    State,
    timers_for,
)
from .models import (
    MAX_OFFER_RESPONSE_DAYS,
    MAX_RETURN_WINDOW_DAYS,
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
    OrderItem,
    ReturnRequest,
    ShopTerms,
    ThankYouNote,
)
from .selectors import (
    CENT,
    SESSION_CART_COUNT_KEY,
    SESSION_CART_KEY,
    OfferOrder,
    acceptance_is_late,
    buyer_may_thank,
    cart_item_count,
    cart_view,
    case_late_from,
    commission_rate_for,
    completion_cache_key,
    is_moderator,
    is_party_to_order,
    money,
    people_of_shop,
    remedy_phrase,
    remedy_refund,
    return_deadline,
    shop_terms,
)

logger = logging.getLogger(__name__)

MAX_CART_QUANTITY = 99
# What a refused transition says, by transition: "This order is <state>: it cannot be <this> now."
REFUSED = {
    "accept": "accepted",
    "mark_paid": "marked paid",
    "ship": "marked shipped",
    "mark_delivered": "marked delivered",
    "cancel": "cancelled",
    "request_return": "returned",
    "accept_return": "accepted for return",
    "decline_return": "declined for return",
    "open_case": "reported as a problem",
}
# The roles whose person is recorded on the timeline (the others are Plural itself or a provider).
PERSON_ACTORS = frozenset({Actor.BUYER, Actor.SHOP, Actor.MODERATOR})


def _quantity(value, *, field: str = "quantity") -> int:
    try:
        if isinstance(value, bool) or (isinstance(value, float | Decimal) and value % 1):
            raise ValueError
        quantity = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({field: ["Enter the number of copies as a whole number."]}) from None
    return quantity


# --- The cart ---------------------------------------------------------------------------------


def cart_get_or_create(*, user, session) -> Cart:
    """The signed-in person's cart, or the guest's (its token kept in `session`), made on first use."""
    if user is not None and user.is_authenticated:
        cart, _ = Cart.objects.get_or_create(owner=user)
        return cart
    token = session.get(SESSION_CART_KEY)
    cart = Cart.objects.filter(token=token, owner__isnull=True).first() if token else None
    if cart is None:
        cart = Cart.objects.create()
        session[SESSION_CART_KEY] = str(cart.token)
    return cart


def cart_count_remember(*, user, session, count: int | None = None) -> int:
    """Keep the cart's item count in `session` for the header (counted unless `count` is given)."""
    if count is None:
        count = cart_item_count(user=user, session=session)
    if session.get(SESSION_CART_COUNT_KEY) != count:
        session[SESSION_CART_COUNT_KEY] = count
    return count


def _listing_for_cart(listing_id) -> Listing:
    listing = (
        Listing.objects.select_related("shop").filter(pk=listing_id).first() if str(listing_id).isdigit() else None
    )
    if listing is None or listing.status not in {Listing.Status.ACTIVE, Listing.Status.SOLD_OUT}:
        raise ValidationError({"listing": ["This listing is not for sale."]})
    return listing


def cart_add_item(*, cart: Cart, listing_id, quantity=1) -> CartItem:
    """Put `quantity` copies of a listing on sale in the cart (added to any already there) at the
    price it has now, which the cart remembers to flag later changes."""
    listing = _listing_for_cart(listing_id)
    quantity = _quantity(quantity)
    if quantity < 1:
        raise ValidationError({"quantity": ["Add at least one copy."]})
    if listing.status != Listing.Status.ACTIVE or listing.quantity < 1:
        raise ValidationError({"listing": [f"“{listing.title}” is sold out."]})
    if listing.shop.is_on_vacation:
        raise ValidationError({"listing": [f"{listing.shop.name} is on vacation: nothing can be bought from it now."]})
    if cart.owner_id and is_shop_member(user=cart.owner, shop=listing.shop):
        raise ValidationError({"listing": ["You cannot buy from your own shop."]})
    with transaction.atomic():
        item = CartItem.objects.select_for_update().filter(cart=cart, listing=listing).first()
        wanted = quantity + (item.quantity if item else 0)
        if wanted > min(listing.quantity, MAX_CART_QUANTITY):
            available = min(listing.quantity, MAX_CART_QUANTITY)
            already = f" (you have {item.quantity} in your cart)" if item else ""
            raise ValidationError({"quantity": [f"Only {available} of “{listing.title}” can be ordered{already}."]})
        if item is None:
            item = CartItem.objects.create(
                cart=cart, listing=listing, quantity=quantity, price_seen=listing.price, currency_seen=listing.currency
            )
        else:
            item.quantity = wanted
            item.price_seen, item.currency_seen = listing.price, listing.currency
            item.save(update_fields=["quantity", "price_seen", "currency_seen"])
        Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())
    return item


def _cart_item(cart: Cart, listing_id) -> CartItem:
    item = (
        CartItem.objects.select_related("listing").filter(cart=cart, listing_id=listing_id).first()
        if str(listing_id).isdigit()
        else None
    )
    if item is None:
        raise ValidationError({"listing": ["This item is not in your cart."]})
    return item


def cart_set_quantity(*, cart: Cart, listing_id, quantity) -> CartItem | None:
    """Change how many copies of a listing the cart holds; 0 removes it (returns None then).
    The price seen stays as it was: changing the quantity does not accept a new price."""
    item = _cart_item(cart, listing_id)
    quantity = _quantity(quantity)
    if quantity < 0:
        raise ValidationError({"quantity": ["The quantity cannot be below zero."]})
    if quantity == 0:
        item.delete()
        return None
    available = min(item.listing.quantity, MAX_CART_QUANTITY)
    if quantity > item.quantity and quantity > available:
        raise ValidationError({"quantity": [f"Only {available} of “{item.listing.title}” can be ordered."]})
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


def cart_remove_item(*, cart: Cart, listing_id) -> None:
    _cart_item(cart, listing_id).delete()


def cart_accept_prices(*, cart: Cart, listing_id=None) -> int:
    """Take the current price of one item (or of every item) as the one the buyer agrees to;
    returns how many items changed."""
    items = CartItem.objects.filter(cart=cart).select_related("listing")
    if listing_id is not None:
        items = items.filter(listing_id=_cart_item(cart, listing_id).listing_id)
    changed = 0
    with transaction.atomic():
        for item in items.select_for_update(of=("self",)):
            if (item.price_seen, item.currency_seen) != (item.listing.price, item.listing.currency):
                item.price_seen, item.currency_seen = item.listing.price, item.listing.currency
                item.save(update_fields=["price_seen", "currency_seen"])
                changed += 1
    return changed


def cart_set_destination(*, cart: Cart, user, address_id=None, country: str = "") -> Cart:
    """Choose where the cart goes: one of `user`'s addresses, or (for a guest, or before
    choosing an address) just a country, to see the shipping."""
    address = None
    code = ""
    if address_id not in (None, ""):
        address = Address.objects.filter(pk=address_id, user_id=getattr(user, "pk", None)).first()
        if address is None or user is None or not user.is_authenticated:
            raise ValidationError({"address": ["Choose one of your addresses."]})
    elif country:
        code = countries.alpha2(str(country).strip()[:3]) or ""
        if not code:
            raise ValidationError({"country": ["Choose a country."]})
    cart.address = address
    cart.country = address.country.code if address else code
    cart.save(update_fields=["address", "country", "updated_at"])
    return cart


def cart_merge_guest(*, token, user) -> Cart | None:
    """Move a guest cart into `user`'s cart when they sign in: items in both keep the larger
    quantity and the price the guest saw last. Returns the person's cart (None when there was
    no guest cart)."""
    with transaction.atomic():
        guest = Cart.objects.select_for_update().filter(token=token, owner__isnull=True).first() if token else None
        if guest is None:
            return None
        cart, _ = Cart.objects.get_or_create(owner=user)
        existing = {item.listing_id: item for item in CartItem.objects.select_for_update().filter(cart=cart)}
        for item in CartItem.objects.filter(cart=guest):
            mine = existing.get(item.listing_id)
            if mine is None:
                CartItem.objects.create(
                    cart=cart,
                    listing_id=item.listing_id,
                    quantity=item.quantity,
                    price_seen=item.price_seen,
                    currency_seen=item.currency_seen,
                )
            else:
                mine.quantity = max(mine.quantity, item.quantity)
                mine.price_seen, mine.currency_seen = item.price_seen, item.currency_seen
                mine.save(update_fields=["quantity", "price_seen", "currency_seen"])
        if guest.country and not cart.country and cart.address_id is None:
            cart.country = guest.country
            cart.save(update_fields=["country", "updated_at"])
        guest.delete()
    return cart


# --- Addresses --------------------------------------------------------------------------------

ADDRESS_FIELDS = ("full_name", "line1", "line2", "city", "postal_code", "region", "country", "phone")
ADDRESS_LIMITS = {
    "full_name": 120,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "postal_code": 20,
    "region": 100,
    "phone": 40,
}
ADDRESS_REQUIRED = {
    "full_name": "Enter the name of the person it goes to.",
    "line1": "Enter the street and number.",
    "city": "Enter the town or city.",
}


def _clean_address(fields: dict) -> dict:
    unknown = set(fields) - set(ADDRESS_FIELDS)
    if unknown:
        raise ValueError(f"not address fields: {sorted(unknown)}")
    cleaned, errors = {}, {}
    for name, limit in ADDRESS_LIMITS.items():
        if name in fields:
            cleaned[name] = str(fields[name] or "").strip()
            if len(cleaned[name]) > limit:
                errors[name] = [f"This can be at most {limit} characters."]
    for name, message in ADDRESS_REQUIRED.items():
        if name in cleaned and not cleaned[name]:
            errors[name] = [message]
    if "country" in fields:
        code = countries.alpha2(str(fields["country"] or "").strip()[:3]) or ""
        if not code:
            errors["country"] = ["Choose the country."]
        cleaned["country"] = code
    if errors:
        raise ValidationError(errors)
    return cleaned


def address_create(*, user, is_default: bool = False, **fields) -> Address:
    """Add an address to `user`'s address book; their first one becomes the default."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied("Sign in to keep an address book.")
    missing = {"full_name", "line1", "city", "country"} - set(fields)
    cleaned = _clean_address({**dict.fromkeys(missing, ""), **fields})
    with transaction.atomic():
        first = not Address.objects.filter(user_id=user.pk).exists()
        if is_default and not first:
            Address.objects.filter(user_id=user.pk, is_default=True).update(is_default=False)
        return Address.objects.create(user_id=user.pk, is_default=is_default or first, **cleaned)


def address_update(*, address: Address, user, **fields) -> Address:
    if address.user_id != getattr(user, "pk", None):
        raise PermissionDenied("That is not your address.")
    cleaned = _clean_address(fields)
    with transaction.atomic():
        current = Address.objects.select_for_update().get(pk=address.pk)
        for name, value in cleaned.items():
            setattr(current, name, value)
        current.save()
    address.refresh_from_db()
    return current


def address_set_default(*, address: Address, user) -> Address:
    if address.user_id != getattr(user, "pk", None):
        raise PermissionDenied("That is not your address.")
    with transaction.atomic():
        Address.objects.filter(user_id=user.pk, is_default=True).exclude(pk=address.pk).update(is_default=False)
        Address.objects.filter(pk=address.pk).update(is_default=True)
    address.refresh_from_db()
    return address


def address_delete(*, address: Address, user) -> None:
    """Remove an address from the book (orders keep their own copy). If it was the default,
    the oldest remaining one becomes the default."""
    if address.user_id != getattr(user, "pk", None):
        raise PermissionDenied("That is not your address.")
    with transaction.atomic():
        was_default = address.is_default
        address.delete()
        if was_default:
            successor = Address.objects.filter(user_id=user.pk).order_by("created_at", "pk").first()
            if successor is not None:
                Address.objects.filter(pk=successor.pk).update(is_default=True)


# --- Notifications ----------------------------------------------------------------------------


def _tell_buyer(order: Order, *, change: str, actor=None, kind: str = "order.changed") -> None:
    context = {"order": order.reference, "url": order.get_absolute_url()}
    context["reminder" if kind == "order.reminder" else "change"] = change
    notify(recipient=order.buyer, kind=kind, actor=actor, target=order, context=context)


def _tell_shop(order: Order, *, change: str, actor=None, kind: str = "order.changed") -> None:
    for person in people_of_shop(shop=order.shop):
        context = {"order": order.reference, "url": order.get_shop_url()}
        context["reminder" if kind == "order.reminder" else "change"] = change
        notify(recipient=person, kind=kind, actor=actor, target=order, context=context)


def _tell_other_side(order: Order, *, by: str, change: str, actor=None) -> None:
    if by == Actor.BUYER:
        _tell_shop(order, change=change, actor=actor)
    elif by == Actor.SHOP:
        _tell_buyer(order, change=change, actor=actor)
    else:
        _tell_buyer(order, change=change, actor=actor)
        _tell_shop(order, change=change, actor=actor)


# --- Checkout ---------------------------------------------------------------------------------


def _start_timers(order: Order, *, now: datetime.datetime) -> None:
    """Start the timers of the state the order has just entered (see lifecycle.TIMERS)."""
    for timer in timers_for(order.state):
        due = timer.due(order, now)
        remind_at = due - settings.ORDERS_REMINDER_BEFORE
        OrderDeadline.objects.create(
            order=order,
            timer=timer.name,
            state=order.state,
            due_at=due,
            # A deadline too close for a reminder to be worth sending gets none.
            remind_at=remind_at if remind_at > now else None,
        )


def _checkout_errors(*, view, address, choices: dict) -> dict:
    errors: dict[str, list[str]] = {}
    if view.is_empty:
        errors["cart"] = ["Your cart is empty."]
        return errors
    if address is None:
        errors["address"] = ["Choose the address to send the order to."]
    problems = []
    for group in view.groups:
        problems += [f"{group.shop.name}: {problem}" for problem in group.problems]
        for line in group.lines:
            problems += [f"“{line.listing.title}”: {problem}" for problem in line.problems]
        options = {option.method for option in group.payment_options}
        chosen = choices.get(group.shop.pk)
        if options and chosen is not None and chosen not in options:
            errors.setdefault("payment_methods", []).append(f"{group.shop.name} does not take payment by {chosen}.")
    if problems:
        errors["cart"] = [*problems, "Nothing was ordered: fix these in your cart first."]
    return errors


def checkout_place(
    *,
    buyer,
    idempotency_key: str,
    address_id,
    payment_methods: dict | None = None,
    notes: dict | None = None,
) -> Checkout:
    """Order everything in `buyer`'s cart: one order per shop, sent to one of their addresses,
    each with a snapshot of titles, prices, shipping, address and the shop's terms.

    `payment_methods` and `notes` map a shop's id to the payment method chosen (default: the
    shop's first) and a note for the shop. Stock is taken with a conditional update per listing,
    so of two buyers racing for the last copy exactly one gets it; the other is told, and nothing
    of their checkout is kept. Submitting the same `idempotency_key` again returns the first
    checkout (the database's unique constraint decides between two concurrent submissions)."""
    if buyer is None or not buyer.is_authenticated:
        raise PermissionDenied("Sign in to check out.")
    key = str(idempotency_key or "").strip()
    if not key or len(key) > 64:
        raise ValidationError({"idempotency_key": ["Send a checkout key of 1 to 64 characters."]})
    existing = Checkout.objects.filter(buyer_id=buyer.pk, idempotency_key=key).first()
    if existing is not None:
        return existing
    address = (
        Address.objects.filter(pk=address_id, user_id=buyer.pk).first() if str(address_id or "").isdigit() else None
    )
    choices = {int(shop_id): str(method) for shop_id, method in (payment_methods or {}).items()}
    notes = {int(shop_id): str(note or "").strip() for shop_id, note in (notes or {}).items()}
    cart = Cart.objects.filter(owner_id=buyer.pk).select_related("address").first()
    view = cart_view(cart=cart, user=buyer, address=address)
    errors = _checkout_errors(view=view, address=address, choices=choices)
    if any(len(note) > 1000 for note in notes.values()):
        errors["notes"] = ["A note for the shop can be at most 1,000 characters."]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    try:
        with transaction.atomic():
            # First, so that a second submission of the same key waits here and then fails.
            checkout = Checkout.objects.create(buyer=buyer, idempotency_key=key)
            for group in view.groups:
                _place_order(
                    checkout=checkout,
                    group=group,
                    address=address,
                    choice=choices.get(group.shop.pk),
                    note=notes.get(group.shop.pk, ""),
                    now=now,
                )
            CartItem.objects.filter(pk__in=[line.item.pk for group in view.groups for line in group.lines]).delete()
            social_services.checkout_placed(checkout=checkout)
    except IntegrityError:
        existing = Checkout.objects.filter(buyer_id=buyer.pk, idempotency_key=key).first()
        if existing is not None:
            return existing
        raise
    return checkout


def _sold_out_message(line) -> str:
    current = Listing.objects.filter(pk=line.listing.pk).values_list("quantity", "status").first()
    left = current[0] if current and current[1] == Listing.Status.ACTIVE else 0
    if left == 0:
        return (
            f"Sorry, “{line.listing.title}” has just been bought by someone else and is no longer available. "
            "Nothing was ordered: remove it from your cart to order the rest."
        )
    return f"Only {left} of “{line.listing.title}” {'is' if left == 1 else 'are'} left now. Nothing was ordered."


def _place_order(
    *, checkout: Checkout, group, address: Address, choice: str | None, note: str, now, stock_reserved: bool = False
) -> Order:
    """One shop's order of a checkout. `stock_reserved`: its copies were taken from stock already
    (an accepted offer's reservation), so they are not taken again."""
    shop = group.shop
    option = next((o for o in group.payment_options if o.method == choice), group.payment_options[0])
    if not stock_reserved:
        for line in group.lines:
            if not catalog_services.listing_stock_take(listing_id=line.listing.pk, quantity=line.quantity):
                raise ValidationError({"cart": [_sold_out_message(line)]})
    terms = shop_terms(shop=shop)
    rate = commission_rate_for(shop=shop)
    items_total = group.items_subtotal
    shipping = money(group.shipping)
    order = Order.objects.create(
        checkout=checkout,
        buyer=checkout.buyer,
        shop=shop,
        state=State.NEW,
        shop_name=shop.name,
        currency=shop.currency,
        processing_days=shop.processing_days,
        return_window_days=terms.return_window_days,
        commission_rate=rate,
        items_total=items_total,
        shipping_total=shipping,
        total=money(items_total + shipping),
        commission=money((items_total + shipping) * rate),
        ship_name=address.full_name,
        ship_line1=address.line1,
        ship_line2=address.line2,
        ship_city=address.city,
        ship_postal_code=address.postal_code,
        ship_region=address.region,
        ship_country=address.country.code,
        ship_phone=address.phone,
        buyer_note=note,
        payment_provider=option.provider,
        payment_method=option.method,
        placed_at=now,
    )
    OrderItem.objects.bulk_create(
        [
            OrderItem(
                order=order,
                listing=line.listing,
                title=line.listing.title,
                creator=line.listing.creator,
                condition=line.listing.condition.name,
                sku=line.listing.sku,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
            )
            for line in group.lines
        ]
    )
    OrderEvent.objects.create(
        order=order,
        transition="placed",
        to_state=State.NEW,
        actor_role=Actor.BUYER,
        actor=checkout.buyer,
        message=f"{checkout.buyer.public_name} placed the order.",
        note=note,
        created_at=now,
    )
    _start_timers(order, now=now)
    for person in people_of_shop(shop=shop):
        notify(
            recipient=person,
            kind="order.new",
            actor=checkout.buyer,
            target=order,
            context={"order": order.reference, "url": order.get_shop_url()},
        )
    return order


# --- Transitions ------------------------------------------------------------------------------


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("shop", "buyer").get(pk=order.pk)


def _check_person(order: Order, *, actor, by: str) -> None:
    if by == Actor.BUYER:
        if actor is None or not actor.is_authenticated or actor.pk != order.buyer_id:
            raise PermissionDenied("Only the buyer can do this.")
    elif by == Actor.SHOP:
        if not is_shop_member(user=actor, shop=order.shop):
            raise PermissionDenied("Only the shop's people can do this.")
    elif by == Actor.MODERATOR:
        if not is_moderator(actor) or is_party_to_order(user=actor, order=order):
            raise PermissionDenied("Only Plural's moderators who are not a party to the order can do this.")
    elif actor is not None:
        raise PermissionDenied("Only Plural itself does this.")


def _begin(order: Order, *, name: str, actor, by: str) -> Order:
    """Lock the order and check that `by` (the person `actor`) may take transition `name` now."""
    transition = TRANSITIONS[name]
    if by not in transition.actors:
        raise PermissionDenied(f"The {Actor(by).label.lower()} cannot do this.")
    current = _lock(order)
    _check_person(current, actor=actor, by=by)
    if current.state not in transition.sources:
        raise ValidationError(
            {
                "state": [
                    f"This order is {current.get_state_display().lower()}: "
                    f"it cannot be {REFUSED.get(name, 'changed')} now."
                ]
            }
        )
    return current


def _move(order: Order, *, name: str, by: str, actor, message: str, note: str = "", now) -> OrderEvent:
    """Take transition `name`: the new state, the timeline entry, the old state's timers
    resolved and the new state's started. The caller has locked and checked the order."""
    transition = TRANSITIONS[name]
    previous = order.state
    order.state = transition.target
    order.save()
    OrderDeadline.objects.filter(order=order, fired_at__isnull=True, resolved_at__isnull=True).update(resolved_at=now)
    event = OrderEvent.objects.create(
        order=order,
        transition=name,
        from_state=previous,
        to_state=order.state,
        actor_role=by,
        actor=actor if by in PERSON_ACTORS else None,
        message=message[:300],
        note=note,
        created_at=now,
    )
    _start_timers(order, now=now)
    # The shop's completion rate changes: forgotten now, and again once this commits, in case a
    # page read the rate from before this change in the meantime.
    shop_id = order.shop_id
    cache.delete(completion_cache_key(shop_id))
    transaction.on_commit(lambda: cache.delete(completion_cache_key(shop_id)))
    return event


def _text(value, *, field: str, limit: int, required: str = "") -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError({field: [required]})
    if len(text) > limit:
        raise ValidationError({field: [f"This can be at most {limit:,} characters."]})
    return text


def _after(order: Order) -> Order:
    order.refresh_from_db()
    return order


def order_accept(*, order: Order, actor, message: str = "") -> Order:
    """The shop takes the order on; `message` reaches the buyer (how to pay, when to pick it up)."""
    message = _text(message, field="message", limit=2000)
    with transaction.atomic():
        current = _begin(order, name="accept", actor=actor, by=Actor.SHOP)
        now = timezone.now()
        current.accepted_at = now
        _move(
            current,
            name="accept",
            by=Actor.SHOP,
            actor=actor,
            message=f"{current.shop_name} accepted the order.",
            note=message,
            now=now,
        )
        _tell_buyer(current, change=f"accepted by {current.shop_name}", actor=actor)
    return _after(order)


def order_mark_paid(*, order: Order, actor=None, by: str = Actor.SHOP, reference: str = "") -> Order:
    """Record that the buyer has paid: by the shop's people for a provider whose payments reach
    the shop directly (manual), or by the payment provider's webhook (by=Actor.PROVIDER)."""
    reference = _text(reference, field="reference", limit=100)
    with transaction.atomic():
        current = _begin(order, name="mark_paid", actor=actor, by=by)
        provider = payments.provider(current.payment_provider)
        if by == Actor.SHOP and (provider is None or not provider.shop_marks_paid):
            raise ValidationError({"state": ["This order is paid through its payment provider, not marked by hand."]})
        now = timezone.now()
        current.paid_at = now
        if reference:
            current.payment_reference = reference
        who = current.shop_name if by == Actor.SHOP else (provider.label if provider else "The payment provider")
        _move(current, name="mark_paid", by=by, actor=actor, message=f"{who} confirmed the payment.", now=now)
        _tell_buyer(current, change="payment received", actor=actor)
        if by == Actor.PROVIDER:
            _tell_shop(current, change="paid: you can ship it")
    return _after(order)


def order_ship(*, order: Order, actor, carrier: str, tracking_number: str) -> Order:
    """The shop has sent the order, with the carrier and the tracking number."""
    errors = {}
    carrier = str(carrier or "").strip()
    tracking_number = str(tracking_number or "").strip()
    if not carrier:
        errors["carrier"] = ["Enter the carrier, for example Royal Mail or DHL."]
    elif len(carrier) > 80:
        errors["carrier"] = ["This can be at most 80 characters."]
    if not tracking_number:
        errors["tracking_number"] = ["Enter the tracking number so the buyer can follow the parcel."]
    elif len(tracking_number) > 100:
        errors["tracking_number"] = ["This can be at most 100 characters."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = _begin(order, name="ship", actor=actor, by=Actor.SHOP)
        now = timezone.now()
        current.carrier, current.tracking_number, current.shipped_at = carrier, tracking_number, now
        _move(
            current,
            name="ship",
            by=Actor.SHOP,
            actor=actor,
            message=f"{current.shop_name} shipped the order with {carrier}, tracking number {tracking_number}.",
            now=now,
        )
        _tell_buyer(current, change=f"shipped with {carrier} ({tracking_number})", actor=actor)
    return _after(order)


def order_mark_delivered(*, order: Order, actor, by: str) -> Order:
    """The order has arrived: the buyer says so, or the shop does (say, from the tracking)."""
    with transaction.atomic():
        current = _begin(order, name="mark_delivered", actor=actor, by=by)
        now = timezone.now()
        current.delivered_at = now
        who = current.buyer.public_name if by == Actor.BUYER else current.shop_name
        _move(current, name="mark_delivered", by=by, actor=actor, message=f"{who} confirmed the delivery.", now=now)
        _tell_other_side(current, by=by, change="delivered", actor=actor)
    return _after(order)


def _give_stock_back(order: Order) -> None:
    for item in order.items.all():
        if item.listing_id is not None:
            catalog_services.listing_stock_return(listing_id=item.listing_id, quantity=item.quantity)


def _refund_note(order: Order, amount: Decimal) -> str:
    provider = payments.provider(order.payment_provider)
    if provider is None:
        return f"{order.shop_name} refunds {amount} {order.currency}."
    return provider.refund_note(order=order, amount=amount)


def _cancel(current: Order, *, name: str, by: str, actor, reason: str, against_shop: bool, message: str, now) -> None:
    was_paid = current.paid_at is not None
    current.cancelled_at = now
    current.cancelled_by = by
    current.cancel_reason = reason
    current.cancelled_against_shop = against_shop
    if was_paid:
        message += " " + _refund_note(current, current.total)
    _move(current, name=name, by=by, actor=actor, message=message, note=reason, now=now)
    _give_stock_back(current)


def order_cancel(*, order: Order, actor, by: str, reason: str = "") -> Order:
    """Cancel an order before it ships, by the buyer (changing their mind; a reason is
    optional) or by the shop (declining; it must say why). The copies go back into stock and a
    paid order is refunded in full. It counts against the shop's completion rate when the shop
    cancels, or when the buyer cancels a new order the shop let pass its acceptance deadline."""
    reason = _text(
        reason,
        field="reason",
        limit=2000,
        required="Tell the buyer why you cancel the order." if by == Actor.SHOP else "",
    )
    with transaction.atomic():
        current = _begin(order, name="cancel", actor=actor, by=by)
        now = timezone.now()
        late = acceptance_is_late(order=current, now=now) if by == Actor.BUYER else False
        who = current.buyer.public_name if by == Actor.BUYER else current.shop_name
        message = f"{who} cancelled the order."
        if late:
            message = f"{who} cancelled the order: {current.shop_name} had not accepted it in time."
        _cancel(
            current,
            name="cancel",
            by=by,
            actor=actor,
            reason=reason,
            against_shop=by == Actor.SHOP or late,
            message=message,
            now=now,
        )
        _tell_other_side(current, by=by, change=f"cancelled by {who}", actor=actor)
    return _after(order)


def order_request_return(*, order: Order, actor, reason: str, details: str = "") -> Order:
    """The buyer asks to return a delivered order within the shop's return window, with a coded
    reason; the reason fixes the refund (see lifecycle.RETURN_REASONS)."""
    if reason not in RETURN_REASONS:
        raise ValidationError({"reason": ["Choose why you want to return it."]})
    details = _text(details, field="details", limit=2000)
    spec = RETURN_REASONS[reason]
    with transaction.atomic():
        current = _begin(order, name="request_return", actor=actor, by=Actor.BUYER)
        now = timezone.now()
        deadline = return_deadline(current)
        if deadline is None:
            raise ValidationError({"reason": [f"{current.shop_name} does not take returns."]})
        if now > deadline:
            raise ValidationError(
                {"reason": [f"The return window closed on {timezone.localtime(deadline):%-d %B %Y}."]}
            )
        refund = money(current.items_total + (current.shipping_total if spec.refunds_shipping else Decimal("0")))
        ReturnRequest.objects.create(
            order=current,
            reason=reason,
            details=details,
            refund_amount=refund,
            refund_rule=spec.rule,
            requested_at=now,
        )
        _move(
            current,
            name="request_return",
            by=Actor.BUYER,
            actor=actor,
            message=f"{current.buyer.public_name} asked to return it: {spec.label.lower()}.",
            note=details,
            now=now,
        )
        _tell_shop(current, change=f"return requested ({spec.label.lower()})", actor=actor)
    return _after(order)


def _accept_return(current: Order, *, name: str, by: str, actor, now) -> None:
    request = current.return_request
    request.decision, request.decided_at = ReturnRequest.Decision.ACCEPTED, now
    request.save(update_fields=["decision", "decided_at"])
    who = current.shop_name if by == Actor.SHOP else "Plural"
    message = f"{who} accepted the return. {_refund_note(current, request.refund_amount)}"
    if by == Actor.SYSTEM:
        message = f"The return was accepted: {current.shop_name} did not decide in time. " + _refund_note(
            current, request.refund_amount
        )
    _move(current, name=name, by=by, actor=actor, message=message, now=now)


def order_decide_return(*, order: Order, actor, accept: bool, reason: str = "") -> Order:
    """The shop accepts a return (the refund follows its reason's rule) or declines it, saying why."""
    reason = _text(reason, field="reason", limit=2000, required="" if accept else "Tell the buyer why you decline.")
    name = "accept_return" if accept else "decline_return"
    with transaction.atomic():
        current = _begin(order, name=name, actor=actor, by=Actor.SHOP)
        now = timezone.now()
        if accept:
            _accept_return(current, name=name, by=Actor.SHOP, actor=actor, now=now)
            _tell_buyer(current, change="return accepted", actor=actor)
        else:
            request = current.return_request
            request.decision, request.decision_reason, request.decided_at = (
                ReturnRequest.Decision.DECLINED,
                reason,
                now,
            )
            request.save(update_fields=["decision", "decision_reason", "decided_at"])
            current.completed_at = now
            _move(
                current,
                name=name,
                by=Actor.SHOP,
                actor=actor,
                message=f"{current.shop_name} declined the return.",
                note=reason,
                now=now,
            )
            _tell_buyer(current, change="return declined", actor=actor)
    return _after(order)


# --- Timers -----------------------------------------------------------------------------------


def _fire(current: Order, *, timer_name: str, now) -> None:
    """What a timer does when it falls due (the order is locked, the deadline still open)."""
    timer = TIMERS_BY_NAME[timer_name]
    if timer.fires is None:
        notice = timer.due_notice
        if timer.notify_when_due == Actor.BUYER:
            _tell_buyer(current, change=notice)
        else:
            _tell_shop(current, change=notice)
        return
    if timer.fires == "cancel_unaccepted":
        _cancel(
            current,
            name="cancel_unaccepted",
            by=Actor.SYSTEM,
            actor=None,
            reason="",
            against_shop=True,
            message=f"The order was cancelled: {current.shop_name} did not accept it in time.",
            now=now,
        )
        _tell_other_side(current, by=Actor.SYSTEM, change="cancelled: not accepted in time")
    elif timer.fires == "expire_unpaid":
        _cancel(
            current,
            name="expire_unpaid",
            by=Actor.SYSTEM,
            actor=None,
            reason="",
            against_shop=False,
            message="The order was cancelled: it was not paid in time.",
            now=now,
        )
        _tell_other_side(current, by=Actor.SYSTEM, change="cancelled: not paid in time")
    elif timer.fires == "assume_delivered":
        current.delivered_at = now
        _move(
            current,
            name="assume_delivered",
            by=Actor.SYSTEM,
            actor=None,
            message="The order now counts as delivered.",
            now=now,
        )
        _tell_other_side(current, by=Actor.SYSTEM, change="counts as delivered now")
    elif timer.fires == "complete":
        current.completed_at = now
        _move(
            current,
            name="complete",
            by=Actor.SYSTEM,
            actor=None,
            message="The order is complete: its return window has closed.",
            now=now,
        )
        _tell_other_side(current, by=Actor.SYSTEM, change="completed")
    elif timer.fires == "accept_return_undecided":
        _accept_return(current, name="accept_return_undecided", by=Actor.SYSTEM, actor=None, now=now)
        _tell_other_side(current, by=Actor.SYSTEM, change="return accepted: the shop did not decide in time")
    else:  # a timer naming a transition this function does not know is a programming error
        raise ValueError(f"timer {timer_name} fires unknown transition {timer.fires}")


def order_deadline_fire(*, deadline_id: int, now: datetime.datetime | None = None) -> bool:
    """Act on one deadline that has fallen due; False when it was already dealt with (another
    worker, a second run) or is not due. Safe to run twice and concurrently."""
    now = now or timezone.now()
    with transaction.atomic():
        deadline = OrderDeadline.objects.filter(pk=deadline_id).first()
        if deadline is None:
            return False
        current = _lock(deadline.order)
        # Re-read under the order's lock: a transition may have resolved it meanwhile.
        deadline = OrderDeadline.objects.get(pk=deadline_id)
        if not deadline.is_open or deadline.due_at > now or current.state != deadline.state:
            return False
        deadline.fired_at = now
        deadline.save(update_fields=["fired_at"])
        _fire(current, timer_name=deadline.timer, now=now)
    return True


def order_deadline_remind(*, deadline_id: int, now: datetime.datetime | None = None) -> bool:
    """Remind the side that has to act of a deadline that is coming up; once per deadline."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = OrderDeadline.objects.filter(
            pk=deadline_id,
            reminded_at__isnull=True,
            fired_at__isnull=True,
            resolved_at__isnull=True,
            remind_at__lte=now,
        ).update(reminded_at=now)
        if not claimed:
            return False
        deadline = OrderDeadline.objects.select_related("order__shop", "order__buyer").get(pk=deadline_id)
        order, timer = deadline.order, TIMERS_BY_NAME[deadline.timer]
        due = timezone.localtime(deadline.due_at)
        text = timer.reminder_text.format(due=f"{due:%a %-d %b %H:%M} {due.tzname()}")
        if timer.reminds == Actor.BUYER:
            _tell_buyer(order, change=text, kind="order.reminder")
        else:
            _tell_shop(order, change=text, kind="order.reminder")
        OrderEvent.objects.create(
            order=order,
            transition="reminder",
            from_state=order.state,
            to_state=order.state,
            actor_role=Actor.SYSTEM,
            message=f"Reminder sent to the {Actor(timer.reminds).label.lower()}: {text}.",
            created_at=now,
        )
    return True


def order_timers_run(*, now: datetime.datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Run every timer that has fallen due and send every reminder that is due, each in a
    transaction of its own (what beat's task calls). Returns how many of each it handled."""
    now = now or timezone.now()
    due = list(
        OrderDeadline.objects.filter(fired_at__isnull=True, resolved_at__isnull=True, due_at__lte=now)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    fired = sum(order_deadline_fire(deadline_id=pk, now=now) for pk in due)
    reminders = list(
        OrderDeadline.objects.filter(
            reminded_at__isnull=True, fired_at__isnull=True, resolved_at__isnull=True, remind_at__lte=now
        )
        .order_by("remind_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    reminded = sum(order_deadline_remind(deadline_id=pk, now=now) for pk in reminders)
    return {"fired": fired, "reminded": reminded}


# --- A shop's order terms ---------------------------------------------------------------------


def shop_terms_update(*, shop: Shop, actor, return_window_days) -> ShopTerms:
    """Set how many days after delivery the shop's buyers may ask to return an order (0: no
    returns). Applies to orders placed from now on; older orders keep the window they were sold with."""
    if not is_shop_member(user=actor, shop=shop):
        raise PermissionDenied("Only the shop's people can change it.")
    try:
        days = _quantity(return_window_days, field="return_window_days")
    except ValidationError:
        raise ValidationError({"return_window_days": ["Enter a number of days."]}) from None
    if not 0 <= days <= MAX_RETURN_WINDOW_DAYS:
        raise ValidationError({"return_window_days": [f"Enter between 0 and {MAX_RETURN_WINDOW_DAYS} days."]})
    with transaction.atomic():
        terms, _ = ShopTerms.objects.select_for_update().get_or_create(shop=shop, defaults={"return_window_days": days})
        terms.return_window_days = days
        terms.save(update_fields=["return_window_days", "updated_at"])
    return terms


def shop_offer_terms_update(*, shop: Shop, actor, accepts_offers: bool, offer_response_days) -> ShopTerms:
    """Whether buyers may offer a price on the shop's listings, and how many days the shop (and
    the buyer, for a counter-offer) has to answer before an offer lapses. Offers already made
    keep the deadline they were given."""
    if not is_shop_member(user=actor, shop=shop):
        raise PermissionDenied("Only the shop's people can change it.")
    try:
        days = _quantity(offer_response_days, field="offer_response_days")
    except ValidationError:
        raise ValidationError({"offer_response_days": ["Enter a number of days."]}) from None
    if not 1 <= days <= MAX_OFFER_RESPONSE_DAYS:
        raise ValidationError({"offer_response_days": [f"Enter between 1 and {MAX_OFFER_RESPONSE_DAYS} days."]})
    with transaction.atomic():
        terms, _ = ShopTerms.objects.select_for_update().get_or_create(shop=shop)
        terms.accepts_offers, terms.offer_response_days = bool(accepts_offers), days
        terms.save(update_fields=["accepts_offers", "offer_response_days", "updated_at"])
    return terms


# --- Amounts typed by people ------------------------------------------------------------------


def _amount(value, *, field: str, what: str = "price", allow_zero: bool = False) -> Decimal:
    """An amount of money as typed: a number with at most two decimals, above zero (or zero when
    `allow_zero`), at most MAX_PRICE."""
    try:
        amount = Decimal(str(value if value is not None else "").strip())
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError({field: [f"Enter the {what} as a number, for example 12.50."]})
    if amount != amount.quantize(CENT):
        raise ValidationError({field: [f"Enter the {what} with at most two decimals."]})
    article = "an" if what[0] in "aeiou" else "a"
    if amount < 0 or (amount == 0 and not allow_zero):
        message = f"The {what} cannot be negative." if allow_zero else f"Enter {article} {what} above zero."
        raise ValidationError({field: [message]})
    if amount > MAX_PRICE:
        raise ValidationError(
            {field: [f"Enter {article} {what} of at most {MAX_PRICE:,}: larger amounts are typing mistakes."]}
        )
    return money(amount)


def _collect(errors: dict, check):
    """Run `check`; a ValidationError it raises joins `errors` (field -> messages) instead."""
    try:
        return check()
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
        return None


def _format_moment(moment: datetime.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%-d %B %Y, %H:%M} {local.tzname()}"


# --- Offers -----------------------------------------------------------------------------------

OFFER_MESSAGE_LIMIT = 1000
# What a refused offer step says: "This offer <state>, so it cannot be <this> now."
OFFER_STATE_PHRASES = {
    OfferState.OPEN: "is still open",
    OfferState.COUNTERED: "has a counter-offer waiting for the buyer",
    OfferState.ACCEPTED: "has been accepted",
    OfferState.ORDERED: "has been ordered already",
    OfferState.DECLINED: "was declined",
    OfferState.WITHDRAWN: "was withdrawn",
    OfferState.EXPIRED: "has expired",
    OfferState.RELEASED: "lapsed: its reservation ended",
}
OFFER_REFUSED = {
    "order": "accepted",
    "order_reserved": "ordered",
    "accept": "accepted",
    "counter": "countered",
    "accept_counter": "accepted",
    "decline": "declined",
    "decline_counter": "declined",
    "decline_private": "declined",
    "withdraw": "withdrawn",
    "withdraw_private": "withdrawn",
}


def _offer_tell_buyer(offer: Offer, *, change: str, actor=None) -> None:
    context = {"subject": offer.listing.title, "change": change, "url": offer.get_absolute_url()}
    notify(recipient=offer.buyer, kind="offer.changed", actor=actor, target=offer, context=context)


def _offer_tell_shop(offer: Offer, *, change: str, actor=None) -> None:
    for person in people_of_shop(shop=offer.shop):
        context = {"subject": offer.listing.title, "change": change, "url": offer.get_shop_url()}
        notify(recipient=person, kind="offer.changed", actor=actor, target=offer, context=context)


def _offer_event(offer: Offer, *, transition: str, from_state: str, by: str, actor, message: str, note="", now):
    return OfferEvent.objects.create(
        offer=offer,
        transition=transition,
        from_state=from_state,
        to_state=offer.state,
        actor_role=by,
        actor=actor if by in PERSON_ACTORS else None,
        message=message[:300],
        note=note,
        created_at=now,
    )


def _begin_offer(offer: Offer, *, name: str, actor, by: str, now) -> Offer:
    """Lock the offer and check that `by` (the person `actor`) may take transition `name` now:
    the right kind of offer, the right person, the right state, its deadline not passed."""
    transition = OFFER_TRANSITIONS[name]
    if by not in transition.actors:
        raise PermissionDenied(f"The {Actor(by).label.lower()} cannot do this.")
    # Only the offer's row: PostgreSQL's FOR UPDATE would lock every joined row too, and a lock
    # on the shop or the listing crosses a checkout ordering from the same shop (a deadlock).
    current = (
        Offer.objects.select_for_update(of=("self",))
        .select_related("shop", "buyer", "listing__condition")
        .get(pk=offer.pk)
    )
    if by == Actor.BUYER and (actor is None or not actor.is_authenticated or actor.pk != current.buyer_id):
        raise PermissionDenied("Only the buyer can do this.")
    if by == Actor.SHOP and not is_shop_member(user=actor, shop=current.shop):
        raise PermissionDenied("Only the shop's people can do this.")
    if current.kind not in transition.kinds:
        raise ValidationError({"offer": [f"A {current.get_kind_display().lower()} cannot be {OFFER_REFUSED[name]}."]})
    if current.state not in transition.sources:
        phrase = OFFER_STATE_PHRASES[current.state]
        raise ValidationError(
            {"offer": [f"This offer {phrase}, so it cannot be {OFFER_REFUSED.get(name, 'changed')} now."]}
        )
    if by != Actor.SYSTEM:
        if current.state in ANSWERABLE_OFFER_STATES and current.respond_by <= now:
            raise ValidationError({"offer": [f"This offer expired on {_format_moment(current.respond_by)}."]})
        if current.state == OfferState.ACCEPTED and current.reserved_until <= now:
            raise ValidationError(
                {
                    "offer": [
                        f"The reservation ended on {_format_moment(current.reserved_until)}: the copy is back on sale."
                    ]
                }
            )
    return current


def _move_offer(offer: Offer, *, name: str, by: str, actor, message: str, note: str = "", now) -> None:
    """Take offer transition `name` (the caller has locked and checked the offer)."""
    previous = offer.state
    offer.state = OFFER_TRANSITIONS[name].target
    if offer.state not in OPEN_OFFER_STATES:
        offer.closed_at = now
    offer.save()
    _offer_event(offer, transition=name, from_state=previous, by=by, actor=actor, message=message, note=note, now=now)


def _find_buyer(username) -> object:
    name = str(username or "").strip().removeprefix("@")
    if not name:
        raise ValidationError({"buyer": ["Enter the username of the person the offer is for."]})
    person = get_user_model().objects.filter(username=name, is_active=True).first()
    if person is None:
        raise ValidationError({"buyer": [f"There is no one called “{name}” on Plural."]})
    return person


def _days(value, *, field: str, low: int, high: int) -> int:
    try:
        days = _quantity(value, field=field)
    except ValidationError:
        raise ValidationError({field: ["Enter a number of days."]}) from None
    if not low <= days <= high:
        raise ValidationError({field: [f"Enter between {low} and {high} days."]})
    return days


def _country(value, *, field: str) -> str:
    code = countries.alpha2(str(value or "").strip()[:3]) or ""
    if not code:
        raise ValidationError({field: ["Choose the country."]})
    return code


def private_offer_make(
    *,
    listing: Listing,
    actor,
    buyer_username: str,
    price,
    shipping_charge,
    ship_to: str,
    valid_days=7,
    message: str = "",
    conversation=None,
) -> Offer:
    """One of the shop's people offers one copy of `listing` to one named buyer: its own price,
    a shipping charge to the one country `ship_to` (whether or not the shop ships there
    otherwise), open for `valid_days`. Signed with the maker's name. The buyer is told; the offer
    lives at an unguessable address only they can open, and accepting it orders the copy.
    `conversation` links it to the conversation it was made in (messaging.services.
    conversation_offer_make, which has checked that it is this shop's, with this buyer)."""
    shop = listing.shop
    if not is_shop_member(user=actor, shop=shop):
        raise PermissionDenied("Only the shop's people can make its offers.")
    errors: dict[str, list[str]] = {}
    buyer = _collect(errors, lambda: _find_buyer(buyer_username))
    if buyer is not None and is_shop_member(user=buyer, shop=shop):
        errors["buyer"] = [f"{buyer.public_name} is one of the people of {shop.name}: offers go to buyers."]
    price = _collect(errors, lambda: _amount(price, field="price"))
    shipping_charge = _collect(
        errors, lambda: _amount(shipping_charge, field="shipping_charge", what="shipping charge", allow_zero=True)
    )
    ship_to = _collect(errors, lambda: _country(ship_to, field="ship_to"))
    days = _collect(
        errors, lambda: _days(valid_days, field="valid_days", low=1, high=settings.ORDERS_PRIVATE_OFFER_MAX_DAYS)
    )
    message = _collect(errors, lambda: _text(message, field="message", limit=OFFER_MESSAGE_LIMIT))
    if listing.status != Listing.Status.ACTIVE or listing.quantity < 1:
        errors["listing"] = [f"“{listing.title}” is not on sale with a copy in stock, so it cannot be offered."]
    elif shop.is_on_vacation:
        errors["listing"] = [f"{shop.name} is on vacation: it cannot take orders, so it cannot make offers now."]
    elif not payments.options_for_shop(shop):
        errors["listing"] = [f"Say how {shop.name} takes payment (its policies) before making offers."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        now = timezone.now()
        offer = Offer.objects.create(
            kind=OfferKind.PRIVATE,
            shop=shop,
            listing=listing,
            buyer=buyer,
            made_by=actor,
            signed_as=actor.public_name,
            currency=shop.currency,
            price=price,
            message=message,
            shipping_charge=shipping_charge,
            ship_to=ship_to,
            respond_by=now + datetime.timedelta(days=days),
            conversation=conversation,
            created_at=now,
        )
        _offer_event(
            offer,
            transition="made",
            from_state="",
            by=Actor.SHOP,
            actor=actor,
            message=f"{actor.public_name} of {shop.name} made a private offer to {buyer.public_name}: {price} "
            f"{shop.currency}, shipping to {countries.name(ship_to)} {shipping_charge} {shop.currency}.",
            note=message,
            now=now,
        )
        notify(
            recipient=buyer,
            kind="offer.received",
            actor=actor,
            target=offer,
            context={"subject": listing.title, "url": offer.get_absolute_url()},
        )
    return offer


def _second_offer() -> ValidationError:
    return ValidationError(
        {"price": ["You already have an open offer on this listing: see it under Your offers, or withdraw it first."]}
    )


def offer_make(*, listing_id, actor, price, message: str = "") -> Offer:
    """A buyer offers a price below the listing's for one copy, on a listing whose shop takes
    offers. One open offer per buyer per listing (the database's partial unique constraint
    decides between two at once). The offer reserves nothing: others can still buy meanwhile.
    The shop's people are told and have its response period to answer before it lapses."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied("Sign in to make an offer.")
    listing = _listing_for_cart(listing_id)
    shop = listing.shop
    terms = shop_terms(shop=shop)
    if listing.status != Listing.Status.ACTIVE or listing.quantity < 1:
        raise ValidationError({"listing": [f"“{listing.title}” is sold out."]})
    if not terms.accepts_offers:
        raise ValidationError({"listing": [f"{shop.name} does not take offers: buy it at its price, or ask the shop."]})
    if shop.is_on_vacation:
        raise ValidationError({"listing": [f"{shop.name} is on vacation: nothing can be bought from it now."]})
    if is_shop_member(user=actor, shop=shop):
        raise ValidationError({"listing": ["You cannot make an offer to your own shop."]})
    if listing.currency != shop.currency:
        raise ValidationError(
            {"listing": [f"“{listing.title}” is priced in another currency than the shop's: ask the shop."]}
        )
    errors: dict[str, list[str]] = {}
    price = _collect(errors, lambda: _amount(price, field="price"))
    if price is not None and price >= listing.price:
        errors["price"] = [
            f"Offer less than its price of {listing.price} {listing.currency}: at that price you can simply buy it."
        ]
    message = _collect(errors, lambda: _text(message, field="message", limit=OFFER_MESSAGE_LIMIT))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        open_offers = Offer.objects.filter(
            kind=OfferKind.BUYER, listing=listing, buyer_id=actor.pk, state__in=OPEN_OFFER_STATES
        )
        if open_offers.exists():
            raise _second_offer()
        now = timezone.now()
        try:
            with transaction.atomic():
                offer = Offer.objects.create(
                    kind=OfferKind.BUYER,
                    shop=shop,
                    listing=listing,
                    buyer=actor,
                    made_by=actor,
                    signed_as=actor.public_name,
                    currency=shop.currency,
                    price=price,
                    message=message,
                    respond_by=now + datetime.timedelta(days=terms.offer_response_days),
                    created_at=now,
                )
        except IntegrityError:
            raise _second_offer() from None
        _offer_event(
            offer,
            transition="made",
            from_state="",
            by=Actor.BUYER,
            actor=actor,
            message=f"{actor.public_name} offered {price} {offer.currency} "
            f"(listed at {listing.price} {listing.currency}).",
            note=message,
            now=now,
        )
        for person in people_of_shop(shop=shop):
            notify(
                recipient=person,
                kind="offer.received",
                actor=actor,
                target=offer,
                context={"subject": listing.title, "url": offer.get_shop_url()},
            )
    return offer


def _reserve(current: Offer, *, name: str, by: str, actor, agreed: Decimal, now) -> None:
    """Accept at `agreed`: one copy is taken from stock for the buyer (the same conditional stock
    take as a checkout), to order until the reservation ends."""
    if not catalog_services.listing_stock_take(listing_id=current.listing_id, quantity=1):
        raise ValidationError(
            {"offer": [f"“{current.listing.title}” has been sold meanwhile: there is no copy left to reserve."]}
        )
    current.agreed_price = agreed
    current.reserved_until = now + settings.ORDERS_OFFER_RESERVATION_PERIOD
    until = _format_moment(current.reserved_until)
    who = current.buyer.public_name if by == Actor.BUYER else f"{actor.public_name} of {current.shop.name}"
    _move_offer(
        current,
        name=name,
        by=by,
        actor=actor,
        message=f"{who} accepted {agreed} {current.currency}. The copy is reserved for "
        f"{current.buyer.public_name} until {until}.",
        now=now,
    )


def offer_accept(*, offer: Offer, actor, by: str) -> Offer:
    """Agree to a buyer's offer: the shop accepts the buyer's price, or the buyer accepts the
    shop's counter-offer. The copy is reserved for the buyer (ORDERS_OFFER_RESERVATION_PERIOD),
    who orders it at the agreed price meanwhile (offer_order); if it sold meanwhile, nothing changes."""
    name = "accept" if by == Actor.SHOP else "accept_counter"
    with transaction.atomic():
        now = timezone.now()
        current = _begin_offer(offer, name=name, actor=actor, by=by, now=now)
        agreed = current.price if name == "accept" else current.counter_price
        _reserve(current, name=name, by=by, actor=actor, agreed=agreed, now=now)
        until = _format_moment(current.reserved_until)
        if by == Actor.SHOP:
            _offer_tell_buyer(
                current, change=f"accepted at {agreed} {current.currency}, reserved until {until}", actor=actor
            )
        else:
            _offer_tell_shop(current, change=f"counter-offer accepted, reserved until {until}", actor=actor)
    offer.refresh_from_db()
    return offer


def offer_counter(*, offer: Offer, actor, price, message: str = "") -> Offer:
    """The shop answers a buyer's offer with a price of its own, between the offer and the
    listing's price; the buyer then has the shop's response period to accept or decline it."""
    errors: dict[str, list[str]] = {}
    price = _collect(errors, lambda: _amount(price, field="price"))
    message = _collect(errors, lambda: _text(message, field="message", limit=OFFER_MESSAGE_LIMIT))
    with transaction.atomic():
        now = timezone.now()
        current = _begin_offer(offer, name="counter", actor=actor, by=Actor.SHOP, now=now)
        if price is not None and price <= current.price:
            errors["price"] = [f"Counter with more than the {current.price} {current.currency} offered, or accept it."]
        elif price is not None and price >= current.listing.price:
            errors["price"] = [
                f"Counter with less than the listing's price of {current.listing.price} {current.currency}, or "
                "decline the offer."
            ]
        if errors:
            raise ValidationError(errors)
        current.counter_price, current.counter_message = price, message
        current.respond_by = now + datetime.timedelta(days=shop_terms(shop=current.shop).offer_response_days)
        _move_offer(
            current,
            name="counter",
            by=Actor.SHOP,
            actor=actor,
            message=f"{actor.public_name} of {current.shop.name} countered with {price} {current.currency}.",
            note=message,
            now=now,
        )
        _offer_tell_buyer(current, change=f"counter-offer of {price} {current.currency}", actor=actor)
    offer.refresh_from_db()
    return offer


def offer_decline(*, offer: Offer, actor, by: str, message: str = "") -> Offer:
    """Say no: the shop to a buyer's offer, or the buyer to a counter-offer or to a private offer."""
    message = _text(message, field="message", limit=OFFER_MESSAGE_LIMIT)
    with transaction.atomic():
        now = timezone.now()
        if by == Actor.SHOP:
            name = "decline"
        else:
            name = "decline_private" if offer.kind == OfferKind.PRIVATE else "decline_counter"
        current = _begin_offer(offer, name=name, actor=actor, by=by, now=now)
        who = current.buyer.public_name if by == Actor.BUYER else f"{actor.public_name} of {current.shop.name}"
        what = {"decline": "the offer", "decline_counter": "the counter-offer", "decline_private": "the private offer"}
        _move_offer(
            current, name=name, by=by, actor=actor, message=f"{who} declined {what[name]}.", note=message, now=now
        )
        if by == Actor.SHOP:
            _offer_tell_buyer(current, change="declined", actor=actor)
        else:
            _offer_tell_shop(current, change=f"{what[name]} declined", actor=actor)
    offer.refresh_from_db()
    return offer


def offer_withdraw(*, offer: Offer, actor, by: str) -> Offer:
    """Take an offer back before it is answered: the buyer their own offer, the shop's people a
    private offer not accepted yet."""
    name = "withdraw" if by == Actor.BUYER else "withdraw_private"
    with transaction.atomic():
        now = timezone.now()
        current = _begin_offer(offer, name=name, actor=actor, by=by, now=now)
        who = current.buyer.public_name if by == Actor.BUYER else f"{actor.public_name} of {current.shop.name}"
        _move_offer(current, name=name, by=by, actor=actor, message=f"{who} withdrew the offer.", now=now)
        if by == Actor.BUYER:
            _offer_tell_shop(current, change="withdrawn by the buyer", actor=actor)
        else:
            _offer_tell_buyer(current, change="withdrawn by the shop", actor=actor)
    offer.refresh_from_db()
    return offer


def offer_order(*, offer: Offer, actor, address_id, payment_method: str = "", note: str = "") -> Order:
    """The buyer orders the offer's copy at its price, sent to one of their addresses: accepting a
    private offer (its shipping charge, to the country it names) or ordering the copy reserved by
    an accepted offer of theirs (the shop's usual shipping). One order through the checkout's own
    path (_place_order: snapshot, timeline, timers, the shop told); a private offer's copy is taken
    from stock then, a reserved one was taken already. Ordering again returns the same order."""
    if actor is None or not actor.is_authenticated or actor.pk != offer.buyer_id:
        raise PermissionDenied("Only the buyer can order it.")
    name = "order" if offer.kind == OfferKind.PRIVATE else "order_reserved"
    key = f"offer-{offer.pk}"
    errors: dict[str, list[str]] = {}
    note = _collect(errors, lambda: _text(note, field="note", limit=1000))
    address = (
        Address.objects.filter(pk=address_id, user_id=actor.pk).first() if str(address_id or "").isdigit() else None
    )
    if address is None:
        errors["address"] = ["Choose the address to send it to."]
    with transaction.atomic():
        # A second submission at the same time waits here, then finds the first one's order.
        Offer.objects.select_for_update().filter(pk=offer.pk).first()
        existing = Checkout.objects.filter(buyer_id=actor.pk, idempotency_key=key).first()
        if existing is not None:
            return existing.orders.get()
        now = timezone.now()
        current = _begin_offer(offer, name=name, actor=actor, by=Actor.BUYER, now=now)
        if errors:
            raise ValidationError(errors)
        group = OfferOrder(offer=current, country=address.country.code)
        problems = group.problems()
        methods = {option.method for option in group.payment_options}
        if payment_method and methods and payment_method not in methods:
            problems.setdefault("payment_method", []).append(
                f"{current.shop.name} does not take payment by {payment_method}."
            )
        if problems:
            raise ValidationError(problems)
        checkout = Checkout.objects.create(buyer=actor, idempotency_key=key)
        try:
            order = _place_order(
                checkout=checkout,
                group=group,
                address=address,
                choice=payment_method or None,
                note=note,
                now=now,
                stock_reserved=name == "order_reserved",
            )
        except ValidationError:  # the last copy went to someone else a moment ago
            raise ValidationError(
                {"offer": [f"“{current.listing.title}” has just been sold, so this offer can no longer be accepted."]}
            ) from None
        if current.is_private:
            origin = (
                f"From a private offer by {current.signed_as} of {current.shop.name}: {current.price} "
                f"{current.currency}, shipping to {current.ship_to.name} {current.shipping_charge} {current.currency}."
            )
        else:
            origin = (
                f"At the price agreed in an offer: {current.agreed_price} {current.currency} "
                f"(listed at {current.listing.price} {current.listing.currency})."
            )
        OrderEvent.objects.create(
            order=order,
            transition="offer",
            to_state=order.state,
            actor_role=Actor.BUYER,
            actor=actor,
            message=origin[:300],
            created_at=now,
        )
        current.order = order
        _move_offer(
            current, name=name, by=Actor.BUYER, actor=actor, message=f"Ordered: order {order.reference}.", now=now
        )
        # A purchase like any other: the buyer's activity and the recommendations count it.
        social_services.checkout_placed(checkout=checkout)
    return order


def _fire_offer(current: Offer, *, name: str, now) -> None:
    if name == "lapse":
        waiting_for = "the buyer" if current.is_private or current.state == OfferState.COUNTERED else current.shop.name
        _move_offer(
            current,
            name="lapse",
            by=Actor.SYSTEM,
            actor=None,
            message=f"The offer expired: {waiting_for} did not answer in time.",
            now=now,
        )
        _offer_tell_buyer(current, change="expired")
        _offer_tell_shop(current, change="expired")
    elif name == "release":
        catalog_services.listing_stock_return(listing_id=current.listing_id, quantity=1)
        _move_offer(
            current,
            name="release",
            by=Actor.SYSTEM,
            actor=None,
            message="The reservation ended without an order: the copy is back on sale.",
            now=now,
        )
        _offer_tell_buyer(current, change="the reservation ended: the copy is back on sale")
        _offer_tell_shop(current, change="not ordered in time: the copy is back on sale")
    else:  # an offer timer naming a transition this function does not know is a programming error
        raise ValueError(f"offer timer fires unknown transition {name}")


def offer_deadline_fire(*, offer_id: int, now: datetime.datetime | None = None) -> bool:
    """Act on an offer whose deadline has passed (see lifecycle.OFFER_TIMERS): an unanswered offer
    expires, an unordered reservation gives its copy back to stock. False when there was nothing
    to do (answered meanwhile, a second run). Safe to run twice and concurrently."""
    now = now or timezone.now()
    with transaction.atomic():
        current = (
            Offer.objects.select_for_update(of=("self",))
            .select_related("shop", "buyer", "listing")
            .filter(pk=offer_id)
            .first()
        )
        if current is None:
            return False
        for timer in OFFER_TIMERS:
            due = getattr(current, timer.due_field)
            if current.state in timer.states and due is not None and due <= now:
                _fire_offer(current, name=timer.fires, now=now)
                return True
    return False


# --- Thank-you notes --------------------------------------------------------------------------

NOTE_LIMIT = 2000


def _note_writer(order: Order, *, by: str, actor) -> str:
    return order.buyer.public_name if by == Actor.BUYER else f"{actor.public_name} of {order.shop_name}"


def thank_you_note_write(*, order: Order, actor, by: str, text: str, show_on_storefront: bool = False) -> ThankYouNote:
    """A personal note on an order, one each way (writing again replaces it): from the shop,
    signed with the name of the person who wrote it, shown on the buyer's order page and printed
    on the packing slip; or from the buyer once the order is on its way, which the shop may
    show on its storefront only if `show_on_storefront` (the buyer's consent, theirs to withdraw:
    thank_you_note_set_consent). The other side is told of a new note."""
    if by not in {Actor.BUYER, Actor.SHOP}:
        raise PermissionDenied("Only the buyer and the shop's people write thank-you notes.")
    text = _text(text, field="text", limit=NOTE_LIMIT, required="Write your note.")
    with transaction.atomic():
        current = _lock(order)
        _check_person(current, actor=actor, by=by)
        if current.state == State.CANCELLED:
            raise ValidationError({"text": ["This order was cancelled: there is no thank-you note to write."]})
        if by == Actor.BUYER and not buyer_may_thank(current):
            raise ValidationError({"text": [f"You can thank {current.shop_name} once the order is on its way."]})
        direction = ThankYouNote.Direction.FROM_BUYER if by == Actor.BUYER else ThankYouNote.Direction.FROM_SHOP
        consent = by == Actor.BUYER and bool(show_on_storefront)
        now = timezone.now()
        note = ThankYouNote.objects.select_for_update().filter(order=current, direction=direction).first()
        is_new = note is None
        if is_new:
            note = ThankYouNote(order=current, direction=direction, created_at=now)
        note.author, note.signed_as, note.text, note.updated_at = actor, actor.public_name, text, now
        if by == Actor.BUYER:
            note.show_on_storefront, note.consented_at = consent, now if consent else None
        note.save()
        writer = _note_writer(current, by=by, actor=actor)
        OrderEvent.objects.create(
            order=current,
            transition="thank_you_note",
            from_state=current.state,
            to_state=current.state,
            actor_role=by,
            actor=actor,
            message=f"{writer} wrote a thank-you note." if is_new else f"{writer} changed their thank-you note.",
            created_at=now,
        )
        if is_new:
            recipients = [current.buyer] if by == Actor.SHOP else people_of_shop(shop=current.shop)
            url = current.get_absolute_url() if by == Actor.SHOP else current.get_shop_url()
            for person in recipients:
                notify(recipient=person, kind="thanks.received", actor=actor, target=current, context={"url": url})
    return note


def thank_you_note_set_consent(*, order: Order, actor, show_on_storefront: bool) -> ThankYouNote:
    """The buyer agrees that the shop shows their note on its storefront, or withdraws that, with
    immediate effect (the storefront reads only notes shown with consent)."""
    with transaction.atomic():
        current = _lock(order)
        _check_person(current, actor=actor, by=Actor.BUYER)
        note = (
            ThankYouNote.objects.select_for_update()
            .filter(order=current, direction=ThankYouNote.Direction.FROM_BUYER)
            .first()
        )
        if note is None:
            raise ValidationError({"show_on_storefront": ["Write your thank-you note first."]})
        show = bool(show_on_storefront)
        if note.show_on_storefront == show:
            return note
        now = timezone.now()
        note.show_on_storefront, note.consented_at, note.updated_at = show, now if show else None, now
        note.save(update_fields=["show_on_storefront", "consented_at", "updated_at"])
        who = current.buyer.public_name
        OrderEvent.objects.create(
            order=current,
            transition="thank_you_consent",
            from_state=current.state,
            to_state=current.state,
            actor_role=Actor.BUYER,
            actor=actor,
            message=f"{who} agreed that {current.shop_name} shows their thank-you note on its storefront."
            if show
            else f"{who} no longer wants their thank-you note shown on {current.shop_name}'s storefront.",
            created_at=now,
        )
    return note


# --- Problem cases ----------------------------------------------------------------------------

CASE_TEXT_LIMIT = 2000
CASE_REASONS_LIMIT = 4000
# What a refused case step says: "This case is <state>: it cannot be <this> now."
CASE_REFUSED = {
    "propose": "given a new proposal",
    "accept_proposal": "settled by accepting a proposal",
    "decline_proposal": "answered",
    "escalate": "escalated",
    "decide": "decided",
    "appeal": "appealed",
    "decide_appeal": "decided on appeal",
}


def _case_who(order: Order, *, by: str, actor) -> str:
    if by == Actor.BUYER:
        return order.buyer.public_name
    if by == Actor.SHOP:
        return f"{actor.public_name} of {order.shop_name}"
    if by == Actor.MODERATOR:
        return f"{actor.public_name}, Plural's moderator,"
    return "Plural"


def _case_tell(case: Case, order: Order, *, sides, change: str, actor=None) -> None:
    """Tell each of `sides` (Actor.BUYER, SHOP, MODERATOR) of a step in the case; moderators are
    told only of cases they may decide (none who is a party to the order)."""
    context = {"order": order.reference, "change": change, "url": case.get_absolute_url()}
    recipients = []
    if Actor.BUYER in sides:
        recipients.append(order.buyer)
    if Actor.SHOP in sides:
        recipients += people_of_shop(shop=order.shop)
    if Actor.MODERATOR in sides:
        parties = {order.buyer_id, *(person.pk for person in people_of_shop(shop=order.shop))}
        recipients += [
            person
            for person in get_user_model().objects.filter(is_staff=True, is_active=True).order_by("pk")
            if person.pk not in parties and person.pk != case.decided_by_id
        ]
    for person in recipients:
        notify(recipient=person, kind="case.changed", actor=actor, target=case, context=context)


def _other_sides(by: str) -> set[str]:
    return {Actor.BUYER, Actor.SHOP} - {by}


def _case_step(order: Order, *, name: str, by: str, actor, message: str, note: str = "", now) -> OrderEvent:
    """A step of the case on the order's timeline (the order's state does not change)."""
    return OrderEvent.objects.create(
        order=order,
        transition=f"case_{name}",
        from_state=order.state,
        to_state=order.state,
        actor_role=by,
        actor=actor if by in PERSON_ACTORS else None,
        message=message[:300],
        note=note,
        created_at=now,
    )


def _lock_case(case: Case) -> tuple[Order, Case]:
    """Lock the order, then its case (always in that order, as the timers do)."""
    order = _lock(case.order)
    current = Case.objects.select_for_update().get(pk=case.pk)
    current.order = order
    return order, current


def _check_case_person(order: Order, current: Case, *, actor, by: str) -> None:
    _check_person(order, actor=actor, by=by)
    if by == Actor.MODERATOR and current.state not in MODERATED_CASE_STATES:
        raise PermissionDenied("Plural's moderators step in only once a case is escalated.")


def _begin_case(case: Case, *, name: str, actor, by: str) -> tuple[Order, Case]:
    """Lock the order and the case and check that `by` (the person `actor`) may take case
    transition `name` now."""
    transition = CASE_TRANSITIONS[name]
    if by not in transition.actors:
        raise PermissionDenied(f"The {Actor(by).label.lower()} cannot do this.")
    order, current = _lock_case(case)
    _check_case_person(order, current, actor=actor, by=by)
    if name == "appeal" and current.appealed_at is not None:
        raise ValidationError(
            {"reasons": ["This decision has been appealed already: a decision can be appealed once."]}
        )
    if current.state not in transition.sources:
        raise ValidationError(
            {"case": [f"This case is {current.get_state_display().lower()}: it cannot be {CASE_REFUSED[name]} now."]}
        )
    return order, current


def _resolve_answer_period(order: Order, *, now) -> None:
    """The shop has answered (or the case went to the moderators): its answer timer stops."""
    OrderDeadline.objects.filter(
        order=order, timer="case_answer", fired_at__isnull=True, resolved_at__isnull=True
    ).update(resolved_at=now)


def _remedy_amount(order: Order, *, remedy: str, amount, field: str = "amount") -> Decimal | None:
    if remedy != Remedy.PARTIAL_REFUND:
        return None
    value = _amount(amount, field=field, what="amount to refund")
    if value >= order.total:
        raise ValidationError(
            {field: [f"A partial refund is less than the order's total of {order.total} {order.currency}."]}
        )
    return value


def _case_settle(order: Order, case: Case, *, remedy: str, amount, by: str, actor, lead: str, final: str, now) -> None:
    """Carry out `remedy` on the order (its REMEDY_TRANSITIONS transition) and close the case.
    `lead` opens the timeline entry: how it was settled."""
    refund = remedy_refund(order=order, remedy=remedy, amount=amount)
    if remedy in {Remedy.REFUND, Remedy.PARTIAL_REFUND}:
        message = f"{lead}: {remedy_phrase(order=order, remedy=remedy, amount=amount)}. {_refund_note(order, refund)}"
    elif remedy == Remedy.RETURN:
        # The return flow's own record: the request, accepted, with its reason's refund rule.
        ReturnRequest.objects.create(
            order=order,
            reason=case.reason,
            details=case.details,
            refund_amount=refund,
            refund_rule=RETURN_REASONS[case.reason].rule,
            decision=ReturnRequest.Decision.ACCEPTED,
            requested_at=now,
            decided_at=now,
        )
        message = f"{lead}: the buyer sends it back. {_refund_note(order, refund)}"
    elif remedy == Remedy.REPLACEMENT:
        # Shipped again from the paid state, with a carrier and tracking number of its own.
        order.carrier = order.tracking_number = ""
        order.shipped_at = order.delivered_at = None
        message = f"{lead}: {order.shop_name} sends a replacement."
    else:
        message = f"{lead}: no remedy, nothing is owed."
    if remedy in {Remedy.PARTIAL_REFUND, Remedy.NO_REMEDY}:
        order.completed_at = now
    _move(order, name=REMEDY_TRANSITIONS[remedy], by=by, actor=actor, message=message, now=now)
    case.state, case.remedy, case.refund_amount, case.closed_at = final, remedy, refund, now
    case.save()


def case_open(*, order: Order, actor, reason: str, details: str = "") -> Case:
    """The buyer reports a problem with an order that has arrived, or that was shipped and has
    not arrived ORDERS_CASE_LATE_AFTER later (then only as not arrived). The order waits in the
    problem state (its other timers stop); the shop's people are told and have
    ORDERS_CASE_ANSWER_PERIOD to propose a fix (the case_answer timer)."""
    if reason not in CASE_REASONS:
        raise ValidationError({"reason": ["Choose what the problem is."]})
    details = _text(details, field="details", limit=CASE_TEXT_LIMIT)
    label = RETURN_REASONS[reason].label
    with transaction.atomic():
        locked = _lock(order)
        _check_person(locked, actor=actor, by=Actor.BUYER)
        if locked.state == State.PROBLEM:  # the database's one-open-case constraint stands behind this
            raise ValidationError({"reason": ["A problem with this order is reported already: see its case."]})
        current = _begin(order, name="open_case", actor=actor, by=Actor.BUYER)
        now = timezone.now()
        late_from = case_late_from(current)
        if late_from is not None and now < late_from:
            raise ValidationError(
                {
                    "reason": [
                        f"The order was shipped on {current.shipped_at:%-d %B %Y}: if it has not arrived by "
                        f"{late_from:%-d %B %Y}, you can report it then."
                    ]
                }
            )
        if late_from is not None and reason != "not_arrived":
            raise ValidationError(
                {
                    "reason": [
                        "The order has not arrived yet: if it has, mark it delivered first, then report the problem."
                    ]
                }
            )
        _move(
            current,
            name="open_case",
            by=Actor.BUYER,
            actor=actor,
            message=f"{current.buyer.public_name} reported a problem: {label[0].lower()}{label[1:]}.",
            note=details,
            now=now,
        )
        answer_due = OrderDeadline.objects.get(order=current, timer="case_answer", resolved_at__isnull=True).due_at
        case = Case.objects.create(
            order=current, reason=reason, details=details, opened_at=now, answer_due_at=answer_due
        )
        _case_tell(case, current, sides={Actor.SHOP}, change=f"reported: {label.lower()}", actor=actor)
    return case


def case_message(*, case: Case, actor, by: str, text: str) -> Case:
    """Write in the case: the buyer and the shop's people while it is open, Plural's moderators
    once it is escalated. It goes on the order's timeline; the others are told."""
    text = _text(text, field="text", limit=CASE_TEXT_LIMIT, required="Write your message.")
    with transaction.atomic():
        order, current = _lock_case(case)
        _check_case_person(order, current, actor=actor, by=by)
        if not current.is_open:
            raise ValidationError({"text": ["This case is closed: it takes no more messages."]})
        now = timezone.now()
        who = _case_who(order, by=by, actor=actor).rstrip(",")
        _case_step(order, name="message", by=by, actor=actor, message=f"{who} wrote:", note=text, now=now)
        sides = _other_sides(by) if by != Actor.MODERATOR else {Actor.BUYER, Actor.SHOP}
        _case_tell(current, order, sides=sides, change=f"a message from {who}", actor=actor)
    return current


def case_propose(*, case: Case, actor, remedy: str, amount=None, message: str = "") -> CaseProposal:
    """The shop proposes a fix: a full or partial refund (with its amount), a replacement, or a
    return. It replaces a proposal still waiting; the shop's answer timer stops. The buyer is told."""
    if remedy not in PROPOSED_REMEDIES:
        raise ValidationError({"remedy": ["Choose the fix you propose."]})
    message = _text(message, field="message", limit=CASE_TEXT_LIMIT)
    with transaction.atomic():
        order, current = _begin_case(case, name="propose", actor=actor, by=Actor.SHOP)
        amount = _remedy_amount(order, remedy=remedy, amount=amount)
        now = timezone.now()
        current.proposals.filter(status=CaseProposal.Status.PENDING).update(
            status=CaseProposal.Status.SUPERSEDED, answered_at=now
        )
        proposal = CaseProposal.objects.create(
            case=current,
            made_by=actor,
            signed_as=actor.public_name,
            remedy=remedy,
            amount=amount,
            message=message,
            created_at=now,
        )
        current.state = CaseState.PROPOSED
        current.save(update_fields=["state"])
        _resolve_answer_period(order, now=now)
        phrase = remedy_phrase(order=order, remedy=remedy, amount=amount)
        who = _case_who(order, by=Actor.SHOP, actor=actor)
        _case_step(
            order,
            name="propose",
            by=Actor.SHOP,
            actor=actor,
            message=f"{who} proposed {phrase}.",
            note=message,
            now=now,
        )
        _case_tell(current, order, sides={Actor.BUYER}, change=f"{order.shop_name} proposes {phrase}", actor=actor)
    return proposal


def case_accept_proposal(*, case: Case, actor) -> Case:
    """The buyer accepts the shop's proposal: the case is settled and the order takes the fix
    (refunded in full or in part, a replacement shipped, or a return accepted)."""
    with transaction.atomic():
        order, current = _begin_case(case, name="accept_proposal", actor=actor, by=Actor.BUYER)
        now = timezone.now()
        proposal = current.proposals.select_for_update().get(status=CaseProposal.Status.PENDING)
        proposal.status, proposal.answered_at = CaseProposal.Status.ACCEPTED, now
        proposal.save(update_fields=["status", "answered_at"])
        phrase = remedy_phrase(order=order, remedy=proposal.remedy, amount=proposal.amount)
        _case_step(
            order,
            name="accept_proposal",
            by=Actor.BUYER,
            actor=actor,
            message=f"{order.buyer.public_name} accepted {phrase}.",
            now=now,
        )
        _case_settle(
            order,
            current,
            remedy=proposal.remedy,
            amount=proposal.amount,
            by=Actor.BUYER,
            actor=actor,
            lead="Settled by agreement",
            final=CaseState.SETTLED,
            now=now,
        )
        _case_tell(current, order, sides={Actor.SHOP}, change=f"settled: the buyer accepted {phrase}", actor=actor)
    return current


def case_decline_proposal(*, case: Case, actor, message: str = "") -> Case:
    """The buyer turns the proposal down (saying why, if they like). The shop may propose again,
    and from now on either side may escalate."""
    message = _text(message, field="message", limit=CASE_TEXT_LIMIT)
    with transaction.atomic():
        order, current = _begin_case(case, name="decline_proposal", actor=actor, by=Actor.BUYER)
        now = timezone.now()
        proposal = current.proposals.select_for_update().get(status=CaseProposal.Status.PENDING)
        proposal.status, proposal.answered_at = CaseProposal.Status.DECLINED, now
        proposal.save(update_fields=["status", "answered_at"])
        current.state = CaseState.OPEN
        current.disagreed_at = current.disagreed_at or now
        current.save(update_fields=["state", "disagreed_at"])
        phrase = remedy_phrase(order=order, remedy=proposal.remedy, amount=proposal.amount)
        _case_step(
            order,
            name="decline_proposal",
            by=Actor.BUYER,
            actor=actor,
            message=f"{order.buyer.public_name} turned down {phrase}.",
            note=message,
            now=now,
        )
        _case_tell(current, order, sides={Actor.SHOP}, change="the buyer turned your proposal down", actor=actor)
    return current


def case_escalate(*, case: Case, actor, by: str, reason: str = "") -> Case:
    """The buyer or the shop asks Plural's moderators to decide: only once the shop's answer
    period is over, or once a proposal was turned down (they disagree). Any proposal still
    waiting is set aside; from now on the moderators can read the whole case (each time logged)."""
    reason = _text(reason, field="reason", limit=CASE_TEXT_LIMIT)
    with transaction.atomic():
        order, current = _begin_case(case, name="escalate", actor=actor, by=by)
        now = timezone.now()
        if now < current.answer_due_at and current.disagreed_at is None:
            raise ValidationError(
                {
                    "case": [
                        f"Plural's moderators can be asked once {order.shop_name}'s time to propose a fix is over, "
                        f"on {_format_moment(current.answer_due_at)}, or once a proposal has been turned down."
                    ]
                }
            )
        current.proposals.filter(status=CaseProposal.Status.PENDING).update(
            status=CaseProposal.Status.SUPERSEDED, answered_at=now
        )
        current.state, current.escalated_at, current.escalated_by = CaseState.ESCALATED, now, by
        current.save(update_fields=["state", "escalated_at", "escalated_by"])
        _resolve_answer_period(order, now=now)
        who = _case_who(order, by=by, actor=actor)
        _case_step(
            order,
            name="escalate",
            by=by,
            actor=actor,
            message=f"{who} asked Plural's moderators to decide.",
            note=reason,
            now=now,
        )
        _case_tell(current, order, sides=_other_sides(by), change="escalated to Plural's moderators", actor=actor)
        _case_tell(current, order, sides={Actor.MODERATOR}, change="escalated: it waits for a decision", actor=actor)
    return current


def case_decide(*, case: Case, moderator, remedy: str, amount=None, reasons: str) -> Case:
    """A moderator who is no party to the order decides an escalated case, with reasons both
    sides read. The decision takes effect when ORDERS_CASE_APPEAL_PERIOD has passed, unless one
    side appeals first (beat: case_decision_finalize)."""
    reasons = _text(
        reasons,
        field="reasons",
        limit=CASE_REASONS_LIMIT,
        required="Give the reasons for the decision: both sides read them.",
    )
    if remedy not in Remedy.values:
        raise ValidationError({"remedy": ["Choose the decision."]})
    with transaction.atomic():
        order, current = _begin_case(case, name="decide", actor=moderator, by=Actor.MODERATOR)
        amount = _remedy_amount(order, remedy=remedy, amount=amount)
        now = timezone.now()
        current.state = CaseState.DECIDED
        current.decided_by, current.decided_at = moderator, now
        current.decision_remedy, current.decision_amount, current.decision_reasons = remedy, amount, reasons
        current.appeal_due_at = now + settings.ORDERS_CASE_APPEAL_PERIOD
        current.save()
        phrase = remedy_phrase(order=order, remedy=remedy, amount=amount)
        who = _case_who(order, by=Actor.MODERATOR, actor=moderator)
        _case_step(
            order,
            name="decide",
            by=Actor.MODERATOR,
            actor=moderator,
            message=f"{who} decided: {phrase}. It takes effect on {_format_moment(current.appeal_due_at)} unless "
            "one side appeals.",
            note=reasons,
            now=now,
        )
        _case_tell(current, order, sides={Actor.BUYER, Actor.SHOP}, change=f"decided: {phrase}", actor=moderator)
    return current


def case_appeal(*, case: Case, actor, by: str, reasons: str) -> Case:
    """The buyer or the shop appeals the moderator's decision, once, within its appeal period,
    saying why. The decision waits; a different moderator decides the appeal."""
    reasons = _text(reasons, field="reasons", limit=CASE_REASONS_LIMIT, required="Say why you appeal the decision.")
    with transaction.atomic():
        order, current = _begin_case(case, name="appeal", actor=actor, by=by)
        now = timezone.now()
        if now >= current.appeal_due_at:
            raise ValidationError(
                {"reasons": [f"The time to appeal ended on {_format_moment(current.appeal_due_at)}."]}
            )
        current.state, current.appealed_by, current.appealed_at, current.appeal_reasons = (
            CaseState.APPEALED,
            by,
            now,
            reasons,
        )
        current.save(update_fields=["state", "appealed_by", "appealed_at", "appeal_reasons"])
        who = _case_who(order, by=by, actor=actor)
        _case_step(
            order, name="appeal", by=by, actor=actor, message=f"{who} appealed the decision.", note=reasons, now=now
        )
        _case_tell(current, order, sides=_other_sides(by), change="the decision is appealed", actor=actor)
        _case_tell(
            current, order, sides={Actor.MODERATOR}, change="appealed: it waits for another moderator", actor=actor
        )
    return current


def case_decide_appeal(*, case: Case, moderator, remedy: str, amount=None, reasons: str) -> Case:
    """A moderator other than the one who decided first decides the appeal, with reasons:
    upholding the decision or changing it. This is final: the order takes the remedy now."""
    reasons = _text(
        reasons,
        field="reasons",
        limit=CASE_REASONS_LIMIT,
        required="Give the reasons for the decision: both sides read them.",
    )
    if remedy not in Remedy.values:
        raise ValidationError({"remedy": ["Choose the decision."]})
    with transaction.atomic():
        order, current = _begin_case(case, name="decide_appeal", actor=moderator, by=Actor.MODERATOR)
        if current.decided_by_id == moderator.pk:
            raise ValidationError({"case": ["You decided this case: a different moderator decides the appeal."]})
        amount = _remedy_amount(order, remedy=remedy, amount=amount)
        now = timezone.now()
        current.appeal_decided_by, current.appeal_decided_at = moderator, now
        current.appeal_remedy, current.appeal_amount, current.appeal_decision_reasons = remedy, amount, reasons
        phrase = remedy_phrase(order=order, remedy=remedy, amount=amount)
        upheld = (remedy, amount) == (current.decision_remedy, current.decision_amount)
        who = _case_who(order, by=Actor.MODERATOR, actor=moderator)
        verdict = "upheld the decision" if upheld else "changed the decision"
        _case_step(
            order,
            name="decide_appeal",
            by=Actor.MODERATOR,
            actor=moderator,
            message=f"{who} decided the appeal and {verdict}: {phrase}.",
            note=reasons,
            now=now,
        )
        _case_settle(
            order,
            current,
            remedy=remedy,
            amount=amount,
            by=Actor.MODERATOR,
            actor=moderator,
            lead="Decided on appeal",
            final=CaseState.RESOLVED,
            now=now,
        )
        _case_tell(current, order, sides={Actor.BUYER, Actor.SHOP}, change=f"appeal decided: {phrase}", actor=moderator)
    return current


def case_decision_finalize(*, case_id: int, now: datetime.datetime | None = None) -> bool:
    """A decision nobody appealed takes effect once its appeal period is over. False when there
    was nothing to do (appealed meanwhile, a second run). Safe to run twice and concurrently."""
    now = now or timezone.now()
    with transaction.atomic():
        case = Case.objects.select_related("order").filter(pk=case_id).first()
        if case is None:
            return False
        order, current = _lock_case(case)
        if current.state != CaseState.DECIDED or current.appeal_due_at > now:
            return False
        _case_settle(
            order,
            current,
            remedy=current.decision_remedy,
            amount=current.decision_amount,
            by=Actor.SYSTEM,
            actor=None,
            lead="The moderator's decision took effect",
            final=CaseState.RESOLVED,
            now=now,
        )
        phrase = remedy_phrase(order=order, remedy=current.decision_remedy, amount=current.decision_amount)
        _case_tell(current, order, sides={Actor.BUYER, Actor.SHOP}, change=f"the decision took effect: {phrase}")
    return True


def case_access_record(*, case: Case, moderator, via: str) -> CaseAccessLog:
    """Log that a moderator read an escalated case; both sides see the log on the case page."""
    if not is_moderator(moderator) or case.state not in MODERATED_CASE_STATES:
        raise PermissionDenied("Only Plural's moderators read escalated cases.")
    return CaseAccessLog.objects.create(
        case=case, moderator=moderator, moderator_name=moderator.public_name, via=via, accessed_at=timezone.now()
    )


# --- The deals' timers ------------------------------------------------------------------------


def deal_timers_run(*, now: datetime.datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Expire the offers nobody answered in time, give back the copies reserved by accepted offers
    that were not ordered, and let unappealed decisions take effect; each in a transaction of its
    own (what beat's task calls). Returns how many of each it handled."""
    now = now or timezone.now()
    answerable = Offer.objects.filter(state__in=ANSWERABLE_OFFER_STATES, respond_by__lte=now)
    reserved = Offer.objects.filter(state=OfferState.ACCEPTED, reserved_until__lte=now)
    decided = Case.objects.filter(state=CaseState.DECIDED, appeal_due_at__lte=now)
    expired = sum(
        offer_deadline_fire(offer_id=pk, now=now)
        for pk in answerable.order_by("respond_by", "pk").values_list("pk", flat=True)[:batch]
    )
    released = sum(
        offer_deadline_fire(offer_id=pk, now=now)
        for pk in reserved.order_by("reserved_until", "pk").values_list("pk", flat=True)[:batch]
    )
    final = sum(
        case_decision_finalize(case_id=pk, now=now)
        for pk in decided.order_by("appeal_due_at", "pk").values_list("pk", flat=True)[:batch]
    )
    return {"offers_expired": expired, "reservations_released": released, "decisions_final": final}
