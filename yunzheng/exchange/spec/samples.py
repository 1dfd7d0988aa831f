"""Realistic, valid sample records for every interface, generated from the field specs.

Used by the tests, the traffic simulator and the certification tests::

    valid_record("positionVehicle", VehicleNo="浙A D12345".replace(" ", ""), seed=7)
    valid_record("orderCancel", CancelReason=OMIT)        # OMIT drops a field

Values are realistic for a Hangzhou-based platform: Chinese names and addresses, plates such as
浙A12345, GB/T 2260 code 330100 (杭州市), coordinates around West Lake in integer micro-degrees,
ID/licence numbers with valid check digits, current timestamps (Beijing time) in a plausible
order within one trip. Every value is chosen so that it survives a protobuf float32 round trip.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from stdnum.cn import ric, uscc

from .error_codes import ErrorCode
from .loader import (
    Charset,
    Coordinate,
    FieldKind,
    FieldSpec,
    InterfaceSpec,
    Spec,
    ValueType,
    base_name_zh,
    get_spec,
)
from .validation import BEIJING


class _Omit:
    __slots__ = ()

    def __repr__(self) -> str:
        return "OMIT"


#: Pass as an override value to leave a field out of the record.
OMIT: Final = _Omit()

SAMPLE_COMPANY_ID: Final = "3301YZCX0001"
SAMPLE_REGION_CODE: Final = 330100  # 杭州市
SAMPLE_DISTRICT_CODE: Final = 330106  # 杭州市西湖区

# West Lake / Hangzhou East Railway Station, degrees x 10^6
_ORIGIN = (120_155_070, 30_274_085)
_DESTINATION = (120_212_508, 30_290_849)

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = (
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "霞",
)

_TEXT_BY_NAME: Mapping[str, str] = {
    "CompanyName": "杭州云正出行科技有限公司",
    "OwnerName": "杭州云正出行科技有限公司",
    "ContractCompany": "杭州云正出行科技有限公司",
    "BusinessScope": "网络预约出租汽车客运",
    "ContactAddress": "浙江省杭州市西湖区文三路478号华星时代广场A座12楼",
    "EconomicType": "有限责任公司",
    "RegCapital": "5000万元人民币",
    "PayName": "支付宝(中国)网络技术有限公司",
    "PayType": "互联网支付",
    "PayScope": "全国",
    "PrepareBank": "中国工商银行股份有限公司杭州分行",
    "ServiceName": "云正出行杭州西湖服务中心",
    "DetailAddress": "浙江省杭州市西湖区天目山路181号",
    "MailAddress": "浙江省杭州市西湖区文三路478号",
    "OperationArea": "杭州市",
    "Organization": "杭州市道路运输管理局",
    "Certificate": "浙杭网约字(2017)第0001号",
    "FareTypeNote": "快车标准运价",
    "PlateColor": "蓝色",
    "Brand": "比亚迪",
    "Model": "比亚迪牌BYD7005BEV",
    "VehicleType": "小型轿车",
    "VehicleColor": "白色",
    "FuelType": "电",
    "EngineDisplace": "0",
    "TransAgency": "杭州市道路运输管理局",
    "TransArea": "杭州市",
    "CheckState": "合格",
    "GPSBrand": "北斗星通",
    "GPSModel": "BD-T8",
    "InsurCom": "中国人民财产保险股份有限公司",
    "InsurType": "营业用汽车损失保险",
    "DriverGender": "男",
    "PassengerGender": "女",
    "DriverNationality": "中国",
    "DriverNation": "汉族",
    "DriverMaritalStatus": "已婚",
    "DriverLanguageLevel": "英语四级",
    "DriverEducation": "大专",
    "DriverCensus": "杭州市公安局西湖分局",
    "DriverAddress": "浙江省杭州市西湖区古荡街道学院路18号",
    "DriverContactAddress": "浙江省杭州市西湖区古荡街道学院路18号",
    "EmergencyContactAddress": "浙江省杭州市拱墅区湖墅南路88号",
    "NetworkCarIssueOrganization": "杭州市道路运输管理局",
    "CourseName": "网约车驾驶员岗前培训",
    "PassengerNote": "行李较多, 请开后备箱",
    "Departure": "杭州市西湖区北山街西湖断桥",
    "Destination": "杭州市上城区杭州东站",
    "DepArea": "杭州市西湖区北山街西湖断桥",
    "DestArea": "杭州市上城区杭州东站",
    "CancelReason": "乘客行程有变",
    "BookModel": "经济型",
    "LineName": "支付宝",
    "PosName": "银联",
    "Detail": "司机服务热情, 车内整洁",
    "Result": "已向乘客致歉并退还部分车费",
    "PunishReason": "未按规定路线行驶",
    "PunishResult": "警告并暂停接单3天",
    "TestDepartment": "杭州市道路运输管理局",
    "RouteNote": "可顺路带一人, 不走高速",
}

_HALFWIDTH_BY_NAME: Mapping[str, str] = {
    "PayId": "Z2004944000010",
    "ServiceNo": "YZCX-HZ-XH-001",
    "FareType": "KC001",
    "EngineId": "TZ220XS0123456",
    "VIN": "LGXC16DF4K0123456",
    "FeePrintId": "FP20190012345",
    "GPSIMEI": "861234050123456",
    "InsurNum": "PDAA201933010000123456",
    "AppVersion": "5.2.1",
    "DriverType": "C1",
    "PhotoId": "photo-20190601-000123.jpg",
    "LicensePhotoId": "license-20190601-000123.jpg",
    "LegalPhoto": "legal-20170601-000001.jpg",
    "StartTime": "0900",
    "StopTime": "1130",
    "MorningPeakTimeOn": "0700",
    "MorningPeakTimeOff": "0900",
    "EveningPeakTimeOn": "1700",
    "EveningPeakTimeOff": "1900",
    "OtherPeakTimeOn": "2200",
    "OtherPeakTimeOff": "2300",
}

_INT_BY_NAME: Mapping[str, int] = {
    "VehicleNum": 1200,
    "DriverNum": 1500,
    "CountDate": 7,
    "Seats": 5,
    "Duration": 150,
    "OrderCount": 320,
    "TrafficViolationCount": 0,
    "ComplainedCount": 1,
    "WaitTime": 180,
    "DriveTime": 1260,
    "Speed": 42,
    "Direction": 90,
    "Elevation": 12,
    "WarnStatus": 0,
    "VehStatus": 3,  # JT/T 808 status bits: ACC on, positioned
    "ServiceScore": 5,
    "DriverScore": 5,
    "VehicleScore": 4,
    "Level": 5,
    "PassengerNum": 1,
}

_NUMBER_BY_NAME: Mapping[str, float] = {
    "StartFare": 11.0,
    "StartMile": 3.0,
    "UnitPricePerMile": 2.5,
    "UnitPricePerMinute": 0.5,
    "UpPrice": 1.25,
    "UpPriceStartMile": 15.0,
    "PeakUnitPrice": 1.5,
    "PeakPriceStartMile": 10.0,
    "LowSpeedPricePerMinute": 0.5,
    "NightPricePerMile": 0.75,
    "NightPricePerMinute": 0.25,
    "OtherPrice": 0.0,
    "InsurCount": 1_000_000.0,
    "TotalMile": 35_210.5,
    "Mileage": 35_210.5,
    "WaitMile": 1.2,
    "DriveMile": 8.6,
    "RouteMile": 12.4,
    "FactPrice": 32.5,
    "Price": 32.5,
    "CashPrice": 0.0,
    "LinePrice": 32.5,
    "PosPrice": 0.0,
    "BenfitPrice": 0.0,
    "BookTip": 0.0,
    "PassengerTip": 0.0,
    "PeakUpPrice": 0.0,
    "NightUpPrice": 0.0,
    "FarUpPrice": 0.0,
    "OtherUpPrice": 0.0,
    "ShareFuelFee": 8.5,
    "ShareHighwayToll": 0.0,
    "ShareOther": 0.0,
}

_ENUM_BY_NAME: Mapping[str, int | str] = {
    "InDriverBlacklist": 0,
    "TaxiDriver": 0,
    "FixState": "1",
    "PayState": "1",
    "InvoiceStatus": "1",
}

# Offsets (seconds before "now") that keep the times of one trip in order.
_TIME_OFFSETS: Mapping[str, int] = {
    "OrderTime": 40 * 60,
    "RouteCreateTime": 45 * 60,
    "OrderEnsureTime": 39 * 60,
    "DistributeTime": 39 * 60,
    "BookDepartTime": 30 * 60,
    "BookDepTime": 30 * 60,
    "DepartTime": 30 * 60,
    "LoginTime": 3 * 3600,
    "DepTime": 28 * 60,
    "DestTime": 5 * 60,
    "OrderMatchTime": 4 * 60,
    "PayTime": 3 * 60,
    "CancelTime": 35 * 60,
    "LogoutTime": 60,
    "EvaluateTime": 2 * 60,
    "ComplaintTime": 2 * 60,
    "PunishTime": 24 * 3600,
    "FareValidOn": 400 * 24 * 3600,
}


def _dt14(t: datetime) -> int:
    return int(t.strftime("%Y%m%d%H%M%S"))


def _d8(t: datetime) -> int:
    return int(t.strftime("%Y%m%d"))


def _id_number(rng: random.Random, birthday: str = "19850612") -> str:
    body = f"{SAMPLE_DISTRICT_CODE}{birthday}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


def _uscc(rng: random.Random) -> str:
    body = f"91{SAMPLE_DISTRICT_CODE}MA2{rng.choice('ABCDEFGH')}{rng.randrange(10**5):05d}"
    return body + uscc.calc_check_digit(body)


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


def _plate(rng: random.Random) -> str:
    if rng.random() < 0.5:  # new-energy plate (8 characters) - Hangzhou has many
        return f"浙A{rng.choice('DF')}{rng.randrange(10**5):05d}"
    return f"浙A{rng.choice('BCEGHJKLMNPQRSTUVWXYZ')}{rng.randrange(10**4):04d}"


def _date_for(f: FieldSpec, now: datetime) -> int:
    n = f.name
    if "Birthday" in n:
        return 19850612
    if n.endswith(("Stop", "Off", "Exp", "StopDate")) or n in ("NextFixDate", "StopDate", "ContractOff"):
        return _d8(now + timedelta(days=3 * 365))
    if n in ("CertifyDateA", "CertifyDateB", "GetDriverLicenseDate"):
        return _d8(now - timedelta(days=6 * 365))
    if n in ("CourseDate", "TestDate", "RegisterDate"):
        return _d8(now - timedelta(days=30))
    return _d8(now - timedelta(days=2 * 365))


def _halfwidth_value(f: FieldSpec, rng: random.Random, now: datetime) -> str:
    n = f.name
    if n in _HALFWIDTH_BY_NAME:
        return _HALFWIDTH_BY_NAME[n]
    zh = base_name_zh(f.name_zh)
    if n == "CompanyId":
        return SAMPLE_COMPANY_ID
    if n == "Identifier":
        return _uscc(rng)
    if zh.endswith(("身份证号", "驾驶证号", "驾驶证编号", "资格证号")):
        return _id_number(rng)
    if zh.endswith(("电话", "手机号")):
        return _phone(rng)
    if n == "OrderId":
        return f"YZ{_dt14(now)}{rng.randrange(10**6):06d}"
    if n == "RouteId":
        return f"RT{_dt14(now)}{rng.randrange(10**6):06d}"
    if f.enum is not None:
        return str(_ENUM_BY_NAME.get(n, next(iter(f.enum))))
    value = f"{n.upper()}{rng.randrange(10**6):06d}"
    limit = f.length or len(value)
    return value[:limit].ljust(f.exact_length or 0, "0")


def _text_value(f: FieldSpec, rng: random.Random) -> str:
    zh = base_name_zh(f.name_zh)
    if f.name in _TEXT_BY_NAME:
        value = _TEXT_BY_NAME[f.name]
    elif zh.endswith(("姓名", "联系人", "称谓")):
        value = _person(rng)
    else:
        value = zh
    if f.max_length is not None:
        value = value[: f.max_length]
    return value


def _int_value(f: FieldSpec, rng: random.Random, now: datetime) -> int:
    if f.kind is FieldKind.DATE:
        return _date_for(f, now)
    if f.kind in (FieldKind.DATETIME, FieldKind.TIMESTAMP):
        if f.name in ("UpdateTime",):
            return _dt14(now)
        if f.name == "FareValidOff":
            return _dt14(now + timedelta(days=365))
        return _dt14(now - timedelta(seconds=_TIME_OFFSETS.get(f.name, 0)))
    if f.kind is FieldKind.YEARMONTH:
        first = now.replace(day=1) - timedelta(days=1)
        return first.year * 100 + first.month
    if f.region_code:
        return SAMPLE_REGION_CODE
    if f.coordinate is not None:
        lon, lat = _DESTINATION if f.name.startswith("Dest") else _ORIGIN
        base = lon if f.coordinate is Coordinate.LONGITUDE else lat
        return base + rng.randrange(-2000, 2000)
    if f.enum is not None:
        return int(_ENUM_BY_NAME.get(f.name, next(iter(f.enum))))
    value = _INT_BY_NAME.get(f.name, 1)
    if f.min_value is not None and value < f.min_value:
        value = int(f.min_value)
    return value


def _field_value(f: FieldSpec, rng: random.Random, now: datetime) -> Any:
    if f.value_type is ValueType.STRING:
        if f.charset is Charset.PLATE:
            return _plate(rng)
        if f.charset is Charset.HALFWIDTH:
            return _halfwidth_value(f, rng, now)
        return _text_value(f, rng)
    if f.value_type is ValueType.INTEGER:
        return _int_value(f, rng, now)
    return _NUMBER_BY_NAME.get(f.name, 10.5)


def valid_record(
    interface_type: str | InterfaceSpec,
    *,
    seed: int | None = None,
    now: datetime | None = None,
    include_optional: bool = True,
    spec: Spec | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A valid, realistic record of ``interface_type`` (fields in spec order).

    ``overrides`` replace generated values (use ``**{"Commercial-Type": 1}`` for names that are
    not identifiers); :data:`OMIT` removes a field. ``Reserved`` is never generated.
    """
    iface = (
        interface_type
        if isinstance(interface_type, InterfaceSpec)
        else (spec or get_spec()).interface(interface_type)
    )
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    moment = (now or datetime.now(BEIJING)).replace(microsecond=0)
    record: dict[str, Any] = {}
    for f in iface.fields:
        if f.name == "Reserved" or (not f.required and not include_optional):
            continue
        record[f.name] = _field_value(f, rng, moment)
    for key, value in overrides.items():
        if value is OMIT:
            record.pop(key, None)
        else:
            record[key] = value
    return record


def valid_records(
    interface_type: str, count: int, *, seed: int = 0, **overrides: Any
) -> list[dict[str, Any]]:
    """``count`` valid records with different random parts (ids, plates, coordinates)."""
    return [valid_record(interface_type, seed=seed + i, **overrides) for i in range(count)]


# ---------------------------------------------------------------------------------------------
# invalid values: one or more per rule of every field, for tests and certification scenarios
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvalidCase:
    """Setting ``field`` to ``value`` (``OMIT``: removing it) in a valid record must produce
    exactly one error, ``(field, code)``."""

    interface: str
    field: str
    label: str
    value: Any
    code: ErrorCode


def _int_invalid(f: FieldSpec) -> list[tuple[str, Any, ErrorCode]]:
    cases: list[tuple[str, Any, ErrorCode]] = []
    n = f.length
    rules = f.rules
    if ErrorCode.MAX_LENGTH in rules and n is not None:
        cases.append((f"{n + 1} digits", 10**n, ErrorCode.MAX_LENGTH))
    if ErrorCode.FIXED_LENGTH in rules and n is not None:
        cases.append((f"{n + 1} digits", 10**n, ErrorCode.FIXED_LENGTH))
        if n >= 2:
            cases.append((f"{n - 1} digits", 10 ** (n - 2), ErrorCode.FIXED_LENGTH))
    if ErrorCode.RANGE in rules and f.min_value is not None and f.max_value is not None:
        lo, hi = int(f.min_value), int(f.max_value)
        fixed = f.fixed_length

        def digits_ok(v: int) -> bool:
            digits = len(str(abs(v)))
            return n is None or (digits == n if fixed else digits <= n)

        below = -(10 ** (n - 1)) if (f.fixed_length and n and n > 1) else lo - 1
        if below < lo and digits_ok(below):
            cases.append(("below range", below, ErrorCode.RANGE))
        if digits_ok(hi + 1):
            cases.append(("above range", hi + 1, ErrorCode.RANGE))
    if f.kind is FieldKind.DATE:
        cases += [(label, v, ErrorCode.DATE) for label, v in _BAD_DATES]
    if f.kind in (FieldKind.DATETIME, FieldKind.TIMESTAMP):
        cases += [(label, v, ErrorCode.DATETIME) for label, v in _BAD_DATETIMES]
        if f.is_event_time:
            cases.append(("clock never set (1970)", 19700101080000, ErrorCode.TIME_TOO_EARLY))
            cases.append(("a second before 2000", 19991231235959, ErrorCode.TIME_TOO_EARLY))
            ahead = datetime.now(BEIJING) + timedelta(days=2)
            cases.append(("two days ahead", _dt14(ahead), ErrorCode.TIME_IN_FUTURE))
            cases.append(("year 2099", 20990101000000, ErrorCode.TIME_IN_FUTURE))
    if f.kind is FieldKind.TIMESTAMP:
        cases += [("unix milliseconds", 1_700_000_000_000, ErrorCode.DATETIME)]
        cases += [("9-digit number", 123_456_789, ErrorCode.DATETIME)]
    if f.kind is FieldKind.YEARMONTH:
        cases += [("month 13", 202613, ErrorCode.YEARMONTH), ("month 00", 202600, ErrorCode.YEARMONTH)]
    if f.enum_values is not None:
        codes = {int(x) for x in f.enum_values}
        candidates = range(10) if (f.fixed_length and n == 1) else range(max(codes) + 1, max(codes) + 10)
        cases.append(("not a code", next(x for x in candidates if x not in codes), ErrorCode.ENUM))
    if f.region_code:
        from .reference_data import region_codes

        known = region_codes()
        for label, v in (("no such province", 990000), ("no such city", 330199), ("no such code", 100000)):
            if v not in known:
                cases.append((label, v, ErrorCode.REGION_CODE))
    if f.coordinate is not None:
        lon, lat = _ORIGIN
        swapped = lat if f.coordinate is Coordinate.LONGITUDE else lon
        outside = 150_000_000 if f.coordinate is Coordinate.LONGITUDE else 60_000_000
        cases += [
            ("zero", 0, ErrorCode.COORDINATE_RANGE),
            ("swapped with the other axis", swapped, ErrorCode.COORDINATE_RANGE),
            ("outside China", outside, ErrorCode.COORDINATE_RANGE),
            (
                "degrees instead of micro-degrees",
                120 if f.coordinate is Coordinate.LONGITUDE else 30,
                ErrorCode.COORDINATE_RANGE,
            ),
        ]
    return cases


_BAD_DATES = (
    ("30 February", 20260230),
    ("month 13", 20261301),
    ("day 00", 20260100),
    ("29 Feb 2025", 20250229),
)
_BAD_DATETIMES = (
    ("hour 24", 20260101246000),
    ("minute 60", 20260101126000),
    ("second 60", 20260101120060),
    ("30 February", 20260230120000),
)


def invalid_values(interface: str, f: FieldSpec) -> list[InvalidCase]:
    """Values that violate each rule of ``f`` (and nothing else)."""
    out: list[tuple[str, Any, ErrorCode]] = []
    rules = f.rules
    if ErrorCode.REQUIRED in rules:
        out += [
            ("missing", OMIT, ErrorCode.REQUIRED),
            ("null", None, ErrorCode.REQUIRED),
            ("empty string", "", ErrorCode.REQUIRED),
            ("whitespace", "   ", ErrorCode.REQUIRED),
        ]
    if f.value_type is ValueType.STRING:
        out += [
            ("integer", 12345, ErrorCode.TYPE),
            ("boolean", True, ErrorCode.TYPE),
            ("array", ["A"], ErrorCode.TYPE),
        ]
        if f.charset is Charset.PLATE:
            out += [
                ("full-width letter", "浙Ａ12345", ErrorCode.HALFWIDTH),
                ("full-width digits", "浙A１２３４５", ErrorCode.HALFWIDTH),
                ("lower-case letter", "浙a12345", ErrorCode.PLATE_FORMAT),
                ("no province", "ZA12345", ErrorCode.PLATE_FORMAT),
                ("not a province", "港A12345", ErrorCode.PLATE_FORMAT),
                ("too short", "浙A1234", ErrorCode.PLATE_FORMAT),
                ("digit after province", "浙112345", ErrorCode.PLATE_FORMAT),
                ("inner space", "浙A 12345", ErrorCode.PLATE_FORMAT),
            ]
        elif f.charset is Charset.HALFWIDTH:
            out += [
                ("full-width letters and digits", "ＡＢＣ１２３", ErrorCode.HALFWIDTH),
                ("full-width comma", "12，3", ErrorCode.HALFWIDTH),
                ("ideographic space", "12\u30003", ErrorCode.HALFWIDTH),
                ("control character", "12\x003", ErrorCode.HALFWIDTH),
                ("Chinese", "杭州", ErrorCode.HALFWIDTH),
            ]
        else:
            out += [
                ("NUL character", "西湖\x00断桥", ErrorCode.CONTROL_CHARACTER),
                ("line break", "西湖\n断桥", ErrorCode.CONTROL_CHARACTER),
            ]
        ascii_fill = f.charset in (Charset.HALFWIDTH, Charset.PLATE)
        fill = "A" if ascii_fill else "中"
        if f.max_length is not None:
            out.append((f"{f.max_length + 1} characters", fill * (f.max_length + 1), ErrorCode.MAX_LENGTH))
        if f.exact_length is not None:
            out.append(
                (f"{f.exact_length - 1} characters", fill * (f.exact_length - 1), ErrorCode.FIXED_LENGTH)
            )
            out.append(
                (f"{f.exact_length + 1} characters", fill * (f.exact_length + 1), ErrorCode.FIXED_LENGTH)
            )
        if f.kind is FieldKind.TIME_HHMM:
            out += [
                ("hour 24", "2400", ErrorCode.TIME_HHMM),
                ("minute 60", "0760", ErrorCode.TIME_HHMM),
                ("with colon", "07:30", ErrorCode.TIME_HHMM),
                ("3 digits", "730", ErrorCode.TIME_HHMM),
            ]
        if f.enum_values is not None:
            codes = {str(x) for x in f.enum_values}
            out.append(("not a code", next(x for x in "9876543210" if x not in codes), ErrorCode.ENUM))
            out.append(("full-width code", "１", ErrorCode.HALFWIDTH))
    elif f.value_type is ValueType.INTEGER:
        out += [
            ("numeric string", "1", ErrorCode.TYPE),
            ("boolean", True, ErrorCode.TYPE),
            ("float", 1.0, ErrorCode.TYPE),
        ]
        out += _int_invalid(f)
    else:
        out += [("numeric string", "12.5", ErrorCode.TYPE), ("boolean", False, ErrorCode.TYPE)]
        out += [
            ("negative", -0.01, ErrorCode.RANGE),
            ("negative integer", -1, ErrorCode.RANGE),
            ("NaN", float("nan"), ErrorCode.RANGE),
            ("infinity", float("inf"), ErrorCode.RANGE),
        ]
        if f.length is not None and f.decimal_places is not None:
            too_long = 10 ** (f.length - f.decimal_places)
            if f.max_value is None or too_long <= f.max_value:
                out.append((f"more than {f.length} digits", float(too_long), ErrorCode.MAX_LENGTH))
    return [InvalidCase(interface, f.name, label, value, code) for label, value, code in out]


def invalid_cases(interface_type: str, spec: Spec | None = None) -> list[InvalidCase]:
    """Every invalid-value case of every field of an interface, plus an unknown key."""
    iface = (spec or get_spec()).interface(interface_type)
    cases = [c for f in iface.fields for c in invalid_values(iface.type, f)]
    cases.append(InvalidCase(iface.type, "Unknown", "unknown key", "x", ErrorCode.UNKNOWN_FIELD))
    cases.append(InvalidCase(iface.type, "companyId", "wrong case", "x", ErrorCode.UNKNOWN_FIELD))
    return cases
