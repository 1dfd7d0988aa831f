"""Micro-benchmark of record validation: ``.venv/bin/python bench/spec_validation.py [types...]``.

Positions are generated the way they arrive: a fleet of vehicles each sending a series of
fixes for its current order (identifiers repeat, coordinates and times change).
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from typing import Any

import _common  # noqa: F401 (puts the repository on sys.path)

from yunzheng.exchange.spec.samples import valid_record
from yunzheng.exchange.spec.validation import BEIJING, get_validator

DEFAULT_TYPES = ("positionVehicle", "positionDriver", "orderCreate", "operatePay", "baseInfoDriver")


def make_records(interface_type: str, count: int, *, fleet: int = 2000) -> list[dict[str, Any]]:
    now = datetime.now(BEIJING).replace(microsecond=0)
    templates = [valid_record(interface_type, seed=i, now=now) for i in range(min(fleet, count))]
    records: list[dict[str, Any]] = []
    for n in range(count):
        rec = dict(templates[n % len(templates)])
        if "PositionTime" in rec:
            rec["PositionTime"] = int(
                (now - timedelta(seconds=n // len(templates) * 5)).strftime("%Y%m%d%H%M%S")
            )
            rec["Longitude"] += n % 97
            rec["Latitude"] += n % 89
        records.append(rec)
    return records


def measure(interface_type: str, count: int = 50_000, repeat: int = 7) -> float:
    """Best-of-``repeat`` validated records per second (single thread)."""
    records = make_records(interface_type, count)
    validator = get_validator(interface_type)
    best = 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = validator.validate_batch(records)
        elapsed = time.perf_counter() - t0
        if result.rejected:
            raise AssertionError(result.rejected[0])
        best = max(best, count / elapsed)
    return best


def main(argv: list[str]) -> None:
    for t in argv or DEFAULT_TYPES:
        print(f"{t:>20}: {measure(t):>10,.0f} records/s")


if __name__ == "__main__":
    main(sys.argv[1:])
