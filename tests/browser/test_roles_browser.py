"""Done means (#12): each role starts at `/`, logs in through the pages, and reaches every destination
of its home by clicking links only; every page has the common header and a logout.

The destinations are read from the role's home itself (every link of its main part, plus the header
links), so a link added to a home is walked without editing this test. Each role's home is
photographed at 390 px and 1366 px into `var/artifacts/browser/` (git-ignored; override with
YZ_ARTIFACTS_DIR), and the destinations with their clicks from the home are printed and written to
`roles.json` there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.helpers import open_menu
from yunzheng.accounts.tests.factories import totp_now
from yunzheng.core.sms import read_outbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(os.environ.get("YZ_ARTIFACTS_DIR", "var/artifacts/browser"))
STAFF_PASSWORD = "yunzheng-staff-demo"  # the demo staff password `make run` prints


@pytest.fixture
def demo(settings: Any) -> None:
    """The demo accounts, cases, licences and passes (everything but the exchange's months of
    uploads, which the supervision tests cover)."""
    from yunzheng.accounts import demo as accounts_demo
    from yunzheng.licensing import demo as licensing_demo
    from yunzheng.practitioners import demo as office_demo

    # Not elicense's demo: its pass types are seeded by a data migration, which transactional
    # tests flush; the licence pages are still reached (their lists are empty here).
    for module in (accounts_demo, licensing_demo, office_demo):
        module.load_demo()
    call_command("check")


def _assert_common_header(page: Any) -> None:
    assert page.get_by_test_id("site-header").is_visible(), page.url
    assert page.get_by_test_id("logout").count() == 1, page.url
    assert page.locator("h1, h2").count() >= 1, page.url
    assert "Traceback" not in page.content()


def _sms_login(page: Any, phone: str, entry: str) -> None:
    page.goto("/")
    page.get_by_test_id(entry).click()
    page.get_by_label("手机号码").fill(phone)
    page.get_by_test_id("agree").check()
    page.get_by_test_id("send-code").click()
    code = [m for m in read_outbox(phone=phone) if m.template == "login_code"][-1].params["code"]
    page.get_by_label("短信验证码").fill(str(code))
    page.get_by_test_id("login").click()


def _staff_login(page: Any, username: str) -> None:
    page.goto("/")
    page.get_by_test_id("login-staff").click()
    page.locator("main input[name=username]").fill(username)
    page.locator("main input[name=password]").fill(STAFF_PASSWORD)
    page.locator("main button[type=submit]").click()
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    page.locator("main input[name=token]").fill(totp_now(device))
    page.locator("main button[type=submit]").click()


def _screenshots(page: Any, role: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 844})
        shot = ARTIFACTS / f"{role}-home-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5_000
    page.set_viewport_size({"width": 390, "height": 844})
    # No three-line header on a phone: brand, language and the menu button fit one row.
    header_height = page.get_by_test_id("site-header").bounding_box()["height"]
    assert header_height < 70, header_height


def _walk(page: Any, role: str, home_path: str, prefix: list[str] | None = None) -> list[dict[str, Any]]:
    """Click every link of the home's main part and of the header, one at a time, coming back home
    by the header's brand and role link (clicks again, never typed)."""
    page.wait_for_url(f"**{home_path}")
    _assert_common_header(page)
    _screenshots(page, role)
    home_url = page.url
    links = page.locator("main a[href]")
    targets = [
        (links.nth(i).get_attribute("data-testid") or " ".join(links.nth(i).inner_text().split()), i, "main")
        for i in range(links.count())
    ]
    header_links = page.locator(".site-nav a[href]")
    targets += [
        (header_links.nth(i).get_attribute("data-testid"), i, "header") for i in range(header_links.count())
    ]
    seen: list[dict[str, Any]] = []
    for name, index, where in targets:
        if page.url != home_url:
            page.go_back()
            page.wait_for_url(home_url)
        if where == "header":
            open_menu(page)
            link = page.locator(".site-nav a[href]").nth(index)
        else:
            link = page.locator("main a[href]").nth(index)
        href = link.get_attribute("href")
        if href.startswith(("tel:", "mailto:")) or href.endswith((".pdf", ".png")):
            continue
        link.click()
        page.wait_for_load_state()
        _assert_common_header(page)
        seen.append(
            {"link": name, "where": where, "url": page.url.split("//", 1)[-1].split("/", 1)[-1], "clicks": 1}
        )
    page.go_back()
    return [{"link": step, "where": "login", "clicks": 0} for step in (prefix or [])] + seen


def _record(role: str, destinations: list[dict[str, Any]]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "roles.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[role] = destinations
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1))
    print(f"\n[roles] {role}: {len(destinations)} destinations, 1 click each from the home")
    for item in destinations:
        print(f"  {item['where']:6} {item['link']!s:40} -> /{item.get('url', '')}")


def test_anonymous_visitor(page: Any, demo: None) -> None:
    page.goto("/")
    # The camera button says why it cannot scan in a browser without a camera or QR reader.
    page.get_by_test_id("verify-licence").click()
    page.get_by_test_id("scan-camera").click()
    assert "相机" in page.get_by_test_id("scan-note").inner_text()
    page.go_back()
    _screenshots(page, "anonymous")
    seen = []
    for testid in (
        "verify-licence",
        "login-driver",
        "login-company",
        "login-staff",
        "part-office",
        "part-elicense",
    ):
        page.get_by_test_id(testid).click()
        page.wait_for_load_state()
        assert page.get_by_test_id("site-header").is_visible()
        seen.append({"link": testid, "where": "main", "url": page.url.split("/", 3)[-1], "clicks": 1})
        page.go_back()
    _record("anonymous", seen)


def test_driver(page: Any, demo: None) -> None:
    _sms_login(page, "13800000111", "login-driver")  # 李娜, a Hangzhou driver with cases
    page.wait_for_url("**/home/driver/")
    # 联系我们: the provincial business managers kept by staff (Zhejiang's first for her).
    contacts = page.locator("#contact-title + table").inner_text()
    assert contacts.index("浙江") < contacts.index("内蒙古")
    destinations = _walk(page, "driver", "/home/driver/")
    urls = {d["url"] for d in destinations}
    assert any(u.startswith("office/services/") for u in urls)
    assert "office/mine/" in urls
    assert "elicense/" in urls
    assert "elicense/passes/" in urls
    assert any(u.startswith("verify/") for u in urls)
    _record("driver", destinations)


def test_company_contact(page: Any, demo: None) -> None:
    _sms_login(page, "13800000001", "login-company")
    page.wait_for_url("**/home/company/")
    page.locator("main a[data-testid^=company-]").first.click()
    destinations = _walk(page, "company", "/home/company/*/")
    urls = {d["url"] for d in destinations}
    assert {"conformance/", "licensing/", "licensing/booking/", "elicense/"} <= urls
    assert any(u.startswith("accounts/companies/") for u in urls)
    _record("company", destinations)


@pytest.mark.parametrize(
    ("username", "role", "expected"),
    [
        (
            "hz-transport",
            "city-transport-clerk",
            {"accounts.realname", "practitioners.cases", "practitioners.verification", "licensing.steps"},
        ),
        ("zj-police", "provincial-police", {"accounts.realname", "licensing.department_reviews"}),
        ("mot-transport", "ministry-staff", {"licensing.steps", "practitioners.cases"}),
    ],
)
def test_staff(page: Any, demo: None, username: str, role: str, expected: set[str]) -> None:
    _staff_login(page, username)
    page.wait_for_url("**/workbench/")
    queues = {
        page.locator("[data-queue]").nth(i).get_attribute("data-queue")
        for i in range(page.locator("[data-queue]").count())
    }
    assert expected <= queues, queues
    destinations = _walk(page, role, "/workbench/")
    _record(role, destinations)
