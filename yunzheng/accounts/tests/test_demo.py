"""The demo loader: idempotent, and every printed login works."""

from __future__ import annotations

from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunzheng.accounts import demo, services
from yunzheng.accounts.credentials import authenticate_company_token
from yunzheng.accounts.models import Company, CompanyCredential, StaffProfile, User
from yunzheng.accounts.tests.factories import last_code, totp_now
from yunzheng.core.crypto import lookup_hash
from yunzheng.core.ids import validate_credit_code, validate_resident_id

pytestmark = pytest.mark.django_db


def test_demo_loads_twice_without_duplicates_and_its_logins_work(settings: Any) -> None:
    first = demo.load_demo()
    counts = (User.objects.count(), Company.objects.count(), CompanyCredential.objects.count())
    second = demo.load_demo()
    assert (User.objects.count(), Company.objects.count(), CompanyCredential.objects.count()) == counts
    assert [login.how for login in first] == [login.how for login in second]  # the same token again

    driver = User.objects.get(phone_hash=lookup_hash(demo.DRIVER_PHONE))
    assert driver.is_real_name_verified
    assert driver.id_number == demo.DRIVER_ID_NUMBER
    assert validate_resident_id(demo.DRIVER_ID_NUMBER).region_name == "浙江省西湖区"
    unverified = User.objects.get(phone_hash=lookup_hash(demo.UNVERIFIED_PHONE))
    assert not unverified.is_real_name_verified
    assert validate_credit_code(demo.COMPANY_CREDIT_CODE) == demo.COMPANY_CREDIT_CODE

    token = next(login.how for login in first if "Bearer" in login.how).split("Bearer ")[1].split()[0]
    credential = authenticate_company_token(token)
    assert credential is not None
    assert credential.company.credit_code == demo.COMPANY_CREDIT_CODE
    assert demo._token_file().stat().st_mode & 0o077 == 0
    assert demo._token_file().parent == settings.VAR_DIR / "demo"

    profiles = StaffProfile.objects.all()
    assert {(p.department, p.level, p.region_code) for p in profiles} == {
        (department, level, code)
        for department in StaffProfile.Department.values
        for level, code in (("province", "330000"), ("city", "330100"))
    }
    assert all(TOTPDevice.objects.filter(user=p.user, confirmed=True).exists() for p in profiles)
    staff_lines = [login for login in first if login.where == "/accounts/staff/login/"]
    assert len(staff_lines) == 12
    assert all(demo.STAFF_PASSWORD in login.how and "TOTP secret" in login.how for login in staff_lines)

    # The printed logins work: the driver by SMS code, a staff member by password + TOTP.
    services.sms_code_request(phone=demo.DRIVER_PHONE, client_ip="127.0.0.1", agreed=True)
    result = services.sms_login(
        phone=demo.DRIVER_PHONE, code=last_code(demo.DRIVER_PHONE), client_ip="127.0.0.1", agreed=True
    )
    assert result.user == driver
    clerk = User.objects.get(username="hz-transport")
    assert clerk.check_password(demo.STAFF_PASSWORD)
    services.staff_otp_verify(user=clerk, token=totp_now(TOTPDevice.objects.get(user=clerk)))


def test_a_stale_token_file_gets_a_fresh_credential(settings: Any) -> None:
    demo.load_demo()
    path = demo._token_file()
    path.write_text("yz_stale_token\n")
    logins = demo.load_demo()
    token = path.read_text().strip()
    assert token != "yz_stale_token"
    assert authenticate_company_token(token) is not None
    assert any(token in login.how for login in logins)
