"""Vehicles and their road transport certificates (natural key: certificate number)."""

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
from yunzheng.core.crypto import lookup_hash
from yunzheng.core.errors import ValidationFailed
from yunzheng.core.ids import (
    find_non_halfwidth,
    validate_credit_code,
    validate_resident_id,
)
from yunzheng.elicense.bulk import NewLicence, licences_issue_bulk
from yunzheng.elicense.error_codes import ElicenseErrorCode as Code
from yunzheng.elicense.models import (
    LicenceEvent,
    LicenceType,
    PlateColour,
    VehicleTransportCertificate,
)
from yunzheng.elicense.registry_import._common import (
    VEHICLE_STATUSES,
    VEHICLES,
    Status,
    _Batch,
    _duplicates,
    _per_record,
    _plate,
    _region,
    _run,
    _set_status,
)
from yunzheng.elicense.vehicles import (
    SOURCE_TYPE,
    _sync,
    vehicle_certificate_issue,
    vehicle_licence_data,
)

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


@dataclass(frozen=True)
class VehicleRow:
    number: str
    plate: str
    colour: str
    owner_name: str
    owner_id: str
    owner_id_hash: str
    scope: str
    region: str
    valid_from: dt.date
    valid_until: dt.date
    status: str

    def record(self) -> tuple[Any, ...]:
        return (self.plate, self.colour, self.owner_name, self.scope, self.region, self.valid_from,
                self.valid_until, self.status)  # fmt: skip


def _parse_vehicle(row: dict[str, str], *, region_prefix: str, now: dt.datetime) -> VehicleRow:
    number = bulk_import.text(row, "certificate_number", max_length=32)
    if find_non_halfwidth(number):
        raise RowInvalid(
            "certificate_number", "certificate.number_format", _("At most 32 half-width characters.")
        )
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
    return VehicleRow(number, plate, colour, owner_name, owner_id, lookup_hash(owner_id), scope, region,
                      valid_from, valid_until, status)  # fmt: skip


def _write_vehicles(batch: _Batch, seen: set[Any]) -> None:
    rows = _duplicates(batch, lambda parsed: parsed.number, seen)
    numbers = [parsed.number for _i, parsed in rows]
    existing = {
        c.certificate_number: c
        for c in VehicleTransportCertificate.objects.select_for_update().filter(
            certificate_number__in=numbers
        )
    }
    # A plate has one live certificate: taken by another record, or twice among the new rows.
    taken = set(
        VehicleTransportCertificate.objects.filter(plate_number__in={p.plate for _i, p in rows})
        .exclude(status=Status.CANCELLED)
        .exclude(certificate_number__in=numbers)
        .values_list("plate_number", "plate_colour")
    )
    new: list[tuple[int, VehicleRow]] = []
    for index, parsed in rows:
        current = existing.get(parsed.number)
        if current is None:
            if (parsed.plate, parsed.colour) in taken:
                batch.report.reject(
                    index,
                    "plate_number",
                    Code.VEHICLE_CERTIFICATE_EXISTS.value,
                    _("A live certificate for this plate already exists."),
                )
                continue
            taken.add((parsed.plate, parsed.colour))
            new.append((index, parsed))
            continue
        if current.owner_id_hash and current.owner_id_hash != parsed.owner_id_hash:
            batch.report.reject(
                index,
                "certificate_number",
                "certificate.owned_by_other",
                _("This certificate number is registered to another owner."),
            )
            continue
        record = (current.plate_number, current.plate_colour, current.owner_name,
                  current.business_scope, current.issuing_region, current.valid_from,
                  current.valid_until, current.status)  # fmt: skip
        if record == parsed.record():
            batch.report.unchanged += 1
            continue
        if current.status == Status.CANCELLED:
            batch.report.reject(
                index,
                "status",
                "certificate.cancelled_final",
                _("This certificate was cancelled; it cannot be revived."),
            )
            continue
        if batch.dry_run:
            batch.report.updated += 1
            continue
        _per_record(batch, index, functools.partial(_update_vehicle, current, parsed, batch))
    if batch.dry_run:
        batch.report.created += len(new)
        return
    # Imported as suspended or cancelled: issued, then the status decision (registry events).
    for index, parsed in [(i, p) for i, p in new if p.status != Status.VALID]:
        _per_record(batch, index, functools.partial(_issue_vehicle, parsed, batch))
    _issue_vehicles_bulk([p for _i, p in new if p.status == Status.VALID], batch)


def _issue_vehicle(parsed: VehicleRow, batch: _Batch) -> str:
    certificate = vehicle_certificate_issue(
        certificate_number=parsed.number,
        plate_number=parsed.plate,
        plate_colour=parsed.colour,
        business_scope=parsed.scope,
        issuing_region=parsed.region,
        valid_from=parsed.valid_from,
        valid_until=parsed.valid_until,
        owner_name=parsed.owner_name,
        owner_id_number=parsed.owner_id,
        actor=batch.actor,
        now=batch.now,
    )
    if parsed.status != Status.VALID:
        _set_status(certificate, parsed.status, actor=batch.actor, now=batch.now)
    return "created"


def _issue_vehicles_bulk(rows: list[VehicleRow], batch: _Batch) -> None:
    """New valid certificates: one COPY of the certificates, their licences, history and index
    entries in bulk (elicense.bulk), one audit entry for the batch."""
    if not rows:
        return
    now = batch.now
    ids = insert_rows(
        VehicleTransportCertificate,
        [
            {
                "certificate_number": p.number,
                "plate_number": p.plate,
                "plate_colour": p.colour,
                "owner_company_id": None,
                "owner_user_id": None,
                "owner_name": p.owner_name,
                "owner_id_number": p.owner_id,
                "owner_id_hash": p.owner_id_hash,
                "business_scope": p.scope,
                "issuing_region": p.region,
                "valid_from": p.valid_from,
                "valid_until": p.valid_until,
                "last_inspection_on": None,
                "status": Status.VALID,
                "created_at": now,
                "updated_at": now,
            }
            for p in rows
        ],
    )
    licences_issue_bulk(
        items=[
            NewLicence(
                source_type=SOURCE_TYPE,
                source_id=str(pk),
                licence_type=LicenceType.VEHICLE_TRANSPORT_CERTIFICATE,
                holder_name=p.owner_name,
                issuer_region=p.region,
                valid_from=p.valid_from,
                valid_until=p.valid_until,
                data=vehicle_licence_data(
                    certificate_number=p.number, plate=p.plate, plate_colour=p.colour, scope=p.scope
                ),
                holder_id_number=p.owner_id,
                holder_id_hash=p.owner_id_hash,
            )
            for pk, p in zip(ids, rows, strict=True)
        ],
        actor=batch.actor,
        reason="registry import",
        now=now,
    )
    record_audit(
        actor=batch.actor,
        action="elicense.vehicle_certificate.issue_bulk",
        target_type="vehicle_certificate",
        target_id=f"{ids[0]}..{ids[-1]}",
        after={"count": len(ids), "first": rows[0].number, "last": rows[-1].number},
        reason="registry import",
    )
    batch.report.created += len(rows)


def _update_vehicle(current: VehicleTransportCertificate, parsed: VehicleRow, batch: _Batch) -> str:
    actor, now = batch.actor, batch.now
    before = {"plate": current.plate_number, "colour": current.plate_colour, "owner": "***",
              "scope": current.business_scope, "region": current.issuing_region,
              "valid_from": current.valid_from, "valid_until": current.valid_until,
              "status": current.status}  # fmt: skip
    current.plate_number, current.plate_colour, current.owner_name = (
        parsed.plate,
        parsed.colour,
        parsed.owner_name,
    )
    current.business_scope, current.issuing_region = parsed.scope, parsed.region
    current.valid_from, current.valid_until = parsed.valid_from, parsed.valid_until
    current.updated_at = now
    old_status = current.status
    current.save()
    if parsed.status != old_status:
        _set_status(current, parsed.status, actor=actor, now=now)
    else:
        _sync(current, event=LicenceEvent.Kind.CHANGE, actor=actor, reason="registry import")
    record_audit(
        actor=actor,
        action="elicense.vehicle_certificate.import_update",
        target_type="vehicle_certificate",
        target_id=current.pk,
        before=before,
        after={"valid_until": parsed.valid_until, "status": parsed.status, "scope": parsed.scope},
        reason="registry import",
    )
    return "updated"


def vehicles_import(
    *,
    rows: Iterable[Mapping[str, str]],
    actor: Actor,
    dry_run: bool = False,
    region_prefix: str = "",
    now: dt.datetime | None = None,
) -> ImportReport:
    seen: set[Any] = set()
    return _run(
        VEHICLES,
        rows,
        _parse_vehicle,
        functools.partial(_write_vehicles, seen=seen),
        actor=actor,
        dry_run=dry_run,
        region_prefix=region_prefix,
        now=now or timezone.now(),
    )
