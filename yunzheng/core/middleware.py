"""Request ids: every request gets one, echoed in the response, the logs and the audit log."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.http import HttpRequest, HttpResponse

_current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# Accept a caller's id only if it is short and harmless, so it can't inject into logs.
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str:
    return _current_request_id.get()


class RequestIdMiddleware:
    header = "X-Request-ID"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(self.header, "")
        request_id = incoming if _ACCEPTABLE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current_request_id.reset(token)
        response[self.header] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class DomainErrorPageMiddleware:
    """Pages: `core.auth.current_user` raising NotAuthenticated (or the staff second factor
    missing) sends the visitor to the right login page rather than a 500; another domain
    PermissionDenied becomes the 403 page, a NotFound the 404 page. APIs never get here (ninja
    answers them itself)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.conf import settings
        from django.contrib.auth.views import redirect_to_login
        from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
        from django.http import Http404
        from django.shortcuts import resolve_url

        from yunzheng.core.auth import SECOND_FACTOR_REQUIRED
        from yunzheng.core.errors import NotAuthenticated, NotFound, PermissionDenied

        if isinstance(exception, NotAuthenticated):
            return redirect_to_login(request.get_full_path())
        if isinstance(exception, PermissionDenied):
            if exception.code == SECOND_FACTOR_REQUIRED:
                return redirect_to_login(
                    request.get_full_path(), login_url=resolve_url(settings.STAFF_LOGIN_URL)
                )
            raise DjangoPermissionDenied(exception.message) from exception
        if isinstance(exception, NotFound):
            raise Http404(exception.message) from exception
        return None


_View = TypeVar("_View", bound=Callable[..., HttpResponse])


def machine_api(view: _View) -> _View:
    """Mark a view as a machine interface (bearer credential, raw bodies, JSON answers): under a
    ``MACHINE_API_PATH_PREFIXES`` path, :class:`MachineApiMiddleware` calls it directly, without
    the page middleware after it (sessions, CSRF, locale, authentication, OTP, messages, CSP),
    which a machine request never uses and which cost every upload a fixed share (issue #16).
    The view must authenticate the caller itself and answer every error as JSON."""
    view.machine_api = True  # type: ignore[attr-defined]
    return view


class MachineApiMiddleware:
    """Short-circuits requests of :func:`machine_api` views past the page middleware.

    Placed after the security, static-file and request-id middleware (HTTPS redirect, security
    headers and the request id still apply). Only paths under ``MACHINE_API_PATH_PREFIXES`` are
    resolved here; a path there whose view is not marked goes through the whole chain.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.urls import Resolver404, resolve

        from yunzheng.core.conf import app_settings

        path = request.path_info
        if path.startswith(tuple(app_settings.MACHINE_API_PATH_PREFIXES)):
            try:
                match = resolve(path)
            except Resolver404:
                return self.get_response(request)
            if getattr(match.func, "machine_api", False):
                request.resolver_match = match
                response: HttpResponse = match.func(request, *match.args, **match.kwargs)
                return response
        return self.get_response(request)
