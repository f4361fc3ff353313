"""One small marketplace with an object behind every URL that takes an id: Bea's orders,
offers, conversation, case, reviews, lists and wants, with Olive's shop (Sam works there) and
Oscar's shop beside it. The access matrix and the stored-XSS sweep both walk it."""

from dataclasses import dataclass, field
from decimal import Decimal

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts import services as account_services
from catalog import services as catalog_services
from catalog import tagging, wantlists
from catalog.models import Category, Listing, Want, Work
from messaging import services as messaging_services
from notifications.services import unsubscribe_token
from orders import services as order_services
from orders.lifecycle import Actor
from orders.models import Cart
from reviews import services as review_services
from reviews.models import FlagReason, Outcome
from sellers import services as shop_services
from sellers.imports import inventory_import_start
from sellers.models import ShopMember
from social import services as social_services
from social.models import ActivityKind, ListVisibility
from tests.factories import ListingFactory, ShopFactory, UserFactory
from tests.images import image_bytes, upload

ROLES = ["anonymous", "buyer", "other_buyer", "shop_owner", "shop_staff", "other_shop_owner", "moderator", "staff"]


@dataclass
class World:
    people: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)

    def person(self, role):
        return self.people.get(role)

    def __getitem__(self, name):
        return self.objects[name]


def _place(user, address, *listings, key: str):
    cart, _ = Cart.objects.get_or_create(owner=user)
    for listing in listings:
        order_services.cart_add_item(cart=cart, listing_id=listing.pk)
    checkout = order_services.checkout_place(buyer=user, idempotency_key=key, address_id=address.pk)
    return checkout, list(checkout.orders.all())


def _deliver(order, *, by_person):
    order = order_services.order_accept(order=order, actor=by_person)
    order = order_services.order_mark_paid(order=order, actor=by_person)
    order = order_services.order_ship(order=order, actor=by_person, carrier="Royal Mail", tracking_number="RM1")
    return order_services.order_mark_delivered(order=order, actor=order.buyer, by=Actor.BUYER)


def build_world(*, text=lambda name, default: default) -> World:
    """The marketplace. `text(field, default)` gives what people write into each field (the
    XSS sweep passes its payloads; the access matrix keeps the defaults)."""
    bea = UserFactory(username="bea", display_name="Bea Buyer", email="bea@example.com")
    otto = UserFactory(username="otto", display_name="Otto Other", email="otto@example.com")
    olive = UserFactory(username="olive", display_name="Olive Owner", email="olive@example.com")
    sam = UserFactory(username="sam", display_name="Sam Staff", email="sam@example.com")
    oscar = UserFactory(username="oscar", display_name="Oscar Elsewhere", email="oscar@example.com")
    mo = UserFactory(username="mo", display_name="Mo Moderator", email="mo@example.com")
    for codename in ("moderate_review", "moderate_tag"):
        mo.user_permissions.add(Permission.objects.get(codename=codename))
    stella = UserFactory(username="stella", display_name="Stella Staff", is_staff=True)
    account_services.profile_update(
        user=bea, display_name=text("display_name", "Bea Buyer"), bio=text("bio", "I collect atlases."), city="Bristol"
    )

    shop = ShopFactory(name="Olive's Books", slug="olives-books", owner=olive, payment_methods=["bank_transfer"])
    shop_services.shop_update(
        shop=shop,
        actor=olive,
        name=text("shop_name", "Olive's Books"),
        tagline=text("shop_tagline", "Old maps and atlases"),
        about=text("shop_about", "A small shop by the harbour."),
        returns_policy=text("shop_policies", "Returns within 14 days."),
    )
    sam_member = ShopMember.objects.create(shop=shop, user=sam, role=ShopMember.Role.STAFF)
    other_shop = ShopFactory(
        name="Oscar's Records", slug="oscars-records", owner=oscar, payment_methods=["bank_transfer"]
    )
    order_services.shop_offer_terms_update(shop=shop, actor=olive, accepts_offers=True, offer_response_days=3)

    atlas = ListingFactory(
        shop=shop,
        title=text("listing_title", "An Atlas of Rivers"),
        description=text("listing_description", "Clear maps, well bound."),
        price=Decimal("20.00"),
        quantity=5,
        sku="ATL-1",
    )
    work = Work.objects.create(title="An Atlas of Rivers", identifier_kind="isbn", identifier="9780000000019")
    Listing.objects.filter(pk=atlas.pk).update(work=work)
    category = Category.objects.create(name="Maps", slug="maps")
    globe = ListingFactory(shop=shop, title="A Globe", price=Decimal("40.00"), quantity=5, sku="GLB-1")
    chart = ListingFactory(shop=shop, title="A Sea Chart", price=Decimal("15.00"), quantity=5, sku="CHT-1")
    ListingFactory(shop=other_shop, title="Blue Train LP", price=Decimal("30.00"), quantity=1)
    image = catalog_services.listing_add_image(listing=atlas, actor=olive, upload=upload(image_bytes()))
    tagged = tagging.tag_apply(listing=atlas, user=bea, name=text("tag", "river maps"))

    address = order_services.address_create(
        user=bea, full_name=text("address_name", "Bea Buyer"), line1="1 Harbour Row", city="Bristol", country="GB"
    )
    checkout, [order] = _place(bea, address, atlas, key="bea-1")
    order = _deliver(order, by_person=olive)
    _, [second_order] = _place(bea, address, globe, key="bea-2")
    second_order = _deliver(second_order, by_person=olive)
    item = order.items.get()
    compass = ListingFactory(shop=shop, title="A Brass Compass", price=Decimal("25.00"), quantity=5, sku="CMP-1")
    _, [fresh_order] = _place(bea, address, compass, key="bea-3")
    fresh_order = _deliver(fresh_order, by_person=olive)

    review = review_services.review_create(
        author=bea,
        order_item_id=item.pk,
        stars=4,
        title=text("review_title", "A fine atlas"),
        text=text("review_text", "Clear maps, well bound."),
    )
    review_services.reply_create(subject=review, actor=olive, text=text("review_reply", "Thank you, Bea."))
    rating = review_services.rating_create(
        author=bea,
        order_id=order.pk,
        overall=5,
        item_as_described=5,
        communication=4,
        shipping_speed=4,
        comment=text("rating_comment", "Quick and kind."),
    )
    review_services.buyer_feedback_create(
        order=order, actor=olive, value="positive", comment=text("buyer_feedback", "A pleasure.")
    )
    hidden_review = review_services.review_create(
        author=bea, order_item_id=second_order.items.get().pk, stars=1, title="Dented", text="The globe was dented."
    )
    review_services.flag_create(subject=hidden_review, reporter=olive, reason=FlagReason.OFF_TOPIC)
    decision = review_services.decision_make(
        subject=hidden_review, moderator=stella, outcome=Outcome.HIDE, reason="Not about the item."
    )
    appeal = review_services.appeal_file(
        decision=decision, appellant=bea, statement=text("appeal_statement", "It is about the item.")
    )
    order_services.thank_you_note_write(order=order, actor=olive, by=Actor.SHOP, text=text("note", "Thank you!"))
    order_services.thank_you_note_write(order=order, actor=bea, by=Actor.BUYER, text=text("buyer_note", "Lovely."))
    case = order_services.case_open(
        order=order, actor=bea, reason="damaged", details=text("case_details", "The cover is torn.")
    )

    offer = order_services.offer_make(
        listing_id=chart.pk, actor=bea, price=Decimal("12.00"), message=text("offer_message", "Would you take 12?")
    )
    private_offer = order_services.private_offer_make(
        listing=globe,
        actor=olive,
        buyer_username="bea",
        price=Decimal("35.00"),
        shipping_charge=Decimal("5.00"),
        ship_to="GB",
        message=text("private_offer_message", "For you, 35."),
    )

    started = messaging_services.conversation_start(
        buyer=bea,
        shop=shop,
        listing=atlas,
        body=text("message", "Is this the 1962 printing?"),
        attachments=[upload(image_bytes())],
    )
    conversation = started.conversation
    messaging_services.message_send(conversation=conversation, author=sam, body=text("reply", "It is."))
    report = messaging_services.report_create(conversation=conversation, reporter=bea, reason="spam")
    block = messaging_services.block_create(actor=bea, blocked=oscar)

    favourite_list = social_services.favourite_list_create(
        owner=bea, name=text("favourite_list_name", "Maps to buy"), visibility=ListVisibility.PRIVATE
    )
    favourite = social_services.favourite_add(owner=bea, listing=atlas, favourite_list=favourite_list)
    want = wantlists.want_create(
        user=bea, text=text("want_text", "atlas of the rivers"), visibility=Want.Visibility.PRIVATE
    )
    activity = social_services.activity_record(actor=bea, kind=ActivityKind.BOUGHT, target=atlas, listing=atlas)
    social_services.follow_create(follower=otto, person=bea)

    inventory = inventory_import_start(
        shop=shop,
        actor=olive,
        data_file=SimpleUploadedFile(
            "stock.csv", b"sku,title,price,quantity\nNEW-1,A New Map,10.00,1\n", content_type="text/csv"
        ),
    )
    notification = bea.notifications.order_by("-pk").first()
    export = account_services.export_request(user=bea)
    # Olive's authenticator app: only she may see or remove it (security keys need a browser to register).
    authenticator = TOTP.activate(olive, generate_totp_secret()).instance

    world = World()
    world.people = {
        "anonymous": None,
        "buyer": bea,
        "other_buyer": otto,
        "shop_owner": olive,
        "shop_staff": sam,
        "other_shop_owner": oscar,
        "moderator": mo,
        "staff": stella,
    }
    world.objects = {
        "shop": shop,
        "other_shop": other_shop,
        "listing": atlas,
        "work": work,
        "category": category,
        "image": image,
        "tag": tagged.tag,
        "address": address,
        "checkout": checkout,
        "order": order,
        "item": item,
        # Delivered, with nothing written about it yet.
        "fresh_order": fresh_order,
        "review": review,
        "rating": rating,
        "decision": decision,
        "appeal": appeal,
        "case": case,
        "offer": offer,
        "private_offer": private_offer,
        "conversation": conversation,
        "message": started.message,
        "attachment": started.message.attachments.get(),
        "report": report,
        "block": block,
        "favourite_list": favourite_list,
        "favourite": favourite,
        "want": want,
        "activity": activity,
        "import": inventory,
        "notification": notification,
        "export": export,
        "authenticator": authenticator,
        "api_token": account_services.api_token_create(user=bea, name="Stock script", scope="read").token,
        "shop_member": sam_member,
        "unsubscribe_token": unsubscribe_token(user=bea, kind="order.changed"),
        "month": timezone.now().strftime("%Y-%m"),
    }
    return world
