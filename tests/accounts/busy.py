"""A busy buyer and a busy shop, made through the apps' own services as people make them."""

from decimal import Decimal

from catalog import wantlists
from catalog.models import ListingImage
from catalog.tagging import tag_apply
from messaging import services as messaging_services
from notifications.services import preferences_update
from orders import services as order_services
from orders.lifecycle import Actor
from orders.models import Cart
from reviews import services as review_services
from social import services as social_services
from social.models import SharingSubject
from tests.factories import ListingFactory
from tests.images import image_bytes, upload

# Strings that exist only in the busy buyer's personal data: none may survive their deletion.
BUYER_SECRETS = ("Beatrix Quillfeather", "bea.quill@example.com", "7 Quillfeather Lane", "QF1 9ZZ", "+44 7700 900777")


def busy_buyer(buyer, shop, *, key: str = "busy"):
    """`buyer` (renamed so that their name is unique in the database) buys from `shop`, reviews,
    rates, thanks, talks to the shop, tags, favourites, follows, wants and shares."""
    buyer.display_name, buyer.email, buyer.bio = BUYER_SECRETS[0], BUYER_SECRETS[1], "Collects river atlases."
    buyer.save()
    buyer.emailaddress_set.update(email=BUYER_SECRETS[1])
    address = order_services.address_create(
        user=buyer,
        full_name=BUYER_SECRETS[0],
        line1=BUYER_SECRETS[2],
        city="Bristol",
        postal_code=BUYER_SECRETS[3],
        country="GB",
        phone=BUYER_SECRETS[4],
    )
    shop.payment_methods = ["bank_transfer"]
    shop.save(update_fields=["payment_methods"])
    atlas = ListingFactory(shop=shop, title="An Atlas of Rivers", price=Decimal("20.00"), quantity=20, sku="ATL-1")
    social_services.sharing_choose(
        user=buyer,
        audiences=dict.fromkeys(SharingSubject.values, 3),
        use_for_recommendations=True,
    )
    cart, _ = Cart.objects.get_or_create(owner=buyer)
    order_services.cart_add_item(cart=cart, listing_id=atlas.pk)
    checkout = order_services.checkout_place(
        buyer=buyer, idempotency_key=key, address_id=address.pk, notes={shop.pk: f"Ring {BUYER_SECRETS[4]}"}
    )
    order = checkout.orders.get()
    owner = shop.owner
    order = order_services.order_accept(order=order, actor=owner)
    order = order_services.order_mark_paid(order=order, actor=owner)
    order = order_services.order_ship(order=order, actor=owner, carrier="Royal Mail", tracking_number="RM1")
    order = order_services.order_mark_delivered(order=order, actor=buyer, by=Actor.BUYER)
    order_services.thank_you_note_write(
        order=order, actor=buyer, by=Actor.BUYER, text="Thank you, lovely atlas!", show_on_storefront=True
    )
    review_services.review_create(
        author=buyer, order_item_id=order.items.get().pk, stars=5, title="Superb", text="Clear maps."
    )
    review_services.rating_create(
        author=buyer,
        order_id=order.pk,
        overall=5,
        item_as_described=5,
        communication=5,
        shipping_speed=4,
        comment="Quick and kind.",
    )
    started = messaging_services.conversation_start(buyer=buyer, shop=shop, body="Do you have the second volume?")
    messaging_services.message_send(conversation=started.conversation, author=owner, body="Not yet, soon!")
    tag_apply(listing=atlas, user=buyer, name="rivers")
    social_services.favourite_add(owner=buyer, shop=shop)
    social_services.favourite_add(owner=buyer, listing=atlas)
    social_services.follow_create(follower=buyer, shop=shop)
    wantlists.want_create(user=buyer, text="Atlas of Lakes", visibility="public")
    preferences_update(user=buyer, choices={"shop.listed": {"in_app": True, "email": "off"}})
    return order


def busy_shop(shop):
    """`shop` gets listings with pictures; returns them."""
    owner = shop.owner
    listings = [
        ListingFactory(shop=shop, title="Maps of the Moon", price=Decimal("35.00"), quantity=2, sku="MOON-1"),
        ListingFactory(shop=shop, title="Tide Tables 1911", price=Decimal("12.50"), quantity=1, sku="TIDE-1"),
    ]
    from catalog import services as catalog_services

    catalog_services.listing_add_image(listing=listings[0], actor=owner, upload=upload(image_bytes(), "moon.png"))
    assert ListingImage.objects.filter(listing=listings[0]).count() == 1
    return listings
