"""Credit assessment results as a registry feed (service and `credit-results` import) and the
staff decisions on the vehicle registries: each reaches the electronic licence and the ministry
index in the same transaction, checks the permission table and the region, and never revives a
revoked record."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from yunzheng.accounts.models import StaffProfile
from yunzheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from yunzheng.elicense.models import ElectronicLicence
from yunzheng.elicense.services import vehicle_certificate_decide, vehicle_inspection_record
from yunzheng.elicense.tests.conftest import holder, make_staff, resident_id, truck
from yunzheng.practitioners.models import QualificationCertificate
from yunzheng.practitioners.registry_import import COLUMNS
from yunzheng.practitioners.services import certificate_status_decide, credit_result_record
from yunzheng.registries.tests.test_import import cert_row, run, write_csv, write_xlsx

__all__ = ["holder", "truck"]  # fixtures
pytestmark = pytest.mark.django_db
TODAY = dt.date.today()
CREDIT_COLUMNS = ("certificate_number", "cycle_year", "grade", "assessed_on", "authority")


def _certificates(tmp_path: Path) -> None:
    rows = [cert_row(f"33010020240030{i}", resident_id("330102")) for i in range(3)]
    rows.append(cert_row("330200202400309", resident_id("330203"), region_code="330200"))
    assert (
        run("qualification-certificates", str(write_csv(tmp_path / "c.csv", COLUMNS, rows, bom=True)))[
            "created"
        ]
        == 4
    )


def _voucher(number: str, year: int) -> ElectronicLicence:
    certificate = QualificationCertificate.objects.get(number=number)
    result = certificate.credit_assessments.get(cycle_year=year)
    return ElectronicLicence.objects.get(
        source_type="practitioners.credit_assessment", source_id=str(result.pk)
    )


def test_credit_results_import_good_and_bad_rows_idempotent(tmp_path: Path) -> None:
    _certificates(tmp_path)
    year = TODAY.year - 1
    good = {"cycle_year": str(year), "assessed_on": TODAY.isoformat(), "authority": "杭州市交通运输局"}
    rows = [
        {"certificate_number": "330100202400300", "grade": "AAA", **good},
        {"certificate_number": "330100202400301", "grade": "B", **good},
        {"certificate_number": "330100202400302", "grade": "AAAA", **good},  # unknown grade
        {"certificate_number": "330100209999999", "grade": "A", **good},  # unknown certificate
        {"certificate_number": "330100202400300", "grade": "A", **good, "cycle_year": str(TODAY.year + 1)},
        {"certificate_number": "330100202400301", "grade": "A", **good, "assessed_on": "2026-02-30"},
    ]
    path = write_xlsx(tmp_path / "r.xlsx", CREDIT_COLUMNS, rows)
    report = run("credit-results", str(path))
    assert (report["rows"], report["created"]) == (6, 2)
    rejected = {(r["row"], r["field"], r["code"]) for r in report["rejected"]}
    assert rejected == {
        (3, "grade", "import.unknown_value"),
        (4, "certificate_number", "certificate.unknown"),
        (5, "cycle_year", "case.cycle_year_invalid"),
        (6, "assessed_on", "import.date_invalid"),
    }
    voucher = _voucher("330100202400300", year)
    assert (voucher.data["grade"], voucher.status, voucher.index_entry.status) == ("AAA", "valid", "valid")

    # The same file again: unchanged. A corrected grade: updated, the voucher gets a new version.
    assert run("credit-results", str(path))["unchanged"] == 2
    version = voucher.version
    fixed = write_csv(tmp_path / "fix.csv", CREDIT_COLUMNS, [{**rows[0], "grade": "AA"}], bom=False)
    assert run("credit-results", str(fixed), "--dry-run")["updated"] == 1
    assert _voucher("330100202400300", year).data["grade"] == "AAA"  # a dry run writes nothing
    assert run("credit-results", str(fixed))["updated"] == 1
    voucher.refresh_from_db()
    assert (voucher.data["grade"], voucher.version) == ("AA", version + 1)


def test_credit_result_service_checks_permission_region_and_revocation(tmp_path: Path) -> None:
    _certificates(tmp_path)
    year = TODAY.year - 1
    args: dict[str, Any] = {
        "cycle_year": year,
        "grade": "A",
        "assessed_on": TODAY,
        "authority": "杭州市交通运输局",
    }
    hangzhou = make_staff("330100", level="city")
    for outsider, code in (
        (make_staff("330200", level="city"), "staff.out_of_scope"),
        (make_staff("330000", department=StaffProfile.Department.TAX), "staff.action_not_allowed"),
    ):
        with pytest.raises(PermissionDenied) as refused:
            credit_result_record(certificate_number="330100202400300", staff=outsider, **args)
        assert refused.value.code == code
    with pytest.raises(ValidationFailed) as bad:
        credit_result_record(certificate_number="330100202400300", staff=hangzhou, **{**args, "grade": "C"})
    assert bad.value.details[0].field == "grade"
    credit_result_record(certificate_number="330100202400300", staff=hangzhou, **args)
    assert _voucher("330100202400300", year).status == "valid"
    # The province records for its cities too.
    credit_result_record(certificate_number="330200202400309", staff=make_staff("330000"), **args)

    certificate_status_decide(number="330100202400301", status="revoked", reason="吊销", staff=hangzhou)
    with pytest.raises(Conflict) as revoked:
        credit_result_record(certificate_number="330100202400301", staff=hangzhou, **args)
    assert revoked.value.code == "case.certificate_not_eligible"


def test_vehicle_decisions_check_region_and_cancellation_is_final(truck: Any) -> None:
    tianjin = make_staff("120000")
    with pytest.raises(PermissionDenied) as refused:
        vehicle_certificate_decide(
            certificate_number=truck.certificate_number,
            decision="suspend",
            reason="x",
            staff=make_staff("330000"),
        )
    assert refused.value.code == "staff.out_of_scope"
    # A failed inspection suspends the certificate and its licence.
    vehicle_inspection_record(
        certificate_number=truck.certificate_number, inspected_on=TODAY, passed=False, staff=tianjin
    )
    truck.refresh_from_db()
    licence = ElectronicLicence.objects.get(
        source_type="elicense.vehicle_certificate", source_id=str(truck.pk)
    )
    assert (truck.status, licence.status) == ("suspended", "suspended")
    vehicle_certificate_decide(
        certificate_number=truck.certificate_number, decision="reinstate", reason="复检合格", staff=tianjin
    )
    vehicle_certificate_decide(
        certificate_number=truck.certificate_number, decision="cancel", reason="车辆报废", staff=tianjin
    )
    licence.refresh_from_db()
    assert (licence.status, licence.index_entry.status) == ("revoked", "revoked")
    for decision in ("reinstate", "suspend"):
        with pytest.raises(Conflict):
            vehicle_certificate_decide(
                certificate_number=truck.certificate_number, decision=decision, reason="x", staff=tianjin
            )
    with pytest.raises(Conflict):
        vehicle_inspection_record(
            certificate_number=truck.certificate_number, inspected_on=TODAY, passed=True, staff=tianjin
        )
    licence.refresh_from_db()
    assert licence.status == "revoked"
