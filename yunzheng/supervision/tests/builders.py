"""Test data for the supervision analytics, sent through the real exchange interface.

Orders are uploaded as a platform would (orderCreate, orderMatch, operateDepart, operateArrive,
operatePay) with Django's test client and a company credential; licences come in through the
CSV import. Every time is Beijing time.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from yunzheng.accounts.tests.factories import id_number
from yunzheng.core.audit import Actor
from yunzheng.exchange.spec.samples import valid_record
from yunzheng.exchange.spec.validation import BEIJING
from yunzheng.exchange.tests.conftest import Uploader, make_uploader
from yunzheng.supervision.services import licence_registry_import, platform_profile_set

TEST = Actor.system("test")

CITY_POINTS = {
    330100: (120_150_000, 30_270_000),  # 杭州
    330200: (121_550_000, 29_870_000),  # 宁波
}

# Drivers (driving-licence number = ID number) and vehicles of the scenarios.
D1, D2, D3, D4, D5 = (id_number(birth="19900101", sequence=f"{n:03d}") for n in (11, 13, 15, 17, 19))
DX = id_number(birth="19910101", sequence="021")  # never licensed
DC = id_number(birth="19920101", sequence="023")  # licence cancelled 2026-10-10 12:00
V1, V2, V3, V4, V5 = "浙A10001", "浙A10002", "浙A10003", "浙B20004", "浙B20005"
VE = "浙AD10009"  # transport certificate valid until 2026-10-15 (inclusive)
VX = "浙B29999"  # never licensed


def bj(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


def dt14(t: datetime) -> int:
    return int(t.astimezone(BEIJING).strftime("%Y%m%d%H%M%S"))


@dataclass
class Trip:
    order_id: str
    region: int
    driver: str
    vehicle: str
    depart: datetime
    minutes: int = 15
    km: float = 5.2
    price: float = 21.5
    overrides: dict[str, Any] = field(default_factory=dict)  # extra operatePay fields


def trip_records(company_id: str, trip: Trip) -> dict[str, list[dict[str, Any]]]:
    """The five records of one completed trip, with consistent times."""
    created = trip.depart - timedelta(minutes=12)
    matched = trip.depart - timedelta(minutes=9)
    arrive = trip.depart + timedelta(minutes=trip.minutes)
    paid = arrive + timedelta(minutes=3)
    lon, lat = CITY_POINTS.get(trip.region // 100 * 100, (120_150_000, 30_270_000))
    seed = zlib.crc32(trip.order_id.encode())
    common: dict[str, Any] = {"CompanyId": company_id, "OrderId": trip.order_id}
    pay = valid_record(
        "operatePay",
        seed=seed,
        **common,
        OnArea=trip.region,
        LicenseId=trip.driver,
        VehicleNo=trip.vehicle,
        BookDepTime=dt14(created),
        DepTime=dt14(trip.depart),
        DestTime=dt14(arrive),
        DepLongitude=lon,
        DepLatitude=lat,
        DestLongitude=lon + 20_000,
        DestLatitude=lat + 10_000,
        DriveMile=trip.km,
        DriveTime=trip.minutes * 60,
        FactPrice=trip.price,
        PayTime=dt14(paid),
        OrderMatchTime=dt14(matched),
    )
    pay.update(trip.overrides)
    return {
        "orderCreate": [
            valid_record(
                "orderCreate",
                seed=seed,
                **common,
                Address=trip.region,
                OrderTime=dt14(created),
                DepartTime=dt14(trip.depart),
                DepLongitude=lon,
                DepLatitude=lat,
            )
        ],
        "orderMatch": [
            valid_record(
                "orderMatch",
                seed=seed,
                **common,
                Address=trip.region,
                LicenseId=trip.driver,
                VehicleNo=trip.vehicle,
                DistributeTime=dt14(matched),
            )
        ],
        "operateDepart": [
            valid_record(
                "operateDepart",
                seed=seed,
                **common,
                LicenseId=trip.driver,
                VehicleNo=trip.vehicle,
                DepTime=dt14(trip.depart),
                DepLongitude=lon,
                DepLatitude=lat,
            )
        ],
        "operateArrive": [
            valid_record(
                "operateArrive",
                seed=seed,
                **common,
                DestTime=dt14(arrive),
                DriveMile=trip.km,
                DriveTime=trip.minutes * 60,
            )
        ],
        "operatePay": [pay],
    }


def upload(uploader: Uploader, batches: dict[str, list[dict[str, Any]]]) -> None:
    """POST each interface's records as one JSON batch; every record must be accepted."""
    for interface, records in batches.items():
        for i in range(0, len(records), 1000):
            response = uploader.post_json(interface, records[i : i + 1000])
            body = response.json()
            assert response.status_code == 200, (interface, body)
            assert body["rejected"] == [], (interface, body["rejected"][:3])


def upload_trips(uploader: Uploader, trips: list[Trip]) -> None:
    batches: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for trip in trips:
        for interface, records in trip_records(uploader.company_id, trip).items():
            batches[interface].extend(records)
    upload(uploader, batches)


def cancel_record(
    company_id: str, order_id: str, region: int, when: datetime, operator: str
) -> dict[str, Any]:
    return valid_record(
        "orderCancel",
        seed=1,
        CompanyId=company_id,
        OrderId=order_id,
        Address=region,
        OrderTime=dt14(when - timedelta(minutes=5)),
        CancelTime=dt14(when),
        Operator=operator,
        CancelTypeCode={"1": "1", "2": "2", "3": "3"}[operator],
    )


def complaint_record(company_id: str, order_id: str, when: datetime) -> dict[str, Any]:
    return valid_record(
        "ratedPassengerComplaint",
        seed=1,
        CompanyId=company_id,
        OrderId=order_id,
        ComplaintTime=dt14(when),
        Detail="司机绕路",
    )


def import_csv(kind: str, lines: list[str]) -> Any:
    data = ("\n".join(lines) + "\n").encode("utf-8-sig")
    return licence_registry_import(kind=kind, data=data, actor=TEST)


DRIVER_CSV = [
    "licence_id,certificate_no,region_code,valid_from,valid_until,status,status_changed_at",
    *(f"{d},QC{i:04d},330100,2025-01-01,2028-12-31,valid," for i, d in enumerate((D1, D2, D3), start=1)),
    *(f"{d},QC{i:04d},330200,2025-01-01,2028-12-31,valid," for i, d in enumerate((D4, D5), start=4)),
    f"{DC},QC0009,330100,2025-01-01,2028-12-31,cancelled,2026-10-10 12:00",
]
VEHICLE_CSV = [
    "车牌号,证号,发证地区,有效期起,有效期止,状态",
    *(f"{v},TC{i:04d},330100,2025-01-01,2028-12-31,有效" for i, v in enumerate((V1, V2, V3), start=1)),
    *(f"{v},TC{i:04d},330200,2025-01-01,2028-12-31,有效" for i, v in enumerate((V4, V5), start=4)),
    f"{VE},TC0009,330100,2024-10-16,2026-10-15,有效",
]


@dataclass
class Month:
    """The scenario: October 2026 (and September for month-on-month), three companies."""

    a: Uploader  # 杭州, 40 orders in October
    b: Uploader  # 宁波, 10 orders
    g: Uploader  # 杭州, an aggregator, 4 orders


def a_october_trips() -> list[Trip]:
    trips = [
        Trip(
            f"A2610{d:02d}OK",
            330106 if d % 2 else 330108,
            (D1, D2, D3)[d % 3],
            (V1, V2, V3)[d % 3],
            bj(2026, 10, d),
        )
        for d in range(1, 31)
    ]
    trips += [Trip(f"A2610{d:02d}DX", 330106, DX, V1, bj(2026, 10, d, 14)) for d in (3, 6, 9, 12, 15)]
    trips += [
        Trip("A261015VE", 330106, D1, VE, bj(2026, 10, 15, 23, 30)),  # last evening of validity: ok
        Trip("A261016VE", 330106, D1, VE, bj(2026, 10, 16, 0, 30)),  # 30 minutes after: expired
        Trip("A261025VE", 330106, D1, VE, bj(2026, 10, 25, 16)),
    ]
    trips += [Trip(f"A2610{d:02d}DC", 330108, DC, V2, bj(2026, 10, d, 18)) for d in (12, 20)]
    return trips


def build_month() -> Month:
    a = make_uploader(
        phone="13900000101", company_id="330106AAA0001", region="330106", body="91330106MA2H4K7A1"
    )
    b = make_uploader(
        phone="13900000102", company_id="330203BBB0001", region="330203", body="91330203MA2H4K7B1"
    )
    g = make_uploader(
        phone="13900000103", company_id="330106GGG0001", region="330106", body="91330106MA2H4K7G1"
    )
    for uploader, name, aggregator in ((a, "甲出行", False), (b, "乙出行", False), (g, "丙聚合", True)):
        platform_profile_set(
            company=uploader.company, display_name=name, is_aggregator=aggregator, actor=TEST
        )
    import_csv("driver", DRIVER_CSV)
    import_csv("vehicle", VEHICLE_CSV)
    upload_trips(
        a, a_october_trips() + [Trip(f"A2609{d:02d}OK", 330106, D1, V1, bj(2026, 9, d)) for d in range(1, 11)]
    )
    b_trips = [
        Trip(f"B2610{d:02d}OK", 330203, (D4, D5)[d % 2], (V4, V5)[d % 2], bj(2026, 10, d))
        for d in range(1, 9)
    ]
    b_trips += [Trip(f"B2610{d:02d}VX", 330203, D4, VX, bj(2026, 10, d, 15)) for d in (9, 10)]
    b_trips += [Trip(f"B2609{d:02d}OK", 330203, D5, V5, bj(2026, 9, d)) for d in range(1, 6)]
    b_trips += [Trip(f"B2609{d:02d}VX", 330203, D5, VX, bj(2026, 9, d, 15)) for d in range(1, 6)]
    upload_trips(b, b_trips)
    upload_trips(g, [Trip(f"G2610{d:02d}OK", 330105, D2, V3, bj(2026, 10, d, 20)) for d in (2, 4, 6, 8)])
    # Cancellations by party and complaints (October).
    upload(
        a,
        {
            "orderCancel": [
                cancel_record(a.company_id, "A261001C1", 330106, bj(2026, 10, 1, 9), "1"),
                cancel_record(a.company_id, "A261001C2", 330106, bj(2026, 10, 1, 9, 30), "1"),
                cancel_record(a.company_id, "A261002C3", 330106, bj(2026, 10, 2, 9), "2"),
                cancel_record(a.company_id, "A261003C4", 330106, bj(2026, 10, 3, 9), "3"),
            ],
            "ratedPassengerComplaint": [complaint_record(a.company_id, "A261005OK", bj(2026, 10, 5, 12))],
        },
    )
    upload(b, {"orderCancel": [cancel_record(b.company_id, "B261001C1", 330203, bj(2026, 10, 1, 9), "2")]})
    return Month(a=a, b=b, g=g)
