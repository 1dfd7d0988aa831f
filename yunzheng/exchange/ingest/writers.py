"""Storage writers, one per plan kind; each returns how many records were new.

On PostgreSQL binary COPY (a unique violation falls back to a temporary staging table and
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``); elsewhere one ``executemany`` of
``INSERT ... ON CONFLICT DO NOTHING``. (The benchmark's baseline, one ORM insert per record,
lives in ``bench/_naive_ingest.py`` and replaces these entries of ``WRITERS`` in its server.)
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from psycopg import errors as psycopg_errors
from psycopg.types.json import set_json_dumps

from yunzheng.accounts.models import Company
from yunzheng.exchange import personal_data
from yunzheng.exchange.ingest.plans import Record, _aware, _Plan
from yunzheng.exchange.ingest.rows import (
    _EVENT_PG_TYPES,
    _POSITION_PG_TYPES,
    EVENT_COLUMNS,
    POSITION_COLUMNS,
    _adapted_datetimes,
    _datetimes,
    _encode_json,
    _event_rows,
    _position_rows,
)
from yunzheng.exchange.models import EventRecord, PositionRecord


class DuplicatesFound(Exception):
    """The direct COPY met an already stored record in the ingest's own transaction, which is
    now aborted: run the transaction again with ``copy_mode(staging=True)``."""


# None: the writer is not called by the ingest transaction (savepoint around the COPY); False:
# COPY directly, raise DuplicatesFound on a unique violation; True: go through the staging table.
_STAGING: contextvars.ContextVar[bool | None] = contextvars.ContextVar("yz_ingest_staging", default=None)


@contextmanager
def copy_mode(*, staging: bool) -> Iterator[None]:
    """How the PostgreSQL writers COPY inside ``store_batch``'s transaction (see _pg_copy_insert)."""
    token = _STAGING.set(staging)
    try:
        yield
    finally:
        _STAGING.reset(token)


# ---------------------------------------------------------------------------------------------
# bulk writers
# ---------------------------------------------------------------------------------------------


def _pg_copy_rows(
    cursor: Any, table: str, columns: Sequence[str], types: list[str], rows: list[tuple]
) -> None:
    raw = cursor.cursor  # the psycopg cursor under Django's wrapper
    set_json_dumps(_encode_json, context=raw)  # jsonb payloads: msgspec, not the stdlib json
    with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        write = copy.write_row
        for row in rows:
            write(row)


def _pg_copy_insert(
    *, target: str, stage: str, columns: Sequence[str], types: list[str], rows: list[tuple]
) -> int:
    """PostgreSQL: binary COPY straight into the partitioned table.

    Duplicates are rare (a company re-sending after a lost acknowledgement), so the fast path
    assumes none. Directly in the ingest's own transaction (``copy_mode(staging=False)`` and no
    savepoint open) the COPY runs without a savepoint: a unique violation aborts the transaction
    and raises :class:`DuplicatesFound`, and the ingest runs it again with ``staging=True``.
    Elsewhere (inside a caller's transaction) the COPY runs in a savepoint that is rolled back on
    a unique violation. The staging path: a temporary table and
    ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, whose row count tells new records from
    duplicates.
    """
    staging = _STAGING.get()
    if staging is False and not connection.savepoint_ids:
        try:
            with connection.cursor() as cursor:
                _pg_copy_rows(cursor, target, columns, types, rows)
        except (IntegrityError, psycopg_errors.UniqueViolation) as exc:
            raise DuplicatesFound from exc
        return len(rows)
    if not staging:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                _pg_copy_rows(cursor, target, columns, types, rows)
            return len(rows)
        except (IntegrityError, psycopg_errors.UniqueViolation):
            pass
    cols = ", ".join(columns)
    stage_cols = ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ({stage_cols}) ON COMMIT DELETE ROWS")
        cursor.execute(f"TRUNCATE {stage}")  # rows of an earlier batch in the same outer transaction
        _pg_copy_rows(cursor, stage, columns, types, rows)
        cursor.execute(  # table and column names are constants of this module
            f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT DO NOTHING"  # noqa: S608
        )
        inserted: int = cursor.rowcount
    return inserted


def _executemany_insert(*, target: str, columns: Sequence[str], rows: list[tuple]) -> int:
    """Portable path (SQLite): one executemany of INSERT ... ON CONFLICT DO NOTHING."""
    placeholders = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {target} ({', '.join(columns)}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",  # noqa: S608
            rows,
        )
        inserted: int = cursor.rowcount
    return inserted


def _write_positions_bulk(
    plan: _Plan,
    company: Company,
    records: list[Record],
    epochs: list[int],
    received_at: datetime,
    batch_id: int,
) -> int:
    target = PositionRecord._meta.db_table
    if connection.vendor == "postgresql":
        rows = _position_rows(plan, company, records, _datetimes(epochs), received_at, batch_id)
        return _pg_copy_insert(
            target=target,
            stage="yz_stage_position",
            columns=POSITION_COLUMNS,
            types=_POSITION_PG_TYPES,
            rows=rows,
        )
    received = connection.ops.adapt_datetimefield_value(received_at)
    rows = _position_rows(plan, company, records, _adapted_datetimes(epochs), received, batch_id)
    return _executemany_insert(target=target, columns=POSITION_COLUMNS, rows=rows)


def _write_events_bulk(
    plan: _Plan,
    company: Company,
    records: list[Record],
    epochs: list[int],
    received_at: datetime,
    batch_id: int,
) -> int:
    target = EventRecord._meta.db_table
    if connection.vendor == "postgresql":
        rows = _event_rows(
            plan, company, records, _datetimes(epochs), received_at, batch_id, payload_as_text=False
        )
        return _pg_copy_insert(
            target=target, stage="yz_stage_event", columns=EVENT_COLUMNS, types=_EVENT_PG_TYPES, rows=rows
        )
    received = connection.ops.adapt_datetimefield_value(received_at)
    rows = _event_rows(
        plan, company, records, _adapted_datetimes(epochs), received, batch_id, payload_as_text=True
    )
    return _executemany_insert(target=target, columns=EVENT_COLUMNS, rows=rows)


_BASEINFO_HISTORY_SQL = (
    "INSERT INTO exchange_baseinforecord "
    "(company_id, interface, natural_key, flag, update_time, region_code, payload, received_at, batch_id) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)
# An older UpdateTime never overwrites a newer one; an equal one is a re-send (no change).
_BASEINFO_CURRENT_SQL = (
    "INSERT INTO exchange_baseinfocurrent "
    "(company_id, interface, natural_key, flag, deleted, update_time, region_code, payload, "
    "received_at, batch_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (company_id, interface, natural_key) DO UPDATE SET "
    "flag = excluded.flag, deleted = excluded.deleted, update_time = excluded.update_time, "
    "region_code = excluded.region_code, payload = excluded.payload, "
    "received_at = excluded.received_at, batch_id = excluded.batch_id "
    "WHERE excluded.update_time > exchange_baseinfocurrent.update_time"
)


def _write_baseinfo_bulk(
    plan: _Plan,
    company: Company,
    records: list[Record],
    epochs: list[int],
    received_at: datetime,
    batch_id: int,
) -> int:
    """History rows (ON CONFLICT DO NOTHING) and the current version per natural key.

    Base information is low-volume (a company has thousands of vehicles, not millions), so the
    portable executemany path serves both databases.
    """
    ops = connection.ops
    code = plan.interface.ipc_type_code
    region = plan.region_field
    received = ops.adapt_datetimefield_value(received_at)
    sealer = personal_data.Sealer()
    history = []
    latest: dict[str, tuple[int, tuple]] = {}
    for rec, epoch in zip(records, epochs, strict=True):
        key = plan.stored_key(rec, sealer)
        when = ops.adapt_datetimefield_value(_aware(epoch))
        payload = _encode_json(plan.stored_record(rec, sealer)).decode()
        reg = rec.get(region) if region else None
        flag = rec["Flag"]
        history.append((company.pk, code, key, flag, when, reg, payload, received, batch_id))
        prev = latest.get(key)
        if prev is None or epoch >= prev[0]:  # within a batch, the last of equal versions wins
            latest[key] = (
                epoch,
                (company.pk, code, key, flag, flag == 3, when, reg, payload, received, batch_id),
            )
    with connection.cursor() as cursor:
        cursor.executemany(_BASEINFO_HISTORY_SQL, history)
        inserted: int = cursor.rowcount
        cursor.executemany(_BASEINFO_CURRENT_SQL, [row for _, row in sorted(latest.values())])
    return inserted


Writer = Callable[[_Plan, Company, list[Record], list[int], datetime, int], int]
WRITERS: dict[str, Writer] = {
    "position": _write_positions_bulk,
    "event": _write_events_bulk,
    "baseinfo": _write_baseinfo_bulk,
}
"""The writer of each plan kind, looked up per batch (so a benchmark may swap one in its server)."""
