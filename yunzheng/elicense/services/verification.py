"""Online verification (rate-limited, logged)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.crypto import (
    lookup_hash,
)
from yunzheng.core.errors import (
    RateLimited,
)
from yunzheng.core.locks import advisory_xact_lock
from yunzheng.core.ratelimit import seconds_until, window_limit
from yunzheng.elicense import verifier
from yunzheng.elicense.conf import app_settings
from yunzheng.elicense.error_codes import ElicenseErrorCode as Code
from yunzheng.elicense.models import (
    ElectronicLicence,
    LicenceStatus,
    SigningKey,
    VerificationAttempt,
)
from yunzheng.elicense.qr_payload import Claims
from yunzheng.elicense.services.keys import trusted_key

# --------------------------------------------------------------------------------------------
# Online verification (rate-limited, logged)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerificationOutcome:
    result: str
    reason_code: str
    claims: Claims | None
    licence: ElectronicLicence | None

    @property
    def is_valid(self) -> bool:
        return self.result == verifier.VALID


def client_ip_hash(ip: str | None) -> str:
    return lookup_hash(f"ip:{ip or 'unknown'}")


def _rate_limited(*, ip_hash: str, channel: str, now: dt.datetime) -> RateLimited | None:
    """The error to raise (after the transaction commits the logged refusal), or None."""
    limit = int(app_settings.ELICENSE_VERIFY_RATE_LIMIT)
    window = dt.timedelta(seconds=int(app_settings.ELICENSE_VERIFY_RATE_WINDOW_SECONDS))
    # Serialise one client's attempts so two parallel requests cannot both take the last slot.
    advisory_xact_lock(0x454C4943, ip_hash)  # "ELIC"
    free_at = window_limit(
        VerificationAttempt.objects.filter(ip_hash=ip_hash, counted=True),
        window=window,
        limit=limit,
        now=now,
        field="at",
    )
    if free_at is None:
        return None
    retry_after = seconds_until(free_at, now)
    VerificationAttempt.objects.create(
        at=now,
        ip_hash=ip_hash,
        channel=channel,
        result="rate_limited",
        reason_code=Code.VERIFY_RATE_LIMITED,
        counted=False,
    )
    return RateLimited(
        Code.VERIFY_RATE_LIMITED,
        _("Too many verification attempts. Try again in %(seconds)s seconds.") % {"seconds": retry_after},
        retry_after_seconds=retry_after,
    )


def _lookup_key(kid: str) -> verifier.TrustedKey | None:
    key = SigningKey.objects.filter(kid=kid).first()
    return trusted_key(key) if key is not None else None


def _live_verdict(
    genuine: verifier.Verdict, *, now: dt.datetime
) -> tuple[str, str, ElectronicLicence | None]:
    claims = genuine.claims
    if claims is None:
        return verifier.NOT_GENUINE, genuine.reason_code, None
    licence = ElectronicLicence.objects.filter(lid=claims.lid).first()
    if (
        licence is None
        or licence.licence_type != claims.licence_type
        or licence.issuer_region != claims.iss
        or claims.ver > licence.version
    ):
        # Signed by a trusted key yet unknown to the registry: never "valid".
        return verifier.NOT_GENUINE, "licence.unknown", None
    today = today_in_china(now)
    if licence.status == LicenceStatus.REVOKED:
        return verifier.REVOKED, "licence.revoked", licence
    if licence.status == LicenceStatus.SUSPENDED:
        return verifier.SUSPENDED, "licence.suspended", licence
    if licence.status == LicenceStatus.EXPIRED or licence.valid_until < today:
        return verifier.EXPIRED, "licence.expired", licence
    dated = verifier.validity_verdict(genuine, today=today)
    if not dated.is_valid:
        return dated.result, dated.reason_code, licence
    if licence.valid_from > today:
        return verifier.NOT_YET_VALID, "licence.not_yet_valid", licence
    if claims.ver < licence.version:
        return verifier.SUPERSEDED, "licence.superseded", licence
    return verifier.VALID, "licence.valid", licence


def verification_verify(
    *,
    text: str,
    client_ip: str | None,
    channel: str = VerificationAttempt.Channel.API,
    now: dt.datetime | None = None,
) -> VerificationOutcome:
    """Verify a scanned text: signature, key id and key validity first (the same code as the
    offline verifier), then the live status from the database (never cached). Every attempt is
    logged; more than ELICENSE_VERIFY_RATE_LIMIT per window from one client IP are refused."""
    now = now_or(now)
    ip_hash = client_ip_hash(client_ip)
    with transaction.atomic():
        refusal = _rate_limited(ip_hash=ip_hash, channel=channel, now=now)
        outcome = (
            None if refusal is not None else _verify_and_log(text, ip_hash=ip_hash, channel=channel, now=now)
        )
    if refusal is not None or outcome is None:
        raise refusal or RuntimeError("unreachable")
    return outcome


def _verify_and_log(text: str, *, ip_hash: str, channel: str, now: dt.datetime) -> VerificationOutcome:
    genuine = verifier.verify_signature(text, key_lookup=_lookup_key, now=now)
    licence: ElectronicLicence | None = None
    if genuine.is_valid:
        result, reason_code, licence = _live_verdict(genuine, now=now)
    else:
        result, reason_code = genuine.result, genuine.reason_code
    claims = genuine.claims if result != verifier.NOT_GENUINE else None
    VerificationAttempt.objects.create(
        at=now,
        ip_hash=ip_hash,
        channel=channel,
        result=result,
        reason_code=reason_code,
        lid=(licence.lid if licence else "")[:32],
        kid=(genuine.claims.kid if genuine.claims else "")[:80],
    )
    return VerificationOutcome(result=result, reason_code=reason_code, claims=claims, licence=licence)
