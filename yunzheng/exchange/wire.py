"""Request bodies of the exchange interface: size limits, gzip, JSON and protobuf envelopes.

Pure functions (no database): the HTTP view calls :func:`decode_request` and turns a
:class:`WireError` into a JSON error response. Every malformed input ends as a WireError, never
as an unexpected exception (the fuzz test feeds random bytes through here).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import msgspec

from yunzheng.exchange.error_codes import ExchangeErrorCode
from yunzheng.exchange.spec import InterfaceSpec, get_spec
from yunzheng.exchange.spec.fastjson import decode_valid_json
from yunzheng.exchange.spec.fastproto import decode_valid_protobuf
from yunzheng.exchange.spec.protobuf import Envelope, EnvelopeError, decode_otipc, decode_otipc_list

JSON = "json"
PROTOBUF = "protobuf"

JSON_TYPES = frozenset({"application/json", "text/json"})
PROTOBUF_TYPES = frozenset({"application/x-protobuf", "application/protobuf", "application/x-protobuffer"})
ENVELOPE_KEYS = ("CompanyId", "Source", "IPCType")


@dataclass
class WireError(Exception):
    """A request that cannot be processed at all: HTTP ``status`` with a stable ``code``."""

    status: int
    code: str
    message: str
    details: list[dict[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


@dataclass(frozen=True)
class DecodedRequest:
    wire_format: str
    company_id: str
    source: str
    records: list[Any]
    envelopes: int  # how many OTIpc envelopes carried the records (OTIpcList: several)
    # True when the JSON fast path (spec.fastjson) found every record valid and already
    # normalised: the records need no second validation.
    validated: bool = False


def wire_format_of(content_type: str) -> str:
    """``json`` or ``protobuf`` from a Content-Type header, else WireError 415."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in JSON_TYPES:
        return JSON
    if media in PROTOBUF_TYPES:
        return PROTOBUF
    raise WireError(
        415,
        ExchangeErrorCode.UNSUPPORTED_MEDIA_TYPE,
        f"Content-Type {media or '(none)'!r} is not supported: send application/json or "
        "application/x-protobuf",
    )


def decompress(body: bytes, content_encoding: str, *, max_bytes: int) -> bytes:
    """Undo ``Content-Encoding: gzip`` without ever holding more than ``max_bytes`` (gzip bombs)."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip"):
        raise WireError(
            415,
            ExchangeErrorCode.UNSUPPORTED_ENCODING,
            f"Content-Encoding {encoding!r}: only gzip is supported",
        )
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise WireError(400, ExchangeErrorCode.DECODE_ERROR, f"invalid gzip body: {exc}") from exc
    if len(data) > max_bytes or inflater.unconsumed_tail:
        raise WireError(
            413, ExchangeErrorCode.BODY_TOO_LARGE, f"the decompressed body exceeds {max_bytes} bytes"
        )
    if not inflater.eof:
        raise WireError(400, ExchangeErrorCode.DECODE_ERROR, "truncated gzip body")
    if inflater.unused_data:
        # A second gzip member (or any trailing bytes) would be ignored by us but read by other
        # decoders: one body, one meaning.
        raise WireError(
            400,
            ExchangeErrorCode.DECODE_ERROR,
            f"{len(inflater.unused_data)} bytes after the end of the gzip stream: send one gzip member",
        )
    return data


def _looks_like_otipc_list(body: bytes) -> bool:
    """OTIpcList has only field 1 (length-delimited), repeated; OTIpc has CompanyId (field 1) once
    followed by Source/IPCType/records. So: a second top-level field 1 means a list; any other
    field number means a single OTIpc. (Only the first two tags are read.)"""
    pos = 0
    seen = 0
    n = len(body)
    while pos < n and seen < 2:
        tag, pos = _varint(body, pos)
        if tag is None:
            return False
        if tag != 0x0A:  # field 1, wire type 2
            return False
        length, pos = _varint(body, pos)
        if length is None:
            return False
        pos += length
        seen += 1
    return seen == 2 or (seen == 1 and pos >= n)


def _varint(body: bytes, pos: int) -> tuple[int | None, int]:
    result = 0
    shift = 0
    while pos < len(body) and shift < 64:
        b = body[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
    return None, pos


def _decode_protobuf(body: bytes) -> list[Envelope]:
    try:
        if _looks_like_otipc_list(body):
            envelopes = decode_otipc_list(body)
            if not envelopes:
                raise WireError(400, ExchangeErrorCode.ENVELOPE_FIELD, "the OTIpcList holds no OTIpc")
            return envelopes
        return [decode_otipc(body)]
    except EnvelopeError as exc:
        raise WireError(400, str(exc.code), exc.message) from exc
    except WireError:
        raise
    except Exception as exc:  # the protobuf runtime may raise RuntimeError/ValueError on junk
        raise WireError(400, ExchangeErrorCode.DECODE_ERROR, f"invalid protobuf body: {exc}") from exc


def _decode_json(body: bytes, interface: InterfaceSpec) -> Envelope:
    try:
        doc = msgspec.json.decode(body)
    except (msgspec.MsgspecError, ValueError, RecursionError) as exc:
        raise WireError(400, ExchangeErrorCode.DECODE_ERROR, f"invalid JSON body: {exc}") from exc
    if type(doc) is not dict:
        raise WireError(
            400,
            ExchangeErrorCode.DECODE_ERROR,
            "the body must be a JSON object {CompanyId, Source, IPCType, <IPCType>: [records]}",
        )
    problems: list[dict[str, str]] = []
    company_id = doc.get("CompanyId")
    source = doc.get("Source")
    ipc_type = doc.get("IPCType")
    if type(company_id) is not str or not company_id.strip():
        problems.append(_detail("CompanyId", "CompanyId is missing or not a non-empty string"))
    if type(source) is not str:
        problems.append(_detail("Source", "Source is missing or not a string"))
    spec = get_spec()
    named: InterfaceSpec | None = None
    if type(ipc_type) is str:
        named = spec.interfaces.get(ipc_type)
    elif type(ipc_type) is int:
        named = spec.by_ipc_code.get(ipc_type)
    if named is None:
        problems.append(_detail("IPCType", "IPCType is missing or not an interface type name"))
    if problems:
        raise WireError(400, ExchangeErrorCode.ENVELOPE_FIELD, "the envelope is incomplete", problems)
    assert named is not None  # noqa: S101 - for the type checker; problems were raised above
    if named is not interface:
        raise WireError(
            400,
            ExchangeErrorCode.ENVELOPE_MISMATCH,
            f"IPCType is {named.type} but this URL is for {interface.type}",
        )
    stray = [k for k in doc if k not in ENVELOPE_KEYS and k != interface.type]
    if stray:
        raise WireError(
            400,
            ExchangeErrorCode.ENVELOPE_MISMATCH,
            f"the envelope may only carry the list {interface.type!r}; unexpected keys: "
            + ", ".join(repr(str(k)) for k in stray[:5]),
        )
    records = doc.get(interface.type)
    if type(records) is not list:
        raise WireError(
            400,
            ExchangeErrorCode.ENVELOPE_FIELD,
            f"the envelope must carry the records as a list under {interface.type!r}",
            [_detail(interface.type, "missing or not a list")],
        )
    return Envelope(company_id=str(company_id), source=str(source), ipc_type=interface.type, records=records)


def _detail(field_name: str, message: str) -> dict[str, str]:
    return {"field": field_name, "code": ExchangeErrorCode.ENVELOPE_FIELD.value, "message": message}


def decode_request(
    *,
    body: bytes,
    content_type: str,
    content_encoding: str,
    interface: InterfaceSpec,
    max_bytes: int,
    max_records: int,
) -> DecodedRequest:
    """Decode one request body into the records of ``interface`` (raises :class:`WireError`)."""
    wire = wire_format_of(content_type)
    if len(body) > max_bytes:
        raise WireError(413, ExchangeErrorCode.BODY_TOO_LARGE, f"the body exceeds {max_bytes} bytes")
    data = decompress(body, content_encoding, max_bytes=max_bytes)
    if not data:
        raise WireError(400, ExchangeErrorCode.DECODE_ERROR, "the body is empty")
    if wire == JSON:
        fast = decode_valid_json(data, interface)
    else:
        fast = None if _looks_like_otipc_list(data) else decode_valid_protobuf(data, interface)
    if fast is not None and len(fast.records) <= max_records:
        return DecodedRequest(
            wire_format=wire,
            company_id=fast.company_id,
            source=fast.source,
            records=fast.records,
            envelopes=1,
            validated=True,
        )
    envelopes = [_decode_json(data, interface)] if wire == JSON else _decode_protobuf(data)
    company_ids = {e.company_id for e in envelopes}
    if len(company_ids) != 1:
        raise WireError(
            400,
            ExchangeErrorCode.ENVELOPE_MISMATCH,
            "the envelopes of one request carry different CompanyIds",
        )
    for env in envelopes:
        if env.ipc_type != interface.type:
            raise WireError(
                400,
                ExchangeErrorCode.ENVELOPE_MISMATCH,
                f"IPCType is {env.ipc_type} but this URL is for {interface.type}",
            )
    records: list[Any] = envelopes[0].records
    if len(envelopes) > 1:
        records = [r for env in envelopes for r in env.records]
    if len(records) > max_records:
        raise WireError(
            413,
            ExchangeErrorCode.TOO_MANY_RECORDS,
            f"{len(records)} records in one request; at most {max_records} are allowed: split the batch",
        )
    return DecodedRequest(
        wire_format=wire,
        company_id=envelopes[0].company_id,
        source=envelopes[0].source,
        records=records,
        envelopes=len(envelopes),
    )
