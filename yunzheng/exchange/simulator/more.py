"""The simulator's records of the interfaces beyond orders, trips and positions.

With them the simulator feeds every one of the 32 interfaces (a company can pass the
connectivity test with it): the company's payment, service-office and permit information, a few
registered passengers, each vehicle's insurance and mileage, each driver's training, monthly
statistics and reputation, one driver's penalty, passenger complaints about some completed
orders, and one carpool (私人小客车合乘) trip a day - route, order and payment.

Every record names what the simulation really has (its drivers, vehicles and completed orders)
and draws from the generator's own ``more_rng``, so the orders, trips and positions of a seed do
not change when these records are switched off (``SimulationPlan.all_interfaces``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from yunzheng.exchange.simulator.core import Event, _Generator

#: One completed order in this many draws a passenger complaint (the first one always does).
COMPLAINT_EVERY = 25
_COMPLAINTS = ("司机绕路，多收费用", "车内有异味，空调未开", "司机服务态度差", "未按约定地点上车")
_PUNISHMENTS = (("未按规定路线行驶", "警告并暂停接单3天"), ("服务态度恶劣被投诉", "暂停接单7天并重新培训"))


def _dt14(t: datetime) -> int:
    from yunzheng.exchange.simulator.core import _dt14 as dt14

    return dt14(t)


def _phone(g: _Generator) -> str:
    return f"1{g.more_rng.choice('3589')}{g.more_rng.randrange(10**9):09d}"


def _point(g: _Generator) -> tuple[int, int]:
    return g.more_rng.randint(*g.city.lon), g.more_rng.randint(*g.city.lat)


def _place(g: _Generator) -> str:
    from yunzheng.exchange.simulator.core import _PLACES, _ROADS

    rng = g.more_rng
    return f"{g.city.name}{rng.choice(_ROADS)}{rng.randint(1, 300)}号{rng.choice(_PLACES)}"


def base_information(g: _Generator, t: datetime, up: dict[str, Any]) -> Iterator[Event]:
    """Company details, passengers, and the vehicles' and drivers' further base information."""
    rng = g.more_rng
    for interface in ("baseInfoCompanyPay", "baseInfoCompanyService", "baseInfoCompanyPermit"):
        yield interface, g.rec(interface, t, rng=rng, **up)
    yield "shareCompany", g.rec("shareCompany", t, rng=rng, **up)
    for _n in range(3):
        yield "baseInfoPassenger", g.rec("baseInfoPassenger", t, rng=rng, PassengerPhone=_phone(g), **up)
    for d in g.drivers:
        yield (
            "baseInfoVehicleInsurance",
            g.rec("baseInfoVehicleInsurance", t, rng=rng, VehicleNo=d.vehicle_no, **up),
        )
        mileage = round(rng.uniform(5_000, 120_000), 1)
        yield (
            "baseInfoVehicleTotalMile",
            g.rec("baseInfoVehicleTotalMile", t, rng=rng, VehicleNo=d.vehicle_no, TotalMile=mileage, **up),
        )
        yield (
            "baseInfoDriverEducate",
            g.rec("baseInfoDriverEducate", t, rng=rng, LicenseId=d.license_id, **up),
        )


def day_activity(g: _Generator) -> None:
    """The day's carpool trip (route, order, payment), by the day's first driver who is free."""
    rng = g.more_rng
    d = g.drivers[rng.randrange(len(g.drivers))]
    when = g.end - timedelta(minutes=rng.randint(20, 90))
    (dep_lon, dep_lat), (dest_lon, dest_lat) = _point(g), _point(g)
    route_id = f"RT{g.plan.company_id[:6]}{_dt14(when)}{g.plan.seed % 100:02d}"
    order_id = f"SH{g.plan.company_id[:6]}{_dt14(when)}{g.plan.seed % 100:02d}"
    places = {
        "Departure": _place(g),
        "DepLongitude": dep_lon,
        "DepLatitude": dep_lat,
        "Destination": _place(g),
        "DestLongitude": dest_lon,
        "DestLatitude": dest_lat,
    }
    driver = {"LicenseId": d.license_id, "VehicleNo": d.vehicle_no, "DriverPhone": d.phone}
    route = g.rec(
        "shareRoute", when, rng=rng, RouteId=route_id, DriverName=d.name or "王师傅", **driver, **places
    )
    g.emit(when - timedelta(minutes=45), "shareRoute", route)
    order = g.rec("shareOrder", when, rng=rng, RouteId=route_id, OrderId=order_id, **places)
    g.emit(when - timedelta(minutes=39), "shareOrder", order)
    pay = g.rec("sharePay", when, rng=rng, RouteId=route_id, OrderId=order_id, **driver, **places)
    g.emit(when - timedelta(minutes=3), "sharePay", pay)


def final_activity(g: _Generator) -> None:
    """Complaints about some completed orders; each driver's statistics of the month and
    reputation; one driver's penalty."""
    rng = g.more_rng
    for n, (order_id, _driver, paid) in enumerate(g.completed):
        if n and rng.randrange(COMPLAINT_EVERY):
            continue
        when = min(g.end, paid + timedelta(minutes=rng.randint(10, 600)))
        complaint = g.rec(
            "ratedPassengerComplaint",
            when,
            rng=rng,
            OrderId=order_id,
            ComplaintTime=_dt14(when),
            Detail=rng.choice(_COMPLAINTS),
        )
        g.emit(when, "ratedPassengerComplaint", complaint)
    end = g.end
    up: dict[str, Any] = {"Flag": 1, "UpdateTime": _dt14(end)}
    for d in g.drivers:
        stat = g.rec("baseInfoDriverStat", end, rng=rng, LicenseId=d.license_id, OrderCount=d.trips, **up)
        g.emit(end, "baseInfoDriverStat", stat)
        g.emit(end, "ratedDriver", g.rec("ratedDriver", end, rng=rng, LicenseId=d.license_id))
    first = g.drivers[0]
    reason, result = _PUNISHMENTS[rng.randrange(len(_PUNISHMENTS))]
    when = end - timedelta(days=1)
    punish = g.rec(
        "ratedDriverPunish",
        when,
        rng=rng,
        LicenseId=first.license_id,
        PunishTime=_dt14(when),
        PunishReason=reason,
        PunishResult=result,
    )
    g.emit(when, "ratedDriverPunish", punish)
