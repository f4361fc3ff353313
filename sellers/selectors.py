from decimal import Decimal

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from .models import Shop, ShopMember


def shipping_cost(*, shop: Shop, destination_country: str, item_count: int) -> Decimal | None:
    """What `shop` charges to send `item_count` items to `destination_country`,
    in the shop's currency, or None when the shop does not ship there."""
    if item_count < 1:
        return Decimal("0.00")
    if destination_country == shop.country.code:
        first, additional = shop.domestic_first_item, shop.domestic_additional_item
    elif destination_country in {country.code for country in shop.ships_to}:
        first, additional = shop.international_first_item, shop.international_additional_item
    else:
        return None
    return first + additional * (item_count - 1)


def is_shop_member(*, user, shop: Shop) -> bool:
    """Whether `user` is one of the shop's people (owner or staff): the only people who may change it."""
    if user is None or not user.is_authenticated or shop is None or shop.pk is None:
        return False
    return ShopMember.objects.filter(shop_id=shop.pk, user_id=user.pk).exists()


def is_shop_owner(*, user, shop: Shop) -> bool:
    if user is None or not user.is_authenticated or shop is None or shop.pk is None:
        return False
    return ShopMember.objects.filter(shop_id=shop.pk, user_id=user.pk, role=ShopMember.Role.OWNER).exists()


class ShopRequiresMFA(PermissionDenied):
    """The shop asks its people to use two-factor authentication, and this person has not turned it on."""

    def __init__(self, shop: Shop) -> None:
        super().__init__(
            f"{shop.name} asks its people to use two-factor authentication: turn it on for your account "
            "to open the shop's dashboard."
        )
        self.shop = shop


def has_mfa(user) -> bool:
    """Whether `user` signs in with a second factor (an authenticator app or a security key)."""
    return is_mfa_enabled(user, types=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN])


def access_shop_for_edit(*, user, slug: str) -> Shop:
    """The shop with `slug` if `user` is one of its people; Http404 for everyone else,
    so that outsiders cannot tell a shop they may not edit from one that does not exist.
    ShopRequiresMFA (a PermissionDenied) for its people without two-factor authentication
    when the shop requires it."""
    if user is None or not user.is_authenticated:
        raise Http404("No such shop.")
    shop = Shop.objects.filter(slug=slug, members__user_id=user.pk).select_related("owner").first()
    if shop is None:
        raise Http404("No such shop.")
    if shop.requires_mfa and not has_mfa(user):
        raise ShopRequiresMFA(shop)
    return shop


STOREFRONT_SORTS = {
    "newest": ("-published_at", "-pk"),
    "price": ("price", "pk"),
    "-price": ("-price", "-pk"),
    "title": ("title", "pk"),
}
DASHBOARD_STATUSES = ("draft", "active", "paused", "sold_out")


def shop_for_storefront(*, slug: str) -> Shop:
    """The shop with its people (and their user rows) loaded, and whether it brought reviews
    earned on another Plural site (accounts.EarnedElsewhere); Http404 if there is none."""
    from accounts.models import EarnedElsewhere

    shop = (
        Shop.objects.filter(slug=slug)
        .annotate(has_earned_elsewhere=Exists(EarnedElsewhere.objects.filter(shop=OuterRef("pk"))))
        .select_related("owner")
        .prefetch_related(
            Prefetch("members", queryset=ShopMember.objects.select_related("user").order_by("role", "added_at"))
        )
        .first()
    )
    if shop is None:
        raise Http404("No such shop.")
    return shop


def shops_of(*, user) -> QuerySet[Shop]:
    """The shops `user` is one of the people of."""
    if user is None or not user.is_authenticated:
        return Shop.objects.none()
    return Shop.objects.filter(members__user_id=user.pk).order_by("name")


def _tag_filter(tag_slug: str):
    from catalog.models import TaggedListing

    return Exists(
        TaggedListing.objects.filter(content_object_id=OuterRef("pk"), tag__is_hidden=False).filter(
            Q(tag__slug=tag_slug) | Q(tag__merged_into__slug=tag_slug)
        )
    )


def storefront_listings(*, shop: Shop, query: str = "", tag_slug: str = "", sort: str = "newest"):
    """What the storefront shows: the shop's listings on sale (active or sold out), filtered by
    `query` through the catalog's search (every word, in the title, author/artist, tags or
    description) and by a tag, in the given order (see STOREFRONT_SORTS)."""
    from catalog.models import Listing
    from catalog.search import listings_matching

    listings = Listing.objects.filter(
        shop=shop, status__in=[Listing.Status.ACTIVE, Listing.Status.SOLD_OUT]
    ).select_related("condition", "shop")
    query = (query or "").strip()
    if query:
        listings = listings_matching(listings=listings, text=query)
    if tag_slug:
        listings = listings.filter(_tag_filter(tag_slug))
    return listings.order_by(*STOREFRONT_SORTS.get(sort, STOREFRONT_SORTS["newest"]))


def dashboard_listings(*, shop: Shop, query: str = "", status: str = ""):
    """Every listing of the shop, drafts included, for its people: newest changes first."""
    from catalog.models import Listing

    listings = Listing.objects.filter(shop=shop).select_related("condition")
    query = (query or "").strip()
    if query:
        listings = listings.filter(Q(title__icontains=query) | Q(creator__icontains=query) | Q(sku__icontains=query))
    if status in DASHBOARD_STATUSES:
        listings = listings.filter(status=status)
    return listings.order_by("-updated_at", "-pk")


def attach_cards(listings) -> list:
    """Give each listing of a page `.card_tags` (its visible tags, each once, seller tags
    first) and `.card_image` (its first image or None) with one query each, however many
    listings or tags there are (django-taggit's per-object manager is far slower)."""
    from catalog.models import ListingImage, TaggedListing

    listings = list(listings)
    if not listings:
        return listings
    by_id = {listing.pk: listing for listing in listings}
    for listing in listings:
        listing.card_tags = []
        listing.card_image = None
    seen: set[tuple[int, int]] = set()
    applications = (
        TaggedListing.objects.filter(content_object_id__in=by_id, tag__is_hidden=False)
        .select_related("tag")
        .order_by("content_object_id", "-is_seller_tag", "tag__name")
    )
    for application in applications:
        key = (application.content_object_id, application.tag_id)
        if key in seen:
            continue
        seen.add(key)
        tag = application.tag
        tag.is_seller_tag = application.is_seller_tag
        by_id[application.content_object_id].card_tags.append(tag)
    for image in ListingImage.objects.filter(listing_id__in=by_id).order_by("listing_id", "-position", "-pk"):
        # Ordered so the last one written per listing is its first image.
        by_id[image.listing_id].card_image = image
    return listings


def shop_listing_counts(*, shop: Shop) -> dict[str, int]:
    """How many listings the shop has in each status (the maintained counts: one query
    instead of grouping every listing of a big shop)."""
    from catalog import counters

    return counters.shop_listing_counts(shop_id=shop.pk)


def storefront_listing_count(*, counts: dict[str, int]) -> int:
    """How many listings the unfiltered storefront lists, from the shop's counts by status."""
    return counts["active"] + counts["sold_out"]


def dashboard_listing_count(*, counts: dict[str, int], status: str = "") -> int:
    """How many listings the unsearched dashboard lists (in `status`, or all), from the counts."""
    return counts[status] if status in DASHBOARD_STATUSES else sum(counts.values())


def shop_tags(*, shop: Shop, limit: int = 30) -> list:
    """The visible tags on the shop's listings on sale, most used first (for the storefront's
    tag filter): one indexed read of the maintained per-shop tag counts, where grouping all the
    tag applications of a big shop's listings took most of its storefront's time."""
    from catalog.models import Tag

    return list(
        Tag.objects.filter(is_hidden=False, shop_counts__shop=shop, shop_counts__listings__gt=0)
        .annotate(uses=F("shop_counts__listings"))
        .order_by("-uses", "name")[:limit]
    )


def access_listing_for_edit(*, user, slug: str, listing_id: int):
    """(shop, listing) when `user` is one of the people of the shop with `slug` and the listing
    is that shop's; Http404 for everyone and everything else."""
    from catalog.models import Listing

    shop = access_shop_for_edit(user=user, slug=slug)
    listing = (
        Listing.objects.filter(shop=shop, pk=listing_id)
        .select_related("condition", "category", "work")
        .prefetch_related("images")
        .first()
    )
    if listing is None:
        raise Http404("No such listing.")
    listing.shop = shop
    return shop, listing
