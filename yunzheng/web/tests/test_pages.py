"""The web and API shell: Chinese first, English on request, one JSON error shape, health check."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_home_is_chinese_even_for_an_english_browser(client: Client) -> None:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "道路运政" in html
    assert "网约车监管信息交互" in html or "监管数据交换" in html


def test_language_switch_to_english_sticks(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Road Transport Administration Platform" in html
    assert "Supervision data exchange" in html


def test_unknown_language_cookie_falls_back_to_chinese(client: Client) -> None:
    client.cookies["django_language"] = "fr"
    assert client.get("/")["Content-Language"] == "zh-hans"


def test_healthz_checks_the_database(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert response["X-Request-ID"]


def test_request_id_is_echoed_when_acceptable(client: Client) -> None:
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc12345-trace")["X-Request-ID"] == "abc12345-trace"
    injected = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert "\n" not in injected
    assert injected != "bad id\nwith newline"


def test_api_docs_and_schema(client: Client) -> None:
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    # Served from our own static files, never from a CDN.
    assert b"cdn.jsdelivr" not in docs.content
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/platform/info" in schema["paths"]


def test_platform_info(client: Client) -> None:
    body = client.get("/api/v1/platform/info").json()
    assert [p["key"] for p in body["parts"]] == ["exchange", "conformance", "licensing", "office", "elicense"]


def test_workdays_endpoint(client: Client) -> None:
    body = client.get("/api/v1/platform/workdays/add", {"start": "2026-09-30", "days": "2"}).json()
    assert body == {"start": "2026-09-30", "days": 2, "due": "2026-10-09", "start_is_working_day": True}


def _assert_error_shape(body: dict[str, Any], *, code: str) -> dict[str, Any]:
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["code"] == code
    assert error["message"]
    return error


def test_schema_error_names_the_field_and_rule(client: Client) -> None:
    response = client.get("/api/v1/platform/workdays/add", {"start": "2026-02-30", "days": "-1"})
    assert response.status_code == 422
    error = _assert_error_shape(response.json(), code="validation_failed")
    fields = {d["field"]: d["code"] for d in error["details"]}
    assert fields["start"].startswith("schema.")
    assert fields["days"] == "schema.greater_than_equal"


def test_domain_error_has_the_same_shape(client: Client) -> None:
    response = client.get("/api/v1/platform/workdays/add", {"start": "2031-05-01", "days": "3"})
    assert response.status_code == 422  # a question about an unknown year is never a 5xx
    error = _assert_error_shape(response.json(), code="calendar.year_unknown")
    assert "2031" in error["message"]


def test_api_404_is_json(client: Client) -> None:
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    _assert_error_shape(response.json(), code="not_found")


def test_page_404_is_an_html_page(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]


def test_admin_login_page(client: Client) -> None:
    assert client.get("/admin/login/").status_code == 200


def test_api_errors_speak_chinese_by_default_and_english_on_request(client: Client) -> None:
    query = {"start": "2031-05-01", "days": "3"}
    chinese = client.get("/api/v1/platform/workdays/add", query).json()["error"]["message"]
    assert "法定节假日安排尚未录入" in chinese
    client.cookies["django_language"] = "en"
    english = client.get("/api/v1/platform/workdays/add", query).json()["error"]["message"]
    assert english.startswith("The statutory holiday schedule for 2031")


def test_admin_requires_a_second_factor(client: Client, django_user_model: Any) -> None:
    django_user_model.objects.create_superuser(username="root", password="a-long-password-1", email="")
    form = client.get("/admin/login/").content.decode()
    assert 'name="otp_token"' in form
    # The right password alone does not open the admin.
    client.post("/admin/login/?next=/admin/", {"username": "root", "password": "a-long-password-1"})
    assert client.get("/admin/").status_code == 302
