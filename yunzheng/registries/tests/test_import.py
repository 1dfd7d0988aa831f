"""Bulk registry feeds: CSV (with and without BOM) and XLSX files with good and bad rows, the
command's one-line JSON report, idempotent re-imports, drivers' certificates linked by ID number,
revocation as a registry event the electronic licence follows, and annual inspections reaching
the vehicle's electronic licence."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from yunzheng.core.models import AuditEntry
from yunzheng.elicense.models import ElectronicLicence, LicenceEvent, VehicleTransportCertificate
from yunzheng.elicense.tests.conftest import credit_code, make_verified_user, resident_id, user_client
from yunzheng.practitioners.licences import certificate_licence
from yunzheng.practitioners.models import QualificationCertificate
from yunzheng.practitioners.registry_import import COLUMNS

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


def cert_row(number: str, id_number: str, **overrides: str) -> dict[str, str]:
    row = {
        "certificate_number": number,
        "id_number": id_number,
        "name": "张三",
        "categories": "ride_hailing|cruising_taxi",
        "issuing_authority": "杭州市道路运输管理服务中心",
        "region_code": "330100",
        "first_issued_on": "2020-03-01",
        "valid_from": "2024-03-01",
        "valid_until": "2030-02-28",
        "service_unit": "杭州某某出行科技有限公司",
        "status": "valid",
    }
    row.update(overrides)
    return row


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]], *, bom: bool) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8"))
    return path


def write_xlsx(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(columns))
    for row in rows:
        sheet.append([row.get(c, "") for c in columns])
    workbook.save(path)
    return path


def run(*args: Any) -> dict[str, Any]:
    out = io.StringIO()
    call_command("registry_import", *args, stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1  # exactly one JSON object
    report: dict[str, Any] = json.loads(lines[0])
    return report


def _mixed_rows() -> tuple[list[dict[str, str]], dict[int, tuple[str, str]]]:
    good_a, good_b = resident_id("330102"), resident_id("330106")
    bad_checksum = good_a[:-1] + ("0" if good_a[-1] != "0" else "1")
    rows = [
        cert_row("330100202400001", good_a),
        cert_row("330100202400002", bad_checksum),
        cert_row("330100202400003", good_b, region_code="999999"),
        cert_row("330100202400004", good_b, valid_until="2026-02-30"),
        cert_row("330100202400005", good_b, valid_from="2025-01-01", valid_until="2024-12-31"),
        cert_row("330100202400006", good_b, categories="ride_hailing|bus"),
        cert_row("330100202400007", good_b, categories="freight", status="revoked"),
        cert_row("330100202400001", good_b),  # number already used by another person (row 1)
    ]
    expected = {
        2: ("id_number", "id_number.checksum"),
        3: ("region_code", "region.unknown"),
        4: ("valid_until", "import.date_invalid"),
        5: ("valid_until", "validity.ends_before_start"),
        6: ("categories", "certificate.category_unknown"),
        8: ("certificate_number", "certificate.owned_by_other"),
    }
    return rows, expected


@pytest.mark.parametrize("fmt", ["csv-bom", "csv", "xlsx"])
def test_certificate_file_with_good_and_bad_rows(tmp_path: Path, fmt: str) -> None:
    rows, expected = _mixed_rows()
    if fmt == "xlsx":
        path = write_xlsx(tmp_path / "certs.xlsx", COLUMNS, rows)
    else:
        path = write_csv(tmp_path / "certs.csv", COLUMNS, rows, bom=fmt == "csv-bom")

    dry = run("qualification-certificates", str(path), "--dry-run")
    assert (dry["created"], dry["updated"], dry["unchanged"]) == (2, 0, 0)
    assert not QualificationCertificate.objects.exists()

    report = run("qualification-certificates", str(path))
    assert set(report) == {"kind", "rows", "created", "updated", "unchanged", "rejected"}
    assert report["kind"] == "qualification-certificates"
    assert (report["rows"], report["created"], report["updated"], report["unchanged"]) == (8, 2, 0, 0)
    assert {r["row"]: (r["field"], r["code"]) for r in report["rejected"]} == expected
    assert all(r["message"] for r in report["rejected"])

    kept = QualificationCertificate.objects.get(number="330100202400001")
    assert kept.holder_id_number == rows[0]["id_number"]  # decrypts
    assert sorted(kept.grants.values_list("category", flat=True)) == ["cruising_taxi", "ride_hailing"]
    licence = certificate_licence(kept)
    assert licence is not None
    assert (licence.status, licence.index_entry.status) == ("valid", "valid")
    revoked = certificate_licence(QualificationCertificate.objects.get(number="330100202400007"))
    assert revoked is not None
    assert revoked.status == "revoked"
    assert (
        AuditEntry.objects.filter(action="registry.import", target_id="qualification-certificates").count()
        == 1
    )

    again = run("qualification-certificates", str(path))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert len(again["rejected"]) == 6


def test_id_numbers_are_encrypted_at_rest(tmp_path: Path) -> None:
    from django.db import connection

    id_number = resident_id("330102")
    run(
        "qualification-certificates",
        str(write_csv(tmp_path / "a.csv", COLUMNS, [cert_row("N1", id_number)], bom=False)),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT holder_id_number FROM practitioners_qualificationcertificate")
        stored = cursor.fetchone()[0]
    assert id_number not in stored


def test_template_and_missing_columns(tmp_path: Path) -> None:
    out = tmp_path / "template.csv"
    call_command("registry_import", "qualification-certificates", "--template", str(out))
    assert out.read_bytes().decode("utf-8-sig").strip() == ",".join(COLUMNS)
    broken = tmp_path / "broken.csv"
    broken.write_text("certificate_number,name\nX,Y\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"import\.columns_missing"):
        run("qualification-certificates", str(broken))
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(CommandError, match=r"import\.xlsx_invalid"):
        run("qualification-certificates", str(fake))


def test_drivers_certificates_appear_after_import_both_orders(tmp_path: Path) -> None:
    # Verified before the import: linked during the import.
    driver = make_verified_user("张三", region="330102")
    rows = [cert_row("330100202400011", driver.id_number)]
    run("qualification-certificates", str(write_csv(tmp_path / "a.csv", COLUMNS, rows, bom=False)))
    certificate = QualificationCertificate.objects.get(number="330100202400011")
    assert certificate.holder_id == driver.pk
    licence = certificate_licence(certificate)
    assert licence is not None
    assert licence.holder_user_id == driver.pk
    listed = user_client(driver).get("/api/v1/office/certificates").json()
    assert [c["number"] for c in listed] == ["330100202400011"]

    # Imported first, verified afterwards: linked when the driver opens the office.
    later_id = resident_id("330106")
    rows = [cert_row("330100202400012", later_id)]
    run("qualification-certificates", str(write_csv(tmp_path / "b.csv", COLUMNS, rows, bom=False)))
    from yunzheng.accounts.models import User
    from yunzheng.accounts.services import realname_verification_record_in_person
    from yunzheng.elicense.tests.conftest import SYSTEM

    late = User.objects.create_user(username="late-driver")
    realname_verification_record_in_person(
        user=late,
        name="李四",
        id_number=later_id,
        ethnicity="汉",
        address="杭州",
        recorded_by=SYSTEM,
        reason="t",
    )
    listed = user_client(late).get("/api/v1/office/certificates").json()
    assert [c["number"] for c in listed] == ["330100202400012"]


def test_revocation_is_final_and_the_licence_follows(tmp_path: Path) -> None:
    id_number = resident_id("330102")
    path = write_csv(tmp_path / "a.csv", COLUMNS, [cert_row("330100202400021", id_number)], bom=False)
    run("qualification-certificates", str(path))
    certificate = QualificationCertificate.objects.get(number="330100202400021")
    revoke = write_csv(
        tmp_path / "r.csv", COLUMNS, [cert_row("330100202400021", id_number, status="revoked")], bom=False
    )
    report = run("qualification-certificates", str(revoke))
    assert report["updated"] == 1
    licence = certificate_licence(certificate)
    assert licence is not None
    assert (licence.status, licence.index_entry.status) == ("revoked", "revoked")
    assert licence.events.filter(kind="revoke").exists()

    # A later renewal in the feed (new validity, status valid) never revives it.
    renew = write_csv(
        tmp_path / "n.csv",
        COLUMNS,
        [cert_row("330100202400021", id_number, valid_from="2030-03-01", valid_until="2036-02-28")],
        bom=False,
    )
    refused = run("qualification-certificates", str(renew))
    assert [(r["field"], r["code"]) for r in refused["rejected"]] == [("status", "certificate.revoked_final")]
    certificate.refresh_from_db()
    licence.refresh_from_db()
    assert (certificate.status, licence.status) == ("revoked", "revoked")

    # A renewal or replacement through the office's registry path keeps it revoked too.
    from yunzheng.elicense.tests.conftest import SYSTEM
    from yunzheng.practitioners.licences import certificate_licence_sync

    certificate_licence_sync(
        certificate=certificate, event="issue", actor=SYSTEM, reason="renewal", now=_now()
    )
    licence.refresh_from_db()
    assert licence.status == "revoked"


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


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


def test_vehicles_violations_and_annual_inspection_reach_the_licence(tmp_path: Path) -> None:
    owner = credit_code("120101")
    vehicles = [
        {
            "certificate_number": "120101000001",
            "plate_number": "津A12345",
            "plate_colour": "yellow",
            "owner_name": "天津顺达物流有限公司",
            "owner_id_number": owner,
            "business_scope": "道路普通货物运输",
            "issuing_region": "120100",
            "valid_from": (TODAY - dt.timedelta(days=100)).isoformat(),
            "valid_until": (TODAY + dt.timedelta(days=700)).isoformat(),
            "status": "valid",
        },
        {
            "certificate_number": "120101000002",
            "plate_number": "津A1234",  # bad plate
            "plate_colour": "yellow",
            "owner_name": "x",
            "owner_id_number": owner,
            "business_scope": "道路普通货物运输",
            "issuing_region": "120100",
            "valid_from": "2026-01-01",
            "valid_until": "2027-01-01",
            "status": "valid",
        },
    ]
    report = run("vehicles", str(write_xlsx(tmp_path / "v.xlsx", VEHICLE_COLUMNS, vehicles)))
    assert (report["created"], [(r["row"], r["field"]) for r in report["rejected"]]) == (
        1,
        [(2, "plate_number")],
    )
    assert run("vehicles", str(write_xlsx(tmp_path / "v.xlsx", VEHICLE_COLUMNS, vehicles)))["unchanged"] == 1

    inspected_on = (TODAY - dt.timedelta(days=3)).isoformat()
    new_end = (TODAY + dt.timedelta(days=1000)).isoformat()
    inspections = [
        {
            "certificate_number": "120101000001",
            "inspected_on": inspected_on,
            "result": "passed",
            "valid_until": new_end,
        },
        {"certificate_number": "NOPE", "inspected_on": inspected_on, "result": "passed", "valid_until": ""},
    ]
    columns = ("certificate_number", "inspected_on", "result", "valid_until")
    report = run("annual-inspections", str(write_csv(tmp_path / "i.csv", columns, inspections, bom=True)))
    assert report["updated"] == 1
    assert report["rejected"][0]["code"] == "certificate.unknown"
    vehicle = VehicleTransportCertificate.objects.get(certificate_number="120101000001")
    licence = ElectronicLicence.objects.get(
        source_type="elicense.vehicle_certificate", source_id=str(vehicle.pk)
    )
    assert licence.data["last_inspection_on"] == inspected_on
    assert licence.valid_until.isoformat() == new_end
    assert LicenceEvent.objects.filter(licence=licence, kind="annual_inspection").count() == 1
    again = run("annual-inspections", str(write_csv(tmp_path / "i.csv", columns, inspections, bom=True)))
    assert again["unchanged"] == 1

    common = {"plate_number": "津A12345", "region_code": "120100", "resolved_on": ""}
    violations = [
        {**common, "reference": "V-1", "occurred_on": "2026-10-01", "description": "超限运输",
         "remedy_state": "unresolved"},
        {**common, "reference": "V-2", "occurred_on": "2026-10-02", "description": "闯禁行",
         "remedy_state": "resolved"},
    ]  # fmt: skip
    vcols = (
        "reference",
        "plate_number",
        "occurred_on",
        "description",
        "region_code",
        "remedy_state",
        "resolved_on",
    )
    report = run("violations", str(write_csv(tmp_path / "x.csv", vcols, violations, bom=False)))
    assert report["created"] == 1
    assert report["rejected"][0]["code"] == "violation.resolved_on_required"
    from yunzheng.elicense.vehicles import vehicle_legal_problems

    assert [code for code, _m in vehicle_legal_problems(plate_number="津A12345")] == [
        "traffic_pass.unresolved_violations"
    ]
    violations[0].update(remedy_state="resolved", resolved_on="2026-11-01")
    report = run("violations", str(write_csv(tmp_path / "x.csv", vcols, violations, bom=False)))
    assert report["updated"] == 1
    assert vehicle_legal_problems(plate_number="津A12345") == []


def test_authority_revocation_is_a_registry_event_and_renewal_is_refused(tmp_path: Path) -> None:
    from yunzheng.core.errors import DomainError
    from yunzheng.elicense.tests.conftest import make_staff, staff_client
    from yunzheng.practitioners.models import CaseType
    from yunzheng.practitioners.services import case_draft_create

    driver = make_verified_user("赵六", region="330102")
    rows = [cert_row("330100202400031", driver.id_number)]
    run("qualification-certificates", str(write_csv(tmp_path / "a.csv", COLUMNS, rows, bom=False)))
    certificate = QualificationCertificate.objects.get(number="330100202400031")
    clerk = staff_client(make_staff("330100", level="city"))
    url = "/api/v1/office/registry/certificates/330100202400031/status"
    decided = clerk.post(
        url, {"status": "revoked", "reason": "吊销：严重违法"}, content_type="application/json"
    )
    assert decided.status_code == 200, decided.content
    licence = certificate_licence(certificate)
    assert licence is not None
    assert (licence.status, licence.index_entry.status) == ("revoked", "revoked")
    assert licence.events.filter(kind="revoke").count() == 1

    # Nothing revives it: no reinstatement, no renewal application.
    again = clerk.post(url, {"status": "valid", "reason": "撤销吊销"}, content_type="application/json")
    assert again.status_code == 409
    with pytest.raises(DomainError) as refused:
        case_draft_create(
            applicant=driver, case_type=CaseType.RENEWAL, certificate_id=certificate.pk, agreed=True
        )
    assert refused.value.code == "case.certificate_not_eligible"
    licence.refresh_from_db()
    assert licence.status == "revoked"
    other_city = staff_client(make_staff("330200", level="city"))
    assert (
        other_city.post(
            url, {"status": "suspended", "reason": "x"}, content_type="application/json"
        ).status_code
        == 403
    )
