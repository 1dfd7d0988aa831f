"""Demo data for `make run` (idempotent: found by phone, username or credit code, never duplicated).

- a verified driver (13800000001) who is also the contact person of a demo company,
- an unverified user (13800000002),
- the company with a sandbox API credential,
- staff of all six departments at province (浙江省 330000) and city (杭州市 330100) level, each
  with a password and a confirmed TOTP device whose secret is printed.

The company token: only its hash is in the database, so it cannot be printed again from there.
The loader creates one credential once and keeps its token in a local-only file
(VAR_DIR/demo/company-api-token.<database>.txt, mode 0600, in the git-ignored var/); on later runs it
prints the token from that file if it still authenticates, and otherwise mints a new credential.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum.cn import ric, uscc

from yunzheng.accounts.credentials import authenticate_company_token, company_credential_create
from yunzheng.accounts.models import Company, CompanyCredential, StaffProfile, User
from yunzheng.accounts.services import (
    company_register,
    realname_verification_record_in_person,
    staff_totp_device_create,
    staff_user_create,
)
from yunzheng.core.audit import Actor
from yunzheng.core.crypto import lookup_hash, sm3_hex
from yunzheng.core.demodata import DemoLogin

DRIVER_PHONE = "13800000001"
UNVERIFIED_PHONE = "13800000002"
DRIVER_NAME = "张伟"
_DRIVER_ID_BASE = "33010619850612123"  # 浙江省杭州市西湖区, born 1985-06-12, male (odd 17th digit)
DRIVER_ID_NUMBER = _DRIVER_ID_BASE + ric.calc_check_digit(_DRIVER_ID_BASE + "0")

_CREDIT_CODE_BASE = "91330106MA2H4K7Q1"  # 91 = enterprise; 330106 = registered in 西湖区
COMPANY_CREDIT_CODE = _CREDIT_CODE_BASE + uscc.calc_check_digit(_CREDIT_CODE_BASE)
COMPANY_NAME = "杭州云途出行科技有限公司"
COMPANY_ID = "330106YUNTU0001"
# Contact persons of the other demo platforms (17 digits; the check digit is computed).
_ID_BASES = ("33010219920402101", "33020319930917201", "33010619910125302", "33010619900815402")


@dataclass(frozen=True)
class DemoPlatform:
    """A ride-hailing platform company of the demo, its contact person and how regulators see it."""

    credit_code: str
    name: str
    company_id: str  # the supervision CompanyId its uploads carry
    legal_representative: str
    contact_phone: str
    contact_name: str
    contact_id_number: str
    contact_address: str
    display_name: str
    aggregator: bool = False


def _uscc(base17: str) -> str:
    return base17 + uscc.calc_check_digit(base17)


# The demo company above plus three more (杭州 and 宁波); the exchange demo uploads their traffic.
PLATFORMS = (
    DemoPlatform(
        COMPANY_CREDIT_CODE,
        COMPANY_NAME,
        COMPANY_ID,
        "李明",
        DRIVER_PHONE,
        DRIVER_NAME,
        DRIVER_ID_NUMBER,
        "浙江省杭州市西湖区文三路100号",
        "云途出行",
    ),
    DemoPlatform(
        _uscc("91330104MA2J7QX3K"),
        "杭州钱江约车网络科技有限公司",
        "330104QJYC0001",
        "陈立",
        "13800000201",
        "陈立",
        _ID_BASES[0] + ric.calc_check_digit(_ID_BASES[0] + "0"),
        "浙江省杭州市上城区钱江路88号",
        "钱江约车",
    ),
    DemoPlatform(
        _uscc("91330203MA2K8RT6P"),
        "宁波甬城出行科技有限公司",
        "330203YCCX0001",
        "孙浩",
        "13800000202",
        "孙浩",
        _ID_BASES[1] + ric.calc_check_digit(_ID_BASES[1] + "0"),
        "浙江省宁波市海曙区中山西路12号",
        "甬城出行",
    ),
    DemoPlatform(
        _uscc("91330108MA2L9WL2D"),
        "浙江浙里打车科技有限公司",
        "330108ZLDC0001",
        "周琳",
        "13800000203",
        "周琳",
        _ID_BASES[2] + ric.calc_check_digit(_ID_BASES[2] + "0"),
        "浙江省杭州市滨江区江南大道500号",
        "浙里打车（聚合）",
        aggregator=True,
    ),
)

STAFF_PASSWORD = "yunzheng-staff-demo"  # noqa: S105  (demo only; `make run` prints it)
PROVINCE_CODE, CITY_CODE = "330000", "330100"
# department: (username slug, provincial unit, city unit)
# A platform that has been through the whole licensing procedure (licensing's demo grants its
# licence); it uploads nothing, so it is not one of PLATFORMS, whose traffic the exchange demo sends.
LICENSED_PLATFORM = DemoPlatform(
    _uscc("91330110MA2N5GF8X"),
    "杭州余杭快行网络科技有限公司",
    "330110YHKX0001",
    "吴静",
    "13800000204",
    "吴静",
    _ID_BASES[3] + ric.calc_check_digit(_ID_BASES[3] + "0"),
    "浙江省杭州市余杭区文一西路1000号",
    "余杭快行",
)


_DEPARTMENT_UNITS = {
    StaffProfile.Department.TRANSPORT: ("transport", "浙江省交通运输厅", "杭州市交通运输局"),
    StaffProfile.Department.PUBLIC_SECURITY: ("police", "浙江省公安厅", "杭州市公安局"),
    StaffProfile.Department.PBOC: ("pboc", "中国人民银行浙江省分行", "中国人民银行杭州市分行"),
    StaffProfile.Department.TAX: ("tax", "国家税务总局浙江省税务局", "国家税务总局杭州市税务局"),
    StaffProfile.Department.COMMUNICATIONS: ("telecom", "浙江省通信管理局", "杭州市通信发展管理办公室"),
    StaffProfile.Department.CYBERSPACE: ("cac", "中共浙江省委网信办", "中共杭州市委网信办"),
}


def _public_user(phone: str) -> User:
    user = User.objects.filter(phone_hash=lookup_hash(phone)).first()
    if user is None:
        user = User(
            username=f"demo-{secrets.token_hex(4)}",
            kind=User.Kind.PUBLIC,
            phone=phone,
            phone_hash=lookup_hash(phone),
        )
        user.set_unusable_password()
        user.save()
    return user


def _token_file() -> Path:
    # One file per database, so the test suite's database and `make run`'s never overwrite each other.
    database = sm3_hex(str(connection.settings_dict["NAME"]).encode())[:8]
    return Path(settings.VAR_DIR) / "demo" / f"company-api-token.{database}.txt"


def _demo_company_token(company: Company) -> str:
    path = _token_file()
    if path.exists():
        token = path.read_text(encoding="ascii").strip()
        credential = authenticate_company_token(token)
        if credential is not None and credential.company_id == company.pk:
            return token
    issued = company_credential_create(
        company=company, name="demo upload", environment=CompanyCredential.Environment.SANDBOX
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(issued.token + "\n")
    temporary.replace(path)
    return issued.token


def _staff(username: str, department: str, level: str, region_code: str, unit: str) -> tuple[User, str]:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = staff_user_create(
            username=username,
            password=STAFF_PASSWORD,
            department=department,
            level=level,
            region_code=region_code,
            unit_name=unit,
            created_by=Actor.system("demo"),
        )
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = staff_totp_device_create(user=user, confirmed=True)
    return user, base64.b32encode(device.bin_key).decode("ascii")


def _verified_user(phone: str, name: str, id_number: str, address: str) -> User:
    user = _public_user(phone)
    if not user.is_real_name_verified:
        realname_verification_record_in_person(
            user=user,
            name=name,
            id_number=id_number,
            ethnicity="汉",
            address=address,
            recorded_by=Actor.system("demo"),
            reason="demo data",
        )
        user.refresh_from_db()
    return user


def _platform_company(platform: DemoPlatform) -> Company:
    company = Company.objects.filter(credit_code=platform.credit_code).first()
    if company is None:
        contact = _verified_user(
            platform.contact_phone,
            platform.contact_name,
            platform.contact_id_number,
            platform.contact_address,
        )
        company = company_register(
            user=contact,
            credit_code=platform.credit_code,
            name=platform.name,
            legal_representative=platform.legal_representative,
            supervision_company_id=platform.company_id,
        )
    return company


def load_demo() -> list[DemoLogin]:
    driver = _public_user(DRIVER_PHONE)
    if not driver.is_real_name_verified:
        realname_verification_record_in_person(
            user=driver,
            name=DRIVER_NAME,
            id_number=DRIVER_ID_NUMBER,
            ethnicity="汉",
            address="浙江省杭州市西湖区文三路100号",
            recorded_by=Actor.system("demo"),
            reason="demo data",
        )
        driver.refresh_from_db()
    _public_user(UNVERIFIED_PHONE)

    company = Company.objects.filter(credit_code=COMPANY_CREDIT_CODE).first()
    if company is None:
        company = company_register(
            user=driver,
            credit_code=COMPANY_CREDIT_CODE,
            name=COMPANY_NAME,
            legal_representative="李明",
            supervision_company_id=COMPANY_ID,
        )
    token = _demo_company_token(company)
    for platform in (*PLATFORMS[1:], LICENSED_PLATFORM):
        _platform_company(platform)

    outbox = settings.SMS_OUTBOX_PATH
    logins = [
        DemoLogin(
            role="Verified driver (also the demo company's contact person)",
            how=f"phone {DRIVER_PHONE}, SMS code from {outbox}",
            where="/accounts/login/",
        ),
        DemoLogin(
            role="Unverified user",
            how=f"phone {UNVERIFIED_PHONE}, SMS code from {outbox}",
            where="/accounts/login/",
        ),
        DemoLogin(
            role=f"Company API (sandbox) for {COMPANY_NAME}, CompanyId {company.supervision_company_id}",
            how=(
                f"Authorization: Bearer {token}  "
                f"(more: manage.py create_company_credential {COMPANY_CREDIT_CODE})"
            ),
            where="/exchange/",
        ),
    ]
    logins.append(
        DemoLogin(
            role="Contact persons of the other demo platforms ("
            + ", ".join(f"{p.display_name} {p.contact_phone}" for p in (*PLATFORMS[1:], LICENSED_PLATFORM))
            + ")",
            how=f"phone, SMS code from {outbox}",
            where="/accounts/login/",
        )
    )
    for department, (slug, province_unit, city_unit) in _DEPARTMENT_UNITS.items():
        for prefix, level, code, unit in (
            ("zj", StaffProfile.Level.PROVINCE, PROVINCE_CODE, province_unit),
            ("hz", StaffProfile.Level.CITY, CITY_CODE, city_unit),
        ):
            username = f"{prefix}-{slug}"
            _user, secret = _staff(username, department, level, code, unit)
            logins.append(
                DemoLogin(
                    role=f"Staff: {unit} ({level}, {code})",
                    how=(
                        f"username {username} / password {STAFF_PASSWORD} / TOTP secret {secret} "
                        f"(or: manage.py totp_code {username})"
                    ),
                    where="/accounts/staff/login/",
                )
            )
    return logins
