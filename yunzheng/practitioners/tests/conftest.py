"""Fixtures of the office tests: people are created through the accounts services (SMS login,
in-person identity record, staff with TOTP), certificates through `certificate_register`."""

from __future__ import annotations

import datetime as dt
import io
import time
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, TestCase
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image
from stdnum.cn import ric

from yunzheng.accounts.models import StaffProfile, User
from yunzheng.accounts.services import (
    realname_verification_record_in_person,
    sms_code_request,
    sms_login,
    staff_totp_device_create,
    staff_user_create,
)
from yunzheng.core.audit import Actor
from yunzheng.core.sms import read_outbox
from yunzheng.elicense.models import SigningKey
from yunzheng.elicense.services import signing_key_create
from yunzheng.practitioners import catalogue, services
from yunzheng.practitioners.models import (
    CaseType,
    CertificateCategory,
    DeliveryMethod,
    QualificationCertificate,
    ServiceCase,
)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
STAFF_PASSWORD = "office-test-staff-password"
ACTOR = Actor.system("test")


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    """A moment in China Standard Time (deadlines count local calendar days)."""
    return dt.datetime(year, month, day, hour, tzinfo=SHANGHAI)


def id_number(base17: str) -> str:
    return base17 + ric.calc_check_digit(base17 + "0")


def png_bytes(colour: tuple[int, int, int] = (200, 220, 240), size: tuple[int, int] = (320, 240)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def private_media(settings: Any, tmp_path: Path) -> Path:
    location = tmp_path / "private-media"
    settings.PRIVATE_MEDIA_ROOT = location
    return location


def make_public_user(phone: str) -> User:
    """A public user as the SMS login creates it."""
    with TestCase.captureOnCommitCallbacks(execute=True):  # the code is sent after commit
        sms_code_request(phone=phone, client_ip="127.0.0.1", agreed=True)
    code = read_outbox(phone=phone)[-1].params["code"]
    return sms_login(phone=phone, code=code, client_ip="127.0.0.1", agreed=True).user


def make_verified_user(
    phone: str, *, name: str, id_no: str, address: str = "浙江省杭州市西湖区文三路1号"
) -> User:
    user = make_public_user(phone)
    realname_verification_record_in_person(
        user=user,
        name=name,
        id_number=id_no,
        ethnicity="汉",
        address=address,
        recorded_by=ACTOR,
        reason="test",
    )
    user.refresh_from_db()
    return user


def make_clerk(
    username: str,
    *,
    region: str,
    level: str = StaffProfile.Level.CITY,
    department: str = StaffProfile.Department.TRANSPORT,
) -> User:
    user = staff_user_create(
        username=username,
        password=STAFF_PASSWORD,
        department=department,
        level=level,
        region_code=region,
        unit_name=username,
        created_by=ACTOR,
    )
    staff_totp_device_create(user=user, confirmed=True)
    return user


def totp_now(user: User) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def staff_login(client: Client, user: User) -> None:
    """Log a clerk in through the real pages: password, then the TOTP code."""
    response = client.post("/accounts/staff/login/", {"username": user.username, "password": STAFF_PASSWORD})
    assert response.status_code == 302, response.content[:500]
    response = client.post("/accounts/staff/otp/", {"token": totp_now(user)})
    assert response.status_code == 302, response.content[:500]


DRIVER_ID = id_number("33010619850612123")
OTHER_ID = id_number("33010219900307102")


@pytest.fixture
def driver(db: Any) -> User:
    return make_verified_user("13900000001", name="张伟", id_no=DRIVER_ID)


@pytest.fixture
def other_driver(db: Any) -> User:
    return make_verified_user("13900000002", name="李娜", id_no=OTHER_ID)


@pytest.fixture
def unverified(db: Any) -> User:
    return make_public_user("13900000003")


def register(
    holder_id: str,
    *,
    number: str,
    name: str = "张伟",
    region: str = "330100",
    valid_until: dt.date | None = None,
    categories: list[str] | None = None,
) -> QualificationCertificate:
    return services.certificate_register(
        number=number,
        holder_name=name,
        holder_id_number=holder_id,
        categories=categories or [CertificateCategory.CRUISING_TAXI, CertificateCategory.RIDE_HAILING],
        issuing_authority="杭州市交通运输局" if region.startswith("33") else "呼和浩特市交通运输局",
        region_code=region,
        first_issued_on=dt.date(2015, 4, 20),
        valid_from=dt.date(2021, 4, 20),
        valid_until=valid_until or dt.date(2027, 4, 19),
        service_unit="杭州大众出租汽车有限公司",
        service_unit_phone="0571-88001234",
        actor=ACTOR,
    )


@pytest.fixture
def certificate(driver: User) -> QualificationCertificate:
    return register(DRIVER_ID, number="3301002015001234")


@pytest.fixture
def clerk(db: Any) -> User:
    return make_clerk("hz-clerk", region="330100")


@pytest.fixture
def signing_keys(db: Any) -> None:
    for province in ("330000", "150000"):
        if not SigningKey.objects.filter(province=province, status="active").exists():
            signing_key_create(province=province, actor=ACTOR)


DETAILS: dict[str, Callable[[dt.date], dict[str, Any]]] = {
    CaseType.CREDIT_ASSESSMENT: lambda today: {"cycle_year": today.year - 1, "service_company": ""},
    CaseType.RENEWAL: lambda today: {"licence_class": "C1", "reason": "证件即将到期"},
    CaseType.REPLACEMENT: lambda today: {"replacement_reason": "lost", "licence_class": "C1"},
    CaseType.CHANGE_UNIT: lambda today: {
        "new_unit": "杭州曹操出行科技有限公司",
        "unit_phone": "0571-85001111",
        "reason": "换公司",
    },
    CaseType.CHANGE_INFO: lambda today: {"new_address": "浙江省杭州市滨江区江南大道1号", "reason": "搬家"},
    CaseType.CANCELLATION: lambda today: {"categories": [CertificateCategory.RIDE_HAILING]},
    CaseType.INFO_VERIFICATION: lambda today: {
        "claimed_first_issued_on": "2014-04-20",
        "description": "初领日期错了",
    },
}


def draft(
    applicant: User,
    certificate: QualificationCertificate,
    case_type: str = CaseType.RENEWAL,
    *,
    now: dt.datetime | None = None,
    details: dict[str, Any] | None = None,
    materials: bool = True,
) -> ServiceCase:
    """A complete draft, built through the services like the pages do."""
    moment = now or dt.datetime.now(SHANGHAI)
    case = services.case_draft_create(
        applicant=applicant, case_type=case_type, certificate_id=certificate.pk, agreed=True, now=moment
    )
    info = services.personal_info(case)
    case = services.case_form_save(
        case=case,
        applicant=applicant,
        phone=info.phone,
        address=info.address or "浙江省杭州市西湖区文三路1号",
        contact_name=info.contact_name,
        details=details if details is not None else DETAILS[case_type](moment.date()),
        now=moment,
    )
    if catalogue.service(case_type).issues_new_certificate:
        case = services.case_delivery_save(
            case=case,
            applicant=applicant,
            method=DeliveryMethod.MAIL,
            recipient="张伟",
            phone=info.phone,
            address="浙江省杭州市西湖区文三路1号",
            now=moment,
        )
    if materials:
        for kind in services.required_materials_for(case):
            services.case_material_upload(
                case=case, applicant=applicant, kind=kind, upload=png_bytes(), now=moment
            )
    return case


def submitted(
    applicant: User,
    certificate: QualificationCertificate,
    case_type: str = CaseType.RENEWAL,
    *,
    now: dt.datetime | None = None,
) -> ServiceCase:
    case = draft(applicant, certificate, case_type, now=now)
    return services.case_submit(case=case, applicant=applicant, now=now)
