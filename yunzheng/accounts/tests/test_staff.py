"""Staff: scopes from department/level/region, password + TOTP login, scoped real-name review."""

from __future__ import annotations

import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunzheng.accounts import services
from yunzheng.accounts.models import RealNameVerification, StaffProfile, User
from yunzheng.accounts.scopes import StaffScope, region_name, staff_scope
from yunzheng.accounts.tests.conftest import FAKE_OCR_READING
from yunzheng.accounts.tests.factories import (
    STAFF_PASSWORD,
    id_number,
    login,
    png_bytes,
    staff,
    staff_client,
    totp_now,
)
from yunzheng.accounts.views import STAFF_PENDING_AT
from yunzheng.core.errors import PermissionDenied, RateLimited, ValidationFailed
from yunzheng.core.models import AuditEntry

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------------------------
# Scopes
# --------------------------------------------------------------------------------------------


def test_scope_prefixes_and_coverage() -> None:
    ministry = StaffScope(department="transport", level="ministry", region_code="")
    province = StaffScope(department="transport", level="province", region_code="330000")
    city = StaffScope(department="transport", level="city", region_code="330100")
    assert (ministry.region_prefix, province.region_prefix, city.region_prefix) == ("", "33", "3301")
    assert ministry.covers("110101")
    assert ministry.covers("330106")
    assert province.covers("330106")
    assert province.covers("330206")
    assert not province.covers("110101")
    assert city.covers("330106")
    assert city.covers("330100")
    assert not city.covers("330206")
    for scope in (ministry, province, city):
        assert not scope.covers("")
        assert not scope.covers("33")
        assert not scope.covers("33010x")
    assert province.region_name == "浙江省"
    assert city.region_name == "浙江省杭州市"


def test_region_names() -> None:
    assert region_name("330106") == "浙江省杭州市西湖区"
    assert region_name("110101") == "北京市东城区"
    assert region_name("500000") == "重庆市"
    assert region_name("99") == ""


def test_staff_scope_of_users() -> None:
    clerk = staff("hz-transport")
    scope = staff_scope(clerk)
    assert scope == StaffScope(department="transport", level="city", region_code="330100")
    with pytest.raises(PermissionDenied) as refused:
        staff_scope(login("13911110000"))
    assert refused.value.code == "staff.required"


@pytest.mark.parametrize(
    ("level", "region"),
    [
        ("province", "330100"),  # a city code at province level
        ("city", "330000"),  # a province code at city level
        ("city", "330106"),  # a county is not a city
        ("city", "339900"),  # no such city
        ("province", "990000"),  # no such province
        ("ministry", "330000"),  # the ministry has no region
    ],
)
def test_staff_regions_must_match_the_level(level: str, region: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        staff("someone", level=level, region=region)
    assert refused.value.code == "staff.region_invalid"
    assert not User.objects.filter(username="someone").exists()


def test_database_refuses_a_region_that_contradicts_the_level() -> None:
    user = staff("hz-transport")
    with pytest.raises(IntegrityError):
        StaffProfile.objects.filter(user=user).update(level="province")


def test_ministry_staff_have_no_region() -> None:
    user = staff("mot-transport", level="ministry", region="")
    assert staff_scope(user).covers("650102")


# --------------------------------------------------------------------------------------------
# Login: password, then TOTP
# --------------------------------------------------------------------------------------------


def test_password_alone_logs_nobody_in(client: Client) -> None:
    user = staff("hz-transport")
    services.staff_totp_device_create(user=user, confirmed=True)
    response = client.post("/accounts/staff/login/", {"username": "hz-transport", "password": STAFF_PASSWORD})
    assert response["Location"] == "/accounts/staff/otp/"
    assert client.get("/accounts/staff/").status_code == 302
    assert client.get("/api/v1/auth/me").status_code == 401


def test_wrong_password_and_non_staff_accounts_are_refused(client: Client) -> None:
    staff("hz-transport")
    wrong = client.post("/accounts/staff/login/", {"username": "hz-transport", "password": "nope-nope-nope"})
    assert wrong.status_code == 200
    assert "用户名或密码错误" in wrong.content.decode()
    User.objects.create_superuser(username="root", password=STAFF_PASSWORD, email="")
    admin = client.post("/accounts/staff/login/", {"username": "root", "password": STAFF_PASSWORD})
    assert admin.status_code == 200  # an admin without a StaffProfile is not staff


def test_full_staff_login_and_the_staff_desk() -> None:
    user = staff("hz-transport")
    client = staff_client(user)
    desk = client.get("/accounts/staff/")
    assert desk.status_code == 200
    html = desk.content.decode()
    assert "交通运输主管部门" in html
    assert "浙江省杭州市" in html
    login_audit = AuditEntry.objects.get(action="staff.login")
    assert login_audit.actor_kind == "staff"


def test_wrong_totp_is_refused_and_throttled(client: Client) -> None:
    user = staff("hz-transport")
    device = services.staff_totp_device_create(user=user, confirmed=True)
    client.post("/accounts/staff/login/", {"username": "hz-transport", "password": STAFF_PASSWORD})
    wrong = client.post(
        "/accounts/staff/otp/", {"token": "000000" if totp_now(device) != "000000" else "111111"}
    )
    assert wrong.status_code == 200
    assert "验证码错误" in wrong.content.decode()
    with pytest.raises(RateLimited) as throttled:
        services.staff_otp_verify(user=user, token=totp_now(device))  # right code, but during back-off
    assert throttled.value.code == "staff_login.otp_throttled"
    assert client.get("/accounts/staff/").status_code == 302


def test_a_totp_code_works_only_once() -> None:
    user = staff("hz-transport")
    device = services.staff_totp_device_create(user=user, confirmed=True)
    code = totp_now(device)
    services.staff_otp_verify(user=user, token=code)
    with pytest.raises(ValidationFailed):
        services.staff_otp_verify(user=user, token=code)


def test_first_login_never_sets_up_a_device(client: Client) -> None:
    """Whoever knows the password cannot enrol their own authenticator (issue #14)."""
    user = staff("hz-transport")
    client.post("/accounts/staff/login/", {"username": "hz-transport", "password": STAFF_PASSWORD})
    html = client.get("/accounts/staff/otp/").content.decode()
    assert "<svg" not in html
    assert 'data-testid="totp-secret"' not in html
    assert 'data-testid="staff-no-device"' in html
    assert not TOTPDevice.objects.filter(user=user).exists()
    response = client.post("/accounts/staff/otp/", {"token": "123456"})
    assert response.status_code == 200
    assert client.get("/accounts/staff/").status_code == 302


def test_the_password_step_expires(client: Client) -> None:
    user = staff("hz-transport")
    services.staff_totp_device_create(user=user, confirmed=True)
    client.post("/accounts/staff/login/", {"username": "hz-transport", "password": STAFF_PASSWORD})
    session = client.session
    session[STAFF_PENDING_AT] = time.time() - 600
    session.save()
    assert client.get("/accounts/staff/otp/")["Location"] == "/accounts/staff/login/"


def test_totp_code_command_prints_a_valid_code() -> None:
    user = staff("hz-transport")
    services.staff_totp_device_create(user=user, confirmed=True)
    out = StringIO()
    call_command("totp_code", "hz-transport", stdout=out)
    code = out.getvalue().strip()
    assert len(code) == 6
    assert code.isdigit()
    services.staff_otp_verify(user=user, token=code)


# --------------------------------------------------------------------------------------------
# Scoped real-name review
# --------------------------------------------------------------------------------------------


def _pending(phone: str, region: str, ocr_reads: dict[str, Any]) -> RealNameVerification:
    number = id_number(region=region, sequence=phone[-3:-1] + "1")
    ocr_reads["fields"] = FAKE_OCR_READING.__class__(**{**FAKE_OCR_READING.__dict__, "id_number": number})
    user = login(phone)
    draft = services.realname_photo_upload(user=user, upload=png_bytes())
    return services.realname_verification_submit(
        user=user,
        verification_id=draft.pk,
        submission=services.RealNameSubmission(
            name="李四",
            sex="M",
            ethnicity="汉",
            birth_date=FAKE_OCR_READING.birth_date,
            address="某地",
            id_number=number,
        ),
    )


@pytest.fixture
def three_pending(ocr_reads: dict[str, Any]) -> dict[str, RealNameVerification]:
    return {
        "hangzhou": _pending("13900000011", "330106", ocr_reads),
        "ningbo": _pending("13900000021", "330206", ocr_reads),
        "beijing": _pending("13900000031", "110101", ocr_reads),
    }


def _queue_ids(client: Client) -> set[int]:
    html = client.get("/accounts/staff/real-name/").content.decode()
    return {int(part.split('"')[0]) for part in html.split('data-testid="review-item-')[1:]}


def test_a_city_clerk_sees_only_their_city(three_pending: dict[str, RealNameVerification]) -> None:
    client = staff_client(staff("hz-transport"))
    assert _queue_ids(client) == {three_pending["hangzhou"].pk}
    assert client.get(f"/accounts/staff/real-name/{three_pending['hangzhou'].pk}/").status_code == 200
    assert client.get(f"/accounts/staff/real-name/{three_pending['ningbo'].pk}/").status_code == 404
    refused = client.post(f"/accounts/staff/real-name/{three_pending['ningbo'].pk}/", {"decision": "approve"})
    assert refused.status_code == 404
    three_pending["ningbo"].refresh_from_db()
    assert three_pending["ningbo"].status == RealNameVerification.Status.PENDING


def test_a_province_sees_its_cities_and_the_ministry_everything(
    three_pending: dict[str, RealNameVerification],
) -> None:
    province = staff_client(
        staff("zj-police", department="public_security", level="province", region="330000")
    )
    assert _queue_ids(province) == {three_pending["hangzhou"].pk, three_pending["ningbo"].pk}
    ministry = staff_client(staff("mot", level="ministry", region=""))
    assert _queue_ids(ministry) == {item.pk for item in three_pending.values()}


def test_other_departments_do_not_review(three_pending: dict[str, RealNameVerification]) -> None:
    tax = staff("hz-tax", department="tax")
    client = staff_client(tax)
    assert client.get("/accounts/staff/real-name/").status_code == 403
    assert client.get(f"/accounts/staff/real-name/{three_pending['hangzhou'].pk}/").status_code == 403
    with pytest.raises(PermissionDenied) as refused:
        services.realname_verification_approve(verification=three_pending["hangzhou"], reviewer=tax)
    assert refused.value.code == "staff.action_not_allowed"
    assert "审核" not in client.get("/accounts/staff/").content.decode().split("<main")[1].split("</main>")[0]


def test_out_of_scope_decisions_are_refused_by_the_service(
    three_pending: dict[str, RealNameVerification],
) -> None:
    with pytest.raises(PermissionDenied) as refused:
        services.realname_verification_approve(
            verification=three_pending["ningbo"], reviewer=staff("hz-transport")
        )
    assert refused.value.code == "staff.out_of_scope"
    with pytest.raises(PermissionDenied):
        services.realname_verification_approve(
            verification=three_pending["ningbo"], reviewer=login("13900000099")
        )


def test_review_pages_approve_and_reject(three_pending: dict[str, RealNameVerification]) -> None:
    client = staff_client(staff("zj-transport", level="province", region="330000"))
    hangzhou, ningbo = three_pending["hangzhou"], three_pending["ningbo"]
    detail = client.get(f"/accounts/staff/real-name/{hangzhou.pk}/")
    assert hangzhou.id_number in detail.content.decode()  # reviewers see the full number ...
    assert AuditEntry.objects.filter(
        action="real_name.view", target_id=str(hangzhou.pk)
    ).exists()  # ... logged
    approved = client.post(f"/accounts/staff/real-name/{hangzhou.pk}/", {"decision": "approve"})
    assert approved.status_code == 302
    hangzhou.user.refresh_from_db()
    assert hangzhou.user.is_real_name_verified

    no_reason = client.post(f"/accounts/staff/real-name/{ningbo.pk}/", {"decision": "reject", "reason": ""})
    assert no_reason.status_code == 200
    assert "请说明驳回原因" in no_reason.content.decode()
    rejected = client.post(
        f"/accounts/staff/real-name/{ningbo.pk}/", {"decision": "reject", "reason": "照片不清晰"}
    )
    assert rejected.status_code == 302
    ningbo.refresh_from_db()
    assert ningbo.status == RealNameVerification.Status.REJECTED
    assert ningbo.reason == "照片不清晰"
    reject_audit = AuditEntry.objects.get(action="real_name.reject")
    assert reject_audit.reason == "照片不清晰"
    assert _queue_ids(client) == set()


def test_public_users_cannot_open_staff_pages(three_pending: dict[str, RealNameVerification]) -> None:
    client = Client()
    client.force_login(login("13900000098"))
    response = client.get("/accounts/staff/real-name/")
    assert response.status_code == 403  # logged in, wrong role: refused, not sent to log in again
