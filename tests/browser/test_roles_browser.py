"""Done means (#12): each role starts at `/`, logs in through the pages, and reaches every destination
of its home by clicking links only; every page has the common header and a logout.

The destinations are read from the role's home itself (every link of its main part, plus the header
links), so a link added to a home is walked without editing this test. Each role's home is
photographed at 390 px and 1366 px into `var/artifacts/browser/` (git-ignored; override with
YZ_ARTIFACTS_DIR), and the destinations with their clicks from the home are printed and written to
`roles.json` and, as one markdown table per role, `destinations.md` there. The clicks are the
clicks this test made (counted by `Clicks`), from the role's home: a company's pages are two
clicks from the company contact's home (the company, then the page), a header link on a phone is
two (the menu button, then the link).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

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


class Clicks:
    """Every click the test makes goes through here, so each destination's count is real."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.count = 0

    def click(self, locator: Any) -> None:
        locator.click()
        self.count += 1

    def open_menu(self) -> None:
        """On a phone the header's links fold behind the menu button: unfolding them is a click."""
        toggle = self.page.get_by_test_id("menu-toggle")
        if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
            self.click(toggle)


def _path(page: Any) -> str:
    return "/" + page.url.split("//", 1)[-1].split("/", 1)[-1]


def _title(page: Any) -> str:
    """The page's own title, without the site name every title ends with."""
    return page.title().rsplit(" · ", 1)[0].strip()


def _walk(page: Any, role: str, home_path: str, *, clicks: Clicks, before: int = 0) -> list[dict[str, Any]]:
    """Click every link of the home's main part and of the header, one at a time, coming back home
    by the browser's back button (not a click). `before`: the clicks from the role's home to this
    page (a company contact first chooses the company)."""
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
        start = clicks.count
        if where == "header":
            clicks.open_menu()
            link = page.locator(".site-nav a[href]").nth(index)
        else:
            link = page.locator("main a[href]").nth(index)
        href = link.get_attribute("href")
        if href.startswith(("tel:", "mailto:")) or href.endswith((".pdf", ".png")):
            continue
        clicks.click(link)
        page.wait_for_load_state()
        _assert_common_header(page)
        seen.append(
            {
                "link": name,
                "where": where,
                "title": _title(page),
                "url": _path(page),
                "clicks": before + clicks.count - start,
            }
        )
    page.go_back()
    return seen


# The roles in the order destinations.md lists them, with their headings.
ROLE_HEADINGS = {
    "driver": "Driver (驾驶员)",
    "company": "Company contact (企业联系人)",
    "city-transport-clerk": "City transport clerk (市级交通运输主管部门)",
    "provincial-police": "Provincial police (省级公安)",
    "ministry-staff": "Ministry staff (交通运输部)",
    "anonymous": "Anonymous visitor (未登录访客)",
}


def _markdown(data: dict[str, list[dict[str, Any]]]) -> str:
    lines = [
        "# Destinations per role",
        "",
        "Written by `tests/browser/test_roles_browser.py`: every destination each role reached from its",
        "home by clicking links only, with the clicks the test made from the home.",
    ]
    for role in [*ROLE_HEADINGS, *sorted(set(data) - set(ROLE_HEADINGS))]:
        if role not in data:
            continue
        lines += ["", f"## {ROLE_HEADINGS.get(role, role)}", ""]
        lines += ["| Destination | URL path | Clicks from the home |", "| --- | --- | ---: |"]
        listed: set[tuple[str, int]] = set()
        for item in data[role]:
            if (item["url"], item["clicks"]) in listed:  # two links of the home to the same page
                continue
            listed.add((item["url"], item["clicks"]))
            title = str(item.get("title") or item["link"]).replace("|", "\\|")
            lines.append(f"| {title} | `{item['url']}` | {item['clicks']} |")
    return "\n".join(lines) + "\n"


def _record(role: str, destinations: list[dict[str, Any]]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "roles.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[role] = destinations
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1))
    (ARTIFACTS / "destinations.md").write_text(_markdown(data))
    print(f"\n[roles] {role}: {len(destinations)} destinations")
    for item in destinations:
        print(f"  {item['where']:6} {item['link']!s:40} -> {item.get('url', '')} ({item['clicks']} clicks)")
    assert all(item["clicks"] >= 1 for item in destinations), destinations


def test_anonymous_visitor(page: Any, demo: None) -> None:
    page.goto("/")
    # The camera button says why it cannot scan in a browser without a camera or QR reader.
    page.get_by_test_id("verify-licence").click()
    page.get_by_test_id("scan-camera").click()
    assert "相机" in page.get_by_test_id("scan-note").inner_text()
    page.go_back()
    _screenshots(page, "anonymous")
    clicks = Clicks(page)
    seen = []
    for testid in (
        "verify-licence",
        "login-driver",
        "login-company",
        "login-staff",
        "part-office",
        "part-elicense",
    ):
        start = clicks.count
        clicks.click(page.get_by_test_id(testid))
        page.wait_for_load_state()
        assert page.get_by_test_id("site-header").is_visible()
        seen.append(
            {
                "link": testid,
                "where": "main",
                "title": _title(page),
                "url": _path(page),
                "clicks": clicks.count - start,
            }
        )
        page.go_back()
    _record("anonymous", seen)


def test_driver(page: Any, demo: None) -> None:
    _sms_login(page, "13800000111", "login-driver")  # 李娜, a Hangzhou driver with cases
    page.wait_for_url("**/home/driver/")
    # 联系我们: the provincial business managers kept by staff (Zhejiang's first for her).
    contacts = page.locator("#contact-title + table").inner_text()
    assert contacts.index("浙江") < contacts.index("内蒙古")
    destinations = _walk(page, "driver", "/home/driver/", clicks=Clicks(page))
    urls = {d["url"] for d in destinations}
    assert any(u.startswith("/office/services/") for u in urls)
    assert "/office/mine/" in urls
    assert "/elicense/" in urls
    assert "/elicense/passes/" in urls
    assert any(u.startswith("/verify/") for u in urls)
    _record("driver", destinations)


def test_company_contact(page: Any, demo: None) -> None:
    _sms_login(page, "13800000001", "login-company")
    page.wait_for_url("**/home/company/")
    clicks = Clicks(page)
    clicks.click(page.locator("main a[data-testid^=company-]").first)  # the company: one click
    page.wait_for_url("**/home/company/*/")
    company_home = {
        "link": "company",
        "where": "main",
        "title": _title(page),
        "url": _path(page),
        "clicks": clicks.count,
    }
    destinations = _walk(page, "company", "/home/company/*/", clicks=clicks, before=clicks.count)
    urls = {d["url"] for d in destinations}
    assert {"/conformance/", "/licensing/", "/licensing/booking/", "/elicense/"} <= urls
    assert any(u.startswith("/accounts/companies/") for u in urls)
    # A company's own pages are one click further than the company's home.
    assert {d["clicks"] for d in destinations if d["where"] == "main"} == {2}
    _record("company", [company_home, *destinations])


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
    destinations = _walk(page, role, "/workbench/", clicks=Clicks(page))
    _record(role, destinations)
