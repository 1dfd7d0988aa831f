"""Information verification (核查): a driver whose certificate is not found under their ID number
files a request naming the number and issuing authority; acceptance starts a 2-working-day clock;
every answer about a certificate reaches its electronic licence and the ministry index."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest

from yunzheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from yunzheng.elicense.tests.conftest import (
    make_staff,
    make_verified_user,
    resident_id,
    staff_client,
    user_client,
)
from yunzheng.practitioners.licences import certificate_licence
from yunzheng.practitioners.models import QualificationCertificate
from yunzheng.practitioners.registry_import import COLUMNS
from yunzheng.practitioners.services import (
    verification_request_accept,
    verification_request_answer,
    verification_request_file,
)
from yunzheng.registries.tests.test_import import cert_row, run, write_csv

pytestmark = pytest.mark.django_db
CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_not_found_then_corrected_reaches_the_index(tmp_path: Path) -> None:
    driver = make_verified_user("张三", region="330102")
    # The province's registry holds the certificate under a mistyped ID number.
    wrong_id = resident_id("330102")
    run(
        "qualification-certificates",
        str(write_csv(tmp_path / "a.csv", COLUMNS, [cert_row("C-1", wrong_id)], bom=False)),
    )
    assert user_client(driver).get("/api/v1/office/certificates").json() == []  # not found

    api = user_client(driver)
    filed = api.post(
        "/api/v1/office/verification-requests",
        {
            "certificate_number": "C-1",
            "issuing_authority": "杭州市道路运输管理服务中心",
            "region_code": "330100",
        },
        content_type="application/json",
    )
    assert filed.status_code == 201, filed.content
    request_id = filed.json()["id"]

    clerk = make_staff("330100", level="city")
    other_city = make_staff("330200", level="city")
    with pytest.raises(PermissionDenied):
        verification_request_accept(request=request_id, staff=other_city)
    accepted = verification_request_accept(
        request=request_id,
        staff=clerk,
        now=dt.datetime(2026, 11, 20, 10, tzinfo=CHINA),  # a Friday
    )
    assert (accepted.due_on, accepted.due_provisional) == (dt.date(2026, 11, 24), False)  # Mon, Tue

    with pytest.raises(Conflict):  # not under the driver's ID: "found" would be wrong
        verification_request_answer(request=request_id, staff=clerk, answer="found")
    licence = certificate_licence(QualificationCertificate.objects.get(number="C-1"))
    assert licence is not None
    version_before = licence.index_entry.version

    answer = staff_client(clerk).post(
        f"/api/v1/office/verification-requests/{request_id}/answer",
        {"answer": "corrected", "note": "录入时身份证号码有误"},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    certificate = QualificationCertificate.objects.get(number="C-1")
    assert certificate.holder_id_hash == driver.id_number_hash
    licence.refresh_from_db()
    licence.index_entry.refresh_from_db()
    assert licence.holder_id_hash == driver.id_number_hash
    assert licence.index_entry.holder_id_hash == driver.id_number_hash
    assert licence.index_entry.version == version_before + 1
    assert [c["number"] for c in user_client(driver).get("/api/v1/office/certificates").json()] == ["C-1"]
    mine = user_client(driver).get("/api/v1/office/verification-requests").json()
    assert (mine[0]["state"], mine[0]["answer"]) == ("answered", "corrected")


def test_unchanged_needs_a_reason_and_still_reaches_the_index(tmp_path: Path) -> None:
    driver = make_verified_user("李四", region="330102")
    run(
        "qualification-certificates",
        str(write_csv(tmp_path / "a.csv", COLUMNS, [cert_row("C-2", resident_id("330102"))], bom=False)),
    )
    request = verification_request_file(
        applicant=driver, certificate_number="C-2", issuing_authority="杭州市运管", region_code="330100"
    )
    clerk = make_staff("330100", level="city")
    verification_request_accept(request=request, staff=clerk)
    with pytest.raises(ValidationFailed):
        verification_request_answer(request=request, staff=clerk, answer="unchanged")
    licence = certificate_licence(QualificationCertificate.objects.get(number="C-2"))
    assert licence is not None
    before = licence.index_entry.version
    verification_request_answer(request=request, staff=clerk, answer="unchanged", note="证件属于他人")
    licence.index_entry.refresh_from_db()
    assert licence.index_entry.version == before + 1
    certificate = QualificationCertificate.objects.get(number="C-2")
    assert certificate.holder_id_hash != driver.id_number_hash


def test_acceptance_in_an_unknown_year_gives_a_provisional_date(db) -> None:
    driver = make_verified_user("王五", region="330102")
    request = verification_request_file(
        applicant=driver, certificate_number="C-3", issuing_authority="杭州市运管", region_code="330100"
    )
    accepted = verification_request_accept(
        request=request, staff=make_staff("330000"), now=dt.datetime(2026, 12, 31, 9, tzinfo=CHINA)
    )
    assert (accepted.due_on, accepted.due_provisional) == (dt.date(2027, 1, 4), True)


def test_answering_is_a_registry_decision_of_the_requests_region() -> None:
    """`registry.maintain` decides who accepts and answers: city and province transport staff of
    the request's region; ministry staff (who may handle Office cases) and other cities may not."""
    from yunzheng.core import portal

    driver = make_verified_user("赵六", region="330102")
    request = verification_request_file(
        applicant=driver, certificate_number="C-4", issuing_authority="杭州市运管", region_code="330100"
    )
    ministry = make_staff("", level="ministry")
    page = f"/registries/registers/verification/{request.pk}/"

    with pytest.raises(PermissionDenied) as refused:
        verification_request_accept(request=request, staff=ministry)
    assert refused.value.code == "staff.action_not_allowed"
    refused_api = staff_client(ministry).post(f"/api/v1/office/verification-requests/{request.pk}/accept")
    assert refused_api.status_code == 403, refused_api.content
    assert refused_api.json()["error"]["code"] == "staff.action_not_allowed"
    shown = staff_client(ministry).get(page)
    assert shown.status_code == 200  # registry.view: the ministry may look
    assert b'data-testid="form-accept"' not in shown.content
    staff_client(ministry).post(page, {"form": "accept"})
    request.refresh_from_db()
    assert request.state == "submitted"
    assert "registries.verification_requests" not in {q.key for q in portal.staff_queues(ministry)}

    clerk = make_staff("330100", level="city")
    assert "registries.verification_requests" in {q.key for q in portal.staff_queues(clerk)}
    shown = staff_client(clerk).get(page)
    assert b'data-testid="form-accept"' in shown.content
    accepted = staff_client(clerk).post(page, {"form": "accept"})
    assert accepted.status_code == 302
    request.refresh_from_db()
    assert request.state == "accepted"
    with pytest.raises(PermissionDenied):
        verification_request_answer(request=request, staff=ministry, answer="unchanged", note="无误")
    verification_request_answer(request=request, staff=clerk, answer="unchanged", note="无误")
    request.refresh_from_db()
    assert request.state == "answered"
