"""Offline verification of electronic-licence QR payloads against a downloaded trust list.

No Django (gmssl_pyx, cryptography, msgspec), so a roadside app, a partner province or a script
can use it without the platform. SM2 verification runs in C through gmssl_pyx (GmSSL) when it is
installed (about 1,800 checks/s on one core) and falls back to the pure-Python gmssl (about 70/s)
where it is not, so the verifier still runs on a machine without the C library. The online check
(`yunzheng.elicense.services`) runs the same `verify_payload` with keys read from the database,
then adds the live licence status.

    python -m yunzheng.elicense.verifier --trust-list trust.json --root-key root.pem PAYLOAD

prints a JSON verdict and exits 0 when the licence is valid, 1 otherwise (2 for bad arguments).

What is checked, in order (lessons of the EU digital COVID certificate):
1. the trust list: signed by the ministry root key the verifier was given out of band, not stale
   (now < next_update; a stale list is refused rather than trusted), no duplicate key ids;
2. the payload: well-formed, its key id in the trust list, the key meant for licences, of the
   licence's issuing province, not compromised, not past `verify_until`, and signing date within
   the key's signing period;
3. the SM2 signature over the exact signed bytes;
4. the licence: on the list's revocation list? within its validity dates?

Why SM2 verification is re-implemented here instead of importing `yunzheng.core.crypto`: that module
reads Django settings (field encryption) at import time, and the verifier must not need Django.
The checks are the same: r and s are range-checked and the point is checked to be on the curve
for both paths; the pure-Python fallback also sets the public key after construction (gmssl's
`lstrip("04")` corrupts keys whose x starts with 0 or 4).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from gmssl import sm2

try:  # the C path; the verifier must also run where only pure-Python packages can be installed
    import gmssl_pyx
except ImportError:  # pragma: no cover - exercised by a subprocess test that hides gmssl_pyx
    gmssl_pyx = None

from yunzheng.elicense import qr_payload
from yunzheng.elicense.qr_payload import Claims, PayloadError

TRUST_LIST_FORMAT: Final = "yunzheng.elicense.trust-list/1"

# Verdict results, from the verifier's point of view.
VALID: Final = "valid"
NOT_YET_VALID: Final = "not_yet_valid"
EXPIRED: Final = "expired"
SUSPENDED: Final = "suspended"
REVOKED: Final = "revoked"
SUPERSEDED: Final = "superseded"  # online only: a newer version of the licence exists
NOT_GENUINE: Final = "not_genuine"

KEY_PURPOSE_LICENCE: Final = "licence"
# Dates in payloads (validity, signing day) are calendar days in China Standard Time.
CHINA_STANDARD_TIME: Final = dt.timezone(dt.timedelta(hours=8), "CST")
KEY_STATUS_COMPROMISED: Final = "compromised"

# --------------------------------------------------------------------------------------------
# SM2 verification (GB/T 32918.2) over gmssl, with its gaps filled
# --------------------------------------------------------------------------------------------

_CURVE = sm2.default_ecc_table
_N = int(_CURVE["n"], 16)
_P = int(_CURVE["p"], 16)
_A = int(_CURVE["a"], 16)
_B = int(_CURVE["b"], 16)
_HEX_128 = re.compile(r"(?:04)?([0-9a-fA-F]{128})")
# SubjectPublicKeyInfo prefix of a named-curve SM2 key (id-ecPublicKey, sm2p256v1), then 04 || x || y.
_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")


def public_key_point(public_key_hex: str) -> str | None:
    """x || y (128 lower-case hex) if the key is a valid point on the SM2 curve, else None."""
    match = _HEX_128.fullmatch(public_key_hex or "")
    if match is None:
        return None
    point = match.group(1).lower()
    x, y = int(point[:64], 16), int(point[64:], 16)
    if x >= _P or y >= _P or (y * y - (x * x * x + _A * x + _B)) % _P != 0:
        return None
    return point


# a || b || xG || yG and the default signer id, for the Z value (GB/T 32918.2 §5.5).
_Z_PREFIX = (
    (128).to_bytes(2, "big")
    + b"1234567812345678"
    + bytes.fromhex(_CURVE["a"])
    + bytes.fromhex(_CURVE["b"])
    + bytes.fromhex(_CURVE["g"])
)


def sm2_verify(public_key_hex: str, data: bytes, signature: bytes) -> bool:
    """Raw r || s SM3withSM2 signature check; False (never an exception) for any malformed input."""
    point = public_key_point(public_key_hex)
    if point is None or len(signature) != 64:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (1 <= r < _N and 1 <= s < _N):
        return False
    if gmssl_pyx is None:
        return sm2_verify_pure_python(point, data, signature)
    return _sm2_verify_c(point, data, r, s)


def _sm2_verify_c(point: str, data: bytes, r: int, s: int) -> bool:
    assert gmssl_pyx is not None  # noqa: S101 - the caller chose this path
    public_key = bytes.fromhex(point)
    digest = gmssl_pyx.sm3_hash(gmssl_pyx.sm3_hash(_Z_PREFIX + public_key) + data)
    try:
        return bool(gmssl_pyx.sm2_verify_sm3_digest(public_key, digest, encode_dss_signature(r, s)))
    except gmssl_pyx.GmsslInnerError:  # e.g. a signature that leads to the point at infinity
        return False


def sm2_verify_pure_python(point: str, data: bytes, signature: bytes) -> bool:
    """The fallback when gmssl_pyx is missing: gmssl, for a validated point and in-range r and s."""
    verifier = sm2.CryptSM2(private_key="", public_key="")
    verifier.public_key = point
    try:
        return bool(verifier.verify_with_sm3(signature.hex(), data))
    except (TypeError, ValueError, IndexError):  # point at infinity inside gmssl
        return False


def public_key_pem(public_key_hex: str) -> str:
    """SubjectPublicKeyInfo PEM, for tools such as the OpenSSL command line."""
    point = public_key_point(public_key_hex)
    if point is None:
        raise ValueError("not an SM2 public key")
    body = base64.b64encode(_SPKI_PREFIX + bytes.fromhex(point)).decode("ascii")
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN PUBLIC KEY-----\n{lines}\n-----END PUBLIC KEY-----\n"


def public_key_from_pem(pem: str) -> str:
    """x || y hex of an SM2 "PUBLIC KEY" PEM (as OpenSSL writes it)."""
    body = re.fullmatch(r"\s*-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----\s*", pem)
    if body is None:
        raise ValueError("not a PUBLIC KEY PEM")
    try:
        der = base64.b64decode("".join(body.group(1).split()), validate=True)
    except binascii.Error:
        raise ValueError("not a PUBLIC KEY PEM") from None
    point = public_key_point(der[len(_SPKI_PREFIX) :].hex()) if der.startswith(_SPKI_PREFIX) else None
    if point is None or len(der) != len(_SPKI_PREFIX) + 64:
        raise ValueError("not an SM2 public key")
    return point


# --------------------------------------------------------------------------------------------
# Trust list
# --------------------------------------------------------------------------------------------


class TrustListError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    province: str  # 6 digits, e.g. "330000"
    public_key_hex: str
    valid_from: dt.datetime  # signing period start
    valid_until: dt.datetime  # signing period end (rotation ends it early)
    verify_until: dt.datetime  # signatures are accepted until then
    status: str  # active | retired | compromised
    purpose: str = KEY_PURPOSE_LICENCE

    def as_json(self) -> dict[str, str]:
        return {
            "kid": self.kid,
            "province": self.province,
            "purpose": self.purpose,
            "public_key": self.public_key_hex,
            "public_key_pem": public_key_pem(self.public_key_hex),
            "valid_from": _iso(self.valid_from),
            "valid_until": _iso(self.valid_until),
            "verify_until": _iso(self.verify_until),
            "status": self.status,
        }


@dataclass(frozen=True)
class TrustList:
    issued_at: dt.datetime
    next_update: dt.datetime
    signer_kid: str
    keys: dict[str, TrustedKey]
    # Licence ids that were revoked or suspended when the list was issued (and are not yet expired).
    revoked: dict[str, str] = field(default_factory=dict)

    def is_stale(self, now: dt.datetime) -> bool:
        return now >= self.next_update


def china_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CHINA_STANDARD_TIME).date()


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse_time(value: Any, what: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise TrustListError("trust_list.malformed", f"{what} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise TrustListError("trust_list.malformed", f"{what} has no time zone")
    return parsed


def trust_list_content(
    *,
    issued_at: dt.datetime,
    next_update: dt.datetime,
    signer_kid: str,
    keys: list[TrustedKey],
    revoked: Mapping[str, str],
) -> bytes:
    """The signed bytes of a trust list (JSON, UTF-8). The signer and the verifier agree on the
    bytes, not on a canonical form: the document carries them verbatim as a string."""
    document = {
        "format": TRUST_LIST_FORMAT,
        "issued_at": _iso(issued_at),
        "next_update": _iso(next_update),
        "signer": signer_kid,
        "keys": [key.as_json() for key in keys],
        "revoked": [{"lid": lid, "status": status} for lid, status in sorted(revoked.items())],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def trust_list_document(*, content: bytes, signature: bytes) -> dict[str, str]:
    """The downloadable form: the content as a string, with the root key's signature beside it."""
    return {
        "format": TRUST_LIST_FORMAT,
        "content": content.decode("utf-8"),
        "signature": signature.hex(),
    }


def load_trust_list(
    document: Mapping[str, Any] | str | bytes, *, root_public_key_hex: str, now: dt.datetime
) -> TrustList:
    """Check and parse a downloaded trust list. Raises TrustListError if it is not signed by the
    root key, is stale, or is inconsistent (e.g. two keys share an id)."""
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except ValueError:
            raise TrustListError("trust_list.malformed", "the trust list is not JSON") from None
    if not isinstance(document, Mapping) or document.get("format") != TRUST_LIST_FORMAT:
        raise TrustListError("trust_list.malformed", "not a yunzheng trust list")
    content_text, signature_hex = document.get("content"), document.get("signature")
    if not isinstance(content_text, str) or not isinstance(signature_hex, str):
        raise TrustListError("trust_list.malformed", "content or signature missing")
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise TrustListError("trust_list.malformed", "the signature is not hex") from None
    content = content_text.encode("utf-8")
    if not sm2_verify(root_public_key_hex, content, signature):
        raise TrustListError("trust_list.signature_invalid", "the trust list is not signed by the root key")
    try:
        data = json.loads(content)
    except ValueError:
        raise TrustListError("trust_list.malformed", "the signed content is not JSON") from None
    if not isinstance(data, dict) or data.get("format") != TRUST_LIST_FORMAT:
        raise TrustListError("trust_list.malformed", "the signed content is not a trust list")
    issued_at = _parse_time(data.get("issued_at"), "issued_at")
    next_update = _parse_time(data.get("next_update"), "next_update")
    keys: dict[str, TrustedKey] = {}
    for raw in data.get("keys") or []:
        try:
            key = TrustedKey(
                kid=str(raw["kid"]),
                province=str(raw["province"]),
                public_key_hex=str(raw["public_key"]),
                valid_from=_parse_time(raw["valid_from"], "valid_from"),
                valid_until=_parse_time(raw["valid_until"], "valid_until"),
                verify_until=_parse_time(raw["verify_until"], "verify_until"),
                status=str(raw["status"]),
                purpose=str(raw.get("purpose", KEY_PURPOSE_LICENCE)),
            )
        except (KeyError, TypeError):
            raise TrustListError("trust_list.malformed", "a key entry is incomplete") from None
        if key.kid in keys:
            # Never pick one of two keys that share an id: refuse the whole list.
            raise TrustListError("trust_list.duplicate_kid", f"key id {key.kid} appears twice")
        keys[key.kid] = key
    revoked = {str(item["lid"]): str(item["status"]) for item in data.get("revoked") or []}
    trust_list = TrustList(
        issued_at=issued_at,
        next_update=next_update,
        signer_kid=str(data.get("signer", "")),
        keys=keys,
        revoked=revoked,
    )
    if trust_list.is_stale(now):
        raise TrustListError(
            "trust_list.stale",
            f"the trust list expired at {_iso(next_update)}; download a fresh one",
        )
    if issued_at > now + dt.timedelta(minutes=5):
        raise TrustListError("trust_list.not_yet_valid", "the trust list is issued in the future")
    return trust_list


# --------------------------------------------------------------------------------------------
# Verifying a payload
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    result: str
    reason_code: str
    claims: Claims | None = None
    key: TrustedKey | None = None

    @property
    def is_valid(self) -> bool:
        return self.result == VALID

    @property
    def is_genuine(self) -> bool:
        return self.result != NOT_GENUINE

    def as_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"result": self.result, "reason_code": self.reason_code}
        if self.claims is not None and self.is_genuine:
            claims = self.claims
            answer["licence"] = {
                "id": claims.lid,
                "type": claims.licence_type,
                "version": claims.ver,
                "issuer_region": claims.iss,
                "valid_from": claims.valid_from.isoformat(),
                "valid_until": claims.valid_until.isoformat(),
                "signed_on": claims.signed_on.isoformat(),
                "essentials": {
                    qr_payload.ESSENTIAL_KEYS.get(key, key): value for key, value in claims.ess.items()
                },
            }
            answer["kid"] = claims.kid
        return answer


KeyLookup = Callable[[str], TrustedKey | None]


def _not_genuine(reason: str, claims: Claims | None = None) -> Verdict:
    return Verdict(result=NOT_GENUINE, reason_code=reason, claims=claims)


def verify_signature(text: str, *, key_lookup: KeyLookup, now: dt.datetime) -> Verdict:
    """Steps 2 and 3: is this payload genuine, signed by a key we trust for it right now?

    Returns a VALID verdict for a genuine payload (dates not yet considered), NOT_GENUINE otherwise.
    """
    try:
        claims, body, signature = qr_payload.parse(text)
    except PayloadError as error:
        return _not_genuine(error.code)
    key = key_lookup(claims.kid)
    if key is None:
        return _not_genuine("key.unknown", claims)
    if key.purpose != KEY_PURPOSE_LICENCE:
        return _not_genuine("key.wrong_purpose", claims)
    if key.province != claims.issuer_province or not claims.kid.startswith(key.province):
        # A province signs only its own licences, so a leaked key cannot forge another province's.
        return _not_genuine("key.wrong_issuer", claims)
    if key.status == KEY_STATUS_COMPROMISED:
        return _not_genuine("key.compromised", claims)
    if now >= key.verify_until:
        return _not_genuine("key.expired", claims)
    # Payloads are signed when shown, so the signing day must fall in the key's signing period: a
    # retired key that leaks cannot sign new payloads unless they are backdated (dates are in CST).
    signed_on = claims.signed_on
    if not china_date(key.valid_from) <= signed_on <= china_date(key.valid_until):
        return _not_genuine("key.not_valid_when_signed", claims)
    if signed_on > china_date(now):
        return _not_genuine("payload.signed_in_future", claims)
    if not sm2_verify(key.public_key_hex, body, signature):
        return _not_genuine("signature.invalid", claims)
    return Verdict(result=VALID, reason_code="signature.valid", claims=claims, key=key)


def validity_verdict(genuine: Verdict, *, today: dt.date) -> Verdict:
    """Step 4 (dates) for a genuine payload."""
    claims = genuine.claims
    if claims is None:
        return genuine
    if today > claims.valid_until:
        return Verdict(result=EXPIRED, reason_code="licence.expired", claims=claims, key=genuine.key)
    if today < claims.valid_from:
        return Verdict(
            result=NOT_YET_VALID, reason_code="licence.not_yet_valid", claims=claims, key=genuine.key
        )
    return genuine


def verify_payload(
    text: str, *, trust_list: TrustList, now: dt.datetime, today: dt.date | None = None
) -> Verdict:
    """Offline verdict for a scanned text; `today` defaults to the date in China at `now`."""
    genuine = verify_signature(text, key_lookup=trust_list.keys.get, now=now)
    if not genuine.is_valid or genuine.claims is None:
        return genuine
    revoked_status = trust_list.revoked.get(genuine.claims.lid)
    if revoked_status in (REVOKED, SUSPENDED):
        return Verdict(
            result=revoked_status,
            reason_code=f"licence.{revoked_status}",
            claims=genuine.claims,
            key=genuine.key,
        )
    verdict = validity_verdict(genuine, today=today or china_date(now))
    if verdict.is_valid:
        return Verdict(
            result=VALID, reason_code="licence.valid_offline", claims=verdict.claims, key=verdict.key
        )
    return verdict


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _read_root_key(value: str) -> str:
    path = Path(value)
    text = path.read_text(encoding="utf-8") if path.is_file() else value
    if "BEGIN PUBLIC KEY" in text:
        return public_key_from_pem(text)
    point = public_key_point(text.strip())
    if point is None:
        raise ValueError("the root key is neither a PEM file nor 128 hex digits of an SM2 point")
    return point


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m yunzheng.elicense.verifier",
        description="Verify an electronic-licence QR payload offline against a downloaded trust list.",
    )
    parser.add_argument(
        "--trust-list", required=True, help="trust list JSON (GET /api/v1/elicense/trust-list)"
    )
    parser.add_argument(
        "--root-key",
        required=True,
        help="the ministry root public key (PEM file, or hex), obtained out of band",
    )
    parser.add_argument("--now", help="verify as of this ISO 8601 time (default: now)")
    parser.add_argument(
        "payload", help='the scanned text ("YZ1:..." or a verification link); "-" reads stdin'
    )
    args = parser.parse_args(argv)
    now = dt.datetime.fromisoformat(args.now) if args.now else dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    text = sys.stdin.read() if args.payload == "-" else args.payload
    try:
        root_key = _read_root_key(args.root_key)
        trust_list = load_trust_list(
            Path(args.trust_list).read_bytes(), root_public_key_hex=root_key, now=now
        )
    except (OSError, ValueError) as error:
        code = getattr(error, "code", "trust_list.unusable")
        print(json.dumps({"result": "error", "reason_code": code, "message": str(error)}, ensure_ascii=False))
        return 1
    verdict = verify_payload(text, trust_list=trust_list, now=now)
    answer = verdict.as_json()
    answer["trust_list_issued_at"] = _iso(trust_list.issued_at)
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return 0 if verdict.is_valid else 1


if __name__ == "__main__":
    sys.exit(main())
