# The raw SQL of this module is put together from constants (table names, weights) and
# placeholder lists only; every value goes to the database as a parameter.
# ruff: noqa: S608
"""Search over the catalog: one interface, a backend per database.

The rest of Plural calls only the functions of this module:

- `search_listings(params=..., viewer_country=...)` answers the search page and the search
  API: matches ranked or sorted, facets with counts, a cursor for the next page, and close
  words when nothing matched;
- `listings_matching(listings=..., text=...)` narrows any listing queryset to the ones that
  match some text (the storefront's own search box);
- `complete(text=...)` completes the last word being typed (autocomplete);
- `reindex_listings` / `reindex_listings_on_commit` keep the index in step with the listings,
  called explicitly by the services that change them, `reindex_deferred` gathers the listings of
  many small transactions into one reindex (bulk imports), and `rebuild_index` rebuilds it whole.

Behind them a `SearchBackend` (catalog.search_backends) does the engine's part: storing documents,
matching, ranking, finding close words. PostgreSQL uses a weighted tsvector with a GIN index
and pg_trgm; SQLite uses FTS5. Filters, facets and sorting are plain ORM over the listings
table narrowed by the backend, so a dedicated engine could be plugged in by implementing the
same few methods (it would answer `filter` and `rank` with the ids it found).

The listings table stays the truth: every search is a query on listings (status active, of
a shop that exists) narrowed by the index, so a document the index still holds for a paused
or deleted listing is never shown.

Bounded work, whatever the catalog's size (see PERFORMANCE.md): relevance ranks the
RELEVANCE_DEPTH matches listed last (read in index order, never every match), and that same
candidate set gives the count and the facets' sample; counts stop at their cap and say "more
than" beyond it; facets count within a sample of FACET_SAMPLE matches (lower bounds, which
say so); the other sorts page with a keyset cursor, so page 500 costs what page 1 costs.
"""

import re
import time
import unicodedata
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import CharField, Exists, ExpressionWrapper, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_countries import countries

from marketplace.money import MAX_PRICE

from .models import Condition, Listing, ListingImage, SearchDocument, SearchTerm, Tag, TaggedListing
from .search_backends import ListingDocument, SearchBackend, get_backend
from .selectors import CategoryTree, attach_card_tags, category_tree

# A listing is in the index while someone can find it: on sale, or sold out (storefronts
# still show those). The site-wide search keeps to active listings.
INDEXED_STATUSES = (Listing.Status.ACTIVE, Listing.Status.SOLD_OUT)

MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 12
MAX_TAG_FILTERS = 5
MAX_PAGE_SIZE = 50
PAGE_SIZE = 24
# Every one of these bounds a query's work on a word found in most of the catalog: a count
# or a sample walks about cap / share-of-listings-matching rows (see PERFORMANCE.md).
COUNT_LIMIT = 1_000
FACET_SAMPLE = 500
RELEVANCE_DEPTH = 1_000
TAG_FACET_SIZE = 12
COUNTRY_FACET_SIZE = 12
SUGGESTION_COUNT = 5
INDEX_BATCH_SIZE = 2_000

# Lexicon words: what a shopper might mistype or start typing.
MIN_TERM_LENGTH = 3
MAX_TERM_LENGTH = 40

# --- Text: one normalisation for documents and queries ---------------------------------------------

_WORD = re.compile(r"[^\W_]+")


def normalise_text(text: str) -> str:
    """Lower case without accents ("Café Ångström" -> "cafe angstrom"), the same for what is
    indexed and what is searched, so both backends see the same words."""
    text = text or ""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def words(text: str) -> list[str]:
    """The words of `text`, normalised: letters and digits only, so nothing a person types can
    reach a query language (quotes, operators, column filters) of either backend."""
    return _WORD.findall(normalise_text(text))


def lexicon_terms(*texts: str) -> set[str]:
    return {
        word
        for text in texts
        for word in words(text)
        if MIN_TERM_LENGTH <= len(word) <= MAX_TERM_LENGTH and not word.isdigit()
    }


# --- Documents ----------------------------------------------------------------------------------------


def _visible_tag_names(listing_ids: list[int]) -> dict[int, list[str]]:
    """Each listing's visible tag names, a synonym read as the tag it was merged into."""
    names: dict[int, list[str]] = defaultdict(list)
    rows = (
        TaggedListing.objects.filter(content_object_id__in=listing_ids, tag__is_hidden=False)
        .filter(Q(tag__merged_into__isnull=True) | Q(tag__merged_into__is_hidden=False))
        .values_list("content_object_id", "tag__name", "tag__merged_into__name")
        .order_by("content_object_id", "tag__name")
    )
    for listing_id, name, canonical in rows:
        shown = canonical or name
        if shown not in names[listing_id]:
            names[listing_id].append(shown)
    return names


def _documents(listings: QuerySet) -> list[ListingDocument]:
    """Documents for the indexed listings among `listings`, in two queries."""
    rows = list(
        listings.filter(status__in=INDEXED_STATUSES)
        .order_by("pk")
        .values_list("pk", "title", "creator", "publisher", "identifier", "description")
    )
    tags = _visible_tag_names([row[0] for row in rows])
    documents = []
    for pk, title, creator, publisher, identifier, description in rows:
        tag_text = " ".join(tags.get(pk, []))
        documents.append(
            ListingDocument(
                listing_id=pk,
                title=normalise_text(title),
                creator=normalise_text(creator),
                tags=normalise_text(tag_text),
                body=normalise_text(f"{description}\n{publisher}\n{identifier}"),
                terms=frozenset(lexicon_terms(title, creator, tag_text)),
            )
        )
    return documents


# --- Keeping the index in step ---------------------------------------------------------------------------

_PENDING = "_catalog_search_pending_listing_ids"


def _apply_lexicon_delta(delta: Counter) -> None:
    changes = sorted((term, count) for term, count in delta.items() if count)
    if not changes:
        return
    with connection.cursor() as cursor:
        for start in range(0, len(changes), INDEX_BATCH_SIZE):
            batch = changes[start : start + INDEX_BATCH_SIZE]
            # The same upsert on PostgreSQL and SQLite: add the change to the stored count.
            cursor.execute(
                "INSERT INTO catalog_searchterm (term, listing_count) VALUES "
                + ", ".join(["(%s, %s)"] * len(batch))
                + " ON CONFLICT (term) DO UPDATE SET listing_count = "
                "catalog_searchterm.listing_count + excluded.listing_count",
                [value for pair in batch for value in pair],
            )
    gone = [term for term, count in changes if count < 0]
    if gone:
        SearchTerm.objects.filter(term__in=gone, listing_count__lte=0).delete()


def _reindex_batch(backend: SearchBackend, listing_ids: list[int]) -> None:
    documents = _documents(Listing.objects.filter(pk__in=listing_ids))
    previous = dict(
        SearchDocument.objects.select_for_update()
        .filter(listing_id__in=listing_ids)
        .order_by("listing_id")
        .values_list("listing_id", "terms")
    )
    delta: Counter = Counter()
    for terms in previous.values():
        delta.subtract(terms.split())
    for document in documents:
        delta.update(document.terms)
    kept = {document.listing_id for document in documents}
    gone = [listing_id for listing_id in listing_ids if listing_id not in kept]
    if gone:
        backend.delete(gone)
        SearchDocument.objects.filter(listing_id__in=gone).delete()
    now = timezone.now()
    SearchDocument.objects.bulk_create(
        [
            SearchDocument(listing_id=document.listing_id, terms=" ".join(sorted(document.terms)), indexed_at=now)
            for document in documents
        ],
        update_conflicts=True,
        unique_fields=["listing"],
        update_fields=["terms", "indexed_at"],
    )
    backend.write(documents)
    _apply_lexicon_delta(delta)


def reindex_listings(*, listing_ids: Iterable[int]) -> None:
    """Bring the index in line with these listings as they are now: (re)write the document of
    each one that can be found (active or sold out), remove the others' (drafts, paused,
    deleted), and move the lexicon counts by the difference. Idempotent; call it after the
    change has committed (reindex_listings_on_commit does that)."""
    ids = sorted({int(listing_id) for listing_id in listing_ids})
    backend = get_backend()
    for start in range(0, len(ids), INDEX_BATCH_SIZE):
        with transaction.atomic():
            _reindex_batch(backend, ids[start : start + INDEX_BATCH_SIZE])


def reindex_listings_on_commit(*, listing_ids: Iterable[int]) -> None:
    """Reindex these listings once the current transaction commits (at once outside one).

    Every listing named during one transaction is reindexed together, once, by the first of
    the callbacks to run: an import or a bulk action that touches a listing many times costs
    one reindex. A failure is logged and leaves the write committed; rebuild_search_index
    repairs the index."""
    ids = {int(listing_id) for listing_id in listing_ids}
    if not ids:
        return
    deferred = _deferred_listing_ids.get()
    if deferred is not None:
        deferred.update(ids)
        return
    current = transaction.get_connection()
    if not current.in_atomic_block:
        reindex_listings(listing_ids=ids)
        return
    pending: set[int] = current.atomic_blocks[0].__dict__.setdefault(_PENDING, set())
    pending.update(ids)

    def reindex_pending() -> None:
        named = set(pending)
        pending.clear()
        if named:
            reindex_listings(listing_ids=named)

    transaction.on_commit(reindex_pending, robust=True)


# The listings named inside reindex_deferred(), while it runs (per thread and per task).
_deferred_listing_ids: ContextVar[set[int] | None] = ContextVar("catalog_search_deferred_listing_ids", default=None)


@contextmanager
def reindex_deferred() -> Iterator[None]:
    """Reindex once, when the block ends, every listing named for reindexing inside it, however
    many transactions the block commits. A bulk import commits each row on its own, and
    reindexing at each of those commits would cost about as much as the rows themselves.

    The listings are reindexed as the block ends (at the commit of the transaction around it,
    if there is one). When the block raises, nothing is reindexed: the caller reindexes what it
    had committed when it runs again (inventory_import_run does so when it resumes)."""
    if _deferred_listing_ids.get() is not None:  # an enclosing block reindexes them
        yield
        return
    named: set[int] = set()
    token = _deferred_listing_ids.set(named)
    try:
        yield
    finally:
        _deferred_listing_ids.reset(token)
    reindex_listings_on_commit(listing_ids=named)


def rebuild_index(*, batch_size: int = INDEX_BATCH_SIZE, progress=None) -> int:
    """Throw the index away and build it again from the listings, in batches, in one
    transaction (searches keep the old index until it commits). Returns how many listings
    were indexed; `progress(done)` is called after each batch."""
    backend = get_backend()
    lexicon: Counter = Counter()
    indexed = 0
    with transaction.atomic():
        backend.clear()
        SearchDocument.objects.all().delete()
        SearchTerm.objects.all().delete()
        last_id = 0
        while True:
            batch_ids = list(
                Listing.objects.filter(pk__gt=last_id, status__in=INDEXED_STATUSES)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not batch_ids:
                break
            documents = _documents(Listing.objects.filter(pk__in=batch_ids))
            now = timezone.now()
            SearchDocument.objects.bulk_create(
                [
                    SearchDocument(
                        listing_id=document.listing_id, terms=" ".join(sorted(document.terms)), indexed_at=now
                    )
                    for document in documents
                ]
            )
            backend.write(documents, replace=False)
            for document in documents:
                lexicon.update(document.terms)
            indexed += len(documents)
            last_id = batch_ids[-1]
            if progress is not None:
                progress(indexed)
        SearchTerm.objects.bulk_create(
            [SearchTerm(term=term, listing_count=count) for term, count in sorted(lexicon.items())],
            batch_size=INDEX_BATCH_SIZE,
        )
    backend.optimise()
    return indexed


# --- The category tree, kept between searches ---------------------------------------------------------

_TREE_VERSION_KEY = "catalog:search:category-tree-version"
# However categories were changed (a bulk load, a shell), a process reads the tree again this often.
TREE_MAX_AGE = 300
_tree_memo: tuple[str, float, CategoryTree] | None = None


def search_category_tree() -> CategoryTree:
    """The category tree for filters and facets, read once per process and reused while the
    version in the cache stays the same: reading and building it on every search cost 30-50 ms
    at 4,000 categories. forget_category_tree() changes the version; the version is read before
    the tree, so a change committed while a process reads it is never kept."""
    global _tree_memo
    version = cache.get(_TREE_VERSION_KEY)
    if version is None:
        cache.add(_TREE_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(_TREE_VERSION_KEY)
    memo = _tree_memo
    if memo is not None and version is not None and memo[0] == version and time.monotonic() - memo[1] < TREE_MAX_AGE:
        return memo[2]
    tree = category_tree()
    if version is not None:
        _tree_memo = (version, time.monotonic(), tree)
    return tree


def forget_category_tree() -> None:
    """After categories change: every process reads the tree again once the change has committed."""
    transaction.on_commit(lambda: cache.delete(_TREE_VERSION_KEY), robust=True)


# --- What a search asks for --------------------------------------------------------------------------------


SORT_CHOICES = [
    ("relevance", "Best match"),
    ("newest", "Newest first"),
    ("price", "Lowest price first"),
    ("-price", "Highest price first"),
]
SORTS = dict(SORT_CHOICES)

# (lowest, below) amounts of each price range; prices of every currency are compared as plain
# amounts (Plural converts none), as the listings API does.
PRICE_RANGES = [
    (None, Decimal(10)),
    (Decimal(10), Decimal(25)),
    (Decimal(25), Decimal(50)),
    (Decimal(50), Decimal(100)),
    (Decimal(100), Decimal(250)),
    (Decimal(250), None),
]

_CURSOR_SALT = "catalog.search.cursor"
_SLUG = re.compile(r"^[-\w]{1,100}$")


@dataclass(frozen=True)
class SearchParams:
    """A validated search: the text, the chosen facets, the order and where the page starts."""

    text: str = ""
    category_id: int | None = None
    tags: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    countries: tuple[str, ...] = ()
    ships_to: str | None = None
    sort: str = ""
    cursor: dict | None = None
    page_size: int = PAGE_SIZE

    @property
    def words(self) -> list[str]:
        return words(self.text)[:MAX_QUERY_WORDS]

    @property
    def effective_sort(self) -> str:
        """Without words there is no relevance: newest first unless another order was asked."""
        chosen = self.sort or "relevance"
        return "newest" if chosen == "relevance" and not self.words else chosen

    @property
    def has_filters(self) -> bool:
        return bool(
            self.category_id
            or self.tags
            or self.conditions
            or self.price_min is not None
            or self.price_max is not None
            or self.countries
            or self.ships_to
        )


def _decimal(raw: str, name: str, errors: dict) -> Decimal | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
        if not value.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors.setdefault(name, []).append("Enter an amount as a number, for example 12.50.")
        return None
    if value < 0 or value > MAX_PRICE:
        errors.setdefault(name, []).append(f"Enter an amount between 0 and {MAX_PRICE}.")
        return None
    return value


def _values(data: Mapping, name: str) -> list[str]:
    raw = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
    return [value.strip() for value in raw if value and value.strip()]


def encode_cursor(payload: dict) -> str:
    return signing.dumps(payload, salt=_CURSOR_SALT, compress=True)


def parse_search_params(data: Mapping, *, max_page_size: int = MAX_PAGE_SIZE) -> tuple[SearchParams, dict]:
    """Read a search from query parameters (the page's and the API's are the same).

    Returns the search made of every valid value and a dict of field -> messages for the
    others: the API answers those with a 400, the page shows them and searches without them.
    Costs at most one query (the conditions, when some are asked for)."""
    errors: dict[str, list[str]] = {}
    first = lambda name: (_values(data, name) or [""])[0]  # noqa: E731
    values: dict = {"text": first("q")[:MAX_QUERY_LENGTH]}

    category = first("category")
    if category:
        if category.isdigit() and int(category) > 0:
            values["category_id"] = int(category)
        else:
            errors["category"] = ["Choose a category by its number."]

    tags = list(dict.fromkeys(_values(data, "tag")))
    bad_tags = [tag for tag in tags if not _SLUG.match(tag)]
    if bad_tags:
        errors["tag"] = [f"{bad_tags[0][:50]} is not a tag."]
    elif len(tags) > MAX_TAG_FILTERS:
        errors["tag"] = [f"Choose at most {MAX_TAG_FILTERS} tags."]
    else:
        values["tags"] = tuple(tag.lower() for tag in tags)

    conditions = list(dict.fromkeys(value.lower() for value in _values(data, "condition")))
    if conditions:
        known = set(Condition.objects.values_list("slug", flat=True))
        unknown = [value for value in conditions if value not in known]
        if unknown:
            errors["condition"] = [f"{unknown[0][:50]} is not a condition; choose from {', '.join(sorted(known))}."]
        else:
            values["conditions"] = tuple(conditions)

    price_min = _decimal(first("price_min"), "price_min", errors)
    price_max = _decimal(first("price_max"), "price_max", errors)
    if price_min is not None and price_max is not None and price_min >= price_max:
        errors["price_max"] = ["The highest price must be above the lowest."]
    else:
        values["price_min"], values["price_max"] = price_min, price_max

    shop_countries = []
    for raw in dict.fromkeys(_values(data, "country")):
        code = countries.alpha2(raw[:3]) if len(raw) <= 3 else ""
        if not code:
            errors["country"] = [f"{raw[:50]} is not a country code (use two letters, e.g. GB)."]
            break
        shop_countries.append(code)
    else:
        values["countries"] = tuple(shop_countries)

    ships_to = first("ships_to")
    if ships_to:
        code = countries.alpha2(ships_to[:3]) if len(ships_to) <= 3 else ""
        if code:
            values["ships_to"] = code
        else:
            errors["ships_to"] = [f"{ships_to[:50]} is not a country code (use two letters, e.g. GB)."]

    sort = first("sort")
    if sort and sort not in SORTS:
        errors["sort"] = [f"{sort[:50]} is not a sort order; use one of {', '.join(SORTS)}."]
    else:
        values["sort"] = sort

    page_size = first("page_size")
    if page_size:
        if page_size.isdigit() and 1 <= int(page_size) <= max_page_size:
            values["page_size"] = int(page_size)
        else:
            errors["page_size"] = [f"Ask for 1 to {max_page_size} results a page."]

    params = SearchParams(**values)
    raw_cursor = first("cursor")
    if raw_cursor:
        try:
            cursor = signing.loads(raw_cursor, salt=_CURSOR_SALT)
            if not isinstance(cursor, dict) or cursor.get("sort") != params.effective_sort:
                raise signing.BadSignature
        except signing.BadSignature:
            errors["cursor"] = ["This page link does not belong to this search; start again from the first page."]
        else:
            params = SearchParams(**{**values, "cursor": cursor})
    return params, errors


# --- Filters ---------------------------------------------------------------------------------------------


def _tag_filter(slug: str) -> Exists:
    """Listings carrying the tag `slug` (or a synonym of it, or the tag it was merged into)
    as a visible tag."""
    canonical = Tag.objects.filter(slug=slug).annotate(canonical=Coalesce("merged_into_id", "id")).values("canonical")
    return Exists(
        TaggedListing.objects.filter(content_object_id=OuterRef("pk"), tag__is_hidden=False)
        .filter(Q(tag__merged_into__isnull=True) | Q(tag__merged_into__is_hidden=False))
        .filter(Q(tag_id__in=Subquery(canonical)) | Q(tag__merged_into_id__in=Subquery(canonical)))
    )


def ships_to_filter(country: str) -> Q:
    # ships_to is stored as comma-separated two-letter codes, so a code cannot match across a comma.
    return Q(shop__country=country) | Q(shop__ships_to__contains=country)


@dataclass
class _Filters:
    """Each chosen facet as a filter, so that a facet's counts can leave its own filter out."""

    category: Q | None = None
    tags: list = field(default_factory=list)
    condition: Q | None = None
    price: Q | None = None
    country: Q | None = None
    ships_to: Q | None = None

    def apply(self, listings: QuerySet, *, without: str = "") -> QuerySet:
        for name in ("category", "condition", "price", "country", "ships_to"):
            condition = getattr(self, name)
            if condition is not None and name != without:
                listings = listings.filter(condition)
        if without != "tags":
            for tag in self.tags:
                listings = listings.filter(tag)
        return listings


def _filters(params: SearchParams, tree) -> _Filters:
    filters = _Filters()
    if params.category_id:
        filters.category = Q(category_id__in=tree.descendant_ids(params.category_id) or [params.category_id])
    filters.tags = [_tag_filter(slug) for slug in params.tags]
    if params.conditions:
        filters.condition = Q(condition__slug__in=params.conditions)
    if params.price_min is not None or params.price_max is not None:
        price = Q()
        if params.price_min is not None:
            price &= Q(price__gte=params.price_min)
        if params.price_max is not None:
            price &= Q(price__lt=params.price_max)
        filters.price = price
    if params.countries:
        filters.country = Q(shop__country__in=params.countries)
    if params.ships_to:
        filters.ships_to = ships_to_filter(params.ships_to)
    return filters


def listings_matching(*, listings: QuerySet, text: str) -> QuerySet:
    """`listings` narrowed to those whose title, creator, tags or description match every word
    of `text` (stemmed: "lichen" finds "lichens"); none when `text` has no words at all."""
    found = words(text)[:MAX_QUERY_WORDS]
    if not found:
        return listings.none()
    return get_backend().filter(listings, found)


# --- Results -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False
    depth: int = 0


@dataclass
class Facet:
    name: str
    label: str
    values: list[FacetValue]
    # Counted within the first FACET_SAMPLE matches: each count is a lower bound.
    is_approximate: bool = False


@dataclass
class SearchResults:
    params: SearchParams
    listings: list[Listing]
    count: int
    count_is_exact: bool
    facets: list[Facet]
    next_cursor: str | None
    page_number: int
    original_text: str | None = None
    close_words: list[tuple[str, str]] = field(default_factory=list)
    relevance_is_capped: bool = False

    @property
    def was_corrected(self) -> bool:
        return self.original_text is not None


def _count(listings: QuerySet) -> tuple[int, bool]:
    # Newest ids first, as the facets' sample and relevance's candidates read them: the
    # same index pages, and on a common word the walk stops after about COUNT_LIMIT rows.
    counted = listings.order_by("-pk").values("pk")[: COUNT_LIMIT + 1].count()
    return min(counted, COUNT_LIMIT), counted <= COUNT_LIMIT


@dataclass(frozen=True)
class _Row:
    """What the facets need to know of one match."""

    category_id: int | None
    condition: str
    price: Decimal
    country: str
    ships_to: frozenset[str]
    tags: frozenset[str]


def _among(field: str, ids: list[int]) -> Q:
    """`field` is one of `ids`. On PostgreSQL as one array parameter: building, sending and
    parsing a placeholder per id cost about 10 ms a query at FACET_SAMPLE ids, more than the query."""
    if settings.IS_POSTGRESQL:
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", (list(ids),))})
    return Q(**{f"{field}__in": ids})


def _sample_rows(sample: QuerySet) -> tuple[list[_Row], dict[str, str]]:
    """The listings of `sample` (matches of the words before any facet is applied) with their
    facet values and canonical tags, and the tags' names: two queries, however many facets there are."""
    rows = list(
        sample
        # The shop's countries as stored ("NL,DE"): decoding them field by field costs more than the query.
        .annotate(shop_ships_to=ExpressionWrapper(F("shop__ships_to"), output_field=CharField())).values_list(
            "pk", "category_id", "condition__slug", "price", "shop__country", "shop_ships_to"
        )
    )
    tags: dict[int, set[str]] = defaultdict(set)
    names: dict[str, str] = {}
    if rows:
        applications = (
            TaggedListing.objects.filter(_among("content_object_id", [row[0] for row in rows]), tag__is_hidden=False)
            .filter(Q(tag__merged_into__isnull=True) | Q(tag__merged_into__is_hidden=False))
            .annotate(shown_slug=Coalesce("tag__merged_into__slug", "tag__slug"))
            .annotate(shown_name=Coalesce("tag__merged_into__name", "tag__name"))
            .values_list("content_object_id", "shown_slug", "shown_name")
            .distinct()
        )
        for listing_id, slug, name in applications:
            tags[listing_id].add(slug)
            names[slug] = name
    ships_to: dict[str, frozenset[str]] = {}
    for row in rows:
        if row[5] not in ships_to:
            ships_to[row[5]] = frozenset(code for code in (row[5] or "").split(",") if code)
    return [
        _Row(
            category_id=category_id,
            condition=condition,
            price=price,
            country=str(country),
            ships_to=ships_to[shop_ships_to],
            tags=frozenset(tags.get(pk, ())),
        )
        for pk, category_id, condition, price, country, shop_ships_to in rows
    ], names


def _canonical_tags(slugs: tuple[str, ...]) -> dict[str, str]:
    """Each chosen tag slug -> the slug of the tag it was merged into (or itself)."""
    if not slugs:
        return {}
    found = dict(
        Tag.objects.filter(slug__in=slugs)
        .annotate(canonical=Coalesce("merged_into__slug", "slug"))
        .values_list("slug", "canonical")
    )
    return {slug: found.get(slug, slug) for slug in slugs}


def _row_checks(params: SearchParams, tree, canonical_tags: dict[str, str]) -> dict:
    """The chosen facets as tests on a row: the same choices _filters makes in SQL."""
    checks: dict = {}
    if params.category_id:
        allowed = set(tree.descendant_ids(params.category_id) or [params.category_id])
        checks["category"] = lambda row: row.category_id in allowed
    if params.tags:
        wanted = set(canonical_tags.values())
        checks["tag"] = lambda row: wanted <= row.tags
    if params.conditions:
        checks["condition"] = lambda row: row.condition in params.conditions
    if params.price_min is not None or params.price_max is not None:
        checks["price"] = lambda row: (
            (params.price_min is None or row.price >= params.price_min)
            and (params.price_max is None or row.price < params.price_max)
        )
    if params.countries:
        checks["country"] = lambda row: row.country in params.countries
    if params.ships_to:
        checks["ships_to"] = lambda row: row.country == params.ships_to or params.ships_to in row.ships_to
    return checks


def _kept(rows: list[_Row], checks: dict, *, without: str) -> list[_Row]:
    tests = [test for name, test in checks.items() if name != without]
    return [row for row in rows if all(test(row) for test in tests)]


def _category_value(node, totals: Counter, *, depth: int, selected: bool = False) -> FacetValue:
    return FacetValue(value=str(node.id), label=node.name, count=totals[node.id], selected=selected, depth=depth)


def _category_facet(rows: list[_Row], params: SearchParams, tree) -> list[FacetValue]:
    totals: Counter = Counter()
    for category_id, count in Counter(row.category_id for row in rows if row.category_id).items():
        for node in tree.ancestors(category_id, include_self=True):  # a subcategory counts in its ancestors
            totals[node.id] += count
    chosen = tree.get(params.category_id) if params.category_id else None
    if chosen is None:
        # The top categories and the level below them, where something matches.
        values = []
        for root in tree.roots:
            if totals[root.id]:
                values.append(_category_value(root, totals, depth=0))
                values += [_category_value(child, totals, depth=1) for child in root.children if totals[child.id]]
        return values
    # The way back up, always; below the chosen category, its subcategories with matches.
    path = tree.ancestors(chosen.id, include_self=True)
    values = [_category_value(node, totals, depth=depth, selected=node is chosen) for depth, node in enumerate(path)]
    return values + [_category_value(child, totals, depth=len(path)) for child in chosen.children if totals[child.id]]


def _tag_facet(rows: list[_Row], params: SearchParams, canonical_tags: dict[str, str], names: dict) -> list:
    counts = Counter(slug for row in rows for slug in row.tags)
    chosen = [canonical_tags[slug] for slug in params.tags]
    values = [
        FacetValue(value=slug, label=names.get(slug, slug), count=counts.get(slug, 0), selected=True) for slug in chosen
    ]
    ranked = sorted(
        ((slug, count) for slug, count in counts.items() if slug not in chosen),
        key=lambda item: (-item[1], names.get(item[0], item[0]).casefold()),
    )
    return values + [FacetValue(value=slug, label=names[slug], count=count) for slug, count in ranked[:TAG_FACET_SIZE]]


def _condition_facet(rows: list[_Row], params: SearchParams) -> list[FacetValue]:
    counts = Counter(row.condition for row in rows)
    return [
        FacetValue(
            value=condition.slug,
            label=condition.name,
            count=counts.get(condition.slug, 0),
            selected=condition.slug in params.conditions,
        )
        for condition in Condition.objects.order_by("rank")
        if counts.get(condition.slug) or condition.slug in params.conditions
    ]


def price_range_value(lowest: Decimal | None, below: Decimal | None) -> str:
    return f"{'' if lowest is None else lowest}-{'' if below is None else below}"


def price_range_label(lowest: Decimal | None, below: Decimal | None) -> str:
    if lowest is None:
        return f"Under {below}"
    if below is None:
        return f"{lowest} and more"
    return f"{lowest} to {below}"


def _price_facet(rows: list[_Row], params: SearchParams) -> list[FacetValue]:
    values = []
    for lowest, below in PRICE_RANGES:
        count = sum(
            1 for row in rows if (lowest is None or row.price >= lowest) and (below is None or row.price < below)
        )
        selected = (params.price_min, params.price_max) == (lowest, below)
        if count or selected:
            values.append(
                FacetValue(
                    value=price_range_value(lowest, below),
                    label=price_range_label(lowest, below),
                    count=count,
                    selected=selected,
                )
            )
    return values


def _country_facet(rows: list[_Row], params: SearchParams) -> list[FacetValue]:
    counts = Counter(row.country for row in rows)
    ranked = [code for code, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    shown = list(params.countries) + [code for code in ranked if code not in params.countries][:COUNTRY_FACET_SIZE]
    return [
        FacetValue(value=code, label=countries.name(code), count=counts.get(code, 0), selected=code in params.countries)
        for code in shown
    ]


def _ships_to_facet(rows: list[_Row], params: SearchParams, country: str) -> list[FacetValue]:
    count = sum(1 for row in rows if row.country == country or country in row.ships_to)
    return [
        FacetValue(
            value=country, label=f"Ships to {countries.name(country)}", count=count, selected=params.ships_to == country
        )
    ]


def _facets(sample: QuerySet, params: SearchParams, tree, *, country: str | None, partial: bool) -> list[Facet]:
    """Facet counts for the words: each facet counts what the other chosen facets leave (its
    own choice left out, so that its other values stay offered as alternatives).

    Counted in Python over one sample of the matches (at most FACET_SAMPLE rows and their
    tags, two queries) rather than with a grouped query per facet: on a word found in much of
    the catalog, each grouped query would scan the matches again. When the words match more
    than the sample (`partial`, or more than FACET_SAMPLE rows read), every count is a lower
    bound and the facets say so."""
    rows, names = _sample_rows(sample)
    approximate = partial or len(rows) > FACET_SAMPLE
    rows = rows[:FACET_SAMPLE]
    canonical = _canonical_tags(params.tags)
    checks = _row_checks(params, tree, canonical)
    facets = [
        Facet("category", "Category", _category_facet(_kept(rows, checks, without="category"), params, tree)),
        # Chosen tags combine (each narrows further): this facet counts within the results.
        Facet("tag", "Tags", _tag_facet(_kept(rows, checks, without=""), params, canonical, names)),
        Facet("condition", "Condition", _condition_facet(_kept(rows, checks, without="condition"), params)),
        Facet("price", "Price", _price_facet(_kept(rows, checks, without="price"), params)),
        Facet("country", "Shop's country", _country_facet(_kept(rows, checks, without="country"), params)),
    ]
    if country:
        kept = _kept(rows, checks, without="ships_to")
        facets.append(Facet("ships_to", "Shipping", _ships_to_facet(kept, params, country)))
    for facet in facets:
        facet.is_approximate = approximate
    return facets


def _cards(listings: QuerySet) -> QuerySet:
    return listings.select_related("shop", "condition").prefetch_related(
        Prefetch("images", queryset=ListingImage.objects.order_by("position", "pk"))
    )


# Keyset pagination for the sorts that follow a column: the next page starts after the last
# listing shown (WHERE (price, id) > (last price, last id) ORDER BY price, id LIMIT n), which an
# index answers as fast on page 500 as on page 1, and rows added meanwhile never shift a page.
_ORDERINGS = {
    "newest": (F("published_at").desc(nulls_last=True), F("pk").desc()),
    "price": (F("price").asc(), F("pk").asc()),
    "-price": (F("price").desc(), F("pk").desc()),
}


def _after(sort: str, key: list) -> Q:
    value, pk = key
    if sort == "newest":
        if value is None:
            return Q(published_at__isnull=True, pk__lt=pk)
        moment = datetime.fromisoformat(value)
        return Q(published_at__lt=moment) | Q(published_at=moment, pk__lt=pk) | Q(published_at__isnull=True)
    amount = Decimal(value)
    if sort == "price":
        return Q(price__gt=amount) | Q(price=amount, pk__gt=pk)
    return Q(price__lt=amount) | Q(price=amount, pk__lt=pk)


def _key(sort: str, listing: Listing) -> list:
    if sort == "newest":
        return [listing.published_at.isoformat() if listing.published_at else None, listing.pk]
    return [str(listing.price), listing.pk]


def _relevance_page(ranked: list[int], params: SearchParams, *, count_is_exact: bool):
    """(listings of the page, cursor of the next page or None, page number, whether relevance stopped early).

    Relevance is a score, not a column an index can walk: the candidates are ranked in one
    query and paged by offset within them; past them the page says to sort by newest or
    price (keyset, unbounded) or to narrow the search."""
    cursor = params.cursor or {}
    number = int(cursor.get("page", 1))
    offset = int(cursor.get("offset", 0))
    size = params.page_size
    page_ids = ranked[offset : offset + size]
    by_id = {listing.pk: listing for listing in _cards(Listing.objects.filter(pk__in=page_ids))}
    listings = [by_id[pk] for pk in page_ids if pk in by_id]
    if offset + size < len(ranked):
        next_cursor = encode_cursor({"sort": "relevance", "offset": offset + size, "page": number + 1})
        return listings, next_cursor, number, False
    return listings, None, number, not count_is_exact


def _sorted_page(filtered: QuerySet, params: SearchParams):
    """(listings of the page, cursor of the next page or None, page number) in a column's order."""
    sort = params.effective_sort
    cursor = params.cursor or {}
    number = int(cursor.get("page", 1))
    size = params.page_size
    page = filtered
    if cursor.get("after"):
        page = page.filter(_after(sort, cursor["after"]))
    rows = list(_cards(page.order_by(*_ORDERINGS[sort]))[: size + 1])
    listings = rows[:size]
    next_cursor = None
    if len(rows) > size:
        next_cursor = encode_cursor({"sort": sort, "after": _key(sort, listings[-1]), "page": number + 1})
    return listings, next_cursor, number


def _run(params: SearchParams, tree, *, viewer_country: str | None, with_facets: bool) -> SearchResults:
    backend = get_backend()
    active = Listing.objects.filter(status=Listing.Status.ACTIVE)
    matched = active
    if params.words:
        matched = backend.filter(active, params.words)
    elif params.text.strip():
        matched = active.none()  # only punctuation: nothing to look for
    filters = _filters(params, tree)
    filtered = filters.apply(matched)
    # The facets' sample: the matches of the words alone, newest ids first (one row more
    # than is counted tells that there are more).
    sample, sample_is_partial = matched.order_by("-pk")[: FACET_SAMPLE + 1], False
    if params.effective_sort == "relevance":
        # One query gives the candidates, the count (one candidate more than are ranked
        # tells whether there are more) and, without facet choices, the facets' sample.
        candidates = backend.rank(filters.apply(active), params.words, limit=RELEVANCE_DEPTH + 1)
        count_is_exact = len(candidates) <= RELEVANCE_DEPTH
        ranked = candidates
        if not count_is_exact:  # the extra one, the oldest candidate, only told that there are more
            oldest = min(candidates)
            ranked = [pk for pk in candidates if pk != oldest]
        count = len(ranked)
        listings, next_cursor, number, capped = _relevance_page(ranked, params, count_is_exact=count_is_exact)
        if not params.has_filters:
            sample = Listing.objects.filter(_among("pk", ranked[:FACET_SAMPLE]))
            sample_is_partial = not count_is_exact or len(ranked) > FACET_SAMPLE
    else:
        count, count_is_exact = _count(filtered)
        listings, next_cursor, number = _sorted_page(filtered, params)
        capped = False
    attach_card_tags(listings)
    facets = []
    if with_facets:
        facets = _facets(
            sample,
            params,
            tree,
            country=params.ships_to or viewer_country,
            partial=sample_is_partial,
        )
    return SearchResults(
        params=params,
        listings=listings,
        count=count,
        count_is_exact=count_is_exact,
        facets=facets,
        next_cursor=next_cursor,
        page_number=number,
        relevance_is_capped=capped,
    )


def _correction(backend: SearchBackend, found: list[str]) -> tuple[str | None, list[tuple[str, str]]]:
    """The words with each unknown one replaced by the closest lexicon term, and every
    (typed word, close term) pair found."""
    looked_up = [word for word in found if len(word) >= MIN_TERM_LENGTH and not word.isdigit()]
    if not looked_up:
        return None, []
    options = backend.close_terms(looked_up, limit=3)
    corrected, close, changed = [], [], False
    for word in found:
        choices = options.get(word, [])
        if not choices or word in choices:
            corrected.append(word)
            continue
        corrected.append(choices[0])
        changed = True
        close += [(word, choice) for choice in choices]
    return (" ".join(corrected) if changed else None), close


def search_listings(
    *, params: SearchParams, viewer_country: str | None = None, with_facets: bool = True
) -> SearchResults:
    """Active listings matching `params`: one page of them with shop, condition, images and
    card tags loaded, the count (exact up to RELEVANCE_DEPTH with relevance, COUNT_LIMIT
    otherwise; past it `count_is_exact` is False), and the facets.

    A search whose words match nothing is tried again with each unknown word replaced by the
    closest word of the catalog (pg_trgm on PostgreSQL): when that finds something, those are
    the results and `original_text` says what was typed. A fixed number of queries, whatever
    the number of results."""
    tree = search_category_tree()
    results = _run(params, tree, viewer_country=viewer_country, with_facets=with_facets)
    if results.count or not params.words or params.cursor:
        return results
    backend = get_backend()
    corrected_text, close = _correction(backend, params.words)
    if corrected_text is not None:
        corrected = replace(params, text=corrected_text)
        retried = _run(corrected, tree, viewer_country=viewer_country, with_facets=with_facets)
        if retried.count:
            retried.original_text = params.text
            retried.close_words = close
            return retried
    results.close_words = close
    return results


def complete(*, text: str, limit: int = SUGGESTION_COUNT) -> list[str]:
    """Ways to finish what is being typed: the last word completed from the catalog's words,
    the most used first, after the words before it."""
    typed = words(text)[:MAX_QUERY_WORDS]
    if not typed or len(typed[-1]) < 2 or (text and text.rstrip() != text):
        return []
    *before, prefix = typed
    return [" ".join([*before, term]) for term in get_backend().complete(prefix[:MAX_TERM_LENGTH], limit=limit)]
