"""Row builders: validated records -> tuples in the column order of the COPY / INSERT paths.

Personal data (ADR 0005): personal key fields and ``license_id`` columns as ``lookup_hash``,
personal values of stored JSON as ``encrypt_field`` tokens.
"""

from __future__ import annotations

from datetime import datetime
from itertools import repeat
from typing import Any

import msgspec
from django.db import connection

from yunzheng.accounts.models import Company
from yunzheng.exchange import personal_data
from yunzheng.exchange.ingest.plans import Record, _aware, _Plan

POSITION_COLUMNS = (
    "company_id",
    "interface",
    "vehicle_no",
    "license_id",
    "position_time",
    "longitude",
    "latitude",
    "speed",
    "direction",
    "elevation",
    "mileage",
    "encrypt",
    "warn_status",
    "veh_status",
    "biz_status",
    "order_id",
    "region_code",
    "reserved",
    "received_at",
    "batch_id",
)
_POSITION_PG_TYPES = [
    "int8",
    "int2",
    "text",
    "text",
    "timestamptz",
    "int8",
    "int8",
    "int8",
    "int4",
    "int4",
    "float8",
    "int8",
    "int8",
    "int8",
    "int8",
    "text",
    "int4",
    "text",
    "timestamptz",
    "int8",
]

EVENT_COLUMNS = (
    "company_id",
    "interface",
    "natural_key",
    "event_time",
    "order_id",
    "license_id",
    "vehicle_no",
    "region_code",
    "payload",
    "received_at",
    "batch_id",
)
_EVENT_PG_TYPES = [
    "int8",
    "int2",
    "text",
    "timestamptz",
    "text",
    "text",
    "text",
    "int4",
    "jsonb",
    "timestamptz",
    "int8",
]


def _position_rows(
    plan: _Plan, company: Company, records: list[Record], times: list[Any], received: Any, batch_id: int
) -> list[tuple]:
    """Rows in POSITION_COLUMNS order; ``times``/``received`` already in the driver's form.

    positionDriver's LicenseId (an ID number) is stored as its lookup_hash; positionVehicle
    carries no personal data and takes no extra step.
    """
    cid = company.pk
    code = plan.interface.ipc_type_code
    region = plan.region_field or ""
    driver = plan.interface.type == "positionDriver"
    licence = personal_data.Sealer().hash
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for rec, when in zip(records, times, strict=True):
        g = rec.get
        append(
            (
                cid,
                code,
                rec["VehicleNo"],
                licence(rec["LicenseId"]) if driver else "",
                when,
                rec["Longitude"],
                rec["Latitude"],
                g("Speed"),
                g("Direction"),
                g("Elevation"),
                g("Mileage"),
                g("Encrypt"),
                g("WarnStatus"),
                g("VehStatus"),
                g("BizStatus"),
                rec["OrderId"],
                rec[region],
                g("Reserved") or "",
                received,
                batch_id,
            )
        )
    return rows


_encode_json = msgspec.json.Encoder().encode


def _event_rows(
    plan: _Plan,
    company: Company,
    records: list[Record],
    times: list[Any],
    received: Any,
    batch_id: int,
    *,
    payload_as_text: bool,
) -> list[tuple]:
    """Rows in EVENT_COLUMNS order: natural key and license_id with personal values hashed, the
    record (payload) with personal values as tokens.

    Built column by column and zipped into tuples (in C): an order stream has no repeating
    values to memoise, so per-record calls would be most of the cost.
    """
    if len(times) != len(records):
        raise ValueError("one event time per record")
    region = plan.region_field
    sealer = personal_data.Sealer()
    licence = sealer.hash
    personal = plan.personal
    if personal is not None and personal.any:
        seal = sealer.seal
        payloads: list[Any] = [seal(personal, rec) for rec in records]
    else:
        payloads = records
    if payload_as_text:
        payloads = [_encode_json(p).decode() for p in payloads]
    return list(
        zip(
            repeat(company.pk),
            repeat(plan.interface.ipc_type_code),
            plan.stored_keys(records, sealer),
            times,
            [rec.get("OrderId", "") for rec in records],
            [licence(rec.get("LicenseId", "")) for rec in records],
            [rec.get("VehicleNo", "") for rec in records],
            [rec.get(region) for rec in records] if region else repeat(None),
            payloads,
            repeat(received),
            repeat(batch_id),
        )
    )


def _datetimes(epochs: list[int]) -> list[datetime]:
    """One datetime per distinct epoch (a fleet's positions share their times; orders' rarely do)."""
    distinct = {e: _aware(e) for e in set(epochs)}
    return [distinct[e] for e in epochs]


def _adapted_datetimes(epochs: list[int]) -> list[Any]:
    adapt = connection.ops.adapt_datetimefield_value
    memo: dict[int, Any] = {}
    out = []
    for e in epochs:
        d = memo.get(e)
        if d is None:
            d = memo[e] = adapt(_aware(e))
        out.append(d)
    return out
