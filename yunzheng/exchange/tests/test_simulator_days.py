"""The simulator over many days, and the records of every interface (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from yunzheng.exchange.simulator import SimulationPlan, generate
from yunzheng.exchange.spec import get_spec, get_validator
from yunzheng.exchange.spec.datetimes import BEIJING

_CORE = ("baseInfo", "share", "rated")


def test_a_multi_day_simulation_spreads_orders_over_the_days() -> None:
    end = datetime(2026, 11, 30, 21, 0, tzinfo=BEIJING)
    plan = SimulationPlan(
        company_id="3302YZCX0001", city=330200, drivers=4, orders=6, days=10, position_interval=300, end=end
    )
    events = list(generate(plan))
    assert {t for t, _ in events} == set(get_spec().interfaces)  # all 32 interfaces
    created = [r for t, r in events if t == "orderCreate"]
    assert len({r["OrderId"] for r in created}) == len(created) >= 40
    days = {r["OrderTime"] // 1_000_000 for r in created}
    assert len(days) >= 10
    assert min(days) >= 20261120
    assert max(days) <= 20261130
    assert all(r["Address"] == 330200 for r in created)
    for interface, record in events:
        _, errors = get_validator(interface).validate(record)
        assert not errors, (interface, errors)
    # the extra interfaces do not change the orders, trips and positions of a seed
    without = list(generate(replace(plan, all_interfaces=False)))
    assert len({t for t, _ in without}) == 17
    assert [e for e in events if not e[0].startswith(_CORE)] == [
        e for e in without if not e[0].startswith(_CORE)
    ]
