"""One-pass decoding and validation of protobuf upload bodies, column by column (the fast path).

The protobuf twin of :mod:`.fastjson`. An ``OTIpc`` is parsed in C (upb) and its records are read
as columns, one list per field for the whole batch, in one of two ways:

* **merged** (the usual case): the body is parsed a second time with a *column view* of the schema
  in which the envelope's record field is a single message and every field of it is repeated.
  Protobuf merges the occurrences of a singular message field, and merging concatenates repeated
  fields, so upb itself turns the records into one list per field, in C. That view equals the
  records one by one only when no record carries a field twice or in another wire type, which the
  decoder makes sure of first: the body must be the canonical serialization of what it parsed to
  (so no duplicate field, no overlong varint, nothing out of order), and the records, merged as
  they are declared (a *probe view*), must hold no unknown field (a number sent length-delimited,
  i.e. packed, is one: the proto2 record ignores it, a repeated field of the column view would
  read it);
* **row by row** (anything else, and any field that only some records carry): one C-level
  ``map(attrgetter(name))`` over the listed record messages, with proto2 presence asked
  (``HasField``, also mapped) only when the column holds a default value (0, 0.0, "").

Each column is then checked - integer ranges by its ``min``/``max`` (none when the wire type
cannot exceed them), everything else once per distinct value with the validator's own fast-path
predicates (:func:`~.validation._fast_expr`) - and only then zipped into one dict per record. The
general path (:mod:`.protobuf`'s converter, then the record validator) builds a dict per message
and checks it field by field, about three times the work.

As with JSON, the fast path only ever accepts a batch whose every record the validator would accept
as it is: a required field that is absent, a value outside a rule, an envelope that is odd in any
way (another interface's records, a blank CompanyId, an ``OTIpcList``) returns ``None`` and the
caller takes the general path, which alone produces errors. Records are the very dicts the general
path would produce: the fields set on the wire (proto2 presence), floats as the shortest decimal of
their float32; the tests compare the paths on valid, mutated and oddly encoded batches.

No library reads protobuf into columns (ADR 0004); the views are the spec's own descriptor with
labels changed, so upb still does all the wire decoding.

Public API::

    decode_valid_protobuf(body, interface) -> FastBatch | None
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message
from google.protobuf.unknown_fields import UnknownFieldSet

from .datetimes import is_valid_date8, is_valid_datetime14, refresh_time_window
from .fastjson import FastBatch, _column_lines, _plain_int_bounds
from .loader import InterfaceSpec, Spec, get_spec
from .protobuf import build_file_descriptor, float32_shortest_memo, get_schema
from .validation import _fast_expr

__all__ = ["decode_valid_protobuf"]

_WIRE_RANGES = {
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
    "fixed32": (0, 2**32 - 1),
    "fixed64": (0, 2**64 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "sint32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "sint64": (-(2**63), 2**63 - 1),
}
_FLOAT_WIRE_TYPES = frozenset({"float", "double"})
_FDP = descriptor_pb2.FieldDescriptorProto

_Column = tuple[list[Any] | None, list[int]]
"""A field over the batch: its value in every record (None: no record carries it) and the indices
of the records that do not carry it (only when some do)."""


@dataclass(frozen=True, slots=True)
class _Compiled:
    fields: tuple[tuple[str, bool, bool, Callable[[Any], Any], Callable[[Any], bool]], ...]
    """Per field: name, required, float, value getter, presence test."""
    check: Callable[[list[list[Any]]], bool]
    """True when every present value of every column passes (argument: one list per field)."""


@functools.cache
def _compile(interface: InterfaceSpec) -> _Compiled:
    """The readers and the column checks of one interface."""
    consts: dict[str, Any] = {"is_valid_date8": is_valid_date8, "is_valid_datetime14": is_valid_datetime14}
    lines = ["def check(cols):"]
    for idx, f in enumerate(interface.fields):
        lines.append(f"    col = cols[{idx}]")
        bounds = _plain_int_bounds(f)
        if bounds is not None and f.proto_type in _WIRE_RANGES:
            (lo, hi), (wire_lo, wire_hi) = bounds, _WIRE_RANGES[f.proto_type]
            if lo > wire_lo or hi < wire_hi:  # else upb has already kept the value within them
                lines += [
                    f"    if col and not ({lo} <= min(col) and max(col) <= {hi}):",
                    "        return False",
                ]
            continue
        expr = _fast_expr(f, consts, idx)
        if expr is None:
            # Such a value always takes the checker: fine only where no record carries the field.
            lines += ["    if col:", "        return False"]
            continue
        lines += _column_lines(expr, f, consts, idx, floats_only=f.proto_type in _FLOAT_WIRE_TYPES)
    lines.append("    return True")
    namespace: dict[str, Any] = dict(consts)
    exec(compile("\n".join(lines) + "\n", f"<fast protobuf {interface.type}>", "exec"), namespace)  # noqa: S102 - from the packaged spec
    return _Compiled(
        fields=tuple(
            (
                f.name,
                f.required,
                f.proto_type in _FLOAT_WIRE_TYPES,
                operator.attrgetter(f.name),
                operator.methodcaller("HasField", f.name),
            )
            for f in interface.fields
        ),
        check=namespace["check"],
    )


@functools.lru_cache(maxsize=256)  # bounded: senders choose which optional fields they leave out
def _builder(interface: InterfaceSpec, absent: frozenset[str]) -> Callable[[list[list[Any]]], list[dict]]:
    """``build(columns)``: one dict display per record over the fields not in ``absent``."""
    names = [f.name for f in interface.fields if f.name not in absent]
    display = ", ".join(f"{name!r}: r{i}" for i, name in enumerate(names))
    targets = "".join(f"r{i}, " for i in range(len(names)))
    source = f"def build(cols):\n    return [{{{display}}} for {targets}in zip(*cols)]\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<fast protobuf records {interface.type}>", "exec"), namespace)  # noqa: S102 - from the packaged spec
    build: Callable[[list[list[Any]]], list[dict]] = namespace["build"]
    return build


# --- the column and probe views -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Views:
    columns: type[Message]
    """OTIpc whose record fields are singular messages with every field repeated."""
    probe: type[Message]
    """OTIpc whose record fields are singular messages declared as usual (the records merged)."""


@functools.cache
def _views() -> _Views:
    spec = get_spec()
    return _Views(columns=_view(spec, "columns"), probe=_view(spec, "probe"))


def _view(spec: Spec, name: str) -> type[Message]:
    fdp = build_file_descriptor(spec)
    package = f"{spec.proto_package}.fastproto_{name}"
    fdp.name, fdp.package = f"fastproto_{name}.proto", package
    records = {i.protobuf_message for i in spec.interfaces.values()}
    for message in fdp.message_type:
        for fd in message.field:
            if fd.type_name:
                fd.type_name = fd.type_name.replace(f".{spec.proto_package}.", f".{package}.")
        if message.name == spec.envelope_message:
            for fd in message.field:
                if fd.type == _FDP.TYPE_MESSAGE:
                    fd.label = _FDP.LABEL_OPTIONAL  # occurrences are merged into one message
        elif message.name in records and name == "columns":
            for fd in message.field:
                fd.label = _FDP.LABEL_REPEATED
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    view: type[Message] = message_factory.GetMessageClass(
        pool.FindMessageTypeByName(f"{package}.{spec.envelope_message}")
    )
    return view


def _merged_records(body: bytes, msg: Message, interface: InterfaceSpec) -> Any:
    """Every record of ``body`` merged into one message of the column view, or None when that view
    could read otherwise than the records one by one."""
    if msg.SerializePartialToString() != body:
        return None  # not canonical: a field twice, an overlong varint, another order
    views = _views()
    try:
        if len(UnknownFieldSet(getattr(views.probe.FromString(body), interface.type))):
            return None  # e.g. a number sent length-delimited: ignored by the record, read by the view
        return getattr(views.columns.FromString(body), interface.type)
    except (DecodeError, RuntimeError, ValueError):  # pragma: no cover - the record view parsed it
        return None


def _columns(
    body: bytes, msg: Message, interface: InterfaceSpec, compiled: _Compiled
) -> list[_Column] | None:
    """Every field of the batch as a column; None when a required field is absent somewhere."""
    records = getattr(msg, interface.type)
    n = len(records)
    merged = _merged_records(body, msg, interface)
    rows: list[Any] | None = None  # the record messages, listed once on first need
    out: list[_Column] = []
    for name, required, _, get, has in compiled.fields:
        if merged is not None:
            values = list(getattr(merged, name))
            if len(values) == n:
                out.append((values, []))
                continue
            if not values:
                if required:
                    return None
                out.append((None, []))
                continue
        # Row by row: only some records carry the field, or the body is not canonical.
        if rows is None:
            rows = list(records)  # each access to an element wraps it anew: list them once
        values = list(map(get, rows))
        gone: list[int] = []
        if not all(values) and not all(present := list(map(has, rows))):
            if required:
                return None
            gone = [i for i, p in enumerate(present) if not p]
            if len(gone) == n:
                out.append((None, []))
                continue
        out.append((values, gone))
    return out


def decode_valid_protobuf(body: bytes, interface: InterfaceSpec) -> FastBatch | None:
    """The envelope and its records when ``body`` is one well-formed ``OTIpc`` of ``interface``
    whose every record is valid and already normalised; ``None`` otherwise (take the general path).
    The caller has told an ``OTIpcList`` apart already (``wire._looks_like_otipc_list``)."""
    compiled = _compile(interface)
    schema = get_schema()
    msg = schema.OTIpc()
    try:
        msg.ParseFromString(body)
    except (DecodeError, RuntimeError, ValueError):
        return None
    for ef in schema.spec.envelope_fields:
        if ef.required and not msg.HasField(ef.name):
            return None
    if schema.spec.by_ipc_code.get(msg.IPCType) is not interface or not msg.CompanyId.strip():
        return None
    if [fd.name for fd, _ in msg.ListFields() if fd.type == fd.TYPE_MESSAGE] != [interface.type]:
        return None  # no records, or records of another interface as well
    columns = _columns(body, msg, interface, compiled)
    if columns is None:
        return None  # the general path reports the missing field
    present: list[list[Any]] = []
    full: list[list[Any]] = []
    absent: set[str] = set()
    partly: list[tuple[str, list[int]]] = []
    for (name, _, is_float, _, _), (values, gone) in zip(compiled.fields, columns, strict=True):
        if values is None:
            absent.add(name)
            present.append([])
            continue
        if is_float:
            values = list(map(float32_shortest_memo, values))
        full.append(values)
        if gone:
            partly.append((name, gone))
            skip = set(gone)
            present.append([v for i, v in enumerate(values) if i not in skip])
        else:
            present.append(values)
    refresh_time_window()
    if not compiled.check(present):
        return None
    records = _builder(interface, frozenset(absent))(full)
    for name, gone in partly:
        for i in gone:
            del records[i][name]
    return FastBatch(company_id=msg.CompanyId, source=msg.Source, records=records)
