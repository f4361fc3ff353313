"""Recommendations from what people look at and buy: "people who looked at this also looked
at", "people who bought this also bought" and "N% of people who looked at this bought it",
counted over everyone or over the people the viewer follows.

What is counted. An item is a work (all its copies, from every shop) or a listing that is
no copy of a known work. Pages record views and checkouts record purchases as
RecommendationEvent rows; the `refresh_recommendations` task (queue `recommendations`)
drains them in order, under the one RecommendationsState row lock, into:
- PersonItem: one row per person and item, numbered in the order the person's items were
  counted (views and purchases apart; buying counts as looking);
- ItemPair: for each pair of items, how many people looked at both / bought both. A newly
  counted item pairs with the PAIR_WINDOW items the same person had counted just before it,
  which bounds the work per event however much one person browses;
- ItemStats: how many people looked at / bought each item.
It is incremental (each event is counted once, then deleted), idempotent (a second run, or a
run delivered twice, finds the events already gone; the lock keeps two runs from counting
one person at once) and exact to undo: switching off the use of one's data (person_forget)
takes away precisely the pairs the numbering says that person added. recommendations_rebuild
recounts the same tables from the orders in a few set-based statements (after a bulk load, or
to repair them): the same rows as counting the events one by one.

What is shown. Nothing about an item before MIN_SUPPORT people are behind a figure, so no
figure ever rests on one person's views or purchases; a person who switched the use of their
data off is in no figure. The "people I follow" figures are counted when the page asks, over
those people's PersonItem rows (all their items, not only the window), with the same minimum.
"""

import contextlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from catalog.models import Listing, TaggedListing

from .models import (
    Follow,
    ItemPair,
    ItemStats,
    PersonItem,
    RecommendationEvent,
    RecommendationItem,
    RecommendationsState,
    SharingSettings,
    TrendingEntry,
)

MIN_SUPPORT = settings.SOCIAL_RECOMMENDATIONS_MIN_SUPPORT
PAIR_WINDOW = 50
EVENT_BATCH = 1_000
SHOWN = 6
TRENDING_WINDOW = timedelta(days=7)
TRENDING_SIZE = 10


class Scope:
    EVERYONE = "everyone"
    NETWORK = "network"
    CHOICES = [(EVERYONE, "Everyone"), (NETWORK, "People I follow")]
    VALUES = {EVERYONE, NETWORK}


# --- Recording -----------------------------------------------------------------------------------


def uses_data_of(*, user) -> bool:
    """Whether `user`'s views and purchases may count (on unless they switched it off)."""
    if user is None or not user.is_authenticated:
        return False
    chosen = SharingSettings.objects.filter(user_id=user.pk).values_list("use_for_recommendations", flat=True).first()
    return True if chosen is None else chosen


def view_record(*, user, listing: Listing | None = None, work=None) -> bool:
    """`user` looked at a listing or a work page; counted by the next refresh. Nothing is
    recorded for visitors who are not signed in, or who switched the use of their data off."""
    if user is None or not user.is_authenticated:
        return False
    # One statement rather than reading the person's choice first (see uses_data_of): every
    # page view of a signed-in shopper pays for this.
    events, sharing = RecommendationEvent._meta, SharingSettings._meta
    quote = connection.ops.quote_name
    insert = (
        f"INSERT INTO {quote(events.db_table)} (user_id, kind, listing_id, work_id, created_at) "  # noqa: S608 - our own table names
        f"SELECT %s, %s, %s, %s, %s WHERE NOT EXISTS (SELECT 1 FROM {quote(sharing.db_table)} "
        "WHERE user_id = %s AND NOT use_for_recommendations)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            insert,
            [
                user.pk,
                RecommendationEvent.Kind.VIEW.value,
                listing.pk if listing is not None else None,
                work.pk if work is not None else None,
                timezone.now(),
                user.pk,
            ],
        )
        return cursor.rowcount == 1


def _enqueue_refresh() -> None:
    from .tasks import refresh_recommendations

    with contextlib.suppress(BrokerError, OSError):  # beat runs the refresh every minute anyway
        refresh_recommendations.apply_async(retry=False)


def purchases_record(*, user, listings: list[Listing]) -> int:
    """`user` bought these listings (in the checkout's transaction); counted once it commits."""
    if not listings or not uses_data_of(user=user):
        return 0
    RecommendationEvent.objects.bulk_create(
        [
            RecommendationEvent(
                user_id=user.pk, kind=RecommendationEvent.Kind.PURCHASE, listing_id=listing.pk, work_id=listing.work_id
            )
            for listing in listings
        ]
    )
    transaction.on_commit(_enqueue_refresh)
    return len(listings)


# --- Counting --------------------------------------------------------------------------------------


def _lock_state() -> RecommendationsState:
    RecommendationsState.objects.get_or_create(pk=1)
    return RecommendationsState.objects.select_for_update().get(pk=1)


def _add_pairs(*, item_id: int, other_ids: list[int], field: str, delta: int) -> None:
    """Move the `field` count of the pairs (item, other) and (other, item) by `delta`."""
    if not other_ids:
        return
    if delta > 0:
        ItemPair.objects.bulk_create(
            [ItemPair(item_id=item_id, other_id=other) for other in other_ids]
            + [ItemPair(item_id=other, other_id=item_id) for other in other_ids],
            ignore_conflicts=True,
        )
    ItemPair.objects.filter(
        Q(item_id=item_id, other_id__in=other_ids) | Q(item_id__in=other_ids, other_id=item_id)
    ).update(**{field: F(field) + delta})


def _move_stats(*, item_id: int, viewers: int = 0, buyers: int = 0) -> None:
    ItemStats.objects.get_or_create(item_id=item_id)
    ItemStats.objects.filter(item_id=item_id).update(viewers=F("viewers") + viewers, buyers=F("buyers") + buyers)


def _number_pairs(*, user_id: int, number_field: str, count_field: str, item_id: int) -> int:
    """Give `item_id` the next number among `user_id`'s items and count its pairs with the
    PAIR_WINDOW items numbered just before it. Returns the number."""
    mine = PersonItem.objects.filter(user_id=user_id, **{f"{number_field}__isnull": False})
    number = (mine.order_by(f"-{number_field}").values_list(number_field, flat=True).first() or 0) + 1
    window = {f"{number_field}__gte": number - PAIR_WINDOW, f"{number_field}__lt": number}
    others = list(mine.filter(**window).values_list("item_id", flat=True))
    _add_pairs(item_id=item_id, other_ids=others, field=count_field, delta=1)
    return number


def _count_one(*, user_id: int, item_id: int, is_purchase: bool, at) -> None:
    person_item, _ = PersonItem.objects.get_or_create(user_id=user_id, item_id=item_id)
    changed = False
    if person_item.view_number is None:
        person_item.view_number = _number_pairs(
            user_id=user_id, number_field="view_number", count_field="viewers", item_id=item_id
        )
        person_item.viewed_at = at
        _move_stats(item_id=item_id, viewers=1)
        changed = True
    if is_purchase and person_item.purchase_number is None:
        person_item.purchase_number = _number_pairs(
            user_id=user_id, number_field="purchase_number", count_field="buyers", item_id=item_id
        )
        person_item.bought_at = at
        _move_stats(item_id=item_id, buyers=1)
        changed = True
    if changed:
        person_item.save()


def _items_for(events: list[dict]) -> dict[tuple[str, int], int]:
    """The item id of each event's work (its own, or its listing's) or else its listing."""
    keys = {("w", event["work"]) if event["work"] else ("l", event["listing_id"]) for event in events}
    found: dict[tuple[str, int], int] = {}
    work_ids = [key[1] for key in keys if key[0] == "w"]
    listing_ids = [key[1] for key in keys if key[0] == "l"]
    for item in RecommendationItem.objects.filter(Q(work_id__in=work_ids) | Q(listing_id__in=listing_ids)):
        found[("w", item.work_id) if item.work_id else ("l", item.listing_id)] = item.pk
    for kind, pk in keys - set(found):
        item, _ = RecommendationItem.objects.get_or_create(**({"work_id": pk} if kind == "w" else {"listing_id": pk}))
        found[(kind, pk)] = item.pk
    return found


def events_count(*, batch: int = EVENT_BATCH) -> int:
    """Count the waiting view and purchase events, `batch` per transaction, oldest first;
    returns how many were counted. Safe to run twice or side by side (see the module)."""
    counted = 0
    while True:
        with transaction.atomic():
            state = _lock_state()
            events = list(
                RecommendationEvent.objects.order_by("pk").values(
                    "pk", "user_id", "kind", "listing_id", "created_at", item_work=F("work_id")
                )[:batch]
            )
            if not events:
                return counted
            listing_works = dict(
                Listing.objects.filter(pk__in={event["listing_id"] for event in events if not event["item_work"]})
                .exclude(work_id=None)
                .values_list("pk", "work_id")
            )
            for event in events:
                event["work"] = event.pop("item_work") or listing_works.get(event["listing_id"])
            opted_out = set(
                SharingSettings.objects.filter(
                    user_id__in={event["user_id"] for event in events}, use_for_recommendations=False
                ).values_list("user_id", flat=True)
            )
            kept = [event for event in events if event["user_id"] not in opted_out]
            items = _items_for(kept)
            for event in kept:
                key = ("w", event["work"]) if event["work"] else ("l", event["listing_id"])
                _count_one(
                    user_id=event["user_id"],
                    item_id=items[key],
                    is_purchase=event["kind"] == RecommendationEvent.Kind.PURCHASE,
                    at=event["created_at"],
                )
            RecommendationEvent.objects.filter(pk__in=[event["pk"] for event in events]).delete()
            state.counted_events += len(kept)
            state.updated_at = timezone.now()
            state.save(update_fields=["counted_events", "updated_at"])
        counted += len(kept)
        if len(events) < batch:
            return counted


def person_forget(*, user_id: int) -> int:
    """Take `user_id`'s views and purchases out of every count (they switched the use of
    their data off): exactly the pairs and totals they added, then their rows. Call inside a
    transaction; returns how many of their items went."""
    with transaction.atomic():
        _lock_state()
        RecommendationEvent.objects.filter(user_id=user_id).delete()
        rows = list(PersonItem.objects.filter(user_id=user_id).values("item_id", "view_number", "purchase_number"))
        for number_field, count_field in (("view_number", "viewers"), ("purchase_number", "buyers")):
            by_number = {row[number_field]: row["item_id"] for row in rows if row[number_field] is not None}
            for number, item_id in by_number.items():
                earlier = [by_number[n] for n in range(number - PAIR_WINDOW, number) if n in by_number]
                _add_pairs(item_id=item_id, other_ids=earlier, field=count_field, delta=-1)
        touched = [row["item_id"] for row in rows]
        for row in rows:
            ItemStats.objects.filter(item_id=row["item_id"]).update(
                viewers=F("viewers") - (1 if row["view_number"] is not None else 0),
                buyers=F("buyers") - (1 if row["purchase_number"] is not None else 0),
            )
        ItemPair.objects.filter(Q(item_id__in=touched) | Q(other_id__in=touched), viewers=0, buyers=0).delete()
        PersonItem.objects.filter(user_id=user_id).delete()
    return len(rows)


# --- Rebuilding from the source data --------------------------------------------------------------


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild found: purchases counted (one per person and item), pairs of items
    counted, and how many rows of PersonItem, ItemStats and ItemPair it had to change."""

    purchases: int
    pairs: int
    changed: int


def _tables() -> dict[str, str]:
    from accounts.models import User
    from orders.models import Order, OrderItem

    from .models import SharingConsent

    quote = connection.ops.quote_name
    models = {
        "users": User,
        "orders": Order,
        "lines": OrderItem,
        "listings": Listing,
        "items": RecommendationItem,
        "people": PersonItem,
        "stats": ItemStats,
        "pairs": ItemPair,
        "sharing": SharingSettings,
        "consents": SharingConsent,
    }
    return {name: quote(model._meta.db_table) for name, model in models.items()}


# Each person's purchases that count: their order lines (of a listing still there) unless they
# switched the use of their data off or were erased, and, if they ever switched it off and back
# on, only what they bought since (person_forget took the rest out, and purchases_record
# recorded nothing while it was off).
_COUNTED_LINES = """
CREATE TEMPORARY TABLE rebuild_lines AS
WITH last_off AS (
    SELECT user_id, MAX(decided_at) AS at FROM {consents} WHERE NOT use_for_recommendations GROUP BY user_id
), back_on AS (
    SELECT consent.user_id, MIN(consent.decided_at) AS at
    FROM {consents} consent JOIN last_off ON last_off.user_id = consent.user_id AND consent.decided_at > last_off.at
    WHERE consent.use_for_recommendations
    GROUP BY consent.user_id
)
SELECT buyer.id AS user_id, line.id AS line_id, placed.placed_at, listing.id AS listing_id, listing.work_id
FROM {lines} line
JOIN {orders} placed ON placed.id = line.order_id
JOIN {listings} listing ON listing.id = line.listing_id
JOIN {users} buyer ON buyer.id = placed.buyer_id AND buyer.erased_at IS NULL
LEFT JOIN {sharing} sharing ON sharing.user_id = buyer.id
LEFT JOIN last_off ON last_off.user_id = buyer.id
LEFT JOIN back_on ON back_on.user_id = buyer.id
WHERE (sharing.user_id IS NULL OR sharing.use_for_recommendations)
  AND (last_off.user_id IS NULL OR placed.placed_at >= back_on.at)
"""

_NEW_ITEMS = [
    """INSERT INTO {items} (work_id)
    SELECT DISTINCT work_id FROM rebuild_lines line
    WHERE work_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {items} item WHERE item.work_id = line.work_id)""",
    """INSERT INTO {items} (listing_id)
    SELECT DISTINCT listing_id FROM rebuild_lines line
    WHERE work_id IS NULL AND NOT EXISTS (SELECT 1 FROM {items} item WHERE item.listing_id = line.listing_id)""",
]

# One row per person and item bought: numbered in the order of their first order line, as the
# events of a checkout are (its lines in order); an item they had not looked at is numbered
# after everything they had, as counting the purchase event would.
_PURCHASES = """
CREATE TEMPORARY TABLE rebuild_purchases AS
WITH bought AS (
    SELECT line.user_id, COALESCE(by_work.id, by_listing.id) AS item_id,
           MIN(line.line_id) AS first_line, MIN(line.placed_at) AS bought_at
    FROM rebuild_lines line
    LEFT JOIN {items} by_work ON by_work.work_id = line.work_id
    LEFT JOIN {items} by_listing ON by_listing.listing_id = line.listing_id AND line.work_id IS NULL
    GROUP BY line.user_id, COALESCE(by_work.id, by_listing.id)
), last_view AS (
    SELECT user_id, MAX(view_number) AS number FROM {people} WHERE view_number IS NOT NULL GROUP BY user_id
)
SELECT bought.user_id, bought.item_id, bought.bought_at, person.id AS person_item_id,
       ROW_NUMBER() OVER (PARTITION BY bought.user_id ORDER BY bought.first_line) AS purchase_number,
       CASE WHEN person.view_number IS NULL THEN
           COALESCE(last_view.number, 0)
           + ROW_NUMBER() OVER (PARTITION BY bought.user_id, person.view_number IS NULL ORDER BY bought.first_line)
       END AS new_view_number
FROM bought
LEFT JOIN {people} person ON person.user_id = bought.user_id AND person.item_id = bought.item_id
LEFT JOIN last_view ON last_view.user_id = bought.user_id
"""

_PEOPLE = [
    # Purchases the source no longer holds (a line's listing was deleted from a work's copies).
    """UPDATE {people} SET purchase_number = NULL, bought_at = NULL
    WHERE purchase_number IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM rebuild_purchases bought WHERE bought.person_item_id = {people}.id)""",
    # Rows counted before keep the moments they were counted at.
    """UPDATE {people} SET purchase_number = bought.purchase_number,
        bought_at = COALESCE({people}.bought_at, bought.bought_at),
        view_number = COALESCE({people}.view_number, bought.new_view_number),
        viewed_at = COALESCE({people}.viewed_at, bought.bought_at)
    FROM rebuild_purchases bought
    WHERE bought.person_item_id = {people}.id AND (
        {people}.purchase_number IS NULL OR {people}.purchase_number <> bought.purchase_number
        OR {people}.bought_at IS NULL OR {people}.view_number IS NULL OR {people}.viewed_at IS NULL)""",
    """INSERT INTO {people} (user_id, item_id, view_number, viewed_at, purchase_number, bought_at)
    SELECT user_id, item_id, new_view_number, bought_at, purchase_number, bought_at
    FROM rebuild_purchases WHERE person_item_id IS NULL ORDER BY user_id, purchase_number""",
]

_STATS = [
    # "WHERE 1 = 1": SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT.
    """INSERT INTO {stats} (item_id, viewers, buyers)
    SELECT item_id, COUNT(view_number), COUNT(purchase_number) FROM {people} WHERE 1 = 1 GROUP BY item_id
    ON CONFLICT (item_id) DO UPDATE SET viewers = excluded.viewers, buyers = excluded.buyers
    WHERE {stats}.viewers <> excluded.viewers OR {stats}.buyers <> excluded.buyers""",
    # Items nobody is behind any more keep their row at zero, as person_forget leaves them.
    """UPDATE {stats} SET viewers = 0, buyers = 0 WHERE (viewers <> 0 OR buyers <> 0)
    AND NOT EXISTS (SELECT 1 FROM {people} person WHERE person.item_id = {stats}.item_id)""",
]

# The pairs each person's numbering makes: two items numbered at most PAIR_WINDOW apart, as
# _number_pairs counts them one item at a time. One self-join per person (a few thousand items
# at most make a few million candidate rows), then the counts of each pair.
_PAIRS = """
CREATE TEMPORARY TABLE rebuild_pairs AS
SELECT mine.item_id, theirs.item_id AS other_id,
    SUM(CASE WHEN mine.view_number - theirs.view_number BETWEEN -{window} AND {window} THEN 1 ELSE 0 END)
        AS viewers,
    SUM(CASE WHEN mine.purchase_number - theirs.purchase_number BETWEEN -{window} AND {window} THEN 1 ELSE 0 END)
        AS buyers
FROM {people} mine JOIN {people} theirs ON theirs.user_id = mine.user_id AND theirs.id <> mine.id
WHERE mine.view_number - theirs.view_number BETWEEN -{window} AND {window}
   OR mine.purchase_number - theirs.purchase_number BETWEEN -{window} AND {window}
GROUP BY mine.item_id, theirs.item_id
"""

# What differs between the pairs kept and the pairs counted, in one pass over both (a second run
# finds nothing, and writes nothing): gone (no counted pair), new (no id), or recounted.
_PAIR_CHANGES = """
CREATE TEMPORARY TABLE rebuild_pair_changes AS
SELECT kept.id, pair.item_id, pair.other_id, pair.viewers, pair.buyers
FROM {pairs} kept FULL JOIN rebuild_pairs pair ON pair.item_id = kept.item_id AND pair.other_id = kept.other_id
WHERE pair.item_id IS NULL OR kept.id IS NULL OR kept.viewers <> pair.viewers OR kept.buyers <> pair.buyers
"""
_PAIR_WRITES = [
    "DELETE FROM {pairs} WHERE id IN (SELECT id FROM rebuild_pair_changes WHERE item_id IS NULL)",
    """UPDATE {pairs} SET viewers = changed.viewers, buyers = changed.buyers FROM rebuild_pair_changes changed
    WHERE changed.id = {pairs}.id AND changed.item_id IS NOT NULL""",
    """INSERT INTO {pairs} (item_id, other_id, viewers, buyers)
    SELECT item_id, other_id, viewers, buyers FROM rebuild_pair_changes WHERE id IS NULL ORDER BY item_id, other_id""",
]
_TEMPORARY = ("rebuild_lines", "rebuild_purchases", "rebuild_pairs", "rebuild_pair_changes")


def recommendations_rebuild() -> Rebuilt:
    """Recount every purchase from the orders and every pair and total from the people's
    numbered items, in a few set-based statements, leaving the tables as counting each event
    one at a time (events_count) would have: the same PersonItem, ItemStats and ItemPair rows.

    The source of truth: for purchases, the order lines (people who switched the use of their
    data off, or were erased, left out as purchases_record and person_forget leave them); for
    views, PersonItem's view numbers, because a view is kept nowhere else once counted (the
    events are deleted): they stay as they are, and only the pairs and totals made of them are
    recomputed. An item bought but never looked at is numbered as looked at too, after the
    person's other items, as counting its purchase event would. Rows counted before keep their
    moments (viewed_at, bought_at); new ones get the moment of the order.

    The waiting events are counted first. Runs under the lock events_count takes (the one
    RecommendationsState row), so the two never interleave; running it again changes nothing
    (returns changed=0)."""
    tables = _tables()
    changed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_state()
        events_count()

        def run(sql: str) -> int:
            cursor.execute(sql.format(**tables, window=PAIR_WINDOW))
            return max(cursor.rowcount, 0)

        if connection.vendor == "postgresql":
            # The pair counts are grouped in memory rather than spilled to disk.
            cursor.execute("SET LOCAL work_mem = '256MB'")
        for name in _TEMPORARY:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
        run(_COUNTED_LINES)
        for sql in _NEW_ITEMS:
            run(sql)
        run(_PURCHASES)
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE rebuild_purchases")
        else:  # SQLite probes the purchases once for each person's item (_PEOPLE's first update)
            cursor.execute("CREATE INDEX rebuild_purchases_item ON rebuild_purchases (person_item_id)")
        for sql in _PEOPLE:
            changed += run(sql)
        if connection.vendor == "postgresql":
            # After a bulk load the planner would otherwise take PersonItem for nearly empty.
            cursor.execute(f"ANALYZE {tables['people']}")
        for sql in _STATS:
            changed += run(sql)
        run(_PAIRS)
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE rebuild_pairs")
        else:
            # SQLite's FULL JOIN probes the counted pairs once for each kept pair: without this
            # index a rebuild over kept tables at size S ran for minutes.
            cursor.execute("CREATE INDEX rebuild_pairs_key ON rebuild_pairs (item_id, other_id)")
        run(_PAIR_CHANGES)
        for sql in _PAIR_WRITES:
            changed += run(sql)
        cursor.execute("SELECT COUNT(*) FROM rebuild_purchases")
        purchases = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM rebuild_pairs")
        pairs = cursor.fetchone()[0]
        for name in _TEMPORARY:
            cursor.execute(f"DROP TABLE {name}")
        if changed and connection.vendor == "postgresql":
            # A bulk rebuild leaves the planner blind until autovacuum comes round: at M the
            # listing page's pairs query took 4.4 s before these, 0.04 s after.
            for name in ("items", "stats", "pairs"):
                cursor.execute(f"ANALYZE {tables[name]}")
    return Rebuilt(purchases=purchases, pairs=pairs, changed=changed)


# --- Trending ---------------------------------------------------------------------------------------


def _available(prefix: str = "") -> Q:
    """Items someone can buy now, seen through the relation `prefix` (none: the item itself):
    a listing on sale, or a work with a copy on sale."""
    path = f"{prefix}__" if prefix else ""
    copy_on_sale = Listing.objects.filter(
        work_id=OuterRef(f"{path}work_id"), status=Listing.Status.ACTIVE, quantity__gt=0
    )
    return Q(**{f"{path}listing__status": Listing.Status.ACTIVE}) | Q(
        Exists(copy_on_sale), **{f"{path}work__isnull": False}
    )


def trending_refresh(*, now=None) -> dict[str, int]:
    """Recompute what the "everyone" view shows as trending over the last TRENDING_WINDOW:
    the items most people first looked at (at least MIN_SUPPORT of them), the tags most
    people applied and the shops most people started following. Returns how many of each."""
    now = now or timezone.now()
    since = now - TRENDING_WINDOW
    available = RecommendationItem.objects.filter(_available()).values("pk")
    items = list(
        PersonItem.objects.filter(viewed_at__gte=since, item_id__in=available)
        .values("item_id")
        .annotate(people=Count("user_id"))
        .filter(people__gte=MIN_SUPPORT)
        .order_by("-people", "item_id")[:TRENDING_SIZE]
    )
    tags = list(
        TaggedListing.objects.filter(created_at__gte=since, tag__is_hidden=False, tag__merged_into__isnull=True)
        .values("tag_id")
        .annotate(people=Count("tagged_by_id", distinct=True))
        .order_by("-people", "tag_id")[:TRENDING_SIZE]
    )
    shops = list(
        Follow.objects.filter(created_at__gte=since, shop__isnull=False)
        .values("shop_id")
        .annotate(people=Count("follower_id"))
        .order_by("-people", "shop_id")[:TRENDING_SIZE]
    )
    entries = [
        TrendingEntry(kind=TrendingEntry.Kind.ITEM, rank=rank, item_id=row["item_id"], people=row["people"])
        for rank, row in enumerate(items, 1)
    ]
    entries += [
        TrendingEntry(kind=TrendingEntry.Kind.TAG, rank=rank, tag_id=row["tag_id"], people=row["people"])
        for rank, row in enumerate(tags, 1)
    ]
    entries += [
        TrendingEntry(kind=TrendingEntry.Kind.SHOP, rank=rank, shop_id=row["shop_id"], people=row["people"])
        for rank, row in enumerate(shops, 1)
    ]
    with transaction.atomic():
        state = _lock_state()
        TrendingEntry.objects.all().delete()
        TrendingEntry.objects.bulk_create(entries)
        state.trending_at = now
        state.save(update_fields=["trending_at"])
    return {"items": len(items), "tags": len(tags), "shops": len(shops)}


@dataclass
class Trending:
    items: list["Recommended"]
    tags: list[TrendingEntry]
    shops: list[TrendingEntry]

    @property
    def is_empty(self) -> bool:
        return not (self.items or self.tags or self.shops)


def trending() -> Trending:
    """What is trending, as last computed (one query)."""
    entries = list(
        TrendingEntry.objects.select_related("item__work", "item__listing__shop", "tag", "shop").order_by(
            "kind", "rank"
        )
    )
    grouped = defaultdict(list)
    for entry in entries:
        grouped[entry.kind].append(entry)
    return Trending(
        items=[Recommended(item=entry.item, people=entry.people) for entry in grouped[TrendingEntry.Kind.ITEM]],
        tags=grouped[TrendingEntry.Kind.TAG],
        shops=grouped[TrendingEntry.Kind.SHOP],
    )


# --- Reading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recommended:
    """An item recommended, with how many people are behind it."""

    item: RecommendationItem
    people: int

    @property
    def title(self) -> str:
        return self.item.work.title if self.item.work_id else self.item.listing.title

    @property
    def creator(self) -> str:
        return self.item.work.creator if self.item.work_id else self.item.listing.creator

    @property
    def url(self) -> str:
        if self.item.work_id:
            return reverse("catalog:work", kwargs={"pk": self.item.work_id})
        return reverse("catalog:listing", kwargs={"pk": self.item.listing_id})

    @property
    def is_work(self) -> bool:
        return self.item.work_id is not None

    @property
    def listing(self) -> Listing | None:
        return self.item.listing


@dataclass
class Recommendations:
    scope: str
    also_viewed: list[Recommended]
    also_bought: list[Recommended]
    viewers: int
    buyers: int
    min_support: int = MIN_SUPPORT

    @property
    def bought_percent(self) -> int | None:
        """The share of those who looked who bought it: only once at least MIN_SUPPORT people
        looked and at least MIN_SUPPORT bought, so it never points at one person."""
        if self.viewers < MIN_SUPPORT or self.buyers < MIN_SUPPORT:
            return None
        return round(100 * self.buyers / self.viewers)

    @property
    def is_network(self) -> bool:
        return self.scope == Scope.NETWORK

    @property
    def has_anything(self) -> bool:
        return bool(self.also_viewed or self.also_bought or self.bought_percent is not None)


def parse_scope(raw, *, viewer) -> str:
    """The scope asked for; "network" only for someone signed in."""
    if raw == Scope.NETWORK and viewer is not None and viewer.is_authenticated:
        return Scope.NETWORK
    return Scope.EVERYONE


def _item_match(*, listing: Listing | None, work) -> dict:
    if work is not None:
        return {"work_id": work.pk}
    if listing.work_id:
        return {"work_id": listing.work_id}
    return {"listing_id": listing.pk}


def _prefixed(match: dict, prefix: str) -> dict:
    return {f"{prefix}__{key}": value for key, value in match.items()}


def _everyone(match: dict) -> Recommendations:
    """Two queries: the pairs (the first SHOWN by viewers and the first SHOWN by buyers, ranked
    in one query), the item's totals."""
    # Pairs with enough viewers rank before those without, so the first SHOWN by viewers among
    # the pairs with enough support of either kind are the first SHOWN with enough viewers.
    pairs = list(
        ItemPair.objects.filter(**_prefixed(match, "item"))
        .filter(_available("other"))
        .filter(Q(viewers__gte=MIN_SUPPORT) | Q(buyers__gte=MIN_SUPPORT))
        .select_related("other__work", "other__listing__shop")
        .annotate(
            viewed_rank=Window(RowNumber(), order_by=[F("viewers").desc(), F("other_id").asc()]),
            bought_rank=Window(RowNumber(), order_by=[F("buyers").desc(), F("other_id").asc()]),
        )
        .filter(
            Q(viewed_rank__lte=SHOWN, viewers__gte=MIN_SUPPORT) | Q(bought_rank__lte=SHOWN, buyers__gte=MIN_SUPPORT)
        )
    )
    viewed = sorted(
        (pair for pair in pairs if pair.viewers >= MIN_SUPPORT and pair.viewed_rank <= SHOWN),
        key=lambda pair: pair.viewed_rank,
    )
    bought = sorted(
        (pair for pair in pairs if pair.buyers >= MIN_SUPPORT and pair.bought_rank <= SHOWN),
        key=lambda pair: pair.bought_rank,
    )
    totals = ItemStats.objects.filter(**_prefixed(match, "item")).values_list("viewers", "buyers").first() or (0, 0)
    return Recommendations(
        scope=Scope.EVERYONE,
        also_viewed=[Recommended(item=pair.other, people=pair.viewers) for pair in viewed],
        also_bought=[Recommended(item=pair.other, people=pair.buyers) for pair in bought],
        viewers=totals[0],
        buyers=totals[1],
    )


def _network(match: dict, viewer) -> Recommendations:
    """Four queries: also looked at, also bought, totals (each over the people `viewer`
    follows), then the items recommended."""
    followed = Follow.objects.filter(follower_id=viewer.pk, person__isnull=False).values("person_id")
    here = PersonItem.objects.filter(user_id__in=followed, **_prefixed(match, "item"))
    elsewhere = PersonItem.objects.exclude(**_prefixed(match, "item")).filter(_available("item"))
    viewed = list(
        elsewhere.filter(user_id__in=here.values("user_id"))
        .values("item_id")
        .annotate(people=Count("user_id"))
        .filter(people__gte=MIN_SUPPORT)
        .order_by("-people", "item_id")[:SHOWN]
    )
    bought = list(
        elsewhere.filter(
            user_id__in=here.filter(purchase_number__isnull=False).values("user_id"), purchase_number__isnull=False
        )
        .values("item_id")
        .annotate(people=Count("user_id"))
        .filter(people__gte=MIN_SUPPORT)
        .order_by("-people", "item_id")[:SHOWN]
    )
    totals = here.aggregate(viewers=Count("pk"), buyers=Count("pk", filter=Q(purchase_number__isnull=False)))
    items = RecommendationItem.objects.select_related("work", "listing__shop").in_bulk(
        {row["item_id"] for row in viewed + bought}
    )
    return Recommendations(
        scope=Scope.NETWORK,
        also_viewed=[Recommended(item=items[row["item_id"]], people=row["people"]) for row in viewed],
        also_bought=[Recommended(item=items[row["item_id"]], people=row["people"]) for row in bought],
        viewers=totals["viewers"],
        buyers=totals["buyers"],
    )


def recommendations_for(*, viewer, scope: str, listing: Listing | None = None, work=None) -> Recommendations:
    """What to recommend beside a listing (or a work), counted over everyone or over the
    people `viewer` follows, in a fixed number of queries (two, or four for the network)."""
    match = _item_match(listing=listing, work=work)
    if scope == Scope.NETWORK and viewer is not None and viewer.is_authenticated:
        return _network(match, viewer)
    return _everyone(match)
