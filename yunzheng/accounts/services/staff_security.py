"""Staff credentials beyond the login itself: lockout after wrong passwords or codes, one-time
links (issued by an administrator, audited) to enrol an authenticator or reset a password, and
password changes.

Rules (issue #14):
- an authenticator is enrolled only through an administrator's one-time link, never at first login;
- wrong passwords and codes count per account and per client address; past a threshold the key is
  locked for a time that doubles with each further failure (`core.ratelimit.lockout_until`);
  every failure and every refusal is audited;
- passwords are changed (knowing the old one) or reset (with a link) on pages.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunzheng.accounts.conf import app_settings
from yunzheng.accounts.error_codes import AccountsErrorCode as Code
from yunzheng.accounts.models import StaffCredentialToken, StaffLoginFailure, User
from yunzheng.accounts.scopes import staff_profile_of
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.crypto import lookup_hash
from yunzheng.core.errors import ErrorDetail, NotFound, RateLimited, ValidationFailed
from yunzheng.core.ratelimit import lockout_until, seconds_until

ENROL = StaffCredentialToken.Purpose.ENROL
PASSWORD_RESET = StaffCredentialToken.Purpose.PASSWORD_RESET


def username_hash(username: str) -> str:
    return lookup_hash(f"staff-login:{username.strip().lower()}")


# --------------------------------------------------------------------------------------------
# Lockout
# --------------------------------------------------------------------------------------------


def _lock_until(*, username: str, client_ip: str | None, now: dt.datetime) -> tuple[str, dt.datetime] | None:
    base = dt.timedelta(seconds=int(app_settings.STAFF_LOCKOUT_BASE_SECONDS))
    longest = dt.timedelta(seconds=int(app_settings.STAFF_LOCKOUT_MAX_SECONDS))
    window = dt.timedelta(hours=24)
    failures = StaffLoginFailure.objects
    account = lockout_until(
        failures.filter(username_hash=username_hash(username)),
        threshold=int(app_settings.STAFF_LOCKOUT_ACCOUNT_THRESHOLD),
        base=base,
        longest=longest,
        window=window,
        now=now,
    )
    if account is not None:
        return "account", account
    if client_ip:
        address = lockout_until(
            failures.filter(client_ip=client_ip),
            threshold=int(app_settings.STAFF_LOCKOUT_IP_THRESHOLD),
            base=base,
            longest=longest,
            window=window,
            now=now,
        )
        if address is not None:
            return "address", address
    return None


def staff_login_guard(*, username: str, client_ip: str | None, now: dt.datetime | None = None) -> None:
    """Refuse (429, audited) while the account or the client address is locked out."""
    now = now or timezone.now()
    locked = _lock_until(username=username, client_ip=client_ip, now=now)
    if locked is None:
        return
    scope, until = locked
    seconds = seconds_until(until, now)
    record_audit(
        actor=Actor.system("staff-login"),
        action="staff.login.locked_out",
        target_type="staff_login",
        target_id=username_hash(username)[:16],
        after={"scope": scope, "client_ip": client_ip, "retry_after_seconds": seconds},
    )
    raise RateLimited(
        Code.STAFF_LOCKED_OUT,
        _("Too many failed attempts: login is locked. Try again in %(seconds)s seconds.")
        % {"seconds": seconds},
        retry_after_seconds=seconds,
    )


def staff_login_failure_record(
    *, username: str, client_ip: str | None, stage: str, now: dt.datetime | None = None
) -> None:
    """Count one wrong password or code (committed even if the caller then raises)."""
    now = now or timezone.now()
    with transaction.atomic():
        StaffLoginFailure.objects.create(
            username_hash=username_hash(username), client_ip=client_ip or None, stage=stage, created_at=now
        )
        user = User.objects.filter(username=username.strip()).first()
        record_audit(
            actor=Actor.system("staff-login"),
            action="staff.login.failed",
            target_type="user" if user else "staff_login",
            target_id=user.pk if user else username_hash(username)[:16],
            after={"stage": stage, "client_ip": client_ip},
        )


def staff_login_failures_clear(*, username: str) -> None:
    """After a full login (or a reset) the account's count starts again; addresses keep theirs."""
    StaffLoginFailure.objects.filter(username_hash=username_hash(username)).delete()


# --------------------------------------------------------------------------------------------
# One-time links issued by an administrator
# --------------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return lookup_hash(f"staff-credential-token:{token}")


def staff_credential_link_issue(
    *, user: User, purpose: str, issued_by: Actor, now: dt.datetime | None = None
) -> str:
    """A one-time token (the caller builds the link and shows it once); earlier unused links of the
    same purpose die. Audited."""
    now = now or timezone.now()
    if staff_profile_of(user) is None:
        raise ValidationFailed.single(
            field="user", code=Code.STAFF_REQUIRED, message=_("This is for government staff only.")
        )
    token = secrets.token_urlsafe(32)
    hours = int(app_settings.STAFF_CREDENTIAL_LINK_HOURS)
    with transaction.atomic():
        StaffCredentialToken.objects.filter(
            user=user, purpose=purpose, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        link = StaffCredentialToken.objects.create(
            user=user,
            purpose=purpose,
            token_hash=_token_hash(token),
            issued_by=issued_by.label[:128],
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
        record_audit(
            actor=issued_by,
            action=f"staff.{purpose}.issue",
            target_type="user",
            target_id=user.pk,
            after={"link": link.pk, "expires_at": link.expires_at.isoformat()},
        )
    return token


def staff_credential_link_find(
    *, token: str, purpose: str, now: dt.datetime | None = None
) -> StaffCredentialToken:
    """The valid (unused, unexpired, not replaced) link, or NotFound with one message for all."""
    now = now or timezone.now()
    link = (
        StaffCredentialToken.objects.select_related("user")
        .filter(token_hash=_token_hash(token.strip()), purpose=purpose)
        .first()
    )
    if link is None or link.used_at or link.revoked_at or link.expires_at <= now or not link.user.is_active:
        raise NotFound(
            Code.STAFF_LINK_INVALID, _("This link is invalid, used or expired. Ask your administrator.")
        )
    return link


def _check_password_for_link(
    *, request: HttpRequest | None, link: StaffCredentialToken, password: str, client_ip: str | None
) -> None:
    username = link.user.username
    staff_login_guard(username=username, client_ip=client_ip)
    if authenticate(request, username=username, password=password) is None:
        staff_login_failure_record(username=username, client_ip=client_ip, stage="password")
        raise ValidationFailed.single(
            field="password", code=Code.STAFF_LOGIN_FAILED, message=_("The password is wrong.")
        )


def staff_enrolment_start(
    *, request: HttpRequest | None, token: str, password: str, client_ip: str | None
) -> TOTPDevice:
    """Link + the account's password: a new, unconfirmed device whose secret the page shows."""
    link = staff_credential_link_find(token=token, purpose=ENROL)
    _check_password_for_link(request=request, link=link, password=password, client_ip=client_ip)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=link.user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=link.user, name="authenticator", confirmed=False)


def staff_enrolment_finish(*, token: str, device_id: int, code: str, client_ip: str | None) -> TOTPDevice:
    """The first code from the new device confirms it, replaces older devices and uses the link."""
    link = staff_credential_link_find(token=token, purpose=ENROL)
    device = TOTPDevice.objects.filter(pk=device_id, user=link.user, confirmed=False).first()
    if device is None:
        raise NotFound(Code.STAFF_LINK_INVALID, _("Start the enrolment again from your link."))
    staff_login_guard(username=link.user.username, client_ip=client_ip)
    code = "".join(code.split())
    if not (code.isdigit() and 6 <= len(code) <= 8 and device.verify_token(code)):
        staff_login_failure_record(username=link.user.username, client_ip=client_ip, stage="totp")
        raise ValidationFailed.single(
            field="token", code=Code.STAFF_OTP_WRONG, message=_("The authenticator code is wrong.")
        )
    now = timezone.now()
    with transaction.atomic():
        replaced = list(
            TOTPDevice.objects.filter(user=link.user).exclude(pk=device.pk).values_list("pk", flat=True)
        )
        TOTPDevice.objects.filter(pk__in=replaced).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        link.used_at = now
        link.save(update_fields=["used_at"])
        record_audit(
            actor=Actor.for_user(link.user),
            action="staff.totp.enrol",
            target_type="user",
            target_id=link.user.pk,
            after={"device": device.pk, "link": link.pk, "replaced_devices": replaced},
        )
    return device


# --------------------------------------------------------------------------------------------
# Passwords
# --------------------------------------------------------------------------------------------


def _validated(user: User, new_password: str, repeat: str) -> None:
    if new_password != repeat:
        raise ValidationFailed.single(
            field="new_password2", code=Code.STAFF_PASSWORD_MISMATCH, message=_("The two passwords differ.")
        )
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as error:
        raise ValidationFailed(
            Code.STAFF_PASSWORD_WEAK,
            _("Choose a stronger password."),
            details=[
                ErrorDetail(field="new_password1", code=Code.STAFF_PASSWORD_WEAK, message=str(message))
                for message in error.messages
            ],
        ) from None


def staff_password_change(
    *, user: User, old_password: str, new_password: str, repeat: str, client_ip: str | None
) -> None:
    """A logged-in staff member changes their password (knowing the old one). Audited."""
    staff_login_guard(username=user.username, client_ip=client_ip)
    if not user.check_password(old_password):
        staff_login_failure_record(username=user.username, client_ip=client_ip, stage="password")
        raise ValidationFailed.single(
            field="old_password", code=Code.STAFF_LOGIN_FAILED, message=_("The current password is wrong.")
        )
    _validated(user, new_password, repeat)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        record_audit(
            actor=Actor.for_user(user), action="staff.password.change", target_type="user", target_id=user.pk
        )


def staff_password_reset(*, token: str, new_password: str, repeat: str) -> User:
    """Set a new password with an administrator's one-time link; the account's lockout count and
    other sessions end. Audited."""
    link = staff_credential_link_find(token=token, purpose=PASSWORD_RESET)
    user = link.user
    _validated(user, new_password, repeat)
    with transaction.atomic():
        user.set_password(new_password)  # a new password hash also ends the other sessions
        user.save(update_fields=["password"])
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        staff_login_failures_clear(username=user.username)
        record_audit(
            actor=Actor.for_user(user),
            action="staff.password.reset",
            target_type="user",
            target_id=user.pk,
            after={"link": link.pk, "issued_by": link.issued_by},
        )
    return user
