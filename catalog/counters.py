"""The maintained counts of listings (catalog.models: ShopListingCount, CategoryListingCount,
TagListingCount, ShopTagCount): the database triggers that keep them, their exact recount, and
the reads of them.

Triggers rather than calls from the services, because listings change along many paths: the
catalog services, the order flow taking and giving back stock, bulk imports (bulk_create or
COPY), the bench generator, the admin, Django's cascades when a shop, category or tag goes. A
trigger counts every one of them and cannot be forgotten by the next bulk path.

- PostgreSQL: statement-level AFTER triggers with transition tables, so a statement writing
  100,000 rows updates each count once (one grouped statement per kind of count), not 100,000
  times. Deltas are exact for any mix of rows: every new row counts +1 and every old row -1,
  summed per key, so an UPDATE that changes nothing a count depends on nets to zero.
- SQLite: row-level triggers doing the same per row.

A count falling is applied with UPDATE only, never inserted: when a shop, category or tag is
deleted, Django deletes its count rows and its listings (or applications) in one transaction,
in whichever order, and a count row inserted again for a deleted owner would break its foreign
key at commit.

Counts read outside of these triggers may drift only by hand-made SQL that bypasses them
(TRUNCATE, triggers disabled by a restore): `recount_all()` counts everything again exactly,
set-based, and the nightly catalog.tasks.reconcile_counts calls it."""

# Every statement here is built from our own table and column names only; no value from
# outside ever goes into one, so string-built SQL is safe.
# ruff: noqa: S608

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Sum
from django.utils.functional import cached_property

ON_SALE = ("active", "sold_out")
_ON_SALE_SQL = "('active', 'sold_out')"

# --- PostgreSQL triggers ----------------------------------------------------------------------------


def _pg_statement(shared: dict[str, str], targets: list[tuple[str, tuple[str, ...], str]]) -> str:
    """One statement computing the `shared` row sets once (materialised) and adding each
    target's deltas (a query giving keys… and delta) to its table: falls by UPDATE, rises by
    upsert. The last target's upsert is the statement itself (PostgreSQL keeps data-modifying
    WITH queries to the top level of a statement)."""
    parts = [f"{name} AS MATERIALIZED ({sql})" for name, sql in shared.items()]
    for number, (table, keys, summed) in enumerate(targets):
        columns = ", ".join(keys)
        match = " AND ".join(f"counted.{key} = summed.{key}" for key in keys)
        parts.append(f"summed_{number} AS ({summed})")
        parts.append(
            f"lowered_{number} AS (UPDATE {table} AS counted SET listings = counted.listings + summed.delta "
            f"FROM summed_{number} AS summed WHERE summed.delta < 0 AND {match})"
        )
        raise_counts = (
            f"INSERT INTO {table} ({columns}, listings) SELECT {columns}, delta FROM summed_{number} "
            f"WHERE delta > 0 ON CONFLICT ({columns}) DO UPDATE SET listings = {table}.listings + EXCLUDED.listings"
        )
        if number < len(targets) - 1:
            parts.append(f"raised_{number} AS ({raise_counts})")
    return "\n    WITH " + ",\n    ".join(parts) + f"\n    {raise_counts};"


def _pg_changes(operation: str, columns: str) -> str:
    parts = []
    if operation in ("INSERT", "UPDATE"):
        parts.append(f"SELECT {columns}, 1 AS sign FROM new_rows")
    if operation in ("DELETE", "UPDATE"):
        parts.append(f"SELECT {columns}, -1 AS sign FROM old_rows")
    return " UNION ALL ".join(parts)


def _pg_listing_body(operation: str) -> str:
    shared = {
        "changes": _pg_changes(operation, "id, shop_id, category_id, status"),
        # The listings that came into (+1) or left (-1) a status of sale, with the distinct tags they carry.
        "tagged": f"""
            SELECT flipped.shop_id, flipped.status, flipped.sign, carried.tag_id
            FROM (
                SELECT id, shop_id, status, sum(sign) AS sign FROM changes
                WHERE status IN {_ON_SALE_SQL} GROUP BY id, shop_id, status HAVING sum(sign) <> 0
            ) AS flipped
            CROSS JOIN LATERAL (
                SELECT DISTINCT tag_id FROM catalog_taggedlisting WHERE content_object_id = flipped.id
            ) AS carried""",
    }
    return _pg_statement(
        shared,
        [
            (
                "catalog_shoplistingcount",
                ("shop_id", "status"),
                "SELECT shop_id, status, sum(sign) AS delta FROM changes "
                "GROUP BY shop_id, status HAVING sum(sign) <> 0",
            ),
            (
                "catalog_categorylistingcount",
                ("category_id",),
                "SELECT category_id, sum(sign) AS delta FROM changes "
                "WHERE status = 'active' AND category_id IS NOT NULL GROUP BY category_id HAVING sum(sign) <> 0",
            ),
            (
                "catalog_taglistingcount",
                ("tag_id",),
                "SELECT tag_id, sum(sign) AS delta FROM tagged WHERE status = 'active' "
                "GROUP BY tag_id HAVING sum(sign) <> 0",
            ),
            (
                "catalog_shoptagcount",
                ("shop_id", "tag_id"),
                "SELECT shop_id, tag_id, sum(sign) AS delta FROM tagged GROUP BY shop_id, tag_id HAVING sum(sign) <> 0",
            ),
        ],
    )


def _pg_application_body(operation: str) -> str:
    shared = {
        "changes": _pg_changes(operation, "tag_id, content_object_id"),
        # A listing carries a tag while at least one application of it remains: a (tag, listing)
        # pair counts +1 when it goes from none to some applications in this statement, -1 back;
        # only listings on sale count anywhere.
        "flipped": f"""
            SELECT pairs.tag_id, listing.shop_id, listing.status,
                   (now.applications > 0)::int - ((now.applications - pairs.net) > 0)::int AS sign
            FROM (
                SELECT tag_id, content_object_id, sum(sign) AS net FROM changes
                GROUP BY tag_id, content_object_id HAVING sum(sign) <> 0
            ) AS pairs
            CROSS JOIN LATERAL (
                SELECT count(*) AS applications FROM catalog_taggedlisting AS application
                WHERE application.tag_id = pairs.tag_id AND application.content_object_id = pairs.content_object_id
            ) AS now
            JOIN catalog_listing AS listing ON listing.id = pairs.content_object_id
            WHERE listing.status IN {_ON_SALE_SQL}""",
    }
    return _pg_statement(
        shared,
        [
            (
                "catalog_taglistingcount",
                ("tag_id",),
                "SELECT tag_id, sum(sign) AS delta FROM flipped WHERE status = 'active' "
                "GROUP BY tag_id HAVING sum(sign) <> 0",
            ),
            (
                "catalog_shoptagcount",
                ("shop_id", "tag_id"),
                "SELECT shop_id, tag_id, sum(sign) AS delta FROM flipped "
                "GROUP BY shop_id, tag_id HAVING sum(sign) <> 0",
            ),
        ],
    )


_PG_TRIGGERED = {
    "catalog_listing": ("listing", _pg_listing_body),
    "catalog_taggedlisting": ("tagged", _pg_application_body),
}
_REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def _pg_install() -> list[str]:
    statements = []
    # PostgreSQL allows transition tables on triggers of one event only: one function per event.
    for table, (short, body) in _PG_TRIGGERED.items():
        for operation, referencing in _REFERENCING.items():
            name = f"catalog_count_{short}_{operation.lower()}"
            statements.append(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"BEGIN{body(operation)}\n    RETURN NULL;\nEND\n$$"
            )
            statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            statements.append(
                f"CREATE TRIGGER {name} AFTER {operation} ON {table} {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
    return statements


def _pg_uninstall() -> list[str]:
    statements = []
    for table, (short, _) in _PG_TRIGGERED.items():
        for operation in _REFERENCING:
            name = f"catalog_count_{short}_{operation.lower()}"
            statements += [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"]
    return statements


# --- SQLite triggers --------------------------------------------------------------------------------


def _sqlite_listing_added(row: str) -> str:
    carried = f"SELECT DISTINCT tag_id FROM catalog_taggedlisting WHERE content_object_id = {row}.id"
    return f"""
    INSERT INTO catalog_shoplistingcount (shop_id, status, listings) VALUES ({row}.shop_id, {row}.status, 1)
        ON CONFLICT (shop_id, status) DO UPDATE SET listings = listings + 1;
    INSERT INTO catalog_categorylistingcount (category_id, listings) SELECT {row}.category_id, 1
        WHERE {row}.status = 'active' AND {row}.category_id IS NOT NULL
        ON CONFLICT (category_id) DO UPDATE SET listings = listings + 1;
    INSERT INTO catalog_taglistingcount (tag_id, listings) SELECT tag_id, 1 FROM ({carried})
        WHERE {row}.status = 'active'
        ON CONFLICT (tag_id) DO UPDATE SET listings = listings + 1;
    INSERT INTO catalog_shoptagcount (shop_id, tag_id, listings) SELECT {row}.shop_id, tag_id, 1 FROM ({carried})
        WHERE {row}.status IN {_ON_SALE_SQL}
        ON CONFLICT (shop_id, tag_id) DO UPDATE SET listings = listings + 1;"""


def _sqlite_listing_removed(row: str) -> str:
    carried = f"SELECT tag_id FROM catalog_taggedlisting WHERE content_object_id = {row}.id"
    return f"""
    UPDATE catalog_shoplistingcount SET listings = listings - 1 WHERE shop_id = {row}.shop_id AND status = {row}.status;
    UPDATE catalog_categorylistingcount SET listings = listings - 1
        WHERE {row}.status = 'active' AND category_id = {row}.category_id;
    UPDATE catalog_taglistingcount SET listings = listings - 1
        WHERE {row}.status = 'active' AND tag_id IN ({carried});
    UPDATE catalog_shoptagcount SET listings = listings - 1
        WHERE {row}.status IN {_ON_SALE_SQL} AND shop_id = {row}.shop_id AND tag_id IN ({carried});"""


def _sqlite_pair_added(row: str) -> str:
    return f"""
    INSERT INTO catalog_taglistingcount (tag_id, listings) SELECT {row}.tag_id, 1 FROM catalog_listing
        WHERE id = {row}.content_object_id AND status = 'active'
        ON CONFLICT (tag_id) DO UPDATE SET listings = listings + 1;
    INSERT INTO catalog_shoptagcount (shop_id, tag_id, listings) SELECT shop_id, {row}.tag_id, 1 FROM catalog_listing
        WHERE id = {row}.content_object_id AND status IN {_ON_SALE_SQL}
        ON CONFLICT (shop_id, tag_id) DO UPDATE SET listings = listings + 1;"""


def _sqlite_pair_removed(row: str) -> str:
    return f"""
    UPDATE catalog_taglistingcount SET listings = listings - 1 WHERE tag_id = {row}.tag_id
        AND EXISTS (SELECT 1 FROM catalog_listing WHERE id = {row}.content_object_id AND status = 'active');
    UPDATE catalog_shoptagcount SET listings = listings - 1 WHERE tag_id = {row}.tag_id
        AND shop_id = (SELECT shop_id FROM catalog_listing
                       WHERE id = {row}.content_object_id AND status IN {_ON_SALE_SQL});"""


def _pair_applications(row: str) -> str:
    return (
        "(SELECT count(*) FROM catalog_taggedlisting "
        f"WHERE tag_id = {row}.tag_id AND content_object_id = {row}.content_object_id)"
    )


_LISTING_MOVED = (
    "OLD.shop_id IS NOT NEW.shop_id OR OLD.category_id IS NOT NEW.category_id OR OLD.status IS NOT NEW.status"
)
_PAIR_MOVED = "OLD.tag_id IS NOT NEW.tag_id OR OLD.content_object_id IS NOT NEW.content_object_id"
# name, event, condition, body. A pair of (tag, listing) is added by its first application and
# removed with its last one.
_SQLITE_TRIGGERS = [
    ("catalog_count_listing_insert", "INSERT ON catalog_listing", None, _sqlite_listing_added("NEW")),
    ("catalog_count_listing_delete", "DELETE ON catalog_listing", None, _sqlite_listing_removed("OLD")),
    (
        "catalog_count_listing_update",
        "UPDATE OF shop_id, category_id, status ON catalog_listing",
        _LISTING_MOVED,
        _sqlite_listing_removed("OLD") + _sqlite_listing_added("NEW"),
    ),
    (
        "catalog_count_tagged_insert",
        "INSERT ON catalog_taggedlisting",
        f"{_pair_applications('NEW')} = 1",
        _sqlite_pair_added("NEW"),
    ),
    (
        "catalog_count_tagged_delete",
        "DELETE ON catalog_taggedlisting",
        f"{_pair_applications('OLD')} = 0",
        _sqlite_pair_removed("OLD"),
    ),
    (
        "catalog_count_tagged_update_old",
        "UPDATE OF tag_id, content_object_id ON catalog_taggedlisting",
        f"({_PAIR_MOVED}) AND {_pair_applications('OLD')} = 0",
        _sqlite_pair_removed("OLD"),
    ),
    (
        "catalog_count_tagged_update_new",
        "UPDATE OF tag_id, content_object_id ON catalog_taggedlisting",
        f"({_PAIR_MOVED}) AND {_pair_applications('NEW')} = 1",
        _sqlite_pair_added("NEW"),
    ),
]


def _sqlite_install() -> list[str]:
    statements = []
    for name, event, condition, body in _SQLITE_TRIGGERS:
        when = f" WHEN {condition}" if condition else ""
        statements.append(f"DROP TRIGGER IF EXISTS {name}")
        statements.append(f"CREATE TRIGGER {name} AFTER {event} FOR EACH ROW{when} BEGIN{body}\nEND")
    return statements


def _sqlite_uninstall() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name, *_ in _SQLITE_TRIGGERS]


def install_triggers(schema_editor) -> None:
    """Create (or replace) the counting triggers on the schema editor's database."""
    vendor = schema_editor.connection.vendor
    for statement in _pg_install() if vendor == "postgresql" else _sqlite_install() if vendor == "sqlite" else []:
        schema_editor.execute(statement, params=None)


def uninstall_triggers(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in _pg_uninstall() if vendor == "postgresql" else _sqlite_uninstall() if vendor == "sqlite" else []:
        schema_editor.execute(statement, params=None)


# --- The exact recount ------------------------------------------------------------------------------

# (counter table, its key columns, what it should hold: keys and listings)
_TRUTH = [
    (
        "catalog_shoplistingcount",
        ("shop_id", "status"),
        "SELECT shop_id, status, count(*) AS listings FROM catalog_listing GROUP BY shop_id, status",
    ),
    (
        "catalog_categorylistingcount",
        ("category_id",),
        "SELECT category_id, count(*) AS listings FROM catalog_listing "
        "WHERE status = 'active' AND category_id IS NOT NULL GROUP BY category_id",
    ),
    (
        "catalog_taglistingcount",
        ("tag_id",),
        "SELECT tag_id, count(*) AS listings FROM counted_pairs WHERE status = 'active' GROUP BY tag_id",
    ),
    (
        "catalog_shoptagcount",
        ("shop_id", "tag_id"),
        "SELECT shop_id, tag_id, count(*) AS listings FROM counted_pairs GROUP BY shop_id, tag_id",
    ),
]
# Each tag on each listing on sale once, however many people applied it.
_PAIRS = (
    "CREATE TEMPORARY TABLE counted_pairs AS SELECT DISTINCT application.tag_id, application.content_object_id, "
    "listing.shop_id, listing.status FROM catalog_taggedlisting AS application "
    "JOIN catalog_listing AS listing ON listing.id = application.content_object_id "
    f"WHERE listing.status IN {_ON_SALE_SQL}"
)


@dataclass(frozen=True)
class Recount:
    """How many count rows the recount corrected (added, changed or removed), per table."""

    corrected: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.corrected.values())


def recount_all() -> Recount:
    """Count every maintained count again from the listings and their tags, exactly, and
    correct the rows that differ (idempotent: a second run corrects nothing).

    Set-based (a few grouped statements). Writes to listings and tag applications wait while
    it runs (PostgreSQL: SHARE locks; SQLite: the write lock), so that no write can slip
    between reading the truth and storing it. Call it after any bulk write that bypassed the
    triggers (the bench generator calls it at its end); `manage.py recount_listing_counts`
    runs it by hand."""
    corrected: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE catalog_listing, catalog_taggedlisting IN SHARE MODE")
        cursor.execute("DROP TABLE IF EXISTS counted_pairs")
        cursor.execute(_PAIRS)
        for table, keys, truth in _TRUTH:
            columns = ", ".join(keys)
            match = " AND ".join(f"truth.{key} = {table}.{key}" for key in keys)
            cursor.execute("DROP TABLE IF EXISTS counted_truth")
            cursor.execute(f"CREATE TEMPORARY TABLE counted_truth AS {truth}")
            # WHERE true: SQLite's parser needs it before ON CONFLICT after a SELECT.
            cursor.execute(
                f"INSERT INTO {table} ({columns}, listings) SELECT {columns}, listings FROM counted_truth WHERE true "
                f"ON CONFLICT ({columns}) DO UPDATE SET listings = EXCLUDED.listings "
                f"WHERE {table}.listings <> EXCLUDED.listings"
            )
            changed = cursor.rowcount
            # Rows counted down to zero are right, not drifted: tidied away without counting them.
            cursor.execute(f"DELETE FROM {table} WHERE listings = 0")
            cursor.execute(f"DELETE FROM {table} WHERE NOT EXISTS (SELECT 1 FROM counted_truth AS truth WHERE {match})")
            corrected[table.removeprefix("catalog_")] = changed + cursor.rowcount
            cursor.execute("DROP TABLE counted_truth")
        cursor.execute("DROP TABLE counted_pairs")
    return Recount(corrected=corrected)


# --- Reads --------------------------------------------------------------------------------------------


class CountedPaginator(Paginator):
    """A paginator given its count (a maintained one) instead of counting the rows itself."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def active_listings_in_categories(*, category_ids) -> int:
    """Active listings filed in these categories (one query on the maintained counts)."""
    from .models import CategoryListingCount

    total = CategoryListingCount.objects.filter(category_id__in=list(category_ids)).aggregate(total=Sum("listings"))
    return total["total"] or 0


def active_listings_tagged(*, tag_ids) -> int:
    """Active listings carrying one of these tags: a tag and its synonyms (one query)."""
    from .models import TagListingCount

    total = TagListingCount.objects.filter(tag_id__in=list(tag_ids)).aggregate(total=Sum("listings"))
    return total["total"] or 0


def shop_listing_counts(*, shop_id: int) -> dict[str, int]:
    """How many listings the shop has in each status, every status present (one query)."""
    from .models import Listing, ShopListingCount

    counts = dict.fromkeys(Listing.Status.values, 0)
    counts.update(ShopListingCount.objects.filter(shop_id=shop_id).values_list("status", "listings"))
    return counts
