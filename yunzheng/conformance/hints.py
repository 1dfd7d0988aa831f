"""Concrete fix hints for rejected fields, derived from the rule (ErrorCode) and the field's spec.

Pure functions (no Django): a hint is ``{"code": ..., "params": {...}}``; :mod:`.texts` renders it
in the reader's language. Hints are computed at upload from the value as sent and stored with the
field error (the stored value may differ: JSON storage cannot hold every character, e.g. NUL).
"""

from __future__ import annotations

import difflib
import math
import unicodedata
from typing import Any

from yunzheng.exchange.spec import Coordinate, ErrorCode, FieldKind, FieldSpec, InterfaceSpec, ValueType
from yunzheng.exchange.spec.loader import LATITUDE_RANGE, LONGITUDE_RANGE

Hint = dict[str, Any]

_MAX_SHOWN_CHARS = 3
_MAX_VALUE_LENGTH = 80

EXAMPLE_DATE = 20190601
EXAMPLE_DATETIME = 20190601083000
EXAMPLE_YEARMONTH = 201906
EXAMPLE_REGION = 330100


def is_personal(interface: InterfaceSpec, field: str) -> bool:
    """Personal data as the exchange defines it (``exchange.personal_data``, ADR 0005)."""
    from yunzheng.exchange.personal_data import kind_of

    return kind_of(interface.type, field) is not None


def display_value(value: Any, interface: InterfaceSpec | None = None, field: str = "") -> str:
    """How a sent value is shown in a report: strings quoted, personal data (stored as a token)
    decrypted and masked, long values cut."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if interface is not None and value:
            from yunzheng.exchange.personal_data import kind_of, masked

            kind = kind_of(interface.type, field)
            if kind is not None:
                return f'"{masked(kind, value)}"'
        shown = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in value)
        if len(shown) > _MAX_VALUE_LENGTH:
            shown = shown[:_MAX_VALUE_LENGTH] + "…"
        return f'"{shown}"'
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    text = str(value)
    return text if len(text) <= _MAX_VALUE_LENGTH else text[:_MAX_VALUE_LENGTH] + "…"


def json_safe(value: Any) -> Any:
    """A value as JSON can store it (NaN/infinity and odd types become text)."""
    if isinstance(value, str):
        # PostgreSQL's jsonb cannot hold NUL; the fix hint was computed from the original value.
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(json_safe(str(k))): json_safe(v) for k, v in value.items()}
    return repr(value)


def _halfwidth_chars(value: str, offset: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, ch in enumerate(value):
        if " " <= ch <= "~":
            continue
        replacement = unicodedata.normalize("NFKC", ch)
        if not (replacement != ch and replacement.isascii() and replacement.isprintable()):
            replacement = ""
        shown = ch if ch.isprintable() and not ch.isspace() else ""
        out.append(
            {
                "position": i + 1 + offset,
                "char": shown,
                "codepoint": f"U+{ord(ch):04X}",
                "replacement": replacement,
            }
        )
        if len(out) == _MAX_SHOWN_CHARS:
            break
    return out


def _unit(field: FieldSpec) -> str:
    return "characters" if field.value_type is ValueType.STRING else "digits"


def _coordinate_hint(field: FieldSpec, value: Any) -> Hint:
    axis = field.coordinate or Coordinate.LONGITUDE
    lo, hi = LONGITUDE_RANGE if axis is Coordinate.LONGITUDE else LATITUDE_RANGE
    other_lo, other_hi = LATITUDE_RANGE if axis is Coordinate.LONGITUDE else LONGITUDE_RANGE
    if isinstance(value, int) and not isinstance(value, bool):
        if value == 0:
            return {"code": "coordinate_zero", "params": {"field": field.name}}
        if other_lo <= value <= other_hi:
            return {"code": "coordinate_swapped", "params": {"field": field.name, "axis": str(axis)}}
        if abs(value) < 1000:
            return {
                "code": "coordinate_degrees",
                "params": {"field": field.name, "suggested": value * 1_000_000},
            }
    return {
        "code": "coordinate_range",
        "params": {"field": field.name, "axis": str(axis), "min": lo, "max": hi},
    }


def fix_hint(
    interface: InterfaceSpec, field_name: str, code: str, value: Any, *, company_id: str = ""
) -> Hint:
    """What to change so that ``value`` of ``field_name`` passes rule ``code``."""
    field = interface.field_map.get(field_name)
    try:
        rule = ErrorCode(code)
    except ValueError:
        return {"code": "rule", "params": {"rule": code}}
    if rule is ErrorCode.RECORD_TYPE:
        return {"code": "record_type", "params": {}}
    if rule is ErrorCode.UNKNOWN_FIELD:
        names = list(interface.field_map)
        exact = [n for n in names if n.lower() == field_name.lower()]
        close = exact or difflib.get_close_matches(field_name, names, n=1, cutoff=0.75)
        return {
            "code": "unknown_field",
            "params": {"field": field_name, "suggestion": close[0] if close else ""},
        }
    if rule is ErrorCode.DUPLICATE_FIELD:
        canonical = interface.aliases.get(field_name, field_name)
        return {"code": "duplicate_field", "params": {"field": field_name, "canonical": canonical}}
    if rule is ErrorCode.COMPANY_MISMATCH:
        return {"code": "company_mismatch", "params": {"company_id": company_id}}
    if field is None:
        return {"code": "rule", "params": {"rule": code}}
    name = field.name
    if rule is ErrorCode.REQUIRED:
        return {"code": "required", "params": {"field": name, "name_zh": field.name_zh}}
    if rule is ErrorCode.TYPE:
        expected = {ValueType.STRING: "string", ValueType.INTEGER: "integer", ValueType.NUMBER: "number"}
        example: Any = {
            FieldKind.DATE: EXAMPLE_DATE,
            FieldKind.DATETIME: EXAMPLE_DATETIME,
            FieldKind.TIMESTAMP: EXAMPLE_DATETIME,
            FieldKind.YEARMONTH: EXAMPLE_YEARMONTH,
        }.get(field.kind, "")
        if example == "" and isinstance(value, str) and field.value_type is not ValueType.STRING:
            example = value.strip()
        return {"code": f"type_{expected[field.value_type]}", "params": {"field": name, "example": example}}
    if rule is ErrorCode.HALFWIDTH:
        text = value if isinstance(value, str) else ""
        offset = 1 if field.charset is not None and field.charset.value == "plate" else 0
        chars = _halfwidth_chars(text[offset:], offset)
        if is_personal(interface, name):  # the position and the replacement are enough to fix it
            chars = [{**c, "char": ""} for c in chars]
        return {"code": "halfwidth", "params": {"field": name, "chars": chars}}
    if rule is ErrorCode.CONTROL_CHARACTER:
        text = value if isinstance(value, str) else ""
        position = next((i for i, ch in enumerate(text) if not ch.isprintable() and ord(ch) < 0xA0), 0)
        codepoint = f"U+{ord(text[position]):04X}" if text else ""
        return {
            "code": "control_character",
            "params": {"field": name, "position": position + 1, "codepoint": codepoint},
        }
    if rule is ErrorCode.MAX_LENGTH:
        if field.value_type is ValueType.NUMBER:
            places = field.decimal_places or 2
            digits = (field.length or 0) - places
            return {"code": "number_digits", "params": {"field": name, "digits": digits, "places": places}}
        return {
            "code": "max_length",
            "params": {"field": name, "limit": field.length, "length": _length(value), "unit": _unit(field)},
        }
    if rule is ErrorCode.FIXED_LENGTH:
        return {
            "code": "fixed_length",
            "params": {
                "field": name,
                "required": field.length,
                "length": _length(value),
                "unit": _unit(field),
            },
        }
    if rule is ErrorCode.PLATE_FORMAT:
        return {"code": "plate_format", "params": {"field": name, "example": "浙A12345"}}
    if rule is ErrorCode.DATE:
        return {"code": "date", "params": {"field": name, "example": EXAMPLE_DATE}}
    if rule is ErrorCode.DATETIME:
        return {
            "code": "datetime",
            "params": {"field": name, "example": EXAMPLE_DATETIME, "unix_allowed": field.accepts_unixtime},
        }
    if rule is ErrorCode.TIME_TOO_EARLY:
        return {"code": "time_too_early", "params": {"field": name}}
    if rule is ErrorCode.TIME_IN_FUTURE:
        return {"code": "time_in_future", "params": {"field": name}}
    if rule is ErrorCode.YEARMONTH:
        return {"code": "yearmonth", "params": {"field": name, "example": EXAMPLE_YEARMONTH}}
    if rule is ErrorCode.TIME_HHMM:
        return {"code": "time_hhmm", "params": {"field": name, "example": "0730"}}
    if rule is ErrorCode.ENUM:
        codes = [[str(k), str(v)] for k, v in (field.enum or {}).items()]
        return {"code": "enum", "params": {"field": name, "codes": codes}}
    if rule is ErrorCode.REGION_CODE:
        return {"code": "region_code", "params": {"field": name, "example": EXAMPLE_REGION}}
    if rule is ErrorCode.COORDINATE_RANGE:
        return _coordinate_hint(field, value)
    if rule is ErrorCode.RANGE:
        lo = field.min_value
        hi = field.max_value
        if isinstance(value, float) and not math.isfinite(value):
            return {"code": "finite", "params": {"field": name}}
        return {
            "code": "range",
            "params": {
                "field": name,
                "min": lo if lo is None or math.isfinite(lo) else None,
                "max": hi if hi is None or (math.isfinite(hi) and hi < 1e15) else None,
            },
        }
    return {"code": "rule", "params": {"rule": code}}


def _length(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return len(str(abs(value)))
    return 0
