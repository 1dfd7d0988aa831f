"""Protobuf messages built from the spec: descriptor, round trips, envelope errors, .proto text."""

from __future__ import annotations

import re
import struct
from typing import Any, cast

import pytest
from google.protobuf import descriptor_pb2

from yunzheng.exchange.spec import ErrorCode, get_spec, validate_records
from yunzheng.exchange.spec.loader import DATA_DIR
from yunzheng.exchange.spec.protobuf import (
    Envelope,
    EnvelopeError,
    build_file_descriptor,
    decode_otipc,
    decode_otipc_list,
    encode_otipc,
    encode_otipc_list,
    float32_shortest,
    get_schema,
    render_proto_file,
)
from yunzheng.exchange.spec.samples import OMIT, SAMPLE_COMPANY_ID, valid_record, valid_records

SPEC = get_spec()
SCHEMA = get_schema()
INTERFACES = sorted(SPEC.interfaces)
FDP = descriptor_pb2.FieldDescriptorProto


def test_package_and_messages():
    fdp = SCHEMA.file_descriptor_proto
    assert fdp.package == "cn.cttic.ridehailing.model"
    assert fdp.syntax == "proto2"
    names = [m.name for m in fdp.message_type]
    assert len(names) == 34
    assert names[-2:] == ["OTIpc", "OTIpcList"]
    assert SCHEMA.OTIpc.DESCRIPTOR.full_name == "cn.cttic.ridehailing.model.OTIpc"


def test_ipc_type_enum():
    enum = SCHEMA.pool.FindEnumTypeByName("cn.cttic.ridehailing.model.IpcType")
    values = {v.name: v.number for v in enum.values}
    assert len(values) == 32
    assert values["baseInfoCompany"] == 0x1001
    assert values["baseInfoDriver"] == 0x1010
    assert values["orderCreate"] == 0x2001
    assert values["positionVehicle"] == 0x4002
    assert values["sharePay"] == 0x6004


def test_envelope_fields():
    fields = {f.name: f for f in SCHEMA.OTIpc.DESCRIPTOR.fields}
    assert (fields["CompanyId"].number, fields["Source"].number, fields["IPCType"].number) == (1, 2, 3)
    assert fields["IPCType"].enum_type.name == "IpcType"
    for iface in SPEC.interfaces.values():
        f = fields[iface.type]
        assert f.number == iface.ipc_type_code
        assert f.message_type.name == iface.protobuf_message
    batch = SCHEMA.OTIpcList.DESCRIPTOR.fields_by_name["otpic"]
    assert batch.number == 1
    assert batch.message_type.name == "OTIpc"


@pytest.mark.parametrize("interface", INTERFACES)
def test_message_fields_match_the_spec(interface):
    iface = SPEC.interface(interface)
    msg = next(m for m in SCHEMA.file_descriptor_proto.message_type if m.name == iface.protobuf_message)
    types = {v: k for k, v in FDP.Type.items()}
    labels = {v: k for k, v in FDP.Label.items()}
    got = [(f.name, f.number, types[f.type], labels[f.label]) for f in msg.field]
    want = [
        (f.name, f.proto_number, f"TYPE_{f.proto_type.upper()}", f"LABEL_{f.proto_label.upper()}")
        for f in iface.fields
    ]
    assert got == want


def test_operate_pay_skips_field_number_8():
    numbers = [f.proto_number for f in SPEC.interface("operatePay").fields]
    assert 8 not in numbers
    assert numbers[:8] == [1, 2, 3, 4, 5, 6, 7, 9]


# --- round trips ------------------------------------------------------------------------------------


@pytest.mark.parametrize("interface", INTERFACES)
def test_round_trip_every_interface(interface):
    records = valid_records(interface, 3, seed=11)
    body = encode_otipc(SAMPLE_COMPANY_ID, interface, records)
    envelope = decode_otipc(body)
    assert envelope == Envelope(SAMPLE_COMPANY_ID, "0", interface, records)
    assert envelope.interface is SPEC.interface(interface)
    result = validate_records(interface, envelope.records)
    assert result.rejected == []
    assert [r for _, r in result.accepted] == records


def test_round_trip_by_code_and_path():
    record = valid_record("orderMatch", seed=1)
    assert decode_otipc(encode_otipc("C", 0x2002, [record])).records == [record]
    assert decode_otipc(encode_otipc("C", "/order/match", [record])).ipc_type == "orderMatch"


def test_otipc_list_round_trip():
    envelopes = [
        Envelope(SAMPLE_COMPANY_ID, "0", "positionVehicle", valid_records("positionVehicle", 4, seed=1)),
        Envelope(SAMPLE_COMPANY_ID, "0", "positionDriver", valid_records("positionDriver", 2, seed=2)),
        Envelope("3301OTHER001", "1", "positionVehicle", []),
    ]
    assert decode_otipc_list(encode_otipc_list(envelopes)) == envelopes


def test_only_set_fields_are_decoded_so_required_checks_still_work():
    record = valid_record("positionVehicle", seed=3, Latitude=OMIT, Speed=OMIT)
    with pytest.raises(ValueError, match="missing required fields"):
        encode_otipc("C", "positionVehicle", [record])
    body = encode_otipc("C", "positionVehicle", [record], partial=True)
    [decoded] = decode_otipc(body).records
    assert "Latitude" not in decoded
    assert "Speed" not in decoded
    assert decoded == record
    result = validate_records("positionVehicle", [decoded])
    assert result.rejected[0].codes == [("Latitude", ErrorCode.REQUIRED)]


def test_optional_zero_is_kept_distinct_from_absent():
    record = valid_record("positionVehicle", seed=4, Speed=0, WarnStatus=OMIT)
    [decoded] = decode_otipc(encode_otipc("C", "positionVehicle", [record])).records
    assert decoded["Speed"] == 0
    assert "WarnStatus" not in decoded


def test_invalid_values_travel_through_protobuf_and_are_rejected():
    record = valid_record("orderCreate", seed=5, Address=999999, DepartTime=20260230120000, OrderId="ＡＢ")
    [decoded] = decode_otipc(encode_otipc("C", "orderCreate", [record])).records
    codes = validate_records("orderCreate", [decoded]).rejected[0].codes
    assert codes == [
        ("Address", ErrorCode.REGION_CODE),
        ("OrderId", ErrorCode.HALFWIDTH),
        ("DepartTime", ErrorCode.DATETIME),
    ]


def test_floats_come_back_as_their_decimal_value():
    record = valid_record("operatePay", seed=6, FactPrice=12.34, DriveMile=8.6, CashPrice=0.1)
    [decoded] = decode_otipc(encode_otipc("C", "operatePay", [record])).records
    assert (decoded["FactPrice"], decoded["DriveMile"], decoded["CashPrice"]) == (12.34, 8.6, 0.1)


@pytest.mark.parametrize("value", [12.34, 8.6, 0.125, 99999.99, 1e-7, 0.0, 35210.5, 3.3e38])
def test_float32_shortest(value):
    widened = struct.unpack("<f", struct.pack("<f", value))[0]
    assert float32_shortest(widened) == value


def test_encoder_accepts_the_commercial_type_alias():
    record = valid_record(
        "baseInfoVehicle", seed=7, CommercialType=OMIT, **cast("dict[str, Any]", {"Commercial-Type": 3})
    )
    [decoded] = decode_otipc(encode_otipc("C", "baseInfoVehicle", [record])).records
    assert decoded["CommercialType"] == 3


def test_encoder_rejects_unknown_fields_and_wrong_types():
    with pytest.raises(ValueError, match="not a field"):
        encode_otipc("C", "orderCreate", [valid_record("orderCreate", Foo=1)])
    with pytest.raises(ValueError, match=r"orderCreate\.Address"):
        encode_otipc("C", "orderCreate", [valid_record("orderCreate", Address="330100")])


# --- envelope errors --------------------------------------------------------------------------------


def test_garbage_is_a_decode_error():
    with pytest.raises(EnvelopeError) as exc:
        decode_otipc(b"\xff\xff\xff\xff")
    assert exc.value.code is ErrorCode.DECODE_ERROR
    with pytest.raises(EnvelopeError) as exc:
        decode_otipc_list(b"\x0a\x05abc")
    assert exc.value.code is ErrorCode.DECODE_ERROR


def test_missing_envelope_fields():
    msg = SCHEMA.OTIpc()
    msg.CompanyId = "C"
    with pytest.raises(EnvelopeError) as exc:
        decode_otipc(msg.SerializePartialToString())
    assert exc.value.code is ErrorCode.ENVELOPE_FIELD
    assert "Source, IPCType" in exc.value.message


def test_unknown_ipc_type_reads_as_missing():
    msg = SCHEMA.OTIpc(CompanyId="C", Source="0")
    body = msg.SerializePartialToString() + b"\x18\x07"  # field 3 (IPCType) varint 7: not an IpcType
    with pytest.raises(EnvelopeError) as exc:
        decode_otipc(body)
    assert exc.value.code is ErrorCode.ENVELOPE_FIELD


def test_records_in_another_list_are_an_envelope_mismatch():
    msg = SCHEMA.build_otipc("C", "positionVehicle", [valid_record("positionVehicle")])
    msg.positionDriver.add().CompanyId = "C"
    with pytest.raises(EnvelopeError) as exc:
        decode_otipc(msg.SerializePartialToString())
    assert exc.value.code is ErrorCode.ENVELOPE_MISMATCH
    assert "positionDriver" in exc.value.message


def test_empty_envelope_has_no_records():
    assert decode_otipc(encode_otipc("C", "orderCreate", [])).records == []


# --- .proto text ------------------------------------------------------------------------------------


def test_committed_proto_file_matches_the_render():
    committed = (DATA_DIR / "OTIpcDef.proto").read_text(encoding="utf-8")
    assert committed == render_proto_file(), "run: python -m yunzheng.exchange.spec write"


def test_rendered_proto_text_declares_exactly_the_descriptor():
    text = render_proto_file()
    fdp = build_file_descriptor(SPEC)
    declared: dict[str, list[tuple[str, str, str, int]]] = {}
    current = None
    for line in text.splitlines():
        if m := re.match(r"message (\w+) \{", line):
            current = m.group(1)
            declared[current] = []
        elif current and (m := re.match(r"  (required|optional|repeated) (\w+) ([\w-]+) = (\d+);", line)):
            declared[current].append((m.group(1), m.group(2), m.group(3), int(m.group(4))))
        elif line == "}":
            current = None
    labels = {v: k.removeprefix("LABEL_").lower() for k, v in FDP.Label.items()}
    types = {v: k.removeprefix("TYPE_").lower() for k, v in FDP.Type.items()}
    expected = {
        m.name: [
            (
                labels[f.label],
                f.type_name.rsplit(".", 1)[-1] if f.type_name else types[f.type],
                f.name,
                f.number,
            )
            for f in m.field
        ]
        for m in fdp.message_type
    }
    assert declared == expected
    assert 'syntax = "proto2";' in text
    assert "package cn.cttic.ridehailing.model;" in text
    assert "  positionVehicle = 16386;" in text
