"""Real headless Chromium: an applicant applies for a traffic pass on a phone-sized screen, staff
approve it, the applicant shows the pass, and its on-screen QR (decoded from a screenshot with
zxing-cpp) opens the public verification page, which reports it valid."""

from __future__ import annotations

import datetime as dt
import re
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

import pytest
import zxingcpp
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from PIL import Image
from playwright.sync_api import expect

from yunzheng.core.clock import today_in_china
from yunzheng.elicense import services
from yunzheng.elicense.models import PlateColour, TrafficPassApplication
from yunzheng.elicense.tests.conftest import SYSTEM, make_staff, make_verified_user
from yunzheng.elicense.traffic_pass_types import traffic_pass_type_save
from yunzheng.elicense.vehicles import vehicle_certificate_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login_cookie(user: Any, live_server: Any, *, otp_device: Any = None) -> dict[str, Any]:
    client = Client()
    client.force_login(user)
    if otp_device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = otp_device.persistent_id
        session.save()
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}


def test_apply_approve_show_and_verify_a_pass(page: Any, browser: Any, live_server: Any) -> None:
    services.root_key()
    services.signing_key_create(province="120000", actor=SYSTEM)
    applicant = make_verified_user(name="刘洋")
    today = today_in_china()
    vehicle_certificate_issue(
        certificate_number="120101009999",
        plate_number="津A12345",
        plate_colour=PlateColour.YELLOW,
        business_scope="道路普通货物运输",
        issuing_region="120100",
        valid_from=today - dt.timedelta(days=30),
        valid_until=today + dt.timedelta(days=365),
        actor=SYSTEM,
        owner_user=applicant,
    )
    staff = make_staff("120000", department="public_security")  # the city's traffic police
    # The city's pass types are data: a browser test's database is flushed between tests, so the
    # migration's seed may be gone; the traffic police define the type as they would on their page.
    traffic_pass_type_save(
        staff_user=staff,
        region_code="120000",
        code="truck_night",
        name="货车夜间通行证",
        max_validity_days=180,
    )

    # The applicant applies.
    page.context.add_cookies([login_cookie(applicant, live_server)])
    page.goto("/elicense/passes/apply/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.get_by_label("车牌号").fill("津A12345")
    page.get_by_label("通行证类型").select_option("truck_night")
    page.get_by_label("允许通行路段（每行一个）").fill("外环线（津静公路—津塘公路）\n快速路中环线")
    page.get_by_label("允许通行时段，例如 22:00-06:00").fill("22:00-06:00")
    page.get_by_label("车辆承担的任务").select_option("freight")
    page.get_by_label("本人声明：无其他路线可绕开限行路段").check()
    page.get_by_test_id("pass-submit").click()
    page.wait_for_url(re.compile(r".*/elicense/passes/\d+/$"))
    expect(page.get_by_test_id("pass-status")).to_have_text("已提交")
    application = TrafficPassApplication.objects.get(applicant_user=applicant)

    # Staff approve it in their own browser session.
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    staff_context.add_cookies([login_cookie(staff, live_server, otp_device=staff.test_device)])  # type: ignore[attr-defined]
    staff_page = staff_context.new_page()
    staff_page.goto("/elicense/staff/passes/")
    staff_page.get_by_role("link", name=application.reference).click()
    staff_page.get_by_test_id("staff-data-review").click()
    expect(staff_page.get_by_test_id("pass-status")).to_have_text("资料审核通过")
    staff_page.get_by_test_id("staff-approve").click()
    expect(staff_page.get_by_test_id("pass-status")).to_have_text("已批准")
    staff_context.close()

    # The applicant follows progress and shows the pass.
    page.reload()
    expect(page.get_by_test_id("pass-status")).to_have_text("已批准")
    assert "资料审核通过 → 已批准" in page.get_by_test_id("pass-timeline").inner_text()
    page.get_by_test_id("show-pass").click()
    qr = page.get_by_test_id("licence-qr")
    qr.wait_for()
    assert qr.bounding_box()["width"] >= 300  # big enough to scan from the phone
    decoded = zxingcpp.read_barcodes(Image.open(BytesIO(qr.screenshot())))
    assert len(decoded) == 1
    link = decoded[0].text
    assert "/V/YZ1:" in link

    # The QR link opens the public verification page: valid, with masked essentials.
    assert urlsplit(link).netloc.lower() == urlsplit(live_server.url).netloc
    page.goto(link)
    result = page.get_by_test_id("verify-result")
    expect(result).to_have_attribute("data-result", "valid")
    text = result.inner_text()
    assert "津A12345" in text
    assert "刘*" in text
    assert "刘洋" not in text
    assert "22:00-06:00" in text


def test_pass_form_defaults_follow_the_type_and_name_the_reviewing_police(
    page: Any, live_server: Any
) -> None:
    from yunzheng.accounts.models import StaffProfile
    from yunzheng.accounts.services import staff_user_create

    police = staff_user_create(
        username="tj-police-form",
        password="a-long-staff-password",
        department=StaffProfile.Department.PUBLIC_SECURITY,
        level=StaffProfile.Level.PROVINCE,
        region_code="120000",
        unit_name="天津市公安交通管理局",
        created_by=SYSTEM,
    )
    for order, (code, name, days, decision, windows, task) in enumerate(
        [
            ("truck_day", "货车日间通行证", 90, 7, ["09:00-16:00"], "freight"),
            ("truck_night", "货车夜间通行证", 180, 7, ["22:00-06:00"], "freight"),
            ("hazmat", "危险货物运输车辆通行证", 30, 5, [], ""),
            ("muck", "渣土运输车辆通行证", 60, 7, ["22:00-05:00"], "construction"),
        ]
    ):
        traffic_pass_type_save(
            staff_user=police,
            region_code="120000",
            code=code,
            name=name,
            max_validity_days=days,
            decision_working_days=decision,
            default_time_windows=windows,
            default_vehicle_task=task,
            sort_order=order,
        )
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.context.add_cookies([login_cookie(make_verified_user(name="刘洋"), live_server)])
    page.goto("/elicense/passes/apply/")
    today = today_in_china()
    expect(page.get_by_test_id("pass-authority")).to_contain_text("天津市公安交通管理局")
    windows = page.get_by_label("允许通行时段，例如 22:00-06:00")
    until = page.get_by_label("有效期至")
    hint = page.get_by_test_id("pass-type-hint")
    # The first type's defaults come from the server.
    expect(windows).to_have_value("09:00-16:00")
    expect(until).to_have_value((today + dt.timedelta(days=89)).isoformat())

    page.get_by_label("通行证类型").select_option("truck_night")
    expect(until).to_have_value((today + dt.timedelta(days=179)).isoformat())
    expect(windows).to_have_value("22:00-06:00")
    expect(hint).to_contain_text("180")

    page.get_by_label("通行证类型").select_option("hazmat")
    expect(until).to_have_value((today + dt.timedelta(days=29)).isoformat())
    expect(windows).to_have_value("")  # the type proposes none
    expect(hint).to_contain_text("30")
    expect(hint).to_contain_text("5")

    # What the applicant writes is theirs: another type does not overwrite it.
    windows.fill("05:00-07:00")
    page.get_by_label("通行证类型").select_option("truck_day")
    expect(windows).to_have_value("05:00-07:00")
    expect(until).to_have_value((today + dt.timedelta(days=89)).isoformat())
    # A later start keeps the type's length.
    page.get_by_label("有效期起").fill((today + dt.timedelta(days=10)).isoformat())
    page.get_by_label("有效期起").dispatch_event("change")
    expect(until).to_have_value((today + dt.timedelta(days=99)).isoformat())

    # The vehicle task follows the type too (a muck pass serves construction), unless chosen.
    task = page.locator("select[name=vehicle_task]")
    expect(task).to_have_value("freight")
    page.get_by_label("通行证类型").select_option("muck")
    expect(task).to_have_value("construction")
    task.select_option("municipal")
    page.get_by_label("通行证类型").select_option("truck_night")
    expect(task).to_have_value("municipal")
    assert not errors, errors
