"""Real headless Chromium under the Content-Security-Policy (issue #14): the script-heavy pages —
the supervision dashboard with its vendored ECharts charts and map, an alarm's track chart, the
electronic-licence verify page (QR scanner), the login page's countdown — load with no CSP
violation reported (neither the `securitypolicyviolation` event nor a console message), and the
charts still draw into their canvases."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from playwright.sync_api import expect

from yunzheng.accounts.services import staff_totp_device_create
from yunzheng.accounts.tests.factories import staff
from yunzheng.alarms.models import Alarm
from yunzheng.alarms.services import rule_create
from yunzheng.alarms.tests.helpers import bj, position, send
from yunzheng.exchange.tests.conftest import make_uploader
from yunzheng.supervision.services import compliance_compute
from yunzheng.supervision.tests.builders import build_month

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


def _staff_context(browser: Any, live_server: Any, user: Any) -> Any:
    device = staff_totp_device_create(user=user, confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(30_000)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    context.add_init_script(RECORD_VIOLATIONS)
    return context


def _watch(page: Any) -> list[str]:
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text)
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
            else None
        ),
    )
    return console


def _violations(page: Any, console: list[str]) -> list[str]:
    return [*page.evaluate("() => window.__csp"), *console]


def test_script_heavy_pages_run_under_the_policy(browser: Any, live_server: Any, settings: Any) -> None:
    settings.SUPERVISION_MOVERS_MIN_ORDERS = 5
    build_month()
    compliance_compute(month="2026-10")
    uploader = make_uploader()
    clerk = staff("hz-csp-clerk", region="330100")
    rule_create(
        user=clerk,
        name="一键报警",
        region_code="330100",
        kind="warn_status",
        severity="critical",
        params={"bits": [0], "auto_close": False},
        enabled=True,
    )
    send(uploader, "positionVehicle", [position(uploader.company_id, bj(10, 0, s), warn=1) for s in (0, 5)])
    alarm = Alarm.objects.get()

    context = _staff_context(browser, live_server, clerk)
    page = context.new_page()
    console = _watch(page)

    response = page.goto("/supervision/?month=2026-10")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    page.wait_for_selector("html[data-charts-ready]")
    for chart in ("chart-orders", "chart-trend", "chart-platforms", "chart-cities", "chart-map"):
        assert page.get_by_test_id(chart).locator("canvas").count() >= 1, chart
    assert page.locator("html").get_attribute("data-map-outlines") == "1"
    page.get_by_test_id("chart-orders").locator("canvas").first.hover()  # tooltips (inline styles)
    assert _violations(page, console) == []

    page.goto(f"/supervision/alarms/{alarm.pk}/")
    page.wait_for_selector("html[data-charts-ready]")
    assert page.get_by_test_id("alarm-map").locator("canvas").count() >= 1
    page.goto("/supervision/alarms/")
    page.wait_for_selector("html[data-alarm-poll]")  # desk.js polls with fetch (connect-src)
    assert _violations(page, console) == []
    context.close()

    public = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server.url)
    public.set_default_timeout(30_000)
    public.add_init_script(RECORD_VIOLATIONS)
    page = public.new_page()
    console = _watch(page)
    page.goto("/verify/")
    page.locator("#el-scan").click()  # the scanner script runs (and explains it has no camera)
    expect(page.locator("#el-scan-note")).to_be_visible()
    assert _violations(page, console) == []
    page.goto("/no-such-page/")  # error pages carry the policy too
    assert _violations(page, console) == []
    public.close()


def test_an_inline_script_would_be_reported(browser: Any, live_server: Any) -> None:
    """The probe itself can fail: an inline script injected into a served page is refused and
    reported, so an empty list above means no violation, not a deaf listener."""
    context = browser.new_context(base_url=live_server.url)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    console = _watch(page)
    page.goto("/verify/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_function("() => window.__csp.length > 0")
    assert page.evaluate("() => window.__ran") is None
    assert any("script-src" in v for v in _violations(page, console))
    context.close()
