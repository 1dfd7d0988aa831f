"""The protobuf fast path (spec.fastproto) accepts only what the general path accepts unchanged."""

from __future__ import annotations

import math
import random
from datetime import datetime
from typing import Any

import pytest

from yunzheng.exchange.spec import BatchResult, fastproto, get_spec, get_validator
from yunzheng.exchange.spec.datetimes import BEIJING
from yunzheng.exchange.spec.fastproto import decode_valid_protobuf
from yunzheng.exchange.spec.protobuf import decode_otipc, encode_otipc, encode_otipc_list, get_schema
from yunzheng.exchange.spec.samples import valid_record
from yunzheng.exchange.wire import WireError, decode_request

from .test_spec_validation import _TRICKY

SPEC = get_spec()
INTERFACES = sorted(SPEC.interfaces)
NOW = datetime(2026, 3, 15, 10, 30, 0, tzinfo=BEIJING)
COMPANY = "3301FASTPATH01"


def general_path(body: bytes) -> tuple[list[dict[str, Any]], BatchResult]:
    envelope = decode_otipc(body)
    return envelope.records, get_validator(envelope.ipc_type).validate_batch(envelope.records)


def _decode(body: bytes, iface: Any, *, max_records: int = 100) -> Any:
    return decode_request(
        body=body,
        content_type="application/x-protobuf",
        content_encoding="",
        interface=iface,
        max_bytes=10**6,
        max_records=max_records,
    )


def same_types(records: list[dict[str, Any]]) -> list[list[tuple[str, str]]]:
    return [sorted((k, type(v).__name__) for k, v in r.items()) for r in records]


@pytest.mark.parametrize("interface", INTERFACES)
def test_valid_batches_take_the_fast_path_with_the_same_records(interface):
    records = [valid_record(interface, seed=i, now=NOW, CompanyId=COMPANY) for i in range(5)]
    records.append(valid_record(interface, seed=9, now=NOW, include_optional=False, CompanyId=COMPANY))
    body = encode_otipc(COMPANY, interface, records)
    fast = decode_valid_protobuf(body, SPEC.interface(interface))
    assert fast is not None
    assert (fast.company_id, fast.source) == (COMPANY, "0")
    decoded, checked = general_path(body)
    assert checked.rejected == []
    assert fast.records == [r for _, r in checked.accepted] == decoded
    assert same_types(fast.records) == same_types(decoded)


def test_optional_fields_absent_in_some_records_stay_absent():
    iface = SPEC.interface("positionVehicle")
    full = valid_record("positionVehicle", seed=1, now=NOW, CompanyId=COMPANY, Speed=0, WarnStatus=0)
    bare = valid_record("positionVehicle", seed=2, now=NOW, CompanyId=COMPANY, include_optional=False)
    body = encode_otipc(COMPANY, "positionVehicle", [full, bare, full])
    fast = decode_valid_protobuf(body, iface)
    assert fast is not None
    assert fast.records == decode_otipc(body).records
    assert fast.records[0]["Speed"] == 0  # zero is a value, not absence
    assert "Speed" not in fast.records[1]


def test_a_missing_required_field_takes_the_general_path():
    iface = SPEC.interface("positionVehicle")
    rec = valid_record("positionVehicle", seed=1, now=NOW, CompanyId=COMPANY)
    body = get_schema().encode_otipc(
        COMPANY, "positionVehicle", [rec, {k: v for k, v in rec.items() if k != "VehicleNo"}], partial=True
    )
    assert decode_valid_protobuf(body, iface) is None
    _, checked = general_path(body)
    assert [(r.index, e.field) for r in checked.rejected for e in r.errors] == [(1, "VehicleNo")]


@pytest.mark.parametrize(
    "change",
    [
        {"ipc": "positionDriver"},  # the URL's interface differs
        {"company": "  "},
        {"records": []},
    ],
)
def test_odd_envelopes_take_the_general_path(change):
    iface = SPEC.interface("positionVehicle")
    other = change.get("ipc", "positionVehicle")
    records = change.get("records", [valid_record(other, seed=1, now=NOW)])
    body = encode_otipc(change.get("company", COMPANY), other, records)
    assert decode_valid_protobuf(body, iface) is None


def test_junk_takes_the_general_path():
    iface = SPEC.interface("positionVehicle")
    assert decode_valid_protobuf(b"\xff\xff\xff", iface) is None
    assert decode_valid_protobuf(b"", iface) is None


def test_a_list_of_envelopes_is_decoded_by_the_general_path():
    iface = SPEC.interface("positionVehicle")
    records = [valid_record("positionVehicle", seed=i, now=NOW, CompanyId=COMPANY) for i in range(2)]
    body = encode_otipc_list(
        [
            get_schema().decode_otipc(encode_otipc(COMPANY, "positionVehicle", records[:1])),
            get_schema().decode_otipc(encode_otipc(COMPANY, "positionVehicle", records[1:])),
        ]
    )
    decoded = _decode(body, iface)
    assert (decoded.envelopes, decoded.validated, len(decoded.records)) == (2, False, 2)


def test_decode_request_takes_the_fast_path_for_one_valid_envelope():
    iface = SPEC.interface("positionVehicle")
    records = [valid_record("positionVehicle", seed=i, now=NOW, CompanyId=COMPANY) for i in range(3)]
    body = encode_otipc(COMPANY, "positionVehicle", records)
    decoded = _decode(body, iface)
    assert decoded.validated
    assert decoded.records == decode_otipc(body).records
    with pytest.raises(WireError) as too_many:  # the general path's answer, as for JSON
        _decode(body, iface, max_records=2)
    assert (too_many.value.status, too_many.value.code) == (413, "too_many_records")


@pytest.mark.parametrize("interface", INTERFACES)
def test_fast_path_accepts_only_what_the_general_path_accepts_unchanged(interface):
    rng = random.Random("fastproto:" + interface)
    iface = SPEC.interface(interface)
    names = [f.name for f in iface.fields]
    tricky = [
        v
        for v in _TRICKY
        if v is not None and type(v) is not bool and not (isinstance(v, float) and not math.isfinite(v))
    ]
    fast_taken = tried = 0
    for i in range(150):
        records = [valid_record(interface, seed=i * 3 + k, now=NOW) for k in range(3)]
        record = records[rng.randrange(3)]
        for _ in range(rng.choice((1, 1, 2))):
            value = rng.choice(tricky)
            if isinstance(value, float) and rng.random() < 0.5:
                value = rng.uniform(0, 1000)
            name = rng.choice(names)
            if rng.random() < 0.2:
                record.pop(name, None)
            else:
                record[name] = value
        try:
            body = get_schema().encode_otipc(COMPANY, interface, records, partial=True)
        except ValueError:
            continue  # the value has no protobuf form for this field's type
        tried += 1
        fast = decode_valid_protobuf(body, iface)
        if fast is None:
            continue
        fast_taken += 1
        decoded, checked = general_path(body)
        assert checked.rejected == [], record
        assert fast.records == [r for _, r in checked.accepted] == decoded, record
        assert same_types(fast.records) == same_types(decoded)
    assert 0 < fast_taken < tried  # both paths were compared, and mutations reached the general one


# --- bodies that are valid protobuf but not what our encoder writes ---------------------------
# The fast path reads canonical bodies through a merged column view (``fastproto._merged_records``);
# these bodies are built byte by byte so that a view that skipped a check would read them otherwise.


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, wire_type: int, payload: bytes) -> bytes:
    if wire_type == 2:
        payload = _varint(len(payload)) + payload
    return _varint(number << 3 | wire_type) + payload


def _record_bytes(interface: str, record: dict[str, Any]) -> bytes:
    return get_schema().messages[interface](**record).SerializePartialToString()


def _otipc(interface: str, records: list[bytes]) -> bytes:
    number = SPEC.interface(interface).otipc_field_number
    return encode_otipc(COMPANY, interface, []) + b"".join(_field(number, 2, r) for r in records)


def _positions(n: int, **values: Any) -> list[dict[str, Any]]:
    return [valid_record("positionVehicle", seed=i, now=NOW, CompanyId=COMPANY, **values) for i in range(n)]


SPEED = 7  # positionVehicle.Speed: optional uint32


def _same_as_general_path(body: bytes) -> list[dict[str, Any]]:
    iface = SPEC.interface("positionVehicle")
    decoded, checked = general_path(body)
    fast = decode_valid_protobuf(body, iface)
    assert fast is not None
    assert checked.rejected == []
    assert fast.records == decoded == [r for _, r in checked.accepted]
    return fast.records


def test_canonical_bodies_are_read_through_the_merged_view():
    iface = SPEC.interface("positionVehicle")
    body = encode_otipc(COMPANY, "positionVehicle", _positions(3))
    assert fastproto._merged_records(body, get_schema().OTIpc.FromString(body), iface) is not None
    _same_as_general_path(body)


def test_a_field_sent_twice_counts_once_as_in_the_general_path():
    # Record 0 carries Speed twice (the last one counts), record 1 none: three Speed values in
    # the merged view for three records, one of them in the wrong place.
    with_speed, no_speed, other = _positions(3, Speed=5)
    del no_speed["Speed"]
    first = _record_bytes("positionVehicle", with_speed) + _field(SPEED, 0, _varint(9))
    body = _otipc(
        "positionVehicle",
        [first, _record_bytes("positionVehicle", no_speed), _record_bytes("positionVehicle", other)],
    )
    records = _same_as_general_path(body)
    assert [r.get("Speed") for r in records] == [9, None, 5]


@pytest.mark.parametrize("packed", [[5, 6], [5]])
def test_a_number_sent_packed_is_ignored_as_in_the_general_path(packed):
    # proto2 reads a length-delimited Speed as an unknown field; the repeated fields of the merged
    # view would read it as values (the probe view finds it first).
    records = _positions(3, Speed=5)
    for r in records[: len(packed)]:
        del r["Speed"]
    blob = _field(SPEED, 2, b"".join(_varint(v) for v in packed))
    raw = [_record_bytes("positionVehicle", r) for r in records]
    raw[0] += blob
    body = _otipc("positionVehicle", raw)
    iface = SPEC.interface("positionVehicle")
    assert fastproto._merged_records(body, get_schema().OTIpc.FromString(body), iface) is None
    decoded = _same_as_general_path(body)
    assert "Speed" not in decoded[0]


def test_overlong_varints_and_unknown_fields_read_as_in_the_general_path():
    records = _positions(2)
    raw = [_record_bytes("positionVehicle", r) for r in records]
    raw[0] += _field(99, 0, _varint(1))  # an unknown field: ignored by both
    raw[1] += _field(SPEED, 0, b"\x85\x80\x00")  # Speed = 5 in three bytes instead of one
    records = _same_as_general_path(_otipc("positionVehicle", raw))
    assert records[1]["Speed"] == 5


def test_fields_no_record_carries_stay_absent():
    records = [
        valid_record("positionVehicle", seed=i, now=NOW, CompanyId=COMPANY, include_optional=False)
        for i in range(3)
    ]
    decoded = _same_as_general_path(encode_otipc(COMPANY, "positionVehicle", records))
    assert all("Speed" not in r and "Reserved" not in r for r in decoded)


def test_a_string_that_is_not_utf8_takes_the_general_path():
    iface = SPEC.interface("positionVehicle")
    record = valid_record("positionVehicle", seed=1, now=NOW, CompanyId=COMPANY)
    body = encode_otipc(COMPANY, "positionVehicle", [record])
    at = body.index(record["OrderId"].encode())
    body = body[:at] + b"\xff" + body[at + 1 :]
    assert decode_valid_protobuf(body, iface) is None
    _, checked = general_path(body)
    assert [e.field for r in checked.rejected for e in r.errors] == ["OrderId"]
