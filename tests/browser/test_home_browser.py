"""Real headless Chromium: the home page in Chinese, the switch to English, a screenshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_in_chinese_then_english(page: Any, tmp_path: Path) -> None:
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "道路运政" in page.locator("h1").inner_text()
    page.screenshot(path=str(tmp_path / "home-zh.png"), full_page=True)

    # The switch names each language in itself.
    assert page.get_by_test_id("language-en").inner_text() == "English"
    assert page.get_by_test_id("language-zh-hans").inner_text() == "简体中文"
    page.get_by_test_id("language-en").click()
    page.wait_for_url("**/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Road Transport Administration Platform"
    assert page.locator("#part-exchange h2").inner_text() == "Supervision data exchange"

    shot = tmp_path / "home-en.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # And back to Chinese.
    page.get_by_test_id("language-zh-hans").click()
    page.wait_for_url("**/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
