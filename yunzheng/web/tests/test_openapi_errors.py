"""Every operation of the API declares its error answers in OpenAPI, in the one error shape."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from config.api import api

ERROR_REF = "#/components/schemas/ErrorOut"
METHODS = {"get", "post", "put", "patch", "delete"}


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = api.get_openapi_schema()
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_error_shape_is_a_component() -> None:
    schemas = api.get_openapi_schema()["components"]["schemas"]
    assert schemas["ErrorOut"]["properties"]["error"]["$ref"] == "#/components/schemas/ErrorBodyOut"
    body = schemas["ErrorBodyOut"]
    assert set(body["required"]) == {"code", "message", "details", "request_id"}
    assert set(schemas["ErrorDetailOut"]["required"]) == {"field", "code", "message"}


@pytest.mark.parametrize(
    ("path", "method", "operation"), _operations(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_operation_declares_its_4xx_answers(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    expected = {"400", "403", "404", "422"}
    if operation.get("security"):
        expected.add("401")
    if method != "get":
        expected.add("409")
    assert expected <= set(map(str, responses)), (path, method, sorted(responses))
    for status in expected:
        content = responses[int(status)] if int(status) in responses else responses[status]
        assert content["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (path, method, status)
    # ... and keeps its own success answer.
    assert any(str(code).startswith("2") for code in responses), (path, method)


def test_the_api_walks_at_least_every_router() -> None:
    prefixes = {path.split("/")[3] for path, _method, _op in _operations()}
    assert {"platform", "auth", "exchange", "elicense", "office", "licensing", "conformance"} <= prefixes
    assert {"supervision", "registries"} <= prefixes


@pytest.mark.django_db
def test_the_served_document_is_the_declared_one() -> None:
    served = Client().get("/api/openapi.json")
    assert served.status_code == 200
    operation = served.json()["paths"]["/api/v1/auth/me"]["get"]
    assert set(operation["responses"]) >= {"200", "400", "401", "403", "404", "422"}
