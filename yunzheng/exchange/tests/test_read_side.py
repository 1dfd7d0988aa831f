"""Regulators' pages and API, and companies reading their own statistics."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from yunzheng.accounts.tests.factories import staff, staff_client
from yunzheng.exchange.spec.samples import valid_record
from yunzheng.exchange.spec.validation import BEIJING

from .conftest import Uploader, make_uploader

T0 = datetime.now(BEIJING).replace(microsecond=0) - timedelta(hours=2)
ORDER = "YZ20261121TEST0001"


def _t(minutes: int) -> int:
    return int((T0 + timedelta(minutes=minutes)).strftime("%Y%m%d%H%M%S"))


def _upload_a_trip(u: Uploader) -> dict:
    cid = u.company_id
    vehicle = valid_record(
        "baseInfoVehicle", seed=1, CompanyId=cid, VehicleNo="浙AD10001", Flag=1, UpdateTime=_t(-60)
    )
    driver = valid_record(
        "baseInfoDriver",
        seed=1,
        CompanyId=cid,
        LicenseId="330106198506121234",
        DriverPhone="13812345678",
        DriverName="王小明",
        Flag=1,
        UpdateTime=_t(-60),
    )
    match: dict[str, Any] = {
        "LicenseId": "330106198506121234",
        "VehicleNo": "浙AD10001",
        "DriverPhone": "13812345678",
    }
    records = {
        "baseInfoVehicle": [vehicle],
        "baseInfoDriver": [driver],
        "orderCreate": [
            valid_record("orderCreate", CompanyId=cid, OrderId=ORDER, OrderTime=_t(0), DepartTime=_t(0))
        ],
        "orderMatch": [
            valid_record("orderMatch", CompanyId=cid, OrderId=ORDER, DistributeTime=_t(1), **match)
        ],
        "operateDepart": [
            valid_record(
                "operateDepart",
                CompanyId=cid,
                OrderId=ORDER,
                DepTime=_t(10),
                LicenseId=match["LicenseId"],
                VehicleNo="浙AD10001",
            )
        ],
        "operateArrive": [valid_record("operateArrive", CompanyId=cid, OrderId=ORDER, DestTime=_t(30))],
        "operatePay": [
            valid_record(
                "operatePay",
                CompanyId=cid,
                OrderId=ORDER,
                DepTime=_t(10),
                DestTime=_t(30),
                PayTime=_t(31),
                LicenseId=match["LicenseId"],
                VehicleNo="浙AD10001",
            )
        ],
        "positionVehicle": [
            valid_record(
                "positionVehicle",
                seed=m,
                CompanyId=cid,
                VehicleNo="浙AD10001",
                PositionTime=_t(m),
                OrderId=ORDER,
            )
            for m in range(0, 40, 5)
        ],
    }
    for interface, recs in records.items():
        assert u.post_json(interface, recs).status_code == 200
    u.post_json("positionVehicle", [valid_record("positionVehicle", CompanyId=cid, Longitude=1)])  # a reject
    return records


@pytest.mark.django_db
def test_city_staff_see_stats_base_data_and_the_order_story(uploader: Uploader) -> None:
    _upload_a_trip(uploader)
    client = staff_client(staff("hz-transport-ex", level="city", region="330100"))

    page = client.get("/exchange/staff/")
    assert page.status_code == 200
    html = page.content.decode()
    assert uploader.company.name in html
    assert "近 7 天" in html  # Chinese by default

    text = client.get(f"/exchange/staff/companies/{uploader.company_id}/").content.decode()
    assert "浙AD10001" in text
    assert "coordinate_range" in text
    assert "3301**********1234" in text
    assert "138****5678" in text
    assert "330106198506121234" not in text
    assert "13812345678" not in text

    text = client.get(f"/exchange/staff/orders/{uploader.company_id}/{ORDER}/").content.decode()
    assert "已支付" in text
    assert text.count("<tr>") >= 5
    # Coordinates are shown as degrees (6 decimals), never as the interface's integers x 10^6.
    cells = re.findall(r'<td class="num">([^<]*)</td>', text.split('data-testid="position-table"', 1)[1])
    assert cells
    assert all(re.fullmatch(r"-?\d{1,3}\.\d{6}°", c) for c in cells[0::3][:4] if c.endswith("°")), cells
    assert sum(c.endswith("°") for c in cells) >= 10, cells

    api = client.get(f"/api/v1/exchange/orders/{uploader.company_id}/{ORDER}")
    assert api.status_code == 200, api.content
    story = api.json()
    assert story["status"] == "paid"
    assert [e["interface"] for e in story["events"]] == [
        "orderCreate",
        "orderMatch",
        "operateDepart",
        "operateArrive",
        "operatePay",
    ]
    times = [p["time"] for p in story["positions"]]
    assert len(times) == 5  # minutes 10..30 of the trip
    assert times == sorted(times)
    assert story["events"][1]["record"]["LicenseId"] == "3301**********1234"

    drivers = client.get(f"/api/v1/exchange/companies/{uploader.company_id}/drivers").json()["items"]
    assert [(d["key"], d["record"]["DriverName"]) for d in drivers] == [("3301**********1234", "王**")]
    stats = {s["interface"]: s for s in client.get("/api/v1/exchange/stats").json()}
    assert stats["positionVehicle"]["accepted"] == 8
    assert stats["positionVehicle"]["rejected"] == 1
    rejects = client.get("/api/v1/exchange/rejects").json()
    assert rejects == [
        {"interface": "positionVehicle", "field": "Longitude", "code": "coordinate_range", "count": 1}
    ]


@pytest.mark.django_db
def test_staff_of_another_region_see_nothing(uploader: Uploader) -> None:
    _upload_a_trip(uploader)
    client = staff_client(staff("gd-transport-ex", level="province", region="440000"))
    assert uploader.company.name not in client.get("/exchange/staff/").content.decode()
    assert client.get(f"/exchange/staff/companies/{uploader.company_id}/").status_code == 404
    assert client.get(f"/api/v1/exchange/orders/{uploader.company_id}/{ORDER}").status_code == 404
    assert client.get("/api/v1/exchange/stats").json() == []


@pytest.mark.django_db
def test_companies_read_their_own_statistics_only(uploader: Uploader) -> None:
    _upload_a_trip(uploader)
    other = make_uploader(phone="13900000002", company_id="3301YZCX0002", body="91330106MA2H4K7Q2")
    own = Client(HTTP_AUTHORIZATION=f"Bearer {uploader.token}")
    stats = own.get("/api/v1/exchange/stats").json()
    assert {s["company_id"] for s in stats} == {uploader.company_id}
    assert own.get("/api/v1/exchange/rejects").json()[0]["code"] == "coordinate_range"
    theirs = Client(HTTP_AUTHORIZATION=f"Bearer {other.token}")
    assert theirs.get("/api/v1/exchange/stats").json() == []
    assert theirs.get(f"/api/v1/exchange/stats?company={uploader.company_id}").status_code == 404
    # base data and order stories are for regulators only
    assert own.get(f"/api/v1/exchange/orders/{uploader.company_id}/{ORDER}").status_code == 403
    assert Client().get("/api/v1/exchange/stats").status_code == 401


@pytest.mark.django_db
def test_pages_need_a_staff_login(uploader: Uploader) -> None:
    response = Client().get("/exchange/staff/")
    assert response.status_code == 302
    assert "/accounts/staff/login/" in response["Location"]
