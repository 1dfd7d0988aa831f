"""Pages of the office through Django's test client: the application wizard, My Office, materials
behind authentication, the staff queue and case page, and the JSON API."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yunzheng.accounts.models import StaffProfile, User
from yunzheng.accounts.services import user_token_create
from yunzheng.core.models import AuditEntry
from yunzheng.practitioners import services
from yunzheng.practitioners.models import CaseState, CaseType, QualificationCertificate, ServiceCase

from .conftest import OTHER_ID, make_clerk, png_bytes, register, staff_login, submitted

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_service_list_is_public_and_in_chinese(client: Client) -> None:
    response = client.get("/office/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "道路运政一网通办" in body
    assert "服务质量信誉考核" in body
    assert "换发" in body
    assert client.get("/office/services/renewal/").status_code == 200
    assert client.get("/office/services/nope/").status_code == 404


def test_unverified_user_can_browse_but_not_apply(unverified: User) -> None:
    client = _client(unverified)
    assert client.get("/office/services/renewal/").status_code == 200
    response = client.post("/office/services/renewal/", {"agree": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/real-name/")
    assert client.get("/office/services/renewal/certificate/").status_code == 302


def test_wizard_renewal_from_instructions_to_submission(
    driver: User, certificate: QualificationCertificate
) -> None:
    client = _client(driver)
    assert client.get("/office/services/renewal/certificate/").status_code == 302  # agree first
    response = client.post("/office/services/renewal/", {})
    assert response.status_code == 422
    client.post("/office/services/renewal/", {"agree": "on"})
    page = client.get("/office/services/renewal/certificate/")
    assert certificate.number in page.content.decode()
    response = client.post("/office/services/renewal/certificate/", {"certificate": certificate.pk})
    case = ServiceCase.objects.get()
    assert response["Location"] == f"/office/cases/{case.pk}/info/"
    info_page = client.get(f"/office/cases/{case.pk}/info/").content.decode()
    assert 'value="张伟"' in info_page
    assert "disabled" in info_page
    assert 'value="13900000001"' in info_page  # phone prefilled from the account
    response = client.post(
        f"/office/cases/{case.pk}/info/",
        {
            "name": "冒名",
            "phone": "13900000001",
            "contact_name": "张伟",
            "address": "浙江省杭州市西湖区1号",
            "licence_class": "c1",
            "reason": "证件即将到期",
        },
    )
    assert response["Location"] == f"/office/cases/{case.pk}/delivery/"
    response = client.post(
        f"/office/cases/{case.pk}/delivery/", {"method": "mail", "recipient": "", "phone": "", "address": ""}
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    response = client.post(
        f"/office/cases/{case.pk}/delivery/",
        {"method": "mail", "recipient": "张伟", "phone": "13900000001", "address": "浙江省杭州市西湖区1号"},
    )
    assert response["Location"] == f"/office/cases/{case.pk}/materials/"
    fake = SimpleUploadedFile("photo.png", b"%PDF-1.4 not an image", content_type="image/png")
    response = client.post(f"/office/cases/{case.pk}/materials/", {"kind": "photo_2inch", "file": fake})
    assert response.status_code == 422
    assert "仅支持 PNG 和 JPEG" in response.content.decode()
    for kind in ("photo_2inch", "driving_licence", "cert_info_page", "violation_page"):
        upload = SimpleUploadedFile(f"{kind}.jpg", png_bytes(), content_type="image/jpeg")
        response = client.post(
            f"/office/cases/{case.pk}/materials/", {"kind": kind, "file": upload}, follow=True
        )
        assert f'data-testid="uploaded-{kind}"' in response.content.decode()
        assert "上传成功" in response.content.decode()
    response = client.post(f"/office/cases/{case.pk}/review/")
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    assert case.delivery_method == "mail"
    assert services.personal_info(case).name == "张伟"
    assert response["Location"] == f"/office/cases/{case.pk}/"
    detail = client.get(f"/office/cases/{case.pk}/").content.decode()
    assert str(case.number) in detail
    assert 'data-testid="withdraw"' in detail
    assert 'data-testid="accept-due"' in detail


def test_other_users_case_and_materials_are_not_found(
    driver: User, other_driver: User, certificate: QualificationCertificate
) -> None:
    case = submitted(driver, certificate)
    material = case.materials.first()
    assert material is not None
    owner, stranger = _client(driver), _client(other_driver)
    response = owner.get(f"/office/cases/{case.pk}/materials/{material.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    assert stranger.get(f"/office/cases/{case.pk}/").status_code == 404
    assert stranger.get(f"/office/cases/{case.pk}/materials/{material.pk}/").status_code == 404
    assert stranger.post(f"/office/cases/{case.pk}/withdraw/").status_code == 404
    assert (
        Client().get(f"/office/cases/{case.pk}/materials/{material.pk}/").status_code == 302
    )  # log in first


def test_withdraw_page_before_and_after_acceptance(
    driver: User, certificate: QualificationCertificate, clerk: User
) -> None:
    client = _client(driver)
    case = submitted(driver, certificate)
    services.case_accept(case=case, staff=clerk)
    response = client.post(f"/office/cases/{case.pk}/withdraw/", follow=True)
    assert "已受理，不能再撤回" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED


def test_my_office_lists_cases_with_state_and_due_date(
    driver: User, certificate: QualificationCertificate
) -> None:
    case = submitted(driver, certificate)
    client = _client(driver)
    client.get("/office/mine/")  # the first visit associates the certificate with the account
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/office/mine/")
    body = response.content.decode()
    assert str(case.number) in body
    assert "已提交" in body
    assert 'data-testid="due-on"' in body
    # +1: the common header asks whether the user acts for a company (its "My companies" link).
    assert len(queries) <= 7, [q["sql"] for q in queries]
    assert client.get("/office/certificates/").status_code == 200


def test_staff_queue_and_case_page(
    driver: User, other_driver: User, certificate: QualificationCertificate, clerk: User
) -> None:
    case = submitted(driver, certificate)
    client = Client()
    staff_login(client, clerk)
    response = client.get("/office/staff/")
    assert response.status_code == 200
    assert str(case.number) in response.content.decode()
    assert client.get("/office/staff/?state=all&type=renewal&overdue=1").status_code == 200
    page = client.get(f"/office/staff/cases/{case.pk}/")
    assert page.status_code == 200
    assert 'data-testid="action-accept"' in page.content.decode()
    view = AuditEntry.objects.get(action="office.case.staff_view", target_id=str(case.pk))
    shown = sorted(case.materials.values_list("pk", flat=True))
    assert view.after == {"materials": shown}
    # Thumbnails of the audited page carry a token; they are not audited one by one...
    thumbnails = re.findall(r'<img src="([^"]+)"', page.content.decode())
    assert len(thumbnails) == 4
    for url in thumbnails:
        assert client.get(url.replace("&amp;", "&")).status_code == 200
    assert not AuditEntry.objects.filter(action="office.material.staff_view").exists()
    # ... a material opened any other way (or with a token that is not this clerk's) is.
    assert client.get(f"/office/cases/{case.pk}/materials/{shown[0]}/").status_code == 200
    assert client.get(f"/office/cases/{case.pk}/materials/{shown[0]}/?t=forged").status_code == 200
    assert AuditEntry.objects.filter(action="office.material.staff_view").count() == 2

    assert client.post(f"/office/staff/cases/{case.pk}/", {"action": "accept"}).status_code == 302
    response = client.post(f"/office/staff/cases/{case.pk}/", {"action": "reject", "reason": ""})
    assert response.status_code == 422
    assert "请说明理由" in response.content.decode()
    assert client.post(f"/office/staff/cases/{case.pk}/", {"action": "approve"}).status_code == 302
    assert (
        client.post(f"/office/staff/cases/{case.pk}/", {"action": "complete", "note": "本人领取"}).status_code
        == 302
    )
    case.refresh_from_db()
    assert case.state == CaseState.COMPLETED
    assert case.completion_note == "本人领取"


def test_clerk_of_another_city_or_department_cannot_see_the_case(
    driver: User, certificate: QualificationCertificate
) -> None:
    case = submitted(driver, certificate)
    ningbo = make_clerk("nb-clerk", region="330200")
    client = Client()
    staff_login(client, ningbo)
    assert str(case.number) not in client.get("/office/staff/").content.decode()
    assert client.get(f"/office/staff/cases/{case.pk}/").status_code == 404
    assert client.post(f"/office/staff/cases/{case.pk}/", {"action": "accept"}).status_code == 404
    police = make_clerk("hz-police", region="330100", department=StaffProfile.Department.PUBLIC_SECURITY)
    police_client = Client()
    staff_login(police_client, police)
    assert police_client.get("/office/staff/").status_code == 403
    # A logged-in public user has the wrong role: refused (core.auth.staff_required).
    assert _client(driver).get("/office/staff/").status_code == 403


# --------------------------------------------------------------------------------------------
# JSON API
# --------------------------------------------------------------------------------------------


def _bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {user_token_create(user=user).token}"}


def test_api_application_from_draft_to_withdrawal(
    driver: User, certificate: QualificationCertificate
) -> None:
    client, auth = Client(), _bearer(driver)
    services_list = client.get("/api/v1/office/services").json()
    assert {s["case_type"] for s in services_list} == set(CaseType.values)
    certificates = client.get("/api/v1/office/certificates", headers=auth).json()
    assert [c["number"] for c in certificates] == [certificate.number]
    assert certificates[0]["categories"]
    assert all(c["label"] and c["label"] != c["category"] for c in certificates[0]["categories"])
    response = client.post(
        "/api/v1/office/cases",
        json.dumps({"case_type": "replacement", "certificate_id": certificate.pk, "agreed": True}),
        content_type="application/json",
        headers=auth,
    )
    assert response.status_code == 201, response.content
    case_id = response.json()["id"]
    response = client.put(
        f"/api/v1/office/cases/{case_id}/form",
        json.dumps(
            {
                "phone": "13900000001",
                "address": "杭州",
                "contact_name": "张伟",
                "details": {"replacement_reason": "lost", "licence_class": "C1"},
            }
        ),
        content_type="application/json",
        headers=auth,
    )
    assert response.status_code == 200, response.content
    response = client.put(
        f"/api/v1/office/cases/{case_id}/delivery",
        json.dumps({"method": "collect"}),
        content_type="application/json",
        headers=auth,
    )
    assert response.status_code == 200
    response = client.post(
        f"/api/v1/office/cases/{case_id}/submit", content_type="application/json", headers=auth
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "case.form_incomplete"
    assert any(d["code"] == "case.materials_missing" for d in error["details"])
    for kind in response.json()["error"]["details"][0]["params"]["missing"]:
        upload = SimpleUploadedFile("x.png", png_bytes(), content_type="image/png")
        answer = client.post(
            f"/api/v1/office/cases/{case_id}/materials/{kind}", {"file": upload}, headers=auth
        )
        assert answer.status_code == 201, answer.content
        assert (answer.json()["kind"], answer.json()["content_type"]) == (kind, "image/png")
    bad = client.post(
        f"/api/v1/office/cases/{case_id}/materials/photo_2inch",
        {"file": SimpleUploadedFile("x.png", b"GIF89a....", content_type="image/png")},
        headers=auth,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["code"] == "upload.unsupported_type"
    submitted_case = client.post(
        f"/api/v1/office/cases/{case_id}/submit", content_type="application/json", headers=auth
    ).json()
    assert submitted_case["state"] == "submitted"
    assert submitted_case["number"].startswith("ZJ-")
    assert submitted_case["actions"] == ["withdraw"]
    assert submitted_case["due_on"]
    listing = client.get("/api/v1/office/cases?group=open", headers=auth).json()
    assert listing["count"] == 1
    assert listing["items"][0]["id"] == case_id
    withdrawn = client.post(
        f"/api/v1/office/cases/{case_id}/withdraw", content_type="application/json", headers=auth
    ).json()
    assert withdrawn["state"] == "withdrawn"
    assert [t["to_state"] for t in withdrawn["timeline"]] == ["submitted", "withdrawn"]
    assert all(t["label"] and t["by"] for t in withdrawn["timeline"])
    assert set(withdrawn["required_materials"]) <= {m["kind"] for m in withdrawn["materials"]}
    assert withdrawn["materials"]
    assert all(m["label"] != m["kind"] for m in withdrawn["materials"])


def test_api_object_level_checks_and_withdraw_after_acceptance(
    driver: User, other_driver: User, certificate: QualificationCertificate, clerk: User
) -> None:
    case = submitted(driver, certificate)
    stranger = _bearer(other_driver)
    client = Client()
    response = client.get(f"/api/v1/office/cases/{case.pk}", headers=stranger)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "case.not_found"
    assert (
        client.post(
            f"/api/v1/office/cases/{case.pk}/withdraw", content_type="application/json", headers=stranger
        ).status_code
        == 404
    )
    assert client.get("/api/v1/office/cases").status_code == 401
    services.case_accept(case=case, staff=clerk)
    response = client.post(
        f"/api/v1/office/cases/{case.pk}/withdraw", content_type="application/json", headers=_bearer(driver)
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "case.withdraw_after_acceptance"


def test_api_unverified_user_cannot_apply(unverified: User, other_driver: User) -> None:
    theirs = register(OTHER_ID, number="3301002018004321", name="李娜")
    response = Client().post(
        "/api/v1/office/cases",
        json.dumps({"case_type": "renewal", "certificate_id": theirs.pk, "agreed": True}),
        content_type="application/json",
        headers=_bearer(unverified),
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "real_name.required"


def test_voucher_download_needs_a_completed_credit_assessment(
    driver: User, other_driver: User, certificate: QualificationCertificate, clerk: User, signing_keys: Any
) -> None:
    case = submitted(driver, certificate, CaseType.CREDIT_ASSESSMENT)
    client = _client(driver)
    assert client.get(f"/office/cases/{case.pk}/voucher.png").status_code == 404
    services.case_accept(case=case, staff=clerk)
    services.case_approve(case=case, staff=clerk, grade="AAA")
    assert 'data-testid="voucher-png"' in client.get(f"/office/cases/{case.pk}/").content.decode()
    png = client.get(f"/office/cases/{case.pk}/voucher.png")
    assert png.status_code == 200
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = client.get(f"/office/cases/{case.pk}/voucher.pdf")
    assert pdf.status_code == 200
    assert pdf.content[:5] == b"%PDF-"
    assert _client(other_driver).get(f"/office/cases/{case.pk}/voucher.png").status_code == 404


def test_a_service_says_a_case_is_open_before_its_instructions(
    driver: User, certificate: QualificationCertificate
) -> None:
    client = _client(driver)
    free = client.get("/office/services/renewal/").content.decode()
    assert 'data-testid="case-already-open"' not in free
    case = submitted(driver, certificate)
    body = client.get("/office/services/renewal/").content.decode()
    assert body.index('data-testid="case-already-open"') < body.index('data-testid="instructions"')
    assert f'href="/office/cases/{case.pk}/"' in body
    assert "都已有正在办理的申请" in body
