"""A large marketplace, skewed like real ones: `seed_demo --size S|M|L`.

Everything comes from random generators seeded with (seed, what, number), so the same seed
and size give the same rows on every machine and database. Rows go in through
marketplace.bench.writer (COPY on PostgreSQL), in one transaction per kind of row.

The shapes follow real marketplaces rather than uniform noise:
- title and description words follow Zipf's law over a vocabulary (catalog.demo), and one
  word is planted in most titles, so search meets very common, medium, rare and zero-hit
  terms; the generator reports which words fell in which bucket, with their counts;
- tag popularity follows Zipf's law over thousands of tags;
- shops' sizes and follower counts follow power laws (the largest shop is followed by more
  than half of everyone), a few buyers write most conversations, and a few threads are huge;
- the category tree is deep (four levels) and wide.

The data is added once: the bench people and shops are recognisable by their prefix, and a
second run with bench data present changes nothing."""

import datetime
import json
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass
from decimal import Decimal
from itertools import accumulate

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.text import slugify

from accounts.models import User
from catalog import search
from catalog.demo import CONDITION_WEIGHTS, CREATOR_FIRST, CREATOR_LAST, FORMATS, TAG_NAMES, vocabulary
from catalog.models import Category, Condition, Listing, Tag, TaggedListing
from messaging.models import Conversation, Message
from sellers.models import Shop, ShopMember
from social.models import Activity, ActivityKind, Audience, Follow

from .writer import TableWriter, reset_sequences

USERNAME_PREFIX = "bench-"
SHOP_PREFIX = "bench-shop-"
READER_USERNAME = "bench-reader"
BENCH_PASSWORD = "bench-password"  # noqa: S105 - a known password for generated people, like the demo's
START = datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC)
SPAN_MINUTES = 3 * 365 * 24 * 60
PLANTED_COMMON_WORD = "vintage"
PLANTED_COMMON_SHARE = 0.6
ZERO_HIT_TERM = "qwxzjvk"
READER_FOLLOWS = 2_000
HUGE_THREAD_MESSAGES = 50

ROOT_CATEGORIES = [
    *("Antiques", "Art supplies", "Clothing", "Comics", "Crafts", "Electronics", "Film", "Games"),
    *("Garden", "Homeware", "Jewellery", "Kitchenware", "Photography", "Sports", "Stamps", "Toys"),
    *("Coins", "Instruments", "Tools", "Stationery"),
]
PLACES = [
    ("GB", "Bristol", "GBP"),
    ("NL", "Utrecht", "EUR"),
    ("DE", "Leipzig", "EUR"),
    ("FR", "Lyon", "EUR"),
    ("US", "Portland", "USD"),
    ("SE", "Malmö", "SEK"),
    ("IT", "Bologna", "EUR"),
    ("ES", "Valencia", "EUR"),
]
TAG_SUFFIXES = ["core", "wave", "craft", "ware", "ology", "ist"]


@dataclass(frozen=True)
class Size:
    shops: int
    listings: int
    tag_applications: int
    tags: int
    users: int
    follows: int
    conversations: int
    messages: int
    vocabulary: int
    category_fanout: tuple[int, ...]


SIZES = {
    "S": Size(200, 20_000, 60_000, 2_000, 1_000, 20_000, 1_000, 10_000, 4_000, (8, 6, 4, 2)),
    "M": Size(10_000, 1_000_000, 3_000_000, 12_000, 100_000, 2_000_000, 100_000, 1_000_000, 30_000, (20, 8, 6, 3)),
    "L": Size(
        100_000, 10_000_000, 30_000_000, 20_000, 1_000_000, 20_000_000, 1_000_000, 10_000_000, 60_000, (20, 10, 8, 4)
    ),
}


def custom_size(*, base: str = "S", **counts) -> Size:
    """`base` with some counts replaced; the others scale with the number of listings."""
    size = SIZES[base]
    listings = counts.get("listings") or size.listings
    scale = listings / size.listings
    values = asdict(size)
    for name in ("tag_applications", "conversations", "messages"):
        values[name] = max(1, int(values[name] * scale))
    values["listings"] = listings
    values["shops"] = counts.get("shops") or max(2, min(size.shops, listings // 20))
    values["users"] = counts.get("users") or max(values["shops"] + 2, min(size.users, listings // 5))
    values["follows"] = max(values["users"], int(size.follows * scale))
    values["category_fanout"] = tuple(size.category_fanout)
    return Size(**values)


@dataclass
class Report:
    """What was generated, and the words planted for each search bucket (with how many
    listings carry each)."""

    size: Size
    counts: dict
    search_terms: dict
    seconds: dict

    def as_dict(self) -> dict:
        return {"size": asdict(self.size), "counts": self.counts, "search_terms": self.search_terms}


def _rng(seed: int, *parts) -> random.Random:
    return random.Random(":".join(str(part) for part in (seed, *parts)))  # noqa: S311 - generated data


def _cumulative_zipf(count: int, exponent: float = 1.0) -> list[float]:
    return list(accumulate(1 / (rank**exponent) for rank in range(1, count + 1)))


def _moment(rng: random.Random) -> datetime.datetime:
    return START + datetime.timedelta(minutes=rng.randint(0, SPAN_MINUTES))


class Progress:
    """A progress bar on a terminal; one line per step elsewhere (logs, CI)."""

    def __init__(self, stream=None):
        self.stream = stream
        self.is_terminal = bool(stream is not None and getattr(stream, "isatty", lambda: False)())

    def step(self, name: str, total: int):
        stream, is_terminal = self.stream, self.is_terminal
        every = max(1, total // 50)

        def tick(done: int) -> None:
            if stream is None or not is_terminal or (done % every and done != total):
                return
            filled = int(30 * done / max(total, 1))
            stream.write(f"\r  {name:<22} [{'#' * filled}{'.' * (30 - filled)}] {done:>12,}/{total:,}")
            stream.flush()

        def done(written: int, seconds: float) -> None:
            if stream is None:
                return
            prefix = "\r" if is_terminal else ""
            stream.write(f"{prefix}  {name:<22} {written:>12,} rows in {seconds:7.1f} s{' ' * 30}\n")
            stream.flush()

        return tick, done


def _counted(rows, tick):
    for number, row in enumerate(rows, start=1):
        tick(number)
        yield row


class Generator:
    def __init__(self, *, size: Size, seed: int, progress: Progress):
        self.size = size
        self.seed = seed
        self.progress = progress
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def _write(self, name: str, model, rows, total: int) -> int:

        tick, done = self.progress.step(name, total)
        started = time.perf_counter()
        written = TableWriter(model).write(_counted(rows, tick))
        elapsed = time.perf_counter() - started
        done(written, elapsed)
        self.counts[name] = self.counts.get(name, 0) + written
        self.seconds[name] = self.seconds.get(name, 0.0) + elapsed
        return written

    # --- People and shops --------------------------------------------------------------------------------

    def users(self) -> None:
        size = self.size
        self.user_first_id = TableWriter(User).next_id()
        password = make_password(BENCH_PASSWORD)
        self.user_ids = list(range(self.user_first_id, self.user_first_id + size.users))
        self.reader_id = self.user_ids[-1]

        def rows():
            for index, pk in enumerate(self.user_ids):
                rng = _rng(self.seed, "user", index)
                country, city, _ = PLACES[rng.randrange(len(PLACES))]
                first, last = rng.choice(CREATOR_FIRST), rng.choice(CREATOR_LAST)
                username = READER_USERNAME if pk == self.reader_id else f"{USERNAME_PREFIX}{index + 1}"
                yield {
                    "id": pk,
                    "password": password,
                    "username": username,
                    "email": f"{username}@bench.plural.localhost",
                    "is_active": True,
                    "date_joined": _moment(rng) - datetime.timedelta(days=60),
                    "display_name": f"{first} {last}",
                    "country": country,
                    "city": city,
                }

        self._write("people", User, rows(), size.users)

    def shops(self) -> None:
        size = self.size
        first_id = TableWriter(Shop).next_id()
        self.shop_ids = list(range(first_id, first_id + size.shops))
        self.shop_owner = {pk: self.user_ids[index] for index, pk in enumerate(self.shop_ids)}
        self.shop_currency = {}
        codes = [code for code, _, _ in PLACES]

        def rows():
            for index, pk in enumerate(self.shop_ids):
                rng = _rng(self.seed, "shop", index)
                country, city, currency = PLACES[rng.randrange(len(PLACES))]
                self.shop_currency[pk] = currency
                others = [code for code in codes if code != country]
                yield {
                    "id": pk,
                    "name": f"{rng.choice(CREATOR_FIRST)}'s {rng.choice(['Books', 'Records', 'Finds', 'Shelf'])} "
                    f"{index + 1}",
                    "slug": f"{SHOP_PREFIX}{index + 1}",
                    "tagline": "Second-hand finds",
                    "country": country,
                    "city": city,
                    "owner_id": self.shop_owner[pk],
                    "currency": currency,
                    "ships_to": ",".join(sorted(rng.sample(others, rng.randint(0, 4)))),
                    "domestic_first_item": Decimal("3.00"),
                    "domestic_additional_item": Decimal("1.00"),
                    "international_first_item": Decimal("9.00"),
                    "international_additional_item": Decimal("2.50"),
                    "payment_methods": json.dumps([]),
                    "created_at": _moment(rng) - datetime.timedelta(days=60),
                }

        self._write("shops", Shop, rows(), size.shops)
        member_id = TableWriter(ShopMember).next_id()
        self._write(
            "shop members",
            ShopMember,
            (
                {"id": member_id + index, "shop_id": pk, "user_id": self.shop_owner[pk], "role": "owner"}
                for index, pk in enumerate(self.shop_ids)
            ),
            size.shops,
        )

    # --- Catalog -------------------------------------------------------------------------------------------

    def categories(self) -> None:
        words = [word for word in vocabulary(self.seed, 3_000) if len(word) > 3]
        first_id = TableWriter(Category).next_id()
        rows, leaves = [], []
        rng = _rng(self.seed, "categories")
        taken_roots = set(Category.objects.filter(parent=None).values_list("slug", flat=True))

        def grow(parent_id, depth, prefix):
            fanout = self.size.category_fanout[depth]
            names = ROOT_CATEGORIES[:fanout] if parent_id is None else rng.sample(words, fanout)
            for position, name in enumerate(names):
                name = name.capitalize()
                slug = slugify(name)
                if parent_id is None and slug in taken_roots:
                    slug = f"{slug}-{position + 1}"
                pk = first_id + len(rows)
                rows.append({"id": pk, "name": name, "slug": slug, "parent_id": parent_id, "position": position})
                if depth + 1 < len(self.size.category_fanout):
                    grow(pk, depth + 1, f"{prefix}{position}.")
                else:
                    leaves.append(pk)

        grow(None, 0, "")
        self._write("categories", Category, iter(rows), len(rows))
        rng.shuffle(leaves)
        self.category_leaves = leaves

    def tags(self) -> None:
        rng = _rng(self.seed, "tags")
        names = list(dict.fromkeys(TAG_NAMES))
        existing = set(Tag.objects.values_list("name", flat=True))
        syllables = [
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
        while len(names) < self.size.tags:
            word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))) + rng.choice(TAG_SUFFIXES)
            if word not in names:
                names.append(word)
        names = [name for name in names if name not in existing]
        first_id = TableWriter(Tag).next_id()
        self.tag_ids = list(range(first_id, first_id + len(names)))
        self.tag_names = dict(zip(self.tag_ids, names, strict=True))
        self._write(
            "tags",
            Tag,
            ({"id": pk, "name": name, "slug": slugify(name)} for pk, name in self.tag_names.items()),
            len(names),
        )

    def listings(self) -> None:
        size = self.size
        words = vocabulary(self.seed, size.vocabulary)
        word_weights = _cumulative_zipf(len(words), 1.05)
        shop_weights = _cumulative_zipf(len(self.shop_ids), 0.9)
        leaf_weights = _cumulative_zipf(len(self.category_leaves), 0.8)
        tag_weights = _cumulative_zipf(len(self.tag_ids), 1.0)
        conditions = {condition.slug: condition.pk for condition in Condition.objects.all()}
        missing = set(CONDITION_WEIGHTS) - set(conditions)
        if missing:
            raise ValueError(f"the catalog needs the default conditions; missing: {sorted(missing)}")
        condition_ids = [conditions[slug] for slug in CONDITION_WEIGHTS]
        condition_weights = list(accumulate(CONDITION_WEIGHTS.values()))
        first_id = TableWriter(Listing).next_id()
        self.listing_ids = range(first_id, first_id + size.listings)
        self.listing_shop: list[int] = []
        self.word_counts: Counter = Counter()
        applications: list[tuple[int, int, int, bool, datetime.datetime]] = []
        activities: list[tuple[int, int, int, datetime.datetime]] = []
        per_listing = size.tag_applications / size.listings
        user_count = len(self.user_ids)

        def rows():
            for index, pk in enumerate(self.listing_ids):
                rng = _rng(self.seed, "listing", index)
                shop_id = rng.choices(self.shop_ids, cum_weights=shop_weights)[0]
                self.listing_shop.append(shop_id)
                title_words = rng.choices(words, cum_weights=word_weights, k=rng.randint(2, 6))
                if rng.random() < PLANTED_COMMON_SHARE:
                    title_words.insert(0, PLANTED_COMMON_WORD)
                body_words = rng.choices(words, cum_weights=word_weights, k=rng.randint(6, 20))
                self.word_counts.update(set(title_words) | set(body_words))
                roll = rng.random()
                status = "active" if roll < 0.9 else "sold_out" if roll < 0.95 else "paused" if roll < 0.98 else "draft"
                published = _moment(rng)
                price = Decimal(str(round(min(999.0, max(1.0, rng.lognormvariate(2.8, 0.9))), 2)))
                description = " ".join(body_words).capitalize() + "."
                yield {
                    "id": pk,
                    "shop_id": shop_id,
                    "category_id": rng.choices(self.category_leaves, cum_weights=leaf_weights)[0],
                    "condition_id": rng.choices(condition_ids, cum_weights=condition_weights)[0],
                    "sku": f"bench-{index + 1:08d}",
                    "title": " ".join(title_words).capitalize()[:255],
                    "creator": f"{rng.choice(CREATOR_FIRST)} {rng.choice(CREATOR_LAST)}",
                    "year": rng.randint(1900, 2025),
                    "format": rng.choice(FORMATS),
                    "description": description,
                    "description_html": f"<p>{description}</p>",
                    "price": price,
                    "currency": self.shop_currency[shop_id],
                    "quantity": 0 if status == "sold_out" else rng.randint(1, 5),
                    "status": status,
                    "created_at": published,
                    "updated_at": published,
                    "published_at": None if status == "draft" else published,
                }
                # Tag applications: Zipf-popular tags, by the seller or by anyone.
                chosen = set()
                for _ in range(int(per_listing * 2 * rng.random() + 0.5)):
                    tag_id = rng.choices(self.tag_ids, cum_weights=tag_weights)[0]
                    by_seller = rng.random() < 0.4
                    person = self.shop_owner[shop_id] if by_seller else self.user_ids[rng.randrange(user_count)]
                    if (tag_id, person) not in chosen:
                        chosen.add((tag_id, person))
                        applications.append((tag_id, pk, person, person == self.shop_owner[shop_id], published))
                if status == "active":
                    activities.append((self.shop_owner[shop_id], shop_id, pk, published))

        self._write("listings", Listing, rows(), size.listings)
        tagged_id = TableWriter(TaggedListing).next_id()
        self._write(
            "tag applications",
            TaggedListing,
            (
                {
                    "id": tagged_id + number,
                    "tag_id": tag_id,
                    "content_object_id": listing_id,
                    "tagged_by_id": person,
                    "is_seller_tag": mine,
                    "created_at": moment,
                }
                for number, (tag_id, listing_id, person, mine, moment) in enumerate(applications)
            ),
            len(applications),
        )
        activity_id = TableWriter(Activity).next_id()
        self._write(
            "activity (listed)",
            Activity,
            (
                {
                    "id": activity_id + number,
                    "actor_id": actor,
                    "kind": ActivityKind.LISTED,
                    "audience": Audience.EVERYONE,
                    "ceiling": Audience.EVERYONE,
                    "created_at": moment,
                    "listing_id": listing_id,
                    "shop_id": shop_id,
                }
                for number, (actor, shop_id, listing_id, moment) in enumerate(activities)
            ),
            len(activities),
        )
        self.shared_activity(first_id=activity_id + len(activities), applications=applications, tagged_id=tagged_id)

    def shared_activity(self, *, first_id: int, applications: list, tagged_id: int) -> None:
        """A fifth of the tags people put on others' listings, shared with their followers: what
        a feed of people shows."""
        rows = []
        for number, (_tag_id, listing_id, person, mine, moment) in enumerate(applications):
            if not mine and number % 5 == 0:
                rows.append(
                    {
                        "id": first_id + len(rows),
                        "actor_id": person,
                        "kind": ActivityKind.TAGGED,
                        "audience": Audience.FOLLOWERS,
                        "ceiling": Audience.EVERYONE,
                        "created_at": moment,
                        "listing_id": listing_id,
                        "tag_application_id": tagged_id + number,
                    }
                )
        self._write("activity (tagged)", Activity, iter(rows), len(rows))

    # --- The social graph -------------------------------------------------------------------------------

    def follows(self) -> None:
        """Shops' followers follow a power law (the largest shop: more than half of everyone); people
        follow people chosen by a Zipf law (a few people followed by many); the reader
        follows READER_FOLLOWS accounts, shops first."""
        size = self.size
        users = self.user_ids
        first_id = TableWriter(Follow).next_id()
        top = int(len(users) * 0.55)
        others = users[:-1]  # everyone but the reader
        shop_follows = []
        for rank, shop_id in enumerate(self.shop_ids, start=1):
            count = max(1, int(top / rank))
            rng = _rng(self.seed, "shop-followers", rank)
            followers = rng.sample(others, min(count, len(others)))
            shop_follows.extend((follower, shop_id) for follower in followers)
        reader_shops = self.shop_ids[:READER_FOLLOWS]
        reader_people = users[: max(0, READER_FOLLOWS - len(reader_shops))]
        shop_follows.extend((self.reader_id, shop_id) for shop_id in reader_shops)
        shop_follows = list(dict.fromkeys(shop_follows))
        remaining = max(0, size.follows - len(shop_follows) - len(reader_people))
        person_weights = _cumulative_zipf(len(others), 0.8)
        per_follower = max(1, remaining // max(1, len(users) - 1))

        def rows():
            number = 0
            for follower, shop_id in shop_follows:
                yield {"id": first_id + number, "follower_id": follower, "shop_id": shop_id, "audience": 2}
                number += 1
            for person in reader_people:
                if person != self.reader_id:
                    yield {"id": first_id + number, "follower_id": self.reader_id, "person_id": person, "audience": 2}
                    number += 1
            for index, follower in enumerate(others):
                rng = _rng(self.seed, "follows", index)
                chosen = set(rng.choices(others, cum_weights=person_weights, k=per_follower))
                chosen.discard(follower)
                for person in sorted(chosen):
                    yield {"id": first_id + number, "follower_id": follower, "person_id": person, "audience": 2}
                    number += 1

        self._write("follows", Follow, rows(), len(shop_follows) + len(reader_people) + remaining)

    # --- Conversations ---------------------------------------------------------------------------------------

    def conversations(self) -> None:
        """A few heavy buyers write most conversations; thread lengths follow a power law
        (most one to a few messages, a few in the thousands); the reader's first conversation
        has exactly HUGE_THREAD_MESSAGES messages."""
        size = self.size
        conversation_first = TableWriter(Conversation).next_id()
        message_first = TableWriter(Message).next_id()
        buyer_weights = _cumulative_zipf(len(self.user_ids), 1.1)
        shop_weights = _cumulative_zipf(len(self.shop_ids), 0.9)
        rng = _rng(self.seed, "conversations")
        lengths = [HUGE_THREAD_MESSAGES]
        budget = size.messages - HUGE_THREAD_MESSAGES
        for _ in range(size.conversations - 1):
            lengths.append(max(1, min(int(rng.paretovariate(1.3)), budget // 20 or 1)))
        scale = budget / max(1, sum(lengths[1:]))
        lengths[1:] = [max(1, round(length * scale)) for length in lengths[1:]]
        conversations, messages = [], []
        message_id = message_first
        for index, length in enumerate(lengths):
            crng = _rng(self.seed, "conversation", index)
            buyer = self.reader_id if index == 0 else crng.choices(self.user_ids, cum_weights=buyer_weights)[0]
            shop_index = crng.choices(range(len(self.shop_ids)), cum_weights=shop_weights)[0]
            shop_id = self.shop_ids[shop_index]
            if buyer == self.shop_owner[shop_id]:
                shop_id = self.shop_ids[(shop_index + 1) % len(self.shop_ids)]
            started = _moment(crng)
            moment = started
            for number in range(length):
                moment += datetime.timedelta(minutes=crng.randint(1, 600))
                for_shop = number % 2 == 1
                body = f"Message {number + 1} about the parcel, the price and the postage."
                messages.append(
                    {
                        "id": message_id,
                        "conversation_id": conversation_first + index,
                        "author_id": self.shop_owner[shop_id] if for_shop else buyer,
                        "for_shop": for_shop,
                        "body": body,
                        "body_html": f"<p>{body}</p>",
                        "created_at": moment,
                    }
                )
                message_id += 1
            conversations.append(
                {
                    "id": conversation_first + index,
                    "buyer_id": buyer,
                    "shop_id": shop_id,
                    "subject": f"About order {index + 1}",
                    "created_at": started,
                    "last_message_id": message_id - 1,
                    "last_message_at": moment,
                }
            )
        # The conversations point at their last messages, which point back: one transaction,
        # and the foreign keys are checked at its end.
        with transaction.atomic():
            self._write("conversations", Conversation, iter(conversations), len(conversations))
            self._write("messages", Message, iter(messages), len(messages))

    # --- Search terms -------------------------------------------------------------------------------------

    def search_terms(self) -> dict:
        """Words of each search bucket with the number of listings whose title or description
        holds them: most common (the planted word), common (~10%), medium (~1%), rare (a
        handful), and one that no listing holds."""
        counts = self.word_counts
        total = self.size.listings
        ignored = {word for name in TAG_NAMES for word in name.split()} | {PLANTED_COMMON_WORD}
        ignored |= {word.lower() for word in CREATOR_FIRST + CREATOR_LAST}
        candidates = [(word, count) for word, count in counts.items() if word not in ignored and len(word) > 3]

        def closest(target: float) -> tuple[str, int]:
            return min(candidates, key=lambda item: (abs(item[1] - target), item[0]))

        common, medium = closest(total * 0.10), closest(total * 0.01)
        rare = closest(max(3, total / 20_000))
        return {
            "most_common": {"term": PLANTED_COMMON_WORD, "listings": counts[PLANTED_COMMON_WORD]},
            "common": {"term": common[0], "listings": common[1]},
            "medium": {"term": medium[0], "listings": medium[1]},
            "rare": {"term": rare[0], "listings": rare[1]},
            "zero": {"term": ZERO_HIT_TERM, "listings": 0},
            "two_words": {"term": f"{PLANTED_COMMON_WORD} {medium[0]}", "listings": None},
        }

    # --- All of it -----------------------------------------------------------------------------------------

    def run(self) -> Report:

        with transaction.atomic():
            self.users()
            self.shops()
            self.categories()
            self.tags()
        with transaction.atomic():
            self.listings()
        with transaction.atomic():
            self.follows()
        self.conversations()
        reset_sequences(User, Shop, ShopMember, Category, Tag, Listing, TaggedListing, Activity, Follow)
        reset_sequences(Conversation, Message)
        started = time.perf_counter()
        with transaction.atomic():
            uses = TaggedListing.objects.filter(tag_id=OuterRef("pk")).order_by().values("tag_id")
            uses = uses.annotate(uses=Count("pk")).values("uses")
            Tag.objects.filter(pk__in=self.tag_ids).update(
                use_count=Coalesce(Subquery(uses, output_field=IntegerField()), 0)
            )
        self.seconds["tag use counts"] = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        tick, done = self.progress.step("search index", self.size.listings)
        started = time.perf_counter()
        indexed = search.rebuild_index(progress=tick)
        done(indexed, time.perf_counter() - started)
        self.seconds["search index"] = time.perf_counter() - started
        return Report(size=self.size, counts=self.counts, search_terms=self.search_terms(), seconds=self.seconds)


def bench_data_present() -> bool:
    return Shop.objects.filter(slug__startswith=SHOP_PREFIX).exists()


def generate(*, size: Size, seed: int, stream=None) -> Report | None:
    """Add the bench data of `size` (nothing when it is already there)."""
    if bench_data_present():
        return None
    return Generator(size=size, seed=seed, progress=Progress(stream)).run()
