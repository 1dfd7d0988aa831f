"""What the vehicle registries' feeds share: the batched run, row helpers, status decisions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.core import bulk_import
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.bulk_import import ImportReport, RowInvalid
from yunzheng.core.errors import DomainError, ValidationFailed
from yunzheng.core.ids import (
    region_code_exists,
)
from yunzheng.elicense.models import (
    LicenceEvent,
    VehicleTransportCertificate,
)
from yunzheng.elicense.vehicles import (
    _sync,
    validate_plate,
)

VEHICLES = "vehicles"
VIOLATIONS = "violations"
INSPECTIONS = "annual-inspections"
VEHICLE_COLUMNS = (
    "certificate_number",
    "plate_number",
    "plate_colour",
    "owner_name",
    "owner_id_number",
    "business_scope",
    "issuing_region",
    "valid_from",
    "valid_until",
    "status",
)
VEHICLE_REQUIRED = VEHICLE_COLUMNS
VIOLATION_COLUMNS = (
    "reference",
    "plate_number",
    "occurred_on",
    "description",
    "region_code",
    "remedy_state",
    "resolved_on",
)
VIOLATION_REQUIRED = (
    "reference",
    "plate_number",
    "occurred_on",
    "description",
    "region_code",
    "remedy_state",
)
INSPECTION_COLUMNS = ("certificate_number", "inspected_on", "result", "valid_until")
INSPECTION_REQUIRED = ("certificate_number", "inspected_on", "result")
VEHICLE_STATUSES = ("valid", "suspended", "cancelled")
REMEDY_STATES = ("unresolved", "resolved")
RESULTS = ("passed", "failed")
Status = VehicleTransportCertificate.Status


BATCH_SIZE = 2000


def _as_row_invalid(error: RowInvalid | DomainError) -> RowInvalid:
    if isinstance(error, RowInvalid):
        return error
    detail = error.details[0] if isinstance(error, ValidationFailed) and error.details else None
    if detail is not None:
        return RowInvalid(detail.field or "", detail.code, detail.message)
    return RowInvalid("", error.code, str(error.message))


@dataclass
class _Batch:
    """Parsed rows of one batch (row number, parsed values) and what the run shares."""

    rows: list[tuple[int, Any]]
    report: ImportReport
    actor: Actor
    dry_run: bool
    now: dt.datetime


def _per_record(batch: _Batch, index: int, write: Callable[[], str]) -> None:
    """A registry event of its own (an update, a status decision) through the per-record services,
    in a savepoint: a refusal rejects this row only."""
    try:
        with transaction.atomic():
            outcome = write()
    except (RowInvalid, DomainError) as error:
        problem = _as_row_invalid(error)
        batch.report.reject(index, problem.field, problem.code, problem.message)
        return
    batch.report.count(outcome)


def _run(
    kind: str,
    rows: Iterable[Mapping[str, str]],
    parse: Callable[..., Any],
    write: Callable[[_Batch], None],
    *,
    actor: Actor,
    dry_run: bool,
    region_prefix: str,
    now: dt.datetime,
) -> ImportReport:
    """Validate every row in memory, then write them in batches of BATCH_SIZE, one transaction
    each: one read of the existing records by natural key, bulk inserts of the new ones with one
    audit entry per batch, the per-record registry services for changes."""
    report = ImportReport(kind=kind)
    pending: list[tuple[int, Any]] = []

    def flush() -> None:
        if pending:
            with transaction.atomic():
                write(_Batch(rows=list(pending), report=report, actor=actor, dry_run=dry_run, now=now))
            pending.clear()

    for index, row in enumerate(rows, start=1):
        report.rows += 1
        try:
            pending.append((index, parse(dict(row), region_prefix=region_prefix, now=now)))
        except (RowInvalid, DomainError) as error:
            problem = _as_row_invalid(error)
            report.reject(index, problem.field, problem.code, problem.message)
            continue
        if len(pending) >= BATCH_SIZE:
            flush()
    flush()
    report.rejected.sort(key=lambda problem: problem.row)
    if not dry_run and (report.created or report.updated):
        record_audit(
            actor=actor,
            action="registry.import",
            target_type="registry",
            target_id=kind,
            after={k: v for k, v in report.as_dict().items() if k != "rejected"}
            | {"rejected": len(report.rejected)},
        )
    return report


def _duplicates(batch: _Batch, key: Callable[[Any], Any], seen: set[Any]) -> list[tuple[int, Any]]:
    """The batch without rows whose natural key appeared earlier in the file (rejected)."""
    kept = []
    for index, parsed in batch.rows:
        if key(parsed) in seen:
            batch.report.reject(
                index, "", "import.duplicate_row", _("This record appears earlier in the file.")
            )
            continue
        seen.add(key(parsed))
        kept.append((index, parsed))
    return kept


def _region(row: dict[str, str], name: str, region_prefix: str) -> str:
    code = bulk_import.text(row, name, max_length=6)
    if not region_code_exists(code):
        raise RowInvalid(
            name, "region.unknown", _("%(value)s is not a GB/T 2260 region code.") % {"value": code}
        )
    if not code.startswith(region_prefix):
        raise RowInvalid(name, "region.out_of_scope", _("This region is outside your authority."))
    return code


def _plate(row: dict[str, str]) -> str:
    try:
        return validate_plate(row.get("plate_number") or "")
    except ValidationFailed as error:
        raise RowInvalid("plate_number", error.code, str(error.message)) from None


def _set_status(
    certificate: VehicleTransportCertificate, status: str, *, actor: Actor, now: dt.datetime
) -> None:
    """A registry status decision (suspension, cancellation, reinstatement); the licence follows."""
    event = {
        Status.SUSPENDED: LicenceEvent.Kind.SUSPEND,
        Status.CANCELLED: LicenceEvent.Kind.CANCEL,
        Status.VALID: LicenceEvent.Kind.REINSTATE,
    }[Status(status)]
    before = certificate.status
    certificate.status = status
    certificate.updated_at = now
    certificate.save(update_fields=["status", "updated_at"])
    _sync(certificate, event=event, actor=actor, reason="registry import")
    record_audit(
        actor=actor,
        action=f"elicense.vehicle_certificate.{event}",
        target_type="vehicle_certificate",
        target_id=certificate.pk,
        before={"status": before},
        after={"status": status},
        reason="registry import",
    )
