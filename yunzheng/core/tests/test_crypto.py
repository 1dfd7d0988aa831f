import base64
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import connection, models
from django.test.utils import isolate_apps

from yunzheng.core.crypto import (
    SM2_DEFAULT_ID,
    CryptoError,
    Sm2KeyPair,
    decrypt_field,
    encrypt_field,
    generate_sm2_keypair,
    hmac_sm3,
    lookup_hash,
    mask_id_number,
    mask_name,
    mask_phone,
    needs_reencryption,
    sm2_private_key_pem,
    sm2_public_key_from_pem,
    sm2_public_key_from_private,
    sm2_public_key_pem,
    sm2_sign,
    sm2_signature_from_der,
    sm2_signature_to_der,
    sm2_verify,
    sm3_digest,
    sm3_hex,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)
from yunzheng.core.fields import EncryptedCharField

SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
DISTID = f"distid:{SM2_DEFAULT_ID.decode()}"


def flip_bit(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# --- SM3 -----------------------------------------------------------------------------------


def test_sm3_standard_vectors():
    # GB/T 32905-2016 appendix A
    assert sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm3_hex(b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert sm3_digest(b"abc") == bytes.fromhex(sm3_hex(b"abc"))


def test_hmac_sm3_matches_openssl():
    # from: openssl mac -digest SM3 -macopt hexkey:000102030405060708090a0b0c0d0e0f -in abc HMAC
    key = bytes(range(16))
    assert hmac_sm3(key, b"abc").hex() == "83fd35b3ff6211428a38c070431ad42c23a86eaca25a5ea81a1ded4704a12c7c"
    assert hmac_sm3(bytes(16), b"abc") != hmac_sm3(key, b"abc")


# --- SM4-GCM -------------------------------------------------------------------------------


def test_sm4_gcm_rfc8998_vector():
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    ciphertext = bytes.fromhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    )
    tag = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")
    assert sm4_gcm_decrypt(key, nonce + ciphertext + tag, associated_data=aad) == plaintext


def test_sm4_gcm_round_trip_with_fresh_nonces():
    key = bytes(range(16))
    first = sm4_gcm_encrypt(key, b"secret", associated_data=b"row 1")
    second = sm4_gcm_encrypt(key, b"secret", associated_data=b"row 1")
    assert first != second
    assert len(first) == 12 + len(b"secret") + 16
    assert sm4_gcm_decrypt(key, first, associated_data=b"row 1") == b"secret"
    assert sm4_gcm_decrypt(key, sm4_gcm_encrypt(key, b"")) == b""


@pytest.mark.parametrize("index", [0, 12, -1])  # nonce, ciphertext, tag
def test_sm4_gcm_detects_tampering(index):
    key = bytes(range(16))
    sealed = sm4_gcm_encrypt(key, b"secret")
    with pytest.raises(CryptoError) as info:
        sm4_gcm_decrypt(key, flip_bit(sealed, index % len(sealed)))
    assert info.value.code == "crypto.decrypt_failed"


def test_sm4_gcm_rejects_wrong_key_wrong_aad_and_short_input():
    key = bytes(range(16))
    sealed = sm4_gcm_encrypt(key, b"secret", associated_data=b"a")
    for attempt in (
        lambda: sm4_gcm_decrypt(bytes(16), sealed, associated_data=b"a"),
        lambda: sm4_gcm_decrypt(key, sealed, associated_data=b"b"),
        lambda: sm4_gcm_decrypt(key, sealed),
        lambda: sm4_gcm_decrypt(key, sealed[:27]),
    ):
        with pytest.raises(CryptoError) as info:
            attempt()
        assert info.value.code == "crypto.decrypt_failed"


def test_sm4_key_must_be_16_bytes():
    with pytest.raises(CryptoError) as info:
        sm4_gcm_encrypt(bytes(32), b"x")
    assert info.value.code == "crypto.invalid_key"


# --- SM2 -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keypair() -> Sm2KeyPair:
    return generate_sm2_keypair()


def test_generated_keypair_shape(keypair):
    assert re.fullmatch(r"[0-9a-f]{64}", keypair.private_key_hex)
    assert re.fullmatch(r"[0-9a-f]{128}", keypair.public_key_hex)
    assert 1 <= int(keypair.private_key_hex, 16) <= SM2_N - 2
    assert sm2_public_key_from_private(keypair.private_key_hex) == keypair.public_key_hex
    assert generate_sm2_keypair().private_key_hex != keypair.private_key_hex


def test_sm2_sign_and_verify(keypair):
    signature = sm2_sign(keypair.private_key_hex, b"licence 123")
    assert len(signature) == 64
    assert sm2_verify(keypair.public_key_hex, b"licence 123", signature)
    assert sm2_verify("04" + keypair.public_key_hex, b"licence 123", signature)
    assert sm2_verify(keypair.public_key_hex.upper(), b"licence 123", signature)
    assert sm2_sign(keypair.private_key_hex, b"licence 123") != signature  # fresh k every time


def test_sm2_verify_rejects_changed_message_signature_and_key(keypair):
    signature = sm2_sign(keypair.private_key_hex, b"licence 123")
    assert not sm2_verify(keypair.public_key_hex, b"licence 124", signature)
    assert not sm2_verify(keypair.public_key_hex, b"licence 123", flip_bit(signature, 40))
    assert not sm2_verify(generate_sm2_keypair().public_key_hex, b"licence 123", signature)


def _flip_last_byte(public_key_hex: str) -> str:
    # Always a different y: replacing the byte with "00" left 1 key in 256 unchanged (and valid).
    return public_key_hex[:-2] + f"{int(public_key_hex[-2:], 16) ^ 1:02x}"


def test_sm2_verify_returns_false_on_garbage(keypair):
    data = b"x"
    signature = sm2_sign(keypair.private_key_hex, data)
    r, s = signature[:32], signature[32:]
    n = SM2_N.to_bytes(32, "big")
    zero = bytes(32)
    for public_key, sig in [
        (keypair.public_key_hex, b""),
        (keypair.public_key_hex, signature[:63]),
        (keypair.public_key_hex, signature + b"\x00"),
        (keypair.public_key_hex, zero + s),
        (keypair.public_key_hex, r + zero),
        (keypair.public_key_hex, n + s),
        (keypair.public_key_hex, r + n),
        (keypair.public_key_hex, b"\xff" * 64),
        ("", signature),
        ("zz" * 64, signature),
        (_flip_last_byte(keypair.public_key_hex), signature),  # not on the curve
        ("00" * 64, signature),
    ]:
        assert sm2_verify(public_key, data, sig) is False


def test_sm2_key_whose_x_starts_with_04():
    # gmssl's CryptSM2 strips a leading "04" with lstrip and corrupts such keys; ours must work.
    private_key = f"{11:064x}"
    public_key = sm2_public_key_from_private(private_key)
    assert public_key.startswith("04")
    signature = sm2_sign(private_key, b"x")
    assert sm2_verify(public_key, b"x", signature)


@pytest.mark.parametrize("private_key", ["", "00" * 32, f"{SM2_N - 1:064x}", "g" * 64, "01" * 33])
def test_sm2_sign_rejects_invalid_private_keys(private_key):
    with pytest.raises(CryptoError) as info:
        sm2_sign(private_key, b"x")
    assert info.value.code == "crypto.invalid_key"


def test_der_signature_round_trip(keypair):
    signature = sm2_sign(keypair.private_key_hex, b"x")
    der = sm2_signature_to_der(signature)
    assert der[0] == 0x30
    assert sm2_signature_from_der(der) == signature
    small = bytes(31) + b"\x05" + bytes(31) + b"\x07"  # leading zeros must survive the round trip
    assert sm2_signature_from_der(sm2_signature_to_der(small)) == small


@pytest.mark.parametrize("der", [b"", b"\x30\x00", b"garbage", b"\x30\x06\x02\x01\x01\x02\x01"])
def test_der_signature_garbage(der):
    with pytest.raises(CryptoError) as info:
        sm2_signature_from_der(der)
    assert info.value.code == "crypto.invalid_signature"


def test_der_signature_with_oversized_integer():
    with pytest.raises(CryptoError):
        sm2_signature_from_der(encode_dss_signature(2**256 + 1, 1))
    with pytest.raises(CryptoError):
        sm2_signature_to_der(b"\x01" * 63)


def test_public_key_pem_round_trip(keypair):
    pem = sm2_public_key_pem(keypair.public_key_hex)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert sm2_public_key_from_pem(pem) == keypair.public_key_hex
    with pytest.raises(CryptoError):
        sm2_public_key_from_pem(pem.replace("PUBLIC KEY", "PRIVATE KEY"))
    with pytest.raises(CryptoError):
        sm2_public_key_pem("00" * 64)


# --- SM2 interoperability with the OpenSSL command line ------------------------------------


def openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    executable = shutil.which("openssl")
    assert executable, "the openssl command line tool is required for the SM2 interoperability tests"
    return subprocess.run([executable, *args], cwd=cwd, capture_output=True, check=False)  # noqa: S603


def openssl_verify(tmp_path: Path, *, public_pem: str, data: bytes, der_signature: bytes) -> bool:
    (tmp_path / "pub.pem").write_text(public_pem)
    (tmp_path / "data.bin").write_bytes(data)
    (tmp_path / "sig.der").write_bytes(der_signature)
    result = openssl(
        "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "data.bin",
        "-sigfile", "sig.der", "-digest", "sm3", "-pkeyopt", DISTID,
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 0 and b"Verified Successfully" in result.stdout


def test_openssl_verifies_our_signature(tmp_path, keypair):
    data = b"road transport \x00\xff licence"
    signature = sm2_signature_to_der(sm2_sign(keypair.private_key_hex, data))
    public_pem = sm2_public_key_pem(keypair.public_key_hex)
    assert openssl_verify(tmp_path, public_pem=public_pem, data=data, der_signature=signature)
    assert not openssl_verify(
        tmp_path, public_pem=public_pem, data=flip_bit(data, 3), der_signature=signature
    )


def test_openssl_verifies_signature_of_key_whose_x_starts_with_04(tmp_path):
    private_key = f"{11:064x}"
    public_pem = sm2_public_key_pem(sm2_public_key_from_private(private_key))
    signature = sm2_signature_to_der(sm2_sign(private_key, b"x"))
    assert openssl_verify(tmp_path, public_pem=public_pem, data=b"x", der_signature=signature)


def test_openssl_reads_our_private_key_pem(tmp_path, keypair):
    (tmp_path / "key.pem").write_text(sm2_private_key_pem(keypair.private_key_hex))
    check = openssl("pkey", "-in", "key.pem", "-noout", "-check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    derived = openssl("pkey", "-in", "key.pem", "-pubout", cwd=tmp_path)
    assert derived.returncode == 0, derived.stderr
    assert derived.stdout.decode() == sm2_public_key_pem(keypair.public_key_hex)


def test_we_verify_openssl_signature(tmp_path):
    data = b"signed by openssl \x01\x02"
    (tmp_path / "data.bin").write_bytes(data)
    assert openssl("genpkey", "-algorithm", "SM2", "-out", "key.pem", cwd=tmp_path).returncode == 0
    public = openssl("pkey", "-in", "key.pem", "-pubout", cwd=tmp_path)
    assert public.returncode == 0, public.stderr
    public_key = sm2_public_key_from_pem(public.stdout.decode())
    public_der = openssl("pkey", "-in", "key.pem", "-pubout", "-outform", "DER", cwd=tmp_path).stdout
    assert public_der[-64:].hex() == public_key  # same point as OpenSSL's own DER encoding
    signed = openssl(
        "pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", "data.bin", "-digest", "sm3",
        "-pkeyopt", DISTID, "-out", "sig.der",
        cwd=tmp_path,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    signature = sm2_signature_from_der((tmp_path / "sig.der").read_bytes())
    assert sm2_verify(public_key, data, signature)
    assert not sm2_verify(public_key, flip_bit(data, 0), signature)


# --- personal-data fields ------------------------------------------------------------------

KEY_T0 = "f0e0d0c0b0a090807060504030201000"
KEY_T1 = "000102030405060708090a0b0c0d0e0f"
HASH_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.fixture
def field_keys(settings):
    settings.FIELD_ENCRYPTION_KEYS = {"t0": KEY_T0, "t1": KEY_T1}
    settings.FIELD_ENCRYPTION_ACTIVE_KEY_ID = "t1"
    settings.FIELD_HASH_KEY = HASH_KEY
    return settings


def test_encrypt_field_token(field_keys):
    token = encrypt_field("110101199003071237")
    assert re.fullmatch(r"sm4gcm:t1:[A-Za-z0-9_\-]+=*", token)
    assert "110101199003071237" not in token
    assert encrypt_field("110101199003071237") != token
    assert decrypt_field(token) == "110101199003071237"
    assert decrypt_field(encrypt_field("张三丰")) == "张三丰"


def test_token_is_sm4_gcm_under_the_named_key(field_keys):
    token = encrypt_field("13812345678")
    sealed = base64.urlsafe_b64decode(token.split(":", 2)[2])
    assert sm4_gcm_decrypt(bytes.fromhex(KEY_T1), sealed, associated_data=b"sm4gcm:t1") == b"13812345678"


def test_key_rotation(field_keys):
    field_keys.FIELD_ENCRYPTION_ACTIVE_KEY_ID = "t0"
    old_token = encrypt_field("13812345678")
    assert old_token.startswith("sm4gcm:t0:")
    field_keys.FIELD_ENCRYPTION_ACTIVE_KEY_ID = "t1"
    assert needs_reencryption(old_token)
    assert decrypt_field(old_token) == "13812345678"
    new_token = encrypt_field(decrypt_field(old_token))
    assert not needs_reencryption(new_token)
    field_keys.FIELD_ENCRYPTION_KEYS = {"t1": KEY_T1}
    assert decrypt_field(new_token) == "13812345678"
    with pytest.raises(ImproperlyConfigured, match="'t0'"):
        decrypt_field(old_token)


def test_tampered_or_relabelled_tokens_fail(field_keys):
    token = encrypt_field("13812345678")
    header, payload = token.rsplit(":", 1)
    sealed = base64.urlsafe_b64decode(payload)
    tampered = f"{header}:{base64.urlsafe_b64encode(flip_bit(sealed, 20)).decode()}"
    with pytest.raises(CryptoError) as info:
        decrypt_field(tampered)
    assert info.value.code == "crypto.decrypt_failed"
    # Same key under another id: the key id is authenticated, so relabelling is detected.
    field_keys.FIELD_ENCRYPTION_KEYS = {"t1": KEY_T1, "copy": KEY_T1}
    with pytest.raises(CryptoError):
        decrypt_field(token.replace("sm4gcm:t1:", "sm4gcm:copy:"))


@pytest.mark.parametrize(
    "token", ["", "13812345678", "sm4gcm:t1:", "aes:t1:AAAA", "sm4gcm:t1:1:AAAA", "sm4gcm:t1:!!"]
)
def test_malformed_tokens(field_keys, token):
    with pytest.raises(CryptoError) as info:
        decrypt_field(token)
    assert info.value.code in {"crypto.invalid_token", "crypto.decrypt_failed"}


@pytest.mark.parametrize(
    ("keys", "active", "hash_key", "complaint"),
    [
        ({}, "t1", HASH_KEY, "non-empty"),
        ({"t1": KEY_T1[:-2]}, "t1", HASH_KEY, r"FIELD_ENCRYPTION_KEYS\['t1'\]"),
        ({"t1": "zz" * 16}, "t1", HASH_KEY, "hex"),
        ({"t:1": KEY_T1}, "t:1", HASH_KEY, "key id"),
        ({"t1": KEY_T1}, "t2", HASH_KEY, "FIELD_ENCRYPTION_ACTIVE_KEY_ID"),
        ({"t1": KEY_T1}, "t1", "", "FIELD_HASH_KEY"),
        ({"t1": KEY_T1}, "t1", "abcd", "FIELD_HASH_KEY"),
        ({"t1": KEY_T1}, "t1", KEY_T1, "differ"),
    ],
)
def test_bad_key_settings_are_reported(settings, keys, active, hash_key, complaint):
    settings.FIELD_ENCRYPTION_KEYS = keys
    settings.FIELD_ENCRYPTION_ACTIVE_KEY_ID = active
    settings.FIELD_HASH_KEY = hash_key
    with pytest.raises(ImproperlyConfigured, match=complaint):
        encrypt_field("x")


def test_lookup_hash(field_keys):
    digest = lookup_hash("11010519491231002X")
    assert digest == hmac_sm3(bytes.fromhex(HASH_KEY), b"11010519491231002X").hex()
    assert lookup_hash(" 11010519491231002x ") == digest
    assert lookup_hash("11010519491231002") != digest
    field_keys.FIELD_HASH_KEY = HASH_KEY[::-1]
    assert lookup_hash("11010519491231002X") != digest


# --- EncryptedCharField ---------------------------------------------------------------------


def test_encrypted_field_conversions(field_keys):
    field = EncryptedCharField()
    stored = field.get_prep_value("110101199003071237")
    assert stored.startswith("sm4gcm:t1:")
    assert field.from_db_value(stored, None, connection) == "110101199003071237"
    assert field.to_python(stored) == "110101199003071237"
    assert field.to_python("110101199003071237") == "110101199003071237"  # never decrypted twice
    assert field.get_prep_value(None) is None
    assert field.from_db_value(None, None, connection) is None
    assert field.to_python(None) is None


@pytest.mark.django_db(transaction=True)
@isolate_apps("yunzheng.core")
def test_encrypted_field_in_a_real_table(field_keys):
    class Person(models.Model):
        id_number = EncryptedCharField(null=True)
        id_number_hash = models.CharField(max_length=64, db_index=True)

        class Meta:
            app_label = "core"

        def __str__(self) -> str:
            return f"Person {self.pk}"

    with connection.schema_editor() as editor:
        editor.create_model(Person)
    try:
        saved = Person._default_manager.create(
            id_number="110101199003071237", id_number_hash=lookup_hash("110101199003071237")
        )
        Person._default_manager.create(id_number=None, id_number_hash="")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id_number FROM {Person._meta.db_table} WHERE id = %s", [saved.pk])  # noqa: S608
            (raw,) = cursor.fetchone()
        assert raw.startswith("sm4gcm:t1:")
        assert "110101199003071237" not in raw

        found = Person._default_manager.get(id_number_hash=lookup_hash("110101199003071237"))
        assert found.id_number == "110101199003071237"
        found.full_clean()  # calls to_python on the decrypted value
        assert found.id_number == "110101199003071237"
        assert Person._default_manager.filter(id_number__isnull=True).count() == 1

        for lookup in ("id_number", "id_number__exact", "id_number__icontains", "id_number__lower"):
            with pytest.raises(FieldError, match=r"lookup_hash|encrypted"):
                Person._default_manager.filter(**{lookup: "110101199003071237"})
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(Person)


# --- masking -------------------------------------------------------------------------------


def test_masks_of_normal_values():
    assert mask_id_number("110101199003071237") == "1101**********1237"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三丰") == "张**"
    assert mask_name("张三") == "张*"


@pytest.mark.parametrize("mask", [mask_id_number, mask_phone, mask_name])
@pytest.mark.parametrize("value", ["", "1", "12", "123", "1234", "12345", "1234567", "123456789"])
def test_masks_never_reveal_more_than_half_of_short_values(mask, value):
    masked = mask(value)
    assert len(masked) == len(value)
    revealed = sum(1 for char in masked if char != "*")
    assert revealed <= len(value) // 2
    assert all(m in ("*", v) for m, v in zip(masked, value, strict=True))


def test_sm2_verify_survives_signature_that_reaches_the_point_at_infinity():
    # With s = -r*d/(1+d) mod n, s*G + (r+s)*P is the point at infinity, where gmssl's affine
    # conversion returns None and its arithmetic raises instead of answering.
    private = 0x1234567
    public_key = sm2_public_key_from_private(f"{private:064x}")
    r = 0x42
    s = (-r * private * pow(1 + private, -1, SM2_N)) % SM2_N
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert sm2_verify(public_key, b"anything", signature) is False


def test_sm2_verify_random_signatures_never_raise(keypair):
    for _ in range(20):
        assert sm2_verify(keypair.public_key_hex, b"x", secrets.token_bytes(64)) is False


def test_sm2_sign_with_the_known_public_key_gives_verifiable_signatures() -> None:
    pair = generate_sm2_keypair()
    signature = sm2_sign(pair.private_key_hex, b"licence", public_key_hex=pair.public_key_hex)
    assert sm2_verify(pair.public_key_hex, b"licence", signature)
    # A public key that is not the pair's makes a signature that does not verify under the real one.
    other = generate_sm2_keypair()
    wrong = sm2_sign(pair.private_key_hex, b"licence", public_key_hex=other.public_key_hex)
    assert not sm2_verify(pair.public_key_hex, b"licence", wrong)
