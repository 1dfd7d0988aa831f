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


@pytest.fixture(scope="session")
def jetstream() -> Any:
    """The root conftest's 3-node cluster, on the ports of YZ_TEST_NATS_PORTS ("18850" = six
    consecutive ports from 18850) when a shared machine asks each developer to keep to a range;
    otherwise on free ports, like the root fixture."""
    import os

    from yunzheng.exchange.log import runtime
    from yunzheng.exchange.log.cluster import LocalCluster

    base = os.environ.get("YZ_TEST_NATS_PORTS")
    ports = [(int(base) + 2 * i, int(base) + 2 * i + 1) for i in range(3)] if base else None
    cluster = LocalCluster(3, ports=ports).start()
    try:
        yield cluster
    finally:
        runtime.close()
        cluster.stop()
