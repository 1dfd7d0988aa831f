"""Traffic violations with their remedy state (natural key: the record reference)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.core import bulk_import
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.bulk_import import ImportReport, RowInvalid
from yunzheng.core.bulk_insert import insert_rows
from yunzheng.core.clock import today_in_china
from yunzheng.elicense.models import (
    TrafficPassApplication,
    VehicleViolation,
)
from yunzheng.elicense.registry_import._common import (
    REMEDY_STATES,
    VIOLATIONS,
    _Batch,
    _duplicates,
    _per_record,
    _plate,
    _region,
    _run,
)

# --------------------------------------------------------------------------------------------
# Violations (with remedy state)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ViolationRow:
    reference: str
    plate: str
    occurred_on: dt.date
    description: str
    region: str
    remedy: str
    resolved_on: dt.date | None

    @property
    def resolved_at(self) -> dt.datetime | None:
        if self.resolved_on is None:
            return None
        return dt.datetime.combine(self.resolved_on, dt.time(12), tzinfo=timezone.get_current_timezone())


def _parse_violation(row: dict[str, str], *, region_prefix: str, now: dt.datetime) -> ViolationRow:
    reference = bulk_import.text(row, "reference", max_length=40)
    plate = _plate(row)
    occurred_on = bulk_import.required_date(row, "occurred_on")
    description = bulk_import.text(row, "description", max_length=200)
    region = _region(row, "region_code", region_prefix)
    remedy = bulk_import.choice(row, "remedy_state", REMEDY_STATES)
    resolved_on = bulk_import.date(row, "resolved_on", required=False)
    if remedy == "resolved" and resolved_on is None:
        raise RowInvalid("resolved_on", "violation.resolved_on_required", _("Give the date it was resolved."))
    if remedy == "unresolved" and resolved_on is not None:
        raise RowInvalid(
            "resolved_on", "violation.resolved_on_unexpected", _("An unresolved violation has no date.")
        )
    if resolved_on is not None and resolved_on < occurred_on:
        raise RowInvalid(
            "resolved_on", "violation.resolved_before", _("It cannot be resolved before it occurred.")
        )
    return ViolationRow(reference, plate, occurred_on, description, region, remedy, resolved_on)


def _write_violations(batch: _Batch, seen: set[Any]) -> None:
    rows = _duplicates(batch, lambda parsed: parsed.reference, seen)
    existing = {
        v.reference: v
        for v in VehicleViolation.objects.select_for_update().filter(
            reference__in=[p.reference for _i, p in rows]
        )
    }
    new: list[ViolationRow] = []
    for index, parsed in rows:
        current = existing.get(parsed.reference)
        if current is None:
            new.append(parsed)
            continue
        current_remedy = "resolved" if current.resolved_at else "unresolved"
        current_resolved_on = today_in_china(current.resolved_at) if current.resolved_at else None
        stored = (current.plate_number, current.occurred_on, current.description, current.region_code,
                  current_remedy, current_resolved_on)  # fmt: skip
        wanted = (parsed.plate, parsed.occurred_on, parsed.description, parsed.region, parsed.remedy,
                  parsed.resolved_on)  # fmt: skip
        if stored == wanted:
            batch.report.unchanged += 1
        elif batch.dry_run:
            batch.report.updated += 1
        else:
            _per_record(batch, index, functools.partial(_update_violation, current, parsed, batch))
    if batch.dry_run or not new:
        batch.report.created += len(new)
        return
    ids = insert_rows(
        VehicleViolation,
        [
            {
                "reference": p.reference,
                "region_code": p.region,
                "plate_number": p.plate,
                "occurred_on": p.occurred_on,
                "description": p.description,
                "recorded_at": batch.now,
                "resolved_at": p.resolved_at,
            }
            for p in new
        ],
    )
    record_audit(
        actor=batch.actor,
        action="elicense.violation.record_bulk",
        target_type="vehicle_violation",
        target_id=f"{ids[0]}..{ids[-1]}",
        after={
            "count": len(ids),
            "unresolved": sum(p.remedy == "unresolved" for p in new),
            "first": new[0].reference,
            "last": new[-1].reference,
        },
        reason="registry import",
    )
    batch.report.created += len(new)
    _recheck_passes_of({p.plate for p in new if p.remedy == "unresolved"}, batch)


def _recheck_passes_of(plates: set[str], batch: _Batch) -> None:
    """A new unresolved violation suspends the vehicle's approved passes: re-check the plates that
    have any (one query finds them)."""
    from yunzheng.elicense.traffic_passes import recheck_for_vehicle

    with_passes = set(
        TrafficPassApplication.objects.filter(plate_number__in=plates, status="approved").values_list(
            "plate_number", flat=True
        )
    )
    for plate in sorted(with_passes):
        recheck_for_vehicle(plate_number=plate, actor=batch.actor, now=batch.now)


def _update_violation(current: VehicleViolation, parsed: ViolationRow, batch: _Batch) -> str:
    before = {
        "plate": current.plate_number,
        "remedy": "resolved" if current.resolved_at else "unresolved",
        "resolved_on": today_in_china(current.resolved_at) if current.resolved_at else None,
    }
    current.plate_number, current.occurred_on, current.description = (
        parsed.plate, parsed.occurred_on, parsed.description
    )  # fmt: skip
    current.region_code, current.resolved_at = parsed.region, parsed.resolved_at
    current.save()
    record_audit(
        actor=batch.actor,
        action="elicense.violation.import_update",
        target_type="vehicle_violation",
        target_id=current.pk,
        before=before,
        after={"plate": parsed.plate, "remedy": parsed.remedy, "resolved_on": parsed.resolved_on},
    )
    if parsed.remedy == "unresolved":
        _recheck_passes_of({parsed.plate}, batch)
    return "updated"


def violations_import(
    *,
    rows: Iterable[Mapping[str, str]],
    actor: Actor,
    dry_run: bool = False,
    region_prefix: str = "",
    now: dt.datetime | None = None,
) -> ImportReport:
    seen: set[Any] = set()
    return _run(
        VIOLATIONS,
        rows,
        _parse_violation,
        functools.partial(_write_violations, seen=seen),
        actor=actor,
        dry_run=dry_run,
        region_prefix=region_prefix,
        now=now or timezone.now(),
    )
