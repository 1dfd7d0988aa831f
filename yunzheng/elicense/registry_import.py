"""Bulk feeds of the vehicle registries (registry_import): road transport certificates, traffic
violations with their remedy state, annual inspections.

Idempotent by natural key — certificate number; violation reference; (certificate number,
inspection date) — and written through this app's registry services (vehicles.py), so every
issue, change, suspension, cancellation and annual inspection reaches the vehicle's electronic
licence and the ministry index in the same transaction, audited per record. Bad rows are
rejected with field, code and message; good rows are kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.core import bulk_import
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.bulk_import import ImportReport, RowInvalid
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import lookup_hash
from yunzheng.core.errors import DomainError, ValidationFailed
from yunzheng.core.ids import region_code_exists, validate_credit_code, validate_resident_id
from yunzheng.elicense.models import LicenceEvent, PlateColour, VehicleTransportCertificate, VehicleViolation
from yunzheng.elicense.vehicles import (
    _sync,
    validate_plate,
    vehicle_certificate_annual_inspection,
    vehicle_certificate_issue,
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


def _run(
    kind: str,
    rows: Iterable[Mapping[str, str]],
    handle: Callable[..., str],
    *,
    actor: Actor,
    dry_run: bool,
    region_prefix: str,
    now: dt.datetime,
) -> ImportReport:
    report = ImportReport(kind=kind)
    for index, row in enumerate(rows, start=1):
        report.rows += 1
        try:
            with transaction.atomic():
                outcome = handle(
                    dict(row), actor=actor, dry_run=dry_run, region_prefix=region_prefix, now=now
                )
        except RowInvalid as problem:
            report.reject(index, problem.field, problem.code, problem.message)
            continue
        except ValidationFailed as error:
            detail = error.details[0] if error.details else None
            report.reject(
                index,
                detail.field if detail else "",
                detail.code if detail else error.code,
                detail.message if detail else str(error.message),
            )
            continue
        except DomainError as error:
            report.reject(index, "", error.code, str(error.message))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    bulk_import.record_import(report, actor=actor, dry_run=dry_run)
    return report


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


# --------------------------------------------------------------------------------------------
# Vehicles and their road transport certificates
# --------------------------------------------------------------------------------------------


def _owner_id(value: str) -> str:
    value = value.strip().upper()
    if not value:
        raise RowInvalid("owner_id_number", "import.required", _("This column is required."))
    try:
        if len(value) == 18 and value[:2].isdigit() and not value[:2].isalpha() and value[2:6].isdigit():
            return validate_resident_id(value, field="owner_id_number").number
        return validate_credit_code(value, field="owner_id_number")
    except ValidationFailed:
        try:
            return validate_credit_code(value, field="owner_id_number")
        except ValidationFailed as error:
            detail = error.details[0] if error.details else None
            raise RowInvalid(
                "owner_id_number",
                "owner_id.invalid",
                _("Neither a resident ID number nor a unified social credit code (checksum).")
                if detail
                else str(error.message),
            ) from None


def _vehicle_row(
    row: dict[str, str], *, actor: Actor, dry_run: bool, region_prefix: str, now: dt.datetime
) -> str:
    number = bulk_import.text(row, "certificate_number", max_length=32)
    plate = _plate(row)
    colour = bulk_import.choice(row, "plate_colour", PlateColour.values)
    owner_name = bulk_import.text(row, "owner_name", max_length=100)
    owner_id = _owner_id(row.get("owner_id_number") or "")
    scope = bulk_import.text(row, "business_scope", max_length=100)
    region = _region(row, "issuing_region", region_prefix)
    valid_from = bulk_import.required_date(row, "valid_from")
    valid_until = bulk_import.required_date(row, "valid_until")
    if valid_until < valid_from:
        raise RowInvalid(
            "valid_until", "validity.ends_before_start", _("The validity cannot end before it starts.")
        )
    status = bulk_import.choice(row, "status", VEHICLE_STATUSES)
    current = (
        VehicleTransportCertificate.objects.select_for_update().filter(certificate_number=number).first()
    )
    if current is None:
        if dry_run:
            return "created"
        certificate = vehicle_certificate_issue(
            certificate_number=number,
            plate_number=plate,
            plate_colour=colour,
            business_scope=scope,
            issuing_region=region,
            valid_from=valid_from,
            valid_until=valid_until,
            owner_name=owner_name,
            owner_id_number=owner_id,
            actor=actor,
            now=now,
        )
        if status != Status.VALID:
            _set_status(certificate, status, actor=actor, now=now)
        return "created"
    if current.owner_id_hash and current.owner_id_hash != lookup_hash(owner_id):
        raise RowInvalid(
            "certificate_number",
            "certificate.owned_by_other",
            _("This certificate number is registered to another owner."),
        )
    record = (current.plate_number, current.plate_colour, current.owner_name, current.business_scope,
              current.issuing_region, current.valid_from, current.valid_until, current.status)  # fmt: skip
    wanted = (plate, colour, owner_name, scope, region, valid_from, valid_until, status)
    if record == wanted:
        return "unchanged"
    if current.status == Status.CANCELLED:
        raise RowInvalid(
            "status",
            "certificate.cancelled_final",
            _("This certificate was cancelled; it cannot be revived."),
        )
    if dry_run:
        return "updated"
    before = dict(zip(("plate", "colour", "owner", "scope", "region", "valid_from", "valid_until", "status"),
                      (record[0], record[1], "***", *record[3:]), strict=True))  # fmt: skip
    current.plate_number, current.plate_colour, current.owner_name = plate, colour, owner_name
    current.business_scope, current.issuing_region = scope, region
    current.valid_from, current.valid_until = valid_from, valid_until
    current.updated_at = now
    old_status = current.status
    current.save()
    if status != old_status:
        _set_status(current, status, actor=actor, now=now)
    else:
        _sync(current, event=LicenceEvent.Kind.CHANGE, actor=actor, reason="registry import")
    record_audit(
        actor=actor,
        action="elicense.vehicle_certificate.import_update",
        target_type="vehicle_certificate",
        target_id=current.pk,
        before=before,
        after={"valid_until": valid_until, "status": status, "scope": scope},
        reason="registry import",
    )
    return "updated"


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


def vehicles_import(
    *,
    rows: Iterable[Mapping[str, str]],
    actor: Actor,
    dry_run: bool = False,
    region_prefix: str = "",
    now: dt.datetime | None = None,
) -> ImportReport:
    return _run(
        VEHICLES,
        rows,
        _vehicle_row,
        actor=actor,
        dry_run=dry_run,
        region_prefix=region_prefix,
        now=now or timezone.now(),
    )


# --------------------------------------------------------------------------------------------
# Violations (with remedy state)
# --------------------------------------------------------------------------------------------


def _violation_row(
    row: dict[str, str], *, actor: Actor, dry_run: bool, region_prefix: str, now: dt.datetime
) -> str:
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
    resolved_at = (
        dt.datetime.combine(resolved_on, dt.time(12), tzinfo=timezone.get_current_timezone())
        if resolved_on
        else None
    )
    current = VehicleViolation.objects.select_for_update().filter(reference=reference).first()
    if current is None:
        if not dry_run:
            violation = VehicleViolation.objects.create(
                reference=reference,
                region_code=region,
                plate_number=plate,
                occurred_on=occurred_on,
                description=description,
                recorded_at=now,
                resolved_at=resolved_at,
            )
            record_audit(
                actor=actor,
                action="elicense.violation.record",
                target_type="vehicle_violation",
                target_id=violation.pk,
                after={"reference": reference, "plate": plate, "occurred_on": occurred_on, "remedy": remedy},
            )
        return "created"
    current_remedy = "resolved" if current.resolved_at else "unresolved"
    current_resolved_on = today_in_china(current.resolved_at) if current.resolved_at else None
    stored = (current.plate_number, current.occurred_on, current.description, current.region_code)
    if (*stored, current_remedy, current_resolved_on) == (
        plate,
        occurred_on,
        description,
        region,
        remedy,
        resolved_on,
    ):
        return "unchanged"
    if not dry_run:
        before = {"plate": current.plate_number, "remedy": current_remedy, "resolved_on": current_resolved_on}
        current.plate_number, current.occurred_on, current.description = plate, occurred_on, description
        current.region_code, current.resolved_at = region, resolved_at
        current.save()
        record_audit(
            actor=actor,
            action="elicense.violation.import_update",
            target_type="vehicle_violation",
            target_id=current.pk,
            before=before,
            after={"plate": plate, "remedy": remedy, "resolved_on": resolved_on},
        )
    return "updated"


def violations_import(
    *,
    rows: Iterable[Mapping[str, str]],
    actor: Actor,
    dry_run: bool = False,
    region_prefix: str = "",
    now: dt.datetime | None = None,
) -> ImportReport:
    return _run(
        VIOLATIONS,
        rows,
        _violation_row,
        actor=actor,
        dry_run=dry_run,
        region_prefix=region_prefix,
        now=now or timezone.now(),
    )


# --------------------------------------------------------------------------------------------
# Annual inspections
# --------------------------------------------------------------------------------------------


def _inspection_row(
    row: dict[str, str], *, actor: Actor, dry_run: bool, region_prefix: str, now: dt.datetime
) -> str:
    number = bulk_import.text(row, "certificate_number", max_length=32)
    inspected_on = bulk_import.required_date(row, "inspected_on")
    result = bulk_import.choice(row, "result", RESULTS)
    valid_until = bulk_import.date(row, "valid_until", required=False)
    certificate = VehicleTransportCertificate.objects.filter(certificate_number=number).first()
    if certificate is None:
        raise RowInvalid(
            "certificate_number", "certificate.unknown", _("No road transport certificate with this number.")
        )
    if not certificate.issuing_region.startswith(region_prefix):
        raise RowInvalid(
            "certificate_number", "region.out_of_scope", _("This region is outside your authority.")
        )
    if inspected_on > today_in_china(now):
        raise RowInvalid("inspected_on", "inspection.in_future", _("An inspection cannot be in the future."))
    if valid_until is not None and valid_until < certificate.valid_from:
        raise RowInvalid(
            "valid_until", "validity.ends_before_start", _("The validity cannot end before it starts.")
        )
    if certificate.last_inspection_on is not None and certificate.last_inspection_on >= inspected_on:
        return "unchanged"  # this inspection (or a later one) is recorded already
    if certificate.status == Status.CANCELLED:
        raise RowInvalid(
            "certificate_number",
            "certificate.cancelled_final",
            _("A cancelled certificate has no inspections."),
        )
    if dry_run:
        return "updated"
    if result == "passed":
        vehicle_certificate_annual_inspection(
            certificate=certificate, inspected_on=inspected_on, valid_until=valid_until, actor=actor, now=now
        )
    else:
        # A vehicle that failed its annual inspection may not operate: the registry suspends the
        # certificate and records the date; the electronic licence follows.
        locked = VehicleTransportCertificate.objects.select_for_update().get(pk=certificate.pk)
        locked.last_inspection_on = inspected_on
        locked.save(update_fields=["last_inspection_on"])
        _set_status(locked, Status.SUSPENDED, actor=actor, now=now)
    return "updated"


def inspections_import(
    *,
    rows: Iterable[Mapping[str, str]],
    actor: Actor,
    dry_run: bool = False,
    region_prefix: str = "",
    now: dt.datetime | None = None,
) -> ImportReport:
    return _run(
        INSPECTIONS,
        rows,
        _inspection_row,
        actor=actor,
        dry_run=dry_run,
        region_prefix=region_prefix,
        now=now or timezone.now(),
    )
