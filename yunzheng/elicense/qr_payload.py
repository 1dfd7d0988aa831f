"""The one definition of what an electronic licence's QR code carries. Pure Python: no Django.

Used by the signing service (`yunzheng.elicense.services`), the online verification and the
offline verifier (`yunzheng.elicense.verifier`), so a format change happens here or nowhere.

Wire format, version 1 (see docs/adr/0010-elicense-signed-qr-payload.md):

    YZ1:<BASE32(body || signature)>

* body: a MessagePack array (msgspec, `Claims` below, field order fixed):
  [v, kid, lid, typ, ver, iss, nbf, exp, iat, ess]
* signature: SM3withSM2 over the exact body bytes (default distinguishing id 1234567812345678),
  raw r || s, 64 bytes; the last 64 bytes of the decoded data.
* BASE32: RFC 4648 alphabet (A-Z, 2-7), no padding. Every character of "YZ1:" plus base32 is in
  the QR alphanumeric set, so the QR encodes it at 5.5 bits a character (base64 would need byte
  mode, 8 bits), and it is URL-safe, so the same text can follow an upper-case link
  ("HTTPS://HOST/V/YZ1:...") that a phone camera opens for the online check.

A scanned text may be the bare payload or any URL ending in "/YZ1:..."; `extract_payload` finds it.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Final

import msgspec

PREFIX: Final = "YZ1:"
FORMAT_VERSION: Final = 1
SIGNATURE_BYTES: Final = 64
# A QR code (version 40, level M) holds at most 3391 alphanumeric characters; anything longer is
# not a scanned payload, and refusing it early bounds the work a hostile input can cause.
MAX_TEXT_LENGTH: Final = 3400

_PAYLOAD_IN_TEXT = re.compile(r"(?:^|/)(YZ1:[A-Za-z2-7]+=*)/?$")


class PayloadError(ValueError):
    """The text is not a well-formed payload. `code` is a stable reason code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# Licence type codes in the QR (2 letters) and the licence types they stand for.
TYPE_CODES: Final[dict[str, str]] = {
    "practitioner_qualification": "QC",  # 从业资格证
    "credit_voucher": "CV",  # 信用评价凭证
    "ridehail_operating_licence": "RL",  # 网络预约出租汽车经营许可证
    "vehicle_transport_certificate": "VT",  # 道路运输证
    "traffic_pass": "TP",  # 电子通行证
    "ridehail_capability_determination": "RC",  # 网约车线上服务能力认定结果
}
TYPES_BY_CODE: Final[dict[str, str]] = {code: name for name, code in TYPE_CODES.items()}

# Short keys of `ess` (the essentials shown to a verifier), with the licence `data` key each comes
# from. "n" (holder, masked for persons) is added by the signer, not taken from data.
ESSENTIAL_KEYS: Final[dict[str, str]] = {
    "n": "holder",
    "no": "certificate_number",
    "p": "plate",
    "pc": "plate_colour",
    "pt": "pass_type",
    "s": "sections",
    "t": "times",
    "c": "categories",
    "g": "grade",
    "sc": "scope",
}
DATA_KEY_TO_ESSENTIAL: Final[dict[str, str]] = {v: k for k, v in ESSENTIAL_KEYS.items() if k != "n"}

EssentialValue = str | list[str]


class Claims(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    """What the issuing province signs. Dates are YYYYMMDD integers (compact and readable)."""

    v: int  # format version, 1
    kid: str  # signing key id, e.g. "330000-1a2b3c4d"
    lid: str  # licence public identifier, e.g. "33-TP-2026-000123"
    typ: str  # licence type code (TYPE_CODES)
    ver: int  # licence version: increases with every change
    iss: str  # issuing region, GB/T 2260 (6 digits)
    nbf: int  # valid from (inclusive), YYYYMMDD
    exp: int  # valid until (inclusive), YYYYMMDD
    iat: int  # the day this payload was signed, YYYYMMDD
    ess: dict[str, EssentialValue]  # essentials for display (ESSENTIAL_KEYS)

    @property
    def licence_type(self) -> str:
        return TYPES_BY_CODE.get(self.typ, "")

    @property
    def valid_from(self) -> dt.date:
        return int_to_date(self.nbf)

    @property
    def valid_until(self) -> dt.date:
        return int_to_date(self.exp)

    @property
    def signed_on(self) -> dt.date:
        return int_to_date(self.iat)

    @property
    def issuer_province(self) -> str:
        return self.iss[:2] + "0000"


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(Claims)


def date_to_int(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def int_to_date(value: int) -> dt.date:
    try:
        return dt.date(value // 10000, value // 100 % 100, value % 100)
    except ValueError:
        raise PayloadError("payload.malformed", f"{value} is not a YYYYMMDD date") from None


def province_of(region_code: str) -> str:
    """GB/T 2260: the province of any region code is its first two digits followed by 0000."""
    return region_code[:2] + "0000"


def encode_claims(claims: Claims) -> bytes:
    """The exact bytes that are signed. `ess` keys are sorted so equal claims give equal bytes."""
    canonical = msgspec.structs.replace(claims, ess=dict(sorted(claims.ess.items())))
    return _ENCODER.encode(canonical)


def decode_claims(body: bytes) -> Claims:
    try:
        claims = _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise PayloadError("payload.malformed", f"the signed part does not decode: {error}") from None
    _check_claims(claims)
    return claims


_KID = re.compile(r"\d{6}-[0-9a-f]{8,64}")
_REGION = re.compile(r"\d{6}")


def _check_claims(claims: Claims) -> None:
    if claims.v != FORMAT_VERSION:
        raise PayloadError("payload.unsupported_version", f"format version {claims.v} is not supported")
    if not _KID.fullmatch(claims.kid):
        raise PayloadError("payload.malformed", "the key id is malformed")
    if claims.typ not in TYPES_BY_CODE or not _REGION.fullmatch(claims.iss) or claims.ver < 1:
        raise PayloadError("payload.malformed", "type, issuer or version is malformed")
    for value in (claims.nbf, claims.exp, claims.iat):
        int_to_date(value)


def assemble(body: bytes, signature: bytes) -> str:
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError("an SM2 signature is 64 bytes (r || s)")
    return PREFIX + base64.b32encode(body + signature).decode("ascii").rstrip("=")


def extract_payload(text: str) -> str:
    """The "YZ1:..." part of a scanned text (bare, or at the end of a verification link)."""
    text = (text or "").strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise PayloadError("payload.too_long", "the text is longer than any QR payload")
    match = _PAYLOAD_IN_TEXT.search(text)
    if match is None:
        raise PayloadError("payload.malformed", "no YZ1: payload found")
    return match.group(1)


def split(text: str) -> tuple[bytes, bytes]:
    """(body, signature) of a scanned text; raises PayloadError if it cannot be a payload."""
    payload = extract_payload(text)
    encoded = payload[len(PREFIX) :].rstrip("=").upper()
    try:
        raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except ValueError:
        raise PayloadError("payload.malformed", "the payload is not base32") from None
    if len(raw) <= SIGNATURE_BYTES:
        raise PayloadError("payload.malformed", "the payload is too short")
    return raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]


def parse(text: str) -> tuple[Claims, bytes, bytes]:
    """(claims, body, signature). Decoding is not verification: check the signature before trusting."""
    body, signature = split(text)
    return decode_claims(body), body, signature


def verification_link(base_url: str, payload: str) -> str:
    """The text to put in the QR: a link a phone camera opens for the online check, or the bare
    payload when no public base URL is known. Scheme and host are case-insensitive, so they are
    upper-cased: with an upper-case path the whole link stays in the QR alphanumeric mode."""
    if not base_url:
        return payload
    scheme, sep, rest = base_url.rstrip("/").partition("://")
    if not sep:
        return payload
    host, slash, path = rest.partition("/")
    return f"{scheme.upper()}://{host.upper()}{slash}{path}/V/{payload}"
