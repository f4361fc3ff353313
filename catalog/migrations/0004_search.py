"""The search index: documents and lexicon on every database, and each backend's own parts.

PostgreSQL gets pg_trgm (created on PostgreSQL only, both ways), a GIN index on
the documents' tsvector and a trigram GIN index on the lexicon; SQLite gets an FTS5 table.
Each backend's part is created only on its own database, so migrations run on both."""

import django.contrib.postgres.search
import django.db.models.deletion
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

class TrigramExtensionOnPostgreSQL(TrigramExtension):
    """pg_trgm: Django's operation skips other databases on the way forward but not back."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


POSTGRESQL_INDEXES = [
    (
        "catalog_searchdocument_vector_gin",
        "CREATE INDEX catalog_searchdocument_vector_gin ON catalog_searchdocument USING gin (vector)",
    ),
    (
        "catalog_searchterm_term_trgm",
        "CREATE INDEX catalog_searchterm_term_trgm ON catalog_searchterm USING gin (term gin_trgm_ops)",
    ),
]
# rowid is the listing's id. Weights are given at query time (bm25), in the column order.
SQLITE_FTS_TABLE = (
    "CREATE VIRTUAL TABLE catalog_search_fts USING fts5("
    "title, creator, tags, body, tokenize = 'porter unicode61 remove_diacritics 2')"
)


def create_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for _name, statement in POSTGRESQL_INDEXES:
            schema_editor.execute(statement)


def drop_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _statement in POSTGRESQL_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create_sqlite_fts(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_FTS_TABLE)


def drop_sqlite_fts(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS catalog_search_fts")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_tagfollow"),
        ("sellers", "0002_inventoryimport_inventoryimportrow"),
    ]

    operations = [
        TrigramExtensionOnPostgreSQL(),
        migrations.CreateModel(
            name="SearchDocument",
            fields=[
                (
                    "listing",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="search_document",
                        serialize=False,
                        to="catalog.listing",
                    ),
                ),
                ("terms", models.TextField(blank=True)),
                ("vector", django.contrib.postgres.search.SearchVectorField(null=True)),
                ("indexed_at", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="SearchTerm",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("term", models.CharField(max_length=40, unique=True)),
                ("listing_count", models.IntegerField(default=0)),
            ],
            options={
                "ordering": ["term"],
            },
        ),
        migrations.AddIndex(
            model_name="listing",
            index=models.Index(fields=["status", "price", "id"], name="catalog_listing_price_sort"),
        ),
        migrations.RunPython(create_postgresql_indexes, drop_postgresql_indexes, elidable=False),
        migrations.RunPython(create_sqlite_fts, drop_sqlite_fts, elidable=False),
    ]
