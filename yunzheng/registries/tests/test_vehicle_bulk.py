"""The vehicle registries' feeds write in batches (set-based): new certificates with their
electronic licences, history and ministry-index entries in bulk, violations in bulk, passed annual
inspections updating certificates and licences in bulk; one audit entry per batch, idempotent by
natural key, per-row errors kept. A batch size of 3 makes the test cross batch boundaries."""

from __future__ import annotations

import datetime as dt

import pytest

from yunzheng.core.audit import Actor
from yunzheng.core.models import AuditEntry
from yunzheng.elicense.models import (
    ElectronicLicence,
    LicenceEvent,
    MinistryIndexEntry,
    VehicleTransportCertificate,
    VehicleViolation,
)
from yunzheng.elicense.registry_import import _common, inspections_import, vehicles_import, violations_import
from yunzheng.elicense.tests.conftest import credit_code

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()
ACTOR = Actor.system("test feed")
PLATES = ["津A10001", "津A10002", "津A10003", "津A10004", "津A10005", "津A10006", "津A10007"]


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common, "BATCH_SIZE", 3)


def vehicle(number: str, plate: str, **overrides: str) -> dict[str, str]:
    return {
        "certificate_number": number,
        "plate_number": plate,
        "plate_colour": "yellow",
        "owner_name": "天津顺达物流有限公司",
        "owner_id_number": OWNER,
        "business_scope": "道路普通货物运输",
        "issuing_region": "120100",
        "valid_from": (TODAY - dt.timedelta(days=100)).isoformat(),
        "valid_until": (TODAY + dt.timedelta(days=700)).isoformat(),
        "status": "valid",
    } | overrides


OWNER = credit_code("120101")


def test_vehicles_in_batches_with_licences_index_and_one_audit_entry_per_batch() -> None:
    rows = [vehicle(f"1201010000{i:02d}", plate) for i, plate in enumerate(PLATES, start=1)]
    rows.append(vehicle("120101000001", "津A10001"))  # the same number again: rejected
    rows.append(vehicle("120101000099", "津A10002"))  # a plate with a live certificate: rejected
    rows.append(vehicle("120101000098", "津A10098", status="suspended"))  # issued, then suspended
    report = vehicles_import(rows=rows, actor=ACTOR)
    assert (report.rows, report.created, report.updated) == (10, 8, 0)
    assert [(p.row, p.code) for p in report.rejected] == [
        (8, "import.duplicate_row"),
        (9, "vehicle_certificate.exists"),
    ]
    certificates = VehicleTransportCertificate.objects.filter(issuing_region="120100")
    assert certificates.count() == 8
    licences = ElectronicLicence.objects.filter(source_type="elicense.vehicle_certificate")
    assert licences.count() == 8
    assert MinistryIndexEntry.objects.filter(licence__in=licences).count() == 8
    assert LicenceEvent.objects.filter(licence__in=licences, kind="issue").count() == 8
    suspended = certificates.get(certificate_number="120101000098")
    assert suspended.status == "suspended"
    assert licences.get(source_id=str(suspended.pk)).status == "suspended"
    one = licences.get(source_id=str(certificates.get(certificate_number="120101000001").pk))
    assert (one.holder_name, one.data["plate"], one.status) == ("天津顺达物流有限公司", "津A10001", "valid")
    # 7 new valid certificates in batches of 3: three bulk batches, one audit entry each.
    assert AuditEntry.objects.filter(action="elicense.vehicle_certificate.issue_bulk").count() == 3
    assert AuditEntry.objects.filter(action="registry.import", target_id="vehicles").count() == 1

    again = vehicles_import(rows=rows[:7], actor=ACTOR)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 7)
    changed = vehicles_import(
        rows=[vehicle("120101000001", "津A10001", business_scope="危险货物运输")], actor=ACTOR
    )
    assert changed.updated == 1
    assert licences.get(pk=one.pk).data["scope"] == "危险货物运输"

    checked = vehicles_import(rows=[vehicle("120101000050", "津A10050")], actor=ACTOR, dry_run=True)
    assert checked.created == 1
    assert not VehicleTransportCertificate.objects.filter(certificate_number="120101000050").exists()


def test_passed_inspections_update_certificates_and_licences_in_bulk() -> None:
    vehicles_import(rows=[vehicle(f"1201010000{i:02d}", p) for i, p in enumerate(PLATES, 1)], actor=ACTOR)
    inspected = (TODAY - dt.timedelta(days=2)).isoformat()
    new_end = (TODAY + dt.timedelta(days=1000)).isoformat()
    rows = [
        {"certificate_number": f"1201010000{i:02d}", "inspected_on": inspected, "result": "passed",
         "valid_until": new_end}
        for i in range(1, 6)
    ]  # fmt: skip
    rows.append({"certificate_number": "120101000006", "inspected_on": inspected, "result": "failed"})
    rows.append({"certificate_number": "NOPE", "inspected_on": inspected, "result": "passed"})
    report = inspections_import(rows=rows, actor=ACTOR)
    assert (report.updated, [(p.row, p.code) for p in report.rejected]) == (6, [(7, "certificate.unknown")])
    for number in [f"1201010000{i:02d}" for i in range(1, 6)]:
        certificate = VehicleTransportCertificate.objects.get(certificate_number=number)
        assert certificate.last_inspection_on.isoformat() == inspected  # type: ignore[union-attr]
        licence = ElectronicLicence.objects.get(
            source_type="elicense.vehicle_certificate", source_id=str(certificate.pk)
        )
        assert (licence.version, licence.valid_until.isoformat()) == (2, new_end)
        assert licence.data["last_inspection_on"] == inspected
        index = MinistryIndexEntry.objects.get(licence=licence)
        assert (index.version, index.content_hash) == (2, licence.content_hash)
        assert LicenceEvent.objects.filter(licence=licence, kind="annual_inspection", version=2).exists()
    failed = VehicleTransportCertificate.objects.get(certificate_number="120101000006")
    assert failed.status == "suspended"
    assert AuditEntry.objects.filter(action="elicense.vehicle_certificate.inspection_bulk").count() == 2
    assert inspections_import(rows=rows[:6], actor=ACTOR).unchanged == 6


def test_violations_in_bulk_and_updates() -> None:
    rows = [
        {"reference": f"V-{i}", "plate_number": "津A10001", "occurred_on": "2026-10-01",
         "description": "超限运输", "region_code": "120100", "remedy_state": "unresolved",
         "resolved_on": ""}
        for i in range(1, 6)
    ]  # fmt: skip
    rows.append({**rows[0]})  # the same reference again
    report = violations_import(rows=rows, actor=ACTOR)
    assert (report.created, [(p.row, p.code) for p in report.rejected]) == (5, [(6, "import.duplicate_row")])
    assert VehicleViolation.objects.filter(plate_number="津A10001", resolved_at__isnull=True).count() == 5
    assert AuditEntry.objects.filter(action="elicense.violation.record_bulk").count() == 2
    rows[0] = rows[0] | {"remedy_state": "resolved", "resolved_on": "2026-11-01"}
    again = violations_import(rows=rows[:5], actor=ACTOR)
    assert (again.updated, again.unchanged) == (1, 4)
    assert VehicleViolation.objects.get(reference="V-1").resolved_at is not None
