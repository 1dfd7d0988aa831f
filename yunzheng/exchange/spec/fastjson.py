"""One-pass decoding and validation of JSON upload bodies into msgspec Structs (the fast path).

A JSON envelope ``{"CompanyId", "Source", "IPCType", "<IPCType>": [records]}`` is decoded in C
straight into a ``Struct`` per record, generated once per interface from the spec: field types
(string / integer / number), required and optional fields, no unknown keys, no nulls, and integer
ranges as ``msgspec.Meta`` constraints. What msgspec cannot express (character sets, lengths,
plates, enums, region codes, real dates and the event-time window, two-decimal numbers) is then
checked per column over the batch's distinct values, with the very predicates of the validator's
fast path (:func:`~.validation._fast_expr`).

The fast path only ever accepts a batch whose every record the validator would accept as it is
(valid and already normalised). Anything else - one bad or unusual record, a null, an alias, a
stray envelope key - returns ``None`` and the caller takes the general path (dicts, the
record validator, the per-field checkers), which alone produces errors. So the results, the
error codes and the messages are those of the general path by construction; the tests compare
both paths on valid and invalid batches.

Protobuf bodies have their own column-wise fast path (:mod:`.fastproto`), which shares the
column checks of this module (:func:`_column_lines`).

Public API::

    decode_valid_json(body, interface) -> FastBatch | None
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from .datetimes import is_valid_date8, is_valid_datetime14, refresh_time_window
from .loader import (
    LATITUDE_RANGE,
    LONGITUDE_RANGE,
    Coordinate,
    FieldKind,
    FieldSpec,
    InterfaceSpec,
    ValueType,
    get_spec,
)
from .validation import _fast_expr, _int_bounds

__all__ = ["FastBatch", "decode_valid_json"]

_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True, slots=True)
class FastBatch:
    """A decoded envelope whose records are all valid and already normalised."""

    company_id: str
    source: str
    records: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Compiled:
    envelope: type
    decode: Callable[[bytes], Any]
    check: Callable[[list[Any]], bool]
    source: str


def _plain_int_bounds(f: FieldSpec) -> tuple[int, int] | None:
    """[lo, hi] when the field's fast path is a plain integer range (coordinates included)."""
    if f.value_type is not ValueType.INTEGER or f.enum_values is not None or f.region_code:
        return None
    if f.kind in (FieldKind.DATE, FieldKind.DATETIME, FieldKind.TIMESTAMP, FieldKind.YEARMONTH):
        return None
    lo, hi = _int_bounds(f)
    if f.coordinate is not None:
        c_lo, c_hi = LONGITUDE_RANGE if f.coordinate is Coordinate.LONGITUDE else LATITUDE_RANGE
        lo, hi = max(lo, c_lo), min(hi, c_hi)
    return lo, hi


@functools.cache
def _compile(interface: InterfaceSpec) -> _Compiled | None:
    """The Struct types and the column checks of one interface (None: no fast path)."""
    fields: list[tuple[str, Any, Any]] = []
    consts: dict[str, Any] = {
        "UNSET": msgspec.UNSET,
        "is_valid_date8": is_valid_date8,
        "is_valid_datetime14": is_valid_datetime14,
    }
    lines = ["def check(recs):"]
    for idx, f in enumerate(interface.fields):
        if not f.name.isidentifier() or f.name in ("CompanyId_", "check"):
            return None  # pragma: no cover - every spec name is an identifier
        typ: Any
        bounds = _plain_int_bounds(f)
        expr: str | None = None
        if f.value_type is ValueType.STRING:
            typ = str
        elif f.value_type is ValueType.INTEGER:
            typ = int
        else:
            typ = int | float
        if bounds is not None:
            lo, hi = bounds
            if _INT64[0] <= lo and hi <= _INT64[1]:
                typ = Annotated[int, msgspec.Meta(ge=lo, le=hi)]
            else:
                consts[f"LO{idx}"], consts[f"HI{idx}"] = lo, hi
                expr = f"LO{idx} <= v <= HI{idx}"
        else:
            expr = _fast_expr(f, consts, idx)
            if expr is None:
                if f.required:
                    return None  # such a value always takes the checker: never fast
                expr = "False"  # present: the general path; absent: fine
        if f.required:
            fields.append((f.name, typ, msgspec.NODEFAULT))
        else:
            fields.append((f.name, typ | msgspec.UnsetType, msgspec.UNSET))
        if expr is not None:
            if f.required:
                lines.append(f"    col = [r.{f.name} for r in recs]")
            else:
                lines.append(f"    col = [v for r in recs if (v := r.{f.name}) is not UNSET]")
            # msgspec makes str and int columns hold exactly str / int; ``int | float`` may mix.
            lines += _column_lines(expr, f, consts, idx)
    lines.append("    return True")
    record = msgspec.defstruct(
        f"{interface.type}Record",
        [
            (name, typ, default) if default is not msgspec.NODEFAULT else (name, typ)
            for name, typ, default in fields
        ],
        kw_only=True,
        forbid_unknown_fields=True,
    )
    envelope_fields: list[Any] = [
        ("CompanyId", str),
        ("Source", str),
        ("IPCType", str | int),
        (interface.type, list[record]),  # type: ignore[valid-type]
    ]
    envelope = msgspec.defstruct(
        f"{interface.type}Envelope",
        envelope_fields,
        forbid_unknown_fields=True,
    )
    source = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = dict(consts)
    exec(compile(source, f"<fast check {interface.type}>", "exec"), namespace)  # noqa: S102 - from the packaged spec
    return _Compiled(
        envelope=envelope,
        decode=msgspec.json.Decoder(envelope).decode,
        check=namespace["check"],
        source=source,
    )


def _column_lines(
    expr: str, f: FieldSpec, consts: dict[str, Any], idx: int, *, floats_only: bool = False
) -> list[str]:
    """Source lines that test ``expr`` on every value of ``col``.

    A column that can only hold one type is checked once per distinct value (1, 1.0 and True are
    one value in a set, not to the validator, so a number column only when ``floats_only``: a
    protobuf float field's column holds nothing else). A free-text column (plates,
    order numbers, names) also skips the values it already found good in earlier batches: a fleet
    reports the same plates and orders again and again, and the verdict on such a value depends on
    the value alone (not on the clock, unlike event times; the set is bounded).
    """
    if f.value_type is ValueType.NUMBER and not floats_only:
        # Distinct values per type: amounts repeat (0.0, a city's flag-fall price) and the check
        # rounds, but 1 == 1.0 in a set while the two take different branches of the check.
        return [
            "    for v in {v for v in col if type(v) is float}:",
            f"        if not ({expr}):",
            "            return False",
            "    for v in {v for v in col if type(v) is not float}:",
            f"        if not ({expr}):",
            "            return False",
        ]
    if f.value_type is not ValueType.STRING or f.enum_values is not None:
        return [
            "    col = set(col)",
            "    for v in col:",
            f"        if not ({expr}):",
            "            return False",
        ]
    good = f"GOOD{idx}"
    consts[good] = set()
    consts["GOOD_LIMIT"] = _KNOWN_GOOD_LIMIT
    return [
        f"    col = set(col) - {good}",
        "    for v in col:",
        f"        if not ({expr}):",
        "            return False",
        f"    if len({good}) > GOOD_LIMIT:",
        f"        {good}.clear()",
        f"    {good}.update(col)",
    ]


_KNOWN_GOOD_LIMIT = 65_536
"""Values a free-text column remembers as good (per interface and field; then it starts over)."""


_to_builtins = msgspec.to_builtins


def decode_valid_json(body: bytes, interface: InterfaceSpec) -> FastBatch | None:
    """The envelope and its records when the body is well-formed and every record is valid and
    already normalised for ``interface``; ``None`` otherwise (take the general path)."""
    compiled = _compile(interface)
    if compiled is None:
        return None
    try:
        env = compiled.decode(body)
    except (msgspec.MsgspecError, ValueError, RecursionError):
        return None
    company_id, ipc_type = env.CompanyId, env.IPCType
    if not company_id.strip():
        return None
    spec = get_spec()
    named = spec.interfaces.get(ipc_type) if type(ipc_type) is str else spec.by_ipc_code.get(ipc_type)
    if named is not interface:
        return None
    records = getattr(env, interface.type)
    refresh_time_window()
    if records and not compiled.check(records):
        return None
    return FastBatch(company_id=company_id, source=env.Source, records=_to_builtins(records))
