"""Typed, immutable view of the supervision interface specification.

The single source of truth is ``data/ridehail_supervision_spec_v2016.json`` (a copy of the
reconstructed 2016 总体技术要求(暂行) 附录A with a top-level ``version`` key added). Everything
else - validation rules, protobuf messages, the ``.proto`` text and the Markdown reference - is
derived from it here. The validation rule of every field is derived from the field's data
(type, protobuf type, ``length``/``length_kind``, ``format``, ``enum``/``code_table``, Chinese name
and note); the few places where the data is known to be wrong or incomplete are patched in
:data:`FIELD_RULE_OVERRIDES`, each with its reason.

Public API::

    get_spec() -> Spec                      # cached default spec
    load_spec(path: Path | None = None) -> Spec
    Spec.interface(key: str | int) -> InterfaceSpec  # by type name, ipc code or http path
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .error_codes import ErrorCode
from .natural_keys import NATURAL_KEYS, VERSION_FIELD

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_SPEC_PATH = DATA_DIR / "ridehail_supervision_spec_v2016.json"

#: Money (元) and distance (km) fields are protobuf ``float`` in the spec and "数字型 V10" in the
#: tables; the precision is not stated. We keep 2 decimal places (分 / 10 m) and round to them.
DECIMAL_PLACES = 2

FLOAT32_MAX = 3.4028234663852886e38

#: GB/T 2260 coordinates are integers in units of 1e-6 degree; China's territory is within these.
LONGITUDE_RANGE = (73_000_000, 136_000_000)
LATITUDE_RANGE = (3_000_000, 54_000_000)

#: PositionTime may be sent as unix seconds within these bounds (2000-01-01 .. 2100-01-01 UTC).
UNIXTIME_RANGE = (946_684_800, 4_102_444_800 - 1)


class FieldKind(StrEnum):
    """The spec's logical type of a field (``fields[].type``)."""

    STRING = "string"
    INTEGER = "int"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    YEARMONTH = "yearmonth"
    TIME_HHMM = "time"
    TIMESTAMP = "timestamp"


class ValueType(StrEnum):
    """The JSON/protobuf scalar type a value must have."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"


class Charset(StrEnum):
    """What characters a string field may contain."""

    TEXT = "text"  # names, addresses, free text: any characters (Chinese, full-width punctuation)
    HALFWIDTH = "halfwidth"  # codes, ids, numbers, phones, times: printable ASCII only
    PLATE = "plate"  # 车辆号牌: province character + half-width letters/digits


class Coordinate(StrEnum):
    LONGITUDE = "longitude"
    LATITUDE = "latitude"


_FORMAT_TIMESTAMP_BOTH = "YYYYMMDDhhmmss|unixtime"

# ---------------------------------------------------------------------------------------------
# Patches for known data gaps. Key: (interface type or "*", field name). Value: (attributes of
# FieldSpec to replace, reason). Everything not listed here is derived from the data.
# ---------------------------------------------------------------------------------------------
FIELD_RULE_OVERRIDES: Mapping[tuple[str, str], tuple[Mapping[str, Any], str]] = MappingProxyType(
    {
        ("positionDriver", "PositionTime"): (
            MappingProxyType({"format": _FORMAT_TIMESTAMP_BOTH}),
            "The transcription reads 'unixtime' but receiver DDLs store a 14-digit number and the "
            "field is V14 like all other times (confidence note). Accept both a 10-digit unix time "
            "in seconds (2000-2099) and a real YYYYMMDDhhmmss; unix times are normalised to "
            "YYYYMMDDhhmmss in Beijing time (UTC+8) so that PositionTime is comparable to all "
            "other times and the natural key is stable.",
        ),
        ("positionVehicle", "PositionTime"): (
            MappingProxyType({"format": _FORMAT_TIMESTAMP_BOTH}),
            "Same as positionDriver.PositionTime.",
        ),
        ("baseInfoDriver", "DriverType"): (
            MappingProxyType({"charset": Charset.HALFWIDTH}),
            "准驾车型 (JT/T 697.7 5.16) is a licence class code such as C1, A1A2 or B2 (Latin letter + "
            "digit, as printed on the licence); the code table is not in the data, so the Chinese "
            "name gives no hint. Full-width 'Ｃ１' is the typical error it must catch.",
        ),
    }
)

#: Alternative spellings accepted on input and renamed to the canonical (protobuf) name.
FIELD_ALIASES: Mapping[tuple[str, str], tuple[str, ...]] = MappingProxyType(
    {
        # The spec-table transcription spells the element "Commercial-Type" and one JSON uploader
        # sends it that way; the protobuf (and therefore our canonical name) is CommercialType.
        ("baseInfoVehicle", "CommercialType"): ("Commercial-Type",),
    }
)

# Classification of string fields by their Chinese name (suffix after stripping a trailing
# parenthetical). Checked in this order; the first match wins; default is free text.
_PLATE_SUFFIXES = ("号牌",)
#: Designations that end in 号 but legitimately contain Chinese: model designations
#: (比亚迪牌BYD7005BEV) and permit numbers (浙杭网约字〔2017〕001号).
_TEXT_SUFFIXES = ("型号", "许可证号", "字号")
#: 编号/号/代码/编码/VIN码/标识/电话/手机号/版本号/时间: codes, identifiers, numbers and times.
_HALFWIDTH_SUFFIXES = ("号", "码", "标识", "电话", "时间")

_PAREN_TAIL = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")
_NOTE_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\b")
_NOTE_UNIT = re.compile(r"单位[:：]\s*([^,;，；()（）]+?)\s*(?:[,;，；()（）]|$)")
_PACKAGE_RE = re.compile(r"package\s+([A-Za-z_][\w.]*)")

_PROTO_INT_BOUNDS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "uint32": (0, 2**32 - 1),
        "uint64": (0, 2**64 - 1),
        "int32": (-(2**31), 2**31 - 1),
        "int64": (-(2**63), 2**63 - 1),
        "sint32": (-(2**31), 2**31 - 1),
        "sint64": (-(2**63), 2**63 - 1),
        "fixed32": (0, 2**32 - 1),
        "fixed64": (0, 2**64 - 1),
    }
)
_PROTO_FLOAT_TYPES = frozenset({"float", "double"})


class SpecError(ValueError):
    """The data file is inconsistent with what the loader can derive rules for."""


@dataclass(frozen=True, slots=True)
class CodeTable:
    name: str
    source: str
    codes: Mapping[str, str] | None
    unconfirmed: bool
    candidate_codes: Mapping[str, str] | None


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of one interface, with the validation rule derived for it."""

    name: str
    name_zh: str
    kind: FieldKind
    value_type: ValueType
    spec_type: str
    length: int | None
    fixed_length: bool
    format: str | None
    required: bool
    code_table: str | None
    enum: Mapping[str, str] | None  # code -> label, None when no (confirmed) code table
    enum_values: frozenset[int] | frozenset[str] | None
    proto_number: int
    proto_type: str
    proto_label: str
    note: str | None
    unconfirmed: bool
    unconfirmed_reason: str | None
    # --- derived rule -------------------------------------------------------------------------
    charset: Charset | None  # None for non-string fields
    region_code: bool
    coordinate: Coordinate | None
    min_value: int | float | None
    max_value: int | float | None
    decimal_places: int | None
    unit: str | None
    aliases: tuple[str, ...] = ()
    override_reason: str | None = None
    rules: tuple[ErrorCode, ...] = ()

    @property
    def max_length(self) -> int | None:
        return None if self.fixed_length else self.length

    @property
    def exact_length(self) -> int | None:
        return self.length if self.fixed_length else None

    @property
    def accepts_unixtime(self) -> bool:
        return self.kind is FieldKind.TIMESTAMP and "unixtime" in (self.format or "")

    @property
    def accepts_datetime14(self) -> bool:
        return self.kind is FieldKind.TIMESTAMP and "YYYYMMDDhhmmss" in (self.format or "")

    @property
    def is_event_time(self) -> bool:
        """A date-time recording when something happened, so from 2000 on and never more than a day
        ahead: not a planned time (预计上车时间, 预计用车时间) nor the bound of a validity period
        (有效期), which the consistency checks of conformance judge instead."""
        return self.kind in (FieldKind.DATETIME, FieldKind.TIMESTAMP) and not any(
            word in self.name_zh for word in ("预计", "有效期")
        )


@dataclass(frozen=True, slots=True, eq=False)
class InterfaceSpec:
    type: str
    ipc_type_code: int
    protobuf_message: str
    http_path: str
    category: str  # key of the CategorySpec: baseinfo / order / operate / position / rated / share
    name_zh: str
    spec_section: str
    spec_table: str
    direction: str
    otipc_field_number: int
    fields: tuple[FieldSpec, ...]
    field_map: Mapping[str, FieldSpec]
    aliases: Mapping[str, str]  # alias -> canonical field name
    natural_key: tuple[str, ...]
    version_field: str | None  # "UpdateTime" for base info, None for event interfaces

    @property
    def ipc_type_hex(self) -> str:
        return f"0x{self.ipc_type_code:04X}"

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def natural_key_of(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        """The natural key values of a (validated) record."""
        return tuple(record[name] for name in self.natural_key)

    def idempotency_key(self, company_id: str, record: Mapping[str, Any]) -> tuple[Any, ...]:
        """``(company, interface, natural key, UpdateTime or None)`` of a validated record."""
        version = record.get(self.version_field) if self.version_field else None
        return (company_id, self.type, self.natural_key_of(record), version)


@dataclass(frozen=True, slots=True)
class CategorySpec:
    key: str
    name_zh: str
    name_en: str
    interface_types: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EnvelopeField:
    name: str
    number: int
    type: str
    required: bool
    note: str


@dataclass(frozen=True, slots=True, eq=False)
class Spec:
    version: str
    title: str
    categories: tuple[CategorySpec, ...]
    interfaces: Mapping[str, InterfaceSpec]
    by_ipc_code: Mapping[int, InterfaceSpec]
    by_http_path: Mapping[str, InterfaceSpec]
    code_tables: Mapping[str, CodeTable]
    confidence_notes: tuple[str, ...]
    proto_package: str
    envelope_message: str
    envelope_fields: tuple[EnvelopeField, ...]
    batch_message: str
    batch_field: tuple[str, int]
    source_path: str

    def interface(self, key: str | int) -> InterfaceSpec:
        """Look an interface up by type name ("orderCreate"), ipc code (0x2001) or path."""
        if isinstance(key, int):
            return self.by_ipc_code[key]
        found = self.interfaces.get(key) or self.by_http_path.get(key)
        if found is None:
            raise KeyError(key)
        return found

    @property
    def field_count(self) -> int:
        return sum(len(i.fields) for i in self.interfaces.values())


# ---------------------------------------------------------------------------------------------
# derivation
# ---------------------------------------------------------------------------------------------


def base_name_zh(name_zh: str) -> str:
    """Chinese name without a trailing explanatory parenthetical: '行政区划代码 (运价适用地)'."""
    return _PAREN_TAIL.sub("", name_zh).strip()


def _classify_charset(raw: Mapping[str, Any], has_enum: bool) -> Charset:
    name = base_name_zh(raw["name_zh"])
    note = raw.get("note") or ""
    if name.endswith(_PLATE_SUFFIXES):
        return Charset.PLATE
    if has_enum or raw.get("format"):
        return Charset.HALFWIDTH
    if "汉字" in note or name.endswith(_TEXT_SUFFIXES):
        return Charset.TEXT
    if name.endswith(_HALFWIDTH_SUFFIXES):
        return Charset.HALFWIDTH
    return Charset.TEXT


def _value_type(proto_type: str) -> ValueType:
    if proto_type == "string":
        return ValueType.STRING
    if proto_type in _PROTO_FLOAT_TYPES:
        return ValueType.NUMBER
    if proto_type in _PROTO_INT_BOUNDS:
        return ValueType.INTEGER
    raise SpecError(f"unsupported protobuf type {proto_type!r}")


def _rules_for(f: FieldSpec) -> tuple[ErrorCode, ...]:
    rules: list[ErrorCode] = []
    if f.required:
        rules.append(ErrorCode.REQUIRED)
    rules.append(ErrorCode.TYPE)
    if f.charset in (Charset.HALFWIDTH, Charset.PLATE):
        rules.append(ErrorCode.HALFWIDTH)
    elif f.value_type is ValueType.STRING:
        rules.append(ErrorCode.CONTROL_CHARACTER)
    if f.length is not None and not (
        # a decimal's digit limit that its float range makes unreachable (TotalMile V64)
        f.decimal_places is not None
        and f.max_value is not None
        and 10 ** (f.length - f.decimal_places) > f.max_value
    ):
        rules.append(ErrorCode.FIXED_LENGTH if f.fixed_length else ErrorCode.MAX_LENGTH)
    if f.min_value is not None or f.max_value is not None:
        rules.append(ErrorCode.RANGE)
    if f.charset is Charset.PLATE:
        rules.append(ErrorCode.PLATE_FORMAT)
    kind_rule = {
        FieldKind.DATE: ErrorCode.DATE,
        FieldKind.DATETIME: ErrorCode.DATETIME,
        FieldKind.TIMESTAMP: ErrorCode.DATETIME,
        FieldKind.YEARMONTH: ErrorCode.YEARMONTH,
        FieldKind.TIME_HHMM: ErrorCode.TIME_HHMM,
    }.get(f.kind)
    if kind_rule is not None:
        rules.append(kind_rule)
    if f.is_event_time:
        rules += [ErrorCode.TIME_TOO_EARLY, ErrorCode.TIME_IN_FUTURE]
    if f.enum_values is not None:
        rules.append(ErrorCode.ENUM)
    if f.region_code:
        rules.append(ErrorCode.REGION_CODE)
    if f.coordinate is not None:
        rules.append(ErrorCode.COORDINATE_RANGE)
    return tuple(rules)


_EXPECTED_FORMAT: Mapping[FieldKind, tuple[str | None, ValueType]] = MappingProxyType(
    {
        FieldKind.DATE: ("YYYYMMDD", ValueType.INTEGER),
        FieldKind.DATETIME: ("YYYYMMDDhhmmss", ValueType.INTEGER),
        FieldKind.YEARMONTH: ("YYYYMM", ValueType.INTEGER),
        FieldKind.TIME_HHMM: ("HHmm", ValueType.STRING),
        FieldKind.TIMESTAMP: ("unixtime", ValueType.INTEGER),
    }
)


def derive_field(
    interface_type: str, raw: Mapping[str, Any], code_tables: Mapping[str, CodeTable]
) -> FieldSpec:
    """Derive a FieldSpec (data + validation rule) from one ``fields[]`` entry."""
    name: str = raw["name"]
    where = f"{interface_type}.{name}"
    try:
        kind = FieldKind(raw["type"])
    except ValueError as exc:
        raise SpecError(f"{where}: unknown field type {raw['type']!r}") from exc
    proto = raw["proto"]
    value_type = _value_type(proto["type"])
    expected = _EXPECTED_FORMAT.get(kind)
    if expected is not None and (raw.get("format"), value_type) != expected:
        raise SpecError(f"{where}: {kind} field with format {raw.get('format')!r} / {value_type}")
    if kind is FieldKind.DECIMAL and value_type is not ValueType.NUMBER:
        raise SpecError(f"{where}: decimal field with protobuf type {proto['type']}")

    length = raw.get("length")
    length_kind = raw.get("length_kind")
    if length is not None and length_kind not in ("fixed", "variable, max"):
        raise SpecError(f"{where}: length {length} with length_kind {length_kind!r}")
    fixed = length_kind == "fixed" and length is not None

    # Code table: the field's own enum wins; a referenced table without codes means "unconfirmed".
    code_table: str | None = raw.get("code_table")
    labels: Mapping[str, str] | None = None
    if raw.get("enum"):
        labels = MappingProxyType(dict(raw["enum"]))
    elif code_table and code_tables.get(code_table) and code_tables[code_table].codes:
        labels = code_tables[code_table].codes
    enum_values: frozenset[int] | frozenset[str] | None = None
    if labels is not None:
        if value_type is ValueType.INTEGER:
            enum_values = frozenset(int(k) for k in labels)
        elif value_type is ValueType.STRING:
            enum_values = frozenset(labels)
        else:
            raise SpecError(f"{where}: enum on a {value_type} field")

    name_zh: str = raw["name_zh"]
    note: str | None = raw.get("note")
    base_zh = base_name_zh(name_zh)

    region = value_type is ValueType.INTEGER and ("行政区划" in name_zh or "GB/T 2260" in (note or ""))
    if region and not (fixed and length == 6):
        raise SpecError(f"{where}: region code field is not fixed length 6")

    coordinate: Coordinate | None = None
    if value_type is ValueType.INTEGER and base_zh.endswith("经度"):
        coordinate = Coordinate.LONGITUDE
    elif value_type is ValueType.INTEGER and base_zh.endswith("纬度"):
        coordinate = Coordinate.LATITUDE

    min_value: int | float | None = None
    max_value: int | float | None = None
    decimal_places: int | None = None
    if value_type is ValueType.INTEGER:
        min_value, max_value = _PROTO_INT_BOUNDS[proto["type"]]
        m = _NOTE_RANGE.match(note or "")
        if m:  # e.g. Direction "0-359, 顺时针方向"
            min_value, max_value = int(m.group(1)), int(m.group(2))
        elif "五分制" in (note or ""):  # five-point scores
            min_value, max_value = 1, 5
    elif value_type is ValueType.NUMBER:
        # all decimal fields are money (元) or distances (km): non-negative, finite, fit float32
        min_value = 0
        max_value = FLOAT32_MAX if proto["type"] == "float" else math.inf
        decimal_places = DECIMAL_PLACES

    unit_match = _NOTE_UNIT.search(note or "")
    fs = FieldSpec(
        name=name,
        name_zh=name_zh,
        kind=kind,
        value_type=value_type,
        spec_type=raw.get("spec_type") or "",
        length=length,
        fixed_length=fixed,
        format=raw.get("format"),
        required=bool(raw["required"]),
        code_table=code_table,
        enum=labels,
        enum_values=enum_values,
        proto_number=int(proto["number"]),
        proto_type=proto["type"],
        proto_label=proto["label"],
        note=note,
        unconfirmed=bool(raw.get("unconfirmed", False)),
        unconfirmed_reason=raw.get("unconfirmed_reason"),
        charset=_classify_charset(raw, labels is not None) if value_type is ValueType.STRING else None,
        region_code=region,
        coordinate=coordinate,
        min_value=min_value,
        max_value=max_value,
        decimal_places=decimal_places,
        unit=unit_match.group(1) if unit_match else None,
        aliases=FIELD_ALIASES.get((interface_type, name), ()),
    )
    override = FIELD_RULE_OVERRIDES.get((interface_type, name)) or FIELD_RULE_OVERRIDES.get(("*", name))
    if override is not None:
        changes, reason = override
        fs = dataclasses.replace(fs, override_reason=reason, **dict(changes))
    return dataclasses.replace(fs, rules=_rules_for(fs))


def _code_tables(raw: Mapping[str, Any]) -> Mapping[str, CodeTable]:
    tables: dict[str, CodeTable] = {}
    for name, t in raw.items():
        codes = t.get("codes")
        cand = t.get("candidate_codes")
        tables[name] = CodeTable(
            name=name,
            source=t.get("source", ""),
            codes=MappingProxyType(dict(codes)) if codes else None,
            unconfirmed=bool(t.get("unconfirmed", False)),
            candidate_codes=MappingProxyType(dict(cand)) if cand else None,
        )
    return MappingProxyType(tables)


def _category_key(interfaces: list[Mapping[str, Any]]) -> str:
    keys = {i["http_path"].strip("/").split("/")[0] for i in interfaces}
    if len(keys) != 1:
        raise SpecError(f"category mixes URL prefixes {sorted(keys)}")
    return str(keys.pop())


def build_spec(data: Mapping[str, Any], *, source_path: str = "<memory>") -> Spec:
    """Build a :class:`Spec` from the decoded JSON document."""
    code_tables = _code_tables(data["code_tables"])
    interfaces: dict[str, InterfaceSpec] = {}
    categories: list[CategorySpec] = []
    for cat in data["categories"]:
        key = _category_key(cat["interfaces"])
        for raw in cat["interfaces"]:
            itype: str = raw["type"]
            fields = tuple(derive_field(itype, f, code_tables) for f in raw["fields"])
            field_map = MappingProxyType({f.name: f for f in fields})
            if len(field_map) != len(fields):
                raise SpecError(f"{itype}: duplicate field names")
            aliases = MappingProxyType({a: f.name for f in fields for a in f.aliases})
            try:
                natural_key = NATURAL_KEYS[itype]
            except KeyError as exc:
                raise SpecError(f"{itype}: no natural key in NATURAL_KEYS") from exc
            interfaces[itype] = InterfaceSpec(
                type=itype,
                ipc_type_code=int(raw["ipc_type_code"]),
                protobuf_message=raw["protobuf_message"],
                http_path=raw["http_path"],
                category=key,
                name_zh=raw["name_zh"],
                spec_section=raw.get("spec_section", ""),
                spec_table=raw.get("spec_table", ""),
                direction=raw.get("direction", ""),
                otipc_field_number=int(raw.get("otipc_repeated_field_number", raw["ipc_type_code"])),
                fields=fields,
                field_map=field_map,
                aliases=aliases,
                natural_key=natural_key,
                version_field=VERSION_FIELD if VERSION_FIELD in field_map else None,
            )
        categories.append(
            CategorySpec(
                key=key,
                name_zh=cat.get("name_zh", ""),
                name_en=cat.get("name_en", ""),
                interface_types=tuple(i["type"] for i in cat["interfaces"]),
            )
        )

    pb = data["transport"]["protobuf_variant"]
    pkg = _PACKAGE_RE.search(pb["proto_file"])
    if pkg is None:
        raise SpecError("transport.protobuf_variant.proto_file names no package")
    envelope_fields = tuple(
        EnvelopeField(
            name=f["name"],
            number=int(f["number"]),
            type=f["type"],
            required=bool(f["required"]),
            note=f.get("note", ""),
        )
        for f in pb["envelope"]["fields"]
        if isinstance(f["number"], int)
    )
    batch = pb["batch"]["fields"][0]
    by_code = {i.ipc_type_code: i for i in interfaces.values()}
    by_path = {i.http_path: i for i in interfaces.values()}
    if len(by_code) != len(interfaces) or len(by_path) != len(interfaces):
        raise SpecError("ipc codes / http paths are not unique")
    ipc_table = code_tables.get("IpcType")
    if ipc_table is None or ipc_table.codes is None:
        raise SpecError("code_tables.IpcType missing")
    if {int(k): v for k, v in ipc_table.codes.items()} != {c: i.type for c, i in by_code.items()}:
        raise SpecError("code_tables.IpcType disagrees with the interfaces")
    return Spec(
        version=str(data.get("version", "unversioned")),
        title=data.get("title", ""),
        categories=tuple(categories),
        interfaces=MappingProxyType(interfaces),
        by_ipc_code=MappingProxyType(by_code),
        by_http_path=MappingProxyType(by_path),
        code_tables=code_tables,
        confidence_notes=tuple(data.get("confidence_notes", ())),
        proto_package=pkg.group(1),
        envelope_message=pb["envelope"]["message"],
        envelope_fields=envelope_fields,
        batch_message=pb["batch"]["message"],
        batch_field=(batch["name"], int(batch["number"])),
        source_path=source_path,
    )


def load_spec(path: Path | str | None = None) -> Spec:
    """Load and derive a spec from a JSON file (default: the packaged v2016 data file)."""
    p = Path(path) if path is not None else DEFAULT_SPEC_PATH
    with p.open("rb") as fh:
        data = json.load(fh)
    return build_spec(data, source_path=p.name)


@functools.cache
def get_spec() -> Spec:
    """The packaged default spec, loaded once per process."""
    return load_spec()
