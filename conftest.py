"""Fixtures shared by the whole suite: real headless Chromium (Debian's), driven by Playwright.

We never download a browser: Playwright launches /usr/bin/chromium (scripts/system-deps.sh
installs it). Tests that use `page` run against pytest-django's live server on the test database.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django would then refuse ORM calls
# from the test body ("async unsafe"). Tests are single-threaded per worker, so this is safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(autouse=True)
def _isolated_sms_outbox(settings: Any, tmp_path: Path) -> None:
    """Every test gets its own SMS outbox file, so codes never leak between tests."""
    settings.SMS_OUTBOX_PATH = tmp_path / "sms-outbox.jsonl"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM_PATH) and not Path(CHROMIUM_PATH).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM_PATH}: run scripts/system-deps.sh (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser context (own cookies) with a phone-sized viewport and an English-speaking
    browser, to prove the platform shows Chinese by default whatever the browser asks for."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="en-US", base_url=live_server.url
    )
    # Generous: CI runs two test workers on two cores, and PDF rendering competes with them.
    context.set_default_timeout(30_000)
    new_page = context.new_page()
    yield new_page
    context.close()


@pytest.fixture(scope="session")
def jetstream() -> Iterator[Any]:
    """A 3-node NATS JetStream cluster on free loopback ports, for the exchange's log-mode tests
    (``nats-server`` from scripts/system-deps.sh); one per test worker."""
    from yunzheng.exchange.log import runtime
    from yunzheng.exchange.log.cluster import LocalCluster

    cluster = LocalCluster(3).start()
    try:
        yield cluster
    finally:
        runtime.close()
        cluster.stop()


@pytest.fixture
def log_mode(settings: Any, jetstream: Any) -> Any:
    """Log mode on the session's cluster, with a clean stream and consumers."""
    from yunzheng.exchange.log.cluster import use_fresh_stream

    use_fresh_stream(settings, jetstream.urls)
    return jetstream
