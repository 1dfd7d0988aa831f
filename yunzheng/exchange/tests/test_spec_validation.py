"""Record validation: every interface, every rule, generically from the spec plus readable cases."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import datetime
from typing import Any, cast

import pytest

from yunzheng.exchange.spec import ErrorCode, get_spec, get_validator, validate_record, validate_records
from yunzheng.exchange.spec.datetimes import (
    BEIJING,
    is_valid_date8,
    is_valid_datetime14,
    unixtime_to_datetime14,
)
from yunzheng.exchange.spec.samples import OMIT, invalid_cases, invalid_values, valid_record, valid_records
from yunzheng.exchange.spec.validation import RecordValidator, halfwidth_violations

SPEC = get_spec()
INTERFACES = sorted(SPEC.interfaces)
NOW = datetime(2026, 3, 15, 10, 30, 0, tzinfo=BEIJING)


def codes(errors):
    return [(e.field, e.code) for e in errors]


# --- valid samples ------------------------------------------------------------------------------


@pytest.mark.parametrize("interface", INTERFACES)
def test_valid_sample_is_accepted_unchanged(interface):
    record = valid_record(interface, seed=1, now=NOW)
    result = validate_records(interface, [record])
    assert result.rejected == []
    assert result.accepted == [(0, record)]
    # the generated fast path accepted it as is (no copy, nothing to normalise)
    assert result.accepted[0][1] is record


@pytest.mark.parametrize("interface", INTERFACES)
def test_valid_sample_with_required_fields_only(interface):
    record = valid_record(interface, seed=2, include_optional=False)
    iface = SPEC.interface(interface)
    assert set(record) == set(iface.required_fields)
    out, errors = validate_record(interface, record)
    assert errors == []
    assert out == record


@pytest.mark.parametrize("interface", INTERFACES)
def test_valid_sample_survives_json(interface):
    record = valid_record(interface, seed=3)
    decoded = json.loads(json.dumps(record, ensure_ascii=False))
    out, errors = validate_record(interface, decoded)
    assert errors == []
    assert out == record


# --- every rule of every field, generated from the spec -----------------------------------------


def _cases_by_rule():
    grouped = defaultdict(list)
    for interface in INTERFACES:
        for case in invalid_cases(interface):
            grouped[(interface, case.code)].append(case)
    return grouped


CASES = _cases_by_rule()


@pytest.mark.parametrize(("interface", "code"), sorted(CASES), ids=[f"{i}-{c}" for i, c in sorted(CASES)])
def test_each_rule_rejects_with_field_and_code(interface, code):
    fast = get_validator(interface)
    reference = RecordValidator(SPEC.interface(interface), fast=False)
    failures = []
    for case in CASES[(interface, code)]:
        record = valid_record(interface, seed=4, now=NOW, **{case.field: case.value})
        out, errors = fast.validate(record)
        if out is not None or codes(errors) != [(case.field, code)]:
            failures.append((case.field, case.label, case.value, codes(errors)))
        ref_out, ref_errors = reference.validate(record)
        assert ref_out is None
        assert [(e.field, e.code, e.message) for e in ref_errors] == [
            (e.field, e.code, e.message) for e in errors
        ]
        assert all(e.message for e in errors)
    assert failures == []


def test_every_rule_of_every_field_has_generated_cases():
    missing = []
    for interface in INTERFACES:
        for f in SPEC.interface(interface).fields:
            covered = {c.code for c in invalid_values(interface, f)}
            missing += [(interface, f.name, r) for r in f.rules if r not in covered]
    assert missing == []


def test_all_32_interfaces_and_all_field_rules_are_covered():
    assert {i for i, _ in CASES} == set(SPEC.interfaces)
    assert {c for _, c in CASES} == {
        ErrorCode.REQUIRED,
        ErrorCode.TYPE,
        ErrorCode.MAX_LENGTH,
        ErrorCode.FIXED_LENGTH,
        ErrorCode.HALFWIDTH,
        ErrorCode.CONTROL_CHARACTER,
        ErrorCode.PLATE_FORMAT,
        ErrorCode.DATE,
        ErrorCode.DATETIME,
        ErrorCode.TIME_TOO_EARLY,
        ErrorCode.TIME_IN_FUTURE,
        ErrorCode.YEARMONTH,
        ErrorCode.TIME_HHMM,
        ErrorCode.ENUM,
        ErrorCode.REGION_CODE,
        ErrorCode.COORDINATE_RANGE,
        ErrorCode.RANGE,
        ErrorCode.UNKNOWN_FIELD,
    }


# --- readable, hand-written cases ---------------------------------------------------------------


def reject(interface, **overrides):
    out, errors = validate_record(interface, valid_record(interface, seed=9, now=NOW, **overrides))
    assert out is None
    return errors


def test_full_width_letters_and_digits_name_position_and_replacement():
    [error] = reject("orderCreate", OrderId="ＡＢＣ１２３")
    assert (error.field, error.code, error.value) == ("OrderId", ErrorCode.HALFWIDTH, "ＡＢＣ１２３")
    assert "position 1 'Ａ' (U+FF21) -> use half-width 'A'" in error.message
    assert "position 2 'Ｂ'" in error.message
    assert "..." in error.message  # only the first three are spelled out


def test_full_width_comma_in_a_phone_number():
    [error] = reject("baseInfoDriver", DriverPhone="138，0013")
    assert error.code is ErrorCode.HALFWIDTH
    assert "position 4 '，' (U+FF0C) -> use half-width ','" in error.message


def test_halfwidth_violations_helper():
    assert halfwidth_violations("A\u3000B") == ["position 2 '\\u3000' (U+3000) -> use half-width ' '"]
    assert halfwidth_violations("杭") == ["position 1 '杭' (U+676D) is not half-width ASCII"]
    assert halfwidth_violations("a\tb") == ["position 2 '\\t' (U+0009) is a control/invisible character"]


def test_chinese_is_fine_in_names_and_addresses():
    record = valid_record("baseInfoCompanyService", ServiceName="云正出行（杭州）服务中心，西湖店")
    assert validate_record("baseInfoCompanyService", record)[1] == []


@pytest.mark.parametrize("plate", ["浙A12345", "京AD12345", "粤BF1234A", "新A12345", "沪Z9999X"])
def test_valid_plates(plate):
    assert validate_record("positionVehicle", valid_record("positionVehicle", VehicleNo=plate))[1] == []


@pytest.mark.parametrize(
    ("plate", "code"),
    [
        ("浙Ａ12345", ErrorCode.HALFWIDTH),
        ("浙A１2345", ErrorCode.HALFWIDTH),
        ("浙a12345", ErrorCode.PLATE_FORMAT),
        ("A12345", ErrorCode.PLATE_FORMAT),
        ("浙A123", ErrorCode.PLATE_FORMAT),
        ("浙A1234567", ErrorCode.PLATE_FORMAT),
        ("ZJA12345", ErrorCode.PLATE_FORMAT),
        ("浙-A12345", ErrorCode.PLATE_FORMAT),
    ],
)
def test_invalid_plates(plate, code):
    assert codes(reject("positionVehicle", VehicleNo=plate)) == [("VehicleNo", code)]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("DepartTime", 20260230120000, ErrorCode.DATETIME),
        ("DepartTime", 20261301120000, ErrorCode.DATETIME),
        ("DepartTime", 20260101246000, ErrorCode.DATETIME),
        ("DepartTime", 2026010112000, ErrorCode.FIXED_LENGTH),
        ("DepartTime", "20260101120000", ErrorCode.TYPE),
        ("Address", 330199, ErrorCode.REGION_CODE),
        ("Address", "330100", ErrorCode.TYPE),
        ("Address", 33010, ErrorCode.FIXED_LENGTH),
        ("DepLongitude", 30274085, ErrorCode.COORDINATE_RANGE),
        ("DepLatitude", 120155070, ErrorCode.COORDINATE_RANGE),
        ("DepLongitude", 0, ErrorCode.COORDINATE_RANGE),
        ("DepLongitude", 120.155070, ErrorCode.TYPE),
        ("Encrypt", 7, ErrorCode.ENUM),
        ("Encrypt", True, ErrorCode.TYPE),
        ("Encrypt", "1", ErrorCode.TYPE),
    ],
)
def test_order_create_cases(field, value, code):
    assert codes(reject("orderCreate", **{field: value})) == [(field, code)]


def test_swapped_coordinates_are_explained():
    errors = reject("orderCreate", DepLongitude=30274085, DepLatitude=120155070)
    assert codes(errors) == [
        ("DepLongitude", ErrorCode.COORDINATE_RANGE),
        ("DepLatitude", ErrorCode.COORDINATE_RANGE),
    ]
    assert "swapped" in errors[0].message
    assert "swapped" in errors[1].message


@pytest.mark.parametrize(
    ("interface", "field", "value", "code"),
    [
        ("baseInfoDriver", "DriverBirthday", 20260230, ErrorCode.DATE),
        ("baseInfoDriver", "DriverBirthday", 20261301, ErrorCode.DATE),
        ("baseInfoDriver", "DriverBirthday", 19000229, ErrorCode.DATE),  # 1900 is not a leap year
        ("baseInfoDriverStat", "Cycle", 202613, ErrorCode.YEARMONTH),
        ("baseInfoCompanyFare", "MorningPeakTimeOn", "2460", ErrorCode.TIME_HHMM),
        ("baseInfoCompanyFare", "MorningPeakTimeOn", "０７００", ErrorCode.HALFWIDTH),
        ("operatePay", "PayState", 1, ErrorCode.TYPE),  # string code table
        ("operatePay", "PayState", "5", ErrorCode.ENUM),
        ("operatePay", "FactPrice", "32.50", ErrorCode.TYPE),
        ("operatePay", "FactPrice", -1.5, ErrorCode.RANGE),
        ("operatePay", "FactPrice", math.nan, ErrorCode.RANGE),
        ("operatePay", "FactPrice", 123456789.0, ErrorCode.MAX_LENGTH),
        ("ratedPassenger", "ServiceScore", 6, ErrorCode.RANGE),
        ("positionVehicle", "Direction", 360, ErrorCode.RANGE),
        ("positionVehicle", "Speed", -3, ErrorCode.RANGE),
        ("baseInfoVehicle", "VIN", "LGXC16DF4K012345", ErrorCode.FIXED_LENGTH),
        ("baseInfoVehicle", "Flag", 4, ErrorCode.ENUM),
        ("baseInfoVehicle", "Seats", False, ErrorCode.TYPE),
        ("baseInfoDriver", "DriverType", "Ｃ１", ErrorCode.HALFWIDTH),
    ],
)
def test_more_cases(interface, field, value, code):
    assert codes(reject(interface, **{field: value})) == [(field, code)]


def test_leap_day_is_a_date():
    assert validate_record("baseInfoDriver", valid_record("baseInfoDriver", DriverBirthday=20000229))[1] == []


def test_a_record_with_several_bad_fields_reports_all_of_them():
    errors = reject(
        "orderCreate",
        CompanyId=OMIT,
        Address=999999,
        OrderId="订单１",
        DepartTime=20260230120000,
        DepLongitude=0,
        Encrypt=9,
        FareType="x" * 17,
        Extra="?",
    )
    assert codes(errors) == [
        ("CompanyId", ErrorCode.REQUIRED),
        ("Address", ErrorCode.REGION_CODE),
        ("OrderId", ErrorCode.HALFWIDTH),
        ("DepartTime", ErrorCode.DATETIME),
        ("DepLongitude", ErrorCode.COORDINATE_RANGE),
        ("Encrypt", ErrorCode.ENUM),
        ("FareType", ErrorCode.MAX_LENGTH),
        ("Extra", ErrorCode.UNKNOWN_FIELD),
    ]
    assert errors[1].value == 999999
    assert errors[0].value is None
    assert errors[0].message == "required field is missing"


def test_mixed_batch_keeps_the_original_indices():
    good = valid_records("positionVehicle", 5, seed=100)
    records = [
        good[0],
        {**good[1], "Latitude": 0},
        good[2],
        "not a record",
        good[3],
        {**good[4], "VehicleNo": "浙Ａ12345", "Speed": -1},
    ]
    result = validate_records("positionVehicle", records)
    assert [i for i, _ in result.accepted] == [0, 2, 4]
    assert [r for _, r in result.accepted] == [good[0], good[2], good[3]]
    assert [r.index for r in result.rejected] == [1, 3, 5]
    assert result.rejected[0].codes == [("Latitude", ErrorCode.COORDINATE_RANGE)]
    assert result.rejected[1].codes == [("", ErrorCode.RECORD_TYPE)]
    assert result.rejected[2].codes == [("VehicleNo", ErrorCode.HALFWIDTH), ("Speed", ErrorCode.RANGE)]
    assert not result.ok
    assert result.accepted_records() == [good[0], good[2], good[3]]
    assert result.rejected[2].to_dict()["errors"][0]["code"] == "halfwidth"


def test_empty_batch():
    result = validate_records("orderCreate", [])
    assert result.accepted == []
    assert result.rejected == []
    assert result.ok


# --- normalisation ----------------------------------------------------------------------------------


def test_optional_null_and_empty_fields_are_dropped():
    record = valid_record("orderCreate", PassengerNote="", Reserved=None)
    out, errors = validate_record("orderCreate", record)
    assert errors == []
    assert out is not None
    assert "PassengerNote" not in out
    assert "Reserved" not in out


def test_required_whitespace_is_missing():
    assert codes(reject("orderCreate", OrderId="  ")) == [("OrderId", ErrorCode.REQUIRED)]
    assert codes(reject("orderCreate", Address="")) == [("Address", ErrorCode.REQUIRED)]


def test_decimals_are_rounded_to_two_places():
    out, errors = validate_record("operatePay", valid_record("operatePay", FactPrice=32.456, DriveMile=8))
    assert errors == []
    assert out is not None
    assert out["FactPrice"] == 32.46
    assert out["DriveMile"] == 8
    assert type(out["DriveMile"]) is int


def test_position_time_accepts_unix_seconds_and_normalises_to_beijing_time():
    unix = int(datetime(2026, 3, 15, 2, 30, 5, tzinfo=BEIJING).timestamp())
    out, errors = validate_record("positionVehicle", valid_record("positionVehicle", PositionTime=unix))
    assert errors == []
    assert out is not None
    assert out["PositionTime"] == 20260315023005
    assert unixtime_to_datetime14(0 + 946_684_800) == 20000101080000


@pytest.mark.parametrize("value", [1_773_513_005_000, 946_684_799, 20260230023005])
def test_position_time_rejects_milliseconds_and_impossible_times(value):
    assert codes(reject("positionVehicle", PositionTime=value)) == [("PositionTime", ErrorCode.DATETIME)]


def test_commercial_type_alias():
    record = valid_record(
        "baseInfoVehicle", CommercialType=OMIT, **cast("dict[str, Any]", {"Commercial-Type": 2})
    )
    out, errors = validate_record("baseInfoVehicle", record)
    assert errors == []
    assert out is not None
    assert out["CommercialType"] == 2
    assert "Commercial-Type" not in out
    assert "Commercial-Type" in record  # the input is not modified
    both = valid_record("baseInfoVehicle", **cast("dict[str, Any]", {"Commercial-Type": 1}))
    errors = validate_record("baseInfoVehicle", both)[1]
    assert codes(errors) == [("Commercial-Type", ErrorCode.DUPLICATE_FIELD)]
    # the alias is specific to baseInfoVehicle
    driver = valid_record("baseInfoDriver", **cast("dict[str, Any]", {"Commercial-Type": 1}))
    errors = validate_record("baseInfoDriver", driver)[1]
    assert codes(errors) == [("Commercial-Type", ErrorCode.UNKNOWN_FIELD)]


def test_records_that_are_not_objects():
    values: tuple[Any, ...] = (None, [], "x", 1)
    for value in values:
        assert codes(validate_record("orderCreate", value)[1]) == [("", ErrorCode.RECORD_TYPE)]


def test_validator_lookup_by_code_path_and_spec():
    assert get_validator(0x4002) is get_validator("positionVehicle")
    assert get_validator("/position/vehicle") is get_validator(SPEC.interface("positionVehicle"))
    assert "def validate(rec):" in (get_validator("positionVehicle").source or "")


def test_calendar_helpers():
    assert is_valid_date8(20240229)
    assert not is_valid_date8(20230229)
    assert not is_valid_date8(20260431)
    assert is_valid_datetime14(20261231235959)
    assert not is_valid_datetime14(20261231240000)
    assert not is_valid_datetime14(20261231236000)


def test_validation_is_fast_enough_smoke():
    """Not a benchmark (see `bench/spec_validation.py`): catches falling off the fast path."""
    import time

    records = valid_records("positionVehicle", 2000, seed=7)
    validator = get_validator("positionVehicle")
    validator.validate_batch(records)
    start = time.perf_counter()
    result = validator.validate_batch(records * 5)
    elapsed = time.perf_counter() - start
    assert len(result.accepted) == 10_000
    assert 10_000 / elapsed > 20_000  # measured ~250k/s; 20k leaves room for slow CI machines


# --- the generated fast path agrees with the reference checkers -----------------------------------

_TRICKY: list[Any] = [
    None,
    "",
    " ",
    "\u3000",
    "A",
    "浙A12345",
    "浙AD12345",
    "ＡＢ",
    "12，3",
    "0700",
    "2400",
    "1",
    "9",
    "x" * 300,
    "中" * 300,
    True,
    False,
    0,
    1,
    -1,
    5,
    9,
    360,
    2**31,
    2**32,
    2**64,
    -(2**31) - 1,
    10**10,
    330100,
    990000,
    20260229,
    20240229,
    20260101120000,
    20260101246000,
    1_773_513_005,
    1_773_513_005_000,
    202602,
    202613,
    120155070,
    30274085,
    0.0,
    -0.0,
    0.1,
    1.005,
    12.345,
    12.34,
    99999999.99,
    1e8,
    1e300,
    math.nan,
    math.inf,
    [],
    {},
    ["1"],
]


@pytest.mark.parametrize("interface", INTERFACES)
def test_fast_path_agrees_with_reference_on_random_mutations(interface):
    import random

    rng = random.Random(interface)
    iface = SPEC.interface(interface)
    fast = get_validator(interface)
    reference = RecordValidator(iface, fast=False)
    names = [f.name for f in iface.fields] + ["Unknown"]
    for i in range(300):
        record = valid_record(interface, seed=i, now=NOW)
        for _ in range(rng.choice((1, 1, 2, 3))):
            value = rng.choice(_TRICKY)
            if isinstance(value, float) and math.isfinite(value) and rng.random() < 0.5:
                value = rng.uniform(0, 1000)  # arbitrary binary fractions
            record[rng.choice(names)] = value
        out, errors = fast.validate(dict(record))
        ref_out, ref_errors = reference.validate(dict(record))
        assert [(e.field, e.code, e.message) for e in errors] == [
            (e.field, e.code, e.message) for e in ref_errors
        ], record
        assert out == ref_out, record
