"""Real headless Chromium: one company goes from the local quota to the operating licence, with
every party acting in its own login — the company's contact person (SMS code), the city transport
authority, the ministry, the province's transport department and each of the five reviewing
departments (password + TOTP through the real staff login pages)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunzheng.accounts.models import User
from yunzheng.accounts.services import staff_totp_device_create
from yunzheng.accounts.tests.factories import STAFF_PASSWORD, totp_now
from yunzheng.core.sms import read_outbox
from yunzheng.elicense.models import ElectronicLicence
from yunzheng.licensing import services
from yunzheng.licensing.demo import minimal_pdf
from yunzheng.licensing.models import LicenceApplication, Notification, OperatingLicence, Step
from yunzheng.licensing.tests.factories import company_with_contact, officials

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_context(browser: Any, live_server: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(
            viewport={"width": 1200, "height": 900}, locale="zh-CN", base_url=live_server.url
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def staff_login(page: Any, user: User) -> Any:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or staff_totp_device_create(
        user=user, confirmed=True
    )
    page.goto("/accounts/staff/login/?next=/licensing/staff/")
    form = page.get_by_test_id("staff-login-form")
    form.locator("input[name=username]").fill(user.username)
    form.locator("input[name=password]").fill(STAFF_PASSWORD)
    form.locator("button[type=submit]").click()
    page.get_by_test_id("staff-otp-form").locator("input[name=token]").fill(totp_now(device))
    page.get_by_test_id("staff-otp-form").locator("button[type=submit]").click()
    page.wait_for_url("**/licensing/staff/")
    return page


def company_login(page: Any, phone: str) -> Any:
    page.goto("/accounts/login/?next=/licensing/")
    page.locator("input[name=phone]").fill(phone)
    page.get_by_test_id("agree").check()
    page.get_by_test_id("send-code").click()
    page.get_by_test_id("code-sent").wait_for()
    code = [m for m in read_outbox(phone=phone) if m.template == "login_code"][-1].params["code"]
    page.locator("input[name=code]").fill(str(code))
    page.get_by_test_id("login").click()
    page.wait_for_url("**/licensing/")
    return page


def open_case(page: Any, application: LicenceApplication) -> None:
    """Open the case from the party's own desk (its queue lists it)."""
    page.goto("/licensing/staff/")
    page.locator(f'a[href="/licensing/staff/applications/{application.pk}/"]').first.click()
    page.get_by_test_id("current-step").wait_for()


def press(page: Any, testid: str) -> None:
    page.get_by_test_id(testid).click()
    page.locator(".message.success").first.wait_for()


def act(page: Any, application: LicenceApplication, testid: str) -> None:
    open_case(page, application)
    press(page, testid)


def upload(page: Any, name: str, *, kind: str | None = None) -> None:
    form = page.get_by_test_id("upload-form")
    if kind:
        form.locator("select[name=kind]").select_option(kind)
    form.locator("input[name=file]").set_input_files(
        {"name": name, "mimeType": "application/pdf", "buffer": minimal_pdf(name)}
    )
    form.get_by_test_id("upload").click()
    page.locator(".message.success").first.wait_for()


def step_of(application: LicenceApplication) -> str:
    application.refresh_from_db()
    return application.step


def test_one_company_from_quota_to_licence(open_context: Any, tmp_path: Path, settings: Any) -> None:
    settings.LICENSING_PRIVATE_MEDIA_ROOT = tmp_path / "files"
    company, contact = company_with_contact()
    who = officials()
    now = timezone.now()
    month = timezone.localdate(now).replace(day=1)
    services.test_slot_month_create(
        month=month, user=who.ministry, capacity=20, opens_at=now - dt.timedelta(hours=1)
    )

    # Local quota: the city transport authority records that Hangzhou accepts new platforms.
    city = staff_login(open_context(), who.city)
    assert "城市交通运输主管部门" in city.get_by_test_id("desk-party").inner_text()
    city.goto("/licensing/staff/quotas/")
    city.get_by_test_id("quota-form").locator("select[name=city_code]").select_option("330100")
    city.get_by_test_id("save-quota").click()
    city.locator(".message.success").wait_for()

    # The company applies and submits annexes 2, 3, 4 and the cloud-server proof.
    firm = company_login(open_context(), contact.phone or "")
    firm.get_by_test_id("apply").click()
    firm.get_by_test_id("contact-box").wait_for()
    application = LicenceApplication.objects.get(company=company)
    assert "修改联系人" in firm.get_by_test_id("contact-change-link").inner_text()
    for kind in ("annex2", "annex3", "annex4", "cloud_proof"):
        upload(firm, f"{kind}.pdf", kind=kind)
    firm.get_by_test_id("submit-quota").click()
    firm.locator(".message.success").wait_for()
    assert "城市交通运输主管部门" in firm.get_by_test_id("waiting-on").inner_text()
    assert step_of(application) == Step.QUOTA_REVIEW

    # The city clerk sends the work contact letter to the ministry.
    open_case(city, application)
    city.get_by_test_id("letter-form").locator("input[name=letter_number]").fill("杭运管函〔2026〕7号")
    press(city, "send-letter")
    assert step_of(application) == Step.MINISTRY_REPLY

    # The ministry replies, the company completes its information, the ministry opens the accounts.
    ministry = staff_login(open_context(), who.ministry)
    open_case(ministry, application)
    ministry.get_by_test_id("reply-form").locator("input[name=reply_number]").fill("交运便字〔2026〕101号")
    press(ministry, "ministry-reply")
    firm.goto(f"/licensing/applications/{application.pk}/")
    info = firm.get_by_test_id("info-form")
    info.locator("input[name=platform_name]").fill("云途出行")
    info.locator("input[name=app_name]").fill("云途出行")
    info.locator("input[name=server_location]").fill("华东（杭州）")
    firm.get_by_test_id("complete-info").click()
    firm.locator(".message.success").wait_for()
    for account in ("yuntu-test", "yuntu-vpn"):
        open_case(ministry, application)
        ministry.get_by_test_id("account-form").locator("input[name=account]").fill(account)
        press(ministry, "open-account")
    assert step_of(application) == Step.TEST_BOOKING

    # Technical test: the company books a slot; the ministry records the passed tests.
    firm.goto(f"/licensing/applications/{application.pk}/")
    firm.get_by_test_id("go-booking").click()
    firm.get_by_test_id(f"book-{month:%Y-%m}").click()
    firm.locator(".message.success").wait_for()
    assert (
        "19 / 20" in firm.locator(f'tr[data-month="{month:%Y-%m}"]').get_by_test_id("remaining").inner_text()
    )
    assert step_of(application) == Step.TEST_RUN
    act(ministry, application, "test-passed")
    assert step_of(application) == Step.CAPABILITY_MATERIALS

    # Online service capability: company → city window → province → five departments → decision.
    firm.goto(f"/licensing/applications/{application.pk}/")
    assert "有效期至" in firm.get_by_test_id("test-document").inner_text()
    upload(firm, "线上服务能力材料.pdf")
    firm.get_by_test_id("submit-capability").click()
    firm.locator(".message.success").wait_for()
    act(city, application, "forward")
    province = staff_login(open_context(), who.province)
    act(province, application, "distribute")
    for department, official in who.departments.items():
        reviewer = staff_login(open_context(), official)
        reviewer.get_by_test_id("review-item").first.click()
        form = reviewer.get_by_test_id("review-form")
        form.locator("textarea[name=comments]").fill(f"{department}：符合要求")
        reviewer.get_by_test_id("submit-review").click()
        reviewer.locator(".message.success").wait_for()
        reviewer.context.close()
    open_case(province, application)
    assert province.get_by_test_id("department-reviews").locator("tbody tr").count() == 5
    province.get_by_test_id("decide-form").locator("input[name=decision_number]").fill("浙交认〔2026〕9号")
    press(province, "decide")
    assert step_of(application) == Step.EVALUATIONS

    # The three evaluations, presented by the company, from an agency of the register.
    from yunzheng.licensing.tests.factories import qualified_agency

    qualified_agency("浙江省网络空间安全测评中心")
    firm.goto(f"/licensing/applications/{application.pk}/")
    firm.get_by_test_id("go-evaluations").click()
    for kind in ("level3", "network_protection", "app_security"):
        form = firm.get_by_test_id("evaluation-form")
        form.locator("select[name=kind]").select_option(kind)
        form.locator("input[name=agency]").fill("浙江省网络空间安全测评中心")
        form.locator("input[name=report_number]").fill(f"ZJCP-2026-{kind}")
        form.locator("input[name=filing_number]").fill("33010013001-26001" if kind == "level3" else "")
        form.locator("input[name=report]").set_input_files(
            {"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": minimal_pdf(kind)}
        )
        firm.get_by_test_id("record-evaluation").click()
        firm.locator(".message.success").wait_for()
    firm.get_by_test_id("back-to-application").click()
    firm.get_by_test_id("submit-evaluations").click()
    firm.locator(".message.success").wait_for()
    assert step_of(application) == Step.LICENCE_DECISION

    # Decision and licence by the city transport authority.
    act(city, application, "grant")
    assert step_of(application) == Step.GRANTED
    licence = OperatingLicence.objects.get(company=company)
    assert city.get_by_test_id("licence-number").inner_text() == licence.number
    assert ElectronicLicence.objects.filter(lid=licence.electronic_licence_id).exists()

    # The company sees its licence, the whole history, and was told at every step by SMS.
    firm.goto("/licensing/")
    assert licence.number in firm.get_by_test_id("licence").inner_text()
    firm.goto(f"/licensing/applications/{application.pk}/")
    history = firm.get_by_test_id("history").inner_text()
    for label in ("工作联系函", "部已复函", "测试", "五个部门", "线上服务能力认定通过", "三项测评", "发证"):
        assert label in history
    firm.screenshot(path=str(tmp_path / "licensing-granted.png"), full_page=True)
    sms = [m for m in read_outbox(phone=contact.phone) if m.template == "licensing_notice"]
    assert len(sms) >= 12
    assert Notification.objects.filter(recipient_company=company).count() == len(sms)
    assert (tmp_path / "licensing-granted.png").stat().st_size > 10_000


def test_a_disabled_booking_button_looks_disabled_says_why_and_does_nothing(open_context: Any) -> None:
    """#12: a month that is not open yet (or full) shows its button disabled — attribute, ARIA and
    style — with the reason beside it, and clicking it books nothing."""
    from yunzheng.licensing.models import TestBooking
    from yunzheng.licensing.tests.factories import advance_to

    company, contact = company_with_contact()
    who = officials()
    now = timezone.now()
    services.city_quota_set(city_code="330100", accepting=True, user=who.city)
    application = services.application_create(
        company=company, path="national", city_code="330100", user=contact
    )
    advance_to(application, Step.TEST_BOOKING, user=contact, who=who, now=now)
    month = (timezone.localdate(now).replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    services.test_slot_month_create(
        month=month, user=who.ministry, capacity=20, opens_at=now + dt.timedelta(days=3)
    )

    page = company_login(open_context(), contact.phone or "")
    page.goto("/licensing/booking/")
    button = page.get_by_test_id(f"book-{month:%Y-%m}")
    assert button.is_disabled()
    assert button.get_attribute("aria-disabled") == "true"
    style = button.evaluate("b => { const s = getComputedStyle(b); return [s.opacity, s.cursor, s.filter]; }")
    assert float(style[0]) < 0.6, style
    assert style[1] == "not-allowed", style
    assert "grayscale" in style[2], style
    reason_id = button.get_attribute("aria-describedby")
    assert page.locator(f"#{reason_id}").inner_text() == "尚未开放"
    url = page.url
    button.click(force=True)  # a click a person could make: nothing is sent
    page.wait_for_load_state()
    assert page.url == url
    assert not page.locator(".message").count()
    assert not TestBooking.objects.filter(company=company).exists()
