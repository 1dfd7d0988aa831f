"""Event times must lie between 2000-01-01 and one day after now (Beijing time), each bound with
its own rule code; planned times and validity periods are not event times (issue #14 hardening)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from yunzheng.exchange.spec import ErrorCode
from yunzheng.exchange.spec.samples import valid_record
from yunzheng.exchange.spec.validation import BEIJING, RecordValidator, get_spec, refresh_time_window


def dt14(t: datetime) -> int:
    return int(t.strftime("%Y%m%d%H%M%S"))


NOW = datetime.now(BEIJING).replace(microsecond=0)  # for the bounds far from "now" only


def now_at_test() -> datetime:
    """The window's "now" re-read when the test runs: a long suite run must not move the bound
    past a value that was computed when this module was imported."""
    now = datetime.now(BEIJING).replace(microsecond=0)
    refresh_time_window(now)
    return now


def codes(interface: str, record: dict, *, fast: bool) -> list[tuple[str, str]]:
    validator = RecordValidator(get_spec().interface(interface), fast=fast)
    _out, errors = validator.validate(record)
    return [(e.field, e.code) for e in errors]


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (19700101080000, ErrorCode.TIME_TOO_EARLY),
        (19991231235959, ErrorCode.TIME_TOO_EARLY),
        (20000101000000, None),
        (timedelta(0), None),
        (timedelta(hours=23), None),
        (timedelta(days=1, minutes=5), ErrorCode.TIME_IN_FUTURE),
        (20990101000000, ErrorCode.TIME_IN_FUTURE),
    ],
    ids=["1970", "just-before-2000", "2000", "now", "in-23-hours", "in-a-day-and-5-minutes", "2099"],
)
def test_position_time_window(fast, value, expected):
    if isinstance(value, timedelta):
        value = dt14(now_at_test() + value)
    record = valid_record("positionVehicle", seed=1, PositionTime=value)
    got = codes("positionVehicle", record, fast=fast)
    assert got == ([] if expected is None else [("PositionTime", expected)])


@pytest.mark.parametrize("fast", [True, False])
def test_unix_seconds_position_time_is_checked_too(fast):
    ahead = int((NOW + timedelta(days=3)).timestamp())
    record = valid_record("positionVehicle", seed=2, PositionTime=ahead)
    assert codes("positionVehicle", record, fast=fast) == [("PositionTime", ErrorCode.TIME_IN_FUTURE)]
    ok = valid_record("positionVehicle", seed=2, PositionTime=int(NOW.timestamp()))
    assert codes("positionVehicle", ok, fast=fast) == []


@pytest.mark.parametrize("fast", [True, False])
def test_event_times_of_orders_and_base_info(fast):
    future = dt14(NOW + timedelta(days=3))
    order = valid_record("orderCreate", seed=3, OrderTime=future)
    assert codes("orderCreate", order, fast=fast) == [("OrderTime", ErrorCode.TIME_IN_FUTURE)]
    base = valid_record("baseInfoCompany", seed=3, UpdateTime=19990101000000)
    assert codes("baseInfoCompany", base, fast=fast) == [("UpdateTime", ErrorCode.TIME_TOO_EARLY)]


@pytest.mark.parametrize("fast", [True, False])
def test_planned_times_and_validity_periods_may_lie_ahead(fast):
    booked = valid_record("orderCreate", seed=4, DepartTime=dt14(NOW + timedelta(days=7)))  # 预计用车时间
    assert codes("orderCreate", booked, fast=fast) == []
    fare = valid_record("baseInfoCompanyFare", seed=4, FareValidOff=dt14(NOW + timedelta(days=700)))
    assert codes("baseInfoCompanyFare", fare, fast=fast) == []
    # A planned time of 1970 is a conformance finding (epoch_timestamps), not a rejection.
    epoch = valid_record("orderCreate", seed=4, DepartTime=19700101080000)
    assert codes("orderCreate", epoch, fast=fast) == []


def test_the_window_moves_with_the_clock():
    later = NOW + timedelta(days=10)
    assert refresh_time_window(later) == dt14(later + timedelta(days=1))
    assert refresh_time_window() >= dt14(NOW + timedelta(days=1))


def test_rules_are_listed_per_field():
    spec = get_spec()
    position = spec.interface("positionVehicle").field_map["PositionTime"]
    assert ErrorCode.TIME_TOO_EARLY in position.rules
    assert ErrorCode.TIME_IN_FUTURE in position.rules
    planned = spec.interface("orderCreate").field_map["DepartTime"]
    assert ErrorCode.TIME_TOO_EARLY not in planned.rules
    assert ErrorCode.TIME_IN_FUTURE not in planned.rules
