"""Records that break exactly one rule, derived from the spec for any interface (for the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yunzheng.exchange.spec import Charset, FieldKind, FieldSpec, InterfaceSpec, ValueType
from yunzheng.exchange.spec.samples import OMIT, valid_record


@dataclass(frozen=True)
class Violation:
    field: str
    code: str
    record: dict[str, Any]
    protobuf_ok: bool = True  # the value can be put into a protobuf message


def _fullwidth(value: str) -> str:
    """Replace the first ASCII letter/digit by its full-width form (Ａ = U+FF21, ０ = U+FF10)."""
    for i, ch in enumerate(value):
        if ch.isascii() and ch.isalnum():
            return value[:i] + chr(ord(ch) + 0xFEE0) + value[i + 1 :]
    return "Ａ" + value[1:]


def _bad_enum(f: FieldSpec) -> Any:
    assert f.enum_values is not None
    if f.value_type is ValueType.INTEGER:
        return next(v for v in range(10) if v not in f.enum_values)
    return next(v for v in "9876543210ZYX" if v not in f.enum_values)


def violations(iface: InterfaceSpec, *, seed: int = 1) -> list[Violation]:
    out: list[Violation] = []

    def add(f: FieldSpec, code: str, value: Any, protobuf_ok: bool = True) -> None:
        override: dict[str, Any] = {f.name: value}
        out.append(Violation(f.name, code, valid_record(iface, seed=seed, **override), protobuf_ok))

    for f in iface.fields:
        if f.name == "Reserved":
            continue
        good = valid_record(iface, seed=seed)[f.name]
        if f.required:
            omitted: dict[str, Any] = {f.name: OMIT}
            out.append(Violation(f.name, "required", valid_record(iface, seed=seed, **omitted)))
        # wrong JSON type (cannot be encoded in protobuf)
        add(f, "type", 12345 if f.value_type is ValueType.STRING else "12345", protobuf_ok=False)
        if f.value_type is ValueType.STRING:
            if f.charset in (Charset.HALFWIDTH, Charset.PLATE) and f.enum_values is None:
                add(f, "halfwidth", _fullwidth(good))
            if f.charset is Charset.PLATE:
                add(f, "plate_format", good[:2] + "1234")
            if f.exact_length is not None and f.kind is not FieldKind.TIME_HHMM:
                add(f, "fixed_length", "1" * (f.exact_length + 1))
            elif f.max_length is not None and f.enum_values is None:
                filler = "1" if f.charset is not Charset.TEXT else "字"
                too_long = good + filler * (f.max_length + 1 - len(good))
                if f.charset is Charset.PLATE:
                    too_long = good[:2] + "1" * (f.max_length - 1)
                    add(f, "max_length", too_long)
                else:
                    add(f, "max_length", too_long)
            if f.kind is FieldKind.TIME_HHMM:
                add(f, "time_hhmm", "2460")
            if f.enum_values is not None:
                add(f, "enum", _bad_enum(f))
        elif f.value_type is ValueType.INTEGER:
            if f.kind is FieldKind.DATE:
                add(f, "date", 20260230)
            elif f.kind is FieldKind.DATETIME or f.kind is FieldKind.TIMESTAMP:
                add(f, "datetime", 20260230120000)
            elif f.kind is FieldKind.YEARMONTH:
                add(f, "yearmonth", 202613)
            elif f.region_code:
                add(f, "region_code", 999999)
            elif f.coordinate is not None:
                add(f, "coordinate_range", 500_000)
            elif f.enum_values is not None:
                add(f, "enum", _bad_enum(f))
            elif f.max_value is not None and f.max_value < 10**6:
                add(f, "range", int(f.max_value) + 1)
            elif f.length is not None and f.length < 19:
                add(f, "fixed_length" if f.fixed_length else "max_length", 10**f.length)
        else:  # decimal
            add(f, "range", -1.5)
    return out
