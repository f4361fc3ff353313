"""Every write of the orders side: carts, addresses, checkout, each transition of an order's
lifecycle, the timers, and the shops' order terms.

Each function validates before it writes, raises ValidationError (field -> messages) and
changes nothing when it refuses, and writes in one transaction, notifications included
(notifications.services.notify writes its rows in the caller's transaction). The transitions
check every call against orders.lifecycle: which states a transition leaves from, and who may
take it (PermissionDenied for the wrong person; pages and API resolve orders through
selectors.access_order_for_buyer / access_order_for_shop first, so outsiders get a 404).
"""

import datetime
import logging
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_countries import countries

from catalog import services as catalog_services
from catalog.models import Listing
from notifications.services import notify
from sellers.models import Shop
from sellers.selectors import is_shop_member

from . import payments
from .lifecycle import (
    RETURN_REASONS,
    TIMERS_BY_NAME,
    TRANSITIONS,
    Actor,
    State,
    timers_for,
)
from .models import (
    MAX_RETURN_WINDOW_DAYS,
    Address,
    Cart,
    CartItem,
    Checkout,
    Order,
    OrderDeadline,
    OrderEvent,
    OrderItem,
    ReturnRequest,
    ShopTerms,
)
from .selectors import (
    SESSION_CART_COUNT_KEY,
    SESSION_CART_KEY,
    acceptance_is_late,
    cart_item_count,
    cart_view,
    commission_rate_for,
    money,
    people_of_shop,
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
}


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


def _place_order(*, checkout: Checkout, group, address: Address, choice: str | None, note: str, now) -> Order:
    shop = group.shop
    option = next((o for o in group.payment_options if o.method == choice), group.payment_options[0])
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
    return Order.objects.select_for_update().select_related("shop", "buyer").get(pk=order.pk)


def _check_person(order: Order, *, actor, by: str) -> None:
    if by == Actor.BUYER:
        if actor is None or not actor.is_authenticated or actor.pk != order.buyer_id:
            raise PermissionDenied("Only the buyer can do this.")
    elif by == Actor.SHOP:
        if not is_shop_member(user=actor, shop=order.shop):
            raise PermissionDenied("Only the shop's people can do this.")
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
        actor=actor if by in {Actor.BUYER, Actor.SHOP} else None,
        message=message[:300],
        note=note,
        created_at=now,
    )
    _start_timers(order, now=now)
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
