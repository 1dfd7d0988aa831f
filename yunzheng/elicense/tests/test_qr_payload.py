"""The QR payload format: compact, canonical, QR-friendly, and strict when decoding."""

from __future__ import annotations

import base64
import os

import pytest

from yunzheng.elicense import qr_payload
from yunzheng.elicense.qr_payload import Claims, PayloadError

CLAIMS = Claims(
    v=1,
    kid="120000-1a2b3c4d",
    lid="12-TP-2026-000123",
    typ="TP",
    ver=3,
    iss="120000",
    nbf=20260101,
    exp=20261231,
    iat=20260105,
    ess={
        "n": "张*",
        "p": "津A12345",
        "pt": "货车通行证（夜间）",
        "s": ["外环线（津静公路—津塘公路）", "快速路中环线", "津滨高速"],
        "t": ["22:00-06:00"],
    },
)


def test_round_trip_and_canonical_bytes():
    body = qr_payload.encode_claims(CLAIMS)
    reordered = Claims(
        **{
            **{f: getattr(CLAIMS, f) for f in CLAIMS.__struct_fields__},
            "ess": dict(reversed(CLAIMS.ess.items())),
        }
    )
    assert qr_payload.encode_claims(reordered) == body  # key order never changes the signed bytes
    text = qr_payload.assemble(body, bytes(range(64)))
    claims, parsed_body, signature = qr_payload.parse(text)
    assert claims == CLAIMS
    assert parsed_body == body
    assert signature == bytes(range(64))
    assert claims.licence_type == "traffic_pass"
    assert claims.valid_until.isoformat() == "2026-12-31"
    assert claims.issuer_province == "120000"


def test_payload_fits_a_phone_scannable_qr_in_alphanumeric_mode():
    from yunzheng.elicense.rendering import make_qr

    text = qr_payload.assemble(qr_payload.encode_claims(CLAIMS), os.urandom(64))
    link = qr_payload.verification_link("https://yz.example.cn", text)
    assert link.startswith("HTTPS://YZ.EXAMPLE.CN/V/YZ1:")
    for content in (text, link):
        qr = make_qr(content)
        assert qr.mode == "alphanumeric"
        assert qr.error in ("M", "Q", "H")
        assert int(qr.version) <= 14, (len(content), qr.version)


@pytest.mark.parametrize(
    "wrapper",
    [
        "{p}",
        "  {p}\n",
        "HTTPS://YZ.EXAMPLE.CN/V/{p}",
        "https://host/verify/{p}",
        "http://127.0.0.1:8000/V/{p}/",
    ],
)
def test_payload_is_found_in_links(wrapper):
    text = qr_payload.assemble(qr_payload.encode_claims(CLAIMS), bytes(64))
    assert qr_payload.extract_payload(wrapper.format(p=text)) == text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "payload.malformed"),
        ("hello", "payload.malformed"),
        ("YZ1:", "payload.malformed"),
        ("YZ1:AAAA", "payload.malformed"),  # shorter than a signature
        ("YZ1:" + "A" * 4000, "payload.too_long"),
        (
            "YZ1:" + base64.b32encode(b"\x93\x01\x02\x03" + bytes(64)).decode().rstrip("="),
            "payload.malformed",
        ),
    ],
)
def test_malformed_payloads(text, code):
    with pytest.raises(PayloadError) as info:
        qr_payload.parse(text)
    assert info.value.code == code


def test_unknown_format_version_and_bad_fields_are_refused():
    for change in ({"v": 2}, {"typ": "XX"}, {"iss": "12"}, {"nbf": 20261399}, {"kid": "nokid"}, {"ver": 0}):
        fields = {f: getattr(CLAIMS, f) for f in CLAIMS.__struct_fields__} | change
        body = qr_payload.encode_claims(Claims(**fields))
        with pytest.raises(PayloadError):
            qr_payload.parse(qr_payload.assemble(body, bytes(64)))


def test_unknown_extra_fields_are_refused():
    import msgspec

    fields = [getattr(CLAIMS, f) for f in CLAIMS.__struct_fields__] + ["extra"]
    body = msgspec.msgpack.encode(fields)
    with pytest.raises(PayloadError):
        qr_payload.parse(qr_payload.assemble(body, bytes(64)))
