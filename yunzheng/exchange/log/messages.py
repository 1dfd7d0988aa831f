"""What goes on the log: subjects, the message of one (part of a) batch, its de-duplication id.

Subject: ``yzx.<province>.<city>.<county>.<category>.<interface>.<company>`` - e.g.
``yzx.33.3301.330106.position.positionVehicle.C3301001``. The region tokens come from the
record's region field (the company's registered region for interfaces without one), so a
province (``yzx.33.>``), a city (``yzx.*.3301.>``) or a county consumer filters by subject; a
batch is split into one message per county it covers.

The message body is msgspec JSON; records of interfaces with personal data travel as one SM4
``encrypt_field`` token (ADR 0005: nothing personal in clear at rest, the log's files included).
``Nats-Msg-Id`` is a hash of the content (not of the request), so a company re-sending the same
batch after a lost acknowledgement is de-duplicated by JetStream within its duplicate window, and
by the database's natural keys after it.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import msgspec

from yunzheng.exchange import personal_data
from yunzheng.exchange.spec import InterfaceSpec

SUBJECT_ROOT = "yzx"
NO_REGION = "000000"
_TOKEN_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class LogBatch(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=False):
    """One message: the accepted records of one batch for one county (plus, on the batch's
    first message, the batch's counters: received and the rejected records' field errors)."""

    company: int  # Company.pk
    company_id: str  # supervision company id
    interface: str  # spec type, e.g. "positionVehicle"
    environment: str
    wire_format: str
    received_at_us: int  # unix microseconds at the ingest node
    region: str
    credential: int | None = None
    request_id: str = ""
    received: int = 0  # records in the request: on the first part only, 0 on the others
    rejected: list[tuple[int, list[tuple[str, str]]]] = []  # (index, [(field, code)]) first part only
    records: list[dict[str, Any]] = []
    sealed: str = ""  # the records as one encrypt_field token (interfaces with personal data)

    def open_records(self) -> list[dict[str, Any]]:
        if self.sealed:
            return list(msgspec.json.decode(personal_data.open_text(self.sealed)))
        return self.records


class RoutedBatch(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=False):
    """A batch of a credential whose environment has a route (the conformance sandbox), as the
    company sent it (the route validates and stores it itself), sealed: it may be anything."""

    credential: int
    environment: str
    interface: str
    wire_format: str
    received_at_us: int
    sealed: str
    request_id: str = ""

    def open_records(self) -> list[Any]:
        return list(msgspec.json.decode(personal_data.open_text(self.sealed)))


ROUTED_ROOT = "yzr"


def routed_subject(environment: str, interface: InterfaceSpec, company_id: str) -> str:
    company = _TOKEN_UNSAFE.sub("_", company_id) or "_"
    return f"{ROUTED_ROOT}.{_TOKEN_UNSAFE.sub('_', environment)}.{interface.type}.{company}"


def routed_filter(environment: str) -> str:
    return f"{ROUTED_ROOT}.{_TOKEN_UNSAFE.sub('_', environment)}.>"


_encoder = msgspec.json.Encoder()
_routed_decoder = msgspec.json.Decoder(RoutedBatch)


def decode_routed(data: bytes) -> RoutedBatch:
    return _routed_decoder.decode(data)


_decoder = msgspec.json.Decoder(LogBatch)
_records_encoder = msgspec.json.Encoder(order="deterministic")


def encode(batch: LogBatch | RoutedBatch) -> bytes:
    return _encoder.encode(batch)


def decode(data: bytes) -> LogBatch:
    return _decoder.decode(data)


def region_of(value: Any, fallback: str) -> str:
    text = str(value) if value is not None else ""
    if len(text) == 6 and text.isdigit():
        return text
    return fallback if len(fallback) == 6 and fallback.isdigit() else NO_REGION


def subject(region: str, interface: InterfaceSpec, company_id: str) -> str:
    company = _TOKEN_UNSAFE.sub("_", company_id) or "_"
    return (
        f"{SUBJECT_ROOT}.{region[:2]}.{region[:4]}.{region}.{interface.category}.{interface.type}.{company}"
    )


def region_filter(prefix: str) -> str:
    """The subject filter of a subscriber's region prefix ('' = all, 2/4/6 digits)."""
    if not prefix:
        return f"{SUBJECT_ROOT}.>"
    if len(prefix) == 2:
        return f"{SUBJECT_ROOT}.{prefix}.>"
    if len(prefix) == 4:
        return f"{SUBJECT_ROOT}.*.{prefix}.>"
    return f"{SUBJECT_ROOT}.*.*.{prefix}.>"


def message_id(batch: LogBatch, records_json: bytes) -> str:
    """Content hash: company, interface, region, the records and the batch counters (not the
    request id or receipt time, which differ on a re-send)."""
    h = hashlib.sha256()
    h.update(
        f"{batch.company}|{batch.interface}|{batch.environment}|{batch.region}|{batch.received}|".encode()
    )
    h.update(_records_encoder.encode(batch.rejected))
    h.update(records_json)
    return h.hexdigest()


def encode_records(records: list[Any]) -> bytes:
    return _records_encoder.encode(records)
