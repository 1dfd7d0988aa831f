"""HTTP side of the exchange: the upload interface (hot path) and the regulators' pages.

The upload interface is a plain Django view, not ninja: it reads raw bodies (JSON or protobuf,
optionally gzip) and must be fast. ``POST /exchange/v1/<path from the spec>``; every answer is
JSON. See docs/adr/0004-exchange-ingest-storage.md for the response contract.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from yunzheng.accounts.credentials import authenticate_company_token
from yunzheng.core.api import error_body
from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.db import read_checking_connection
from yunzheng.core.errors import DomainError, ErrorDetail
from yunzheng.core.middleware import current_request_id, machine_api
from yunzheng.exchange import selectors
from yunzheng.exchange.conf import app_settings
from yunzheng.exchange.error_codes import ExchangeErrorCode
from yunzheng.exchange.ingest import ingest_batch
from yunzheng.exchange.log.errors import LogUnavailable
from yunzheng.exchange.log.health import log_health
from yunzheng.exchange.spec import get_spec
from yunzheng.exchange.wire import WireError, decode_request

logger = logging.getLogger(__name__)


def _json(body: Any, status: int) -> HttpResponse:
    import msgspec

    return HttpResponse(msgspec.json.encode(body), status=status, content_type="application/json")


def _error(status: int, code: str, message: str, details: list[dict[str, str]] | None = None) -> HttpResponse:
    body = error_body(
        code=code,
        message=message,
        details=[ErrorDetail(field=d["field"], code=d["code"], message=d["message"]) for d in details or []],
    )
    return _json(body, status)


@machine_api
@csrf_exempt
def upload(request: HttpRequest, path: str) -> HttpResponse:
    """``POST /exchange/v1/<category>/<name>``: one batch of one interface."""
    try:
        return _upload(request, path)
    except WireError as exc:
        response = _error(exc.status, exc.code, exc.message, exc.details)
        if exc.status == 405:
            response["Allow"] = "POST"
        return response
    except LogUnavailable as exc:  # never a false acknowledgement: the company sends again later
        logger.warning("exchange upload: log unavailable: %s", exc)
        response = _error(
            503,
            ExchangeErrorCode.LOG_UNAVAILABLE,
            "the exchange cannot store uploads right now; nothing was acknowledged, send the batch again",
        )
        response["Retry-After"] = str(exc.retry_after_seconds)
        return response
    except Exception:  # never an HTML 500: the company gets the request id to quote
        logger.exception("exchange upload failed")
        return _error(500, "internal_error", "An internal error occurred; quote the request id.")


def _read_body(request: HttpRequest, max_bytes: int) -> bytes:
    """The request body, at most ``max_bytes + 1`` bytes of it (the caller's limit check sees more).

    ``Transfer-Encoding: chunked`` bodies (no Content-Length; common in HTTP client libraries that
    stream) are read from the WSGI input, which the server has de-chunked and ends at the body's
    end (``wsgi.input_terminated``, as gunicorn sets it): Django itself reads such a body as
    empty. A server that does not promise that gets 411 instead of a body silently lost.
    """
    length_header = request.META.get("CONTENT_LENGTH")
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    if chunked and not length_header:
        if not request.META.get("wsgi.input_terminated"):
            raise WireError(
                411,
                ExchangeErrorCode.LENGTH_REQUIRED,
                "this server cannot read a chunked body here: send Content-Length",
            )
        stream = request.META["wsgi.input"]
        chunks: list[bytes] = []
        received = 0
        while received <= max_bytes:
            chunk = stream.read(max_bytes + 1 - received)
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
        return b"".join(chunks)
    try:
        length = int(length_header or 0)
    except ValueError:
        length = 0
    if length > max_bytes:
        raise WireError(413, ExchangeErrorCode.BODY_TOO_LARGE, f"the body exceeds {max_bytes} bytes")
    # request.read() instead of request.body: our own limit replaces DATA_UPLOAD_MAX_MEMORY_SIZE.
    return request.read(max_bytes + 1)


def _upload(request: HttpRequest, path: str) -> HttpResponse:
    interface = get_spec().by_http_path.get("/" + path.strip("/"))
    if interface is None:
        raise WireError(404, ExchangeErrorCode.UNKNOWN_INTERFACE, f"/{path} is not an interface of the spec")
    if request.method != "POST":
        raise WireError(405, ExchangeErrorCode.METHOD_NOT_ALLOWED, "only POST is allowed")

    auth = request.headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    # The credential lookup is also the persistent connection's health check (no SELECT 1 first).
    credential = (
        read_checking_connection(lambda: authenticate_company_token(token.strip()))
        if scheme.lower() == "bearer"
        else None
    )
    if credential is None:
        response = _error(
            401,
            ExchangeErrorCode.NOT_AUTHENTICATED,
            "send a company credential: Authorization: Bearer yz_<key id>_<secret>",
        )
        response["WWW-Authenticate"] = 'Bearer realm="exchange"'
        return response

    max_bytes = int(app_settings.EXCHANGE_MAX_BODY_BYTES)
    max_records = int(app_settings.EXCHANGE_MAX_RECORDS)
    body = _read_body(request, max_bytes)
    decoded = decode_request(
        body=body,
        content_type=request.headers.get("Content-Type", ""),
        content_encoding=request.headers.get("Content-Encoding", ""),
        interface=interface,
        max_bytes=max_bytes,
        max_records=max_records,
    )
    ours = credential.company.supervision_company_id
    if decoded.company_id != ours:
        raise WireError(
            403,
            ExchangeErrorCode.COMPANY_MISMATCH,
            f"the envelope's CompanyId {decoded.company_id!r} is not your company's {ours!r}",
        )
    result = ingest_batch(
        credential=credential,
        interface=interface,
        records=decoded.records,
        wire_format=decoded.wire_format,
        request_id=current_request_id(),
        validated=decoded.validated,
    )
    # 200 whenever something valid was stored (ok/partial), 422 when every record was rejected:
    # a legacy uploader that only checks for 200 then notices a wholly broken feed.
    status = 422 if result.result == "rejected" else 200
    return _json(result.to_dict(), status)


@machine_api
@require_GET
def feed(request: HttpRequest) -> HttpResponse:
    """``GET /exchange/v1/feed?cursor=now|<sequence>|time:<ISO 8601>&limit=N`` (log mode): the
    records of the calling platform's region from the cursor, and the cursor to ask from next.
    Authenticated by the subscriber's bearer token (the one the exchange sends when pushing)."""
    from yunzheng.exchange import log

    if not log.enabled():
        return _error(404, ExchangeErrorCode.FEED_UNAVAILABLE, "the feed exists in log mode only")
    from yunzheng.exchange.log import provinces

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    subscriber = provinces.subscriber_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if subscriber is None:
        response = _error(401, ExchangeErrorCode.FEED_NOT_AUTHENTICATED, "send your platform's bearer token")
        response["WWW-Authenticate"] = 'Bearer realm="exchange-feed"'
        return response
    try:
        page = provinces.feed_page(
            subscriber=subscriber,
            cursor=request.GET.get("cursor", "now"),
            limit=_int_param(request, "limit", 100, 1, provinces.MAX_PAGE),
        )
    except provinces.BadCursor as exc:
        return _error(
            400,
            ExchangeErrorCode.FEED_BAD_CURSOR,
            str(exc),
            [{"field": "cursor", "code": ExchangeErrorCode.FEED_BAD_CURSOR, "message": str(exc)}],
        )
    except LogUnavailable as exc:
        response = _error(503, ExchangeErrorCode.LOG_UNAVAILABLE, "the log is unavailable; ask again later")
        response["Retry-After"] = str(exc.retry_after_seconds)
        return response
    return _json({"cursor": page.cursor, "messages": page.messages}, 200)


# ---------------------------------------------------------------------------------------------
# Regulators' pages
# ---------------------------------------------------------------------------------------------


def _scope_or_403(request: HttpRequest) -> selectors.ReadScope:
    try:
        return selectors.read_scope_for_user(current_user(request))
    except DomainError as exc:
        raise DjangoPermissionDenied(exc.message) from exc


@staff_required
@require_GET
def staff_overview(request: HttpRequest) -> HttpResponse:
    scope = _scope_or_403(request)
    days = _int_param(request, "days", 7, 1, 92)
    rows = selectors.upload_stats(scope=scope, days=days)
    companies = selectors.company_overview(rows)
    return render(
        request,
        "exchange/overview.html",
        {"scope": scope, "companies": companies, "days": days, "log_health": log_health()},
    )


@staff_required
@require_GET
def staff_company(request: HttpRequest, company_id: str) -> HttpResponse:
    scope = _scope_or_403(request)
    try:
        company = selectors.company_for_scope(scope=scope, supervision_company_id=company_id)
    except DomainError as exc:
        raise Http404(exc.message) from exc
    days = _int_param(request, "days", 7, 1, 92)
    context = {
        "scope": scope,
        "company": company,
        "days": days,
        "stats": selectors.upload_stats(scope=scope, days=days, company=company),
        "rejects": selectors.reject_stats(scope=scope, days=days, company=company)[:50],
        "vehicles": selectors.base_current(scope=scope, company=company, kind="vehicles")[:100],
        "drivers": selectors.base_current(scope=scope, company=company, kind="drivers")[:100],
        "orders": selectors.recent_orders(scope=scope, company=company, limit=30),
    }
    return render(request, "exchange/company.html", context)


@staff_required
@require_GET
def staff_order(request: HttpRequest, company_id: str, order_id: str) -> HttpResponse:
    scope = _scope_or_403(request)
    try:
        company = selectors.company_for_scope(scope=scope, supervision_company_id=company_id)
        story = selectors.order_story(scope=scope, company=company, order_id=order_id)
    except DomainError as exc:
        raise Http404(exc.message) from exc
    return render(request, "exchange/order.html", {"company": company, "story": story})


def _int_param(request: HttpRequest, name: str, default: int, lo: int, hi: int) -> int:
    try:
        value = int(request.GET.get(name, default))
    except ValueError:
        return default
    return max(lo, min(hi, value))
