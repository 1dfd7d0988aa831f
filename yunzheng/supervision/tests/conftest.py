"""A month of data, uploaded through the exchange interface, computed once per test module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from yunzheng.exchange import forwarding
from yunzheng.supervision.services import compliance_compute

from .builders import Month, build_month


@pytest.fixture(autouse=True)
def _fresh_subscriber_cache() -> Iterator[None]:
    forwarding.forget_subscriber_cache()
    yield
    forwarding.forget_subscriber_cache()


@pytest.fixture
def movers_floor(settings: Any) -> None:
    settings.SUPERVISION_MOVERS_MIN_ORDERS = 5


@pytest.fixture
def month(db: Any, movers_floor: None) -> Month:
    built = build_month()
    for m in ("2026-09", "2026-10"):
        compliance_compute(month=m)
    return built
