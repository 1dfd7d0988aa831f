"""National cryptography (SM2/SM3/SM4) and protection of personal data at rest, in pages and in logs.

SM2 signatures, SM3, HMAC-SM3 and SM4-GCM run in C through `gmssl_pyx` (bindings of the GmSSL
library; see docs/adr/0006-national-cryptography-in-c.md for why and the numbers). Two things stay
in Python around it: the checks GmSSL leaves to the caller (key and signature ranges, the public
point on the curve) and the SM2 Z value (GB/T 32918.2: the hash of the signer id, the curve and
the public key), which is cached per public key. Deriving a public key from a private one is the
only SM2 operation gmssl_pyx does not offer; it uses the pure-Python `gmssl` (cached per key), and
`cryptography` encodes DER signatures and keys.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import secrets
import textwrap
import unicodedata
from dataclasses import dataclass
from typing import Any

import gmssl_pyx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from gmssl import sm2

from yunzheng.core.conf import app_settings
from yunzheng.core.errors import ValidationFailed


class CryptoError(ValidationFailed):
    """Bad key, signature or ciphertext. A ValidationFailed because it is always caused by input."""


# --------------------------------------------------------------------------------------------
# SM3
# --------------------------------------------------------------------------------------------


def sm3_digest(data: bytes) -> bytes:
    return gmssl_pyx.sm3_hash(data)


def sm3_hex(data: bytes) -> str:
    return sm3_digest(data).hex()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    return gmssl_pyx.sm3_hmac(key, data)


# --------------------------------------------------------------------------------------------
# SM4-GCM
# --------------------------------------------------------------------------------------------

SM4_KEY_BYTES = 16
GCM_NONCE_BYTES = 12
GCM_TAG_BYTES = 16


def _require_sm4_key(key: bytes) -> None:
    if len(key) != SM4_KEY_BYTES:
        raise CryptoError(
            "crypto.invalid_key",
            _("An SM4 key is %(expected)s bytes; got %(actual)s.")
            % {"expected": SM4_KEY_BYTES, "actual": len(key)},
        )


def sm4_gcm_encrypt(key: bytes, plaintext: bytes, *, associated_data: bytes | None = None) -> bytes:
    """Encrypt and authenticate; returns nonce (12 bytes) || ciphertext || tag (16 bytes).

    One C call without a cipher object per value (about 3 µs for a short value against 12 µs
    for a `cryptography` Cipher context built per call).
    """
    _require_sm4_key(key)
    nonce = secrets.token_bytes(GCM_NONCE_BYTES)
    if not plaintext:  # GmSSL refuses an empty plaintext; OpenSSL computes the same (tag-only) result
        encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(associated_data or b"")
        encryptor.finalize()
        return nonce + encryptor.tag
    ciphertext, tag = gmssl_pyx.sm4_gcm_encrypt(key, nonce, associated_data or b"", plaintext)
    return nonce + ciphertext + tag


def sm4_gcm_decrypt(key: bytes, sealed: bytes, *, associated_data: bytes | None = None) -> bytes:
    """Inverse of `sm4_gcm_encrypt`; raises CryptoError if anything was altered or the key is wrong."""
    _require_sm4_key(key)
    if len(sealed) < GCM_NONCE_BYTES + GCM_TAG_BYTES:
        raise CryptoError("crypto.decrypt_failed", _("The encrypted data is too short to be genuine."))
    nonce, ciphertext, tag = (
        sealed[:GCM_NONCE_BYTES],
        sealed[GCM_NONCE_BYTES:-GCM_TAG_BYTES],
        sealed[-GCM_TAG_BYTES:],
    )
    try:
        if not ciphertext:
            decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
            decryptor.authenticate_additional_data(associated_data or b"")
            return decryptor.finalize()
        return gmssl_pyx.sm4_gcm_decrypt(key, nonce, associated_data or b"", ciphertext, tag)
    except (gmssl_pyx.GmsslInnerError, InvalidTag):
        raise CryptoError(
            "crypto.decrypt_failed",
            _("The encrypted data could not be decrypted: it was altered or the key is wrong."),
        ) from None


# --------------------------------------------------------------------------------------------
# SM2 (GB/T 32918) via GmSSL (gmssl_pyx)
# --------------------------------------------------------------------------------------------

_CURVE = sm2.default_ecc_table
_N = int(_CURVE["n"], 16)
_P = int(_CURVE["p"], 16)
_A = int(_CURVE["a"], 16)
_B = int(_CURVE["b"], 16)
SM2_DEFAULT_ID = b"1234567812345678"  # GB/T 35276 default signer id (OpenSSL's distid)
# a || b || xG || yG, the curve part of the Z value (GB/T 32918.2 §5.5).
_Z_CURVE = b"".join(bytes.fromhex(_CURVE[name]) for name in ("a", "b")) + bytes.fromhex(_CURVE["g"])

_HEX_64 = re.compile(r"[0-9a-fA-F]{64}")
_HEX_128 = re.compile(r"(?:04)?([0-9a-fA-F]{128})")


@dataclass(frozen=True)
class Sm2KeyPair:
    private_key_hex: str  # 64 hex digits, the scalar d
    public_key_hex: str  # 128 hex digits, x || y of the uncompressed point (no 04 prefix)


def _invalid_key() -> CryptoError:
    return CryptoError("crypto.invalid_key", _("The SM2 key is not valid."))


def _invalid_signature() -> CryptoError:
    return CryptoError("crypto.invalid_signature", _("The SM2 signature is malformed."))


def _private_scalar(private_key_hex: str) -> int:
    if not _HEX_64.fullmatch(private_key_hex):
        raise _invalid_key()
    scalar = int(private_key_hex, 16)
    if not 1 <= scalar <= _N - 2:  # SM2 signing needs d + 1 invertible mod n
        raise _invalid_key()
    return scalar


@functools.lru_cache(maxsize=1024)
def _public_point_hex(public_key_hex: str) -> str:
    """Validated x || y (128 lower-case hex); accepts an optional 04 prefix. Cached: keys recur."""
    match = _HEX_128.fullmatch(public_key_hex)
    if match is None:
        raise _invalid_key()
    point = match.group(1).lower()
    x, y = int(point[:64], 16), int(point[64:], 16)
    # Verification against an off-curve point would be meaningless; GmSSL does not check it for us.
    if x >= _P or y >= _P or (y * y - (x * x * x + _A * x + _B)) % _P != 0:
        raise _invalid_key()
    return point


@functools.lru_cache(maxsize=1024)
def _z_value(public_point_hex: str) -> bytes:
    """Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA) with the default signer id."""
    entl = (len(SM2_DEFAULT_ID) * 8).to_bytes(2, "big")
    return gmssl_pyx.sm3_hash(entl + SM2_DEFAULT_ID + _Z_CURVE + bytes.fromhex(public_point_hex))


@functools.lru_cache(maxsize=64)
def _multiply_base_point(scalar: int) -> str:
    # GmSSL's bindings have no "derive public key" call; gmssl's _kg (pure Python, about 5 ms) is
    # the only one. Cached, so signing without the public key at hand pays it once per key.
    point = sm2.CryptSM2(private_key="", public_key="")._kg(scalar, _CURVE["g"])
    return str(point)


def generate_sm2_keypair() -> Sm2KeyPair:
    while True:
        public_key, private_key = gmssl_pyx.sm2_key_generate()  # GmSSL's own CSPRNG
        if 1 <= int.from_bytes(private_key, "big") <= _N - 2:
            return Sm2KeyPair(private_key_hex=private_key.hex(), public_key_hex=public_key.hex())


def sm2_public_key_from_private(private_key_hex: str) -> str:
    return _multiply_base_point(_private_scalar(private_key_hex))


def sm2_sign(private_key_hex: str, data: bytes, *, public_key_hex: str | None = None) -> bytes:
    """SM3withSM2 signature over `data` (Z value with the default id); raw 64 bytes r || s.

    Pass the key pair's `public_key_hex` when it is at hand: the Z value needs the public key, and
    deriving it from the private key is a pure-Python scalar multiplication (cached per key).
    """
    scalar = _private_scalar(private_key_hex)
    public_point = _public_point_hex(public_key_hex) if public_key_hex else _multiply_base_point(scalar)
    digest = gmssl_pyx.sm3_hash(_z_value(public_point) + data)
    # GmSSL draws the nonce k from its own CSPRNG and retries when r or s would be 0.
    der = gmssl_pyx.sm2_sign_sm3_digest(scalar.to_bytes(32, "big"), digest)
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sm2_verify(public_key_hex: str, data: bytes, signature: bytes) -> bool:
    """Check a raw r || s SM3withSM2 signature. Returns False, never raises, on any malformed input."""
    try:
        point = _public_point_hex(public_key_hex)
    except CryptoError:
        return False
    if len(signature) != 64:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (1 <= r < _N and 1 <= s < _N):  # GB/T 32918.2 steps B1/B2
        return False
    digest = gmssl_pyx.sm3_hash(_z_value(point) + data)
    try:
        return bool(gmssl_pyx.sm2_verify_sm3_digest(bytes.fromhex(point), digest, encode_dss_signature(r, s)))
    except gmssl_pyx.GmsslInnerError:  # e.g. a signature that leads to the point at infinity
        return False


def sm2_signature_to_der(raw: bytes) -> bytes:
    """Raw r || s (64 bytes) to the DER SEQUENCE { r, s } that OpenSSL and Java use."""
    if len(raw) != 64:
        raise _invalid_signature()
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


def sm2_signature_from_der(der: bytes) -> bytes:
    try:
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    except (ValueError, OverflowError):
        raise _invalid_signature() from None


# The DER around an SM2 key never varies except for the key bytes, and `cryptography` cannot build
# it (no SM2 curve), so the fixed prefixes are written out here.
# SubjectPublicKeyInfo { AlgorithmIdentifier { id-ecPublicKey 1.2.840.10045.2.1,
#   namedCurve sm2p256v1 1.2.156.10197.1.301 }, BIT STRING 04 || x || y }
_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200") + b"\x04"
# PKCS#8 PrivateKeyInfo { version 0, the same AlgorithmIdentifier, OCTET STRING ECPrivateKey {
#   version 1, OCTET STRING d, [1] BIT STRING 04 || x || y } }
_PKCS8_PREFIX = bytes.fromhex("308187020100301306072a8648ce3d020106082a811ccf5501822d046d306b0201010420")
_PKCS8_PUBLIC_KEY_TAG = bytes.fromhex("a144034200") + b"\x04"


def _pem(label: str, der: bytes) -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def sm2_public_key_pem(public_key_hex: str) -> str:
    """SubjectPublicKeyInfo PEM ("PUBLIC KEY"), which OpenSSL 3 reads as an SM2 key."""
    return _pem("PUBLIC KEY", _SPKI_PREFIX + bytes.fromhex(_public_point_hex(public_key_hex)))


def sm2_private_key_pem(private_key_hex: str) -> str:
    """Unencrypted PKCS#8 PEM ("PRIVATE KEY") as `openssl genpkey -algorithm SM2` writes it."""
    scalar = _private_scalar(private_key_hex)
    der = (
        _PKCS8_PREFIX
        + scalar.to_bytes(32, "big")
        + _PKCS8_PUBLIC_KEY_TAG
        + bytes.fromhex(_multiply_base_point(scalar))
    )
    return _pem("PRIVATE KEY", der)


def sm2_public_key_from_pem(pem: str) -> str:
    """x || y hex of a named-curve SM2 "PUBLIC KEY" PEM with an uncompressed point (OpenSSL's default)."""
    body = re.fullmatch(r"\s*-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----\s*", pem)
    if body is None:
        raise _invalid_key()
    try:
        der = base64.b64decode("".join(body.group(1).split()), validate=True)
    except binascii.Error:
        raise _invalid_key() from None
    if len(der) != len(_SPKI_PREFIX) + 64 or not der.startswith(_SPKI_PREFIX):
        raise _invalid_key()
    return _public_point_hex(der[len(_SPKI_PREFIX) :].hex())


# --------------------------------------------------------------------------------------------
# Personal-data fields: SM4-GCM at rest, HMAC-SM3 for lookups
# --------------------------------------------------------------------------------------------

ENCRYPTED_FIELD_SCHEME = "sm4gcm"
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_FIELD_SETTINGS = frozenset({"FIELD_ENCRYPTION_KEYS", "FIELD_ENCRYPTION_ACTIVE_KEY_ID", "FIELD_HASH_KEY"})


@dataclass(frozen=True)
class _FieldKeys:
    encryption_keys: dict[str, bytes]
    active_key_id: str
    hash_key: bytes

    @functools.cached_property
    def active_token_prefix(self) -> str:
        return f"{ENCRYPTED_FIELD_SCHEME}:{self.active_key_id}:"


def _hex_setting(name: str, value: Any, *, min_bytes: int, max_bytes: int | None = None) -> bytes:
    try:
        key = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"{name} must be a hex string.") from None
    if len(key) < min_bytes or (max_bytes is not None and len(key) > max_bytes):
        size = f"{min_bytes * 2}" if min_bytes == max_bytes else f"at least {min_bytes * 2}"
        raise ImproperlyConfigured(f"{name} must be {size} hex digits; it has {len(value)}.")
    return key


@functools.cache
def _field_keys() -> _FieldKeys:
    """Read and check the key settings once; `setting_changed` clears this cache in tests."""
    configured = app_settings.FIELD_ENCRYPTION_KEYS
    if not isinstance(configured, dict) or not configured:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be a non-empty dict of key id -> 32 hex digits."
        )
    keys: dict[str, bytes] = {}
    for key_id, key_hex in configured.items():
        if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS: key id {key_id!r} must be 1-32 letters, digits, '_' or '-'."
            )
        keys[key_id] = _hex_setting(
            f"FIELD_ENCRYPTION_KEYS[{key_id!r}]", key_hex, min_bytes=SM4_KEY_BYTES, max_bytes=SM4_KEY_BYTES
        )
    active_key_id = app_settings.FIELD_ENCRYPTION_ACTIVE_KEY_ID
    if active_key_id not in keys:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_ACTIVE_KEY_ID {active_key_id!r} is not a key id in FIELD_ENCRYPTION_KEYS."
        )
    hash_key = _hex_setting("FIELD_HASH_KEY", app_settings.FIELD_HASH_KEY, min_bytes=16)
    if hash_key in keys.values():
        raise ImproperlyConfigured("FIELD_HASH_KEY must differ from every FIELD_ENCRYPTION_KEYS value.")
    return _FieldKeys(encryption_keys=keys, active_key_id=active_key_id, hash_key=hash_key)


@receiver(setting_changed)
def _forget_field_keys(*, setting: str, **kwargs: Any) -> None:
    if setting in _FIELD_SETTINGS:
        _field_keys.cache_clear()


def _token_header(key_id: str) -> str:
    return f"{ENCRYPTED_FIELD_SCHEME}:{key_id}"


def encrypt_field(plaintext: str) -> str:
    """`sm4gcm:<key id>:<base64url(nonce || ciphertext || tag)>` under the active key."""
    keys = _field_keys()
    header = _token_header(keys.active_key_id)
    # The header is authenticated too, so a token cannot be relabelled with another key id.
    sealed = sm4_gcm_encrypt(
        keys.encryption_keys[keys.active_key_id], plaintext.encode("utf-8"), associated_data=header.encode()
    )
    return f"{header}:{base64.urlsafe_b64encode(sealed).decode('ascii')}"


def _split_token(token: str) -> tuple[str, bytes]:
    scheme, _sep, rest = token.partition(":")
    key_id, _sep, payload = rest.partition(":")
    if scheme != ENCRYPTED_FIELD_SCHEME or not _KEY_ID.fullmatch(key_id) or not payload:
        raise CryptoError("crypto.invalid_token", _("The stored value is not an encrypted field token."))
    try:
        return key_id, base64.urlsafe_b64decode(payload.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError):
        raise CryptoError(
            "crypto.invalid_token", _("The stored value is not an encrypted field token.")
        ) from None


def decrypt_field(token: str) -> str:
    """Decrypt a token from `encrypt_field`, with whichever configured key it names."""
    key_id, sealed = _split_token(token)
    key = _field_keys().encryption_keys.get(key_id)
    if key is None:
        raise ImproperlyConfigured(
            f"Stored data is encrypted with key id {key_id!r}, which is not in FIELD_ENCRYPTION_KEYS; "
            "keep retired keys there until every row has been re-encrypted."
        )
    return sm4_gcm_decrypt(key, sealed, associated_data=_token_header(key_id).encode()).decode("utf-8")


def is_field_token(value: str) -> bool:
    return value.startswith(ENCRYPTED_FIELD_SCHEME + ":")


def is_active_field_token(value: str) -> bool:
    """Whether `value` is a token written under the active key (a bulk insert stores it as is)."""
    return value.startswith(_field_keys().active_token_prefix)


def needs_reencryption(token: str) -> bool:
    """True when a token was written under a key other than the active one (key rotation)."""
    key_id, _sealed = _split_token(token)
    return key_id != _field_keys().active_key_id


def lookup_hash(value: str) -> str:
    """Hex HMAC-SM3 for equality lookups on an encrypted column.

    The value is normalised first (NFKC, surrounding whitespace removed, upper-case) so that
    "11010519491231002x" and "11010519491231002X" find the same row.
    """
    normalised = unicodedata.normalize("NFKC", value).strip().upper()
    return hmac_sm3(_field_keys().hash_key, normalised.encode("utf-8")).hex()


# --------------------------------------------------------------------------------------------
# Masking for pages, logs and exports
# --------------------------------------------------------------------------------------------


def _mask_middle(value: str, *, keep_start: int, keep_end: int, full_length: int) -> str:
    """Star the middle; values shorter than `full_length` never show more than half their characters."""
    length = len(value)
    if length < full_length:
        allowed = length // 2
        keep_start = min(keep_start, allowed // 2)
        keep_end = min(keep_end, allowed - keep_start)
    hidden = length - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + value[length - keep_end :]


def mask_id_number(value: str) -> str:
    """First 4 and last 4 shown: "110101199003071237" -> "1101**********1237"."""
    return _mask_middle(value, keep_start=4, keep_end=4, full_length=18)


def mask_phone(value: str) -> str:
    """The usual display of a mainland mobile number: "13812345678" -> "138****5678"."""
    return _mask_middle(value, keep_start=3, keep_end=4, full_length=11)


def mask_name(value: str) -> str:
    """Only the surname character shows: "张三丰" -> "张**"; a one-character name is hidden completely."""
    if len(value) < 2:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 1)
