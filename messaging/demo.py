"""Demo conversations for `seed_demo`: deterministic and safe to load twice."""

from catalog import services as listing_services
from catalog.models import Listing
from orders.models import Offer
from sellers import services as shop_services
from sellers.models import Shop, ShopMember

from . import services
from .models import Conversation

DEMO_SHOP_SLUG = "harbour-lights-books"


def _demo_shop(*, owner, staff) -> tuple[Shop, Listing]:
    """The shop the demo conversations are held with, and the listing one of them is about."""
    shop = Shop.objects.filter(slug=DEMO_SHOP_SLUG).first()
    if shop is None:
        shop = shop_services.shop_create(
            owner=owner,
            name="Harbour Lights Books",
            slug=DEMO_SHOP_SLUG,
            country="GB",
            city="Bristol",
            currency="GBP",
            tagline="Maps, atlases and sea charts",
        )
    if not shop.payment_methods:
        # Offers are ordered at once, so the shop says how it takes payment.
        shop.payment_methods = ["bank_transfer"]
        shop.save(update_fields=["payment_methods"])
    if not ShopMember.objects.filter(shop=shop, user=staff).exists():
        shop_services.shop_member_add(shop=shop, actor=shop.owner, username=staff.username, title="Maps and charts")
    listing = Listing.objects.filter(shop=shop, sku="DEMO-ATLAS").first()
    if listing is None:
        listing = listing_services.listing_create(
            shop=shop,
            actor=shop.owner,
            title="The Times Atlas of the World, 1967",
            creator="John Bartholomew",
            price="48.00",
            condition="good",
            quantity=1,
            status=Listing.Status.ACTIVE,
            sku="DEMO-ATLAS",
            description="A sound copy with its **fold-out** chart of the North Atlantic.",
        )
    return shop, listing


def seed_conversations(*, people: list) -> list[Conversation]:
    """Two conversations with the demo shop: one about a listing, answered by two of the
    shop's people, one of whom makes the buyer a private offer in it, and one general
    question. Loading again adds nothing."""
    owner, staff, asker, other = people[0], people[1], people[2], people[3]
    shop, listing = _demo_shop(owner=owner, staff=staff)
    conversations = []
    about_listing = Conversation.objects.filter(buyer=asker, shop=shop, listing=listing).first()
    if about_listing is None:
        about_listing = services.conversation_start(
            buyer=asker, shop=shop, listing=listing, body="Hello! Is the North Atlantic chart still in the atlas?"
        ).conversation
        services.message_send(
            conversation=about_listing, author=owner, body="It is, folded and complete. Shall I send photos?"
        )
        services.message_send(
            conversation=about_listing,
            author=staff,
            body="I checked it this morning: no tears along the folds. We can post it on Monday.",
        )
    if not Offer.objects.filter(conversation=about_listing).exists():
        services.conversation_offer_make(
            conversation=about_listing,
            actor=staff,
            price="42.00",
            shipping_charge="6.00",
            ship_to="GB",
            valid_days=14,
            message="Since you asked so nicely: 42 instead of 48, posted in a sturdy box.",
        )
    conversations.append(about_listing)
    subject = "Do you buy collections?"
    general = Conversation.objects.filter(buyer=other, shop=shop, subject=subject).first()
    if general is None:
        general = services.conversation_start(
            buyer=other, shop=shop, subject=subject, body="I have about forty Ordnance Survey maps from the 1950s."
        ).conversation
        services.message_send(
            conversation=general, author=owner, body="We do. Could you send a list of the sheet numbers?"
        )
    conversations.append(general)
    return conversations
