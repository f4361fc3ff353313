"""The data export: everything Plural holds about a person, as a zip another Plural site (or
anyone) can read.

Layout of the zip (format "plural-export", FORMAT_VERSION below; documented in README.md):

    data.json       {"format", "format_version", "origin", "exported_at", "sections": {...}}
                    each section a list of objects (profile and shop: one object or null)
    schema.json     every section with its description and fields
    orders.csv      the person's orders, one line per item
    shop/listings.csv, shop/orders.csv   for a shop owner: the listings, and orders received
    files/...       the avatar, the shop's logo and banner, each listing's images

A new format version is written whenever a field changes meaning or goes; added fields and
sections keep the version (readers ignore what they do not know)."""

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

FORMAT = "plural-export"
FORMAT_VERSION = "1"


@dataclass(frozen=True)
class Section:
    name: str
    description: str
    fields: tuple[str, ...]
    model: str
    person: str  # lookup from the model to the person ("user", "order__buyer", ...)
    many: bool = True


def _m(label):
    return apps.get_model(label)


SECTIONS: list[Section] = [
    Section(
        "profile",
        "Your account and public profile.",
        ("username", "email", "display_name", "bio", "country", "city", "date_joined", "last_login"),
        "accounts.User",
        "pk",
        many=False,
    ),
    Section(
        "email_addresses", "Your e-mail addresses.", ("email", "verified", "primary"), "account.EmailAddress", "user"
    ),
    Section(
        "linked_accounts",
        "Other sign-in providers linked to your account.",
        ("provider", "uid", "date_joined", "last_login"),
        "socialaccount.SocialAccount",
        "user",
    ),
    Section(
        "addresses",
        "Your delivery addresses.",
        (
            "full_name",
            "line1",
            "line2",
            "city",
            "postal_code",
            "region",
            "country",
            "phone",
            "is_default",
            "created_at",
        ),
        "orders.Address",
        "user",
    ),
    Section(
        "cart",
        "What is in your cart.",
        ("listing__title", "listing__shop__slug", "quantity", "price_seen", "currency_seen", "added_at"),
        "orders.CartItem",
        "cart__owner",
    ),
    Section(
        "orders",
        "Your orders, with where they went.",
        (
            "id",
            "shop_name",
            "shop__slug",
            "state",
            "currency",
            "items_total",
            "shipping_total",
            "total",
            "ship_name",
            "ship_line1",
            "ship_line2",
            "ship_city",
            "ship_postal_code",
            "ship_region",
            "ship_country",
            "ship_phone",
            "buyer_note",
            "payment_method",
            "carrier",
            "tracking_number",
            "placed_at",
            "shipped_at",
            "delivered_at",
            "completed_at",
            "cancelled_at",
        ),
        "orders.Order",
        "buyer",
    ),
    Section(
        "order_items",
        "What each of your orders contained.",
        ("order_id", "title", "creator", "condition", "unit_price", "quantity", "line_total"),
        "orders.OrderItem",
        "order__buyer",
    ),
    Section(
        "order_history",
        "Every step of your orders.",
        ("order_id", "transition", "to_state", "actor_role", "message", "note", "created_at"),
        "orders.OrderEvent",
        "order__buyer",
    ),
    Section(
        "offers",
        "Offers you made or received.",
        ("kind", "shop__slug", "listing__title", "state", "currency", "price", "message", "agreed_price", "created_at"),
        "orders.Offer",
        "buyer",
    ),
    Section(
        "thank_you_notes",
        "Thank-you notes you wrote.",
        ("order_id", "direction", "signed_as", "text", "show_on_storefront", "consented_at", "created_at"),
        "orders.ThankYouNote",
        "author",
    ),
    Section(
        "conversations",
        "Your conversations with shops, as the buyer.",
        ("id", "shop__slug", "subject", "context_title", "created_at", "last_message_at"),
        "messaging.Conversation",
        "buyer",
    ),
    Section(
        "messages",
        "Messages in your conversations, and messages you wrote for a shop.",
        ("conversation_id", "author__username", "for_shop", "body", "source", "created_at", "deleted_at"),
        "messaging.Message",
        "conversation__buyer|author",
    ),
    Section("blocks", "People you blocked.", ("blocked__username", "created_at"), "messaging.Block", "by_user"),
    Section(
        "reports",
        "Conversations you reported.",
        ("conversation_id", "reason", "details", "status", "created_at", "resolution"),
        "messaging.Report",
        "reporter",
    ),
    Section(
        "reviews_written",
        "Reviews you wrote.",
        ("shop__slug", "item_title", "stars", "title", "text", "status", "created_at", "edited_at", "reply_text"),
        "reviews.Review",
        "author",
    ),
    Section(
        "ratings_written",
        "Ratings of shops you gave.",
        (
            "shop__slug",
            "overall",
            "item_as_described",
            "communication",
            "shipping_speed",
            "comment",
            "status",
            "created_at",
        ),
        "reviews.SellerRating",
        "author",
    ),
    Section(
        "feedback_received",
        "Shops' feedback on you as a buyer.",
        ("shop__slug", "value", "comment", "revealed_at", "created_at"),
        "reviews.BuyerFeedback",
        "buyer",
    ),
    Section("helpful_votes", "Reviews you found helpful.", ("review_id", "created_at"), "reviews.HelpfulVote", "voter"),
    Section(
        "tags",
        "Tags you put on listings.",
        ("tag__name", "content_object__title", "content_object__shop__slug", "created_at"),
        "catalog.TaggedListing",
        "tagged_by",
    ),
    Section("tag_follows", "Tags you follow.", ("tag__name", "created_at"), "catalog.TagFollow", "user"),
    Section(
        "wants",
        "Your want lists.",
        ("text", "max_price", "currency", "ships_to_me", "visibility", "is_active", "created_at"),
        "catalog.Want",
        "user",
    ),
    Section(
        "favourites",
        "Your favourites, list by list.",
        (
            "favourite_list__name",
            "favourite_list__visibility",
            "listing__title",
            "listing__shop__slug",
            "shop__slug",
            "created_at",
        ),
        "social.Favourite",
        "favourite_list__owner",
    ),
    Section(
        "follows",
        "People and shops you follow.",
        ("person__username", "shop__slug", "audience", "created_at"),
        "social.Follow",
        "follower",
    ),
    Section(
        "activity",
        "What you did that can be shared, and who may see each.",
        ("kind", "audience", "listing__title", "shop__slug", "created_at"),
        "social.Activity",
        "actor",
    ),
    Section(
        "sharing",
        "Your current choice of who sees each kind of activity.",
        ("subject", "audience"),
        "social.AudienceChoice",
        "user",
    ),
    Section(
        "recommendation_data",
        "What you looked at and bought, as counted for recommendations.",
        ("item__listing__title", "item__work__title", "viewed_at", "bought_at"),
        "social.PersonItem",
        "user",
    ),
    Section(
        "consents",
        "Every consent you gave or withdrew, with its time and the wording's version.",
        ("purpose", "is_given", "wording_version", "decided_at"),
        "accounts.ConsentRecord",
        "user",
    ),
    Section(
        "sharing_consents",
        "Every sharing decision you made.",
        ("decision", "wording_version", "audiences", "use_for_recommendations", "decided_at"),
        "social.SharingConsent",
        "user",
    ),
    Section(
        "notification_preferences",
        "How you chose to be told of each kind of news.",
        ("kind", "in_app", "email"),
        "notifications.Preference",
        "user",
    ),
    Section(
        "notifications",
        "Your notifications.",
        ("kind", "title", "url", "created_at", "read_at"),
        "notifications.Notification",
        "recipient",
    ),
    Section(
        "access_log",
        "When operators opened your private data, and why.",
        ("accessed_by_name", "what", "object_label", "reason", "accessed_at"),
        "accounts.DataAccess",
        "subject",
    ),
    Section(
        "exports",
        "Your data exports.",
        ("status", "requested_at", "ready_at", "expires_at"),
        "accounts.DataExport",
        "user",
    ),
    Section(
        "shop_memberships",
        "Shops you work in.",
        ("shop__slug", "shop__name", "role", "title", "added_at"),
        "sellers.ShopMember",
        "user",
    ),
]

# What a shop owner's export adds: the shop and its reputation, which go with its owner.
SHOP_SECTIONS: list[Section] = [
    Section(
        "shop",
        "Your shop: its storefront, policies and shipping.",
        (
            "name",
            "slug",
            "tagline",
            "about",
            "country",
            "city",
            "currency",
            "ships_to",
            "domestic_first_item",
            "domestic_additional_item",
            "international_first_item",
            "international_additional_item",
            "returns_policy",
            "payment_methods",
            "processing_days",
            "created_at",
        ),
        "sellers.Shop",
        "owner",
        many=False,
    ),
    Section(
        "shop_listings",
        "Your shop's listings; `images` names their files in this zip.",
        (
            "id",
            "sku",
            "title",
            "creator",
            "publisher",
            "year",
            "format",
            "identifier",
            "description",
            "condition__slug",
            "category__slug",
            "price",
            "currency",
            "quantity",
            "status",
            "created_at",
            "published_at",
        ),
        "catalog.Listing",
        "shop__owner",
    ),
    Section(
        "shop_reviews_received",
        "Reviews your shop's listings received, with their dates: your reputation.",
        (
            "author__display_name",
            "author__username",
            "item_title",
            "stars",
            "title",
            "text",
            "created_at",
            "reply_text",
        ),
        "reviews.Review",
        "shop__owner",
    ),
    Section(
        "shop_ratings_received",
        "Ratings your shop received, with their dates.",
        (
            "author__display_name",
            "author__username",
            "overall",
            "item_as_described",
            "communication",
            "shipping_speed",
            "comment",
            "created_at",
        ),
        "reviews.SellerRating",
        "shop__owner",
    ),
]
# Only what shows publicly counts as reputation a shop takes along.
PUBLISHED = {"shop_reviews_received": Q(status="published"), "shop_ratings_received": Q(status="published")}


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "code"):  # django-countries
        return value.code
    return value


def _rows(section: Section, user) -> list[dict]:
    model = _m(section.model)
    lookups = section.person.split("|")
    condition = Q()
    for lookup in lookups:
        condition |= Q(**{lookup: user.pk})
    queryset = model._default_manager.filter(condition)
    if section.name in PUBLISHED:
        queryset = queryset.filter(PUBLISHED[section.name])
    rows = [
        {key: _plain(value) for key, value in row.items()} for row in queryset.order_by("pk").values(*section.fields)
    ]
    return rows


def _image_rows(user) -> list[dict]:
    images = _m("catalog.ListingImage").objects.filter(listing__shop__owner=user).order_by("listing_id", "position")
    return [
        {
            "listing_id": image.listing_id,
            "position": image.position,
            "alt_text": image.alt_text,
            "file": f"files/listings/{image.listing_id}/{image.position}-{image.large.name.rsplit('/', 1)[-1]}",
            "_source": image.large,
        }
        for image in images
        if image.large
    ]


def schema() -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sections": {
            section.name: {
                "description": section.description,
                "fields": list(section.fields),
                "kind": "list" if section.many else "object",
            }
            for section in [*SECTIONS, *SHOP_SECTIONS]
        }
        | {
            "shop_listing_images": {
                "description": "The pictures of your listings; `file` is the path in this zip.",
                "fields": ["listing_id", "position", "alt_text", "file"],
                "kind": "list",
            }
        },
    }


def build(user) -> bytes:
    """The whole export of `user` as zip bytes."""
    sections: dict = {}
    for section in SECTIONS:
        rows = _rows(section, user)
        sections[section.name] = (rows[0] if rows else None) if not section.many else rows
    owns_shop = _m("sellers.Shop").objects.filter(owner=user).exists()
    images = _image_rows(user) if owns_shop else []
    for section in SHOP_SECTIONS:
        rows = _rows(section, user) if owns_shop else []
        sections[section.name] = (rows[0] if rows else None) if not section.many else rows
    sections["shop_listing_images"] = [{k: v for k, v in row.items() if k != "_source"} for row in images]
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "origin": settings.PRIVACY_SITE_ORIGIN,
        "exported_at": timezone.now().isoformat(),
        "sections": sections,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(document, indent=2, ensure_ascii=False))
        archive.writestr("schema.json", json.dumps(schema(), indent=2))
        archive.writestr("orders.csv", _orders_csv(user))
        if owns_shop:
            archive.writestr("shop/listings.csv", _csv(sections["shop_listings"], SHOP_SECTIONS[1].fields))
            archive.writestr("shop/orders.csv", _shop_orders_csv(user))
            for row in images:
                with row["_source"].open("rb") as source:
                    archive.writestr(row["file"], source.read())
            for shop in _m("sellers.Shop").objects.filter(owner=user):
                for kind, file in (("logo", shop.logo_large), ("banner", shop.banner)):
                    if file:
                        with file.open("rb") as source:
                            archive.writestr(f"files/shop/{kind}-{file.name.rsplit('/', 1)[-1]}", source.read())
        if user.avatar_large:
            with user.avatar_large.open("rb") as source:
                archive.writestr(f"files/avatar-{user.avatar_large.name.rsplit('/', 1)[-1]}", source.read())
    return buffer.getvalue()


def _csv(rows: list[dict], fields) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


ORDER_CSV_FIELDS = (
    "order",
    "placed_at",
    "shop",
    "state",
    "currency",
    "item",
    "quantity",
    "unit_price",
    "line_total",
    "order_total",
)


def _order_lines(orders) -> list[dict]:
    items = _m("orders.OrderItem").objects.filter(order__in=orders).select_related("order").order_by("order_id", "pk")
    return [
        {
            "order": item.order_id,
            "placed_at": item.order.placed_at.isoformat(),
            "shop": item.order.shop_name,
            "state": item.order.state,
            "currency": item.order.currency,
            "item": item.title,
            "quantity": item.quantity,
            "unit_price": item.unit_price,
            "line_total": item.line_total,
            "order_total": item.order.total,
            "buyer": item.order.buyer.public_name,
        }
        for item in items.select_related("order__buyer")
    ]


def _orders_csv(user) -> str:
    return _csv(_order_lines(_m("orders.Order").objects.filter(buyer=user)), ORDER_CSV_FIELDS)


def _shop_orders_csv(user) -> str:
    # The buyers' public names only: their addresses are theirs, not the shop's to carry away.
    orders = _m("orders.Order").objects.filter(shop__owner=user)
    return _csv(_order_lines(orders), (*ORDER_CSV_FIELDS, "buyer"))
