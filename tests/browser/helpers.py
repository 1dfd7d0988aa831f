"""Helpers shared by the browser tests."""

from __future__ import annotations

from typing import Any


def open_menu(page: Any) -> None:
    """On a phone the header's links fold behind the menu button: unfold them (no-op on desktop)."""
    toggle = page.get_by_test_id("menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def log_out(page: Any) -> None:
    open_menu(page)
    page.get_by_test_id("logout").click()
