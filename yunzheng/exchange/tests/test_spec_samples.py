"""The sample generator makes realistic, valid, reproducible records for every interface."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, cast

import pytest
from stdnum.cn import ric, uscc

from yunzheng.exchange.spec import get_spec
from yunzheng.exchange.spec.samples import (
    OMIT,
    SAMPLE_COMPANY_ID,
    SAMPLE_REGION_CODE,
    invalid_cases,
    valid_record,
    valid_records,
)
from yunzheng.exchange.spec.validation import BEIJING

SPEC = get_spec()
NOW = datetime(2026, 3, 15, 10, 30, 0, tzinfo=BEIJING)


@pytest.mark.parametrize("interface", sorted(SPEC.interfaces))
def test_every_field_is_generated_in_spec_order(interface):
    iface = SPEC.interface(interface)
    record = valid_record(interface, seed=1, now=NOW)
    assert list(record) == [f.name for f in iface.fields if f.name != "Reserved"]
    assert record["CompanyId"] == SAMPLE_COMPANY_ID


def test_same_seed_and_time_give_the_same_record():
    assert valid_record("orderCreate", seed=5, now=NOW) == valid_record("orderCreate", seed=5, now=NOW)
    assert valid_record("orderCreate", seed=5, now=NOW) != valid_record("orderCreate", seed=6, now=NOW)


def test_overrides_and_omit():
    record = valid_record("orderCancel", seed=1, CancelReason=OMIT, Operator="2")
    assert "CancelReason" not in record
    assert record["Operator"] == "2"
    assert (
        valid_record("baseInfoVehicle", **cast("dict[str, Any]", {"Commercial-Type": 1}))["Commercial-Type"]
        == 1
    )


def test_realistic_values():
    vehicle = valid_record("positionVehicle", seed=3, now=NOW)
    assert re.fullmatch(r"浙A[A-Z0-9]{5,6}", vehicle["VehicleNo"])
    assert vehicle["VehicleRegionCode"] == SAMPLE_REGION_CODE
    assert 120_100_000 < vehicle["Longitude"] < 120_300_000
    assert 30_200_000 < vehicle["Latitude"] < 30_350_000
    assert vehicle["PositionTime"] == 20260315103000
    driver = valid_record("baseInfoDriver", seed=3, now=NOW)
    assert ric.is_valid(driver["LicenseId"])
    assert uscc.is_valid(company_id := valid_record("baseInfoCompany", seed=3)["Identifier"]), company_id
    assert re.fullmatch(r"1[3589]\d{9}", driver["DriverPhone"])
    assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", driver["DriverName"])
    company = valid_record("baseInfoCompany", seed=3)
    assert company["CompanyName"].endswith("有限公司")


def test_trip_times_are_in_order():
    pay = valid_record("operatePay", seed=1, now=NOW)
    assert pay["BookDepTime"] < pay["DepTime"] < pay["DestTime"] < pay["OrderMatchTime"] < pay["PayTime"]
    order = valid_record("orderCreate", seed=1, now=NOW)
    assert order["OrderTime"] < order["DepartTime"]


def test_valid_records_vary():
    records = valid_records("positionVehicle", 50)
    assert len({r["VehicleNo"] for r in records}) > 40


def test_invalid_cases_are_labelled():
    cases = invalid_cases("positionVehicle")
    assert {(c.field, c.label) for c in cases} >= {
        ("VehicleNo", "full-width letter"),
        ("Longitude", "swapped with the other axis"),
        ("PositionTime", "unix milliseconds"),
    }
