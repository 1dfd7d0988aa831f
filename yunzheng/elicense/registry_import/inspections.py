"""Annual inspections (natural key: certificate number and inspection date)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.core import bulk_import
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.bulk_import import ImportReport, RowInvalid
from yunzheng.core.clock import today_in_china
from yunzheng.elicense.bulk import LicenceChange, licences_update_bulk
from yunzheng.elicense.models import (
    LicenceEvent,
    VehicleTransportCertificate,
)
from yunzheng.elicense.registry_import._common import (
    INSPECTIONS,
    RESULTS,
    Status,
    _Batch,
    _run,
    _set_status,
)
from yunzheng.elicense.vehicles import (
    SOURCE_TYPE,
    _sync,
    vehicle_licence_data,
)

# --------------------------------------------------------------------------------------------
# Annual inspections
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InspectionRow:
    number: str
    inspected_on: dt.date
    result: str
    valid_until: dt.date | None


def _parse_inspection(row: dict[str, str], *, region_prefix: str, now: dt.datetime) -> InspectionRow:
    number = bulk_import.text(row, "certificate_number", max_length=32)
    inspected_on = bulk_import.required_date(row, "inspected_on")
    result = bulk_import.choice(row, "result", RESULTS)
    valid_until = bulk_import.date(row, "valid_until", required=False)
    if inspected_on > today_in_china(now):
        raise RowInvalid("inspected_on", "inspection.in_future", _("An inspection cannot be in the future."))
    return InspectionRow(number, inspected_on, result, valid_until)


def _write_inspections(batch: _Batch, region_prefix: str) -> None:
    """Passed inspections: one UPDATE of the certificates and their licences in bulk
    (elicense.bulk.licences_update_bulk), one audit entry for the batch. A failed inspection
    suspends the certificate: a registry decision of its own, per record."""
    certificates = {
        c.certificate_number: c
        for c in VehicleTransportCertificate.objects.select_for_update().filter(
            certificate_number__in={p.number for _i, p in batch.rows}
        )
    }
    passed: dict[int, VehicleTransportCertificate] = {}
    for index, parsed in batch.rows:
        certificate = certificates.get(parsed.number)
        problem = _inspection_problem(certificate, parsed, region_prefix)
        if problem is not None:
            batch.report.reject(index, problem.field, problem.code, problem.message)
            continue
        assert certificate is not None  # noqa: S101 - _inspection_problem refuses unknown numbers
        if (
            certificate.last_inspection_on is not None
            and certificate.last_inspection_on >= parsed.inspected_on
        ):
            batch.report.unchanged += 1  # this inspection (or a later one) is recorded already
            continue
        if certificate.status == Status.CANCELLED:
            batch.report.reject(
                index,
                "certificate_number",
                "certificate.cancelled_final",
                _("A cancelled certificate has no inspections."),
            )
            continue
        batch.report.updated += 1
        certificate.last_inspection_on = parsed.inspected_on  # later rows of the file compare to it
        if batch.dry_run:
            continue
        if parsed.result == "passed":
            if parsed.valid_until is not None:
                certificate.valid_until = parsed.valid_until
            certificate.updated_at = batch.now
            passed[certificate.pk] = certificate
        else:
            # A vehicle that failed its annual inspection may not operate: the registry suspends
            # the certificate and records the date; the electronic licence follows.
            VehicleTransportCertificate.objects.filter(pk=certificate.pk).update(
                last_inspection_on=parsed.inspected_on
            )
            if certificate.status != Status.SUSPENDED:
                _set_status(certificate, Status.SUSPENDED, actor=batch.actor, now=batch.now)
    if passed:
        _record_passed_inspections(list(passed.values()), batch)


def _inspection_problem(
    certificate: VehicleTransportCertificate | None, parsed: InspectionRow, region_prefix: str
) -> RowInvalid | None:
    if certificate is None:
        return RowInvalid(
            "certificate_number", "certificate.unknown", _("No road transport certificate with this number.")
        )
    if not certificate.issuing_region.startswith(region_prefix):
        return RowInvalid(
            "certificate_number", "region.out_of_scope", _("This region is outside your authority.")
        )
    if parsed.valid_until is not None and parsed.valid_until < certificate.valid_from:
        return RowInvalid(
            "valid_until", "validity.ends_before_start", _("The validity cannot end before it starts.")
        )
    return None


def _record_passed_inspections(certificates: list[VehicleTransportCertificate], batch: _Batch) -> None:
    VehicleTransportCertificate.objects.bulk_update(
        certificates, ["last_inspection_on", "valid_until", "updated_at"]
    )
    missing = licences_update_bulk(
        changes=[
            LicenceChange(
                source_type=SOURCE_TYPE,
                source_id=str(c.pk),
                valid_until=c.valid_until,
                data=vehicle_licence_data(
                    certificate_number=c.certificate_number,
                    plate=c.plate_number,
                    plate_colour=c.plate_colour,
                    scope=c.business_scope,
                    last_inspection_on=c.last_inspection_on,
                ),
            )
            for c in certificates
        ],
        event=LicenceEvent.Kind.ANNUAL_INSPECTION,
        actor=batch.actor,
        reason="registry import",
        now=batch.now,
    )
    by_pk = {str(c.pk): c for c in certificates}
    for source_id in missing:  # a certificate from before electronic licences: its first licence
        _sync(by_pk[source_id], event=LicenceEvent.Kind.ANNUAL_INSPECTION, actor=batch.actor)
    record_audit(
        actor=batch.actor,
        action="elicense.vehicle_certificate.inspection_bulk",
        target_type="vehicle_certificate",
        target_id=f"{certificates[0].pk}..{certificates[-1].pk}",
        after={
            "count": len(certificates),
            "certificates": [c.certificate_number for c in certificates][:50],
        },
        reason="registry import",
    )


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
        _parse_inspection,
        functools.partial(_write_inspections, region_prefix=region_prefix),
        actor=actor,
        dry_run=dry_run,
        region_prefix=region_prefix,
        now=now or timezone.now(),
    )
