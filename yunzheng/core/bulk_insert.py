"""Insert many new rows fast and get their primary keys back, for bulk registry imports.

On PostgreSQL the keys are reserved from the table's sequence in one query and the rows are sent
with COPY (psycopg's `Cursor.copy`), which skips building model instances and compiling an INSERT
per batch; elsewhere (SQLite) Django's `bulk_create` does the same job. Values are prepared by the
model fields themselves (`get_db_prep_save`), so encrypted fields are encrypted and JSON is
adapted exactly as the ORM would; database constraints still apply.

Rows are dicts keyed by attribute name (`certificate_id`, not `certificate`); a field a row leaves
out gets its model default. Nothing here calls `save()`, so fields with auto_now/auto_now_add must
be given explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models

# Field classes whose Python values psycopg adapts as they are (no per-value preparation needed).
_PLAIN = (
    models.BigAutoField,
    models.AutoField,
    models.BooleanField,
    models.CharField,
    models.DateField,
    models.DateTimeField,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.ForeignKey,
)


def _needs_preparation(field: models.Field[Any, Any]) -> bool:
    # Exact classes only: a subclass (e.g. an encrypted text field) prepares its own values.
    return type(field) not in _PLAIN and type(field) is not models.TextField


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` (all with the same keys) and return their new primary keys, in order."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objects = [model(**row) for row in rows]
        model.objects.bulk_create(objects)  # type: ignore[attr-defined]
        return [int(obj.pk) for obj in objects]
    meta = model._meta
    # Every column, so that a field added later gets its model default instead of NULL.
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    names = [field.attname for field in fields]
    defaults = {
        name: field.get_default() for name, field in zip(names, fields, strict=True) if name not in rows[0]
    }
    pk_column = meta.pk.column
    prepare = [(index, field) for index, field in enumerate(fields) if _needs_preparation(field)]
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk_column, len(rows)],
        )
        ids = [int(row[0]) for row in cursor.fetchall()]
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({connection.ops.quote_name(pk_column)}, {columns}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                values = [row[name] if name in row else defaults[name] for name in names]
                for index, field in prepare:
                    values[index] = field.get_db_prep_save(values[index], connection)
                copy.write_row([pk, *values])
    return ids
