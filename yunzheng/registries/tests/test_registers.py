"""Staff registry pages (issue #13 item 3): lists with search and filters, region-scoped and
masked; record pages whose maintenance forms call the owning services; refusals for those the
permission table does not allow; the workbench link."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from yunzheng.accounts.models import StaffProfile
from yunzheng.core.audit import Actor
from yunzheng.core.crypto import mask_id_number
from yunzheng.elicense.models import ElectronicLicence, VehicleTransportCertificate, VehicleViolation
from yunzheng.elicense.tests.conftest import (
    holder,
    make_staff,
    make_verified_user,
    resident_id,
    staff_client,
    truck,
)
from yunzheng.elicense.vehicles import vehicle_legal_problems, vehicle_violation_record
from yunzheng.licensing.models import OperatingLicence
from yunzheng.licensing.tests.factories import company_with_contact
from yunzheng.practitioners.licences import certificate_licence
from yunzheng.practitioners.models import QualificationCertificate
from yunzheng.practitioners.registry_import import COLUMNS
from yunzheng.practitioners.services import verification_request_file
from yunzheng.registries.tests.test_import import cert_row, run, write_csv

__all__ = ["holder", "truck"]  # fixtures
pytestmark = pytest.mark.django_db
TODAY = dt.date.today()
PS = StaffProfile.Department.PUBLIC_SECURITY


def _certificates(tmp_path: Path) -> tuple[str, str]:
    hangzhou_id, ningbo_id = resident_id("330102"), resident_id("330203")
    rows = [
        cert_row("330100202400101", hangzhou_id),
        cert_row(
            "330200202400102", ningbo_id, region_code="330200", issuing_authority="宁波市道路运输管理服务中心"
        ),
    ]
    report = run("qualification-certificates", str(write_csv(tmp_path / "c.csv", COLUMNS, rows, bom=False)))
    assert report["created"] == 2, report
    return hangzhou_id, ningbo_id


def test_certificate_list_is_region_scoped_masked_and_searchable(tmp_path: Path) -> None:
    hangzhou_id, _ningbo_id = _certificates(tmp_path)
    city = staff_client(make_staff("330100", level="city"))
    page = city.get("/registries/registers/certificates/").content.decode()
    assert "330100202400101" in page
    assert "330200202400102" not in page
    assert hangzhou_id not in page
    assert mask_id_number(hangzhou_id) in page
    assert "张三" not in page  # masked name
    province = staff_client(make_staff("330000"))
    page = province.get("/registries/registers/certificates/").content.decode()
    assert "330100202400101" in page
    assert "330200202400102" in page
    # Search by the holder's full ID number, and by part of the certificate number.
    found = province.get("/registries/registers/certificates/", {"q": hangzhou_id}).content.decode()
    assert "330100202400101" in found
    assert "330200202400102" not in found
    found = province.get(
        "/registries/registers/certificates/", {"q": "0102", "status": "valid"}
    ).content.decode()
    assert "330200202400102" in found
    assert "330100202400101" not in found
    # Another city's record is "not found"; other departments may not browse at all.
    assert city.get("/registries/registers/certificates/330200202400102/").status_code == 404
    police = staff_client(make_staff("330000", department=PS))
    assert police.get("/registries/registers/certificates/").status_code == 403


def test_revocation_from_the_page_reaches_the_licence_and_is_final(tmp_path: Path) -> None:
    _certificates(tmp_path)
    url = "/registries/registers/certificates/330100202400101/"
    ministry = staff_client(make_staff("", level=StaffProfile.Level.MINISTRY))
    assert 'data-testid="read-only"' in ministry.get(url).content.decode()  # sees, does not decide
    refused = ministry.post(url, {"form": "decision", "decision-status": "revoked", "decision-reason": "x"})
    assert refused.status_code == 200
    certificate = QualificationCertificate.objects.get(number="330100202400101")
    assert certificate.status == "valid"

    clerk = staff_client(make_staff("330100", level="city"))
    done = clerk.post(
        url, {"form": "decision", "decision-status": "revoked", "decision-reason": "吊销：严重违法"}
    )
    assert done.status_code == 302
    certificate.refresh_from_db()
    licence = certificate_licence(certificate)
    assert certificate.status == "revoked"
    assert licence is not None
    assert (licence.status, licence.index_entry.status) == ("revoked", "revoked")
    again = clerk.post(url, {"form": "decision", "decision-status": "valid", "decision-reason": "撤销"})
    assert again.status_code == 200
    assert "form-decision" in again.content.decode()
    licence.refresh_from_db()
    assert licence.status == "revoked"
    # A revoked certificate takes no credit results either.
    credit = clerk.post(
        url,
        {"form": "credit", "credit-cycle_year": TODAY.year - 1, "credit-grade": "AA",
         "credit-assessed_on": TODAY.isoformat(), "credit-authority": "杭州市交通运输局"},
    )  # fmt: skip
    assert credit.status_code == 200
    assert not certificate.credit_assessments.exists()


def test_credit_result_from_the_page_creates_the_voucher(tmp_path: Path) -> None:
    _certificates(tmp_path)
    url = "/registries/registers/certificates/330100202400101/"
    clerk = staff_client(make_staff("330100", level="city"))
    data = {
        "form": "credit",
        "credit-cycle_year": TODAY.year - 1,
        "credit-grade": "AAA",
        "credit-assessed_on": TODAY.isoformat(),
        "credit-authority": "杭州市交通运输局",
    }
    assert clerk.post(url, data).status_code == 302
    certificate = QualificationCertificate.objects.get(number="330100202400101")
    result = certificate.credit_assessments.get()
    voucher = ElectronicLicence.objects.get(
        source_type="practitioners.credit_assessment", source_id=str(result.pk)
    )
    assert (voucher.data["grade"], voucher.status) == ("AAA", "valid")
    page = clerk.get(url).content.decode()
    assert voucher.lid in page
    listing = clerk.get("/registries/registers/credit/", {"status": "AAA"}).content.decode()
    assert "330100202400101" in listing
    # Out of region: the Ningbo clerk cannot even open it.
    ningbo = staff_client(make_staff("330200", level="city"))
    assert ningbo.post(url, data).status_code == 404


def test_vehicle_inspection_and_suspension_from_the_page(truck: Any) -> None:
    url = f"/registries/registers/vehicles/{truck.certificate_number}/"
    tianjin = staff_client(make_staff("120000"))  # a municipality's province-level authority
    listing = tianjin.get("/registries/registers/vehicles/", {"q": "津A123"}).content.decode()
    assert truck.certificate_number in listing
    assert "张三" not in listing  # a private owner's name is masked
    inspected = (TODAY - dt.timedelta(days=1)).isoformat()
    new_end = (TODAY + dt.timedelta(days=1000)).isoformat()
    answer = tianjin.post(
        url,
        {"form": "inspection", "inspection-inspected_on": inspected, "inspection-result": "passed",
         "inspection-valid_until": new_end},
    )  # fmt: skip
    assert answer.status_code == 302
    truck.refresh_from_db()
    assert (truck.last_inspection_on.isoformat(), truck.valid_until.isoformat()) == (inspected, new_end)
    licence = ElectronicLicence.objects.get(
        source_type="elicense.vehicle_certificate", source_id=str(truck.pk)
    )
    assert licence.events.filter(kind="annual_inspection").exists()
    assert licence.valid_until.isoformat() == new_end
    # A future inspection is refused on the field.
    future = tianjin.post(
        url,
        {"form": "inspection", "inspection-inspected_on": (TODAY + dt.timedelta(days=3)).isoformat(),
         "inspection-result": "passed"},
    )  # fmt: skip
    assert future.status_code == 200
    assert "inspected_on" in future.content.decode()

    assert (
        tianjin.post(
            url, {"form": "decision", "decision-decision": "suspend", "decision-reason": "停运整改"}
        ).status_code
        == 302
    )
    licence.refresh_from_db()
    assert licence.status == "suspended"
    assert vehicle_legal_problems(plate_number=truck.plate_number)
    # Someone outside Tianjin sees nothing.
    assert staff_client(make_staff("330000")).get(url).status_code == 404


def test_violation_remedy_from_the_page(truck: Any) -> None:
    violation = vehicle_violation_record(
        plate_number=truck.plate_number, occurred_on=TODAY, description="闯红灯", actor=Actor.system("test")
    )
    assert vehicle_legal_problems(plate_number=truck.plate_number)
    tianjin = staff_client(make_staff("120000"))
    listing = tianjin.get("/registries/registers/violations/", {"status": "open"}).content.decode()
    assert "闯红灯" in listing
    url = f"/registries/registers/violations/{violation.pk}/"
    empty = tianjin.post(url, {"form": "remedy", "remedy-note": " "})
    assert empty.status_code == 200
    assert tianjin.post(url, {"form": "remedy", "remedy-note": "已接受处罚"}).status_code == 302
    violation.refresh_from_db()
    assert violation.resolved_at is not None
    assert vehicle_legal_problems(plate_number=truck.plate_number) == []
    assert (
        "闯红灯" not in tianjin.get("/registries/registers/violations/", {"status": "open"}).content.decode()
    )
    police = staff_client(make_staff("120000", department=PS))
    assert police.get(url).status_code == 403
    assert VehicleViolation.objects.filter(resolved_at__isnull=True).count() == 0


def test_operating_licence_entered_decided_and_final_on_the_pages() -> None:
    company, _user = company_with_contact()
    clerk = staff_client(make_staff("330100", level="city"))
    entered = clerk.post(
        "/registries/registers/licences/new/",
        {"credit_code": company.credit_code, "kind": "national", "number": "", "scope": "网约车客运",
         "area": "杭州市", "city_code": "330100", "valid_from": "2025-01-01", "valid_until": "2028-12-31"},
    )  # fmt: skip
    assert entered.status_code == 302, entered.content.decode()[:2000]
    licence = OperatingLicence.objects.get(company=company)
    url = f"/registries/registers/licences/{licence.number}/"
    assert entered["Location"] == url
    unknown = clerk.post(
        "/registries/registers/licences/new/",
        {"credit_code": "91330106MA0000000X", "kind": "national", "scope": "x", "area": "x",
         "city_code": "330100", "valid_from": "2025-01-01", "valid_until": "2028-12-31"},
    )  # fmt: skip
    assert unknown.status_code == 200
    assert "credit_code" in unknown.content.decode()
    # The city is chosen from the list of the clerk's region, never typed (#12).
    form_page = clerk.get("/registries/registers/licences/new/").content.decode()
    assert '<option value="330100" selected>杭州市</option>' in form_page
    assert "温州市" not in form_page
    typed = clerk.post(
        "/registries/registers/licences/new/",
        {"credit_code": company.credit_code, "kind": "national", "scope": "网约车客运", "area": "宁波市",
         "city_code": "330200", "valid_from": "2025-01-01", "valid_until": "2028-12-31"},
    )  # fmt: skip
    assert typed.status_code == 200
    assert typed.context["form"].errors["city_code"] == ["请从列表中选择城市。"]
    assert OperatingLicence.objects.filter(company=company).count() == 1

    # The province sees it, read-only; the city decides.
    province = staff_client(make_staff("330000"))
    assert 'data-testid="read-only"' in province.get(url).content.decode()
    assert (
        province.post(
            url, {"form": "decision", "decision-decision": "suspend", "decision-reason": "x"}
        ).status_code
        == 200
    )
    licence.refresh_from_db()
    assert licence.status == "valid"
    assert (
        clerk.post(
            url, {"form": "decision", "decision-decision": "revoke", "decision-reason": "吊销"}
        ).status_code
        == 302
    )
    page = clerk.get(url).content.decode()
    assert 'data-testid="final"' in page
    assert 'data-kind="revoke"' in page
    refused = clerk.post(url, {"form": "renew", "renew-valid_until": "2032-12-31", "renew-reason": ""})
    assert refused.status_code == 200
    licence.refresh_from_db()
    electronic = ElectronicLicence.objects.get(lid=licence.electronic_licence_id)
    assert (licence.status, licence.valid_until, electronic.status) == (
        "revoked",
        dt.date(2028, 12, 31),
        "revoked",
    )
    listing = province.get("/registries/registers/licences/", {"status": "revoked"}).content.decode()
    assert licence.number in listing


def test_verification_request_answered_from_the_page(tmp_path: Path) -> None:
    driver = make_verified_user("王五", region="330102")
    run(
        "qualification-certificates",
        str(
            write_csv(
                tmp_path / "c.csv", COLUMNS, [cert_row("330100202400201", resident_id("330102"))], bom=False
            )
        ),
    )
    request = verification_request_file(
        applicant=driver,
        certificate_number="330100202400201",
        issuing_authority="杭州市道路运输管理服务中心",
        region_code="330100",
    )
    clerk = staff_client(make_staff("330100", level="city"))
    workbench = clerk.get("/workbench/").content.decode()
    assert "/registries/registers/verification/" in workbench
    assert "/registries/registers/" in workbench
    url = f"/registries/registers/verification/{request.pk}/"
    assert clerk.post(url, {"form": "accept"}).status_code == 302
    assert (
        clerk.post(url, {"form": "answer", "answer-answer": "corrected", "answer-note": ""}).status_code
        == 302
    )
    request.refresh_from_db()
    assert (request.state, request.answer) == ("answered", "corrected")
    certificate = QualificationCertificate.objects.get(number="330100202400201")
    assert certificate.holder == driver
    licence = certificate_licence(certificate)
    assert licence is not None
    assert licence.index_entry.holder_id_hash == driver.id_number_hash
    # Not for those outside the region or other departments.
    assert staff_client(make_staff("330200", level="city")).get(url).status_code == 404
    police = staff_client(make_staff("330000", department=PS))
    assert "/registries/registers/" not in police.get("/workbench/").content.decode()


def test_inspection_list_flags_vehicles_without_a_recent_inspection(truck: Any) -> None:
    tianjin = staff_client(make_staff("120000"))
    overdue = tianjin.get("/registries/registers/inspections/", {"status": "overdue"}).content.decode()
    assert truck.certificate_number in overdue
    VehicleTransportCertificate.objects.filter(pk=truck.pk).update(last_inspection_on=TODAY)
    overdue = tianjin.get("/registries/registers/inspections/", {"status": "overdue"}).content.decode()
    assert truck.certificate_number not in overdue
