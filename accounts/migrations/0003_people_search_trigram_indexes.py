"""Trigram indexes for finding people by part of their name, handle or city.

The people search (accounts.selectors) matches `icontains`, which PostgreSQL runs as
UPPER(column) LIKE UPPER('%words%'): without an index every search read every person
(100 ms at 100,000 people, on every search page). A GIN index of pg_trgm trigrams over the
same UPPER expressions answers those LIKEs. PostgreSQL only; SQLite keeps scanning (it
holds small embedded installations)."""

from django.db import migrations

COLUMNS = ["display_name", "username", "city"]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS accounts_user_{column}_trigram "
            f"ON accounts_user USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS accounts_user_{column}_trigram")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_privacy"), ("catalog", "0004_search")]

    operations = [migrations.RunPython(create, drop)]
