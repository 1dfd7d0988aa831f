"""Signing keys and the trust list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.crypto import (
    generate_sm2_keypair,
    sm2_sign,
    sm3_hex,
)
from yunzheng.core.errors import (
    Conflict,
    NotFound,
    ValidationFailed,
)
from yunzheng.core.ids import region_code_exists
from yunzheng.elicense import verifier
from yunzheng.elicense.conf import app_settings
from yunzheng.elicense.error_codes import ElicenseErrorCode as Code
from yunzheng.elicense.models import (
    ElectronicLicence,
    LicenceStatus,
    SigningKey,
)
from yunzheng.elicense.services._common import _REGION, ROOT_PROVINCE

# --------------------------------------------------------------------------------------------
# Signing keys and the trust list
# --------------------------------------------------------------------------------------------


def _validate_province(province: str, *, purpose: str) -> str:
    province = (province or "").strip()
    if purpose == SigningKey.Purpose.TRUST_LIST:
        if province != ROOT_PROVINCE:
            raise ValidationFailed.single(
                field="province",
                code=Code.PROVINCE_INVALID,
                message=_("The trust-list key belongs to the ministry (000000)."),
            )
        return province
    if not (_REGION.fullmatch(province) and province.endswith("0000") and region_code_exists(province)):
        raise ValidationFailed.single(
            field="province",
            code=Code.PROVINCE_INVALID,
            message=_("Enter the GB/T 2260 code of a province, e.g. 330000."),
        )
    return province


def _new_key(*, province: str, purpose: str, now: dt.datetime) -> SigningKey:
    signing_days = int(app_settings.ELICENSE_KEY_SIGNING_DAYS)
    grace_days = int(app_settings.ELICENSE_KEY_VERIFY_GRACE_DAYS)
    while True:
        pair = generate_sm2_keypair()
        fingerprint = sm3_hex(bytes.fromhex(pair.public_key_hex))
        kid = f"{province}-{fingerprint[:8]}"
        # A clash of the short id (1 in 4 billion per province) is never resolved by picking one of
        # two keys: the new key is discarded and another generated.
        if not SigningKey.objects.filter(Q(kid=kid) | Q(fingerprint=fingerprint)).exists():
            break
    valid_until = now + dt.timedelta(days=signing_days)
    return SigningKey.objects.create(
        kid=kid,
        province=province,
        purpose=purpose,
        public_key_hex=pair.public_key_hex,
        fingerprint=fingerprint,
        private_key=pair.private_key_hex,
        status=SigningKey.Status.ACTIVE,
        valid_from=now,
        valid_until=valid_until,
        verify_until=valid_until + dt.timedelta(days=grace_days),
        created_at=now,
    )


def _key_audit(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "province": key.province,
        "purpose": key.purpose,
        "status": key.status,
        "valid_until": key.valid_until,
        "verify_until": key.verify_until,
    }


def signing_key_create(
    *, province: str, actor: Actor, purpose: str = SigningKey.Purpose.LICENCE, now: dt.datetime | None = None
) -> SigningKey:
    """The first key of a province. A province that has an active key rotates instead."""
    province = _validate_province(province, purpose=purpose)
    now = now_or(now)
    with transaction.atomic():
        if (
            SigningKey.objects.select_for_update()
            .filter(province=province, purpose=purpose, status="active")
            .exists()
        ):
            raise Conflict(
                Code.SIGNING_KEY_EXISTS, _("This province already has an active key; rotate it instead.")
            )
        key = _new_key(province=province, purpose=purpose, now=now)
        record_audit(
            actor=actor,
            action="elicense.key.create",
            target_type="signing_key",
            target_id=key.kid,
            after=_key_audit(key),
        )
    return key


def signing_key_rotate(
    *, province: str, actor: Actor, purpose: str = SigningKey.Purpose.LICENCE, now: dt.datetime | None = None
) -> SigningKey:
    """Stop signing with the province's current key and start a new one.

    The old key stays in the trust list and keeps verifying what it signed until its
    `verify_until`; from now on it signs nothing (a payload it signs later is refused).
    """
    province = _validate_province(province, purpose=purpose)
    now = now_or(now)
    with transaction.atomic():
        old = (
            SigningKey.objects.select_for_update()
            .filter(province=province, purpose=purpose, status="active")
            .first()
        )
        if old is not None:
            old.status = SigningKey.Status.RETIRED
            old.retired_at = now
            old.valid_until = max(old.valid_from, now)
            old.save(update_fields=["status", "retired_at", "valid_until"])
        key = _new_key(province=province, purpose=purpose, now=now)
        record_audit(
            actor=actor,
            action="elicense.key.rotate",
            target_type="signing_key",
            target_id=key.kid,
            before=_key_audit(old) if old else None,
            after=_key_audit(key),
        )
    return key


def signing_key_mark_compromised(
    *, kid: str, actor: Actor, reason: str, now: dt.datetime | None = None
) -> SigningKey:
    """Refuse everything the key ever signed, at once (online) and from the next trust list
    (offline). If it was the active key, a replacement is created in the same transaction."""
    if not reason.strip():
        raise ValidationFailed.single(field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason."))
    now = now_or(now)
    with transaction.atomic():
        key = SigningKey.objects.select_for_update().filter(kid=kid).first()
        if key is None:
            raise NotFound(Code.SIGNING_KEY_NOT_FOUND, _("No such signing key."))
        was_active = key.status == SigningKey.Status.ACTIVE
        before = _key_audit(key)
        key.status = SigningKey.Status.COMPROMISED
        key.compromised_at = now
        key.valid_until = min(key.valid_until, max(key.valid_from, now))
        key.save(update_fields=["status", "compromised_at", "valid_until"])
        if was_active:
            _new_key(province=key.province, purpose=key.purpose, now=now)
        record_audit(
            actor=actor,
            action="elicense.key.compromised",
            target_type="signing_key",
            target_id=kid,
            before=before,
            after=_key_audit(key),
            reason=reason,
        )
    return key


def root_key() -> SigningKey:
    """The ministry's trust-list key, created on first use (the demo and the tests need one; in
    production the operator creates it with `manage.py elicense_keys create --root`)."""
    key = SigningKey.objects.filter(purpose=SigningKey.Purpose.TRUST_LIST, status="active").first()
    if key is not None:
        return key
    return signing_key_create(
        province=ROOT_PROVINCE, purpose=SigningKey.Purpose.TRUST_LIST, actor=Actor.system("elicense")
    )


def trusted_key(key: SigningKey) -> verifier.TrustedKey:
    return verifier.TrustedKey(
        kid=key.kid,
        province=key.province,
        public_key_hex=key.public_key_hex,
        valid_from=key.valid_from,
        valid_until=key.valid_until,
        verify_until=key.verify_until,
        status=key.status,
        purpose=key.purpose,
    )


def trust_list_issue(*, now: dt.datetime | None = None) -> dict[str, str]:
    """The signed trust list verifiers download: every licence key that still verifies (and every
    compromised one, so verifiers can say why), plus licences revoked or suspended before expiry."""
    now = now_or(now)
    signer = root_key()
    keys = SigningKey.objects.filter(purpose=SigningKey.Purpose.LICENCE).filter(
        Q(verify_until__gt=now) | Q(status=SigningKey.Status.COMPROMISED)
    )
    revoked = dict(
        ElectronicLicence.objects.filter(
            status__in=[LicenceStatus.REVOKED, LicenceStatus.SUSPENDED], valid_until__gte=today_in_china(now)
        ).values_list("lid", "status")
    )
    content = verifier.trust_list_content(
        issued_at=now,
        next_update=now + dt.timedelta(hours=int(app_settings.ELICENSE_TRUST_LIST_TTL_HOURS)),
        signer_kid=signer.kid,
        keys=[trusted_key(key) for key in keys.order_by("province", "valid_from")],
        revoked=revoked,
    )
    return verifier.trust_list_document(
        content=content, signature=sm2_sign(signer.private_key, content, public_key_hex=signer.public_key_hex)
    )
