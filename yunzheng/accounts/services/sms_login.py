"""Phone + SMS code login: issuing codes under rate limits, checking them, creating accounts."""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.conf import app_settings
from yunzheng.accounts.error_codes import AccountsErrorCode as Code
from yunzheng.accounts.models import PolicyAcceptance, SmsCode, User
from yunzheng.accounts.policies import CURRENT_VERSIONS
from yunzheng.accounts.services._common import (
    minutes_from_seconds,
    seconds_until,
    window_limit,
)
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or
from yunzheng.core.crypto import lookup_hash, mask_phone
from yunzheng.core.errors import DomainError, PermissionDenied, RateLimited, ValidationFailed
from yunzheng.core.ids import validate_mobile
from yunzheng.core.locks import advisory_xact_lock
from yunzheng.core.sms import send_sms_on_commit

SMS_CODE_LENGTH = 6
_SMS_LOCK_NAMESPACE = 0x534D5343  # "SMSC": the PostgreSQL advisory-lock namespace for one phone


@dataclass(frozen=True)
class SmsLimits:
    ttl_seconds: int
    resend_seconds: int
    max_attempts: int
    lock_seconds: int
    per_phone_hour: int
    per_phone_day: int
    per_ip_hour: int


def sms_limits() -> SmsLimits:
    return SmsLimits(
        ttl_seconds=int(app_settings.ACCOUNTS_SMS_CODE_TTL_SECONDS),
        resend_seconds=int(app_settings.ACCOUNTS_SMS_RESEND_SECONDS),
        max_attempts=int(app_settings.ACCOUNTS_SMS_MAX_ATTEMPTS),
        lock_seconds=int(app_settings.ACCOUNTS_SMS_LOCK_SECONDS),
        per_phone_hour=int(app_settings.ACCOUNTS_SMS_PER_PHONE_HOUR),
        per_phone_day=int(app_settings.ACCOUNTS_SMS_PER_PHONE_DAY),
        per_ip_hour=int(app_settings.ACCOUNTS_SMS_PER_IP_HOUR),
    )


@dataclass(frozen=True)
class SmsCodeIssued:
    masked_phone: str
    expires_at: dt.datetime
    expires_in_seconds: int
    resend_in_seconds: int


def _require_agreement(agreed: bool) -> None:
    if not agreed:
        raise ValidationFailed.single(
            field="agree",
            code=Code.AGREEMENT_REQUIRED,
            message=_("Please read and accept the user agreement and the privacy policy first."),
        )


def _code_hash(salt: str, code: str) -> str:
    # Keyed with FIELD_HASH_KEY: a copy of the database alone cannot brute-force the 10^6 codes.
    return lookup_hash(f"sms-code:{salt}:{code}")


def _phone_lock_error(locked_until: dt.datetime, now: dt.datetime) -> RateLimited:
    seconds = seconds_until(locked_until, now)
    return RateLimited(
        Code.SMS_CODE_LOCKED,
        _("Too many wrong codes: this phone number is locked for login. Try again in %(minutes)s minutes.")
        % {"minutes": minutes_from_seconds(seconds)},
        retry_after_seconds=seconds,
    )


def _active_lock(phone_hash: str, now: dt.datetime) -> dt.datetime | None:
    return (
        SmsCode.objects.filter(phone_hash=phone_hash, locked_until__gt=now)
        .order_by("-locked_until")
        .values_list("locked_until", flat=True)
        .first()
    )


def sms_code_request(
    *,
    phone: str,
    client_ip: str | None,
    agreed: bool,
    purpose: str = SmsCode.Purpose.LOGIN,
    now: dt.datetime | None = None,
) -> SmsCodeIssued:
    """Issue a login code by SMS, after every limit has been checked. The code leaves only by SMS."""
    now = now_or(now)
    phone = validate_mobile(phone, field="phone")
    _require_agreement(agreed)
    limits = sms_limits()
    phone_hash = lookup_hash(phone)
    code = f"{secrets.randbelow(10**SMS_CODE_LENGTH):0{SMS_CODE_LENGTH}d}"
    with transaction.atomic():
        advisory_xact_lock(_SMS_LOCK_NAMESPACE, phone_hash)
        locked_until = _active_lock(phone_hash, now)
        if locked_until is not None:
            raise _phone_lock_error(locked_until, now)
        if client_ip:
            ip_free_at = window_limit(
                SmsCode.objects.filter(client_ip=client_ip),
                window=dt.timedelta(hours=1),
                limit=limits.per_ip_hour,
                now=now,
            )
            if ip_free_at is not None:
                seconds = seconds_until(ip_free_at, now)
                raise RateLimited(
                    Code.SMS_CODE_RATE_LIMITED_IP,
                    _("Too many codes were requested from your network. Try again in %(minutes)s minutes.")
                    % {"minutes": minutes_from_seconds(seconds)},
                    retry_after_seconds=seconds,
                )
        phone_codes = SmsCode.objects.filter(phone_hash=phone_hash)
        last_sent = phone_codes.order_by("-created_at").values_list("created_at", flat=True).first()
        if last_sent is not None and now < last_sent + dt.timedelta(seconds=limits.resend_seconds):
            seconds = seconds_until(last_sent + dt.timedelta(seconds=limits.resend_seconds), now)
            raise RateLimited(
                Code.SMS_CODE_TOO_SOON,
                _("A code was just sent. You can request a new one in %(seconds)s seconds.")
                % {"seconds": seconds},
                retry_after_seconds=seconds,
            )
        for window, limit in (
            (dt.timedelta(hours=1), limits.per_phone_hour),
            (dt.timedelta(days=1), limits.per_phone_day),
        ):
            free_at = window_limit(phone_codes, window=window, limit=limit, now=now)
            if free_at is not None:
                seconds = seconds_until(free_at, now)
                raise RateLimited(
                    Code.SMS_CODE_RATE_LIMITED_PHONE,
                    _(
                        "Too many codes were requested for this phone number. "
                        "Try again in %(minutes)s minutes."
                    )
                    % {"minutes": minutes_from_seconds(seconds)},
                    retry_after_seconds=seconds,
                )
        # Only the newest code counts: older ones die when a new one is issued.
        phone_codes.filter(purpose=purpose, consumed_at__isnull=True, invalidated_at__isnull=True).update(
            invalidated_at=now
        )
        salt = secrets.token_hex(16)
        expires_at = now + dt.timedelta(seconds=limits.ttl_seconds)
        SmsCode.objects.create(
            phone_hash=phone_hash,
            purpose=purpose,
            salt=salt,
            code_hash=_code_hash(salt, code),
            client_ip=client_ip or None,
            created_at=now,
            expires_at=expires_at,
        )
        minutes = limits.ttl_seconds // 60
        send_sms_on_commit(
            phone=phone,
            text=_(
                "[Road Transport Administration] Your login code is %(code)s, valid for %(minutes)s "
                "minutes. Never tell it to anyone, including our staff."
            )
            % {"code": code, "minutes": minutes},
            template="login_code",
            params={"code": code, "minutes": minutes},
        )
    return SmsCodeIssued(
        masked_phone=mask_phone(phone),
        expires_at=expires_at,
        expires_in_seconds=limits.ttl_seconds,
        resend_in_seconds=limits.resend_seconds,
    )


@dataclass(frozen=True)
class LoginResult:
    user: User
    created: bool


def _not_requested() -> ValidationFailed:
    return ValidationFailed.single(
        field="code",
        code=Code.SMS_CODE_NOT_REQUESTED,
        message=_("There is no valid code for this phone number; please request a new one."),
    )


def _check_code(row: SmsCode | None, *, code: str, limits: SmsLimits, now: dt.datetime) -> DomainError | None:
    """The error for this attempt (after recording it on the row), or None if the code is right."""
    if row is None:
        return _not_requested()
    matches = hmac.compare_digest(row.code_hash, _code_hash(row.salt, code))
    if row.consumed_at is not None:
        if matches:
            return ValidationFailed.single(
                field="code",
                code=Code.SMS_CODE_USED,
                message=_("This code has already been used; please request a new one."),
            )
        return _not_requested()
    if row.invalidated_at is not None:
        return _not_requested()
    if now >= row.expires_at:
        return ValidationFailed.single(
            field="code",
            code=Code.SMS_CODE_EXPIRED,
            message=_("The code has expired; please request a new one."),
        )
    if matches:
        row.consumed_at = now
        row.save(update_fields=["consumed_at"])
        return None
    row.attempts += 1
    if row.attempts >= limits.max_attempts:
        # Wrong codes end the code, never the phone: whoever guesses from elsewhere must not be
        # able to lock the phone's owner out of login. The owner requests a new code (the
        # per-phone and per-address sending limits still bound guessing).
        row.invalidated_at = now
        row.save(update_fields=["attempts", "invalidated_at"])
        record_audit(
            actor=Actor.system("sms-login"),
            action="sms_code.exhausted",
            target_type="sms_code",
            target_id=row.pk,
            after={"attempts": row.attempts, "client_ip": row.client_ip},
        )
        return ValidationFailed.single(
            field="code",
            code=Code.SMS_CODE_EXHAUSTED,
            message=_("Too many wrong codes: this code no longer works. Request a new one."),
        )
    row.save(update_fields=["attempts"])
    left = limits.max_attempts - row.attempts
    return ValidationFailed.single(
        field="code",
        code=Code.SMS_CODE_WRONG,
        message=_("The code is wrong. %(left)s attempts left.") % {"left": left},
        attempts_left=left,
    )


def _record_policy_acceptance(*, user: User, client_ip: str | None, now: dt.datetime) -> list[str]:
    accepted = []
    for document, version in CURRENT_VERSIONS.items():
        _acceptance, created = PolicyAcceptance.objects.get_or_create(
            user=user,
            document=document,
            version=version,
            defaults={"accepted_at": now, "client_ip": client_ip or None},
        )
        if created:
            accepted.append(f"{document}@{version}")
    return accepted


def sms_login(
    *,
    phone: str,
    code: str,
    client_ip: str | None,
    agreed: bool,
    now: dt.datetime | None = None,
) -> LoginResult:
    """Check a login code; the first successful login creates the account, later ones find it.

    A wrong attempt is recorded (committed) before the error is raised; the fifth one kills the code
    and locks the phone. The code row is locked (SELECT ... FOR UPDATE), so two concurrent requests
    with the right code cannot both log in.
    """
    now = now_or(now)
    phone = validate_mobile(phone, field="phone")
    _require_agreement(agreed)
    code = code.strip()
    if not re.fullmatch(rf"\d{{{SMS_CODE_LENGTH}}}", code):
        raise ValidationFailed.single(
            field="code",
            code=Code.SMS_CODE_FORMAT,
            message=_("The code is %(length)s digits.") % {"length": SMS_CODE_LENGTH},
        )
    limits = sms_limits()
    phone_hash = lookup_hash(phone)
    error: DomainError | None = None
    result: LoginResult | None = None
    with transaction.atomic():
        advisory_xact_lock(_SMS_LOCK_NAMESPACE, phone_hash)
        locked_until = _active_lock(phone_hash, now)
        if locked_until is not None:
            raise _phone_lock_error(locked_until, now)
        row = (
            SmsCode.objects.select_for_update()
            .filter(phone_hash=phone_hash, purpose=SmsCode.Purpose.LOGIN)
            .order_by("-created_at", "-pk")
            .first()
        )
        error = _check_code(row, code=code, limits=limits, now=now)
        if error is None:
            outcome = _login_or_register(phone=phone, phone_hash=phone_hash, client_ip=client_ip, now=now)
            if isinstance(outcome, DomainError):
                error = outcome
            else:
                result = outcome
    if error is not None:
        raise error  # after the commit: the attempt counter and lock are saved
    if result is None:  # unreachable: no error means a result
        raise RuntimeError("sms_login ended without a result")
    return result


def _login_or_register(
    *, phone: str, phone_hash: str, client_ip: str | None, now: dt.datetime
) -> LoginResult | DomainError:
    user = User.objects.select_for_update().filter(phone_hash=phone_hash).first()
    created = user is None
    if user is None:
        user = User(
            username=f"u{secrets.token_hex(8)}",  # never the phone number
            kind=User.Kind.PUBLIC,
            phone=phone,
            phone_hash=phone_hash,
            date_joined=now,
        )
        user.set_unusable_password()
        user.save()
    elif not user.is_active or user.kind != User.Kind.PUBLIC:
        # Staff log in with password + TOTP only: an SMS code must never bypass the second factor.
        return PermissionDenied(
            Code.SMS_LOGIN_NOT_ALLOWED,
            _("This account cannot log in with an SMS code."),
        )
    accepted = _record_policy_acceptance(user=user, client_ip=client_ip, now=now)
    user.last_login = now
    user.save(update_fields=["last_login"])
    record_audit(
        actor=Actor.for_user(user),
        action="user.register" if created else "user.login",
        target_type="user",
        target_id=user.pk,
        after={"method": "sms", "client_ip": client_ip, "accepted_policies": accepted},
    )
    return LoginResult(user=user, created=created)


def sms_code_purge(*, now: dt.datetime | None = None, older_than: dt.timedelta = dt.timedelta(days=2)) -> int:
    """Delete code rows (with their IP addresses) once no limit looks back that far."""
    now = now_or(now)
    with transaction.atomic():
        deleted, _details = (
            SmsCode.objects.filter(created_at__lt=now - older_than).exclude(locked_until__gt=now).delete()
        )
    return deleted
