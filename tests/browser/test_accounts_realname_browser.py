"""Real headless Chromium: a new user logs in with an SMS code (read from the file outbox), uploads
a photo of an ID card, sees the OCR prefill in the form, and ends up real-name verified
(trusted-ocr backend). The photo is generated here with the Noto CJK font; OCR runs for real."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.helpers import log_out
from yunzheng.accounts.models import RealNameVerification, User
from yunzheng.accounts.tests.factories import id_card_image, id_number
from yunzheng.core.crypto import lookup_hash
from yunzheng.core.sms import read_outbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "13712345678"


def test_new_user_from_sms_login_to_verified_account(page: Any, settings: Any, tmp_path: Path) -> None:
    settings.IDENTITY_VERIFICATION_BACKEND = "yunzheng.accounts.identity.TrustedOcrBackend"
    settings.ACCOUNTS_PRIVATE_MEDIA_ROOT = tmp_path / "private"
    number = id_number(region="330106", birth="19900307", sequence="123")

    # 1. The login page, in Chinese although the browser asks for English.
    page.goto("/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h1").inner_text() == "手机号登录"
    page.get_by_label("手机号码").fill(PHONE)
    page.get_by_test_id("agree").check()
    page.get_by_test_id("send-code").click()
    page.get_by_test_id("code-sent").wait_for()
    assert "137****5678" in page.get_by_test_id("code-sent").inner_text()
    assert page.get_by_test_id("send-code").is_disabled()  # the one-minute countdown

    # 2. The code from the SMS outbox (the operator's side of the gateway).
    messages = [m for m in read_outbox(phone=PHONE) if m.template == "login_code"]
    assert len(messages) == 1
    assert "【道路运政】" in messages[0].text
    page.get_by_label("短信验证码").fill(str(messages[0].params["code"]))
    assert page.get_by_test_id("agree").is_checked()
    page.get_by_test_id("login").click()
    page.wait_for_url(re.compile(r"/accounts/real-name/\?next="))
    assert User.objects.filter(phone_hash=lookup_hash(PHONE)).count() == 1

    # 3. Upload the photo of the portrait side; OCR fills the form.
    photo = id_card_image(name="张三丰", number=number, image_format="JPEG")
    page.get_by_label("身份证人像面照片").set_input_files(
        {"name": "身份证.jpg", "mimeType": "image/jpeg", "buffer": photo}
    )
    started = time.perf_counter()
    page.get_by_test_id("upload-photo").click(timeout=120_000)  # OCR: seconds, more on a busy machine
    page.wait_for_url(re.compile(r"/accounts/real-name/\d+/confirm/"), timeout=120_000)
    print(f"\n[browser] upload + OCR round trip {time.perf_counter() - started:.2f} s")
    form = page.get_by_test_id("realname-form")
    assert form.get_by_label("姓名").input_value() == "张三丰"
    assert form.get_by_label("性别").input_value() == "M"
    assert form.get_by_label("民族").input_value() == "汉"
    assert form.get_by_label("出生日期").input_value() == "1990-03-07"
    assert form.get_by_label("住址").input_value() == "浙江省杭州市西湖区文三路100号2幢301室"
    assert form.get_by_label("公民身份号码").input_value() == number
    page.screenshot(path=str(tmp_path / "realname-prefill.png"), full_page=True)

    # 4. Submit the checked fields: the trusted-ocr backend approves at once.
    page.get_by_test_id("submit-realname").click()
    # The next step: back to the driver's home, which shows the new status.
    page.wait_for_url("**/home/driver/")
    assert "已实名" in page.get_by_test_id("realname-status").inner_text()
    page.goto("/accounts/real-name/")
    page.get_by_test_id("realname-verified").wait_for()
    assert page.get_by_test_id("masked-id-number").inner_text() == "3301**********" + number[-4:]
    assert "已实名" in page.get_by_test_id("realname-verified").inner_text()

    user = User.objects.get(phone_hash=lookup_hash(PHONE))
    assert user.is_real_name_verified
    assert user.real_name == "张三丰"
    assert user.id_number == number
    assert RealNameVerification.objects.get(user=user).status == RealNameVerification.Status.APPROVED

    # 5. The account page says so too; logging out ends the session.
    page.goto("/accounts/")
    assert page.get_by_test_id("real-name-status").inner_text() == "已实名"
    log_out(page)
    page.wait_for_url("**/")
    page.goto("/accounts/")
    page.wait_for_url("**/accounts/login/**")


def _signed_in(page: Any, live_server: Any) -> User:
    from django.test import Client

    from yunzheng.accounts.tests.factories import login

    user = login("13712340000")  # a new, unverified user (through the SMS login service)
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return user


def test_ocr_shows_progress_and_leaving_the_confirm_step_keeps_its_result(
    page: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    """#12: while the photo is read the page says so (and the button cannot be pressed twice);
    leaving the confirm step and coming back finds the recognised fields kept."""
    settings.ACCOUNTS_PRIVATE_MEDIA_ROOT = tmp_path / "private"
    number = id_number(region="330106", birth="19900307", sequence="456")
    _signed_in(page, live_server)
    page.goto("/accounts/real-name/")
    page.get_by_label("身份证人像面照片").set_input_files(
        {
            "name": "身份证.jpg",
            "mimeType": "image/jpeg",
            "buffer": id_card_image(name="王晓明", number=number),
        }
    )
    # What the page shows while it waits for the OCR is recorded as it happens (into localStorage,
    # which outlives the navigation), so the check never races the OCR's speed.
    page.evaluate(
        """() => {
            const record = () => {
                const busy = document.querySelector("[data-testid=busy]");
                const button = document.querySelector("[data-testid=upload-photo]");
                if (busy) {
                    localStorage.setItem("yz-busy", JSON.stringify({role: busy.getAttribute("role"),
                        text: busy.textContent, visible: busy.offsetParent !== null,
                        disabled: button.disabled}));
                }
            };
            new MutationObserver(record).observe(document.body,
                {childList: true, subtree: true, attributes: true});
        }"""
    )
    page.get_by_test_id("upload-photo").click(timeout=120_000)
    page.wait_for_url(re.compile(r"/accounts/real-name/\d+/confirm/"), timeout=120_000)
    form = page.get_by_test_id("realname-form")
    assert form.get_by_label("姓名").input_value() == "王晓明"
    seen = json.loads(page.evaluate("() => localStorage.getItem('yz-busy')") or "null")
    assert seen is not None, "no progress indicator while the photo was read"
    assert seen["role"] == "status"
    assert "几秒" in seen["text"]
    assert seen["visible"]
    assert seen["disabled"]  # the photo cannot be sent twice
    confirm_url = page.url
    labels = ("姓名", "性别", "民族", "出生日期", "住址", "公民身份号码")
    read = {label: form.get_by_label(label).input_value() for label in labels}
    assert read["公民身份号码"] == number

    # Leave the confirm step (the page's own link, then the browser's back button too).
    page.get_by_role("link", name="重新上传照片").click()
    page.get_by_test_id("realname-draft").wait_for()
    page.get_by_test_id("realname-draft-continue").click()
    page.wait_for_url(confirm_url)
    form = page.get_by_test_id("realname-form")
    assert {label: form.get_by_label(label).input_value() for label in labels} == read
    page.go_back()
    page.get_by_test_id("realname-draft").wait_for()
    page.go_forward()
    assert page.get_by_test_id("realname-form").get_by_label("公民身份号码").input_value() == number
    assert RealNameVerification.objects.count() == 1  # one photo, read once
