"""Every interface through the HTTP endpoint, JSON and protobuf: valid records, duplicates, and
records breaking each rule of the spec (one request per interface and format)."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
import pytest

from yunzheng.exchange.models import BaseInfoRecord, EventRecord, PositionRecord
from yunzheng.exchange.spec import get_spec
from yunzheng.exchange.spec.samples import valid_record
from yunzheng.exchange.spec.validation import BEIJING

from .conftest import Uploader
from .violations import violations

INTERFACES = sorted(get_spec().interfaces)


def _stored(interface: str) -> int:
    iface = get_spec().interface(interface)
    if iface.category == "position":
        return PositionRecord.objects.filter(interface=iface.ipc_type_code).count()
    if iface.version_field:
        return BaseInfoRecord.objects.filter(interface=iface.ipc_type_code).count()
    return EventRecord.objects.filter(interface=iface.ipc_type_code).count()


def test_all_32_interfaces_are_served() -> None:
    assert len(INTERFACES) == 32


@pytest.mark.django_db
@pytest.mark.parametrize("interface", INTERFACES)
def test_valid_records_json_and_protobuf_then_duplicates(uploader: Uploader, interface: str) -> None:
    now = datetime.now(BEIJING).replace(microsecond=0)
    first = valid_record(interface, seed=1, now=now - timedelta(hours=2), CompanyId=uploader.company_id)
    second = valid_record(interface, seed=2, now=now - timedelta(hours=1), CompanyId=uploader.company_id)

    r = uploader.post_json(interface, [first])
    assert r.status_code == 200, r.content
    assert r.json() | {"batch_id": 0} == {
        "result": "ok",
        "batch_id": 0,
        "interface": interface,
        "received": 1,
        "accepted": 1,
        "duplicates": 0,
        "rejected": [],
    }
    r = uploader.post_protobuf(interface, [second])
    assert r.status_code == 200, r.content
    assert (r.json()["accepted"], r.json()["duplicates"]) == (1, 0)
    assert _stored(interface) == 2

    # The same records again (JSON now, and protobuf in one batch with a copy): no new rows.
    r = uploader.post_json(interface, [first, second, first])
    assert r.status_code == 200, r.content
    assert (r.json()["result"], r.json()["accepted"], r.json()["duplicates"]) == ("ok", 0, 3)
    r = uploader.post_protobuf(interface, [second])
    assert (r.json()["accepted"], r.json()["duplicates"]) == (0, 1)
    assert _stored(interface) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("interface", INTERFACES)
def test_every_rule_is_reported_per_record_json(uploader: Uploader, interface: str) -> None:
    iface = get_spec().interface(interface)
    bad = violations(iface)
    good = valid_record(interface, seed=7, CompanyId=uploader.company_id)
    r = uploader.post_json(interface, [good] + [v.record for v in bad])
    assert r.status_code == 200, r.content
    answer = r.json()
    assert (answer["result"], answer["received"], answer["accepted"]) == ("partial", len(bad) + 1, 1)
    by_index = {item["index"]: item["errors"] for item in answer["rejected"]}
    assert sorted(by_index) == list(range(1, len(bad) + 1))
    for i, v in enumerate(bad, start=1):
        got = [(e["field"], e["code"]) for e in by_index[i]]
        assert got == [(v.field, v.code)], f"record {i}: expected {v.field}/{v.code}, got {by_index[i]}"
        assert all(e["message"] for e in by_index[i])
    assert {v.code for v in bad} >= {"required", "type"}


@pytest.mark.django_db
@pytest.mark.parametrize("interface", INTERFACES)
def test_every_rule_is_reported_per_record_protobuf(uploader: Uploader, interface: str) -> None:
    from yunzheng.exchange.spec.protobuf import encode_otipc

    iface = get_spec().interface(interface)
    bad = []
    for v in violations(iface):
        try:
            encode_otipc(uploader.company_id, interface, [v.record], partial=True)
        except ValueError:
            continue  # e.g. a 10**10 in a uint32 field cannot be put on the wire at all
        bad.append(v)
    good = valid_record(interface, seed=8, CompanyId=uploader.company_id)
    r = uploader.post_protobuf(interface, [good] + [v.record for v in bad])
    assert r.status_code == 200, r.content
    answer = r.json()
    assert answer["accepted"] == 1
    by_index = {
        item["index"]: [(e["field"], e["code"]) for e in item["errors"]] for item in answer["rejected"]
    }
    for i, v in enumerate(bad, start=1):
        assert by_index.get(i) == [(v.field, v.code)], f"record {i}: {v.field}/{v.code} vs {by_index.get(i)}"
    assert len(by_index) == len(bad)


@pytest.mark.django_db
def test_the_usual_mistakes_have_their_codes(uploader: Uploader) -> None:
    """The issue's list: full-width characters, 20260230, a coordinate out of range, a wrong
    CompanyId, a duplicate - in one batch."""
    ok = valid_record("orderCreate", seed=1, CompanyId=uploader.company_id)
    records = [
        ok,
        valid_record("orderCreate", seed=2, CompanyId=uploader.company_id, FareType="ＫＣ001"),
        valid_record("orderCreate", seed=3, CompanyId=uploader.company_id, OrderTime=20260230101500),
        valid_record("orderCreate", seed=4, CompanyId=uploader.company_id, DepLongitude=30_274_085),
        valid_record("orderCreate", seed=5, CompanyId="3301OTHER0001"),
        dict(ok),
    ]
    answer = uploader.post_json("orderCreate", records).json()
    assert (answer["result"], answer["accepted"], answer["duplicates"]) == ("partial", 1, 1)
    got = {r["index"]: [(e["field"], e["code"]) for e in r["errors"]] for r in answer["rejected"]}
    assert got == {
        1: [("FareType", "halfwidth")],
        2: [("OrderTime", "datetime")],
        3: [("DepLongitude", "coordinate_range")],
        4: [("CompanyId", "company_mismatch")],
    }
    swapped = next(r for r in answer["rejected"] if r["index"] == 3)["errors"][0]["message"]
    assert "swapped" in swapped


@pytest.mark.django_db
def test_a_record_of_another_company_also_gets_company_mismatch_next_to_other_errors(
    uploader: Uploader,
) -> None:
    bad = valid_record("positionVehicle", seed=1, CompanyId="3301OTHER0001", Latitude=0)
    answer = uploader.post_json("positionVehicle", [bad]).json()
    assert answer["result"] == "rejected"
    assert [(e["field"], e["code"]) for e in answer["rejected"][0]["errors"]] == [
        ("Latitude", "coordinate_range"),
        ("CompanyId", "company_mismatch"),
    ]


@pytest.mark.django_db
def test_all_rejected_is_422_with_the_batch_shape(uploader: Uploader) -> None:
    r = uploader.post_json("positionDriver", [{"CompanyId": uploader.company_id}])
    assert r.status_code == 422
    assert r.json()["result"] == "rejected"
    assert r.json()["accepted"] == 0


@pytest.mark.django_db
def test_json_body_is_decoded_as_msgspec_would(uploader: Uploader) -> None:
    rec = valid_record("ratedPassenger", seed=1, CompanyId=uploader.company_id)
    body = msgspec.json.encode(
        {"CompanyId": uploader.company_id, "Source": "0", "IPCType": 0x5001, "ratedPassenger": [rec]}
    )
    r = uploader.post_raw("ratedPassenger", body, "application/json")
    assert r.status_code == 200, r.content  # IPCType may also be the numeric code


def test_a_nul_character_in_free_text_is_a_clear_rejection_not_a_500(uploader: Uploader) -> None:
    """PostgreSQL's jsonb cannot store U+0000: the validator stops it with its own rule code."""
    good = valid_record("orderCreate", seed=1, CompanyId=uploader.company_id)
    bad = valid_record("orderCreate", seed=2, CompanyId=uploader.company_id, Departure="西湖\x00断桥")
    response = uploader.post_json("orderCreate", [good, bad])
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 1
    assert [r["index"] for r in answer["rejected"]] == [1]
    assert answer["rejected"][0]["errors"][0]["field"] == "Departure"
    assert answer["rejected"][0]["errors"][0]["code"] == "control_character"
