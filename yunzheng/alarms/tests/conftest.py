from __future__ import annotations

from typing import Any

import pytest

from yunzheng.alarms.live import forget_compiled_rules
from yunzheng.exchange.tests.conftest import Uploader, make_uploader


@pytest.fixture(autouse=True)
def _fresh_rules() -> Any:
    forget_compiled_rules()
    yield
    forget_compiled_rules()


@pytest.fixture
def uploader(db: Any) -> Uploader:
    return make_uploader()
