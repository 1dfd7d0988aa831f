"""Government staff: accounts with department/level/region, and the password + TOTP login."""

from __future__ import annotations

import re

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunzheng.accounts.error_codes import AccountsErrorCode as Code
from yunzheng.accounts.models import StaffProfile, User
from yunzheng.accounts.scopes import staff_profile_of
from yunzheng.accounts.services._common import seconds_until
from yunzheng.accounts.services.staff_security import (
    staff_login_failure_record,
    staff_login_failures_clear,
    staff_login_guard,
)
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.errors import RateLimited, ValidationFailed
from yunzheng.core.ids import region_code_exists


def staff_region_validate(*, level: str, region_code: str) -> str:
    region_code = region_code.strip()
    if level == StaffProfile.Level.MINISTRY:
        if region_code:
            raise ValidationFailed.single(
                field="region_code",
                code=Code.STAFF_REGION_INVALID,
                message=_("Ministry staff have no region."),
            )
        return ""
    shape_ok = (level == StaffProfile.Level.PROVINCE and region_code.endswith("0000")) or (
        level == StaffProfile.Level.CITY and region_code.endswith("00") and not region_code.endswith("0000")
    )
    if not (shape_ok and region_code_exists(region_code)):
        raise ValidationFailed.single(
            field="region_code",
            code=Code.STAFF_REGION_INVALID,
            message=_("Enter a GB/T 2260 code of a province (ending in 0000) or a city (ending in 00)."),
        )
    return region_code


def staff_user_create(
    *,
    username: str,
    password: str,
    department: str,
    level: str,
    region_code: str,
    unit_name: str = "",
    created_by: Actor,
) -> User:
    if department not in StaffProfile.Department.values or level not in StaffProfile.Level.values:
        raise ValidationFailed.single(
            field="department", code=Code.STAFF_REGION_INVALID, message=_("Unknown department or level.")
        )
    region_code = staff_region_validate(level=level, region_code=region_code)
    with transaction.atomic():
        user = User(username=username, kind=User.Kind.STAFF, is_staff=False)
        user.set_password(password)
        user.save()
        StaffProfile.objects.create(
            user=user, department=department, level=level, region_code=region_code, unit_name=unit_name
        )
        record_audit(
            actor=created_by,
            action="staff.create",
            target_type="user",
            target_id=user.pk,
            after={
                "username": username,
                "department": department,
                "level": level,
                "region_code": region_code,
            },
        )
    return user


def staff_totp_device_create(
    *, user: User, confirmed: bool = False, name: str = "authenticator"
) -> TOTPDevice:
    """A new TOTP device (replacing unconfirmed ones); confirmed=True only for operator-provisioned
    devices whose secret was handed over out of band (e.g. demo data)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=name, confirmed=confirmed)
        record_audit(
            actor=Actor.for_user(user),
            action="staff.totp.create",
            target_type="user",
            target_id=user.pk,
            after={"device": device.pk, "confirmed": confirmed},
        )
    return device


def staff_password_check(
    *, request: HttpRequest, username: str, password: str, client_ip: str | None = None
) -> User:
    """First step of a staff login. Same answer for every failure, so usernames can't be probed.
    Locked-out accounts and addresses are refused before the password is even checked; each wrong
    password counts (`staff_security`)."""
    staff_login_guard(username=username, client_ip=client_ip)
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User) or staff_profile_of(user) is None or user.kind != User.Kind.STAFF:
        staff_login_failure_record(username=username, client_ip=client_ip, stage="password")
        raise ValidationFailed.single(
            field="password",
            code=Code.STAFF_LOGIN_FAILED,
            message=_("Wrong username or password, or not a staff account."),
        )
    return user


def staff_otp_verify(*, user: User, token: str, client_ip: str | None = None) -> TOTPDevice:
    """Second step: check a TOTP code against the user's confirmed device. A device is enrolled
    only through an administrator's link (`staff_security.staff_enrolment_*`), never here.

    django-otp throttles wrong codes per device (exponential back-off) and refuses a code twice;
    wrong codes also count towards the account and address lockout.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        raise ValidationFailed.single(
            field="token",
            code=Code.STAFF_NO_DEVICE,
            message=_("Your authenticator is not set up. Ask your administrator for an enrolment link."),
        )
    staff_login_guard(username=user.username, client_ip=client_ip)
    allowed, details = device.verify_is_allowed()
    if not allowed:
        locked_until = (details or {}).get("locked_until")
        seconds = seconds_until(locked_until, timezone.now()) if locked_until else 60
        raise RateLimited(
            Code.STAFF_OTP_THROTTLED,
            _("Too many wrong codes. Try again in %(seconds)s seconds.") % {"seconds": seconds},
            retry_after_seconds=seconds,
        )
    token = re.sub(r"\s+", "", token)
    well_formed = re.fullmatch(r"\d{6,8}", token) is not None
    if not well_formed:
        device.throttle_increment()  # verify_token counts its own failures
    if not well_formed or not device.verify_token(token):
        staff_login_failure_record(username=user.username, client_ip=client_ip, stage="totp")
        raise ValidationFailed.single(
            field="token", code=Code.STAFF_OTP_WRONG, message=_("The authenticator code is wrong.")
        )
    with transaction.atomic():
        staff_login_failures_clear(username=user.username)
        record_audit(
            actor=Actor.for_user(user),
            action="staff.login",
            target_type="user",
            target_id=user.pk,
            after={"method": "password+totp", "device": device.pk},
        )
    return device
