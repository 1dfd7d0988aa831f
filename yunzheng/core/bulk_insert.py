"""Insert many new rows fast and get their primary keys back, for bulk registry imports.

On PostgreSQL the keys are reserved from the table's sequence in one query and the rows are sent
with binary COPY (psycopg's `Cursor.copy` with the columns' types set), which skips building model
instances, compiling an INSERT per batch and the server's parsing of text values; elsewhere
(SQLite) Django's `bulk_create` does the same job. Values are prepared as the model fields prepare
them (`get_db_prep_save`): encrypted fields are encrypted, JSON is adapted as the ORM would; the
two field kinds bulk imports write on every row (EncryptedCharField, JSONField) take a shortcut
with the same result, the others go through the field. Database constraints still apply.

Rows are dicts keyed by attribute name (`certificate_id`, not `certificate`); a field a row leaves
out gets its model default. Nothing here calls `save()`, so fields with auto_now/auto_now_add must
be given explicitly. A value of an encrypted field that is already an `encrypt_field` token under
the active key is stored as it is (so a caller that stores one value on two records encrypts once).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import psycopg
from django.db import connection, models
from psycopg.types.json import set_json_dumps

from yunzheng.core.crypto import decrypt_field, encrypt_field, is_active_field_token, is_field_token
from yunzheng.core.fields import EncryptedCharField

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
    models.OneToOneField,
    models.TextField,
)
# PostgreSQL's spelling of a column type (`db_type`, modifiers removed) -> psycopg's type name.
_PG_TYPES = {
    "integer": "int4",
    "bigint": "int8",
    "smallint": "int2",
    "boolean": "bool",
    "timestamp with time zone": "timestamptz",
    "double precision": "float8",
}
_MODIFIERS = re.compile(r"\(.*\)$")


def _sealed(value: Any) -> str | None:
    """EncryptedCharField.get_db_prep_save without the round trip through the field."""
    if value is None:
        return None
    text = str(value)
    if is_field_token(text):  # the field decrypts a token before encrypting it (to_python)
        return text if is_active_field_token(text) else encrypt_field(decrypt_field(text))
    return encrypt_field(text)


def _json(value: Any) -> Any:
    # JSONField.get_db_prep_save: None is SQL NULL; anything else goes to the jsonb dumper.
    return value


# The jsonb dumper's encoder on the COPY's cursor: msgspec, several times faster than json.dumps.
# PostgreSQL stores the parsed value (jsonb), so spacing and escaping do not matter; the values
# must be plain JSON as Django's JSONField needs them.
_encode_json = msgspec.json.Encoder().encode


def _preparer(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    """How a value of `field` is prepared for COPY; None: psycopg takes it as it is."""
    kind = type(field)
    if kind in _PLAIN:  # exact classes: a subclass prepares its own values
        return None
    if kind is EncryptedCharField:
        return _sealed
    if kind is models.JSONField and field.encoder is None:  # type: ignore[attr-defined]
        return _json
    return functools.partial(field.get_db_prep_save, connection=connection)


def _pg_type(field: models.Field[Any, Any]) -> str | None:
    db_type = field.db_type(connection)
    if db_type is None:
        return None
    name = _MODIFIERS.sub("", db_type.strip())
    name = _PG_TYPES.get(name, name)
    return name if psycopg.adapters.types.get(name) is not None else None


@dataclass(frozen=True)
class _Plan:
    fields: list[models.Field[Any, Any]]
    names: list[str]
    prepare: list[tuple[int, Callable[[Any], Any]]]
    copy_sql: str
    types: list[str] | None  # None: a column type psycopg cannot dump in binary; text COPY


@functools.cache
def _plan(model: type[models.Model]) -> _Plan:
    meta = model._meta
    # Every column, so that a field added later gets its model default instead of NULL.
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    prepare = [
        (index, preparer) for index, field in enumerate(fields) if (preparer := _preparer(field)) is not None
    ]
    quote = connection.ops.quote_name
    columns = ", ".join([quote(meta.pk.column), *(quote(f.column) for f in fields)])
    types = [_pg_type(field) for field in [meta.pk, *fields]]
    binary = all(types)
    return _Plan(
        fields=fields,
        names=[field.attname for field in fields],
        prepare=prepare,
        copy_sql=f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
        + (" (FORMAT BINARY)" if binary else ""),
        types=[t for t in types if t] if binary else None,
    )


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` (all with the same keys) and return their new primary keys, in order."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objects = [model(**row) for row in rows]
        model.objects.bulk_create(objects)  # type: ignore[attr-defined]
        return [int(obj.pk) for obj in objects]
    plan = _plan(model)
    meta = model._meta
    first = rows[0]
    defaults = {
        name: field.get_default()
        for name, field in zip(plan.names, plan.fields, strict=True)
        if name not in first
    }
    given = [name for name in plan.names if name in first]
    if len(given) == len(plan.names):
        get_values: Callable[[dict[str, Any]], list[Any]] = lambda row: [row[name] for name in plan.names]  # noqa: E731
    else:
        get_values = lambda row: [row[name] if name in row else defaults[name] for name in plan.names]  # noqa: E731
    prepare = plan.prepare
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [int(row[0]) for row in cursor.fetchall()]
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        set_json_dumps(_encode_json, context=raw)
        with raw.copy(plan.copy_sql) as copy:
            if plan.types is not None:
                copy.set_types(plan.types)
            write = copy.write_row
            for pk, row in zip(ids, rows, strict=True):
                values = get_values(row)
                for index, preparer in prepare:
                    values[index] = preparer(values[index])
                values.insert(0, pk)
                write(values)
    return ids
