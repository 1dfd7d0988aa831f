"""Protobuf messages of the interface (``OTIpcDef.proto``), built from the spec data at import.

No generated ``_pb2`` module and no protoc: a ``FileDescriptorProto`` is assembled from the spec
(proto2, package ``cn.cttic.ridehailing.model``: one message per interface with the spec's field
numbers, types and labels, the ``IpcType`` enum, the ``OTIpc`` envelope with one repeated field
per interface numbered by its ipc code, and ``OTIpcList``), added to a private descriptor pool
and turned into message classes. The same descriptor renders the ``.proto`` text
(:func:`render_proto_file`) that ships in ``data/OTIpcDef.proto`` for the documentation.

Public API::

    decode_otipc(body: bytes) -> Envelope
    decode_otipc_list(body: bytes) -> list[Envelope]
    encode_otipc(company_id, ipc_type, records, *, source="0", partial=False) -> bytes
    encode_otipc_list(envelopes, *, partial=False) -> bytes
    render_proto_file() -> str
    get_schema() -> ProtoSchema            # message classes, descriptor, encoders/decoders

Decoded records are dicts with the spec's field names holding only the fields that are set on
the wire (proto2 presence), so that the validator still sees missing required fields; ``float``
values are returned as the shortest decimal that maps to the same float32 (12.34, not
12.340000152587891).
"""

from __future__ import annotations

import functools
import operator
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError, EncodeError, Message

from .error_codes import ErrorCode
from .loader import InterfaceSpec, Spec, get_spec

__all__ = [
    "Envelope",
    "EnvelopeError",
    "ProtoSchema",
    "decode_otipc",
    "decode_otipc_list",
    "encode_otipc",
    "encode_otipc_list",
    "float32_shortest",
    "get_schema",
    "render_proto_file",
]

PROTO_FILE_NAME = "OTIpcDef.proto"

_FDP = descriptor_pb2.FieldDescriptorProto
_SCALAR_TYPES: Mapping[str, int] = {
    "string": _FDP.TYPE_STRING,
    "bytes": _FDP.TYPE_BYTES,
    "bool": _FDP.TYPE_BOOL,
    "uint32": _FDP.TYPE_UINT32,
    "uint64": _FDP.TYPE_UINT64,
    "int32": _FDP.TYPE_INT32,
    "int64": _FDP.TYPE_INT64,
    "sint32": _FDP.TYPE_SINT32,
    "sint64": _FDP.TYPE_SINT64,
    "fixed32": _FDP.TYPE_FIXED32,
    "fixed64": _FDP.TYPE_FIXED64,
    "float": _FDP.TYPE_FLOAT,
    "double": _FDP.TYPE_DOUBLE,
}
_TYPE_NAMES = {v: k for k, v in _SCALAR_TYPES.items()}
_LABELS: Mapping[str, int] = {
    "required": _FDP.LABEL_REQUIRED,
    "optional": _FDP.LABEL_OPTIONAL,
    "repeated": _FDP.LABEL_REPEATED,
}
_LABEL_NAMES = {v: k for k, v in _LABELS.items()}

_F32 = struct.Struct("<f")


def float32_shortest(x: float) -> float:
    """A short decimal that rounds to the same float32 as ``x`` (undoes float32 widening).

    Money and distances normally have at most 2 decimals, so that candidate is tried first
    (12.340000152587891 -> 12.34); otherwise the shortest of 6..9 significant digits is used.
    """
    pack = _F32.pack
    try:
        if x == x and abs(x) < 1e15:
            candidate = round(x * 100) / 100
            if _F32.unpack(pack(candidate))[0] == x:
                return candidate
        for digits in (6, 7, 8, 9):
            candidate = float(f"{x:.{digits}g}")
            if _F32.unpack(pack(candidate))[0] == x:
                return candidate
    except OverflowError:  # pragma: no cover - only for values at the float32 limit
        pass
    return x


def _record_converter(iface: InterfaceSpec) -> Callable[[Any], dict[str, Any]]:
    """message -> dict of the fields that are set on the wire (generated once per interface).

    All values are fetched with one C-level ``attrgetter`` into a dict display in spec order; a
    field is only tested with ``HasField`` when its value is the proto2 default (0, 0.0, "",
    False), i.e. when it may be absent (a missing required field stays missing, so that the
    validator reports it). Floats go through :func:`float32_shortest`, memoised per process.
    """
    names = tuple(f.name for f in iface.fields)
    floats = {f.name for f in iface.fields if f.proto_type in ("float", "double")}
    if len(names) == 1:  # pragma: no cover - every interface has several fields
        get_one = operator.attrgetter(names[0])

        def convert_one(m: Any) -> dict[str, Any]:
            v = get_one(m)
            return {names[0]: v} if v or m.HasField(names[0]) else {}

        return convert_one
    values = ", ".join(f"v{i}" for i in range(len(names)))
    lines = [
        "def convert(m):",
        f"    {values}, = get_all(m)",
        "    rec = {" + ", ".join(f"{n!r}: v{i}" for i, n in enumerate(names)) + "}",
    ]
    for i, n in enumerate(names):
        lines.append(f"    if not v{i} and not m.HasField({n!r}):")
        lines.append(f"        del rec[{n!r}]")
        if n in floats:
            lines.append("    else:")
            lines.append(f"        rec[{n!r}] = F32(v{i})")
    lines.append("    return rec")
    namespace: dict[str, Any] = {"get_all": operator.attrgetter(*names), "F32": float32_shortest_memo}
    exec(compile("\n".join(lines) + "\n", f"<protobuf converter {iface.type}>", "exec"), namespace)  # noqa: S102 - from the packaged spec
    convert: Callable[[Any], dict[str, Any]] = namespace["convert"]
    return convert


float32_shortest_memo = functools.lru_cache(maxsize=65536)(float32_shortest)
"""float32_shortest, memoised per process (positions repeat speeds and mileages; the cache is C)."""


class EnvelopeError(ValueError):
    """The body is not a usable OTIpc / OTIpcList. ``code`` is a stable :class:`ErrorCode`."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Envelope:
    """One decoded ``OTIpc``: who sent which interface's records."""

    company_id: str
    source: str
    ipc_type: str  # interface type name, e.g. "positionVehicle"
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def interface(self) -> InterfaceSpec:
        return get_spec().interface(self.ipc_type)


def build_file_descriptor(spec: Spec) -> descriptor_pb2.FileDescriptorProto:
    """The ``OTIpcDef.proto`` file descriptor, derived from the spec."""
    pkg = spec.proto_package
    fdp = descriptor_pb2.FileDescriptorProto(name=PROTO_FILE_NAME, package=pkg, syntax="proto2")
    enum = fdp.enum_type.add(name="IpcType")
    for code in sorted(spec.by_ipc_code):
        enum.value.add(name=spec.by_ipc_code[code].type, number=code)

    interfaces = sorted(spec.interfaces.values(), key=lambda i: i.ipc_type_code)
    for iface in interfaces:
        msg = fdp.message_type.add(name=iface.protobuf_message)
        for f in iface.fields:
            msg.field.add(
                name=f.name,
                number=f.proto_number,
                type=_SCALAR_TYPES[f.proto_type],
                label=_LABELS[f.proto_label],
                json_name=f.name,
            )

    envelope = fdp.message_type.add(name=spec.envelope_message)
    for ef in spec.envelope_fields:
        label = _LABELS["required" if ef.required else "optional"]
        if ef.type.startswith("enum "):
            envelope.field.add(
                name=ef.name,
                number=ef.number,
                label=label,
                type=_FDP.TYPE_ENUM,
                type_name=f".{pkg}.{ef.type.split()[1]}",
                json_name=ef.name,
            )
        else:
            envelope.field.add(
                name=ef.name,
                number=ef.number,
                label=label,
                type=_SCALAR_TYPES[ef.type],
                json_name=ef.name,
            )
    for iface in interfaces:
        envelope.field.add(
            name=iface.type,
            number=iface.otipc_field_number,
            label=_FDP.LABEL_REPEATED,
            type=_FDP.TYPE_MESSAGE,
            type_name=f".{pkg}.{iface.protobuf_message}",
            json_name=iface.type,
        )

    batch_name, batch_number = spec.batch_field
    batch = fdp.message_type.add(name=spec.batch_message)
    batch.field.add(
        name=batch_name,
        number=batch_number,
        label=_FDP.LABEL_REPEATED,
        type=_FDP.TYPE_MESSAGE,
        type_name=f".{pkg}.{spec.envelope_message}",
        json_name=batch_name,
    )
    return fdp


class ProtoSchema:
    """Message classes for one spec, with encoders and decoders."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.file_descriptor_proto = build_file_descriptor(spec)
        self.pool = descriptor_pool.DescriptorPool()
        self.pool.Add(self.file_descriptor_proto)
        pkg = spec.proto_package

        def cls(name: str) -> type[Message]:
            found: type[Message] = message_factory.GetMessageClass(
                self.pool.FindMessageTypeByName(f"{pkg}.{name}")
            )
            return found

        self.messages: Mapping[str, type[Message]] = {
            i.type: cls(i.protobuf_message) for i in spec.interfaces.values()
        }
        self.OTIpc = cls(spec.envelope_message)
        self.OTIpcList = cls(spec.batch_message)
        self._batch_field = spec.batch_field[0]
        self._envelope_scalar = {ef.number for ef in spec.envelope_fields}
        self._converters: Mapping[str, Callable[[Any], dict[str, Any]]] = {
            i.type: _record_converter(i) for i in spec.interfaces.values()
        }

    # --- decoding ---------------------------------------------------------------------------

    def _envelope(self, msg: Any) -> Envelope:
        missing = [ef.name for ef in self.spec.envelope_fields if ef.required and not msg.HasField(ef.name)]
        if missing:
            raise EnvelopeError(
                ErrorCode.ENVELOPE_FIELD,
                f"OTIpc lacks {', '.join(missing)} "
                "(IPCType also reads as missing when it is not a known IpcType)",
            )
        iface = self.spec.by_ipc_code[msg.IPCType]
        populated = [fd.name for fd, _ in msg.ListFields() if fd.number not in self._envelope_scalar]
        stray = [name for name in populated if name != iface.type]
        if stray:
            raise EnvelopeError(
                ErrorCode.ENVELOPE_MISMATCH,
                f"IPCType is {iface.type} but the OTIpc also carries records in {', '.join(stray)}",
            )
        convert = self._converters[iface.type]
        records = [convert(m) for m in getattr(msg, iface.type)]
        return Envelope(company_id=msg.CompanyId, source=msg.Source, ipc_type=iface.type, records=records)

    def _parse(self, message_class: type[Message], body: bytes) -> Any:
        msg = message_class()
        try:
            msg.ParseFromString(body)  # proto2 required fields are not enforced when parsing
        except DecodeError as exc:
            raise EnvelopeError(ErrorCode.DECODE_ERROR, f"invalid protobuf body: {exc}") from exc
        return msg

    def decode_otipc(self, body: bytes) -> Envelope:
        return self._envelope(self._parse(self.OTIpc, body))

    def decode_otipc_list(self, body: bytes) -> list[Envelope]:
        batch = self._parse(self.OTIpcList, body)
        return [self._envelope(m) for m in getattr(batch, self._batch_field)]

    # --- encoding ---------------------------------------------------------------------------

    def _fill(
        self,
        msg: Any,
        company_id: str,
        ipc_type: str | int,
        records: Iterable[Mapping[str, Any]],
        source: str,
    ) -> None:
        iface = self.spec.interface(ipc_type)
        msg.CompanyId = company_id
        msg.Source = source
        msg.IPCType = iface.ipc_type_code
        target = getattr(msg, iface.type)
        aliases = iface.aliases
        for i, rec in enumerate(records):
            m = target.add()
            for key, value in rec.items():
                if value is None:
                    continue
                name = aliases.get(key, key)
                if name not in iface.field_map:
                    raise ValueError(f"record {i}: {key!r} is not a field of {iface.type}")
                try:
                    setattr(m, name, value)
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"record {i}: {iface.type}.{name} = {value!r}: {exc}") from exc

    def build_otipc(
        self,
        company_id: str,
        ipc_type: str | int,
        records: Iterable[Mapping[str, Any]],
        *,
        source: str = "0",
    ) -> Message:
        msg = self.OTIpc()
        self._fill(msg, company_id, ipc_type, records, source)
        return msg

    def encode_otipc(
        self,
        company_id: str,
        ipc_type: str | int,
        records: Iterable[Mapping[str, Any]],
        *,
        source: str = "0",
        partial: bool = False,
    ) -> bytes:
        """Serialise one OTIpc. ``partial=True`` allows records lacking required fields (tests)."""
        return _serialize(self.build_otipc(company_id, ipc_type, records, source=source), partial)

    def encode_otipc_list(self, envelopes: Iterable[Envelope], *, partial: bool = False) -> bytes:
        batch = self.OTIpcList()
        target = getattr(batch, self._batch_field)
        for env in envelopes:
            self._fill(target.add(), env.company_id, env.ipc_type, env.records, env.source)
        return _serialize(batch, partial)


def _serialize(msg: Message, partial: bool) -> bytes:
    data: bytes
    if partial:
        data = msg.SerializePartialToString()
        return data
    try:
        data = msg.SerializeToString()
    except EncodeError as exc:
        raise ValueError(f"cannot encode: {exc}") from exc
    return data


@functools.cache
def get_schema() -> ProtoSchema:
    """The schema of the packaged default spec."""
    return ProtoSchema(get_spec())


SCHEMA = get_schema()  # built at import, as the classes are needed on the first request anyway


def decode_otipc(body: bytes) -> Envelope:
    """Decode one serialized ``OTIpc`` (raises :class:`EnvelopeError`)."""
    return SCHEMA.decode_otipc(body)


def decode_otipc_list(body: bytes) -> list[Envelope]:
    """Decode a serialized ``OTIpcList`` (raises :class:`EnvelopeError`)."""
    return SCHEMA.decode_otipc_list(body)


def encode_otipc(
    company_id: str,
    ipc_type: str | int,
    records: Iterable[Mapping[str, Any]],
    *,
    source: str = "0",
    partial: bool = False,
) -> bytes:
    """Serialise one ``OTIpc`` carrying ``records`` of interface ``ipc_type`` (name, code or path)."""
    return SCHEMA.encode_otipc(company_id, ipc_type, records, source=source, partial=partial)


def encode_otipc_list(envelopes: Iterable[Envelope], *, partial: bool = False) -> bytes:
    """Serialise an ``OTIpcList`` of envelopes."""
    return SCHEMA.encode_otipc_list(envelopes, partial=partial)


# --- .proto rendering ---------------------------------------------------------------------------


def _comment(text: str) -> str:
    return " ".join(text.split())


def render_proto_file(spec: Spec | None = None) -> str:
    """The ``.proto`` text of the file descriptor, annotated with the spec's Chinese names."""
    spec = spec or get_spec()
    fdp = build_file_descriptor(spec)
    by_message = {i.protobuf_message: i for i in spec.interfaces.values()}
    out: list[str] = [
        f"// {PROTO_FILE_NAME} - 网络预约出租汽车监管信息交互平台 网约车平台公司数据交换接口",
        f"// Generated from {spec.source_path} (spec version {spec.version}) by",
        "// yunzheng.exchange.spec.protobuf.render_proto_file(). Do not edit: regenerate with",
        "// `python -m yunzheng.exchange.spec write`.",
        "",
        f'syntax = "{fdp.syntax}";',
        "",
        f"package {fdp.package};",
        "",
    ]
    for enum in fdp.enum_type:
        out.append("// 业务接口代码 (IPCType)")
        out.append(f"enum {enum.name} {{")
        for value in enum.value:
            iface = spec.by_ipc_code[value.number]
            out.append(
                f"  {value.name} = {value.number};"
                f"  // 0x{value.number:04X} {iface.name_zh} POST {iface.http_path}"
            )
        out += ["}", ""]
    for msg in fdp.message_type:
        iface_or_none: Sequence[InterfaceSpec] = [by_message[msg.name]] if msg.name in by_message else []
        if iface_or_none:
            iface = iface_or_none[0]
            out.append(f"// {iface.spec_section} {iface.name_zh} (表{iface.spec_table})")
            out.append(f"// IPCType {iface.type} = {iface.ipc_type_hex}, POST {iface.http_path}")
        elif msg.name == spec.envelope_message:
            out.append("// Envelope: exactly one repeated list is populated, the one named by IPCType.")
        else:
            out.append(
                f"// Batch of envelopes (the field is spelled {spec.batch_field[0]!r} in the original)."
            )
        out.append(f"message {msg.name} {{")
        notes: Mapping[str, str] = {}
        if iface_or_none:
            notes = {f.name: f.name_zh for f in iface_or_none[0].fields}
        elif msg.name == spec.envelope_message:
            notes = {ef.name: ef.note.split(";")[0].split(" (")[0] for ef in spec.envelope_fields}
            notes |= {i.type: i.name_zh for i in spec.interfaces.values()}
        for fd in msg.field:
            label = _LABEL_NAMES[fd.label]
            if fd.type in (_FDP.TYPE_MESSAGE, _FDP.TYPE_ENUM):
                type_name = fd.type_name.rsplit(".", 1)[-1]
            else:
                type_name = _TYPE_NAMES[fd.type]
            line = f"  {label} {type_name} {fd.name} = {fd.number};"
            if notes.get(fd.name):
                line += f"  // {_comment(notes[fd.name])}"
            out.append(line)
        out += ["}", ""]
    return "\n".join(out).rstrip("\n") + "\n"
