"""Record validation for the 32 supervision interfaces.

A validator is compiled once per interface from its :class:`~.loader.FieldSpec` list: every
field becomes one small checker closure with its limits bound as locals, and a generated
function inlines a fast-path predicate per field (see "Speed" below); nothing looks the spec
up per record. The validator takes
already-decoded records (``dict`` from JSON, or from protobuf via
:func:`~.protobuf.decode_otipc`) and reports every failing field of every record.

Public API::

    validate_records(interface, records) -> BatchResult
    validate_record(interface, record) -> tuple[dict | None, list[FieldError]]
    get_validator(interface) -> RecordValidator

Per field the checks run in this order and stop at the first failure (one error per field):
``required`` -> ``type`` -> ``halfwidth`` -> ``max_length``/``fixed_length`` -> ``range`` ->
``plate_format`` / ``date`` / ``datetime`` (then ``time_too_early`` / ``time_in_future``: event
times from 2000-01-01 to one day after now, Beijing time; planned times and validity bounds are
not event times) / ``yearmonth`` / ``time_hhmm`` -> ``enum`` -> ``region_code`` -> ``coordinate_range``.
Unknown keys are reported after the fields.

Normalisation of accepted records: canonical field names (aliases renamed); optional fields
that are null/empty/whitespace dropped; decimals rounded to 2 places; a unix-seconds
PositionTime becomes YYYYMMDDhhmmss (Beijing time). A record that needs none of this - the
normal case - is returned as the very dict that was passed in (no copy); otherwise a new dict
in spec order is returned. Callers must not rely on either identity.

Speed: per interface, Python source is generated with one inlined "fast path" predicate per
field (see :func:`_fast_expr`); a record whose fields all pass is accepted without calling a
checker (only date validity and the verdict caches are function calls).
The first field that fails hands the record to the per-field checkers (the reference
implementation, also used with ``RecordValidator(fast=False)``), which produce the complete
error list or the normalised copy.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .datetimes import (
    _LATEST_TIME14,
    BEIJING,
    EARLIEST_TIME14,
    FUTURE_TOLERANCE,
    is_valid_date8,
    is_valid_datetime14,
    refresh_time_window,
    unixtime_to_datetime14,
)
from .error_codes import ErrorCode
from .loader import (
    LATITUDE_RANGE,
    LONGITUDE_RANGE,
    UNIXTIME_RANGE,
    Charset,
    Coordinate,
    FieldKind,
    FieldSpec,
    InterfaceSpec,
    Spec,
    ValueType,
    get_spec,
)
from .reference_data import PLATE_PROVINCES, region_codes

__all__ = [
    "BEIJING",
    "FUTURE_TOLERANCE",
    "BatchResult",
    "FieldError",
    "RecordError",
    "RecordValidator",
    "get_validator",
    "validate_record",
    "validate_records",
]

Record = dict[str, Any]
_Check = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One failing field of one record. ``field`` is "" for record-level errors."""

    field: str
    code: ErrorCode
    message: str
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "code": str(self.code), "message": self.message, "value": self.value}


@dataclass(frozen=True, slots=True)
class RecordError:
    """A rejected record: its index in the batch and every failing field."""

    index: int
    errors: list[FieldError]

    @property
    def codes(self) -> list[tuple[str, ErrorCode]]:
        return [(e.field, e.code) for e in self.errors]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "errors": [e.to_dict() for e in self.errors]}


@dataclass(slots=True)
class BatchResult:
    accepted: list[tuple[int, Record]] = field(default_factory=list)
    rejected: list[RecordError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def accepted_records(self) -> list[Record]:
        return [r for _, r in self.accepted]


class _Fail(Exception):
    __slots__ = ("code", "message")

    def __init__(self, code: ErrorCode, message: str) -> None:
        self.code = code
        self.message = message


_ABSENT: Any = object()  # a checker's verdict: the value counts as not given ("", whitespace)

# ---------------------------------------------------------------------------------------------
# helpers (slow paths only build messages)
# ---------------------------------------------------------------------------------------------


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, list | tuple):
        return "array"
    return type(v).__name__


def _check_time_window(v: int, *, event_time: bool) -> None:
    """``time_too_early`` / ``time_in_future`` for a valid YYYYMMDDhhmmss value of an event time."""
    if not event_time:
        return
    if v < EARLIEST_TIME14:
        raise _Fail(ErrorCode.TIME_TOO_EARLY, f"{v} is before 2000-01-01 00:00:00 (Beijing time)")
    if v > _LATEST_TIME14[0]:
        raise _Fail(
            ErrorCode.TIME_IN_FUTURE,
            f"{v} is more than a day after the platform's current time (Beijing time); check the clock",
        )


def halfwidth_violations(v: str, offset: int = 0, limit: int = 3) -> list[str]:
    """Describe characters outside printable ASCII, with their half-width replacement (NFKC)."""
    out: list[str] = []
    for i, ch in enumerate(v):
        if " " <= ch <= "~":
            continue
        if len(out) == limit:
            out.append("...")
            break
        desc = f"position {i + 1 + offset} {ch!r} (U+{ord(ch):04X})"
        repl = unicodedata.normalize("NFKC", ch)
        if repl != ch and repl.isascii() and repl.isprintable():
            desc += f" -> use half-width {repl!r}"
        elif ch.isprintable():
            desc += " is not half-width ASCII"
        else:
            desc += " is a control/invisible character"
        out.append(desc)
    return out


def _halfwidth_fail(v: str, offset: int = 0) -> _Fail:
    return _Fail(
        ErrorCode.HALFWIDTH,
        "only half-width characters allowed: " + "; ".join(halfwidth_violations(v, offset)),
    )


def _type_fail(expected: str, v: Any) -> _Fail:
    return _Fail(ErrorCode.TYPE, f"expected {expected}, got {_json_type(v)}")


def _absent_or_type_fail(expected: str, v: Any) -> Any:
    """Slow path of non-string checkers: "" / whitespace means 'not given', else a type error."""
    if type(v) is str and (not v or v.isspace()):
        return _ABSENT
    raise _type_fail(expected, v)


# ---------------------------------------------------------------------------------------------
# checker factories: one closure per field, all limits bound at compile time
# ---------------------------------------------------------------------------------------------


_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")


def _string_checker(f: FieldSpec) -> _Check:
    maxlen = f.max_length
    exact = f.exact_length
    halfwidth = f.charset is Charset.HALFWIDTH
    enum = f.enum_values
    hhmm = f.kind is FieldKind.TIME_HHMM
    lengths = f"{exact} characters" if exact is not None else f"at most {maxlen} characters"

    def check(v: Any) -> Any:
        if type(v) is not str:
            raise _type_fail("a string", v)
        if not v or v.isspace():
            return _ABSENT
        if halfwidth and not (v.isascii() and v.isprintable()):
            raise _halfwidth_fail(v)
        # Free text may hold any printable character (Chinese, full-width punctuation, the
        # ideographic space), but never control characters: NUL cannot even be stored in jsonb.
        if not halfwidth and not v.isprintable() and (control := _CONTROL_CHARACTER.search(v)):
            raise _Fail(
                ErrorCode.CONTROL_CHARACTER,
                f"control character U+{ord(control.group()):04X} at position {control.start() + 1}",
            )
        n = len(v)
        if maxlen is not None and n > maxlen:
            raise _Fail(ErrorCode.MAX_LENGTH, f"{n} characters, {lengths}")
        if exact is not None and n != exact:
            raise _Fail(ErrorCode.FIXED_LENGTH, f"{n} characters, exactly {lengths}")
        if hhmm and not (
            n == 4 and v.isdigit() and int(v[:2]) < 24 and int(v[2:]) < 60  # isascii checked above
        ):
            raise _Fail(ErrorCode.TIME_HHMM, f"{v!r} is not a time of day HHmm (0000-2359)")
        if enum is not None and v not in enum:
            raise _Fail(ErrorCode.ENUM, f"{v!r} is not one of {sorted(enum)}")
        return v

    return check


def _plate_checker(f: FieldSpec) -> _Check:
    maxlen = f.max_length if f.max_length is not None else 32
    provinces = PLATE_PROVINCES

    def check(v: Any) -> Any:
        if type(v) is not str:
            raise _type_fail("a string", v)
        if not v or v.isspace():
            return _ABSENT
        rest = v[1:]
        if not (rest.isascii() and rest.isprintable()):
            raise _halfwidth_fail(rest, offset=1)
        n = len(v)
        if n > maxlen:
            raise _Fail(ErrorCode.MAX_LENGTH, f"{n} characters, at most {maxlen} characters")
        tail = v[2:]
        if not (
            (n == 7 or n == 8)
            and v[0] in provinces
            and "A" <= v[1] <= "Z"
            and tail.isalnum()
            and tail.upper() == tail
        ):
            raise _Fail(
                ErrorCode.PLATE_FORMAT,
                f"{v!r} is not a plate number: province abbreviation + capital letter + "
                "5 or 6 capital letters/digits, e.g. 浙A12345 or 浙AD12345",
            )
        return v

    return check


def _integer_checker(f: FieldSpec) -> _Check:
    n = f.length
    fixed = f.fixed_length and n is not None
    dmin = (10 ** (n - 1) if n > 1 else 0) if (fixed and n is not None) else 0
    dmax = 10**n - 1 if n is not None else None
    lo = int(f.min_value) if f.min_value is not None else None
    hi = int(f.max_value) if f.max_value is not None else None
    kind = f.kind
    enum = f.enum_values
    regions = region_codes() if f.region_code else None
    coord = f.coordinate
    c_lo, c_hi = LONGITUDE_RANGE if coord is Coordinate.LONGITUDE else LATITUDE_RANGE
    o_lo, o_hi = LATITUDE_RANGE if coord is Coordinate.LONGITUDE else LONGITUDE_RANGE
    date8 = kind is FieldKind.DATE
    dt14 = kind is FieldKind.DATETIME
    ym6 = kind is FieldKind.YEARMONTH
    ts = kind is FieldKind.TIMESTAMP
    ts_unix = f.accepts_unixtime
    ts_dt14 = f.accepts_datetime14
    u_lo, u_hi = UNIXTIME_RANGE
    event_time = f.is_event_time

    def check(v: Any) -> Any:
        if type(v) is not int:
            return _absent_or_type_fail("an integer", v)
        a = -v if v < 0 else v
        if dmax is not None:
            if fixed:
                if a < dmin or a > dmax:
                    raise _Fail(ErrorCode.FIXED_LENGTH, f"{v} has {len(str(a))} digits, exactly {n} required")
            elif a > dmax:
                raise _Fail(ErrorCode.MAX_LENGTH, f"{v} has {len(str(a))} digits, at most {n} allowed")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise _Fail(ErrorCode.RANGE, f"{v} is outside {lo}..{hi}")
        if date8:
            if not is_valid_date8(v):
                raise _Fail(ErrorCode.DATE, f"{v} is not a real date YYYYMMDD")
        elif dt14:
            if not is_valid_datetime14(v):
                raise _Fail(ErrorCode.DATETIME, f"{v} is not a real date-time YYYYMMDDhhmmss")
            _check_time_window(v, event_time=event_time)
        elif ym6:
            if not 1 <= v % 100 <= 12:
                raise _Fail(ErrorCode.YEARMONTH, f"{v} is not a real month YYYYMM")
        elif ts:
            if ts_dt14 and 10**13 <= v < 10**14:
                if not is_valid_datetime14(v):
                    raise _Fail(ErrorCode.DATETIME, f"{v} is not a real date-time YYYYMMDDhhmmss")
                _check_time_window(v, event_time=event_time)
            elif ts_unix and u_lo <= v <= u_hi:
                as14 = unixtime_to_datetime14(v)
                _check_time_window(as14, event_time=event_time)
                return as14 if ts_dt14 else v
            else:
                expected = " or ".join(
                    x
                    for x, ok in (
                        ("YYYYMMDDhhmmss", ts_dt14),
                        ("unix seconds (10 digits, 2000-2099)", ts_unix),
                    )
                    if ok
                )
                raise _Fail(ErrorCode.DATETIME, f"{v} is not {expected}")
        if enum is not None and v not in enum:
            raise _Fail(ErrorCode.ENUM, f"{v} is not one of {sorted(enum)}")
        if regions is not None and v not in regions:
            raise _Fail(ErrorCode.REGION_CODE, f"{v} is not a GB/T 2260 administrative division code")
        if coord is not None and not c_lo <= v <= c_hi:
            hint = ""
            if v == 0:
                hint = " (0 is not a position)"
            elif o_lo <= v <= o_hi:
                other = "latitude" if coord is Coordinate.LONGITUDE else "longitude"
                hint = f" - looks like a {other}; swapped?"
            elif v < 1_000_000:
                hint = " - coordinates are integer degrees x 10^6"
            raise _Fail(
                ErrorCode.COORDINATE_RANGE,
                f"{coord} {v} is outside {c_lo}..{c_hi} (degrees x 10^6, China){hint}",
            )
        return v

    return check


def _number_checker(f: FieldSpec) -> _Check:
    places = f.decimal_places if f.decimal_places is not None else 2
    lo = f.min_value if f.min_value is not None else -math.inf
    hi = f.max_value if f.max_value is not None else math.inf
    n = f.length
    # "V10" for a decimal: integer digits + `places` decimal places <= 10
    limit = 10 ** (n - places) if n is not None else math.inf
    isfinite = math.isfinite

    def check(v: Any) -> Any:
        t = type(v)
        if t is float:
            if not isfinite(v):
                raise _Fail(ErrorCode.RANGE, f"{v} is not a finite number")
        elif t is not int:
            return _absent_or_type_fail("a number", v)
        if v < lo or v > hi:
            raise _Fail(ErrorCode.RANGE, f"{v} is outside {lo}..{hi:g}")
        r = round(v, places)
        if r >= limit or -r >= limit:
            raise _Fail(ErrorCode.MAX_LENGTH, f"{v} has more than {n} digits ({places} decimal places)")
        return r

    return check


def compile_field_checker(f: FieldSpec) -> _Check:
    """The value checker of one field: returns the normalised value, ``_ABSENT`` or raises."""
    if f.value_type is ValueType.STRING:
        return _plate_checker(f) if f.charset is Charset.PLATE else _string_checker(f)
    if f.value_type is ValueType.INTEGER:
        return _integer_checker(f)
    return _number_checker(f)


# ---------------------------------------------------------------------------------------------
# fast paths: a boolean expression per field that implies "valid and already normalised".
# When it is false, the field's checker above (the single source of truth for verdicts and
# messages) runs. Soundness of every fast path against its checker is tested exhaustively on
# the generated valid/invalid samples (test_spec_validation).
# ---------------------------------------------------------------------------------------------


def _int_bounds(f: FieldSpec) -> tuple[int, int]:
    """[lo, hi] within which every integer satisfies both the digit count and the range.

    For fixed-length fields only the non-negative n-digit values are included (a fast path only
    has to be sufficient; negative values, which no fixed-length field allows, take the checker).
    """
    lo = int(f.min_value) if f.min_value is not None else -(2**64)
    hi = int(f.max_value) if f.max_value is not None else 2**64
    n = f.length
    if n is not None and f.fixed_length:
        lo, hi = max(lo, 10 ** (n - 1) if n > 1 else 0), min(hi, 10**n - 1)
    elif n is not None:
        lo, hi = max(lo, -(10**n - 1)), min(hi, 10**n - 1)
    return lo, hi


#: Strings already found valid, shared by all fields with the same string rule. Identifiers
#: (CompanyId, VehicleNo, LicenseId, OrderId ...) repeat heavily in position streams, so a set
#: lookup replaces the character checks. Each set is cleared when it reaches the bound.
_VERDICT_CACHES: dict[tuple[Any, ...], set[str]] = {}
VERDICT_CACHE_MAX = 32768


def _verdict_cache(f: FieldSpec) -> set[str] | None:
    if f.value_type is not ValueType.STRING or f.enum_values is not None or f.kind is not FieldKind.STRING:
        return None
    if f.charset not in (Charset.HALFWIDTH, Charset.PLATE):
        return None
    return _VERDICT_CACHES.setdefault((f.charset, f.max_length, f.exact_length), set())


def _remember(cache: set[str], v: str) -> None:
    if len(cache) >= VERDICT_CACHE_MAX:
        cache.clear()
    cache.add(v)


def _fast_expr(f: FieldSpec, consts: dict[str, Any], idx: int) -> str | None:
    """Python source of the fast-path predicate over local ``v``, or None (always use the checker)."""
    if f.value_type is ValueType.STRING:
        if f.charset is Charset.PLATE:
            consts["PROV"] = PLATE_PROVINCES
            return (
                "type(v) is str and 7 <= len(v) <= 8 and v[0] in PROV and 'A' <= v[1] <= 'Z' "
                "and (t := v[1:]).isascii() and t.isalnum() and t.isupper()"
            )
        if f.kind is FieldKind.TIME_HHMM:
            return (
                "type(v) is str and len(v) == 4 and v.isascii() and v.isdigit() "
                "and v[:2] < '24' and v[2] < '6'"
            )
        if f.enum_values is not None:
            values = {str(x) for x in f.enum_values}
            if all(x and x.isascii() and x.isprintable() and not x.isspace() for x in values) and all(
                (f.max_length is None or len(x) <= f.max_length)
                and (f.exact_length is None or len(x) == f.exact_length)
                for x in values
            ):
                consts[f"E{idx}"] = frozenset(values)
                return f"type(v) is str and v in E{idx}"
            return None  # pragma: no cover
        if f.exact_length is not None:
            size = f"len(v) == {f.exact_length}"
        elif f.max_length is not None:
            size = f"0 < len(v) <= {f.max_length}"
        else:
            size = "v != ''"
        if f.charset is Charset.HALFWIDTH:
            return f"type(v) is str and {size} and v.isascii() and v.isprintable() and v[0] != ' '"
        return f"type(v) is str and {size} and not v.isspace() and v.isprintable()"

    if f.value_type is ValueType.INTEGER:
        lo, hi = _int_bounds(f)
        base = f"type(v) is int and {lo} <= v <= {hi}"
        if f.enum_values is not None:
            ints = frozenset(int(x) for x in f.enum_values)
            if all(lo <= x <= hi for x in ints):
                consts[f"E{idx}"] = ints
                return f"type(v) is int and v in E{idx}"
            return None  # pragma: no cover
        if f.region_code:
            consts["REGIONS"] = region_codes()
            if all(lo <= x <= hi for x in region_codes()):
                return "type(v) is int and v in REGIONS"
            return None  # pragma: no cover
        if f.coordinate is not None:
            c_lo, c_hi = LONGITUDE_RANGE if f.coordinate is Coordinate.LONGITUDE else LATITUDE_RANGE
            return f"type(v) is int and {max(lo, c_lo)} <= v <= {min(hi, c_hi)}"
        if f.kind is FieldKind.DATE:
            return f"{base} and is_valid_date8(v)"
        if f.kind in (FieldKind.DATETIME, FieldKind.TIMESTAMP):
            if f.kind is FieldKind.TIMESTAMP and not f.accepts_datetime14:
                return None  # unix seconds are normalised by the checker
            low, high = max(lo, 10**13), min(hi, 10**14 - 1)
            upper = ""
            if f.is_event_time:
                consts["LATEST"] = _LATEST_TIME14
                low, upper = max(low, EARLIEST_TIME14), " and v <= LATEST[0]"
            return f"type(v) is int and {low} <= v <= {high}{upper} and is_valid_datetime14(v)"
        if f.kind is FieldKind.YEARMONTH:
            return f"{base} and 1 <= v % 100 <= 12"
        return base

    # NUMBER: non-negative, finite, already at most `places` decimals, within digits/float range
    places = f.decimal_places if f.decimal_places is not None else 2
    limit = min(
        10 ** (f.length - places) if f.length is not None else math.inf,
        f.max_value if f.max_value is not None else math.inf,
    )
    if f.min_value is None or f.min_value < 0:  # pragma: no cover - all decimals are >= 0
        return None
    consts[f"L{idx}"] = limit
    consts[f"LF{idx}"] = min(limit, 1e12)
    scale = 10**places
    # round(v * 100) / 100 == v  <=>  round(v, 2) == v for |v| < 1e12, without float->decimal
    # string conversion (float.__round__ with ndigits goes through dtoa and is ~5x slower).
    return (
        f"(type(v) is float and 0.0 <= v < LF{idx} and round(v * {scale}) / {scale} == v) "
        f"or (type(v) is int and 0 <= v < L{idx})"
    )


# ---------------------------------------------------------------------------------------------
# record / batch validation
# ---------------------------------------------------------------------------------------------

_RecordFn = Callable[[Any], tuple[Record | None, list[FieldError] | None]]


class RecordValidator:
    """Compiled validator of one interface. Build with :func:`get_validator`.

    ``fast=True`` (default) generates one Python function per interface whose per-field fast
    paths are inlined (see :func:`_fast_expr`); ``fast=False`` runs the per-field checkers in a
    plain loop. Both give identical results; the tests compare them.
    """

    __slots__ = ("_aliases", "_fn", "_known", "_plan", "interface", "source")

    def __init__(self, interface: InterfaceSpec, *, fast: bool = True) -> None:
        self.interface = interface
        self._plan: tuple[tuple[str, bool, _Check], ...] = tuple(
            (f.name, f.required, compile_field_checker(f)) for f in interface.fields
        )
        self._known = frozenset(interface.field_map)
        self._aliases = dict(interface.aliases)
        self.source: str | None = None
        self._fn: _RecordFn = self._generate() if fast else self._validate_loop

    # --- shared slow paths ------------------------------------------------------------------

    def _record_type_error(self, rec: Any) -> tuple[None, list[FieldError]]:
        return None, [FieldError("", ErrorCode.RECORD_TYPE, f"expected an object, got {_json_type(rec)}")]

    def _rename_aliases(self, rec: Record, errors: list[FieldError]) -> Record:
        rec = dict(rec)
        for alias, canonical in self._aliases.items():
            if alias in rec:
                value = rec.pop(alias)
                if canonical in rec:
                    errors.append(
                        FieldError(
                            alias,
                            ErrorCode.DUPLICATE_FIELD,
                            f"{alias!r} is an alias of {canonical!r}; send only {canonical!r}",
                            value,
                        )
                    )
                else:
                    rec[canonical] = value
        return rec

    def _check_slow(
        self, errors: list[FieldError] | None, out: Record, idx: int, v: Any
    ) -> list[FieldError] | None:
        name, required, check = self._plan[idx]
        try:
            r = check(v)
        except _Fail as fail:
            if errors is None:
                errors = []
            errors.append(FieldError(name, fail.code, fail.message, v))
            return errors
        if r is not _ABSENT:
            out[name] = r
        elif required:
            if errors is None:
                errors = []
            errors.append(FieldError(name, ErrorCode.REQUIRED, "required field is null or empty", v))
        return errors

    def _missing(self, errors: list[FieldError] | None, idx: int, rec: Record) -> list[FieldError]:
        name = self._plan[idx][0]
        if errors is None:
            errors = []
        message = "required field is missing" if name not in rec else "required field is null or empty"
        errors.append(FieldError(name, ErrorCode.REQUIRED, message, None))
        return errors

    def _unknown(self, errors: list[FieldError] | None, rec: Record) -> list[FieldError] | None:
        known = self._known
        for k in rec:
            if k not in known:
                if errors is None:
                    errors = []
                errors.append(
                    FieldError(
                        str(k),
                        ErrorCode.UNKNOWN_FIELD,
                        f"{k!r} is not a field of {self.interface.type}",
                        rec[k],
                    )
                )
        return errors

    def _prepare(self, rec: Record) -> tuple[Record, list[FieldError] | None]:
        errors: list[FieldError] = []
        rec = self._rename_aliases(rec, errors)
        return rec, errors or None

    # --- reference implementation: plain loop over the checkers -------------------------------

    def _validate_loop(self, rec: Any) -> tuple[Record | None, list[FieldError] | None]:
        if type(rec) is not dict:
            return self._record_type_error(rec)
        errors: list[FieldError] | None = None
        if self._aliases and not self._aliases.keys().isdisjoint(rec):
            rec, errors = self._prepare(rec)
        out: Record = {}
        for idx, (name, required, _check) in enumerate(self._plan):
            v = rec.get(name)
            if v is not None:
                errors = self._check_slow(errors, out, idx, v)
            elif required:
                errors = self._missing(errors, idx, rec)
        if len(out) != len(rec):
            errors = self._unknown(errors, rec)
        if errors:
            return None, errors
        return out, None

    # --- generated implementation ---------------------------------------------------------------

    def _generate(self) -> _RecordFn:
        """Generate the fast validator: all-fast-path records are returned as they are.

        The generated function tests each field's fast-path predicate and counts the fields that
        pass; if every key of the record was such a field, the record is valid and already
        normalised, so the input dict itself is returned (no copy). At the first field that is
        missing, null or not on its fast path it hands the record to :meth:`_validate_loop`,
        which produces the normalised copy or the complete error list.
        """
        consts: dict[str, Any] = {
            "is_valid_date8": is_valid_date8,
            "is_valid_datetime14": is_valid_datetime14,
            "_full": self._validate_loop,
            "_record_type_error": self._record_type_error,
            "_remember": _remember,
            "ALIASES": self._aliases,
        }
        required = sum(1 for f in self.interface.fields if f.required)
        lines = [
            "def validate(rec):",
            "    if type(rec) is not dict:",
            "        return _record_type_error(rec)",
        ]
        if self._aliases:
            lines += ["    if not ALIASES.keys().isdisjoint(rec):", "        return _full(rec)"]
        lines += ["    try:", "        get = rec.get", f"        n = {required}"]
        for idx, f in enumerate(self.interface.fields):
            key = repr(f.name)
            expr = _fast_expr(f, consts, idx)
            cache = _verdict_cache(f) if expr is not None else None
            if f.required:  # a missing key raises KeyError, None fails every predicate
                pad = "        "
                lines.append(f"{pad}v = rec[{key}]")
            else:
                pad = "            "
                lines += [f"        v = get({key})", "        if v is not None:", f"{pad}n += 1"]
            if expr is None:
                lines.append(f"{pad}return _full(rec)")
            elif cache is None:
                lines += [f"{pad}if not ({expr}):", f"{pad}    return _full(rec)"]
            else:
                consts[f"C{idx}"] = cache
                lines += [
                    f"{pad}if not (type(v) is str and v in C{idx}):",
                    f"{pad}    if not ({expr}):",
                    f"{pad}        return _full(rec)",
                    f"{pad}    _remember(C{idx}, v)",
                ]
        lines += [
            "    except (KeyError, TypeError, IndexError):  # missing required field, odd value",
            "        return _full(rec)",
            "    if n != len(rec):  # unknown keys, or known keys with null values",
            "        return _full(rec)",
            "    return rec, None",
        ]
        source = "\n".join(lines) + "\n"
        namespace: dict[str, Any] = dict(consts)
        code = compile(source, f"<validator {self.interface.type}>", "exec")
        exec(code, namespace)  # noqa: S102 - source generated above from the packaged spec only
        self.source = source
        fn: _RecordFn = namespace["validate"]
        return fn

    # --- public -----------------------------------------------------------------------------

    def validate(self, rec: Any) -> tuple[Record | None, list[FieldError]]:
        """Validate one record: ``(normalised record, [])`` or ``(None, errors)``."""
        refresh_time_window()
        out, errors = self._fn(rec)
        return out, errors or []

    def validate_batch(self, records: Sequence[Any]) -> BatchResult:
        refresh_time_window()
        result = BatchResult()
        accepted = result.accepted
        rejected = result.rejected
        fn = self._fn
        for i, rec in enumerate(records):
            out, errors = fn(rec)
            if out is not None:
                accepted.append((i, out))
            else:
                rejected.append(RecordError(i, errors or []))
        return result


@functools.cache
def _validator_for(interface: InterfaceSpec) -> RecordValidator:
    return RecordValidator(interface)


def get_validator(interface: str | int | InterfaceSpec, spec: Spec | None = None) -> RecordValidator:
    """The compiled (and cached) validator of an interface (type name, ipc code, path or spec)."""
    if not isinstance(interface, InterfaceSpec):
        interface = (spec or get_spec()).interface(interface)
    return _validator_for(interface)


def validate_records(
    interface: str | int | InterfaceSpec, records: Sequence[Any], *, spec: Spec | None = None
) -> BatchResult:
    """Validate a batch: accepted ``(index, normalised record)`` and rejected records with errors."""
    return get_validator(interface, spec).validate_batch(records)


def validate_record(
    interface: str | int | InterfaceSpec, record: Any, *, spec: Spec | None = None
) -> tuple[Record | None, list[FieldError]]:
    """Validate one record: ``(normalised record, [])`` or ``(None, errors)``."""
    return get_validator(interface, spec).validate(record)


refresh_time_window()
