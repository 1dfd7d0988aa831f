"""API authentication for people (companies' machines use `credentials.authenticate_company_token`).

Reuse in any app's router:

    from yunzheng.accounts.auth import user_auth

    @router.post("/cases", auth=user_auth)
    def create_case(request, payload: ...):
        ensure_real_name_verified(request.auth)   # request.auth is the User

`user_auth` accepts a bearer token (`Authorization: Bearer yzu_…`, from POST /api/v1/auth/login,
for app and mini-program clients) or the Django session of the web pages (with CSRF checks for
unsafe methods, as ninja's `django_auth` does).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, django_auth

from yunzheng.accounts.conf import app_settings
from yunzheng.accounts.models import User
from yunzheng.accounts.services import authenticate_user_token


class UserTokenAuth(HttpBearer):
    """Bearer tokens of people. Returns the User; `request.user_token` is the token record."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        record = authenticate_user_token(token.strip())
        if record is None:
            return None
        request.user = record.user
        request.user_token = record  # type: ignore[attr-defined]
        return record.user


user_auth: list[Any] = [UserTokenAuth(), django_auth]


def client_ip(request: HttpRequest) -> str | None:
    """The client address the per-IP limits count: REMOTE_ADDR by default.

    X-Forwarded-For is not read unless settings.ACCOUNTS_TRUSTED_PROXY_COUNT says how many reverse
    proxies of ours append to it (nginx: `proxy_set_header X-Forwarded-For
    $proxy_add_x_forwarded_for`); then the address the outermost of them saw is taken, counted
    from the right, so entries a client forges on the left are ignored. Without a proxy setting,
    a deployment behind a proxy would count every client as the proxy's address.
    """
    raw = request.META.get("REMOTE_ADDR", "")
    proxies = int(app_settings.ACCOUNTS_TRUSTED_PROXY_COUNT)
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            raw = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None
