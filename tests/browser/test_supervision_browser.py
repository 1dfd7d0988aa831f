"""Real headless Chromium: a city regulator (杭州 330100) logs in with password and TOTP through the
real staff login, opens the supervision dashboard and sees only 杭州's numbers and charts - not
宁波's, although both cities' platforms uploaded through the exchange interface."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunzheng.accounts.services import staff_totp_device_create
from yunzheng.accounts.tests.factories import STAFF_PASSWORD, staff, totp_now
from yunzheng.supervision.services import compliance_compute
from yunzheng.supervision.tests.builders import build_month

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_city_regulator_sees_only_its_city(
    page: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.SUPERVISION_MOVERS_MIN_ORDERS = 5
    build_month()  # 杭州: 甲出行 (40 orders) and 丙聚合 (4); 宁波: 乙出行 (10)
    for month in ("2026-09", "2026-10"):
        compliance_compute(month=month)

    user = staff("hz-transport-sv-browser", level="city", region="330100")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or staff_totp_device_create(
        user=user, confirmed=True
    )
    page.goto("/accounts/staff/login/?next=/supervision/%3Fmonth%3D2026-10")
    form = page.get_by_test_id("staff-login-form")
    form.locator("input[name=username]").fill(user.username)
    form.locator("input[name=password]").fill(STAFF_PASSWORD)
    form.locator("button[type=submit]").click()
    page.get_by_test_id("staff-otp-form").locator("input[name=token]").fill(totp_now(device))
    page.get_by_test_id("staff-otp-form").locator("button[type=submit]").click()
    page.wait_for_url("**/supervision/?month=2026-10")

    assert "杭州" in page.get_by_test_id("scope-label").inner_text()
    assert page.get_by_test_id("kpi-orders").inner_text() == "44"
    assert page.get_by_test_id("kpi-rate").inner_text() == "79.55%"
    platforms = page.get_by_test_id("platform-table").inner_text()
    assert "甲出行" in platforms
    assert "77.50%" in platforms
    assert "丙聚合" in page.get_by_test_id("aggregator-table").inner_text()
    content = page.content()
    assert "乙出行" not in content
    assert "宁波" not in content

    # ECharts (vendored, served by us) drew every chart into a canvas.
    page.wait_for_selector("html[data-charts-ready]")
    for chart in (
        "chart-orders",
        "chart-trend",
        "chart-platforms",
        "chart-cities",
        "chart-cancellations",
        "chart-map",
    ):
        assert page.get_by_test_id(chart).locator("canvas").count() >= 1, chart
    assert page.evaluate("() => typeof window.echarts") == "object"
    # The map draws the vendored province and city outlines (no tiles fetched).
    assert page.locator("html").get_attribute("data-map-outlines") == "1"
    assert page.evaluate("() => !!window.echarts.getMap('china') && !!window.echarts.getMap('china-cities')")
    map_dir = Path(os.environ.get("YZ_ARTIFACTS_DIR", "var/artifacts/browser"))
    map_dir.mkdir(parents=True, exist_ok=True)
    page.get_by_test_id("chart-map").screenshot(path=str(map_dir / "supervision-map.png"))

    # Drill down from the reasons to the orders of the unlicensed driver.
    page.get_by_test_id("reason-driver:unlicensed").click()
    page.wait_for_url("**/supervision/noncompliant/**")
    assert page.get_by_test_id("noncompliant-total").inner_text().startswith("5")
    rows = page.get_by_test_id("noncompliant-table").inner_text()
    assert "A261003DX" in rows
    assert "无证驾驶员" in rows
    assert "****" in rows

    # The table behind the chart, as CSV.
    page.goto("/supervision/?month=2026-10")
    with page.expect_download() as download:
        page.get_by_test_id("export-platforms-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "甲出行" in text
    assert "乙出行" not in text
