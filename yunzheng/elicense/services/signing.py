"""Signing QR payloads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.crypto import (
    sm2_sign,
)
from yunzheng.core.errors import (
    Conflict,
)
from yunzheng.elicense import qr_payload
from yunzheng.elicense.error_codes import ElicenseErrorCode as Code
from yunzheng.elicense.models import (
    ElectronicLicence,
    LicenceStatus,
    SigningKey,
)
from yunzheng.elicense.qr_payload import Claims, EssentialValue

# --------------------------------------------------------------------------------------------
# Signing QR payloads
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedPayload:
    text: str  # "YZ1:..."
    claims: Claims
    kid: str

    def qr_text(self, base_url: str) -> str:
        return qr_payload.verification_link(base_url, self.text)


def licence_essentials(licence: ElectronicLicence) -> dict[str, EssentialValue]:
    """What a verifier sees without consent: holder masked (persons), plate, sections, ..."""
    essentials: dict[str, EssentialValue] = {"n": licence.holder_display}
    for data_key, short in qr_payload.DATA_KEY_TO_ESSENTIAL.items():
        value = licence.data.get(data_key)
        if isinstance(value, str) and value:
            essentials[short] = value
        elif isinstance(value, list) and value:
            essentials[short] = [str(item) for item in value]
    return essentials


def active_signing_key(province: str) -> SigningKey:
    key = SigningKey.objects.filter(
        province=province, purpose=SigningKey.Purpose.LICENCE, status="active"
    ).first()
    if key is None:
        raise Conflict(
            Code.NO_SIGNING_KEY,
            _("Province %(province)s has no signing key; create one with manage.py elicense_keys create.")
            % {"province": province},
        )
    return key


def licence_sign(*, licence: ElectronicLicence, now: dt.datetime | None = None) -> SignedPayload:
    """Sign the licence's current version with its issuing province's active key, for a QR code.

    Works for any licence type (the One-Network Office signs credit vouchers through this after
    `licence_sync`). Only usable licences get a fresh QR: revoked, suspended or expired ones not.
    """
    now = now_or(now)
    if licence.status != LicenceStatus.VALID or licence.valid_until < today_in_china(now):
        raise Conflict(
            Code.LICENCE_NOT_USABLE,
            _("This licence is %(status)s, so no QR code is issued for it.")
            % {"status": licence.get_status_display()},
        )
    key = active_signing_key(licence.issuer_province)
    if not key.valid_from <= now < key.valid_until:
        raise Conflict(
            Code.NO_SIGNING_KEY,
            _("The signing key of province %(province)s has expired; rotate it.")
            % {"province": key.province},
        )
    claims = Claims(
        v=qr_payload.FORMAT_VERSION,
        kid=key.kid,
        lid=licence.lid,
        typ=qr_payload.TYPE_CODES[licence.licence_type],
        ver=licence.version,
        iss=licence.issuer_region,
        nbf=qr_payload.date_to_int(licence.valid_from),
        exp=qr_payload.date_to_int(licence.valid_until),
        iat=qr_payload.date_to_int(today_in_china(now)),
        ess=licence_essentials(licence),
    )
    body = qr_payload.encode_claims(claims)
    text = qr_payload.assemble(body, sm2_sign(key.private_key, body, public_key_hex=key.public_key_hex))
    return SignedPayload(text=text, claims=claims, kid=key.kid)
