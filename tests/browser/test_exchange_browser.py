"""Real headless Chromium: a city regulator logs in (password + TOTP through the real staff login)
and follows one company's uploads, made by the traffic simulator over HTTP, down to an order's
story with its positions - in Chinese, with personal data masked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunzheng.accounts.services import staff_totp_device_create
from yunzheng.accounts.tests.factories import STAFF_PASSWORD, staff, totp_now
from yunzheng.exchange.client import ExchangeClient
from yunzheng.exchange.simulator import SimulationPlan, run
from yunzheng.exchange.spec.validation import BEIJING
from yunzheng.exchange.tests.conftest import make_uploader

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_city_regulator_follows_uploads_to_an_order(page: Any, live_server: Any) -> None:
    uploader = make_uploader()
    plan = SimulationPlan(
        company_id=uploader.company_id,
        drivers=2,
        orders=3,
        cancel_share=0.0,
        position_interval=60,
        seed=4,
        end=datetime.now(BEIJING).replace(microsecond=0),
    )
    with ExchangeClient(live_server.url, uploader.token, uploader.company_id, wire="protobuf") as client:
        report = run(plan, client)
    assert report.rejected == []
    assert report.summary.orders_completed >= 1

    user = staff("hz-transport-browser", level="city", region="330100")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or staff_totp_device_create(
        user=user, confirmed=True
    )
    page.goto("/accounts/staff/login/?next=/exchange/staff/")
    form = page.get_by_test_id("staff-login-form")
    form.locator("input[name=username]").fill(user.username)
    form.locator("input[name=password]").fill(STAFF_PASSWORD)
    form.locator("button[type=submit]").click()
    page.get_by_test_id("staff-otp-form").locator("input[name=token]").fill(totp_now(device))
    page.get_by_test_id("staff-otp-form").locator("button[type=submit]").click()
    page.wait_for_url("**/exchange/staff/")

    assert "近 7 天" in page.content()
    page.get_by_test_id("company-table").get_by_role("link", name=uploader.company.name).click()
    page.wait_for_url(f"**/exchange/staff/companies/{uploader.company_id}/")
    vehicles = page.get_by_test_id("vehicle-table")
    assert vehicles.locator("tbody tr").count() == 2
    drivers = page.get_by_test_id("driver-table").inner_text()
    assert "****" in drivers  # phones and licence numbers are masked
    assert "驾驶员" in page.content()

    orders = page.get_by_test_id("order-table")
    paid = None
    for link in orders.get_by_role("link").all():
        link.click()
        if page.get_by_test_id("order-status").inner_text() == "已支付":
            paid = page.url
            break
        page.go_back()
    assert paid is not None, "no completed order was shown"
    assert page.get_by_test_id("order-timeline").locator("li").count() >= 5
    assert page.get_by_test_id("position-table").locator("tbody tr").count() >= 2
