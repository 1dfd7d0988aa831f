"""The spec loader: typed, immutable, complete, derived from the packaged data file only."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from yunzheng.exchange.spec import loader
from yunzheng.exchange.spec.error_codes import ERROR_CODE_DESCRIPTIONS, ErrorCode
from yunzheng.exchange.spec.loader import (
    DEFAULT_SPEC_PATH,
    FIELD_ALIASES,
    FIELD_RULE_OVERRIDES,
    Charset,
    Coordinate,
    FieldKind,
    SpecError,
    ValueType,
    build_spec,
    get_spec,
    load_spec,
)
from yunzheng.exchange.spec.natural_keys import NATURAL_KEYS
from yunzheng.exchange.spec.reference_data import PLATE_PROVINCES, region_codes

SPEC = get_spec()
SPEC_PACKAGE = Path(loader.__file__).resolve().parent


def test_counts_and_version():
    assert SPEC.version == "2016.1"
    assert len(SPEC.categories) == 6
    assert len(SPEC.interfaces) == 32
    assert SPEC.field_count == 478
    assert [c.key for c in SPEC.categories] == ["baseinfo", "order", "operate", "position", "rated", "share"]


def test_get_spec_is_cached():
    assert get_spec() is get_spec()


def test_lookup_by_name_code_and_path():
    iface = SPEC.interface("orderCreate")
    assert SPEC.interface(0x2001) is iface
    assert SPEC.interface("/order/create") is iface
    assert iface.ipc_type_hex == "0x2001"
    assert iface.protobuf_message == "OrderCreate"
    assert iface.category == "order"
    assert iface.name_zh == "订单发起接口"
    with pytest.raises(KeyError):
        SPEC.interface("orderCreated")


def test_every_ipc_code_and_path_is_unique():
    assert len(SPEC.by_ipc_code) == len(SPEC.by_http_path) == 32
    assert {i.type for i in SPEC.interfaces.values()} == set(
        (SPEC.code_tables["IpcType"].codes or {}).values()
    )


def test_spec_objects_are_immutable():
    iface = SPEC.interface("positionVehicle")
    with pytest.raises(dataclasses.FrozenInstanceError):
        iface.http_path = "/x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        iface.fields[0].required = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        SPEC.interfaces["x"] = iface  # type: ignore[index]
    with pytest.raises(TypeError):
        iface.field_map["x"] = iface.fields[0]  # type: ignore[index]
    assert isinstance(iface.fields, tuple)


def test_field_spec_of_a_region_code():
    f = SPEC.interface("orderCreate").field_map["Address"]
    assert f.kind is FieldKind.INTEGER
    assert f.value_type is ValueType.INTEGER
    assert (f.length, f.fixed_length, f.exact_length, f.max_length) == (6, True, 6, None)
    assert f.region_code
    assert f.proto_number == 2
    assert f.proto_type == "uint32"
    assert f.required
    assert f.rules == (
        ErrorCode.REQUIRED,
        ErrorCode.TYPE,
        ErrorCode.FIXED_LENGTH,
        ErrorCode.RANGE,
        ErrorCode.REGION_CODE,
    )


@pytest.mark.parametrize(
    ("interface", "field", "charset"),
    [
        ("baseInfoCompany", "CompanyId", Charset.HALFWIDTH),
        ("baseInfoCompany", "CompanyName", Charset.TEXT),
        ("baseInfoCompany", "LegalID", Charset.HALFWIDTH),
        ("baseInfoCompany", "LegalPhone", Charset.HALFWIDTH),
        ("baseInfoCompany", "ContactAddress", Charset.TEXT),
        ("baseInfoCompanyService", "ServiceName", Charset.TEXT),
        ("baseInfoCompanyService", "ServiceNo", Charset.HALFWIDTH),
        ("baseInfoCompanyPermit", "Certificate", Charset.TEXT),  # 许可证号 contains 字/号
        ("baseInfoCompanyFare", "MorningPeakTimeOn", Charset.HALFWIDTH),
        ("baseInfoVehicle", "VehicleNo", Charset.PLATE),
        ("baseInfoVehicle", "VIN", Charset.HALFWIDTH),
        ("baseInfoVehicle", "Model", Charset.TEXT),  # 车辆型号: 比亚迪牌BYD7005BEV
        ("baseInfoVehicle", "Certificate", Charset.TEXT),  # note: 地市字别可包含三个汉字
        ("baseInfoVehicle", "PlateColor", Charset.TEXT),  # code table unconfirmed
        ("baseInfoVehicle", "FixState", Charset.HALFWIDTH),  # has a code table
        ("baseInfoDriver", "DriverType", Charset.HALFWIDTH),  # FIELD_RULE_OVERRIDES
        ("baseInfoDriver", "DriverPhone", Charset.HALFWIDTH),
        ("baseInfoDriver", "DriverName", Charset.TEXT),
        ("orderCancel", "Operator", Charset.HALFWIDTH),
        ("operatePay", "DepArea", Charset.TEXT),
        ("positionVehicle", "OrderId", Charset.HALFWIDTH),
        ("ratedPassenger", "Detail", Charset.TEXT),
    ],
)
def test_charset_is_derived_from_the_field_description(interface, field, charset):
    assert SPEC.interface(interface).field_map[field].charset is charset


def test_derived_semantics():
    pv = SPEC.interface("positionVehicle").field_map
    assert pv["Longitude"].coordinate is Coordinate.LONGITUDE
    assert pv["Latitude"].coordinate is Coordinate.LATITUDE
    assert pv["VehicleRegionCode"].region_code
    assert (pv["Direction"].min_value, pv["Direction"].max_value) == (0, 359)
    assert (pv["Elevation"].min_value, pv["Elevation"].max_value) == (-(2**31), 2**31 - 1)
    assert pv["Mileage"].decimal_places == 2
    assert pv["Mileage"].unit == "km"
    assert pv["Encrypt"].enum_values == frozenset({0, 1, 2, 3, 4})
    assert pv["PositionTime"].accepts_unixtime
    assert pv["PositionTime"].accepts_datetime14
    rated = SPEC.interface("ratedPassenger").field_map
    assert (rated["ServiceScore"].min_value, rated["ServiceScore"].max_value) == (1, 5)
    pay = SPEC.interface("operatePay").field_map
    assert pay["PayState"].enum_values == frozenset({"0", "1", "2"})  # string codes
    assert pay["FactPrice"].unit == "元"
    assert SPEC.interface("baseInfoCompanyFare").field_map["MorningPeakTimeOn"].kind is FieldKind.TIME_HHMM
    assert SPEC.interface("baseInfoDriverStat").field_map["Cycle"].kind is FieldKind.YEARMONTH


def test_unconfirmed_code_tables_are_not_enforced():
    vehicle = SPEC.interface("baseInfoVehicle").field_map
    assert vehicle["PlateColor"].code_table == "PlateColor"
    assert vehicle["PlateColor"].enum_values is None
    assert SPEC.code_tables["PlateColor"].unconfirmed
    assert SPEC.code_tables["PlateColor"].candidate_codes is not None


def test_unconfirmed_length_is_not_invented():
    f = SPEC.interface("baseInfoCompany").field_map["CompanyName"]
    assert f.unconfirmed
    assert f.length is None
    assert ErrorCode.MAX_LENGTH not in f.rules


# --- natural keys ---------------------------------------------------------------------------------


def test_every_interface_has_a_natural_key_of_required_fields():
    assert set(NATURAL_KEYS) == set(SPEC.interfaces)
    for itype, iface in SPEC.interfaces.items():
        assert iface.natural_key == NATURAL_KEYS[itype]
        assert iface.natural_key[0] == "CompanyId", itype
        assert len(set(iface.natural_key)) == len(iface.natural_key), itype
        for name in iface.natural_key:
            assert name in iface.field_map, f"{itype}.{name} does not exist"
            assert iface.field_map[name].required, f"{itype}.{name} is not required"


@pytest.mark.parametrize(
    ("interface", "key"),
    [
        ("baseInfoVehicle", ("CompanyId", "VehicleNo")),
        ("baseInfoDriver", ("CompanyId", "LicenseId")),
        ("orderCreate", ("CompanyId", "OrderId")),
        ("orderMatch", ("CompanyId", "OrderId")),
        ("orderCancel", ("CompanyId", "OrderId")),
        ("operateDepart", ("CompanyId", "OrderId")),
        ("operateArrive", ("CompanyId", "OrderId")),
        ("operatePay", ("CompanyId", "OrderId")),
        ("positionVehicle", ("CompanyId", "VehicleNo", "PositionTime")),
        ("positionDriver", ("CompanyId", "LicenseId", "PositionTime")),
        ("operateLogin", ("CompanyId", "LicenseId", "LoginTime")),
        ("operateLogout", ("CompanyId", "LicenseId", "LogoutTime")),
    ],
)
def test_natural_keys_from_the_brief(interface, key):
    assert SPEC.interface(interface).natural_key == key


def test_version_field_and_idempotency_key():
    vehicle = SPEC.interface("baseInfoVehicle")
    assert vehicle.version_field == "UpdateTime"
    assert SPEC.interface("positionVehicle").version_field is None
    record = {"CompanyId": "C1", "VehicleNo": "浙A12345", "UpdateTime": 20260101120000}
    assert vehicle.natural_key_of(record) == ("C1", "浙A12345")
    key = vehicle.idempotency_key("C1", record)
    assert key == ("C1", "baseInfoVehicle", ("C1", "浙A12345"), 20260101120000)
    base_info = {i.type for i in SPEC.interfaces.values() if i.version_field}
    assert base_info == {t for t, i in SPEC.interfaces.items() if "UpdateTime" in i.field_map}


# --- overrides and aliases ------------------------------------------------------------------------


def test_overrides_point_at_existing_fields_and_have_reasons():
    assert FIELD_RULE_OVERRIDES
    for (itype, fname), (changes, reason) in FIELD_RULE_OVERRIDES.items():
        assert itype in SPEC.interfaces
        f = SPEC.interface(itype).field_map[fname]
        assert len(reason) > 30
        assert f.override_reason == reason
        for attr, value in changes.items():
            assert getattr(f, attr) == value


def test_commercial_type_alias_is_documented_in_the_spec_note():
    f = SPEC.interface("baseInfoVehicle").field_map["CommercialType"]
    assert f.aliases == ("Commercial-Type",)
    assert "Commercial-Type" in (f.note or "")
    assert SPEC.interface("baseInfoVehicle").aliases == {"Commercial-Type": "CommercialType"}
    for (itype, fname), aliases in FIELD_ALIASES.items():
        assert fname in SPEC.interface(itype).field_map
        assert not set(aliases) & set(SPEC.interface(itype).field_map)


# --- reference data -------------------------------------------------------------------------------


def test_region_codes_come_from_stdnum_including_historical():
    codes = region_codes()
    assert len(codes) > 3000
    assert {110000, 330000, 330100, 330106, 500000, 710000, 810000, 820000} <= codes
    assert 110103 in codes  # 崇文区, abolished 2010
    assert 990000 not in codes
    assert all(100000 <= c <= 999999 for c in codes)


def test_plate_provinces():
    assert len(PLATE_PROVINCES) == 31
    assert {"京", "浙", "粤", "新", "藏"} <= PLATE_PROVINCES


def test_error_codes_all_described():
    assert set(ERROR_CODE_DESCRIPTIONS) == set(ErrorCode)
    assert all(ErrorCode(c.value).description for c in ErrorCode)


# --- data file --------------------------------------------------------------------------------------


def test_data_file_is_the_shared_spec_plus_a_version_key():
    raw = DEFAULT_SPEC_PATH.read_text(encoding="utf-8")
    assert raw.startswith('{\n "version": "2016.1",\n "title": ')
    data = json.loads(raw)
    assert data["stats"] == {"categories": 6, "interfaces": 32, "fields": 478}


def test_no_module_reads_the_shared_folder():
    offenders = [
        str(p)
        for p in SPEC_PACKAGE.rglob("*.py")
        if re.search(r"shared/spec|/work/shared|\.\./shared", p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert SPEC_PACKAGE in DEFAULT_SPEC_PATH.parents


def test_load_spec_from_another_file(tmp_path):
    data = json.loads(DEFAULT_SPEC_PATH.read_text(encoding="utf-8"))
    data["version"] = "2016.2-test"
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    other = load_spec(path)
    assert other.version == "2016.2-test"
    assert other is not SPEC
    assert len(other.interfaces) == 32


def test_build_spec_rejects_inconsistent_data():
    data = json.loads(DEFAULT_SPEC_PATH.read_text(encoding="utf-8"))
    data["categories"][0]["interfaces"][0]["fields"][3]["length"] = 8  # Address no longer F6
    with pytest.raises(SpecError, match="region code"):
        build_spec(data)
    data = json.loads(DEFAULT_SPEC_PATH.read_text(encoding="utf-8"))
    data["categories"][0]["interfaces"][0]["fields"][0]["type"] = "blob"
    with pytest.raises(SpecError, match="unknown field type"):
        build_spec(data)
