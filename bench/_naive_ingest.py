"""The exchange ingest benchmark's baseline: one ORM ``create()`` per record (benchmark only).

The product stores a batch with binary COPY / ``executemany`` (``yunzheng.exchange.ingest.writers``).
The benchmark compares it with this naive writer after the same validation, in the same server:
``install()`` puts these writers in ``writers.WRITERS`` (the benchmark's WSGI module calls it),
``installed()`` does so for the duration of a ``with`` block (the self-checks in
``bench/tests/test_naive_ingest.py``, which show the baseline stores what the product stores).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from yunzheng.accounts.models import Company
from yunzheng.exchange import personal_data
from yunzheng.exchange.ingest import writers
from yunzheng.exchange.ingest.plans import Record, _aware, _Plan
from yunzheng.exchange.ingest.rows import (
    EVENT_COLUMNS,
    POSITION_COLUMNS,
    _datetimes,
    _event_rows,
    _position_rows,
)
from yunzheng.exchange.models import BaseInfoCurrent, BaseInfoRecord, EventRecord, PositionRecord


def _naive_create(model: type, fields: dict[str, Any]) -> bool:
    try:
        with transaction.atomic():
            model.objects.create(**fields)  # type: ignore[attr-defined]
    except IntegrityError:
        return False
    return True


def write_positions_naive(
    plan: _Plan,
    company: Company,
    records: list[Record],
    epochs: list[int],
    received_at: datetime,
    batch_id: int,
) -> int:
    rows = _position_rows(plan, company, records, _datetimes(epochs), received_at, batch_id)
    inserted = 0
    for row in rows:
        inserted += _naive_create(PositionRecord, dict(zip(POSITION_COLUMNS, row, strict=True)))
    return inserted


def write_events_naive(
    plan: _Plan,
    company: Company,
    records: list[Record],
    epochs: list[int],
    received_at: datetime,
    batch_id: int,
) -> int:
    rows = _event_rows(
        plan, company, records, _datetimes(epochs), received_at, batch_id, payload_as_text=False
    )
    inserted = 0
    for row in rows:
        inserted += _naive_create(EventRecord, dict(zip(EVENT_COLUMNS, row, strict=True)))
    return inserted


def write_baseinfo_naive(
    plan: _Plan,
    company: Company,
    records: list[Record],
    epochs: list[int],
    received_at: datetime,
    batch_id: int,
) -> int:
    inserted = 0
    code = plan.interface.ipc_type_code
    sealer = personal_data.Sealer()
    for rec, epoch in zip(records, epochs, strict=True):
        key = plan.stored_key(rec, sealer)
        common = {
            "company": company,
            "interface": code,
            "natural_key": key,
            "flag": rec["Flag"],
            "update_time": _aware(epoch),
            "region_code": rec.get(plan.region_field) if plan.region_field else None,
            "payload": plan.stored_record(rec, sealer),
            "received_at": received_at,
            "batch_id": batch_id,
        }
        if not _naive_create(BaseInfoRecord, common):
            continue
        inserted += 1
        current = BaseInfoCurrent.objects.filter(company=company, interface=code, natural_key=key).first()
        if current is None:
            BaseInfoCurrent.objects.create(deleted=rec["Flag"] == 3, **common)
        elif current.update_time < common["update_time"]:
            for name, value in common.items():
                setattr(current, name, value)
            current.deleted = rec["Flag"] == 3
            current.save()
    return inserted


NAIVE_WRITERS: dict[str, writers.Writer] = {
    "position": write_positions_naive,
    "event": write_events_naive,
    "baseinfo": write_baseinfo_naive,
}


def install() -> None:
    """Store every batch of this process with the naive writers (the benchmark's server)."""
    writers.WRITERS.update(NAIVE_WRITERS)


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """The naive writers for the duration of the block, then the product's again."""
    saved = dict(writers.WRITERS)
    install()
    try:
        yield
    finally:
        writers.WRITERS.clear()
        writers.WRITERS.update(saved)
