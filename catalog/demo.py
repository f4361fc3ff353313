"""A demo catalog for `seed_demo --listings N`: shops, categories, tags and N listings.

Deterministic: listing number i is made from its own random generator seeded with (seed, i),
so the same seed always gives the same listings, and running again (or with a larger N) only
adds the listings still missing. Rows go in with bulk_create in batches, and the search index
is rebuilt in bulk at the end, so a large catalog fills in minutes, not hours.

Title words follow a Zipf-like law (the word of rank r is used about 1/r as often as the
first), as real catalogs do: a few words are in a large share of the titles, most are rare,
and words outside the vocabulary find nothing, which is what search must be measured on.
"""

import datetime
import random
from decimal import Decimal
from itertools import accumulate

from django.db import connection, transaction
from django.utils.text import slugify

from sellers.models import Shop, ShopMember

from . import search
from .models import Category, Condition, Listing, Tag, TaggedListing

BATCH_SIZE = 2_000
SHOP_COUNT = 12
# Demo listings are published before this moment, spread over two years.
PUBLISHED_BEFORE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

CATEGORY_TREE = {
    "Books": ["Fiction", "Non-fiction", "Poetry", "Children's books", "Maps and atlases"],
    "Music": ["Vinyl records", "CDs", "Sheet music"],
    "Prints and ephemera": ["Posters", "Postcards", "Botanical prints"],
}
COMMON_WORDS = [
    "the",
    "of",
    "a",
    "and",
    "in",
    "to",
    "history",
    "guide",
    "book",
    "collected",
    "world",
    "new",
    "life",
    "art",
    "music",
    "field",
    "notes",
    "river",
    "house",
    "garden",
    "night",
    "city",
    "light",
    "stories",
    "songs",
    "letters",
    "journey",
    "modern",
    "early",
    "old",
    "great",
    "small",
    "north",
    "south",
    "winter",
    "summer",
    "atlas",
    "maps",
    "birds",
    "sea",
    "island",
    "mountain",
    "forest",
    "complete",
    "edition",
    "volume",
    "second",
    "first",
    "poems",
    "tales",
    "travels",
    "kitchen",
    "science",
    "nature",
    "jazz",
    "blues",
    "folk",
    "piano",
    "voices",
    "machine",
    "empire",
    "green",
    "blue",
    "red",
    "black",
    "white",
    "golden",
    "silver",
    "lost",
    "secret",
    "hidden",
    "last",
    "little",
    "wild",
    "quiet",
    "long",
    "short",
    "street",
    "road",
    "station",
    "harbour",
    "valley",
    "coast",
    "lichens",
    "mosses",
    "ferns",
    "orchids",
    "roses",
    "trees",
    "stones",
    "glass",
    "paper",
    "clocks",
    "engines",
    "ships",
    "trains",
    "bicycles",
    "cameras",
    "recipes",
    "bread",
    "cheese",
    "wine",
    "tea",
    "coffee",
    "chocolate",
    "herbs",
    "spices",
    "weaving",
    "knitting",
    "pottery",
    "printing",
    "drawing",
]
# The long tail: invented words, each in few titles.
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "ti",
    "vo",
    "ze",
    "ba",
    "do",
    "fi",
    "gu",
    "ha",
    "je",
    "ko",
    "lu",
    "ma",
    "no",
    "pe",
    "ri",
    "so",
    "tu",
    "ve",
    "wa",
]
CREATOR_FIRST = [
    "Ada",
    "Ben",
    "Clara",
    "Dev",
    "Elena",
    "Femi",
    "Greta",
    "Hugo",
    "Iris",
    "Jun",
    "Kai",
    "Lena",
    "Milo",
    "Nora",
    "Omar",
    "Pia",
    "Rafa",
    "Sana",
    "Theo",
    "Uma",
]
CREATOR_LAST = [
    "Moss",
    "Hart",
    "Lindqvist",
    "Okafor",
    "Rossi",
    "Nakamura",
    "Haddad",
    "Kowalski",
    "Moreau",
    "Mensah",
    "Petrova",
    "Costa",
    "Nielsen",
    "Dubois",
    "Fernández",
    "Schneider",
    "Brennan",
    "Ivanova",
    "Tanaka",
    "Osei",
]
TAG_NAMES = [
    *("first edition", "signed", "illustrated", "hardback", "paperback", "vinyl", "rare", "out of print"),
    *("folk", "jazz", "classical", "botany", "birds", "maps", "travel", "cookery", "children", "crime"),
    *("poetry", "science", "history", "art", "design", "photography", "local history", "gift idea"),
    *("bargain", "ex-library", "dust jacket", "limited edition", "mono pressing"),
]
FORMATS = ["Hardcover", "Paperback", "LP", "CD", "Print", "Postcard", ""]
CONDITION_WEIGHTS = {"new": 4, "as-new": 6, "fine": 10, "very-good": 25, "good": 30, "fair": 15, "poor": 10}
STATUS_WEIGHTS = [
    (Listing.Status.ACTIVE, 90),
    (Listing.Status.SOLD_OUT, 5),
    (Listing.Status.PAUSED, 3),
    (Listing.Status.DRAFT, 2),
]
SHOP_PLACES = [
    ("GB", "Bristol", "GBP"),
    ("NL", "Utrecht", "EUR"),
    ("DE", "Leipzig", "EUR"),
    ("FR", "Lyon", "EUR"),
    ("US", "Portland", "USD"),
    ("SE", "Malmö", "SEK"),
]


def vocabulary(seed: int, size: int = 2_000) -> list[str]:
    """The title words, most used first: real words, then invented ones."""
    rng = random.Random(f"{seed}:vocabulary")  # noqa: S311 - demo data
    invented: list[str] = []
    seen = set(COMMON_WORDS)
    while len(COMMON_WORDS) + len(invented) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            invented.append(word)
    return COMMON_WORDS + invented


def zipf_weights(count: int, exponent: float = 1.05) -> list[float]:
    return list(accumulate(1 / (rank**exponent) for rank in range(1, count + 1)))


def seed_categories() -> list[Category]:
    """The demo category tree; returns its leaves."""
    leaves = []
    for position, (name, children) in enumerate(CATEGORY_TREE.items()):
        root, _ = Category.objects.get_or_create(
            parent=None, slug=slugify(name), defaults={"name": name, "position": position}
        )
        for child_position, child in enumerate(children):
            leaf, _ = Category.objects.get_or_create(
                parent=root, slug=slugify(child), defaults={"name": child, "position": child_position}
            )
            leaves.append(leaf)
    return leaves


def seed_shops(*, people: list, rng: random.Random) -> list[Shop]:
    """One shop for each of the first SHOP_COUNT demo people (owner member included)."""
    shops = []
    for index, owner in enumerate(people[:SHOP_COUNT]):
        country, city, currency = SHOP_PLACES[index % len(SHOP_PLACES)]
        others = [code for code, _, _ in SHOP_PLACES if code != country]
        shop, _ = Shop.objects.get_or_create(
            slug=f"demo-shop-{index + 1}",
            defaults={
                "name": f"{owner.display_name.split()[0]}'s {rng.choice(['Books', 'Records', 'Finds', 'Shelf'])}",
                "tagline": "Second-hand books, records and prints",
                "owner": owner,
                "country": country,
                "city": city,
                "currency": currency,
                "ships_to": rng.sample(others, rng.randint(0, len(others))),
                "domestic_first_item": Decimal("3.00"),
                "domestic_additional_item": Decimal("1.00"),
                "international_first_item": Decimal("9.00"),
                "international_additional_item": Decimal("2.50"),
            },
        )
        ShopMember.objects.get_or_create(shop=shop, user=owner, defaults={"role": ShopMember.Role.OWNER})
        shops.append(shop)
    return shops


def _demo_listing(number: int, *, seed: int, context: dict) -> tuple[Listing, list[tuple[int, int, bool]]]:
    """Listing number `number` and its tag applications (tag id, person id, by the seller)."""
    rng = random.Random(f"{seed}:listing:{number}")  # noqa: S311 - demo data
    shop = context["shops"][number % len(context["shops"])]
    title_words = rng.choices(context["words"], cum_weights=context["word_weights"], k=rng.randint(2, 6))
    title = " ".join(title_words).capitalize()
    description_words = rng.choices(context["words"], cum_weights=context["word_weights"], k=rng.randint(8, 30))
    status = rng.choices([status for status, _ in STATUS_WEIGHTS], weights=[w for _, w in STATUS_WEIGHTS])[0]
    quantity = 0 if status == Listing.Status.SOLD_OUT else rng.randint(1, 5)
    published = PUBLISHED_BEFORE - datetime.timedelta(minutes=rng.randint(1, 2 * 365 * 24 * 60))
    price = Decimal(str(round(min(999.0, rng.lognormvariate(2.8, 0.9)), 2))).quantize(Decimal("0.01"))
    listing = Listing(
        shop=shop,
        category=rng.choice(context["categories"]),
        condition=context["conditions"][
            rng.choices(list(CONDITION_WEIGHTS), weights=list(CONDITION_WEIGHTS.values()))[0]
        ],
        sku=f"demo-{number:07d}",
        title=title[:255],
        creator=f"{rng.choice(CREATOR_FIRST)} {rng.choice(CREATOR_LAST)}",
        year=rng.randint(1900, 2025),
        format=rng.choice(FORMATS),
        description=" ".join(description_words).capitalize() + ".",
        description_html="",
        price=max(price, Decimal("1.00")),
        currency=shop.currency,
        quantity=quantity,
        status=status,
        published_at=None if status == Listing.Status.DRAFT else published,
    )
    listing.description_html = f"<p>{listing.description}</p>"
    applications = []
    for tag_id in {rng.choice(context["tag_ids"]) for _ in range(rng.randint(0, 4))}:
        by_seller = rng.random() < 0.4
        person = shop.owner_id if by_seller else rng.choice(context["people"]).pk
        applications.append((tag_id, person, by_seller and person == shop.owner_id))
    return listing, applications


def seed_listings(*, seed: int, count: int, people: list, progress=None) -> int:
    """Make sure demo listings 1..count exist; returns how many were created. Then rebuild the
    search index in bulk."""
    rng = random.Random(f"{seed}:catalog")  # noqa: S311 - demo data
    with transaction.atomic():
        categories = seed_categories()
        shops = seed_shops(people=people, rng=rng)
        tags = [Tag.objects.get_or_create(slug=slugify(name), defaults={"name": name})[0] for name in TAG_NAMES]
    words = vocabulary(seed)
    context = {
        "shops": shops,
        "categories": categories,
        "conditions": {condition.slug: condition for condition in Condition.objects.all()},
        "words": words,
        "word_weights": zipf_weights(len(words)),
        "tag_ids": [tag.pk for tag in tags],
        "people": people,
    }
    missing = set(CONDITION_WEIGHTS) - set(context["conditions"])
    if missing:
        raise ValueError(f"the demo needs the default conditions; missing: {sorted(missing)}")
    created = 0
    for start in range(1, count + 1, BATCH_SIZE):
        numbers = range(start, min(start + BATCH_SIZE, count + 1))
        skus = [f"demo-{number:07d}" for number in numbers]
        existing = set(Listing.objects.filter(shop__in=shops, sku__in=skus).values_list("sku", flat=True))
        made = [
            _demo_listing(number, seed=seed, context=context)
            for number, sku in zip(numbers, skus, strict=True)
            if sku not in existing
        ]
        with transaction.atomic():
            Listing.objects.bulk_create([listing for listing, _ in made])
            TaggedListing.objects.bulk_create(
                [
                    TaggedListing(tag_id=tag_id, content_object_id=listing.pk, tagged_by_id=person, is_seller_tag=mine)
                    for listing, applications in made
                    for tag_id, person, mine in applications
                ]
            )
        created += len(made)
        if progress is not None:
            progress(min(start + BATCH_SIZE - 1, count))
    if created and connection.vendor == "postgresql":
        # Fresh statistics, or the planner keeps believing the tables are as small as before.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE catalog_listing")
            cursor.execute("ANALYZE catalog_taggedlisting")
    search.rebuild_index()
    return created
