"""The search engines behind catalog.search: what each must do, and the two Plural ships.

PostgreSQL: a weighted tsvector per listing (SearchDocument.vector, GIN index) and pg_trgm over
the lexicon. SQLite: an FTS5 table ranked with bm25. Both receive words already normalised by
catalog.search.words() (letters and digits only), so no query syntax of either can be reached.
A dedicated engine would implement the same methods: `filter` and `rank` answering with the ids
it found, `write`/`delete`/`clear` receiving the documents.
"""

# The raw SQL of this module is put together from constants (table names, weights) and
# placeholder lists only; every value goes to the database as a parameter.
# ruff: noqa: S608, S611

import difflib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from .models import Listing, SearchTerm

POSTGRESQL_CONFIG = "english"
SQLITE_FTS_TABLE = "catalog_search_fts"
# bm25 weights in the FTS5 table's column order: title, creator, tags, body (A, B, C, D).
SQLITE_BM25_WEIGHTS = "10.0, 5.0, 2.0, 1.0"
SQLITE_CLOSE_TERM_CANDIDATES = 5_000
SQLITE_CLOSE_TERM_RATIO = 0.75


@dataclass(frozen=True)
class ListingDocument:
    """What the index holds for one listing: its text by weight, and its lexicon words."""

    listing_id: int
    title: str
    creator: str
    tags: str
    body: str
    terms: frozenset[str]


# --- Backends -----------------------------------------------------------------------------------------


class SearchBackend:
    """What a search engine must do for Plural. `words` are already normalised by `words()`
    and never empty; `listings` is a Listing queryset carrying the caller's other filters."""

    name = ""

    def write(self, documents: list[ListingDocument], *, replace: bool = True) -> None:
        """Store these documents (replacing what the engine held for the same listings)."""
        raise NotImplementedError

    def delete(self, listing_ids: list[int]) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def optimise(self) -> None:
        """After a bulk rebuild: whatever makes the engine answer fast again."""

    def filter(self, listings: QuerySet, words: list[str]) -> QuerySet:
        """`listings` narrowed to those matching every word. Exact: used for counts and facets."""
        raise NotImplementedError

    def rank(self, listings: QuerySet, words: list[str], *, limit: int) -> list[int]:
        """Ids of at most `limit` listings of `listings` matching every word, most relevant
        first. `listings` carries the caller's other filters, not the words. Bounded: the
        candidates are the `limit` matches with the highest ids (the ones listed last), read
        in an order the engine's index serves, never every match."""
        raise NotImplementedError

    def close_terms(self, words: list[str], *, limit: int) -> dict[str, list[str]]:
        """For each word, lexicon terms spelled like it, closest first (the word itself first
        when the lexicon has it)."""
        raise NotImplementedError

    def complete(self, prefix: str, *, limit: int) -> list[str]:
        """Lexicon terms starting with `prefix`, most used first."""
        return list(
            SearchTerm.objects.filter(term__startswith=prefix, listing_count__gt=0)
            .order_by("-listing_count", "term")
            .values_list("term", flat=True)[:limit]
        )


class PostgreSQLBackend(SearchBackend):
    """tsvector documents (title A, creator B, tags C, description D) in SearchDocument.vector
    with a GIN index; pg_trgm over the lexicon for close words and autocomplete."""

    name = "postgresql"

    def _query(self, words: list[str]) -> SearchQuery:
        # plainto_tsquery: the words as plain text, all required; no syntax to get wrong.
        return SearchQuery(" ".join(words), config=POSTGRESQL_CONFIG, search_type="plain")

    def write(self, documents: list[ListingDocument], *, replace: bool = True) -> None:
        if not documents:
            return
        config = f"'{POSTGRESQL_CONFIG}'::regconfig"
        # One array per column rather than a placeholder per value: a batch of thousands of
        # documents (an import) is five parameters, not tens of thousands to bind one by one.
        columns = [
            [document.listing_id for document in documents],
            [document.title for document in documents],
            [document.creator for document in documents],
            [document.tags for document in documents],
            [document.body for document in documents],
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE catalog_searchdocument AS document SET vector = "
                f"setweight(to_tsvector({config}, text.title), 'A') || "
                f"setweight(to_tsvector({config}, text.creator), 'B') || "
                f"setweight(to_tsvector({config}, text.tags), 'C') || "
                f"setweight(to_tsvector({config}, text.body), 'D') "
                "FROM unnest(%s::integer[], %s::text[], %s::text[], %s::text[], %s::text[]) "
                "AS text(listing_id, title, creator, tags, body) "
                "WHERE document.listing_id = text.listing_id",
                columns,
            )

    def delete(self, listing_ids: list[int]) -> None:
        """The vector lives on the SearchDocument row, which the caller deletes."""

    def clear(self) -> None:
        """As delete: nothing of its own to clear."""

    def optimise(self) -> None:
        with connection.cursor() as cursor:
            # A bulk write leaves up to 4 MB of entries in each GIN index's pending list, which
            # every search then reads through linearly until autovacuum merges it: 35 ms on the
            # lexicon's trigram index after a rebuild at 1,000,000 listings, 0.1 ms once merged.
            cursor.execute("SELECT gin_clean_pending_list('catalog_searchdocument_vector_gin'::regclass)")
            cursor.execute("SELECT gin_clean_pending_list('catalog_searchterm_term_trgm'::regclass)")
            cursor.execute("ANALYZE catalog_searchdocument")
            cursor.execute("ANALYZE catalog_searchterm")

    def filter(self, listings: QuerySet, words: list[str]) -> QuerySet:
        return listings.filter(search_document__vector=self._query(words))

    def rank(self, listings: QuerySet, words: list[str], *, limit: int) -> list[int]:
        # The candidates are the `limit` matches listed last (highest ids). On a word found
        # in much of the catalog the planner walks the documents' and the listings' primary
        # keys backwards together (a merge join in the tables' own order) and stops at the
        # LIMIT; on a rarer one it reads the GIN index and sorts the few matches. Ranking
        # every match, or taking the newest by publication date (a probe into the documents
        # for each listing walked), took 0.4-1.3 s at 1,000,000 listings.
        query = self._query(words)
        candidates = self.filter(listings, words).order_by("-pk").values("pk")[:limit]
        return list(
            Listing.objects.filter(pk__in=Subquery(candidates))
            .annotate(relevance=SearchRank(F("search_document__vector"), query))
            .order_by("-relevance", "-pk")
            .values_list("pk", flat=True)
        )

    def close_terms(self, words: list[str], *, limit: int) -> dict[str, list[str]]:
        # `%` is pg_trgm's similarity operator (threshold pg_trgm.similarity_threshold, 0.3 by
        # default), answered from the trigram GIN index on the lexicon; one query for all words.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT asked.word, close.term "
                "FROM unnest(%s::text[]) WITH ORDINALITY AS asked(word, position) "
                "CROSS JOIN LATERAL ("
                "  SELECT term, similarity(term, asked.word) AS likeness, listing_count"
                "  FROM catalog_searchterm WHERE term %% asked.word AND listing_count > 0"
                "  ORDER BY likeness DESC, listing_count DESC, term LIMIT %s"
                ") AS close "
                "ORDER BY asked.position, close.likeness DESC, close.listing_count DESC, close.term",
                [list(words), limit],
            )
            found: dict[str, list[str]] = {word: [] for word in words}
            for word, term in cursor.fetchall():
                found[word].append(term)
        return found

    def complete(self, prefix: str, *, limit: int) -> list[str]:
        # LIKE 'prefix%' is answered by the lexicon's trigram index.
        return super().complete(prefix, limit=limit)


class SQLiteBackend(SearchBackend):
    """An FTS5 table (rowid = listing id; porter stemming, accents folded) ranked with bm25."""

    name = "sqlite"

    def _match(self, words: list[str]) -> str:
        # Each word quoted: FTS5 reads it as a string, never as an operator or a column filter.
        return " ".join(f'"{word}"' for word in words)

    def write(self, documents: list[ListingDocument], *, replace: bool = True) -> None:
        if not documents:
            return
        with connection.cursor() as cursor:
            if replace:
                self.delete([document.listing_id for document in documents])
            cursor.executemany(
                f"INSERT INTO {SQLITE_FTS_TABLE} (rowid, title, creator, tags, body) VALUES (%s, %s, %s, %s, %s)",
                [
                    (document.listing_id, document.title, document.creator, document.tags, document.body)
                    for document in documents
                ],
            )

    def delete(self, listing_ids: list[int]) -> None:
        if not listing_ids:
            return
        with connection.cursor() as cursor:
            placeholders = ", ".join(["%s"] * len(listing_ids))
            cursor.execute(f"DELETE FROM {SQLITE_FTS_TABLE} WHERE rowid IN ({placeholders})", list(listing_ids))

    def clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {SQLITE_FTS_TABLE}")

    def optimise(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {SQLITE_FTS_TABLE} ({SQLITE_FTS_TABLE}) VALUES ('optimize')")

    def filter(self, listings: QuerySet, words: list[str]) -> QuerySet:
        return listings.filter(
            pk__in=RawSQL(
                f"SELECT rowid FROM {SQLITE_FTS_TABLE} WHERE {SQLITE_FTS_TABLE} MATCH %s", [self._match(words)]
            )
        )

    def rank(self, listings: QuerySet, words: list[str], *, limit: int) -> list[int]:
        # The candidates are the `limit` matches listed last (highest rowid): FTS5 reads its
        # matches in rowid order and stops at the LIMIT, each checked against the listings'
        # filters by primary key (a correlated EXISTS; `rowid IN (subquery)` would instead
        # look every listing up in the full-text index). bm25 then orders those few. Scoring
        # every match before sorting took seconds on a word found in most listings.
        kept_sql, kept_params = (
            listings.filter(pk=RawSQL(f"{SQLITE_FTS_TABLE}.rowid", ())).order_by().values("pk").query.sql_with_params()
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM ("
                f"  SELECT rowid AS id, bm25({SQLITE_FTS_TABLE}, {SQLITE_BM25_WEIGHTS}) AS score"
                f"  FROM {SQLITE_FTS_TABLE} WHERE {SQLITE_FTS_TABLE} MATCH %s AND EXISTS ({kept_sql})"
                "  ORDER BY rowid DESC LIMIT %s"
                ") ORDER BY score, id DESC",
                [self._match(words), *kept_params, limit],
            )
            return [row[0] for row in cursor.fetchall()]

    def close_terms(self, words: list[str], *, limit: int) -> dict[str, list[str]]:
        # No trigram index here: candidates share the word's first letter and about its length
        # (one indexed range per word, one query), then difflib measures the likeness.
        condition = Q()
        for word in words:
            first = word[0]
            condition |= Q(
                term__gte=first,
                term__lt=chr(ord(first) + 1),
                term__regex=rf"^.{{{max(1, len(word) - 2)},{len(word) + 2}}}$",
            )
        candidates = list(
            SearchTerm.objects.filter(condition, listing_count__gt=0)
            .order_by("-listing_count", "term")
            .values_list("term", "listing_count")[:SQLITE_CLOSE_TERM_CANDIDATES]
        )
        found: dict[str, list[str]] = {}
        for word in words:
            scored = []
            for term, uses in candidates:
                if term[0] != word[0]:
                    continue
                likeness = difflib.SequenceMatcher(None, word, term).ratio()
                if likeness >= SQLITE_CLOSE_TERM_RATIO:
                    scored.append((-likeness, -uses, term))
            found[word] = [term for _, _, term in sorted(scored)[:limit]]
        return found

    def complete(self, prefix: str, *, limit: int) -> list[str]:
        # A range on the unique index (SQLite's LIKE cannot use it); U+10FFFF sorts after
        # every character, so the range holds exactly the terms starting with `prefix`.
        return list(
            SearchTerm.objects.filter(term__gte=prefix, term__lt=prefix + "\U0010ffff", listing_count__gt=0)
            .order_by("-listing_count", "term")
            .values_list("term", flat=True)[:limit]
        )


def get_backend() -> SearchBackend:
    """The backend of the database in use."""
    return PostgreSQLBackend() if settings.IS_POSTGRESQL else SQLiteBackend()
