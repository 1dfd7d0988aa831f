"""Demo data for electronic licences and passes (idempotent: everything is found by natural key).

- signing keys for 浙江 (330000, rotated once: one retired key still verifies) and 天津 (120000),
  and the ministry root key that signs the trust list;
- vehicle transport certificates of the accounts demo driver (张伟): two Tianjin trucks with
  passes (one approved, one pending), one with an unresolved violation, and a company vehicle
  in Hangzhou;
- a Tianjin transport-department staff member who decides traffic passes.

The applicant is the verified driver of the accounts demo (loaded first; loaded here if missing).
"""

from __future__ import annotations

import base64
import datetime as dt

from django_otp.plugins.otp_totp.models import TOTPDevice

from yunzheng.accounts import demo as accounts_demo
from yunzheng.accounts.models import Company, StaffProfile, User
from yunzheng.accounts.services import staff_totp_device_create, staff_user_create
from yunzheng.core.audit import Actor
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import lookup_hash
from yunzheng.core.demodata import DemoLogin
from yunzheng.elicense import services
from yunzheng.elicense.models import (
    PassType,
    PlateColour,
    SigningKey,
    TrafficPassApplication,
    VehicleTask,
    VehicleTransportCertificate,
    VehicleViolation,
)
from yunzheng.elicense.traffic_passes import (
    PassRequest,
    traffic_pass_apply,
    traffic_pass_approve,
    traffic_pass_data_review,
)
from yunzheng.elicense.vehicles import vehicle_certificate_issue, vehicle_violation_record

STAFF_USERNAME = "tj-transport"
POLICE_USERNAME = "tj-traffic-police"
ACTOR = Actor.system("demo")


def _keys() -> None:
    services.root_key()
    for province in ("330000", "120000"):
        if not SigningKey.objects.filter(province=province, status=SigningKey.Status.ACTIVE).exists():
            services.signing_key_create(province=province, actor=ACTOR)
    # 浙江 has rotated once: its first key is retired but still verifies what it signed.
    if SigningKey.objects.filter(province="330000").count() == 1:
        services.signing_key_rotate(province="330000", actor=ACTOR)


def _driver() -> User:
    driver = User.objects.filter(phone_hash=lookup_hash(accounts_demo.DRIVER_PHONE)).first()
    if driver is None:
        accounts_demo.load_demo()
        driver = User.objects.get(phone_hash=lookup_hash(accounts_demo.DRIVER_PHONE))
    return driver


def _certificate(
    number: str, plate: str, colour: str, region: str, **owner: object
) -> VehicleTransportCertificate:
    existing = VehicleTransportCertificate.objects.filter(certificate_number=number).first()
    if existing is not None:
        return existing
    today = today_in_china()
    return vehicle_certificate_issue(
        certificate_number=number,
        plate_number=plate,
        plate_colour=colour,
        business_scope="道路普通货物运输",
        issuing_region=region,
        valid_from=today - dt.timedelta(days=400),
        valid_until=today + dt.timedelta(days=3 * 365),
        actor=ACTOR,
        **owner,  # type: ignore[arg-type]
    )


def _staff(
    username: str = STAFF_USERNAME,
    department: str = StaffProfile.Department.TRANSPORT,
    unit_name: str = "天津市交通运输委员会",
) -> tuple[User, str]:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = staff_user_create(
            username=username,
            password=accounts_demo.STAFF_PASSWORD,
            department=department,
            level=StaffProfile.Level.PROVINCE,
            region_code="120000",
            unit_name=unit_name,
            created_by=ACTOR,
        )
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or staff_totp_device_create(
        user=user, confirmed=True
    )
    return user, base64.b32encode(device.bin_key).decode("ascii")


def _application(
    driver: User, plate: str, pass_type: str, sections: list[str], times: list[str]
) -> TrafficPassApplication:
    existing = TrafficPassApplication.objects.filter(plate_number=plate, pass_type=pass_type).first()
    if existing is not None:
        return existing
    today = today_in_china()
    return traffic_pass_apply(
        user=driver,
        request=PassRequest(
            plate_number=plate,
            pass_type=pass_type,
            road_sections=sections,
            time_windows=times,
            valid_from=today,
            valid_until=today + dt.timedelta(days=59),
            vehicle_task=VehicleTask.FREIGHT,
            no_alternative_route=True,
        ),
    )


def load_demo() -> list[DemoLogin]:
    _keys()
    driver = _driver()
    _staff()  # the transport authority (licence index, consistency reports)
    # Traffic passes are reviewed by the city's traffic police, not the transport authority.
    police, police_secret = _staff(
        POLICE_USERNAME, StaffProfile.Department.PUBLIC_SECURITY, "天津市公安交通管理局"
    )
    _certificate("120101000001", "津A12345", PlateColour.YELLOW, "120100", owner_user=driver)
    _certificate("120101000002", "津AD12345", PlateColour.YELLOW_GREEN, "120100", owner_user=driver)
    _certificate("120101000003", "津C55555", PlateColour.YELLOW, "120100", owner_user=driver)
    company = Company.objects.filter(credit_code=accounts_demo.COMPANY_CREDIT_CODE).first()
    if company is not None:
        _certificate("330100000001", "浙A8K123", PlateColour.YELLOW, "330100", owner_company=company)
    if not VehicleViolation.objects.filter(plate_number="津C55555").exists():
        vehicle_violation_record(
            plate_number="津C55555",
            occurred_on=today_in_china() - dt.timedelta(days=12),
            description="未按规定时段驶入限行区域（未处理）",
            actor=ACTOR,
        )
    approved = _application(
        driver,
        "津A12345",
        PassType.TRUCK_NIGHT,
        ["外环线（津静公路—津塘公路）", "快速路中环线"],
        ["22:00-06:00"],
    )
    if approved.status == TrafficPassApplication.Status.SUBMITTED:
        approved = traffic_pass_data_review(application=approved, staff_user=police, reason="资料齐全")
    if approved.status == TrafficPassApplication.Status.DATA_APPROVED:
        approved = traffic_pass_approve(application=approved, staff_user=police, reason="准予通行")
    _application(driver, "津AD12345", PassType.TRUCK_DAY, ["津滨高速", "卫国道"], ["09:00-16:00"])

    logins = [
        DemoLogin(
            role="Electronic licences of the demo driver (traffic pass, transport certificates)",
            how=f"log in as phone {accounts_demo.DRIVER_PHONE}",
            where="/elicense/",
        ),
        DemoLogin(
            role="Tianjin traffic-pass reviewer (天津市公安交通管理局)",
            how=(
                f"username {POLICE_USERNAME} / password {accounts_demo.STAFF_PASSWORD} / TOTP secret "
                f"{police_secret} (or: manage.py totp_code {POLICE_USERNAME})"
            ),
            where="/elicense/staff/passes/",
        ),
        DemoLogin(role="Public licence verification (paste or scan a QR)", how="no login", where="/verify/"),
    ]
    if approved.licence is not None and approved.licence.status == "valid":
        sample = services.licence_sign(licence=approved.licence)
        logins.append(
            DemoLogin(
                role="Sample QR link of the approved pass (津A12345)",
                how="open it",
                where=f"/V/{sample.text}",
            )
        )
    return logins
