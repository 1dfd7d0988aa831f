"""Real headless Chromium: a passenger presses SOS; the vehicle's position reaches the exchange
over HTTP; 杭州's police sees the SOS alarm on its desk with the track drawn; the platform answers
with an explanation; the city clerk (logged in with password and TOTP) acknowledges and closes it
with a note, and the live count drops to zero."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from yunzheng.accounts.models import CompanyMembership
from yunzheng.accounts.services import staff_totp_device_create
from yunzheng.accounts.tests.factories import STAFF_PASSWORD, staff, totp_now
from yunzheng.alarms.models import Alarm
from yunzheng.alarms.services import rule_create
from yunzheng.alarms.tests.helpers import bj, position, send
from yunzheng.exchange.tests.conftest import make_uploader

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _cookie(user: Any, live_server: Any, device: Any = None) -> dict[str, Any]:
    client = Client()
    client.force_login(user)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}


def test_sos_alarm_from_upload_to_closing(page: Any, browser: Any, live_server: Any) -> None:
    uploader = make_uploader()
    clerk = staff("hz-alarm-clerk", region="330100")
    police = staff("hz-alarm-police", department="public_security", region="330100")
    rule_create(
        user=clerk,
        name="一键报警",
        region_code="330100",
        kind="warn_status",
        severity="critical",
        params={"bits": [0], "auto_close": False},
        enabled=True,
    )
    send(
        uploader,
        "positionVehicle",
        [position(uploader.company_id, bj(10, 0, s), warn=1) for s in range(0, 60, 5)],
    )
    alarm = Alarm.objects.get()

    # The police (its own session, second factor done) sees the SOS alarm and its track.
    police_device = staff_totp_device_create(user=police, confirmed=True)
    police_context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    police_context.set_default_timeout(30_000)
    police_context.add_cookies([_cookie(police, live_server, police_device)])
    police_page = police_context.new_page()
    police_page.goto("/supervision/alarms/")
    expect(police_page.get_by_test_id("count-sos")).to_have_text("1")
    expect(police_page.get_by_test_id(f"alarm-row-{alarm.pk}")).to_contain_text("浙A12345")
    police_page.get_by_test_id(f"alarm-link-{alarm.pk}").click()
    police_page.wait_for_selector("html[data-charts-ready]")
    assert police_page.get_by_test_id("alarm-map").locator("canvas").count() >= 1
    expect(police_page.get_by_test_id("close-form")).to_have_count(0)  # the police does not close it
    police_context.close()

    # The platform answers on the record.
    member = CompanyMembership.objects.get(company=uploader.company).user
    company_context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server.url)
    company_context.set_default_timeout(30_000)
    company_context.add_cookies([_cookie(member, live_server)])
    company_page = company_context.new_page()
    company_page.goto("/supervision/alarms/company/")
    company_page.get_by_test_id(f"company-alarm-link-{alarm.pk}").click()
    company_page.get_by_label("答复").select_option("explanation")
    company_page.get_by_label("内容").fill("乘客误触一键报警，已电话回访，乘客安全")
    company_page.get_by_role("button", name="提交").click()
    expect(company_page.get_by_test_id("event-explanation")).to_contain_text("乘客误触")
    company_context.close()

    # The city clerk logs in through the real staff login and handles it.
    device = TOTPDevice.objects.filter(user=clerk, confirmed=True).first() or staff_totp_device_create(
        user=clerk, confirmed=True
    )
    page.goto("/accounts/staff/login/?next=/supervision/alarms/")
    form = page.get_by_test_id("staff-login-form")
    form.locator("input[name=username]").fill(clerk.username)
    form.locator("input[name=password]").fill(STAFF_PASSWORD)
    form.locator("button[type=submit]").click()
    page.get_by_test_id("staff-otp-form").locator("input[name=token]").fill(totp_now(device))
    page.get_by_test_id("staff-otp-form").locator("button[type=submit]").click()
    page.wait_for_url("**/supervision/alarms/")
    expect(page.get_by_test_id("count-total")).to_have_text("1")
    expect(page.get_by_test_id("count-unacknowledged")).to_have_text("1")
    page.get_by_test_id(f"alarm-link-{alarm.pk}").click()
    page.wait_for_url(re.compile(rf".*/supervision/alarms/{alarm.pk}/$"))
    expect(page.get_by_test_id("event-explanation")).to_contain_text("乘客误触")
    page.get_by_test_id("acknowledge-form").get_by_role("button").click()
    expect(page.get_by_test_id("alarm-state")).to_have_text("已确认")
    page.get_by_test_id("close-form").locator("input[name=note]").fill("已核实：误触，乘客安全到达")
    page.get_by_test_id("close-form").get_by_role("button").click()
    expect(page.get_by_test_id("alarm-state")).to_have_text("已关闭")
    alarm.refresh_from_db()
    assert alarm.state == "closed"
    assert alarm.closed_by_id == clerk.pk
    assert alarm.close_note == "已核实：误触，乘客安全到达"

    # Back on the desk the live count says nothing is open.
    page.goto("/supervision/alarms/")
    page.wait_for_selector("html[data-alarm-poll]")
    expect(page.get_by_test_id("count-total")).to_have_text("0")
