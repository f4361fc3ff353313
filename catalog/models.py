from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from taggit.managers import TaggableManager
from taggit.models import TagBase

from marketplace.money import CURRENCY_CHOICES, MAX_PRICE, MIN_PRICE


class Category(models.Model):
    """A node of the operator-managed category tree."""

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["parent", "slug"], name="catalog_category_slug_unique_in_parent"),
            models.UniqueConstraint(
                fields=["slug"], condition=Q(parent__isnull=True), name="catalog_category_root_slug_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:category", kwargs={"pk": self.pk, "slug": self.slug})


class Condition(models.Model):
    """A grade of condition; the operator can add, rename or reorder them."""

    slug = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=40)
    rank = models.PositiveSmallIntegerField(help_text="1 is the best condition.")

    class Meta:
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.name


class Work(models.Model):
    """What several listings are copies of: an edition, a release or a work merged by hand."""

    class IdentifierKind(models.TextChoices):
        ISBN = "isbn", "ISBN"
        EAN = "ean", "EAN"
        CATALOG_NUMBER = "catalog", "Catalog number"
        MANUAL = "manual", "Merged by hand"

    title = models.CharField(max_length=255)
    creator = models.CharField("author or artist", max_length=255, blank=True)
    identifier_kind = models.CharField(max_length=10, choices=IdentifierKind.choices)
    identifier = models.CharField(max_length=64, help_text="Normalised: ISBN-13, EAN-13 or upper-case catalog number.")
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_works",
        help_text="Set when an operator merged this work into another: its copies are listed there.",
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["identifier_kind", "identifier"], name="catalog_work_identifier_unique"),
            models.CheckConstraint(condition=~Q(merged_into=models.F("pk")), name="catalog_work_not_merged_into_self"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_identifier_kind_display()} {self.identifier})"

    def get_absolute_url(self) -> str:
        return reverse("catalog:work", kwargs={"pk": self.pk})


# Tag pages live at /tags/<slug>/ beside these pages of the folksonomy itself: a tag whose
# name would give one of these slugs gets another slug instead, so both stay reachable.
RESERVED_TAG_SLUGS = frozenset({"following", "moderation"})


class Tag(TagBase):
    """A folksonomy tag. Synonyms point at the tag they were merged into.

    Tags are created and changed only through catalog.tagging, which keeps names
    normalised, `use_count` counted and synonyms one hop from their main tag."""

    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="synonyms")
    merged_at = models.DateTimeField(null=True, blank=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_hidden = models.BooleanField(default=False, help_text="Hidden by a moderator: shown nowhere.")
    hidden_reason = models.CharField(max_length=200, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    use_count = models.PositiveIntegerField(
        default=0, help_text="How many times people applied this tag to a listing (kept by catalog.tagging)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [("moderate_tag", "Can merge, hide and unhide tags")]
        constraints = [
            models.CheckConstraint(condition=~Q(merged_into=models.F("pk")), name="catalog_tag_not_merged_into_self"),
            models.CheckConstraint(
                condition=Q(is_hidden=False) | ~Q(hidden_reason=""), name="catalog_tag_hidden_with_a_reason"
            ),
        ]
        indexes = [
            # The tag cloud and autocomplete: visible main tags by use.
            models.Index(
                fields=["-use_count", "name"],
                condition=Q(is_hidden=False, merged_into__isnull=True),
                name="catalog_tag_visible_by_uses",
            ),
            # Autocomplete matches names by prefix (LIKE 'x%'), which the unique index cannot
            # serve under PostgreSQL's default collation; SQLite ignores the operator class.
            models.Index(fields=["name"], opclasses=["varchar_pattern_ops"], name="catalog_tag_name_prefix"),
        ]

    def get_absolute_url(self) -> str:
        return reverse("tags:tag", kwargs={"slug": self.slug})

    def slugify(self, tag, i=None):
        slug = super().slugify(tag, i)
        return f"{slug}-tag" if slug in RESERVED_TAG_SLUGS else slug

    @property
    def is_synonym(self) -> bool:
        return self.merged_into_id is not None


class TaggedListing(models.Model):
    """One person's application of one tag to one listing."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="applications")
    content_object = models.ForeignKey("Listing", on_delete=models.CASCADE, related_name="tag_applications")
    tagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tag_applications")
    is_seller_tag = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tag", "content_object", "tagged_by"], name="catalog_tag_once_per_person_per_listing"
            ),
        ]
        indexes = [
            models.Index(fields=["tagged_by", "-created_at"]),
            models.Index(fields=["tag", "-created_at"]),
            # A tag page counts the tag's people up to a cap, walking them in order through this index.
            models.Index(fields=["tag", "tagged_by"], name="catalog_tagged_tag_person"),
        ]

    def __str__(self) -> str:
        return f"{self.tag} on {self.content_object_id} by {self.tagged_by_id}"


class Listing(models.Model):
    """One shop's offer of one item (with a stock of copies)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        SOLD_OUT = "sold_out", "Sold out"

    shop = models.ForeignKey("sellers.Shop", on_delete=models.CASCADE, related_name="listings")
    work = models.ForeignKey(Work, null=True, blank=True, on_delete=models.SET_NULL, related_name="listings")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="listings")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="listings")
    sku = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=255)
    creator = models.CharField("author or artist", max_length=255, blank=True)
    publisher = models.CharField("publisher or label", max_length=255, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    format = models.CharField(max_length=80, blank=True, help_text="Hardcover, paperback, LP, CD…")
    identifier = models.CharField(
        "ISBN, EAN or catalog number", max_length=64, blank=True, help_text="As the seller typed it."
    )
    description = models.TextField(blank=True, help_text="Markdown.")
    description_html = models.TextField(blank=True, editable=False)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    quantity = models.IntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    tags = TaggableManager(through=TaggedListing, blank=True)

    class Meta:
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="catalog_listing_quantity_not_negative"),
            models.CheckConstraint(
                condition=Q(price__gte=MIN_PRICE) & Q(price__lte=MAX_PRICE), name="catalog_listing_price_in_range"
            ),
            models.UniqueConstraint(
                fields=["shop", "sku"], condition=~Q(sku=""), name="catalog_listing_sku_unique_in_shop"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-published_at"]),
            models.Index(fields=["shop", "status", "-published_at"]),
            models.Index(fields=["work", "status"]),
            # Search sorted by price walks this index (keyset pagination: see catalog.search).
            models.Index(fields=["status", "price", "id"], name="catalog_listing_price_sort"),
            # A category page: its active listings, newest first.
            models.Index(
                fields=["category", "-published_at", "-id"],
                condition=Q(status="active"),
                name="catalog_listing_category_new",
            ),
            # The storefront in each of its orders: the shop's listings on sale (active or sold out).
            models.Index(
                fields=["shop", "-published_at", "-id"],
                condition=Q(status__in=["active", "sold_out"]),
                name="catalog_listing_shop_new",
            ),
            models.Index(
                fields=["shop", "price", "id"],
                condition=Q(status__in=["active", "sold_out"]),
                name="catalog_listing_shop_price",
            ),
            models.Index(
                fields=["shop", "title", "id"],
                condition=Q(status__in=["active", "sold_out"]),
                name="catalog_listing_shop_title",
            ),
            # The seller dashboard: every listing of the shop (or those in one status), latest change first.
            models.Index(fields=["shop", "-updated_at", "-id"], name="catalog_listing_shop_updated"),
            models.Index(fields=["shop", "status", "-updated_at", "-id"], name="catalog_listing_shop_st_upd"),
            # Search sorted by newest walks catalog_listing_newest_active (migration 0009, written
            # per database: SQLite has no NULLS LAST in an index but puts nulls last when descending).
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("catalog:listing", kwargs={"pk": self.pk})

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


def listing_image_upload_to(image: "ListingImage", filename: str) -> str:
    return f"listings/{image.listing_id}/{filename}"


class ListingImage(models.Model):
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="images")
    position = models.PositiveSmallIntegerField(default=0)
    thumbnail = models.ImageField(upload_to=listing_image_upload_to)
    large = models.ImageField(upload_to=listing_image_upload_to)
    alt_text = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"Image {self.position} of {self.listing_id}"


class TagFollow(models.Model):
    """A person who wants to see new listings carrying a tag."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tag_follows")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tag"], name="catalog_follow_tag_once")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.tag}"


class TagFollowNotice(models.Model):
    """That a follower of some tag has been told of a listing carrying it: once per person
    per listing, whichever of their tags it carries and however often it is tagged again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tag_follow_notices")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="tag_follow_notices")
    tag = models.ForeignKey(Tag, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "listing"], name="catalog_tag_notice_once_per_listing")]

    def __str__(self) -> str:
        return f"{self.user_id} told of {self.listing_id}"


class SearchDocument(models.Model):
    """The search index's record of one listing on sale, written only by catalog.search.

    A listing has a document while it is active or sold out (the statuses someone can
    find it in); drafts and paused listings have none. `terms` are the distinct words the
    listing adds to the SearchTerm lexicon, kept so that reindexing can take back exactly
    what it added. `vector` is PostgreSQL's weighted tsvector (title A, creator B, tags C,
    description D), searched through the GIN index created by migration 0004 on PostgreSQL
    only; on SQLite the column stays empty and the FTS5 table of the same migration holds
    the text instead.

    Not a foreign-key constraint: deleting a listing leaves its document until
    catalog.search.reindex_listings (run on commit) removes it along with its lexicon
    counts; searches always join the listings table, so such a row is never shown."""

    listing = models.OneToOneField(
        Listing, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="search_document"
    )
    terms = models.TextField(blank=True)
    vector = SearchVectorField(null=True)
    indexed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"search document of listing {self.listing_id}"


class SearchTerm(models.Model):
    """A word of the catalog (from titles, creators and tags) and how many listings on sale
    use it: the lexicon that typo corrections and autocomplete draw from (with a trigram
    index on PostgreSQL). Counts move with every reindex and are recounted exactly by the
    rebuild_search_index command."""

    term = models.CharField(max_length=40, unique=True)
    listing_count = models.IntegerField(default=0)

    class Meta:
        ordering = ["term"]

    def __str__(self) -> str:
        return self.term


class Want(models.Model):
    """A want list entry (intent casting): what a person is looking for, matched against new
    listings and price drops by catalog.wantlists. At least one of words, tags or a work says
    what; the rest narrows it. Shops see wants only as anonymous counts (the demand view)."""

    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private: only me"
        PUBLIC = "public", "Public: on my profile"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wants")
    text = models.CharField("words", max_length=200, blank=True)
    # PROTECT: a want that named a work would otherwise be left matching far more than asked.
    work = models.ForeignKey(Work, null=True, blank=True, on_delete=models.PROTECT, related_name="wants")
    max_price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, blank=True)
    min_condition = models.ForeignKey(
        Condition, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="At least this good."
    )
    ships_to_me = models.BooleanField(default=False, help_text="Only from shops that ship to my country.")
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_price__isnull=True) | (Q(max_price__gte=0) & Q(max_price__lte=MAX_PRICE)),
                name="catalog_want_max_price_in_range",
            ),
            models.CheckConstraint(
                condition=Q(max_price__isnull=True) | ~Q(currency=""), name="catalog_want_price_has_currency"
            ),
        ]
        indexes = [
            models.Index(fields=["work"], condition=Q(is_active=True), name="catalog_want_active_by_work"),
            models.Index(fields=["user", "-created_at"], name="catalog_want_by_user"),
        ]

    def __str__(self) -> str:
        return f"want {self.pk} of {self.user_id}"


class WantTag(models.Model):
    """A tag a want asks for, by name (as tags are stored): a want may name a tag nobody has
    used yet."""

    want = models.ForeignKey(Want, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["want", "name"], name="catalog_want_tag_once")]
        indexes = [models.Index(fields=["name"], name="catalog_want_tag_by_name")]

    def __str__(self) -> str:
        return self.name


class WantWord(models.Model):
    """The start of each word of a want (catalog.wantlists.word_keys): how the wants a new
    listing might match are found before search decides which of them it does match."""

    want = models.ForeignKey(Want, on_delete=models.CASCADE, related_name="word_keys")
    key = models.CharField(max_length=10)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["want", "key"], name="catalog_want_word_once")]
        indexes = [models.Index(fields=["key"], name="catalog_want_word_by_key")]

    def __str__(self) -> str:
        return self.key


class WantMatch(models.Model):
    """That a want was matched by a listing, and its owner told: once per want and listing."""

    class Reason(models.TextChoices):
        ON_SALE = "on_sale", "Came on sale"
        PRICE_DROPPED = "price_dropped", "Price dropped"

    want = models.ForeignKey(Want, on_delete=models.CASCADE, related_name="matches")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="want_matches")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    matched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-matched_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["want", "listing"], name="catalog_want_matched_once")]

    def __str__(self) -> str:
        return f"want {self.want_id} matched by {self.listing_id}"


# --- Maintained counts ---------------------------------------------------------------------------
# Counting listings per request read hundreds of thousands of rows at 1,000,000 listings (a big
# shop's storefront, a category page, the featured shops of the home page). These rows are kept
# by database triggers on catalog_listing and catalog_taggedlisting (migration 0008), so every
# write counts, whatever path it takes: services, the order flow, bulk imports, COPY, the admin,
# cascades. catalog.counters.recount_all() counts them all again from the rows (after the bench
# generator, and nightly by catalog.tasks.reconcile_counts).


class ShopListingCount(models.Model):
    """How many listings a shop has in one status."""

    shop = models.ForeignKey("sellers.Shop", on_delete=models.CASCADE, related_name="listing_counts")
    status = models.CharField(max_length=10, choices=Listing.Status.choices)
    listings = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "status"], name="catalog_shop_count_once_per_status"),
        ]
        indexes = [
            # The featured shops of the home page: the most active listings first.
            models.Index(fields=["status", "-listings"], name="catalog_shop_count_ranking"),
        ]

    def __str__(self) -> str:
        return f"{self.listings} {self.status} listings of shop {self.shop_id}"


class CategoryListingCount(models.Model):
    """How many active listings are filed directly in a category (its page adds its descendants')."""

    category = models.OneToOneField(Category, primary_key=True, on_delete=models.CASCADE, related_name="listing_count")
    listings = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.listings} active listings in category {self.category_id}"


class TagListingCount(models.Model):
    """How many active listings carry a tag (each listing once, however many people applied it)."""

    tag = models.OneToOneField(Tag, primary_key=True, on_delete=models.CASCADE, related_name="listing_count")
    listings = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.listings} active listings tagged {self.tag_id}"


class ShopTagCount(models.Model):
    """How many of a shop's listings on sale (active or sold out) carry a tag: the storefront's
    tag filter, most used first."""

    shop = models.ForeignKey("sellers.Shop", on_delete=models.CASCADE, related_name="tag_counts")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="shop_counts")
    listings = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "tag"], name="catalog_shop_tag_count_once")]
        indexes = [models.Index(fields=["shop", "-listings"], name="catalog_shop_tag_count_by_uses")]

    def __str__(self) -> str:
        return f"{self.listings} listings of shop {self.shop_id} tagged {self.tag_id}"
