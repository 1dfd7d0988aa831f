"""Fixtures of the elicense tests: data is created through the real services."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from stdnum.cn import ric, uscc

from yunzheng.accounts.models import Company, StaffProfile, User
from yunzheng.accounts.services import (
    company_register,
    realname_verification_record_in_person,
    staff_totp_device_create,
    staff_user_create,
)
from yunzheng.core.audit import Actor
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import lookup_hash
from yunzheng.elicense import services
from yunzheng.elicense.models import ElectronicLicence, LicenceType, PlateColour
from yunzheng.elicense.vehicles import vehicle_certificate_issue

SYSTEM = Actor.system("test")
_serial = itertools.count(1)


def resident_id(region: str = "120101", birth: str = "19850612") -> str:
    body = f"{region}{birth}{next(_serial) % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def credit_code(region: str = "120101") -> str:
    body = f"91{region}MA{next(_serial):07d}"[:17]
    return body + uscc.calc_check_digit(body)


def make_verified_user(name: str = "王小明", region: str = "120101") -> User:
    serial = next(_serial)
    phone = f"139{serial:08d}"
    user = User.objects.create_user(username=f"person{serial}", phone=phone, phone_hash=lookup_hash(phone))
    realname_verification_record_in_person(
        user=user,
        name=name,
        id_number=resident_id(region),
        ethnicity="汉",
        address="天津市和平区南京路1号",
        recorded_by=SYSTEM,
        reason="test",
    )
    user.refresh_from_db()
    return user


def make_staff(
    region: str = "120000",
    level: str = StaffProfile.Level.PROVINCE,
    department: str = StaffProfile.Department.TRANSPORT,
) -> User:
    user = staff_user_create(
        username=f"staff{next(_serial)}",
        password="a-long-staff-password",
        department=department,
        level=level,
        region_code=region,
        created_by=SYSTEM,
    )
    user.test_device = staff_totp_device_create(user=user, confirmed=True)  # type: ignore[attr-defined]
    return user


def staff_client(staff: User) -> Client:
    """A client logged in with password and second factor, as the staff login pages leave it."""
    client = Client()
    client.force_login(staff)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = staff.test_device.persistent_id  # type: ignore[attr-defined]
    session.save()
    return client


def user_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def keys(db: Any) -> dict[str, Any]:
    return {
        "root": services.root_key(),
        "120000": services.signing_key_create(province="120000", actor=SYSTEM),
        "330000": services.signing_key_create(province="330000", actor=SYSTEM),
    }


@pytest.fixture
def holder(db: Any) -> User:
    return make_verified_user()


@pytest.fixture
def other_user(db: Any) -> User:
    return make_verified_user(name="李四")


@pytest.fixture
def tianjin_staff(db: Any) -> User:
    """Tianjin's traffic police: the reviewing authority of traffic passes."""
    return make_staff("120000", department=StaffProfile.Department.PUBLIC_SECURITY)


@pytest.fixture
def company(holder: User) -> Company:
    return company_register(
        user=holder, credit_code=credit_code(), name="天津顺达物流有限公司", legal_representative="赵六"
    )


def today() -> dt.date:
    return today_in_china()


def sync_licence(
    holder: User, *, source_id: str = "1", region: str = "330100", **overrides: Any
) -> ElectronicLicence:
    arguments: dict[str, Any] = {
        "source_type": "test.registry",
        "source_id": source_id,
        "licence_type": LicenceType.PRACTITIONER_QUALIFICATION,
        "holder_user": holder,
        "holder_name": holder.real_name,
        "holder_id_number": holder.id_number,
        "issuer_region": region,
        "valid_from": today() - dt.timedelta(days=10),
        "valid_until": today() + dt.timedelta(days=365),
        "data": {"certificate_number": "330100202600001", "categories": ["网约车驾驶员"]},
        "event": "issue",
        "actor": SYSTEM,
    }
    arguments.update(overrides)
    return services.licence_sync(**arguments)


@pytest.fixture
def licence(keys: dict[str, Any], holder: User) -> ElectronicLicence:
    return sync_licence(holder)


@pytest.fixture
def truck(holder: User) -> Any:
    return vehicle_certificate_issue(
        certificate_number=f"1201010{next(_serial):05d}",
        plate_number="津A12345",
        plate_colour=PlateColour.YELLOW,
        business_scope="道路普通货物运输",
        issuing_region="120100",
        valid_from=today() - dt.timedelta(days=100),
        valid_until=today() + dt.timedelta(days=700),
        actor=SYSTEM,
        owner_user=holder,
    )
