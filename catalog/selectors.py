"""Reads for the shopper's side of the catalog: listing, work, category and home pages and the read API.

Every function here issues a fixed number of queries whatever the number of listings,
images or tags it returns (the tests assert it): querysets are select_related /
prefetched, the category tree is read whole in one query, and the tags shown on a list
of listings are fetched in one query and attached by hand (see PERFORMANCE.md).
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django_countries import countries

from marketplace.money import CURRENCY_CHOICES
from sellers.models import Shop, ShopMember
from sellers.selectors import is_shop_member, shipping_cost

from .models import Category, Listing, ListingImage, ShopListingCount, TaggedListing, Work

PUBLIC_STATUSES = (Listing.Status.ACTIVE, Listing.Status.SOLD_OUT)
CURRENCY_NAMES = dict(CURRENCY_CHOICES)
NEW_ARRIVALS_COUNT = 12
POPULAR_TAGS_COUNT = 20
FEATURED_SHOPS_COUNT = 6
OTHER_COPIES_COUNT = 10
CARD_TAGS_COUNT = 4

# The currency a shopper in a country most likely thinks in: used only to choose which
# group of copies the work page shows first. Plural never converts between currencies.
_EURO_COUNTRIES = (
    *("AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR"),
    *("IE", "IT", "LT", "LU", "LV", "MT", "NL", "PT", "SI", "SK"),
)
_COUNTRY_CURRENCY = {
    "GB": "GBP",
    "US": "USD",
    "CA": "CAD",
    "AU": "AUD",
    "CH": "CHF",
    "LI": "CHF",
    "SE": "SEK",
    "DK": "DKK",
    "NO": "NOK",
    "PL": "PLN",
    "JP": "JPY",
    **dict.fromkeys(_EURO_COUNTRIES, "EUR"),
}


# --- Viewer's country --------------------------------------------------------------------


def country_choices() -> list[tuple[str, str]]:
    return [(code, name) for code, name in countries]


def normalise_country(code: str | None) -> str | None:
    """The upper-case ISO code if `code` names a country, else None."""
    if not code:
        return None
    return countries.alpha2(str(code).strip()[:3]) or None


def viewer_country(*, user, requested: str | None = None) -> str | None:
    """The country shipping is computed for: the one asked for (?country=), else the
    signed-in person's own country, else None (unknown: the page asks)."""
    chosen = normalise_country(requested)
    if chosen:
        return chosen
    if user is not None and user.is_authenticated and user.country:
        return user.country.code
    return None


def country_name(code: str | None) -> str:
    return countries.name(code) if code else ""


def currency_for_country(code: str | None) -> str | None:
    return _COUNTRY_CURRENCY.get(code or "")


# --- Tags ----------------------------------------------------------------------------------


def tag_url(slug: str) -> str:
    """The tag page (/tags/<slug>/)."""
    return reverse("tags:tag", kwargs={"slug": slug})


@dataclass(frozen=True)
class CardTag:
    name: str
    slug: str
    people: int

    @property
    def url(self) -> str:
        return tag_url(self.slug)


def card_tags(*, listing_ids: list[int], limit: int = CARD_TAGS_COUNT) -> dict[int, list[CardTag]]:
    """The most applied visible tags of each listing, in ONE query for the whole page.

    A synonym is shown as the tag it was merged into; hidden tags (or synonyms of a
    hidden tag) are left out. Each tag carries how many people applied it."""
    if not listing_ids:
        return {}
    rows = (
        TaggedListing.objects.filter(content_object_id__in=listing_ids, tag__is_hidden=False)
        .filter(Q(tag__merged_into__isnull=True) | Q(tag__merged_into__is_hidden=False))
        .values_list(
            "content_object_id",
            "tagged_by_id",
            "tag__name",
            "tag__slug",
            "tag__merged_into__name",
            "tag__merged_into__slug",
        )
    )
    people: dict[int, dict[tuple[str, str], set[int]]] = defaultdict(lambda: defaultdict(set))
    for listing_id, person_id, name, slug, canonical_name, canonical_slug in rows:
        key = (canonical_name, canonical_slug) if canonical_slug else (name, slug)
        people[listing_id][key].add(person_id)
    result: dict[int, list[CardTag]] = {}
    for listing_id, tags in people.items():
        ranked = sorted(tags.items(), key=lambda item: (-len(item[1]), item[0][0].casefold()))
        result[listing_id] = [CardTag(name=name, slug=slug, people=len(who)) for (name, slug), who in ranked[:limit]]
    return result


def listing_tag_section(*, listing_id: int, viewer=None) -> list:
    """The listing page's tag section: the listing's visible tags, seller tags apart (one query)."""
    from . import tagging  # tagging reads listings through this module

    return tagging.listing_tag_summaries(listing_ids=[listing_id], viewer=viewer)[listing_id]


# --- Listings --------------------------------------------------------------------------------


def _images_prefetch() -> Prefetch:
    return Prefetch("images", queryset=ListingImage.objects.order_by("position", "pk"))


def listing_cards_queryset() -> QuerySet[Listing]:
    """Listings as shown on cards: with shop, condition and images in two queries."""
    return Listing.objects.select_related("shop", "condition").prefetch_related(_images_prefetch())


def public_listings() -> QuerySet[Listing]:
    """What shoppers browse: active listings only (sold-out ones stay reachable by their own page)."""
    return listing_cards_queryset().filter(status=Listing.Status.ACTIVE)


def attach_card_tags(listings: list[Listing]) -> list[Listing]:
    """Set `card_tags` on each listing with one query for the whole list."""
    tags = card_tags(listing_ids=[listing.pk for listing in listings])
    for listing in listings:
        listing.card_tags = tags.get(listing.pk, [])
    return listings


# The listing's category and its ancestors up to this depth come with the listing, so that the
# breadcrumbs of a usual tree cost no query (a deeper one is read whole: listing_breadcrumbs).
BREADCRUMB_JOINED_LEVELS = 4
BREADCRUMB_JOIN = "__".join(["category", *["parent"] * (BREADCRUMB_JOINED_LEVELS - 1)])


def access_listing_for_view(*, user, pk: int) -> Listing:
    """The listing with `pk` if `user` may see it: active and sold-out listings are public;
    drafts and paused listings only to the shop's people. Http404 for everyone else, so a
    hidden listing cannot be told from one that does not exist."""
    listing = (
        # The shop's order terms and rating summary (one-to-one rows) come along: the page shows both.
        Listing.objects.select_related(
            "shop", "shop__order_terms", "shop__rating_summary", "condition", "work", BREADCRUMB_JOIN
        )
        .filter(pk=pk)
        .first()
        if str(pk).isdigit()
        else None
    )
    if listing is None:
        raise Http404("No such listing.")
    if listing.status in PUBLIC_STATUSES or is_shop_member(user=user, shop=listing.shop):
        return listing
    raise Http404("No such listing.")


@dataclass(frozen=True)
class ShippingQuote:
    """What sending a listing to the viewer's country costs, in the shop's currency."""

    country: str | None
    first_item: Decimal | None
    additional_item: Decimal | None
    currency: str

    @property
    def is_known(self) -> bool:
        return self.country is not None

    @property
    def ships(self) -> bool:
        return self.first_item is not None

    @property
    def ships_if_known(self) -> bool | None:
        return self.ships if self.is_known else None

    @property
    def country_name(self) -> str:
        return country_name(self.country)


def shipping_quote(*, shop: Shop, country: str | None) -> ShippingQuote:
    if country is None:
        return ShippingQuote(country=None, first_item=None, additional_item=None, currency=shop.currency)
    first = shipping_cost(shop=shop, destination_country=country, item_count=1)
    additional = None
    if first is not None:
        additional = shipping_cost(shop=shop, destination_country=country, item_count=2) - first
    return ShippingQuote(country=country, first_item=first, additional_item=additional, currency=shop.currency)


@dataclass
class ListingPage:
    listing: Listing
    images: list[ListingImage]
    members: list[ShopMember]
    shipping: ShippingQuote
    breadcrumbs: list["CategoryNode"]
    other_copies: list[Listing]
    has_more_copies: bool
    viewer_is_shop_person: bool
    has_tag_section: bool = False
    tag_summaries: list = field(default_factory=list)

    @property
    def is_public(self) -> bool:
        return self.listing.status in PUBLIC_STATUSES

    @property
    def is_available(self) -> bool:
        return self.listing.status == Listing.Status.ACTIVE and self.listing.quantity > 0

    @property
    def total_with_shipping(self) -> Decimal | None:
        """Price plus shipping of one copy, when the shop ships to the viewer's country and
        charges shipping in the listing's currency (amounts in two currencies are never added)."""
        if self.shipping.first_item is None or self.shipping.currency != self.listing.currency:
            return None
        return self.listing.price + self.shipping.first_item

    @property
    def can_be_bought(self) -> bool:
        return self.is_available and not self.listing.shop.is_on_vacation


def listing_page(*, listing: Listing, user, country: str | None, with_tags: bool = True) -> ListingPage:
    """Everything the listing page shows, in a fixed number of queries (the API leaves the tags out)."""
    shop = listing.shop
    images = list(listing.images.order_by("position", "pk"))
    members = sorted(
        ShopMember.objects.filter(shop_id=shop.pk).select_related("user"),
        key=lambda member: (member.role != ShopMember.Role.OWNER, member.added_at, member.pk),
    )  # the owner first, then staff in the order they joined
    viewer_is_shop_person = bool(
        user is not None and user.is_authenticated and any(member.user_id == user.pk for member in members)
    )
    breadcrumbs = listing_breadcrumbs(listing)
    other_copies: list[Listing] = []
    if listing.work_id:
        # One more than shown, to know whether the work page has more to compare.
        other_copies = list(
            Listing.objects.select_related("shop", "condition")
            .filter(work_id=listing.work_id, status=Listing.Status.ACTIVE, quantity__gt=0)
            .exclude(pk=listing.pk)
            .order_by("currency", "price", "pk")[: OTHER_COPIES_COUNT + 1]
        )
    tag_summaries = listing_tag_section(listing_id=listing.pk, viewer=user) if with_tags else []
    return ListingPage(
        listing=listing,
        images=images,
        members=members,
        shipping=shipping_quote(shop=shop, country=country),
        breadcrumbs=breadcrumbs,
        other_copies=other_copies[:OTHER_COPIES_COUNT],
        has_more_copies=len(other_copies) > OTHER_COPIES_COUNT,
        viewer_is_shop_person=viewer_is_shop_person,
        has_tag_section=with_tags,
        tag_summaries=tag_summaries,
    )


# --- Works: the price comparator ----------------------------------------------------------------


@dataclass
class CopyOffer:
    """One available copy of a work, priced for the viewer's country."""

    listing: Listing
    shipping: Decimal | None
    country: str | None

    @property
    def shop(self) -> Shop:
        return self.listing.shop

    @property
    def currency(self) -> str:
        return self.listing.currency

    @property
    def price(self) -> Decimal:
        return self.listing.price

    @property
    def ships(self) -> bool | None:
        """True / False for a known country, None when the viewer's country is unknown."""
        if self.country is None:
            return None
        return self.shipping is not None

    @property
    def shipping_currency(self) -> str:
        return self.listing.shop.currency

    @property
    def total(self) -> Decimal | None:
        """Price plus shipping; None when the shop does not ship there, the country is unknown,
        or the shop charges shipping in another currency than the listing's (never added up)."""
        if self.shipping is None or self.shipping_currency != self.listing.currency:
            return None
        return self.listing.price + self.shipping

    @property
    def is_on_vacation(self) -> bool:
        return self.listing.shop.is_on_vacation

    def sort_key(self) -> tuple:
        # Copies a shop on vacation cannot sell right now: after those that can be bought.
        # Without a total (country unknown), the price orders the group; a copy whose total
        # cannot be computed goes after those whose total can.
        has_total = self.total is not None or self.country is None
        amount = self.total if self.total is not None else self.listing.price
        return (self.is_on_vacation, not has_total, amount, self.listing.price, self.listing.pk)


@dataclass
class CurrencyGroup:
    currency: str
    offers: list[CopyOffer]
    is_chosen: bool = False

    @property
    def currency_name(self) -> str:
        return CURRENCY_NAMES.get(self.currency, self.currency)


@dataclass
class WorkComparison:
    """Every available copy of a work, grouped by currency and sorted by total within each group.

    Shops price in their own currencies and Plural converts none of them (a converted total
    would be a guess at today's rate, not what the shop charges), so totals are only compared
    within a currency. The group in the viewer's chosen currency comes first; copies that do
    not ship to the viewer's country are listed last, apart, whatever their currency."""

    work: Work
    country: str | None
    currency: str | None
    groups: list[CurrencyGroup]
    not_shipping: list[CopyOffer] = field(default_factory=list)

    @property
    def country_name(self) -> str:
        return country_name(self.country)

    @property
    def offer_count(self) -> int:
        return sum(len(group.offers) for group in self.groups) + len(self.not_shipping)

    @property
    def currencies(self) -> list[str]:
        return [group.currency for group in self.groups]


def available_copies(*, work_id: int) -> QuerySet[Listing]:
    """Copies that can be offered: active, in stock, from any shop."""
    return public_listings().filter(work_id=work_id, quantity__gt=0)


def choose_currency(*, requested: str | None, country: str | None, present: Counter) -> str | None:
    """The currency whose group leads: the one asked for, else the viewer's country's,
    else the one most copies are priced in (ties: alphabetical). Only currencies present count."""
    if not present:
        return None
    requested = (requested or "").strip().upper()
    if requested in present:
        return requested
    local = currency_for_country(country)
    if local in present:
        return local
    return sorted(present.items(), key=lambda item: (-item[1], item[0]))[0][0]


def work_comparison(*, work: Work, country: str | None, currency: str | None = None) -> WorkComparison:
    """The price comparator for `work`: two queries (copies with shop and condition, their images)."""
    offers = []
    for listing in available_copies(work_id=work.pk):
        cost = shipping_cost(shop=listing.shop, destination_country=country, item_count=1) if country else None
        offers.append(CopyOffer(listing=listing, shipping=cost, country=country))
    shipping = [offer for offer in offers if offer.ships is not False]
    not_shipping = [offer for offer in offers if offer.ships is False]
    not_shipping.sort(key=lambda offer: (offer.currency, offer.price, offer.listing.pk))
    chosen = choose_currency(requested=currency, country=country, present=Counter(offer.currency for offer in shipping))
    by_currency: dict[str, list[CopyOffer]] = defaultdict(list)
    for offer in shipping:
        by_currency[offer.currency].append(offer)
    groups = [
        CurrencyGroup(currency=code, offers=sorted(group, key=CopyOffer.sort_key), is_chosen=code == chosen)
        for code, group in by_currency.items()
    ]
    groups.sort(key=lambda group: (not group.is_chosen, group.currency))
    return WorkComparison(work=work, country=country, currency=chosen, groups=groups, not_shipping=not_shipping)


def access_work(*, pk) -> Work:
    """The work with `pk` (with the work it was merged into, if any), or Http404."""
    work = Work.objects.select_related("merged_into").filter(pk=pk).first() if str(pk).isdigit() else None
    if work is None:
        raise Http404("No such work.")
    return work


# --- Categories --------------------------------------------------------------------------------


@dataclass
class CategoryNode:
    id: int
    name: str
    slug: str
    parent_id: int | None
    position: int
    children: list["CategoryNode"] = field(default_factory=list)
    depth: int = 0

    @property
    def url(self) -> str:
        return reverse("catalog:category", kwargs={"pk": self.id, "slug": self.slug})


class CategoryTree:
    """The whole operator-managed category tree, read in one query.

    The tree is small (operator-made), so reading it whole is cheaper than walking
    ancestors one query at a time, and gives breadcrumbs, children and descendants at once."""

    def __init__(self, rows):
        self.nodes: dict[int, CategoryNode] = {
            row["id"]: CategoryNode(
                id=row["id"], name=row["name"], slug=row["slug"], parent_id=row["parent_id"], position=row["position"]
            )
            for row in rows
        }
        self.roots: list[CategoryNode] = []
        for node in self.nodes.values():
            parent = self.nodes.get(node.parent_id) if node.parent_id else None
            (parent.children if parent else self.roots).append(node)
        order = lambda node: (node.position, node.name.casefold(), node.id)  # noqa: E731
        self.roots.sort(key=order)
        for node in self.nodes.values():
            node.children.sort(key=order)
        for node in self.walk():
            node.depth = 0 if node.parent_id is None else self.nodes[node.parent_id].depth + 1

    def get(self, pk) -> CategoryNode | None:
        return self.nodes.get(pk)

    def walk(self, nodes: list[CategoryNode] | None = None):
        """Depth first, in display order."""
        stack = list(reversed(self.roots if nodes is None else nodes))
        seen: set[int] = set()
        while stack:
            node = stack.pop()
            if node.id in seen:  # a cycle made by hand in the admin must not hang the page
                continue
            seen.add(node.id)
            yield node
            stack.extend(reversed(node.children))

    def ancestors(self, pk, *, include_self: bool = False) -> list[CategoryNode]:
        """From the root down to the node's parent (or the node itself)."""
        chain: list[CategoryNode] = []
        node = self.nodes.get(pk)
        if node is not None and not include_self:
            node = self.nodes.get(node.parent_id) if node.parent_id else None
        seen: set[int] = set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            chain.append(node)
            node = self.nodes.get(node.parent_id) if node.parent_id else None
        return list(reversed(chain))

    def descendant_ids(self, pk, *, include_self: bool = True) -> list[int]:
        node = self.nodes.get(pk)
        if node is None:
            return []
        ids = [each.id for each in self.walk(node.children)]
        return [node.id, *ids] if include_self else ids


def listing_breadcrumbs(listing: Listing) -> list[CategoryNode]:
    """From the root down to the listing's category: from the ancestors that came with the
    listing (select_related(BREADCRUMB_JOIN), no query) when they reach the root, else from the
    whole tree (one query)."""
    if not listing.category_id:
        return []
    chain: list[CategoryNode] = []
    category = listing.category if Listing.category.is_cached(listing) else None
    while category is not None and len(chain) < BREADCRUMB_JOINED_LEVELS:
        chain.append(
            CategoryNode(
                id=category.pk,
                name=category.name,
                slug=category.slug,
                parent_id=category.parent_id,
                position=category.position,
            )
        )
        if category.parent_id is None:
            return list(reversed(chain))
        category = category.parent if Category.parent.is_cached(category) else None
    return category_tree().ancestors(listing.category_id, include_self=True)


def category_tree() -> CategoryTree:
    return CategoryTree(Category.objects.values("id", "name", "slug", "parent_id", "position"))


@dataclass
class CategoryPage:
    category: CategoryNode
    tree: CategoryTree

    @property
    def breadcrumbs(self) -> list[CategoryNode]:
        return self.tree.ancestors(self.category.id)

    @property
    def subcategories(self) -> list[CategoryNode]:
        return self.category.children


# The category with its descendants and its ancestors, in one query: the page needs no more of
# the tree, and reading all of it (some 4,000 categories in the bench's tree) and building it
# took more time than the rest of the page. UNION, not UNION ALL: a cycle made by hand in the
# admin repeats rows, which UNION drops, so the walk ends.
_CATEGORY_FAMILY_SQL = """
    WITH RECURSIVE below(id, name, slug, parent_id, position) AS (
        SELECT id, name, slug, parent_id, position FROM catalog_category WHERE id = %s
        UNION
        SELECT child.id, child.name, child.slug, child.parent_id, child.position
        FROM catalog_category AS child JOIN below ON child.parent_id = below.id
    ),
    above(id, name, slug, parent_id, position) AS (
        SELECT parent.id, parent.name, parent.slug, parent.parent_id, parent.position
        FROM catalog_category AS parent JOIN catalog_category AS node ON node.parent_id = parent.id
        WHERE node.id = %s
        UNION
        SELECT parent.id, parent.name, parent.slug, parent.parent_id, parent.position
        FROM catalog_category AS parent JOIN above ON above.parent_id = parent.id
    )
    SELECT id, name, slug, parent_id, position FROM below
    UNION
    SELECT id, name, slug, parent_id, position FROM above
"""


def category_family(*, pk: int) -> CategoryTree:
    """The part of the tree around category `pk`: its ancestors, itself and its descendants."""
    columns = ("id", "name", "slug", "parent_id", "position")
    with connection.cursor() as cursor:
        cursor.execute(_CATEGORY_FAMILY_SQL, [pk, pk])
        return CategoryTree([dict(zip(columns, row, strict=True)) for row in cursor.fetchall()])


def category_page(*, pk) -> CategoryPage:
    # Beyond the largest id a column holds, there is no such category (and nothing to ask the database).
    tree = category_family(pk=int(pk)) if str(pk).isdigit() and int(pk) < 2**63 else None
    node = tree.get(int(pk)) if tree is not None else None
    if node is None:
        raise Http404("No such category.")
    return CategoryPage(category=node, tree=tree)


def listings_in_categories(*, category_ids: list[int]) -> QuerySet[Listing]:
    return public_listings().filter(category_id__in=category_ids).order_by("-published_at", "-pk")


# --- Home page -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PopularTag:
    name: str
    slug: str
    uses: int

    @property
    def url(self) -> str:
        return tag_url(self.slug)


@dataclass
class HomeSections:
    new_arrivals: list[Listing]
    popular_tags: list[PopularTag]
    featured_shops: list[Shop]


def new_arrivals(*, limit: int = NEW_ARRIVALS_COUNT) -> list[Listing]:
    return attach_card_tags(list(public_listings().order_by("-published_at", "-pk")[:limit]))


def popular_tags(*, limit: int = POPULAR_TAGS_COUNT) -> list[PopularTag]:
    """The most applied visible tags, from the use counts catalog.tagging maintains (merging
    moves a synonym's applications to its main tag, so the main tag's count holds them): one
    indexed query, where grouping 3,000,000 applications took 2 s on every home page."""
    from .tagging import tags_by_use

    return [
        PopularTag(name=tag.name, slug=tag.slug, uses=tag.use_count)
        for tag in tags_by_use().filter(use_count__gt=0).only("name", "slug", "use_count")[:limit]
    ]


def featured_shops(*, limit: int = FEATURED_SHOPS_COUNT) -> list[Shop]:
    """The shops with the most active listings; `active_listings` is set on each. One query,
    on the maintained counts (catalog.counters): counting every shop's active listings took
    1 s at 1,000,000 listings, so the ranking was cached and a shop climbed onto the home page
    minutes late; now it is exact at once."""
    ranked = (
        ShopListingCount.objects.filter(status=Listing.Status.ACTIVE, listings__gt=0)
        .select_related("shop")
        .order_by("-listings", "shop__name", "shop_id")[:limit]
    )
    featured = []
    for count in ranked:
        count.shop.active_listings = count.listings
        featured.append(count.shop)
    return featured


def home_sections() -> HomeSections:
    return HomeSections(new_arrivals=new_arrivals(), popular_tags=popular_tags(), featured_shops=featured_shops())
