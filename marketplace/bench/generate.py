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
- the category tree is deep (four levels) and wide;
- a few very heavy buyers and popular listings (Zipf both), mostly completed orders, reviews
  and ratings of what shipped, and the recommendations rebuilt from those purchases.

The data is added once, stage by stage: the bench people and shops are recognisable by their
prefix, the bench checkouts by theirs. A marketplace generated before the orders stage existed
gets only that stage; a second run with everything present changes nothing."""

import datetime
import json
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass
from decimal import Decimal
from itertools import accumulate
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.text import slugify

from accounts.models import User
from catalog import search
from catalog.demo import (
    CONDITION_WEIGHTS,
    CREATOR_FIRST,
    CREATOR_LAST,
    FORMATS,
    SYLLABLES,
    TAG_NAMES,
    vocabulary,
)
from catalog.models import Category, Condition, Listing, Tag, TaggedListing
from marketplace.markdown import render_markdown
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
END = START + datetime.timedelta(minutes=SPAN_MINUTES)
PLANTED_COMMON_WORD = "vintage"
PLANTED_COMMON_SHARE = 0.6
ZERO_HIT_TERM = "qwxzjvk"
READER_FOLLOWS = 2_000
HUGE_THREAD_MESSAGES = 50
CHECKOUT_KEY_PREFIX = "bench-"
# Lines drawn per buyer and per listing: Zipf over the people (the heaviest buyer of M has
# about 800 lines, half of the buyers one to four) and over the listings on sale.
BUYER_EXPONENT = 0.5
LISTING_EXPONENT = 0.7
BASKET_SIZES = [(1, 55), (2, 25), (3, 12), (4, 5), (6, 3)]  # lines per checkout, weight
SAME_SHOP_SHARE = 0.5  # a further line of a basket from the shop of its first

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
    order_lines: int
    # Reviews of listings and ratings of shops together.
    reviews: int


SIZES = {
    "S": Size(200, 20_000, 60_000, 2_000, 1_000, 20_000, 1_000, 10_000, 4_000, (8, 6, 4, 2), 10_000, 10_000),
    "M": Size(
        10_000,
        1_000_000,
        3_000_000,
        12_000,
        100_000,
        2_000_000,
        100_000,
        1_000_000,
        30_000,
        (20, 8, 6, 3),
        500_000,
        500_000,
    ),
    "L": Size(
        100_000,
        10_000_000,
        30_000_000,
        20_000,
        1_000_000,
        20_000_000,
        1_000_000,
        10_000_000,
        60_000,
        (20, 10, 8, 4),
        5_000_000,
        5_000_000,
    ),
}


def custom_size(*, base: str = "S", **counts) -> Size:
    """`base` with some counts replaced; the others scale with the number of listings."""
    size = SIZES[base]
    listings = counts.get("listings") or size.listings
    scale = listings / size.listings
    values = asdict(size)
    for name in ("tag_applications", "conversations", "messages", "order_lines", "reviews"):
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
        while len(names) < self.size.tags:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))) + rng.choice(TAG_SUFFIXES)
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

    # --- Orders, reviews and ratings -------------------------------------------------------------------

    def orders(self) -> None:
        """Checkouts of the bench people, one order per shop in each, with their lines, timelines,
        running deadlines and returns; then reviews of what shipped, ratings of the shops and
        the shops' feedback on their buyers, with every aggregate the reviews app keeps; then
        the recommendation tables, rebuilt from those purchases.

        Read from the database rather than from the earlier stages, so that the stage adds itself
        to a marketplace generated before it existed. The shapes: a few very heavy buyers (Zipf
        over the people), popular listings bought far more than others (Zipf over the listings
        on sale, so the shops with most listings sell most), a basket of one to a few lines,
        often from one shop. The older orders are mostly completed, a few cancelled or returned;
        those of the last weeks are still on their way (new, accepted, paid, shipped,
        delivered). The listing the benchmark's listing page shows (the first review's without
        a reply, see harness.find_cast) is the most bought, so that page shows what was also
        bought."""
        from orders.models import Checkout, Order, OrderDeadline, OrderEvent, OrderItem, ReturnRequest
        from reviews.models import BuyerFeedback, Review, SellerRating
        from social.recommendations import recommendations_rebuild

        plan = self._order_plan()
        if not plan.orders:
            return
        with transaction.atomic():
            self._write("checkouts", Checkout, plan.checkout_rows(), len(plan.checkouts))
            self._write("orders", Order, plan.order_rows(), len(plan.orders))
            self._write("order lines", OrderItem, plan.line_rows(), plan.line_count)
            self._write(
                "order events", OrderEvent, plan.event_rows(TableWriter(OrderEvent).next_id()), plan.event_count
            )
            self._write(
                "order deadlines",
                OrderDeadline,
                plan.deadline_rows(TableWriter(OrderDeadline).next_id()),
                plan.deadline_count,
            )
            self._write(
                "returns", ReturnRequest, plan.return_rows(TableWriter(ReturnRequest).next_id()), plan.return_count
            )
            feedback = plan.feedback_plan(reviews=self.size.reviews)
            self._write("reviews", Review, feedback.review_rows(TableWriter(Review).next_id()), len(feedback.reviews))
            self._write(
                "seller ratings",
                SellerRating,
                feedback.rating_rows(TableWriter(SellerRating).next_id()),
                len(feedback.ratings),
            )
            self._write(
                "buyer feedback",
                BuyerFeedback,
                feedback.buyer_feedback_rows(TableWriter(BuyerFeedback).next_id()),
                len(feedback.buyer_feedback),
            )
            reset_sequences(Checkout, Order, OrderItem, OrderEvent, OrderDeadline, ReturnRequest)
            reset_sequences(Review, SellerRating, BuyerFeedback)
            started = time.perf_counter()
            self._review_aggregates(shop_ids=plan.bench_shop_ids)
            self.seconds["review aggregates"] = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Checkout, Order, OrderItem, OrderEvent, Review, SellerRating):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        _, done = self.progress.step("also bought (rebuilt)", 1)
        started = time.perf_counter()
        rebuilt = recommendations_rebuild()
        done(rebuilt.pairs, time.perf_counter() - started)
        self.counts["pairs of items"] = rebuilt.pairs
        self.seconds["also bought (rebuilt)"] = time.perf_counter() - started

    def _order_plan(self) -> "OrderPlan":
        size = self.size
        rng = _rng(self.seed, "checkouts")
        users = list(
            User.objects.filter(username__startswith=USERNAME_PREFIX)
            .order_by("pk")
            .values_list("pk", "display_name", "country", "city")
        )
        listings = list(
            Listing.objects.filter(
                sku__startswith="bench-", status__in=[Listing.Status.ACTIVE, Listing.Status.SOLD_OUT]
            )
            .order_by("pk")
            .values_list("pk", "shop_id")
        )
        if not users or not listings:
            return OrderPlan.empty()
        shop_of = dict(listings)
        popular = [pk for pk, _ in listings]
        rng.shuffle(popular)
        shown = _listing_on_show()
        if shown is not None:
            popular.insert(0, shown[0])
            shop_of[shown[0]] = shown[1]
        by_shop: dict[int, list[int]] = {}
        for pk, shop_id in listings:
            by_shop.setdefault(shop_id, []).append(pk)
        shops = {
            row["pk"]: row
            for row in Shop.objects.filter(pk__in=set(shop_of.values())).values(
                "pk",
                "slug",
                "name",
                "owner_id",
                "currency",
                "country",
                "processing_days",
                "domestic_first_item",
                "domestic_additional_item",
                "international_first_item",
                "international_additional_item",
            )
        }
        buyers = [pk for pk, *_ in users]
        rng.shuffle(buyers)
        buyer_weights = _cumulative_zipf(len(buyers), BUYER_EXPONENT)
        listing_weights = _cumulative_zipf(len(popular), LISTING_EXPONENT)
        basket_sizes, basket_weights = zip(*BASKET_SIZES, strict=True)
        basket_weights = list(accumulate(basket_weights))
        checkouts = []
        planned = 0
        while planned < size.order_lines:
            buyer = rng.choices(buyers, cum_weights=buyer_weights)[0]
            wanted = min(rng.choices(basket_sizes, cum_weights=basket_weights)[0], size.order_lines - planned)
            basket: list[int] = []
            for _ in range(wanted * 3):  # a few tries: the buyer's own shop and doubles are skipped
                if len(basket) == wanted:
                    break
                if basket and rng.random() < SAME_SHOP_SHARE:
                    pick = rng.choice(by_shop.get(shop_of[basket[0]], basket))
                else:
                    pick = rng.choices(popular, cum_weights=listing_weights)[0]
                if pick not in basket and shops[shop_of[pick]]["owner_id"] != buyer:
                    basket.append(pick)
            if not basket:
                continue
            planned += len(basket)
            checkouts.append((_moment(rng), buyer, [(pk, 2 if rng.random() < 0.05 else 1) for pk in basket]))
        checkouts.sort(key=lambda checkout: checkout[0])
        details = {}
        chosen = sorted({pk for _, _, basket in checkouts for pk, _ in basket})
        for start in range(0, len(chosen), 20_000):
            for row in Listing.objects.filter(pk__in=chosen[start : start + 20_000]).values_list(
                "pk", "title", "creator", "sku", "price", "condition__name"
            ):
                details[row[0]] = row[1:]
        return OrderPlan(
            seed=self.seed,
            checkouts=checkouts,
            people={pk: (name, country, city) for pk, name, country, city in users},
            shops=shops,
            shop_of=shop_of,
            details=details,
        )

    def _review_aggregates(self, *, shop_ids: list[int]) -> None:
        """What reviews.services keeps up one change at a time, set at once for the generated
        shops and their listings: each listing's review tally, each shop's summary (all time,
        its damped score, what was held) and its months, from the reviews and ratings counted."""
        from reviews.models import Review, ReviewTally, SellerRating, ShopRatingMonth, ShopRatingSummary, Status
        from reviews.services import damped_score

        shop_ids = list(shop_ids)
        reviews = Review.objects.filter(shop_id__in=shop_ids)
        ReviewTally.objects.filter(listing__shop_id__in=shop_ids).delete()
        ShopRatingSummary.objects.filter(shop_id__in=shop_ids).delete()
        ShopRatingMonth.objects.filter(shop_id__in=shop_ids).delete()
        stars = {f"star_{number}": Count("pk", filter=Q(stars=number)) for number in range(1, 6)}
        tallies = list(
            reviews.filter(is_counted=True, listing__isnull=False)
            .values("listing_id")
            .annotate(review_count=Count("pk"), star_sum=Sum("stars"), **stars)
            .order_by("listing_id")
        )
        tally_id = TableWriter(ReviewTally).next_id()
        self._write(
            "review tallies",
            ReviewTally,
            ({"id": tally_id + number, **row} for number, row in enumerate(tallies)),
            len(tallies),
        )
        overall = {f"star_{number}": Count("pk", filter=Q(overall=number)) for number in range(1, 6)}
        figures = {
            "rating_count": Count("pk"),
            "rating_sum": Sum("overall"),
            "described_sum": Sum("item_as_described"),
            "communication_sum": Sum("communication"),
            "shipping_sum": Sum("shipping_speed"),
            **overall,
        }
        counted = SellerRating.objects.filter(shop_id__in=shop_ids, is_counted=True)
        summaries = {row.pop("shop_id"): row for row in counted.values("shop_id").annotate(**figures).order_by()}
        written = reviews.filter(is_counted=True).values("shop_id").annotate(n=Count("pk"), total=Sum("stars"))
        held = Q(status=Status.HELD)
        taken_down = Q(status__in=[Status.HIDDEN, Status.REMOVED])
        moderated = {}
        for source in (reviews, SellerRating.objects.filter(shop_id__in=shop_ids)):
            for row in (
                source.values("shop_id")
                .annotate(held=Count("pk", filter=held), down=Count("pk", filter=taken_down))
                .order_by()
            ):
                total = moderated.setdefault(row["shop_id"], [0, 0])
                total[0] += row["held"]
                total[1] += row["down"]
        review_figures = {row["shop_id"]: (row["n"], row["total"]) for row in written.order_by()}
        rows = []
        for shop_id in sorted(set(summaries) | set(review_figures) | set(moderated)):
            row = summaries.get(shop_id) or dict.fromkeys(figures, 0)
            row = {key: value or 0 for key, value in row.items()}
            review_count, review_sum = review_figures.get(shop_id, (0, 0))
            held_count, taken_down_count = moderated.get(shop_id, (0, 0))
            rows.append(
                {
                    "shop_id": shop_id,
                    **row,
                    "score": damped_score(total=row["rating_sum"], count=row["rating_count"]),
                    "review_count": review_count,
                    "review_sum": review_sum or 0,
                    "held_count": held_count,
                    "taken_down_count": taken_down_count,
                    "updated_at": END,
                }
            )
        self._write("shop rating summaries", ShopRatingSummary, iter(rows), len(rows))
        months = list(
            counted.annotate(month=TruncMonth("created_at"))
            .values("shop_id", "month")
            .annotate(**figures)
            .order_by("shop_id", "month")
        )
        month_id = TableWriter(ShopRatingMonth).next_id()
        self._write(
            "shop rating months",
            ShopRatingMonth,
            ({"id": month_id + number, **row, "month": row["month"].date()} for number, row in enumerate(months)),
            len(months),
        )
        reset_sequences(ReviewTally, ShopRatingMonth)

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
        self.orders()
        self.settle()
        return Report(size=self.size, counts=self.counts, search_terms=self.search_terms(), seconds=self.seconds)

    def run_orders(self) -> Report:
        """Only the orders stage, on a marketplace generated before it existed (no search terms
        to report: the catalog is as it was)."""
        self.orders()
        self.settle()
        return Report(size=self.size, counts=self.counts, search_terms={}, seconds=self.seconds)

    def settle(self) -> None:
        """VACUUM ANALYZE after the bulk loads (PostgreSQL, outside a transaction): it merges the
        GIN indexes' pending lists (the people search read through them: 11-21 ms, 0.06 ms
        after) and sets the visibility map the index-only scans need."""
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        self.seconds["vacuum"] = time.perf_counter() - started


# --- The orders stage's plan ------------------------------------------------------------------------


def _listing_on_show() -> tuple[int, int] | None:
    """The listing (and its shop) the benchmark's listing page shows: the one of the first
    review without a reply (harness.find_cast), if it is on sale."""
    from reviews.models import Review

    listing_id = (
        Review.objects.filter(replied_at__isnull=True, listing__status=Listing.Status.ACTIVE)
        .order_by("pk")
        .values_list("listing_id", flat=True)
        .first()
    )
    if listing_id is None:
        return None
    return listing_id, Listing.objects.filter(pk=listing_id).values_list("shop_id", flat=True).get()


def _hours(rng: random.Random, low: float, high: float) -> datetime.timedelta:
    return datetime.timedelta(hours=rng.uniform(low, high))


def _order_story(rng: random.Random, placed: datetime.datetime, processing_days: int) -> list[tuple]:
    """The transitions an order went through (lifecycle.TRANSITIONS), as (name, from, to,
    actor, moment), up to the end of the generated time: its state is the last one's."""
    from orders.lifecycle import Actor, State, add_working_days

    steps = [("placed", "", State.NEW, Actor.BUYER, placed)]

    def then(name: str, target: str, actor: str, after: datetime.timedelta) -> None:
        steps.append((name, steps[-1][2], target, actor, steps[-1][4] + after))

    roll = rng.random()
    if roll < 0.015:
        then("cancel", State.CANCELLED, Actor.SHOP, _hours(rng, 2, 30))  # declined
    elif roll < 0.02:
        due = add_working_days(placed, max(processing_days, 1)) + settings.ORDERS_CANCEL_UNACCEPTED_AFTER
        then("cancel_unaccepted", State.CANCELLED, Actor.SYSTEM, due - placed)
    elif roll < 0.035:
        then("cancel", State.CANCELLED, Actor.BUYER, _hours(rng, 1, 20))
    else:
        then("accept", State.ACCEPTED, Actor.SHOP, _hours(rng, 2, 30))
        if roll < 0.045:
            then("expire_unpaid", State.CANCELLED, Actor.SYSTEM, settings.ORDERS_PAYMENT_PERIOD)
        else:
            then("mark_paid", State.PAID, Actor.SHOP, _hours(rng, 1, 48))
            then("ship", State.SHIPPED, Actor.SHOP, _hours(rng, 4, 72))
            then("mark_delivered", State.DELIVERED, Actor.BUYER, _hours(rng, 48, 168))
            if roll < 0.065:
                then("request_return", State.RETURN_REQUESTED, Actor.BUYER, _hours(rng, 24, 240))
                then("accept_return", State.RETURNED, Actor.SHOP, _hours(rng, 4, 96))
            else:
                window = datetime.timedelta(days=settings.ORDERS_DEFAULT_RETURN_WINDOW_DAYS)
                then("complete", State.COMPLETED, Actor.SYSTEM, max(settings.ORDERS_COMPLETE_AFTER_DELIVERY, window))
    return [step for step in steps if step[4] <= END]


CARRIERS = ["Royal Mail", "PostNL", "DHL", "La Poste", "USPS"]
MOMENT_FIELDS = {
    "accept": "accepted_at",
    "mark_paid": "paid_at",
    "ship": "shipped_at",
    "mark_delivered": "delivered_at",
    "complete": "completed_at",
    "cancel": "cancelled_at",
    "cancel_unaccepted": "cancelled_at",
    "expire_unpaid": "cancelled_at",
}


class OrderPlan:
    """The checkouts drawn (moment, buyer, [(listing, quantity)]), cut into one order per shop
    with its story; rows are made as they are written."""

    def __init__(self, *, seed: int, checkouts: list, people: dict, shops: dict, shop_of: dict, details: dict):
        from orders.models import Checkout, Order, OrderItem

        self.seed, self.checkouts, self.people, self.shops = seed, checkouts, people, shops
        self.shop_of, self.details = shop_of, details
        self.checkout_first = TableWriter(Checkout).next_id()
        order_id = TableWriter(Order).next_id()
        line_id = TableWriter(OrderItem).next_id()
        self.orders = []  # (id, checkout id, buyer, shop, placed, [(line id, listing, quantity)], story)
        for index, (placed, buyer, basket) in enumerate(checkouts):
            by_shop: dict[int, list] = {}
            for listing_id, quantity in basket:
                by_shop.setdefault(shop_of[listing_id], []).append((line_id, listing_id, quantity))
                line_id += 1
            for shop_id, lines in by_shop.items():
                rng = _rng(seed, "order", len(self.orders))
                story = _order_story(rng, placed, shops[shop_id]["processing_days"])
                self.orders.append((order_id, self.checkout_first + index, buyer, shop_id, placed, lines, story))
                order_id += 1
        self.line_count = sum(len(order[5]) for order in self.orders)
        self.event_count = sum(len(order[6]) for order in self.orders)
        self.deadline_count = sum(len(self._timers(order)) for order in self.orders)
        self.return_count = sum(1 for order in self.orders if self._reached(order, "request_return"))
        self.bench_shop_ids = sorted(pk for pk, shop in shops.items() if shop["slug"].startswith(SHOP_PREFIX))

    @classmethod
    def empty(cls) -> "OrderPlan":
        return cls(seed=0, checkouts=[], people={}, shops={}, shop_of={}, details={})

    @staticmethod
    def _reached(order, name: str):
        return next((step for step in order[6] if step[0] == name), None)

    @staticmethod
    def _timers(order) -> list:
        from orders.lifecycle import FINAL_STATES, timers_for

        state = order[6][-1][2]
        return [] if state in FINAL_STATES else timers_for(state)

    def _totals(self, order) -> tuple[Decimal, Decimal]:
        from orders.selectors import money

        shop = self.shops[order[3]]
        items = sum((self.details[listing][3] * quantity for _, listing, quantity in order[5]), Decimal("0"))
        copies = sum(quantity for *_, quantity in order[5])
        domestic = self.people[order[2]][1] == shop["country"]
        first = shop["domestic_first_item"] if domestic else shop["international_first_item"]
        more = shop["domestic_additional_item"] if domestic else shop["international_additional_item"]
        return money(items), money(first + more * (copies - 1))

    def checkout_rows(self):
        for index, (placed, buyer, _) in enumerate(self.checkouts):
            yield {
                "id": self.checkout_first + index,
                "buyer_id": buyer,
                "idempotency_key": f"{CHECKOUT_KEY_PREFIX}{index + 1}",
                "created_at": placed,
            }

    def order_rows(self):
        from orders.lifecycle import Actor, State
        from orders.selectors import money

        rate = Decimal(settings.ORDERS_COMMISSION_RATE)
        for order in self.orders:
            order_id, checkout_id, buyer, shop_id, placed, _, story = order
            shop = self.shops[shop_id]
            name, country, city = self.people[buyer]
            items_total, shipping = self._totals(order)
            total = money(items_total + shipping)
            row = {
                "id": order_id,
                "checkout_id": checkout_id,
                "buyer_id": buyer,
                "shop_id": shop_id,
                "state": story[-1][2],
                "shop_name": shop["name"],
                "currency": shop["currency"],
                "processing_days": shop["processing_days"],
                "return_window_days": settings.ORDERS_DEFAULT_RETURN_WINDOW_DAYS,
                "commission_rate": rate,
                "items_total": items_total,
                "shipping_total": shipping,
                "total": total,
                "commission": money(total * rate),
                "ship_name": name,
                "ship_line1": f"{10 + buyer % 80} Station Road",
                "ship_city": city or "Bristol",
                "ship_country": country or "GB",
                "payment_provider": "manual",
                "payment_method": "bank_transfer",
                "placed_at": placed,
                "updated_at": story[-1][4],
            }
            for step in story:
                if step[0] in MOMENT_FIELDS:
                    row[MOMENT_FIELDS[step[0]]] = step[4]
            if "shipped_at" in row:
                row["carrier"] = CARRIERS[order_id % len(CARRIERS)]
                row["tracking_number"] = f"BN{order_id:010d}"
            if row["state"] == State.CANCELLED:
                name, _, _, actor, _ = story[-1]
                row["cancelled_by"] = actor
                row["cancelled_against_shop"] = actor == Actor.SHOP or name == "cancel_unaccepted"
                row["cancel_reason"] = {
                    Actor.SHOP: "Sorry: this copy sold at a fair before we saw your order.",
                    Actor.BUYER: "Found a copy closer to home.",
                }.get(actor, "")
            yield row

    def line_rows(self):
        for order in self.orders:
            for line_id, listing_id, quantity in order[5]:
                title, creator, sku, price, condition = self.details[listing_id]
                yield {
                    "id": line_id,
                    "order_id": order[0],
                    "listing_id": listing_id,
                    "title": title,
                    "creator": creator,
                    "condition": condition,
                    "sku": sku,
                    "unit_price": price,
                    "quantity": quantity,
                    "line_total": price * quantity,
                }

    def event_rows(self, first: int):
        from orders.lifecycle import Actor

        number = 0
        for order in self.orders:
            shop = self.shops[order[3]]
            buyer_name = self.people[order[2]][0]
            tracking = f"{CARRIERS[order[0] % len(CARRIERS)]}, tracking number BN{order[0]:010d}"
            messages = {
                "placed": f"{buyer_name} placed the order.",
                "accept": f"{shop['name']} accepted the order.",
                "mark_paid": f"{shop['name']} confirmed the payment.",
                "ship": f"{shop['name']} shipped the order with {tracking}.",
                "mark_delivered": f"{buyer_name} confirmed the delivery.",
                "complete": "The order is complete: its return window has closed.",
                "cancel_unaccepted": f"The order was cancelled: {shop['name']} did not accept it in time.",
                "expire_unpaid": "The order was cancelled: it was not paid in time.",
                "request_return": f"{buyer_name} asked to return it: it arrived damaged.",
                "accept_return": f"{shop['name']} accepted the return.",
            }
            for name, source, target, actor, moment in order[6]:
                if name == "cancel":
                    message = (
                        f"{shop['name']} declined the order."
                        if actor == Actor.SHOP
                        else (f"{buyer_name} cancelled the order.")
                    )
                else:
                    message = messages[name]
                yield {
                    "id": first + number,
                    "order_id": order[0],
                    "transition": name,
                    "from_state": source,
                    "to_state": target,
                    "actor_role": actor,
                    "actor_id": {Actor.BUYER: order[2], Actor.SHOP: shop["owner_id"]}.get(actor),
                    "message": message,
                    "created_at": moment,
                }
                number += 1

    def deadline_rows(self, first: int):

        number = 0
        for order in self.orders:
            entered = order[6][-1][4]
            facts = SimpleNamespace(
                processing_days=self.shops[order[3]]["processing_days"],
                return_window_days=settings.ORDERS_DEFAULT_RETURN_WINDOW_DAYS,
            )
            for timer in self._timers(order):
                due = timer.due(facts, entered)
                remind_at = due - settings.ORDERS_REMINDER_BEFORE
                yield {
                    "id": first + number,
                    "order_id": order[0],
                    "timer": timer.name,
                    "state": timer.state,
                    "due_at": due,
                    "remind_at": remind_at if remind_at > entered else None,
                }
                number += 1

    def return_rows(self, first: int):
        from orders.lifecycle import RETURN_REASONS
        from orders.models import ReturnRequest

        number = 0
        for order in self.orders:
            asked = self._reached(order, "request_return")
            if asked is None:
                continue
            decided = self._reached(order, "accept_return")
            items_total, shipping = self._totals(order)
            yield {
                "id": first + number,
                "order_id": order[0],
                "reason": "damaged",
                "details": "A corner is crushed.",
                "refund_amount": items_total + shipping,
                "refund_rule": RETURN_REASONS["damaged"].rule,
                "decision": ReturnRequest.Decision.ACCEPTED if decided else ReturnRequest.Decision.PENDING,
                "requested_at": asked[4],
                "decided_at": decided[4] if decided else None,
            }
            number += 1

    def feedback_plan(self, *, reviews: int) -> "FeedbackPlan":
        return FeedbackPlan(self, budget=reviews)


REVIEW_SHARE = 0.7  # of the budget of reviews and ratings; ratings take the rest
HELD_SHARE = 0.005
STAR_WEIGHTS = {5: 64, 4: 20, 3: 8, 2: 3, 1: 5}
REVIEW_TEXTS = {
    5: [
        ("Exactly as described", "Well packed, and *quicker* than promised. Better than the listing said."),
        ("A lovely copy", "Arrived safely in a sturdy box. I would buy from here again."),
    ],
    4: [("A good copy", "A few pencil marks inside the cover, which the shop had mentioned. Happy with it.")],
    3: [("Fine, slow to arrive", "As described, but it took almost two weeks to come.")],
    2: [("Not quite as described", "The spine is more worn than the photos showed.")],
    1: [("Disappointed", "It arrived damaged and the shop took a long time to answer.")],
}
RATING_COMMENTS = ["Friendly messages and careful packing.", "Answered my question within the hour.", ""]
HELD_REASON = "Written in a burst of reviews of this shop from new accounts."


class FeedbackPlan:
    """Reviews of the lines and ratings of the orders that shipped from the generated shops,
    within `budget` together, and the shops' feedback on half of the rated buyers; written a
    few days after the parcel arrived, as long as that is within the generated time. Ratings
    are revealed when both sides have written or the window closed; a repeat buyer's ratings
    of one shop count at most once per REVIEWS_REPEAT_RATING_PERIOD, as reviews.services has it."""

    def __init__(self, plan: OrderPlan, *, budget: int):
        from orders.selectors import FULFILLED_STATES

        self.plan = plan
        bench = set(plan.bench_shop_ids)
        shipped = [
            order
            for order in plan.orders
            if order[3] in bench and order[6][-1][2] in FULFILLED_STATES and plan._reached(order, "ship")
        ]
        lines = sum(len(order[5]) for order in shipped)
        review_chance = min(1.0, budget * REVIEW_SHARE / max(1, lines))
        rating_chance = min(1.0, (budget - review_chance * lines) / max(1, len(shipped)))
        stars, star_weights = zip(*STAR_WEIGHTS.items(), strict=True)
        star_weights = list(accumulate(star_weights))
        self.reviews, ratings, self.buyer_feedback = [], [], []
        for order in shipped:
            rng = _rng(plan.seed, "feedback", order[0] - plan.orders[0][0])
            arrived = plan._reached(order, "mark_delivered")
            arrived_at = arrived[4] if arrived else plan._reached(order, "ship")[4] + datetime.timedelta(days=4)
            for line_id, listing_id, _ in order[5]:
                written = arrived_at + _hours(rng, 2, 240)
                if rng.random() < review_chance and written <= END:
                    held = rng.random() < HELD_SHARE
                    score = rng.choices(stars, cum_weights=star_weights)[0]
                    self.reviews.append((line_id, order, listing_id, score, rng.randrange(4), written, held))
            rated = arrived_at + _hours(rng, 2, 240)
            if rng.random() < rating_chance and rated <= END:
                feedback_at = arrived_at + _hours(rng, 1, 168)
                has_feedback = rng.random() < 0.5 and feedback_at <= END
                if has_feedback:
                    revealed = max(rated, feedback_at)
                    positive = rng.random() < 0.9
                    self.buyer_feedback.append((order, feedback_at, revealed, positive))
                else:
                    closes = arrived[4] + settings.REVIEWS_FEEDBACK_WINDOW if arrived else None
                    revealed = closes if closes is not None and closes <= END else None
                overall = rng.choices(stars, cum_weights=star_weights)[0]
                values = tuple(max(1, min(5, overall + rng.choice((-1, 0, 0, 1)))) for _ in range(3))
                held = rng.random() < HELD_SHARE
                ratings.append((order, rated, revealed, (overall, *values), rng.randrange(3), held))
        # In the order they were written: whether each counts depends on the buyer's earlier ones.
        ratings.sort(key=lambda rating: (rating[1], rating[0][0]))
        last_counted: dict[tuple[int, int], datetime.datetime] = {}
        self.ratings = []
        for order, rated, revealed, values, comment, held in ratings:
            key = (order[2], order[3])
            counts = key not in last_counted or last_counted[key] <= rated - settings.REVIEWS_REPEAT_RATING_PERIOD
            if counts:
                last_counted[key] = rated
            self.ratings.append((order, rated, revealed, values, comment, held, counts))

    def review_rows(self, first: int):
        from reviews.models import Status

        html = {text: render_markdown(text) for choices in REVIEW_TEXTS.values() for _, text in choices}
        for number, (line_id, order, listing_id, stars, variant, written, held) in enumerate(self.reviews):
            title, text = REVIEW_TEXTS[stars][variant % len(REVIEW_TEXTS[stars])]
            yield {
                "id": first + number,
                "order_item_id": line_id,
                "order_id": order[0],
                "author_id": order[2],
                "shop_id": order[3],
                # Generated listings are no copies of a known work: no work to review beside them.
                "listing_id": listing_id,
                "item_title": self.plan.details[listing_id][0],
                "stars": stars,
                "title": title,
                "text": text,
                "text_html": html[text],
                "status": Status.HELD if held else Status.PUBLISHED,
                "held_reason": HELD_REASON if held else "",
                "is_counted": not held,
                "created_at": written,
                "editable_until": written + settings.REVIEWS_EDIT_WINDOW,
            }

    def rating_rows(self, first: int):
        from reviews.models import Status

        html = {comment: render_markdown(comment) if comment else "" for comment in RATING_COMMENTS}
        for number, (order, rated, revealed, values, comment, held, counts) in enumerate(self.ratings):
            overall, described, communication, shipping = values
            text = RATING_COMMENTS[comment]
            yield {
                "id": first + number,
                "order_id": order[0],
                "author_id": order[2],
                "shop_id": order[3],
                "overall": overall,
                "item_as_described": described,
                "communication": communication,
                "shipping_speed": shipping,
                "comment": text,
                "comment_html": html[text],
                "status": Status.HELD if held else Status.PUBLISHED,
                "held_reason": HELD_REASON if held else "",
                "counts_towards_score": counts,
                "is_counted": counts and not held and revealed is not None,
                "revealed_at": revealed,
                "created_at": rated,
                "editable_until": rated + settings.REVIEWS_EDIT_WINDOW,
            }

    def buyer_feedback_rows(self, first: int):
        from reviews.models import BuyerFeedback

        for number, (order, written, revealed, positive) in enumerate(self.buyer_feedback):
            yield {
                "id": first + number,
                "order_id": order[0],
                "shop_id": order[3],
                "buyer_id": order[2],
                "author_id": self.plan.shops[order[3]]["owner_id"],
                "value": BuyerFeedback.Value.POSITIVE if positive else BuyerFeedback.Value.NEUTRAL,
                "comment": "Paid promptly, a pleasure to deal with." if positive else "",
                "revealed_at": revealed,
                "created_at": written,
            }


def bench_data_present() -> bool:
    return Shop.objects.filter(slug__startswith=SHOP_PREFIX).exists()


def bench_orders_present() -> bool:
    from orders.models import Checkout

    return Checkout.objects.filter(idempotency_key__startswith=CHECKOUT_KEY_PREFIX).exists()


def generate(*, size: Size, seed: int, stream=None) -> Report | None:
    """Add the bench data of `size`: all of it on a database without any; only the orders
    stage on one generated before that stage existed; None, changing nothing, when it is all
    there."""
    generator = Generator(size=size, seed=seed, progress=Progress(stream))
    if not bench_data_present():
        return generator.run()
    if not bench_orders_present():
        return generator.run_orders()
    return None
