"""Row builders: validated records -> tuples in the column order of the COPY / INSERT paths.

Personal data (ADR 0005): personal key fields and ``license_id`` columns as ``lookup_hash``,
personal values of stored JSON as ``encrypt_field`` tokens.
"""

from __future__ import annotations

from datetime import datetime
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
    record (payload) with personal values as tokens."""
    cid = company.pk
    code = plan.interface.ipc_type_code
    region = plan.region_field
    sealer = personal_data.Sealer()
    key = plan.stored_key
    stored = plan.stored_record
    licence = sealer.hash
    return [
        (
            cid,
            code,
            key(rec, sealer),
            when,
            rec.get("OrderId", ""),
            licence(rec.get("LicenseId", "")),
            rec.get("VehicleNo", ""),
            rec.get(region) if region else None,
            _encode_json(stored(rec, sealer)).decode() if payload_as_text else stored(rec, sealer),
            received,
            batch_id,
        )
        for rec, when in zip(records, times, strict=True)
    ]


def _datetimes(epochs: list[int]) -> list[datetime]:
    memo: dict[int, datetime] = {}
    out = []
    for e in epochs:
        d = memo.get(e)
        if d is None:
            d = memo[e] = _aware(e)
        out.append(d)
    return out


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
