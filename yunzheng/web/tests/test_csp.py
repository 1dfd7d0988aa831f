"""Content-Security-Policy on every page (issue #14): every parameterless page of every app, for an
anonymous visitor and for a transport clerk with a verified second factor, and the 404 and 500
pages, answer with a policy whose scripts come from our origin only; and no template carries an
inline script or an inline event handler that the policy would block."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path

from config.urls import urlpatterns as site_urlpatterns
from yunzheng.accounts.tests.factories import staff, staff_client

pytestmark = pytest.mark.django_db


def _boom(request: Any) -> Any:
    raise RuntimeError("an unexpected failure")


urlpatterns = [path("boom/", _boom), *site_urlpatterns]
handler500 = "yunzheng.web.views.server_error"


def _plain_paths(resolver: URLResolver, prefix: str = "") -> list[str]:
    found = []
    for entry in resolver.url_patterns:
        pattern = str(entry.pattern)
        if "<" in pattern or "(?P" in pattern or pattern.startswith("^"):
            continue
        if isinstance(entry, URLResolver):
            if pattern in ("admin/", "api/", "i18n/"):
                continue
            found += _plain_paths(entry, prefix + pattern)
        elif isinstance(entry, URLPattern):
            found.append("/" + prefix + pattern)
    return sorted(set(found))


def _script_src(policy: str) -> str:
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    return directives["script-src"]


def _assert_strict(response: Any, where: str) -> None:
    policy = response.get("Content-Security-Policy", "")
    assert policy, f"{where}: no Content-Security-Policy"
    assert _script_src(policy) == "'self'", where
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy


def test_every_page_of_every_app_carries_the_policy() -> None:
    paths = _plain_paths(get_resolver())
    apps = {p.strip("/").split("/")[0] for p in paths}
    assert {"accounts", "office", "licensing", "conformance", "supervision", "exchange", "verify"} <= apps
    clerk = staff_client(staff("csp-clerk", region="330100"))
    html_pages = 0
    for who, client in (("anonymous", Client()), ("staff", clerk)):
        for url in paths:
            response = client.get(url)
            if response.get("Content-Type", "").startswith("text/html"):
                html_pages += 1
                _assert_strict(response, f"{who} {url} ({response.status_code})")
    assert html_pages > 40


def test_error_pages_carry_the_policy(settings: Any) -> None:
    _assert_strict(Client().get("/no-such-page/"), "404")
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    _assert_strict(response, "500")


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def test_no_template_has_inline_script_or_event_handlers() -> None:
    root = Path(settings.BASE_DIR) / "yunzheng"
    templates = list(root.glob("*/templates/**/*.html"))
    assert len(templates) > 50
    offenders = [
        str(t.relative_to(root))
        for t in templates
        if INLINE_SCRIPT.search(t.read_text(encoding="utf-8"))
        or INLINE_HANDLER.search(t.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_HANDLER.search('<button onclick="x()">')
