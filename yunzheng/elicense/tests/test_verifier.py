"""Offline verification: the verifier library and CLI, trust-list checks, key rotation, and
interoperability with an independent SM2 implementation (the OpenSSL command line)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from yunzheng.core.crypto import sm2_sign, sm2_signature_to_der
from yunzheng.elicense import qr_payload, services, verifier
from yunzheng.elicense.models import SigningKey
from yunzheng.elicense.tests.conftest import SYSTEM, sync_licence

REPO = Path(settings.BASE_DIR)


def load(keys, now=None):
    document = services.trust_list_issue()
    return verifier.load_trust_list(
        json.dumps(document), root_public_key_hex=keys["root"].public_key_hex, now=now or timezone.now()
    )


def flip_char(text: str, index: int) -> str:
    replacement = "B" if text[index] != "B" else "C"
    return text[:index] + replacement + text[index + 1 :]


def test_verifier_imports_without_django():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = (
        "import sys, yunzheng.elicense.verifier, yunzheng.elicense.qr_payload; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_valid_payload_verifies_offline(keys, licence):
    signed = services.licence_sign(licence=licence)
    verdict = verifier.verify_payload(signed.text, trust_list=load(keys), now=timezone.now())
    assert verdict.result == verifier.VALID
    assert verdict.claims is not None
    assert verdict.claims.lid == licence.lid
    assert verdict.claims.ess["n"] == "王**"  # masked in the QR
    assert verdict.as_json()["licence"]["essentials"]["categories"] == ["网约车驾驶员"]


def test_tampered_payload_is_refused(keys, licence):
    signed = services.licence_sign(licence=licence)
    trust_list = load(keys)
    claims, _body, signature = qr_payload.parse(signed.text)
    # Change a claim (a later expiry) and keep the old signature.
    forged_claims = qr_payload.Claims(
        **{**{f: getattr(claims, f) for f in claims.__struct_fields__}, "exp": 20991231}
    )
    forged = qr_payload.assemble(qr_payload.encode_claims(forged_claims), signature)
    assert (
        verifier.verify_payload(forged, trust_list=trust_list, now=timezone.now()).reason_code
        == "signature.invalid"
    )
    # Flip a character anywhere in the text.
    for index in (10, len(signed.text) // 2, len(signed.text) - 5):
        verdict = verifier.verify_payload(
            flip_char(signed.text, index), trust_list=trust_list, now=timezone.now()
        )
        assert verdict.result == verifier.NOT_GENUINE


def test_unknown_key_id_is_refused(keys, licence):
    signed = services.licence_sign(licence=licence)
    trust_list = load(keys)
    claims, _body, _signature = qr_payload.parse(signed.text)
    unknown = qr_payload.Claims(
        **{**{f: getattr(claims, f) for f in claims.__struct_fields__}, "kid": "330000-deadbeef"}
    )
    body = qr_payload.encode_claims(unknown)
    text = qr_payload.assemble(body, sm2_sign(keys["330000"].private_key, body))
    verdict = verifier.verify_payload(text, trust_list=trust_list, now=timezone.now())
    assert (verdict.result, verdict.reason_code) == (verifier.NOT_GENUINE, "key.unknown")


def test_rotation_keeps_old_signatures_until_the_key_is_rotated_out(keys, licence):
    old_key = keys["330000"]
    before_rotation = services.licence_sign(licence=licence)
    new_key = services.signing_key_rotate(province="330000", actor=SYSTEM)
    after_rotation = services.licence_sign(licence=licence)
    assert before_rotation.kid == old_key.kid
    assert after_rotation.kid == new_key.kid != old_key.kid
    trust_list = load(keys)
    now = timezone.now()
    assert verifier.verify_payload(before_rotation.text, trust_list=trust_list, now=now).is_valid
    assert verifier.verify_payload(after_rotation.text, trust_list=trust_list, now=now).is_valid
    # Once past the old key's verify_until, what it signed is refused (the key is rotated out).
    old_key.refresh_from_db()
    later = old_key.verify_until + dt.timedelta(seconds=1)
    stale_check = verifier.verify_payload(before_rotation.text, trust_list=trust_list, now=later)
    assert (stale_check.result, stale_check.reason_code) == (verifier.NOT_GENUINE, "key.expired")


def test_retired_key_cannot_sign_new_payloads(keys, licence):
    """A leaked retired key signing today's date after its signing period ended is refused."""
    signed = services.licence_sign(licence=licence)
    now = timezone.now()
    retired = services.signing_key_rotate(province="330000", actor=SYSTEM, now=now - dt.timedelta(days=10))
    services.signing_key_rotate(province="330000", actor=SYSTEM, now=now - dt.timedelta(days=3))
    retired.refresh_from_db()
    assert retired.status == "retired"
    assert retired.verify_until > now
    claims, _body, _sig = qr_payload.parse(signed.text)
    forged = qr_payload.Claims(
        **{**{f: getattr(claims, f) for f in claims.__struct_fields__}, "kid": retired.kid}
    )
    body = qr_payload.encode_claims(forged)  # signed on today's date by the retired key
    text = qr_payload.assemble(body, sm2_sign(retired.private_key, body))
    verdict = verifier.verify_payload(text, trust_list=load(keys), now=now)
    assert (verdict.result, verdict.reason_code) == (verifier.NOT_GENUINE, "key.not_valid_when_signed")


def test_compromised_key_is_refused_and_replaced(keys, licence):
    signed = services.licence_sign(licence=licence)
    services.signing_key_mark_compromised(kid=signed.kid, actor=SYSTEM, reason="private key leaked")
    verdict = verifier.verify_payload(signed.text, trust_list=load(keys), now=timezone.now())
    assert verdict.reason_code == "key.compromised"
    fresh = services.licence_sign(licence=licence)
    assert fresh.kid != signed.kid
    assert verifier.verify_payload(fresh.text, trust_list=load(keys), now=timezone.now()).is_valid


def test_key_of_another_province_is_refused(keys, holder):
    tianjin_licence = sync_licence(holder, source_id="tj", region="120101")
    signed = services.licence_sign(licence=tianjin_licence)
    claims, _body, _sig = qr_payload.parse(signed.text)
    # 浙江's key signs a licence that claims to be issued in 天津.
    forged = qr_payload.Claims(
        **{**{f: getattr(claims, f) for f in claims.__struct_fields__}, "kid": keys["330000"].kid}
    )
    body = qr_payload.encode_claims(forged)
    text = qr_payload.assemble(body, sm2_sign(keys["330000"].private_key, body))
    assert (
        verifier.verify_payload(text, trust_list=load(keys), now=timezone.now()).reason_code
        == "key.wrong_issuer"
    )


def test_trust_list_checks(keys, licence):
    document = services.trust_list_issue()
    now = timezone.now()
    root = keys["root"].public_key_hex
    trust_list = verifier.load_trust_list(document, root_public_key_hex=root, now=now)
    assert {keys["120000"].kid, keys["330000"].kid} <= set(trust_list.keys)
    assert keys["root"].kid not in trust_list.keys  # the root key never signs licences
    # Stale: refused after next_update (no silent use of an old list).
    with pytest.raises(verifier.TrustListError) as info:
        verifier.load_trust_list(document, root_public_key_hex=root, now=trust_list.next_update)
    assert info.value.code == "trust_list.stale"
    # Signed by another key, or altered: refused.
    with pytest.raises(verifier.TrustListError) as info:
        verifier.load_trust_list(document, root_public_key_hex=keys["330000"].public_key_hex, now=now)
    assert info.value.code == "trust_list.signature_invalid"
    altered = {**document, "content": document["content"].replace(keys["120000"].kid, keys["330000"].kid)}
    with pytest.raises(verifier.TrustListError):
        verifier.load_trust_list(altered, root_public_key_hex=root, now=now)


def test_trust_list_with_duplicate_key_ids_is_refused(keys):
    key = services.trusted_key(keys["330000"])
    now = timezone.now()
    content = verifier.trust_list_content(
        issued_at=now,
        next_update=now + dt.timedelta(hours=1),
        signer_kid=keys["root"].kid,
        keys=[key, key],
        revoked={},
    )
    document = verifier.trust_list_document(
        content=content, signature=sm2_sign(keys["root"].private_key, content)
    )
    with pytest.raises(verifier.TrustListError) as info:
        verifier.load_trust_list(document, root_public_key_hex=keys["root"].public_key_hex, now=now)
    assert info.value.code == "trust_list.duplicate_kid"


def test_revoked_licences_are_on_the_trust_list(keys, licence):
    signed = services.licence_sign(licence=licence)
    services.licence_revoke(licence=licence, actor=SYSTEM, reason="fraud")
    verdict = verifier.verify_payload(signed.text, trust_list=load(keys), now=timezone.now())
    assert (verdict.result, verdict.reason_code) == (verifier.REVOKED, "licence.revoked")


# Runs the verifier's command line with gmssl_pyx unimportable, as on a machine without the C library.
_WITHOUT_C_LIBRARY = (
    "import runpy, sys; sys.modules['gmssl_pyx'] = None; "
    "import yunzheng.elicense.verifier as v; assert v.gmssl_pyx is None, 'the C path was loaded'; "
    "sys.argv[0] = 'verifier'; runpy.run_module('yunzheng.elicense.verifier', run_name='__main__')"
)


def _cli(
    tmp_path: Path, keys, text: str, *, without_c_library: bool = False
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "trust.json").write_text(json.dumps(services.trust_list_issue()), encoding="utf-8")
    (tmp_path / "root.pem").write_text(verifier.public_key_pem(keys["root"].public_key_hex))
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(  # noqa: S603
        [
            sys.executable,
            *(["-c", _WITHOUT_C_LIBRARY] if without_c_library else ["-m", "yunzheng.elicense.verifier"]),
            "--trust-list",
            str(tmp_path / "trust.json"),
            "--root-key",
            str(tmp_path / "root.pem"),
            text,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_verdicts(tmp_path, keys, licence):
    signed = services.licence_sign(licence=licence)
    good = _cli(tmp_path, keys, signed.qr_text("https://yz.example.cn"))
    assert good.returncode == 0, good.stdout + good.stderr
    answer = json.loads(good.stdout)
    assert answer["result"] == "valid"
    assert answer["licence"]["id"] == licence.lid
    bad = _cli(tmp_path, keys, flip_char(signed.text, 30))
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["result"] == "not_genuine"


def test_cli_falls_back_to_pure_python_without_the_c_library(tmp_path, keys, licence):
    signed = services.licence_sign(licence=licence)
    good = _cli(tmp_path, keys, signed.text, without_c_library=True)
    assert good.returncode == 0, good.stdout + good.stderr
    assert json.loads(good.stdout)["result"] == "valid"
    bad = _cli(tmp_path, keys, flip_char(signed.text, 30), without_c_library=True)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert json.loads(bad.stdout)["result"] == "not_genuine"


def test_c_and_pure_python_sm2_paths_agree(keys):
    from yunzheng.core.crypto import generate_sm2_keypair

    assert verifier.gmssl_pyx is not None, "gmssl_pyx (a dependency) must be installed here"
    pair = generate_sm2_keypair()
    data = b"licence body \x00\xff" * 7
    signature = sm2_sign(pair.private_key_hex, data, public_key_hex=pair.public_key_hex)
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    point = pair.public_key_hex
    assert verifier._sm2_verify_c(point, data, r, s)
    assert verifier.sm2_verify_pure_python(point, data, signature)
    assert not verifier._sm2_verify_c(point, data + b"!", r, s)
    assert not verifier.sm2_verify_pure_python(point, data + b"!", signature)
    tampered = signature[:63] + bytes([signature[63] ^ 1])
    assert not verifier._sm2_verify_c(point, data, r, s ^ 1)
    assert not verifier.sm2_verify_pure_python(point, data, tampered)


def test_openssl_verifies_the_licence_signature(tmp_path, keys, licence):
    """Interoperability: an independent SM2 implementation accepts our signature over the exact
    signed bytes, with the public key taken from the trust list."""
    openssl = shutil.which("openssl")
    assert openssl, "the openssl command line is required"
    signed = services.licence_sign(licence=licence)
    _claims, body, signature = qr_payload.parse(signed.text)
    trust_list = load(keys)
    (tmp_path / "pub.pem").write_text(verifier.public_key_pem(trust_list.keys[signed.kid].public_key_hex))
    (tmp_path / "sig.der").write_bytes(sm2_signature_to_der(signature))

    def openssl_verify(data: bytes) -> bool:
        (tmp_path / "data.bin").write_bytes(data)
        result = subprocess.run(  # noqa: S603
            [
                openssl,
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                "pub.pem",
                "-rawin",
                "-in",
                "data.bin",
                "-sigfile",
                "sig.der",
                "-digest",
                "sm3",
                "-pkeyopt",
                "distid:1234567812345678",
            ],
            cwd=tmp_path,
            capture_output=True,
            check=False,
        )
        assert result.returncode in (0, 1), result.stderr
        return result.returncode == 0 and b"Verified Successfully" in result.stdout

    assert openssl_verify(body)
    assert not openssl_verify(body[:-1] + bytes([body[-1] ^ 1]))


def test_kids_are_unique_and_carry_the_province(keys):
    kid = keys["330000"].kid
    assert kid.startswith("330000-")
    assert len(kid) == 15
    assert keys["330000"].fingerprint.startswith(kid[7:])
    assert SigningKey.objects.filter(kid=kid).count() == 1
