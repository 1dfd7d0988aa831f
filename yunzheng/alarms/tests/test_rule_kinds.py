"""Each built-in kind with records that must and must not raise; an incident opens once and
closes itself. Records go through the real exchange interface (HTTP, validation, storage)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from yunzheng.accounts.tests.factories import id_number
from yunzheng.alarms.models import Alarm
from yunzheng.alarms.periodic import alarms_tick
from yunzheng.alarms.tests.helpers import HZ_POINT, SH_POINT, alarms, bj, dt14, position, rule, send, track
from yunzheng.core.audit import Actor
from yunzheng.exchange.spec.samples import valid_record
from yunzheng.supervision.services import company_city_licence_set
from yunzheng.supervision.tests.builders import import_csv

D_OK = id_number(birth="19900101", sequence="011")
D_NO = id_number(birth="19910101", sequence="021")
V_OK = "浙A10001"


def _licences(*, also_d_no: bool = False) -> None:
    drivers = [f"{D_OK},QC0001,330100,2025-01-01,2028-12-31,valid,"]
    if also_d_no:
        drivers.append(f"{D_NO},QC0002,330100,2026-12-03,2028-12-31,valid,")
    import_csv(
        "driver",
        ["licence_id,certificate_no,region_code,valid_from,valid_until,status,status_changed_at", *drivers],
    )
    import_csv(
        "vehicle",
        ["车牌号,证号,发证地区,有效期起,有效期止,状态", f"{V_OK},TC0001,330100,2025-01-01,2028-12-31,有效"],
    )


def _match(
    company_id: str, order: str, driver: str, vehicle: str, hour: int, address: int = 330106
) -> dict[str, Any]:
    return valid_record(
        "orderMatch",
        seed=hash(order) % 1000,
        CompanyId=company_id,
        OrderId=order,
        Address=address,
        LicenseId=driver,
        VehicleNo=vehicle,
        DistributeTime=dt14(bj(hour)),
    )


def test_warn_status_bits_open_once_and_close_themselves(uploader: Any) -> None:
    rule("warn_status", params={"bits": [2, 14]}, severity="medium")  # fatigue alarm / warning
    cid = uploader.company_id
    send(
        uploader, "positionVehicle", [position(cid, bj(9, 0, s), warn=0b10) for s in range(0, 30, 5)]
    )  # overspeed only
    assert alarms() == []
    send(uploader, "positionVehicle", [position(cid, bj(9, 1, s), warn=0b100) for s in range(0, 30, 5)])
    (alarm,) = alarms("warn_status")
    assert (alarm.state == "open" and "疲劳" in alarm.detail) or "atigue" in alarm.detail
    assert len(alarm.track) == 6
    send(uploader, "positionVehicle", [position(cid, bj(9, 2, 0), warn=0)])
    alarm.refresh_from_db()
    assert alarm.state == "closed"
    assert alarm.closed_by is None
    assert alarm.condition_ended_at is not None
    send(uploader, "positionVehicle", [position(cid, bj(9, 3, 0), warn=1 << 14)])
    assert [a.state for a in alarms("warn_status")] == ["closed", "open"]  # a new incident


def test_out_of_city_while_carrying_for_more_than_n_minutes(uploader: Any) -> None:
    rule("out_of_city", params={"minutes": 10})
    cid = uploader.company_id
    # Outside but empty (空驶), and outside carrying for only 5 minutes: nothing.
    send(uploader, "positionVehicle", track(cid, bj(8), 20, point=SH_POINT, biz=3))
    send(uploader, "positionVehicle", track(cid, bj(8, 30), 5, point=SH_POINT, biz=1))
    send(uploader, "positionVehicle", [position(cid, bj(8, 36), point=HZ_POINT, biz=1)])
    assert alarms() == []
    # Outside carrying for 15 minutes: one alarm after 10.
    send(uploader, "positionVehicle", track(cid, bj(9), 15, point=SH_POINT, biz=1))
    (alarm,) = alarms("out_of_city")
    assert alarm.opened_at == bj(9, 10)
    assert alarm.state == "open"
    assert len(alarm.track) == 6  # minutes 10..15
    send(uploader, "positionVehicle", [position(cid, bj(9, 20), point=HZ_POINT, biz=1)])
    alarm.refresh_from_db()
    assert alarm.state == "closed"


def test_continuous_driving_without_a_break(uploader: Any) -> None:
    rule("continuous_driving", params={"hours": 1, "break_minutes": 10})
    cid = uploader.company_id
    # 50 minutes, a 12-minute stop, 50 minutes: never an hour without a break.
    send(uploader, "positionVehicle", track(cid, bj(6), 50, speed=40))
    send(uploader, "positionVehicle", track(cid, bj(6, 51), 12, speed=0))
    send(uploader, "positionVehicle", track(cid, bj(7, 4), 50, speed=40))
    assert alarms() == []
    # 70 minutes on: one alarm at the hour, closed by a 10-minute break.
    send(uploader, "positionVehicle", track(cid, bj(8, 10), 70, speed=40))  # 16 minutes after: a break
    (alarm,) = alarms("continuous_driving")
    assert alarm.opened_at == bj(9, 10)
    send(uploader, "positionVehicle", track(cid, bj(9, 21), 9, speed=0))
    alarm.refresh_from_db()
    assert alarm.state == "open"  # 9 minutes is not yet a break
    send(uploader, "positionVehicle", [position(cid, bj(9, 31), speed=0)])
    alarm.refresh_from_db()
    assert alarm.state == "closed"


def test_unlicensed_driver_or_vehicle_takes_an_order(uploader: Any) -> None:
    _licences()
    rule("unlicensed_order", severity="high")
    cid = uploader.company_id
    send(uploader, "orderMatch", [_match(cid, "O1", D_OK, V_OK, 9)])
    assert alarms() == []
    send(uploader, "orderMatch", [_match(cid, "O2", D_NO, V_OK, 10), _match(cid, "O3", D_NO, V_OK, 11)])
    (alarm,) = alarms("unlicensed_order")
    assert alarm.driver_display.startswith(D_NO[:4])
    assert "*" in alarm.driver_display
    assert D_NO not in str(alarm.evidence)
    assert len(alarm.evidence) == 2
    assert alarm.order_id == "O2"
    send(
        uploader, "orderMatch", [_match(cid, "O4", D_OK, "浙A99999", 12)]
    )  # unlicensed vehicle: its own incident
    assert sorted(a.subject.split(":")[0] for a in alarms("unlicensed_order")) == ["d", "v"]
    # The driver is licensed from the 3rd: his next order ends the incident.
    _licences(also_d_no=True)
    send(uploader, "orderMatch", [_match(cid, "O5", D_NO, V_OK, 13)])
    alarm.refresh_from_db()
    assert alarm.state == "closed"


def test_operating_outside_the_licensed_cities(uploader: Any) -> None:
    company_city_licence_set(
        company=uploader.company, city_code="330100", valid_from=date(2025, 1, 1), actor=Actor.system("t")
    )
    from yunzheng.alarms.tests.helpers import clerk

    ministry = clerk("ministry-rules", level="ministry", region="")
    rule("outside_licensed_cities", region="", user=ministry)
    cid = uploader.company_id
    send(uploader, "orderMatch", [_match(cid, "H1", D_OK, V_OK, 9, address=330106)])
    assert alarms() == []
    send(
        uploader,
        "orderMatch",
        [
            _match(cid, "S1", D_OK, V_OK, 10, address=310101),
            _match(cid, "S2", D_OK, V_OK, 11, address=310104),
        ],
    )
    (alarm,) = alarms("outside_licensed_cities")
    assert alarm.region_code == "310101"
    assert len(alarm.evidence) == 2
    company_city_licence_set(
        company=uploader.company, city_code="310100", valid_from=date(2026, 12, 1), actor=Actor.system("t")
    )
    send(uploader, "orderMatch", [_match(cid, "S3", D_OK, V_OK, 12, address=310101)])
    alarm.refresh_from_db()
    assert alarm.state == "closed"


def _pay(
    company_id: str, order: str, hour: int, price: float, km: float = 5.0, minutes: int = 15
) -> dict[str, Any]:
    dep = bj(hour)
    return valid_record(
        "operatePay",
        seed=hash(order) % 1000,
        CompanyId=company_id,
        OrderId=order,
        OnArea=330106,
        LicenseId=D_OK,
        VehicleNo=V_OK,
        DepTime=dt14(dep),
        DestTime=dt14(dep + timedelta(minutes=minutes)),
        BookDepTime=dt14(dep - timedelta(minutes=10)),
        PayTime=dt14(dep + timedelta(minutes=minutes + 2)),
        DriveMile=km,
        DriveTime=minutes * 60,
        FactPrice=price,
    )


def test_fare_outside_the_band(uploader: Any) -> None:
    rule("fare_band", params={"per_km_min": 1.5, "per_km_max": 8, "per_minute_max": 5})
    cid = uploader.company_id
    send(uploader, "operatePay", [_pay(cid, "F1", 9, 21.5), _pay(cid, "F2", 10, 38.0)])
    assert alarms() == []
    send(uploader, "operatePay", [_pay(cid, "F3", 11, 120.0), _pay(cid, "F4", 12, 2.0)])
    (alarm,) = alarms("fare_band")
    assert "24.00 yuan/km" in alarm.detail
    assert len(alarm.evidence) == 2
    send(uploader, "operatePay", [_pay(cid, "F5", 13, 20.0)])
    alarm.refresh_from_db()
    assert alarm.state == "closed"


def test_stale_feed_per_vehicle_and_per_platform(uploader: Any) -> None:
    vehicle_rule = rule("stale_feed", params={"minutes": 10})
    platform_rule = rule("stale_feed", params={"minutes": 30, "level": "platform"}, name="platform")
    cid = uploader.company_id
    send(uploader, "positionVehicle", [position(cid, bj(9, 0), plate="浙A00001", biz=1)])
    send(
        uploader, "positionVehicle", [position(cid, bj(9, 0), plate="浙A00002", biz=4)]
    )  # 停运: not in service
    send(uploader, "positionVehicle", [position(cid, bj(9, 8), plate="浙A00003", biz=3)])
    assert alarms_tick(now=bj(9, 15)).opened == 1
    (alarm,) = alarms("stale_feed")
    assert alarm.vehicle_no == "浙A00001"
    assert alarm.rule_id == vehicle_rule.pk
    alarms_tick(now=bj(9, 16))
    assert len(alarms("stale_feed")) == 1  # once per incident
    send(uploader, "positionVehicle", [position(cid, bj(9, 16), plate="浙A00001", biz=1)])
    alarms_tick(now=bj(9, 17))
    alarm.refresh_from_db()
    assert alarm.state == "closed"
    # The whole platform silent for 30 minutes.
    alarms_tick(now=bj(9, 50))
    assert [a.subject for a in alarms("stale_feed", rule_id=platform_rule.pk)] == [f"p:{uploader.company.pk}"]


def test_clustering_in_grid_cells(uploader: Any) -> None:
    rule("clustering", params={"cell_m": 300, "vehicles": 5, "window_minutes": 5})
    cid = uploader.company_id
    lon, lat = HZ_POINT
    spread = [position(cid, bj(9, 0), plate=f"浙A2000{i}", point=(lon + i * 10_000, lat)) for i in range(4)]
    send(uploader, "positionVehicle", spread)
    assert alarms_tick(now=bj(9, 1)).opened == 0
    crowd = [
        position(cid, bj(9, 1), plate=f"浙A3000{i}", point=(lon + 50_000 + i * 50, lat + 100))
        for i in range(6)
    ]
    send(uploader, "positionVehicle", crowd)
    alarms_tick(now=bj(9, 2))
    alarms_tick(now=bj(9, 3))
    (alarm,) = alarms("clustering")
    assert "6 vehicles" in alarm.detail
    assert alarm.company_id == uploader.company.pk
    # They drive off in different directions: the cell empties, the alarm closes itself.
    send(
        uploader,
        "positionVehicle",
        [position(cid, bj(9, 4), plate=f"浙A3000{i}", point=(lon + i * 20_000, lat)) for i in range(6)],
    )
    alarms_tick(now=bj(9, 5))
    alarm.refresh_from_db()
    assert alarm.state == "closed"


def test_schedule_limits_when_a_rule_applies(uploader: Any) -> None:
    rule(
        "warn_status",
        params={"bits": [0]},
        schedule={"days": [1, 2, 3, 4, 5, 6, 7], "hours": [[22, 24], [0, 6]]},
    )
    cid = uploader.company_id
    send(uploader, "positionVehicle", [position(cid, bj(10), warn=1)])  # 10:00: outside the schedule
    assert alarms() == []
    send(uploader, "positionVehicle", [position(cid, bj(23), warn=1)])
    assert len(alarms()) == 1


def test_rules_of_another_region_do_not_apply(uploader: Any) -> None:
    from yunzheng.alarms.tests.helpers import clerk

    rule("warn_status", params={"bits": [0]}, region="330200", user=clerk("nb-rules", region="330200"))
    send(uploader, "positionVehicle", [position(uploader.company_id, bj(10), warn=1)])  # a 杭州 vehicle
    assert not Alarm.objects.exists()
