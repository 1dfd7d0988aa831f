"""The JSON fast path (spec.fastjson) accepts only what the general path accepts unchanged."""

from __future__ import annotations

import math
import random
from datetime import datetime
from typing import Any

import msgspec
import pytest

from yunzheng.exchange.spec import BatchResult, get_spec, get_validator
from yunzheng.exchange.spec.datetimes import BEIJING
from yunzheng.exchange.spec.fastjson import _compile, decode_valid_json
from yunzheng.exchange.spec.samples import valid_record

from .test_spec_validation import _TRICKY

SPEC = get_spec()
INTERFACES = sorted(SPEC.interfaces)
NOW = datetime(2026, 3, 15, 10, 30, 0, tzinfo=BEIJING)
COMPANY = "3301FASTPATH01"


def envelope(interface: str, records: list[Any], **overrides: Any) -> bytes:
    doc: dict[str, Any] = {"CompanyId": COMPANY, "Source": "0", "IPCType": interface, interface: records}
    doc.update(overrides)
    return msgspec.json.encode(doc)


def general_path(interface: str, body: bytes) -> tuple[list[Any], BatchResult]:
    records = msgspec.json.decode(body)[interface]
    checked = get_validator(interface).validate_batch(records)
    return records, checked


@pytest.mark.parametrize("interface", INTERFACES)
def test_valid_batches_take_the_fast_path_with_the_same_records(interface):
    records = [valid_record(interface, seed=i, now=NOW, CompanyId=COMPANY) for i in range(5)]
    records.append(valid_record(interface, seed=9, now=NOW, include_optional=False, CompanyId=COMPANY))
    body = envelope(interface, records)
    fast = decode_valid_json(body, SPEC.interface(interface))
    assert fast is not None, _compile(SPEC.interface(interface))
    assert (fast.company_id, fast.source) == (COMPANY, "0")
    _, checked = general_path(interface, body)
    assert checked.rejected == []
    assert fast.records == [r for _, r in checked.accepted] == records


def test_the_numeric_ipc_type_is_accepted():
    iface = SPEC.interface("positionVehicle")
    body = envelope(
        "positionVehicle", [valid_record("positionVehicle", seed=1, now=NOW)], IPCType=iface.ipc_type_code
    )
    assert decode_valid_json(body, iface) is not None


@pytest.mark.parametrize(
    "overrides",
    [
        {"IPCType": "positionDriver"},  # another interface
        {"IPCType": 0},
        {"CompanyId": "  "},
        {"CompanyId": 5},
        {"Source": None},
        {"Extra": 1},  # a stray envelope key
        {"positionVehicle": {}},  # records not a list
        {"positionVehicle": [1, 2]},  # records not objects
    ],
)
def test_odd_envelopes_take_the_general_path(overrides):
    body = envelope("positionVehicle", [valid_record("positionVehicle", seed=1, now=NOW)], **overrides)
    assert decode_valid_json(body, SPEC.interface("positionVehicle")) is None


def test_not_json_takes_the_general_path():
    iface = SPEC.interface("positionVehicle")
    assert decode_valid_json(b"{", iface) is None
    assert decode_valid_json(b"[]", iface) is None
    assert decode_valid_json(b'{"CompanyId": "x"}', iface) is None


def test_a_record_needing_normalisation_takes_the_general_path():
    iface = SPEC.interface("positionVehicle")
    rec = valid_record("positionVehicle", seed=1, now=NOW)
    assert decode_valid_json(envelope("positionVehicle", [rec, {**rec, "Speed": None}]), iface) is None
    assert decode_valid_json(envelope("positionVehicle", [rec, {**rec, "Reserved": " "}]), iface) is None
    unix = int(datetime(2026, 3, 15, 10, 0, tzinfo=BEIJING).timestamp())
    assert decode_valid_json(envelope("positionVehicle", [{**rec, "PositionTime": unix}]), iface) is None


def test_a_future_event_time_takes_the_general_path():
    iface = SPEC.interface("positionVehicle")
    rec = valid_record("positionVehicle", seed=1, now=NOW)
    assert (
        decode_valid_json(envelope("positionVehicle", [{**rec, "PositionTime": 20990101000000}]), iface)
        is None
    )


@pytest.mark.parametrize("interface", INTERFACES)
def test_fast_path_accepts_only_what_the_general_path_accepts_unchanged(interface):
    rng = random.Random("fast:" + interface)
    iface = SPEC.interface(interface)
    names = [f.name for f in iface.fields] + ["Unknown"]
    tricky = [v for v in _TRICKY if not (isinstance(v, float) and not math.isfinite(v))]
    fast_taken = 0
    for i in range(150):
        records = [valid_record(interface, seed=i * 3 + k, now=NOW) for k in range(3)]
        record = records[rng.randrange(3)]
        for _ in range(rng.choice((1, 1, 2))):
            value = rng.choice(tricky)
            if isinstance(value, float) and rng.random() < 0.5:
                value = rng.uniform(0, 1000)
            record[rng.choice(names)] = value
        body = envelope(interface, records)
        fast = decode_valid_json(body, iface)
        if fast is None:
            continue
        fast_taken += 1
        _, checked = general_path(interface, body)
        assert checked.rejected == [], record
        assert fast.records == [r for _, r in checked.accepted], record
        assert [sorted((k, type(v).__name__) for k, v in r.items()) for r in fast.records] == [
            sorted((k, type(v).__name__) for k, v in r.items()) for _, r in checked.accepted
        ]
    assert fast_taken < 150  # the mutations did reach the general path


def test_equal_values_of_another_type_are_not_merged():
    """1, 1.0 and True are one value in a set; the validator tells them apart."""
    iface = SPEC.interface("baseInfoCompanyService")
    rec = valid_record("baseInfoCompanyService", seed=1, now=NOW)
    assert decode_valid_json(envelope(iface.type, [rec, dict(rec)]), iface) is not None
    assert decode_valid_json(envelope(iface.type, [rec, {**rec, "Flag": True}]), iface) is None
    assert decode_valid_json(envelope(iface.type, [{**rec, "Flag": float(rec["Flag"])}, rec]), iface) is None
    pay = SPEC.interface("operatePay")
    order = valid_record("operatePay", seed=1, now=NOW, FactPrice=12)
    assert decode_valid_json(envelope("operatePay", [order, {**order, "FactPrice": 12.0}]), pay) is not None
    # 1e12 as an integer is within the limit of the field's digits, as a float it takes the checker
    huge = {**order, "FactPrice": 10**12}
    fast = decode_valid_json(envelope("operatePay", [huge]), pay)
    slow = get_validator("operatePay").validate_batch([huge])
    assert (fast is not None) == (not slow.rejected and slow.accepted[0][1] is huge)
    assert decode_valid_json(envelope("operatePay", [huge, {**huge, "FactPrice": 1e12}]), pay) is None


def test_amount_columns_are_checked_once_per_distinct_value_of_each_type():
    """Amounts repeat within a batch and are checked once per distinct value and type; a bad or
    unnormalised one among repeated good ones still sends the batch to the general path."""
    pay = SPEC.interface("operatePay")
    orders = [valid_record("operatePay", seed=i, now=NOW, FactPrice=12.5, CashPrice=0) for i in range(4)]
    assert decode_valid_json(envelope("operatePay", orders), pay) is not None
    for bad in ({"FactPrice": 12.345}, {"FactPrice": -12.5}, {"CashPrice": -1}, {"CashPrice": 10**20}):
        body = envelope("operatePay", [*orders[:3], {**orders[3], **bad}])
        assert decode_valid_json(body, pay) is None, bad
        records, checked = general_path("operatePay", body)
        assert checked.rejected or [r for _, r in checked.accepted] != records, bad  # refused or changed


def test_remembered_good_values_never_let_a_bad_value_through():
    """Free-text columns skip the values found good before; a bad value is never remembered."""
    iface = SPEC.interface("positionVehicle")
    good = valid_record("positionVehicle", seed=1, now=NOW)
    bad = {**valid_record("positionVehicle", seed=2, now=NOW), "VehicleNo": "浙a12345"}  # lower case
    assert decode_valid_json(envelope("positionVehicle", [good]), iface) is not None
    for _ in range(2):
        assert decode_valid_json(envelope("positionVehicle", [good, bad]), iface) is None
        assert decode_valid_json(envelope("positionVehicle", [bad]), iface) is None
    assert get_validator(iface).validate_batch([bad]).rejected
