"""The One-Network Office in real headless Chromium: a driver renews a certificate with uploads on
a phone-sized screen, a clerk accepts and approves it at a desk, the driver sees the result; a
withdrawal before acceptance and one refused after it; a credit voucher whose QR code, decoded
from the downloaded PNG by zxing-cpp, opens the public verification page."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from django.test import TestCase
from PIL import Image

from yunzheng.accounts.models import User
from yunzheng.accounts.services import realname_verification_record_in_person
from yunzheng.core.crypto import lookup_hash
from yunzheng.core.sms import read_outbox
from yunzheng.practitioners import services
from yunzheng.practitioners.models import CaseState, CaseType, ServiceCase
from yunzheng.practitioners.tests.conftest import (
    ACTOR,
    DRIVER_ID,
    make_clerk,
    png_bytes,
    register,
    submitted,
    totp_now,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "13900000001"
DESK = {"width": 1280, "height": 900}


@pytest.fixture(autouse=True)
def _private_media(settings: Any, tmp_path: Path) -> None:
    settings.OFFICE_PRIVATE_MEDIA_ROOT = tmp_path / "office-private"
    settings.ACCOUNTS_PRIVATE_MEDIA_ROOT = tmp_path / "accounts-private"


def log_in_driver(page: Any, *, next_url: str = "/office/") -> User:
    """The real SMS login page; the account it creates is then verified at a counter (in person)."""
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("input[name=phone]", PHONE)
    page.get_by_test_id("agree").check()
    page.get_by_test_id("send-code").click()
    page.get_by_test_id("code-sent").wait_for()
    code = read_outbox(phone=PHONE)[-1].params["code"]
    page.fill("input[name=code]", code)
    page.get_by_test_id("login").click()
    page.wait_for_url(f"**{next_url}")
    user = User.objects.get(phone_hash=lookup_hash(PHONE))
    if not user.is_real_name_verified:
        realname_verification_record_in_person(
            user=user,
            name="张伟",
            id_number=DRIVER_ID,
            ethnicity="汉",
            address="浙江省杭州市西湖区文三路1号",
            recorded_by=ACTOR,
            reason="browser test",
        )
        user.refresh_from_db()
    return user


def log_in_clerk(browser: Any, live_server: Any, clerk: User) -> Any:
    """A desk-sized browser for the clerk, logged in with password and TOTP on the real pages."""
    context = browser.new_context(viewport=DESK, locale="en-US", base_url=live_server.url)
    context.set_default_timeout(15_000)
    desk = context.new_page()
    desk.goto("/accounts/staff/login/?next=/office/staff/")
    desk.fill("input[name=username]", clerk.username)
    desk.fill("input[name=password]", "office-test-staff-password")
    desk.get_by_role("button", name="下一步").click()
    desk.wait_for_url("**/accounts/staff/otp/**")
    desk.fill("input[name=token]", totp_now(clerk))
    desk.locator("form[data-testid=staff-otp-form] button[type=submit]").click()
    desk.wait_for_url("**/office/staff/")
    return desk


def test_renewal_with_uploads_accepted_and_approved_by_the_clerk(
    page: Any, browser: Any, live_server: Any, tmp_path: Path
) -> None:
    clerk = make_clerk("hz-clerk", region="330100")
    driver = log_in_driver(page)
    certificate = register(DRIVER_ID, number="3301002015001234")

    # Service list -> instructions -> agree.
    page.goto("/office/")
    page.get_by_test_id("service-renewal").click()
    page.get_by_test_id("instructions").wait_for()
    page.get_by_test_id("start").click()
    assert page.get_by_test_id("agree-form").locator(".errorlist").is_visible()  # agreement required
    page.get_by_test_id("agree").check()
    page.get_by_test_id("start").click()
    # Certificate -> personal information (name read-only, phone prefilled) -> delivery.
    page.get_by_test_id(f"certificate-{certificate.number}").get_by_test_id("choose").click()
    assert page.locator("input[name=name]").is_disabled()
    assert page.locator("input[name=name]").input_value() == "张伟"
    assert page.locator("input[name=phone]").input_value() == PHONE
    page.fill("input[name=address]", "浙江省杭州市西湖区文三路100号")
    page.fill("input[name=licence_class]", "C1")  # the guide asks for the licence class and reason
    page.fill("textarea[name=reason]", "证件即将到期")
    page.get_by_test_id("next").click()
    page.locator("input[name=method][value=mail]").check()
    page.fill("input[name=recipient]", "张伟")
    page.get_by_test_id("next").click()
    # Materials: a PDF renamed .png is refused by content; real images show "uploaded successfully".
    fake = tmp_path / "photo.png"
    fake.write_bytes(b"%PDF-1.4\n% not an image\n")
    page.get_by_test_id("file-photo_2inch").set_input_files(str(fake))
    page.get_by_test_id("upload-photo_2inch").click()
    assert "仅支持 PNG 和 JPEG" in page.get_by_test_id("error-photo_2inch").inner_text()
    for index, kind in enumerate(("photo_2inch", "driving_licence", "cert_info_page", "violation_page")):
        image = tmp_path / f"{kind}.jpg"
        Image.new("RGB", (400, 300), (40 * index, 120, 200)).save(image, format="JPEG")
        page.get_by_test_id(f"file-{kind}").set_input_files(str(image))
        page.get_by_test_id(f"upload-{kind}").click()
        assert "上传成功" in page.get_by_test_id(f"uploaded-{kind}").inner_text()
    page.get_by_test_id("next").click()
    page.get_by_test_id("submit").click()
    page.wait_for_url(re.compile(r".*/office/cases/\d+/$"))
    number = page.get_by_test_id("case-number").inner_text()
    assert re.fullmatch(r"ZJ-\d{4}-\d{6}", number)
    assert page.get_by_test_id("case-state").inner_text() == "已提交"
    assert page.get_by_test_id("accept-due").inner_text()
    page.screenshot(path=str(tmp_path / "office-submitted.png"), full_page=True)

    # The clerk, at a desk: queue -> case -> accept -> approve -> complete (mailed).
    desk = log_in_clerk(browser, live_server, clerk)
    row = desk.get_by_test_id(f"queue-row-{number}")
    assert "张*" in row.inner_text()
    row.get_by_role("link", name=number).click()
    assert desk.get_by_test_id("staff-materials").locator("img").count() == 4
    # Playwright's wait_for_function evaluates a string, which the pages' CSP (no eval) refuses;
    # evaluate() with a function body runs as a function through the devtools protocol instead.
    images = desk.get_by_test_id("staff-materials").locator("img")
    for index in range(images.count()):
        images.nth(index).evaluate(
            "image => image.complete ? null : new Promise(done => image.addEventListener('load', done))"
        )
    assert images.evaluate_all("images => images.every(image => image.complete && image.naturalWidth > 0)")
    desk.get_by_test_id("action-accept").click()
    desk.get_by_test_id("action-approve").click()
    desk.fill("input[name=note]", "EMS 1234567890")
    desk.get_by_test_id("action-complete").click()
    assert desk.get_by_test_id("case-state").inner_text() == "已办结"
    desk.screenshot(path=str(tmp_path / "office-staff.png"), full_page=True)
    desk.context.close()

    # The driver sees the completed case and the renewed certificate.
    page.goto("/office/mine/")
    page.get_by_test_id("my-cases").get_by_role("link").first.click()
    assert page.get_by_test_id("case-state").inner_text() == "已办结"
    assert "EMS 1234567890" in page.get_by_test_id("outcome").inner_text()
    today = dt.date.today()
    renewed_until = services.add_years(today, 6) - dt.timedelta(days=1)
    assert page.get_by_test_id("cert-valid-until").inner_text() == renewed_until.isoformat()
    timeline = page.get_by_test_id("timeline").inner_text()
    for step in ("提交申请", "受理", "审核通过", "办结"):
        assert step in timeline
    page.goto("/office/certificates/")
    assert page.get_by_test_id("cert-valid-until").inner_text() == renewed_until.isoformat()
    case = ServiceCase.objects.get(number=number)
    assert case.state == CaseState.COMPLETED
    assert case.applicant_id == driver.pk
    assert (
        len([m for m in read_outbox(phone=PHONE) if number in m.text]) == 4
    )  # submit, accept, approve, complete


def test_withdraw_before_acceptance_and_refused_after(page: Any) -> None:
    clerk = make_clerk("hz-clerk", region="330100")
    driver = log_in_driver(page, next_url="/office/mine/")
    first_certificate = register(DRIVER_ID, number="3301002015001234")
    second_certificate = register(DRIVER_ID, number="3301002015005678", categories=["freight"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        first = submitted(driver, first_certificate, CaseType.REPLACEMENT)
        second = submitted(driver, second_certificate, CaseType.RENEWAL)

    page.goto(f"/office/cases/{first.pk}/")
    page.get_by_test_id("withdraw").click()  # asks first
    assert page.get_by_test_id("case-state").inner_text() != "已撤回"
    page.get_by_test_id("withdraw-confirmed").click()
    assert page.get_by_test_id("case-state").inner_text() == "已撤回"
    assert "申请已撤回" in page.locator(".messages").inner_text()

    # The clerk accepts the second case while the driver has its page open: withdrawing is refused.
    page.goto(f"/office/cases/{second.pk}/")
    services.case_accept(case=second, staff=clerk)
    page.get_by_test_id("withdraw").click()
    page.get_by_test_id("withdraw-confirmed").click()
    assert "办件已受理，不能再撤回" in page.locator(".messages").inner_text()
    assert page.get_by_test_id("case-state").inner_text() == "已受理"
    assert page.get_by_test_id("withdraw").count() == 0
    second.refresh_from_db()
    assert second.state == CaseState.ACCEPTED


def test_credit_voucher_qr_opens_the_public_verification_page(
    page: Any, browser: Any, live_server: Any, tmp_path: Path
) -> None:
    from yunzheng.elicense.services import signing_key_create

    signing_key_create(province="330000", actor=ACTOR)
    clerk = make_clerk("hz-clerk", region="330100")
    driver = log_in_driver(page, next_url="/office/mine/")
    certificate = register(DRIVER_ID, number="3301002015001234")
    case = submitted(driver, certificate, CaseType.CREDIT_ASSESSMENT)
    services.case_accept(case=case, staff=clerk)
    services.case_approve(case=case, staff=clerk, grade="AAA")

    page.goto(f"/office/cases/{case.pk}/")
    assert "AAA" in page.get_by_test_id("voucher").inner_text()
    with page.expect_download() as download_info:
        page.get_by_test_id("voucher-png").click()
    png_path = tmp_path / "voucher.png"
    download_info.value.save_as(png_path)
    with page.expect_download() as pdf_info:
        page.get_by_test_id("voucher-pdf").click()
    pdf_path = tmp_path / "voucher.pdf"
    pdf_info.value.save_as(pdf_path)
    assert pdf_path.read_bytes()[:5] == b"%PDF-"

    # Decode the QR from the picture with an independent decoder, then open what it says.
    barcodes = zxingcpp.read_barcodes(Image.open(png_path))
    assert len(barcodes) == 1
    link = barcodes[0].text
    assert link.upper().startswith(live_server.url.upper())
    visitor = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")  # anyone, no login
    verifier = visitor.new_page()
    verifier.goto(link)
    result = verifier.get_by_test_id("verify-result")
    assert result.get_attribute("data-result") == "valid"
    text = result.inner_text()
    assert "AAA" in text
    assert certificate.number in text
    assert "张*" in text
    assert "张伟" not in text
    verifier.screenshot(path=str(tmp_path / "voucher-verified.png"), full_page=True)
    visitor.close()
    assert png_bytes()  # the helper images are real PNGs too
