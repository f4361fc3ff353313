"""Demo shops, listings, orders and deals for `seed_demo`: deterministic and safe to load twice.

Orders are placed and moved along through the services, as people would, so every demo order
has its timeline, deadlines and notifications. Each checkout has a fixed idempotency key, which
is what makes a second run change nothing; the deals (offers, thank-you notes, a problem case)
are looked for before they are made."""

import random
from decimal import Decimal

from django.utils import timezone

from catalog.models import Condition, Listing
from sellers.models import Shop, ShopMember

from . import services
from .lifecycle import Actor, OfferKind, State
from .models import Checkout, Offer, OrderDeadline, ThankYouNote

DEMO_SHOPS = [
    {
        "slug": "harbour-books",
        "name": "Harbour Books",
        "tagline": "Second-hand books by the sea",
        "country": "GB",
        "city": "Bristol",
        "currency": "GBP",
        "ships_to": ["IE", "NL", "DE", "FR"],
    },
    {
        "slug": "groove-crates",
        "name": "Groove Crates",
        "tagline": "Jazz and folk on vinyl",
        "country": "NL",
        "city": "Utrecht",
        "currency": "EUR",
        "ships_to": ["GB", "DE", "BE", "FR", "IE"],
    },
    {
        "slug": "paper-heron",
        "name": "Paper Heron",
        "tagline": "Botanical prints and letterpress",
        "country": "GB",
        "city": "Leeds",
        "currency": "GBP",
        "ships_to": ["IE"],
    },
]
DEMO_LISTINGS = {
    "harbour-books": [("The Lighthouse Keeper's Log", "M. Penrose", "12.50"), ("Tides of the Severn", "", "18.00")],
    "groove-crates": [("Blue Train (1957 pressing)", "John Coltrane", "45.00"), ("Liege & Lief", "", "28.00")],
    "paper-heron": [("Heron at Dusk, linocut", "A. Reed", "40.00"), ("Ferns of Yorkshire", "", "15.00")],
}
# What becomes of each demo order, in the order they are placed.
DEMO_OUTCOMES = [
    State.NEW,
    State.ACCEPTED,
    State.PAID,
    State.SHIPPED,
    State.DELIVERED,
    State.COMPLETED,
    State.CANCELLED,
    State.RETURN_REQUESTED,
]


def _shop(owner, spec: dict) -> Shop:
    shop, _ = Shop.objects.get_or_create(
        slug=spec["slug"],
        defaults={
            **spec,
            "owner": owner,
            "payment_methods": ["bank_transfer", "cash_on_pickup"],
            "domestic_first_item": Decimal("3.00"),
            "domestic_additional_item": Decimal("1.00"),
            "international_first_item": Decimal("8.50"),
            "international_additional_item": Decimal("2.00"),
            "processing_days": 2,
        },
    )
    ShopMember.objects.get_or_create(shop=shop, user=shop.owner, defaults={"role": ShopMember.Role.OWNER})
    return shop


def _listings(shop: Shop) -> list[Listing]:
    condition = Condition.objects.order_by("rank").first()
    listings = []
    for index, (title, creator, price) in enumerate(DEMO_LISTINGS[shop.slug]):
        listing, _ = Listing.objects.get_or_create(
            shop=shop,
            sku=f"DEMO-{index + 1}",
            defaults={
                "title": title,
                "creator": creator,
                "price": Decimal(price),
                "currency": shop.currency,
                "condition": condition,
                "quantity": 6,
                "status": Listing.Status.ACTIVE,
            },
        )
        listings.append(listing)
    return listings


def _address(buyer):
    address = buyer.addresses.order_by("pk").first()
    if address is not None:
        return address
    return services.address_create(
        user=buyer,
        full_name=buyer.public_name,
        line1=f"{10 + buyer.pk % 80} Station Road",
        # Every demo shop ships to Britain: the demo buyers all have a British address.
        city=buyer.city if buyer.country == "GB" and buyer.city else "Bristol",
        country="GB",
    )


def _move_along(order, *, outcome: str, buyer, seller) -> None:
    if outcome == State.CANCELLED:
        services.order_cancel(order=order, actor=buyer, by=Actor.BUYER, reason="Found a copy closer to home.")
        return
    if outcome == State.NEW:
        return
    order = services.order_accept(order=order, actor=seller, message="Thank you! Our bank details follow by e-mail.")
    if outcome == State.ACCEPTED:
        return
    order = services.order_mark_paid(order=order, actor=seller)
    if outcome == State.PAID:
        return
    order = services.order_ship(order=order, actor=seller, carrier="Royal Mail", tracking_number=f"RM{order.pk:08d}GB")
    if outcome == State.SHIPPED:
        return
    order = services.order_mark_delivered(order=order, actor=buyer, by=Actor.BUYER)
    if outcome == State.COMPLETED:
        # The demo cannot wait out the return window: its deadline is brought forward to now.
        now = timezone.now()
        deadline = OrderDeadline.objects.get(order=order, timer="complete", fired_at__isnull=True)
        OrderDeadline.objects.filter(pk=deadline.pk).update(due_at=now)
        services.order_deadline_fire(deadline_id=deadline.pk, now=now)
    elif outcome == State.RETURN_REQUESTED:
        services.order_request_return(order=order, actor=buyer, reason="damaged", details="A corner is crushed.")


def seed_orders(*, rng: random.Random, people: list) -> int:
    """Three demo shops owned by the first demo people, two listings each, one order in each
    state of DEMO_OUTCOMES bought by the others, and a few deals between them (seed_deals).
    Returns how many orders were placed this time."""
    owners, buyers = people[:3], people[3:]
    shops = [_shop(owner, spec) for owner, spec in zip(owners, DEMO_SHOPS, strict=True)]
    listings = [listing for shop in shops for listing in _listings(shop)]
    placed = 0
    for index, outcome in enumerate(DEMO_OUTCOMES):
        buyer = buyers[index % len(buyers)]
        listing = rng.choice(listings)
        key = f"demo-order-{index + 1}"
        if Checkout.objects.filter(buyer=buyer, idempotency_key=key).exists():
            continue
        cart = services.cart_get_or_create(user=buyer, session={})
        cart.items.all().delete()
        services.cart_add_item(cart=cart, listing_id=listing.pk)
        checkout = services.checkout_place(buyer=buyer, idempotency_key=key, address_id=_address(buyer).pk)
        order = checkout.orders.get()
        _move_along(order, outcome=outcome, buyer=buyer, seller=order.shop.owner)
        placed += 1
    return placed + seed_deals(shops={shop.slug: shop for shop in shops}, buyers=buyers)


DEMO_CASE_KEY = "demo-deal-case"


def seed_deals(*, shops: dict, buyers: list) -> int:
    """Harbour Books takes offers and has countered one; Paper Heron, which ships to Ireland only,
    has a private offer open with shipping to the United States; the completed demo order carries
    thank-you notes both ways (the buyer's shown on the storefront, with consent); and a damaged
    parcel from Harbour Books waits for the buyer's answer to a partial refund. Returns how many
    orders were placed this time (the case's)."""
    harbour, heron = shops["harbour-books"], shops["paper-heron"]
    services.shop_offer_terms_update(shop=harbour, actor=harbour.owner, accepts_offers=True, offer_response_days=3)
    first, second = harbour.listings.order_by("sku")[:2]

    collector = buyers[0]
    if not Offer.objects.filter(kind=OfferKind.PRIVATE, shop=heron, buyer=collector).exists():
        services.private_offer_make(
            listing=heron.listings.order_by("sku").first(),
            actor=heron.owner,
            buyer_username=collector.username,
            price="32.00",
            shipping_charge="18.00",
            ship_to="US",
            valid_days=14,
            message="We don't usually send prints to the United States, but this one is for you.",
        )
    haggler = buyers[1]
    if not Offer.objects.filter(kind=OfferKind.BUYER, listing=first, buyer=haggler).exists():
        offer = services.offer_make(listing_id=first.pk, actor=haggler, price="10.00", message="Would you take 10?")
        services.offer_counter(offer=offer, actor=harbour.owner, price="11.50", message="Meet me at 11.50?")

    completed = Checkout.objects.filter(idempotency_key="demo-order-6").first()
    order = completed.orders.get() if completed is not None else None
    if order is not None and not ThankYouNote.objects.filter(order=order).exists():
        services.thank_you_note_write(
            order=order, actor=order.shop.owner, by=Actor.SHOP, text="Thank you for your order: enjoy it!"
        )
        services.thank_you_note_write(
            order=order,
            actor=order.buyer,
            by=Actor.BUYER,
            text="Beautifully packed and exactly as described. Thank you!",
            show_on_storefront=True,
        )

    unlucky = buyers[2]
    if Checkout.objects.filter(buyer=unlucky, idempotency_key=DEMO_CASE_KEY).exists():
        return 0
    cart = services.cart_get_or_create(user=unlucky, session={})
    cart.items.all().delete()
    services.cart_add_item(cart=cart, listing_id=second.pk)
    checkout = services.checkout_place(buyer=unlucky, idempotency_key=DEMO_CASE_KEY, address_id=_address(unlucky).pk)
    order = checkout.orders.get()
    _move_along(order, outcome=State.DELIVERED, buyer=unlucky, seller=harbour.owner)
    case = services.case_open(order=order, actor=unlucky, reason="damaged", details="The cover is torn.")
    services.case_propose(
        case=case,
        actor=harbour.owner,
        remedy="partial_refund",
        amount="4.00",
        message="So sorry: keep it, with 4 back?",
    )
    return 1
