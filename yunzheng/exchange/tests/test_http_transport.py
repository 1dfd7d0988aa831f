"""The request as a whole: authentication, envelopes, formats, limits, garbage - never a 500."""

from __future__ import annotations

import gzip
import random
import zlib
from typing import Any

import msgspec
import pytest
from django.test import Client

from yunzheng.accounts.credentials import company_credential_revoke
from yunzheng.exchange.models import IngestBatch, PositionRecord
from yunzheng.exchange.spec.protobuf import Envelope, encode_otipc, encode_otipc_list
from yunzheng.exchange.spec.samples import valid_record

from .conftest import JSON_TYPE, PROTOBUF_TYPE, Uploader


def _positions(uploader: Uploader, n: int, seed: int = 0) -> list[dict]:
    return [valid_record("positionVehicle", seed=seed + i, CompanyId=uploader.company_id) for i in range(n)]


def _error(response: Any) -> tuple[int, str]:
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["request_id"] == response["X-Request-ID"]
    return response.status_code, body["error"]["code"]


@pytest.mark.django_db
def test_authentication_is_required(uploader: Uploader) -> None:
    body = msgspec.json.encode({"CompanyId": uploader.company_id})
    url = uploader.url("positionVehicle")
    anonymous = Client().post(url, data=body, content_type=JSON_TYPE)
    assert _error(anonymous) == (401, "not_authenticated")
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    wrong = uploader.post_raw("positionVehicle", body, JSON_TYPE, HTTP_AUTHORIZATION="Bearer yz_nope_nope")
    assert _error(wrong) == (401, "not_authenticated")
    basic = uploader.post_raw(
        "positionVehicle", body, JSON_TYPE, HTTP_AUTHORIZATION=f"Basic {uploader.token}"
    )
    assert _error(basic) == (401, "not_authenticated")
    company_credential_revoke(credential=uploader.credential, revoked_by=None)
    assert _error(uploader.post_json("positionVehicle", _positions(uploader, 1))) == (
        401,
        "not_authenticated",
    )


@pytest.mark.django_db
def test_envelope_company_must_be_the_credentials(uploader: Uploader) -> None:
    records = _positions(uploader, 2)
    assert _error(uploader.post_json("positionVehicle", records, company_id="3301OTHER0001")) == (
        403,
        "company_mismatch",
    )
    assert _error(uploader.post_protobuf("positionVehicle", records, company_id="3301OTHER0001")) == (
        403,
        "company_mismatch",
    )
    assert not PositionRecord.objects.exists()


@pytest.mark.django_db
def test_paths_methods_and_media_types(uploader: Uploader) -> None:
    client = uploader.client
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {uploader.token}"}
    assert _error(client.post("/exchange/v1/position/boat", data=b"{}", content_type=JSON_TYPE, **auth)) == (
        404,
        "unknown_interface",
    )
    got = client.get(uploader.url("positionVehicle"), **auth)
    assert _error(got) == (405, "method_not_allowed")
    assert got["Allow"] == "POST"
    assert _error(uploader.post_raw("positionVehicle", b"a,b", "text/csv")) == (415, "unsupported_media_type")
    assert _error(uploader.post_raw("positionVehicle", b"{}", JSON_TYPE, HTTP_CONTENT_ENCODING="br")) == (
        415,
        "unsupported_encoding",
    )
    # trailing slash is fine
    body = msgspec.json.encode(
        {"CompanyId": uploader.company_id, "Source": "0", "IPCType": "positionVehicle", "positionVehicle": []}
    )
    r = client.post(uploader.url("positionVehicle") + "/", data=body, content_type=JSON_TYPE, **auth)
    assert r.status_code == 200
    assert r.json()["received"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("envelope", "code"),
    [
        ({"Source": "0", "IPCType": "positionVehicle", "positionVehicle": []}, "envelope_field"),
        ({"CompanyId": "X", "IPCType": "positionVehicle", "positionVehicle": []}, "envelope_field"),
        ({"CompanyId": "X", "Source": "0", "IPCType": "nope", "positionVehicle": []}, "envelope_field"),
        (
            {"CompanyId": "X", "Source": "0", "IPCType": "positionDriver", "positionDriver": []},
            "envelope_mismatch",
        ),
        ({"CompanyId": "X", "Source": "0", "IPCType": "positionVehicle"}, "envelope_field"),
        (
            {"CompanyId": "X", "Source": "0", "IPCType": "positionVehicle", "positionVehicle": {}},
            "envelope_field",
        ),
        (
            {
                "CompanyId": "X",
                "Source": "0",
                "IPCType": "positionVehicle",
                "positionVehicle": [],
                "orderCreate": [],
            },
            "envelope_mismatch",
        ),
    ],
)
def test_bad_json_envelopes_are_400(uploader: Uploader, envelope: dict, code: str) -> None:
    r = uploader.post_raw("positionVehicle", msgspec.json.encode(envelope), JSON_TYPE)
    assert _error(r) == (400, code)


@pytest.mark.django_db
def test_protobuf_otipc_list_gzip(uploader: Uploader) -> None:
    records = _positions(uploader, 6)
    body = encode_otipc_list(
        [
            Envelope(uploader.company_id, "0", "positionVehicle", records[:4]),
            Envelope(uploader.company_id, "0", "positionVehicle", records[4:]),
        ]
    )
    r = uploader.post_raw("positionVehicle", gzip.compress(body), PROTOBUF_TYPE, HTTP_CONTENT_ENCODING="gzip")
    assert r.status_code == 200, r.content
    assert (r.json()["received"], r.json()["accepted"]) == (6, 6)
    assert IngestBatch.objects.get().wire_format == "protobuf"
    # a list mixing interfaces is refused as a whole
    mixed = encode_otipc_list(
        [
            Envelope(uploader.company_id, "0", "positionVehicle", records[:1]),
            Envelope(uploader.company_id, "0", "orderCreate", [valid_record("orderCreate")]),
        ]
    )
    assert _error(uploader.post_raw("positionVehicle", mixed, PROTOBUF_TYPE)) == (400, "envelope_mismatch")


@pytest.mark.django_db
def test_limits(uploader: Uploader, settings: Any) -> None:
    settings.EXCHANGE_MAX_RECORDS = 5
    settings.EXCHANGE_MAX_BODY_BYTES = 20_000
    assert _error(uploader.post_json("positionVehicle", _positions(uploader, 6))) == (413, "too_many_records")
    big = uploader.post_raw("positionVehicle", b"{" + b" " * 30_000 + b"}", JSON_TYPE)
    assert _error(big) == (413, "body_too_large")
    bomb = gzip.compress(b"{" + b" " * 5_000_000 + b"}")
    assert len(bomb) < 20_000
    assert _error(uploader.post_raw("positionVehicle", bomb, JSON_TYPE, HTTP_CONTENT_ENCODING="gzip")) == (
        413,
        "body_too_large",
    )
    truncated = gzip.compress(msgspec.json.encode({"a": 1}))[:-6]
    assert _error(
        uploader.post_raw("positionVehicle", truncated, JSON_TYPE, HTTP_CONTENT_ENCODING="gzip")
    ) == (
        400,
        "decode_error",
    )
    assert uploader.post_json("positionVehicle", _positions(uploader, 5)).status_code == 200


def _garbage(rng: random.Random, valid_pb: bytes) -> list[tuple[bytes, str, str]]:
    """(body, content type, content encoding) that must all end as 4xx JSON, never 500."""
    bodies: list[tuple[bytes, str, str]] = []
    for _ in range(60):
        blob = rng.randbytes(rng.randrange(0, 300))
        bodies.append((blob, JSON_TYPE, ""))
        bodies.append((blob, PROTOBUF_TYPE, ""))
    for cut in range(1, len(valid_pb), max(1, len(valid_pb) // 40)):
        bodies.append((valid_pb[:cut], PROTOBUF_TYPE, ""))
        flipped = bytearray(valid_pb)
        flipped[cut] ^= 0xFF
        bodies.append((bytes(flipped), PROTOBUF_TYPE, ""))
    for doc in (
        b"[]",
        b"[{}]",
        b"null",
        b"1e999",
        b'"x"',
        b"{" * 5000 + b"}" * 5000,
        b"[" * 100_000,
        b'{"CompanyId": 123456789012345678901234567890, "Source": 0, "IPCType": []}',
        b'{"CompanyId": "3301YZCX0001", "Source": "0", "IPCType": "positionVehicle", "positionVehicle": '
        b'[1, "x", null, [], {"a": {"b": [1, {"c": 1e308}]}}, {"Longitude": 99999999999999999999999999}]}',
        b'{"CompanyId": "\xff\xfe", "Source": "0"}',
        b"\xef\xbb\xbf{}",
    ):
        bodies.append((doc, JSON_TYPE, ""))
    bodies.append((zlib.compress(b"{}"), JSON_TYPE, "gzip"))
    bodies.append((b"\x1f\x8b" + rng.randbytes(50), PROTOBUF_TYPE, "gzip"))
    return bodies


@pytest.mark.django_db
def test_garbage_never_causes_a_500(uploader: Uploader) -> None:
    rng = random.Random(20261121)
    valid_pb = encode_otipc(uploader.company_id, "positionVehicle", _positions(uploader, 3))
    for body, content_type, encoding in _garbage(rng, valid_pb):
        extra = {"HTTP_CONTENT_ENCODING": encoding} if encoding else {}
        r = uploader.post_raw("positionVehicle", body, content_type, **extra)
        assert r.status_code < 500, (body[:80], r.status_code, r.content[:300])
        assert r["Content-Type"].startswith("application/json")
        if r.status_code >= 400 and r.status_code != 422:
            assert "error" in r.json()


@pytest.mark.django_db
def test_the_upload_interface_skips_the_page_middleware(uploader: Uploader) -> None:
    """Machine requests (core.middleware.machine_api) pass the security and request-id middleware
    only: no session, locale, CSP or frame headers (issue #16: a fixed cost of every batch)."""
    uploader.client.cookies["sessionid"] = "not-a-session"
    response = uploader.post_json("positionVehicle", _positions(uploader, 1))
    assert response.status_code == 200
    assert response["X-Request-ID"]
    assert response["X-Content-Type-Options"] == "nosniff"
    for header in ("Content-Security-Policy", "Content-Language", "Vary", "X-Frame-Options", "Set-Cookie"):
        assert header not in response, header
    page = Client().get("/")  # a page still gets the whole chain
    assert "Content-Security-Policy" in page
    assert "Content-Language" in page
