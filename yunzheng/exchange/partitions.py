"""Monthly partitions of the PostgreSQL tables ``exchange_positionrecord`` / ``exchange_eventrecord``.

The migration creates both tables ``PARTITION BY RANGE`` of their event time with a DEFAULT
partition. Before a batch is written, :func:`ensure_partitions` creates the monthly partitions
(Beijing-time month boundaries) for the months present in it, idempotently, in autocommit -
outside the ingest transaction, so that the short exclusive lock that ``CREATE TABLE ... PARTITION
OF`` takes on the parent is never held while a batch waits for its commit.

Months outside a window around today (``EXCHANGE_PARTITION_PAST_MONTHS`` back,
``EXCHANGE_PARTITION_FUTURE_MONTHS`` ahead) are not created: their rare rows land in the DEFAULT
partition instead of letting one bad clock create hundreds of tables. A month whose rows already sit
in the DEFAULT partition cannot get its own partition (PostgreSQL refuses); that is logged once
and the rows stay where they are (see docs/adr/0004-exchange-ingest-storage.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime

from django.db import DatabaseError, connection

from yunzheng.exchange.conf import app_settings
from yunzheng.exchange.spec.validation import BEIJING

logger = logging.getLogger(__name__)

PARTITIONED_TABLES = ("exchange_positionrecord", "exchange_eventrecord")

_known: set[tuple[str, int]] = set()  # (table, YYYYMM) that exist or cannot be created
_lock = threading.Lock()


def _month_after(yyyymm: int) -> int:
    y, m = divmod(yyyymm, 100)
    return (y + 1) * 100 + 1 if m == 12 else yyyymm + 1


def _month_index(yyyymm: int) -> int:
    y, m = divmod(yyyymm, 100)
    return y * 12 + m - 1


def partition_name(table: str, yyyymm: int) -> str:
    return f"{table}_p{yyyymm}"


def _window(now: datetime | None = None) -> tuple[int, int]:
    today = (now or datetime.now(BEIJING)).astimezone(BEIJING)
    current = today.year * 12 + today.month - 1
    past = int(app_settings.EXCHANGE_PARTITION_PAST_MONTHS)
    future = int(app_settings.EXCHANGE_PARTITION_FUTURE_MONTHS)
    return current - past, current + future


def ensure_partitions(table: str, months: Iterable[int]) -> None:
    """Create the monthly partitions of ``table`` for ``months`` (YYYYMM ints) on PostgreSQL.

    Cheap when nothing is missing (an in-process set lookup). Call outside any transaction.
    """
    if connection.vendor != "postgresql":
        return
    missing = [m for m in set(months) if (table, m) not in _known]
    if not missing:
        return
    lo, hi = _window()
    with _lock:
        for yyyymm in sorted(missing):
            if (table, yyyymm) in _known:
                continue
            if not lo <= _month_index(yyyymm) <= hi:
                _known.add((table, yyyymm))  # stays in the DEFAULT partition
                continue
            _create(table, yyyymm)
            if not connection.in_atomic_block:  # a rolled-back transaction would undo it
                _known.add((table, yyyymm))


def _create(table: str, yyyymm: int) -> None:
    y, m = divmod(yyyymm, 100)
    ny, nm = divmod(_month_after(yyyymm), 100)
    name = partition_name(table, yyyymm)
    sql = (
        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} "
        f"FOR VALUES FROM ('{y:04d}-{m:02d}-01 00:00:00+08') TO ('{ny:04d}-{nm:02d}-01 00:00:00+08')"
    )
    try:
        with connection.cursor() as cursor:
            if connection.in_atomic_block:
                # Called inside a transaction (tests, admin scripts): a savepoint keeps a
                # failure from poisoning it.
                cursor.execute("SAVEPOINT yz_partition")
                try:
                    cursor.execute(sql)
                except DatabaseError:
                    cursor.execute("ROLLBACK TO SAVEPOINT yz_partition")
                    raise
                cursor.execute("RELEASE SAVEPOINT yz_partition")
            else:
                cursor.execute(sql)
    except DatabaseError as exc:
        # A concurrent worker created it first, or the DEFAULT partition already holds rows of
        # this month (then they stay there). Either way the batch can be written.
        logger.warning("exchange: partition %s not created: %s", name, exc)
