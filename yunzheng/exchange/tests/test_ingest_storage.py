"""Storage: base-information history and current state, typed positions, statistics and the
PostgreSQL partitions. (The benchmark's naive baseline is checked in bench/tests/.)"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from yunzheng.core.crypto import is_field_token, lookup_hash
from yunzheng.exchange.models import (
    POSITION_VEHICLE,
    BaseInfoCurrent,
    BaseInfoRecord,
    EventRecord,
    IngestBatch,
    PositionRecord,
    RejectStat,
    UploadStat,
)
from yunzheng.exchange.personal_data import reveal_record
from yunzheng.exchange.spec import get_spec
from yunzheng.exchange.spec.samples import valid_record
from yunzheng.exchange.spec.validation import BEIJING

from .conftest import Uploader

NOW = datetime.now(BEIJING).replace(microsecond=0)


def _t(hours: float) -> int:
    # From the clock at call time: NOW is fixed at import, and a long run would add its age to lags.
    return int((datetime.now(BEIJING) - timedelta(hours=hours)).strftime("%Y%m%d%H%M%S"))


def _vehicle(uploader: Uploader, flag: int, hours_ago: float, **extra: Any) -> dict:
    return valid_record(
        "baseInfoVehicle",
        seed=1,
        CompanyId=uploader.company_id,
        VehicleNo="浙AD12345",
        Flag=flag,
        UpdateTime=_t(hours_ago),
        **extra,
    )


@pytest.mark.django_db
def test_flag_add_update_delete_keeps_history_and_the_latest_state(uploader: Uploader) -> None:
    code = get_spec().interface("baseInfoVehicle").ipc_type_code
    assert uploader.post_json("baseInfoVehicle", [_vehicle(uploader, 1, 5, Seats=5)]).json()["accepted"] == 1
    update = _vehicle(uploader, 2, 3, Seats=7)  # kept: re-sent below with the same UpdateTime
    assert uploader.post_json("baseInfoVehicle", [update]).json()["accepted"] == 1
    current = BaseInfoCurrent.objects.get(interface=code, natural_key="浙AD12345")
    assert (current.flag, current.payload["Seats"], current.deleted) == (2, 7, False)

    # An older update arriving late is history, but never overwrites the newer state.
    assert uploader.post_json("baseInfoVehicle", [_vehicle(uploader, 2, 4, Seats=6)]).json()["accepted"] == 1
    current.refresh_from_db()
    assert current.payload["Seats"] == 7

    # Two versions in one batch: the newer wins, both are history.
    both = [_vehicle(uploader, 2, 2, Seats=4), _vehicle(uploader, 2, 1, Seats=3)]
    assert uploader.post_json("baseInfoVehicle", both[::-1]).json()["accepted"] == 2
    current.refresh_from_db()
    assert current.payload["Seats"] == 3

    assert uploader.post_json("baseInfoVehicle", [_vehicle(uploader, 3, 0.5)]).json()["accepted"] == 1
    current.refresh_from_db()
    assert (current.flag, current.deleted) == (3, True)
    history = BaseInfoRecord.objects.filter(interface=code, natural_key="浙AD12345").order_by("update_time")
    assert [h.flag for h in history] == [1, 2, 2, 2, 2, 3]
    assert [h.payload.get("Seats") for h in history][:5] == [5, 6, 7, 4, 3]
    # re-sending a version is a duplicate (the same record: _t() reads the clock, which may have
    # passed a second boundary since)
    assert uploader.post_json("baseInfoVehicle", [update]).json()["duplicates"] == 1


@pytest.mark.django_db
def test_positions_are_typed_and_unix_times_normalised(uploader: Uploader) -> None:
    unix = int((NOW - timedelta(minutes=10)).timestamp())
    rec = valid_record(
        "positionVehicle",
        seed=3,
        CompanyId=uploader.company_id,
        VehicleNo="浙A12345",
        PositionTime=unix,
        Longitude=120_100_000,
        Latitude=30_200_000,
        Speed=42,
        Direction=270,
        Mileage=12.5,
        OrderId="YZ1",
    )
    assert uploader.post_json("positionVehicle", [rec]).json()["accepted"] == 1
    row = PositionRecord.objects.get()
    assert row.interface == POSITION_VEHICLE
    assert row.position_time == NOW - timedelta(minutes=10)
    assert (row.vehicle_no, row.longitude, row.latitude, row.speed, row.direction, row.mileage) == (
        "浙A12345",
        120_100_000,
        30_200_000,
        42,
        270,
        12.5,
    )
    assert (row.order_id, row.region_code, row.company_id) == ("YZ1", 330100, uploader.company.pk)
    # the same fix as YYYYMMDDhhmmss is the same record
    again = dict(rec, PositionTime=int((NOW - timedelta(minutes=10)).strftime("%Y%m%d%H%M%S")))
    assert uploader.post_json("positionVehicle", [again]).json()["duplicates"] == 1


@pytest.mark.django_db
def test_events_keep_the_record_and_its_keys(uploader: Uploader) -> None:
    rec = valid_record("orderMatch", seed=1, CompanyId=uploader.company_id, OrderId="YZ20261121000001")
    assert uploader.post_json("orderMatch", [rec]).json()["accepted"] == 1
    row = EventRecord.objects.get()
    assert (row.order_id, row.natural_key, row.license_id, row.vehicle_no) == (
        "YZ20261121000001",
        "YZ20261121000001",
        lookup_hash(rec["LicenseId"]),  # the licence number (= ID number) only as its keyed hash
        rec["VehicleNo"],
    )
    # The record is kept whole: personal values encrypted, everything else as received.
    assert is_field_token(row.payload["LicenseId"])
    assert is_field_token(row.payload["DriverPhone"])
    assert reveal_record("orderMatch", row.payload) == rec
    assert row.region_code == 330100


@pytest.mark.django_db
def test_statistics_count_batches_rejects_and_lag(uploader: Uploader) -> None:
    good = [
        valid_record("positionVehicle", seed=i, CompanyId=uploader.company_id, PositionTime=_t(0.5))
        for i in range(3)
    ]
    bad = valid_record("positionVehicle", seed=9, CompanyId=uploader.company_id, Longitude=1)
    uploader.post_json("positionVehicle", [*good, bad])
    uploader.post_json("positionVehicle", good[:1])
    code = get_spec().interface("positionVehicle").ipc_type_code
    stat = UploadStat.objects.get(interface=code)
    assert (stat.batches, stat.received, stat.accepted, stat.duplicates, stat.rejected) == (2, 5, 3, 1, 1)
    assert stat.lag_count == 4
    # NOW is taken when the module is imported: a long suite run adds its age to the lag.
    slack = (datetime.now(BEIJING) - NOW).total_seconds()
    assert 1790 <= stat.lag_sum_seconds / stat.lag_count <= 1900 + slack
    assert 1790 <= stat.lag_max_seconds <= 1900 + slack
    assert list(RejectStat.objects.values_list("field", "code", "count")) == [
        ("Longitude", "coordinate_range", 1)
    ]
    batches = IngestBatch.objects.order_by("pk")
    assert [(b.received, b.accepted, b.duplicates, b.rejected) for b in batches] == [
        (4, 3, 0, 1),
        (1, 0, 1, 0),
    ]
    assert all(b.request_id and b.environment == "production" for b in batches)


@pytest.mark.django_db
def test_postgresql_partitions_by_month(uploader: Uploader) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("partitioning exists on PostgreSQL only; SQLite stores plain tables")
    old = NOW.replace(day=15) - timedelta(days=62)
    records = [
        valid_record("positionVehicle", seed=1, CompanyId=uploader.company_id, PositionTime=_t(0)),
        valid_record(
            "positionVehicle",
            seed=2,
            CompanyId=uploader.company_id,
            PositionTime=int(old.strftime("%Y%m%d%H%M%S")),
        ),
    ]
    assert uploader.post_json("positionVehicle", records).json()["accepted"] == 2
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, count(p.*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "LEFT JOIN exchange_positionrecord p ON p.tableoid = c.oid "
            "WHERE i.inhparent = 'exchange_positionrecord'::regclass GROUP BY c.relname"
        )
        counts = dict(cursor.fetchall())
    assert counts[f"exchange_positionrecord_p{NOW.strftime('%Y%m')}"] >= 1
    assert counts[f"exchange_positionrecord_p{old.strftime('%Y%m')}"] == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("interface", ["positionVehicle", "operatePay"])
def test_resent_records_in_the_ingest_own_transaction(uploader: Uploader, interface: str) -> None:
    """Outside any caller's transaction (as in production) the bulk writer COPYs without a
    savepoint; a re-sent record aborts that COPY and the batch is stored again through staging."""
    records = [valid_record(interface, seed=i, CompanyId=uploader.company_id) for i in range(4)]
    assert uploader.post_json(interface, records[:2]).json()["accepted"] == 2
    answer = uploader.post_json(interface, records).json()
    assert (answer["result"], answer["accepted"], answer["duplicates"]) == ("ok", 2, 2)
    answer = uploader.post_json(interface, records).json()
    assert (answer["accepted"], answer["duplicates"]) == (0, 4)
    model = PositionRecord if interface == "positionVehicle" else EventRecord
    assert model.objects.count() == 4
    batches = IngestBatch.objects.order_by("pk")
    assert [(b.received, b.accepted, b.duplicates) for b in batches] == [(2, 2, 0), (4, 2, 2), (4, 0, 4)]
    stat = UploadStat.objects.get()
    assert (stat.batches, stat.received, stat.accepted, stat.duplicates) == (3, 10, 4, 6)
