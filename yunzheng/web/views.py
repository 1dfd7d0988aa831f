"""Platform-wide pages: home, health check, and the error pages."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    from yunzheng.web.parts import platform_parts

    return render(request, "web/home.html", {"parts": platform_parts()})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: 200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: database unreachable")
        return JsonResponse({"status": "unavailable", "database": "error"}, status=503)
    body: dict[str, object] = {"status": "ok", "database": "ok", "vendor": connection.vendor}
    from yunzheng.exchange.log.health import log_health

    log = log_health()
    if log is not None:  # log mode: the log's reachability and each consumer's lag, as details
        body["exchange_log"] = log
        if log["status"] != "ok":
            body["status"] = "degraded"
    return JsonResponse(body)


def _error_page(request: HttpRequest, *, status: int) -> HttpResponse:
    if request.path.startswith(("/api/", "/exchange/")):
        from yunzheng.core.api import error_body

        codes = {400: "bad_request", 403: "permission_denied", 404: "not_found", 500: "internal_error"}
        return JsonResponse(error_body(code=codes[status], message=str(status)), status=status)
    return render(request, "web/error.html", {"status": status}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _error_page(request, status=500)
