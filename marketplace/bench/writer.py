"""Rows straight into tables: COPY on PostgreSQL, multi-row executemany on SQLite.

Millions of rows cannot go through model instances (bulk_create builds an object per row and
a parameter per value); the generator hands over plain dicts keyed by column (attname), and
every column it leaves out gets the model field's default. Primary keys are given by the
generator (it needs them for the rows that point at them), so the sequences are moved past
them at the end."""

import datetime
import json
from collections.abc import Iterable

from django.core.management.color import no_style
from django.db import connection, models

SQLITE_CHUNK = 2_000


class TableWriter:
    def __init__(self, model: type[models.Model]):
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.columns = [field.column for field in self.fields]
        self._defaults = {field.attname: self._default(field) for field in self.fields}

    @staticmethod
    def _default(field):
        if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
            return datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        if isinstance(field, models.JSONField):
            return json.dumps(field.get_default())
        if field.has_default():
            default = field.get_default()
            return default if not callable(default) else default()
        if field.null:
            return None
        if isinstance(field, models.CharField | models.TextField | models.FileField):
            return ""
        return None

    def next_id(self) -> int:
        """The first primary key free after every row already in the table."""
        last = self.model._base_manager.order_by("-pk").values_list("pk", flat=True).first()
        return (last or 0) + 1

    def _tuples(self, rows: Iterable[dict]):
        names = [field.attname for field in self.fields]
        defaults = self._defaults
        if connection.vendor == "postgresql":
            for row in rows:
                yield tuple(row[name] if name in row else defaults[name] for name in names)
            return
        # SQLite keeps moments as naive UTC text, as Django writes them.
        moments = [index for index, field in enumerate(self.fields) if isinstance(field, models.DateTimeField)]
        adapt = connection.ops.adapt_datetimefield_value
        for row in rows:
            values = [row[name] if name in row else defaults[name] for name in names]
            for index in moments:
                if values[index] is not None:
                    values[index] = adapt(values[index])
            yield tuple(values)

    def write(self, rows: Iterable[dict]) -> int:
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(column) for column in self.columns)
        written = 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for values in self._tuples(rows):
                        copy.write_row(values)
                        written += 1
            else:
                placeholders = ", ".join(["%s"] * len(self.columns))
                sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 - our own names
                chunk = []
                for values in self._tuples(rows):
                    chunk.append(values)
                    if len(chunk) >= SQLITE_CHUNK:
                        cursor.executemany(sql, chunk)
                        written += len(chunk)
                        chunk = []
                if chunk:
                    cursor.executemany(sql, chunk)
                    written += len(chunk)
        return written


def reset_sequences(*model_classes: type[models.Model]) -> None:
    """Move PostgreSQL's id sequences past the ids the generator gave (SQLite needs nothing)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_classes))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
