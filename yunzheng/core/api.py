"""The JSON API's error shape. Every API error leaves in one shape:
{"error": {"code": "...", "message": "...", "details": [{"field", "code", "message"}], "request_id": "..."}}
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from yunzheng.core.errors import DomainError, ErrorDetail, RateLimited
from yunzheng.core.middleware import current_request_id

logger = logging.getLogger(__name__)


def error_body(*, code: str, message: str, details: list[ErrorDetail] | None = None) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": [
                {
                    "field": d.field,
                    "code": d.code,
                    "message": d.message,
                    **({"params": d.params} if d.params else {}),
                }
                for d in details or []
            ],
            "request_id": current_request_id(),
        }
    }


def _loc_to_field(loc: list[Any] | tuple[Any, ...]) -> str:
    # pydantic reports e.g. ("body", "payload", "phone"); the client cares about "phone".
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "header", "cookie", "payload")]
    return ".".join(parts) or "body"


def install_error_handlers(api: NinjaAPI) -> None:
    """Map every exception an endpoint can raise to the one error shape (never an HTML 500)."""

    @api.exception_handler(DomainError)
    def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        response = api.create_response(
            request,
            error_body(code=exc.code, message=exc.message, details=exc.details),
            status=exc.status_code,
        )
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.retry_after_seconds)
        return response

    @api.exception_handler(NinjaValidationError)
    def _schema_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        details = [
            ErrorDetail(
                field=_loc_to_field(e.get("loc", ())),
                code=f"schema.{e.get('type', 'invalid')}",
                message=e.get("msg", ""),
            )
            for e in exc.errors
        ]
        body = error_body(code="validation_failed", message=_("The request is invalid."), details=details)
        return api.create_response(request, body, status=422)

    @api.exception_handler(AuthenticationError)
    def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        body = error_body(code="not_authenticated", message=_("Authentication is required."))
        return api.create_response(request, body, status=401)

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        body = error_body(code=f"http_{exc.status_code}", message=str(exc))
        return api.create_response(request, body, status=exc.status_code)

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        body = error_body(code="not_found", message=_("Not found."))
        return api.create_response(request, body, status=404)

    @api.exception_handler(Exception)
    def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A bug, never the client's fault: log it in full, tell the client only the request id.
        logger.exception("Unhandled API error")
        body = error_body(
            code="internal_error", message=_("An internal error occurred; quote the request id.")
        )
        return api.create_response(request, body, status=500)


# ---------------------------------------------------------------------------------------------
# The error shape in OpenAPI
# ---------------------------------------------------------------------------------------------


class ErrorDetailOut(Schema):
    field: str
    code: str
    message: str
    params: dict[str, Any] | None = None


class ErrorBodyOut(Schema):
    code: str
    message: str
    details: list[ErrorDetailOut]
    request_id: str


class ErrorOut(Schema):
    """The one error shape of every API answer that is not a success."""

    error: ErrorBodyOut


class _ErrorResponse(Schema):
    response: ErrorOut  # ninja's wrapping of a response model (see Operation._create_response_model)


ERROR_RESPONSES: dict[int, str] = {
    400: "The request breaks a rule (DomainError; `error.code` says which).",
    401: "Authentication is required (no, expired or revoked credentials).",
    403: "The caller may not do this.",
    404: "No such resource, or not one the caller may see.",
    409: "The request clashes with the current state.",
    422: "The input is invalid (`error.details` name the fields).",
    429: "Too many requests; `Retry-After` says when to try again.",
}


def error_statuses(operation: Operation) -> list[int]:
    """The error answers an operation can give, from what every operation shares: input is
    validated (422), services raise DomainErrors (400, 403, 404), an authenticated operation
    refuses missing credentials (401), and writes can clash with the current state (409). An
    operation that declares a status itself keeps its own declaration."""
    statuses = [400, 403, 404, 422]
    if operation.auth_callbacks:
        statuses.append(401)
    if set(operation.methods) - {"GET", "HEAD", "OPTIONS"}:
        statuses.append(409)
    return sorted(statuses)


class _ErrorResponsesSchema(OpenAPISchema):
    """ninja's OpenAPI schema, with the error answers of every operation declared (the runtime
    answers come from the exception handlers above, so each operation's success status stays
    its own)."""

    def responses(self, operation: Operation) -> dict[int, Any]:
        result = super().responses(operation)
        schema = self._create_schema_from_model(  # ninja annotates the model as a ParamModel
            _ErrorResponse,  # type: ignore[type-var]
            by_alias=True,
            mode="serialization",
        )[0]
        for status in error_statuses(operation):
            result.setdefault(
                status,
                {
                    "description": ERROR_RESPONSES[status],
                    "content": {self.api.renderer.media_type: {"schema": schema}},
                },
            )
        return result


class PlatformAPI(NinjaAPI):
    """The NinjaAPI whose OpenAPI document declares every operation's error answers."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return _ErrorResponsesSchema(self, path_prefix)
