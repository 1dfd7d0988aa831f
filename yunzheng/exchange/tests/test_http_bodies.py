"""Request bodies as servers hand them over: chunked transfer encoding and gzip with trailing bytes
(issue #14 hardening)."""

from __future__ import annotations

import gzip
import io
import sys
from typing import Any

import msgspec
import pytest
from django.test.client import ClientHandler

from yunzheng.exchange.models import PositionRecord
from yunzheng.exchange.spec.samples import valid_record

from .conftest import JSON_TYPE, Uploader


def envelope(uploader: Uploader, n: int) -> bytes:
    records = [valid_record("positionVehicle", seed=i, CompanyId=uploader.company_id) for i in range(n)]
    return msgspec.json.encode(
        {
            "CompanyId": uploader.company_id,
            "Source": "0",
            "IPCType": "positionVehicle",
            "positionVehicle": records,
        }
    )


def chunked_post(uploader: Uploader, body: bytes, *, input_terminated: bool, **headers: str) -> Any:
    """POST as gunicorn hands a ``Transfer-Encoding: chunked`` request to the application: no
    CONTENT_LENGTH, the de-chunked body in wsgi.input and ``wsgi.input_terminated`` set."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": uploader.url("positionVehicle"),
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": JSON_TYPE,
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_AUTHORIZATION": f"Bearer {uploader.token}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **headers,
    }
    if input_terminated:
        environ["wsgi.input_terminated"] = True
    return ClientHandler(enforce_csrf_checks=False)(environ)


@pytest.mark.django_db
def test_a_chunked_body_is_read_in_full(uploader: Uploader) -> None:
    response = chunked_post(uploader, envelope(uploader, 3), input_terminated=True)
    assert response.status_code == 200, response.content
    assert msgspec.json.decode(response.content)["accepted"] == 3
    assert PositionRecord.objects.count() == 3


@pytest.mark.django_db
def test_a_chunked_gzip_body_is_read_in_full(uploader: Uploader) -> None:
    response = chunked_post(
        uploader, gzip.compress(envelope(uploader, 2)), input_terminated=True, HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 200, response.content
    assert PositionRecord.objects.count() == 2


@pytest.mark.django_db
def test_a_chunked_body_over_the_limit_is_413(uploader: Uploader, settings: Any) -> None:
    settings.EXCHANGE_MAX_BODY_BYTES = 1_000
    response = chunked_post(uploader, envelope(uploader, 10), input_terminated=True)
    assert response.status_code == 413
    assert msgspec.json.decode(response.content)["error"]["code"] == "body_too_large"


@pytest.mark.django_db
def test_a_server_that_does_not_end_the_input_gets_411_not_an_empty_batch(uploader: Uploader) -> None:
    response = chunked_post(uploader, envelope(uploader, 1), input_terminated=False)
    assert response.status_code == 411
    assert msgspec.json.decode(response.content)["error"]["code"] == "length_required"
    assert not PositionRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "trailer",
    [b"\x00", b"garbage", "second member"],
    ids=["one zero byte", "garbage", "a second gzip member"],
)
def test_bytes_after_the_first_gzip_member_are_refused(uploader: Uploader, trailer: Any) -> None:
    body = gzip.compress(envelope(uploader, 1))
    body += gzip.compress(envelope(uploader, 1)) if trailer == "second member" else trailer
    response = uploader.post_raw("positionVehicle", body, JSON_TYPE, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "decode_error"
    assert "after the end of the gzip stream" in error["message"]
    assert not PositionRecord.objects.exists()
