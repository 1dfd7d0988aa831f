"""Traffic simulator: realistic ride-hailing activity in one city, as the 32 interfaces carry it.

(The package's ``__init__`` re-exports this module's public names; :mod:`.more` adds the records of
the interfaces beyond orders, trips and positions, so that every one of the 32 is fed.)

:func:`generate` turns a :class:`SimulationPlan` into a chronological stream of
``(interface type, record)``: base information first (company, fares, vehicles, drivers, their
apps, all with Flag=1), then drivers logging in, orders created, matched, cancelled by the
passenger, the driver or the platform, trips departing and arriving with vehicle and driver
positions every few seconds along a plausible path, payments with fares from distance and time,
ratings, and drivers logging out. Times are monotonic per order (create < match < depart <
arrive < pay) and end shortly before "now". ``days`` > 1 simulates that many consecutive days
ending at ``end`` (base information once, then each day's log-ins, ``orders`` orders - varying
a little from day to day, more at weekends - and log-outs), for demos with a history.

:func:`run` sends the stream through the real HTTP interface with :class:`ExchangeClient`.

``faults`` switches on deliberate defects, for conformance tests that must catch them:

* ``swapped_lat_lon`` - every 10th position has longitude and latitude swapped (rejected);
* ``zero_duration_trip`` - every 10th trip arrives at its departure time (valid per field rules);
* ``unix_epoch_time`` - PositionTime sent as unix seconds (accepted, normalised);
* ``unknown_driver`` - every 10th match names a driver absent from baseInfoDriver.

``incidents`` switches on one occurrence of each situation the real-time alarms watch for
(docs/adr/0060-alarms-real-time-rules.md), so a demo or a test sees every kind of alarm:

* ``sos`` - the first trip carrying passengers: its vehicle reports WarnStatus bit 0 (JT/T 808 emergency) for
  the middle third of the ride;
* ``fare_spike`` - the first paid trip is charged six times its fare;
* ``outside_city`` - the first order is created, matched and paid in another city (OnArea);
* ``unlicensed_driver`` - the first match names a driver no registry knows;
* ``out_of_city`` - an extra vehicle carries passengers 40 minutes outside the city's extent;
* ``long_drive`` - an extra vehicle drives 4 h 15 min without a stop;
* ``stale_feed`` - an extra vehicle in service (空驶) goes silent 40 minutes before the end;
* ``clustering`` - 25 extra vehicles gather within 100 m two minutes before the end.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from stdnum.cn import ric

from yunzheng.exchange.simulator import more
from yunzheng.exchange.spec.samples import valid_record
from yunzheng.exchange.spec.validation import BEIJING

FAULTS = frozenset({"swapped_lat_lon", "zero_duration_trip", "unix_epoch_time", "unknown_driver"})
INCIDENTS = frozenset(
    {
        "sos",
        "fare_spike",
        "outside_city",
        "unlicensed_driver",
        "out_of_city",
        "long_drive",
        "stale_feed",
        "clustering",
    }
)

Event = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class City:
    code: int
    name: str
    plate: str  # province abbreviation + city letter
    lon: tuple[int, int]  # degrees x 10^6, urban area
    lat: tuple[int, int]


CITIES: dict[int, City] = {
    330100: City(330100, "杭州市", "浙A", (120_050_000, 120_300_000), (30_180_000, 30_340_000)),
    330200: City(330200, "宁波市", "浙B", (121_480_000, 121_640_000), (29_820_000, 29_930_000)),
    110100: City(110100, "北京市", "京B", (116_250_000, 116_500_000), (39_820_000, 40_020_000)),
    310100: City(310100, "上海市", "沪A", (121_380_000, 121_580_000), (31_150_000, 31_300_000)),
    440300: City(440300, "深圳市", "粤B", (113_900_000, 114_150_000), (22_500_000, 22_620_000)),
}

#: Where the outside_city incident takes an order: a county of another city nearby.
NEIGHBOUR = {330100: 330302, 330200: 330602, 110100: 120101, 310100: 330106, 440300: 440103}

_PLACES = ("地铁站", "购物中心", "小区南门", "写字楼", "医院", "火车站", "公园", "大学东门")
_ROADS = ("文三路", "天目山路", "延安路", "解放路", "莫干山路", "庆春路", "江南大道", "滨盛路")


@dataclass(frozen=True)
class SimulationPlan:
    company_id: str
    city: int = 330100
    drivers: int = 20
    orders: int = 100
    cancel_share: float = 0.25
    seed: int = 1
    position_interval: int = 5  # seconds between positions of a moving vehicle
    faults: frozenset[str] = frozenset()
    end: datetime | None = None  # the simulated period ends here (default: now)
    incidents: frozenset[str] = frozenset()
    days: int = 1  # consecutive days ending at ``end``; ``orders`` is then a daily figure
    all_interfaces: bool = True  # also the records of .more (every one of the 32 interfaces)

    def __post_init__(self) -> None:
        unknown = set(self.faults) - FAULTS
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {sorted(FAULTS)}")
        unknown = set(self.incidents) - INCIDENTS
        if unknown:
            raise ValueError(f"unknown incidents {sorted(unknown)}; known: {sorted(INCIDENTS)}")
        if self.city not in CITIES:
            raise ValueError(f"no city profile for {self.city}; known: {sorted(CITIES)}")
        if self.drivers < 1 or self.orders < 0 or not 0 <= self.cancel_share <= 1:
            raise ValueError("drivers >= 1, orders >= 0, 0 <= cancel_share <= 1")
        if not 1 <= self.days <= 999:
            raise ValueError("1 <= days <= 999")


@dataclass
class _Driver:
    license_id: str
    phone: str
    name: str
    vehicle_no: str
    free_at: datetime
    lon: int
    lat: int
    trips: int = 0


@dataclass
class SimulationSummary:
    counts: dict[str, int] = field(default_factory=dict)
    orders_completed: int = 0
    orders_cancelled: int = 0


def _dt14(t: datetime) -> int:
    return int(t.astimezone(BEIJING).strftime("%Y%m%d%H%M%S"))


def _d8(t: datetime) -> int:
    return int(t.astimezone(BEIJING).strftime("%Y%m%d"))


def _km(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Great-circle distance of two micro-degree points."""
    lon1, lat1, lon2, lat2 = (math.radians(v / 1e6) for v in (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


class _Generator:
    def __init__(self, plan: SimulationPlan) -> None:
        self.plan = plan
        self.city = CITIES[plan.city]
        self.rng = random.Random(plan.seed)  # noqa: S311 - simulation, not security
        self.end = (plan.end or datetime.now(BEIJING)).astimezone(BEIJING).replace(microsecond=0)
        trips_per_driver = max(1, math.ceil(plan.orders / plan.drivers))
        self.window = timedelta(minutes=45 * trips_per_driver + 30)
        if plan.days > 1:  # a working day of 14 hours, so that daily volumes spread out
            self.window = max(self.window, timedelta(hours=14))
        self.start = self.end - timedelta(days=plan.days - 1) - self.window
        # The records of .more draw from their own generator: switching them on or off leaves the
        # orders, trips and positions of a seed unchanged.
        self.more_rng = random.Random(plan.seed * 7919 + 1)  # noqa: S311 - simulation
        self.volume_rng = random.Random(plan.seed * 7919 + 2)  # noqa: S311 - daily order counts
        self.completed: list[tuple[str, _Driver, datetime]] = []  # (order id, driver, paid at)
        self._order_no = 0
        self.events: list[tuple[datetime, int, Event]] = []
        self._seq = 0
        self.drivers: list[_Driver] = []
        self.summary = SimulationSummary()
        self._incidents_done: set[str] = set()

    def incident(self, name: str) -> bool:
        """True once for each switched-on incident (the first time it is asked)."""
        if name in self.plan.incidents and name not in self._incidents_done:
            self._incidents_done.add(name)
            return True
        return False

    # --- helpers ------------------------------------------------------------------------------

    def rec(
        self, interface: str, when: datetime, *, rng: random.Random | None = None, **values: Any
    ) -> dict[str, Any]:
        base = valid_record(interface, seed=(rng or self.rng).randrange(10**9), now=when)
        base["CompanyId"] = self.plan.company_id
        for name in ("Address", "OnArea", "DriverRegionCode", "VehicleRegionCode"):
            if name in base:
                base[name] = self.city.code
        base.pop("Reserved", None)
        base.update(values)
        return base

    def emit(self, when: datetime, interface: str, record: dict[str, Any]) -> None:
        self._seq += 1
        self.events.append((when, self._seq, (interface, record)))

    def point(self) -> tuple[int, int]:
        return self.rng.randint(*self.city.lon), self.rng.randint(*self.city.lat)

    def place(self) -> str:
        return (
            f"{self.city.name}{self.rng.choice(_ROADS)}{self.rng.randint(1, 300)}号{self.rng.choice(_PLACES)}"
        )

    def fault(self, name: str, every: int = 10) -> bool:
        return name in self.plan.faults and self.rng.randrange(every) == 0

    # --- base information ---------------------------------------------------------------------

    def base_information(self) -> Iterator[Event]:
        t = self.start - timedelta(days=1)
        up: dict[str, Any] = {"Flag": 1, "UpdateTime": _dt14(t)}
        yield "baseInfoCompany", self.rec("baseInfoCompany", t, **up)
        yield (
            "baseInfoCompanyStat",
            self.rec(
                "baseInfoCompanyStat", t, VehicleNum=self.plan.drivers, DriverNum=self.plan.drivers, **up
            ),
        )
        yield "baseInfoCompanyFare", self.rec("baseInfoCompanyFare", t, **up)
        for n in range(self.plan.drivers):
            birth = (
                f"{1965 + self.rng.randrange(35)}{self.rng.randint(1, 12):02d}{self.rng.randint(1, 28):02d}"
            )
            body = f"{self.city.code + 6}{birth}{self.rng.randrange(1000):03d}"
            license_id = body + ric.calc_check_digit(body)
            phone = f"1{self.rng.choice('3589')}{self.rng.randrange(10**9):09d}"
            suffix = f"{self.plan.seed % 10}{n:04d}"
            plate = f"{self.city.plate}{'DF'[n % 2]}{suffix}" if n % 3 else f"{self.city.plate}{suffix}"
            lon, lat = self.point()
            driver = _Driver(license_id, phone, "", plate, self.start, lon, lat)
            vehicle = self.rec("baseInfoVehicle", t, VehicleNo=plate, **up)
            person = self.rec(
                "baseInfoDriver",
                t,
                LicenseId=license_id,
                DriverPhone=phone,
                DriverBirthday=int(birth),
                **up,
            )
            driver.name = str(person.get("DriverName", ""))
            self.drivers.append(driver)
            yield "baseInfoVehicle", vehicle
            yield "baseInfoDriver", person
            yield (
                "baseInfoDriverApp",
                self.rec("baseInfoDriverApp", t, LicenseId=license_id, DriverPhone=phone, **up),
            )
        if self.plan.all_interfaces:
            yield from more.base_information(self, t, up)

    # --- activity -----------------------------------------------------------------------------

    def login(self, d: _Driver, when: datetime) -> None:
        self.emit(
            when,
            "operateLogin",
            self.rec(
                "operateLogin",
                when,
                LicenseId=d.license_id,
                VehicleNo=d.vehicle_no,
                LoginTime=_dt14(when),
                Longitude=d.lon,
                Latitude=d.lat,
            ),
        )

    def logout(self, d: _Driver, when: datetime) -> None:
        self.emit(
            when,
            "operateLogout",
            self.rec(
                "operateLogout",
                when,
                LicenseId=d.license_id,
                VehicleNo=d.vehicle_no,
                LogoutTime=_dt14(when),
                Longitude=d.lon,
                Latitude=d.lat,
            ),
        )

    def positions(
        self,
        d: _Driver,
        order_id: str,
        a: tuple[int, int],
        b: tuple[int, int],
        t0: datetime,
        t1: datetime,
        biz: int,
        sos: bool = False,
    ) -> None:
        """Positions every position_interval seconds from a to b (a slightly curved path)."""
        seconds = max(0, int((t1 - t0).total_seconds()))
        step = max(1, self.plan.position_interval)
        bend = self.rng.uniform(-0.15, 0.15)
        heading = int(math.degrees(math.atan2(b[0] - a[0], b[1] - a[1]))) % 360
        speed = int(_km(a, b) / max(seconds, 1) * 3600)
        for s in range(0, seconds + 1, step):
            f = s / seconds if seconds else 1.0
            lon = int(a[0] + (b[0] - a[0]) * f + (b[1] - a[1]) * bend * f * (1 - f))
            lat = int(a[1] + (b[1] - a[1]) * f - (b[0] - a[0]) * bend * f * (1 - f))
            when = t0 + timedelta(seconds=s)
            stamp: int = _dt14(when)
            if "unix_epoch_time" in self.plan.faults:
                stamp = int(when.timestamp())
            v_lon, v_lat = (lat, lon) if self.fault("swapped_lat_lon") else (lon, lat)
            common = {"PositionTime": stamp, "Speed": speed, "Direction": heading, "BizStatus": biz}
            warn = 1 if sos and 1 / 3 <= f <= 2 / 3 else 0
            self.emit(
                when,
                "positionVehicle",
                {
                    "CompanyId": self.plan.company_id,
                    "VehicleNo": d.vehicle_no,
                    "VehicleRegionCode": self.city.code,
                    "Longitude": v_lon,
                    "Latitude": v_lat,
                    "Encrypt": 1,
                    "OrderId": order_id,
                    "WarnStatus": warn,
                    **common,
                },
            )
            if s % (step * 2) == 0:  # the driver app reports half as often
                self.emit(
                    when,
                    "positionDriver",
                    {
                        "CompanyId": self.plan.company_id,
                        "LicenseId": d.license_id,
                        "DriverRegionCode": self.city.code,
                        "VehicleNo": d.vehicle_no,
                        "Longitude": lon,
                        "Latitude": lat,
                        "Encrypt": 1,
                        "OrderId": order_id,
                        **common,
                    },
                )
        d.lon, d.lat = b

    def order(self, n: int) -> None:
        plan, rng = self.plan, self.rng
        span = (self.end - self.start).total_seconds() - 40 * 60
        created = self.start + timedelta(seconds=10 * 60 + rng.uniform(0, max(span, 60)))
        created = created.replace(microsecond=0)
        order_id = f"{plan.company_id[:6]}{_d8(created)}{plan.seed % 100:02d}{n:06d}"
        origin, dest = self.point(), self.point()
        while _km(origin, dest) < 2.0:
            dest = self.point()
        book_depart = created + timedelta(minutes=rng.choice((0, 0, 0, 15)))
        # The outside_city incident: this order is taken in another city.
        region = NEIGHBOUR[self.city.code] if self.incident("outside_city") else self.city.code
        create = self.rec(
            "orderCreate",
            created,
            Address=region,
            OrderId=order_id,
            OrderTime=_dt14(created),
            DepartTime=_dt14(book_depart),
            Departure=self.place(),
            DepLongitude=origin[0],
            DepLatitude=origin[1],
            Destination=self.place(),
            DestLongitude=dest[0],
            DestLatitude=dest[1],
            Encrypt=1,
        )
        self.emit(created, "orderCreate", create)
        cancel = rng.random() < plan.cancel_share
        who = rng.choice(("1", "1", "2", "3")) if cancel else ""
        free = [d for d in self.drivers if d.free_at <= created]
        if cancel and (who == "3" or not free):  # the platform found no driver in time
            self.cancel(order_id, created, created + timedelta(seconds=rng.randint(60, 180)), "3", "3")
            return
        if not free:
            free = sorted(self.drivers, key=lambda d: d.free_at)[:1]
        d = min(free, key=lambda x: _km((x.lon, x.lat), origin))
        matched = max(created, d.free_at) + timedelta(seconds=rng.randint(5, 60))
        trip_estimate = timedelta(
            seconds=_km((d.lon, d.lat), origin) / 25 * 3600 + _km(origin, dest) / 15 * 3600
        )
        if matched + trip_estimate > self.end - timedelta(minutes=15):
            # Nobody could serve it within the simulated period: the platform cancels it.
            self.cancel(order_id, created, created + timedelta(seconds=rng.randint(60, 180)), "3", "3")
            return
        license_id = d.license_id
        if self.fault("unknown_driver") or self.incident("unlicensed_driver"):
            body = f"{self.city.code + 6}19800101{rng.randrange(1000):03d}"
            license_id = body + ric.calc_check_digit(body)
        self.emit(
            matched,
            "orderMatch",
            self.rec(
                "orderMatch",
                matched,
                Address=region,
                OrderId=order_id,
                LicenseId=license_id,
                DriverPhone=d.phone,
                VehicleNo=d.vehicle_no,
                DistributeTime=_dt14(matched),
                Longitude=d.lon,
                Latitude=d.lat,
                Encrypt=1,
            ),
        )
        pickup_seconds = int(_km((d.lon, d.lat), origin) / 25 * 3600) + rng.randint(60, 240)
        if cancel:
            when = matched + timedelta(seconds=rng.randint(20, max(30, pickup_seconds // 2)))
            code = {"1": rng.choice(("1", "4")), "2": rng.choice(("2", "5"))}[who]
            self.positions(d, order_id, (d.lon, d.lat), origin, matched, when, 2)
            self.cancel(order_id, created, when, who, code)
            d.free_at = when + timedelta(seconds=30)
            return
        arrived_pickup = matched + timedelta(seconds=pickup_seconds)
        self.positions(d, order_id, (d.lon, d.lat), origin, matched, arrived_pickup, 2)
        depart = arrived_pickup + timedelta(seconds=rng.randint(30, 240))
        km = _km(origin, dest) * 1.3
        drive = int(km / rng.uniform(18, 35) * 3600)
        if self.fault("zero_duration_trip"):
            drive = 0
        arrive = depart + timedelta(seconds=drive)
        self.emit(
            depart,
            "operateDepart",
            self.rec(
                "operateDepart",
                depart,
                OrderId=order_id,
                LicenseId=d.license_id,
                VehicleNo=d.vehicle_no,
                DepLongitude=origin[0],
                DepLatitude=origin[1],
                DepTime=_dt14(depart),
                Encrypt=1,
                WaitTime=int((depart - arrived_pickup).total_seconds()),
                WaitMile=0.0,
            ),
        )
        self.positions(d, order_id, origin, dest, depart, arrive, 1, sos=self.incident("sos"))
        self.emit(
            arrive,
            "operateArrive",
            self.rec(
                "operateArrive",
                arrive,
                OrderId=order_id,
                DestLongitude=dest[0],
                DestLatitude=dest[1],
                DestTime=_dt14(arrive),
                DriveMile=round(km, 2),
                DriveTime=drive,
                Encrypt=1,
            ),
        )
        fare = round(11.0 + max(0.0, km - 3.0) * 2.5 + drive / 60 * 0.5, 1)
        if self.incident("fare_spike"):
            fare = round(fare * 6, 1)
        paid = arrive + timedelta(seconds=rng.randint(20, 300))
        self.emit(
            paid,
            "operatePay",
            self.rec(
                "operatePay",
                paid,
                OnArea=region,
                OrderId=order_id,
                LicenseId=d.license_id,
                VehicleNo=d.vehicle_no,
                DriverName=d.name or "王师傅",
                BookDepTime=_dt14(book_depart),
                DepTime=_dt14(depart),
                DestTime=_dt14(arrive),
                DepLongitude=origin[0],
                DepLatitude=origin[1],
                DestLongitude=dest[0],
                DestLatitude=dest[1],
                DepArea=create["Departure"][:128],
                DestArea=create["Destination"][:128],
                DriveMile=round(km, 2),
                DriveTime=drive,
                WaitMile=0.0,
                FactPrice=fare,
                Price=fare,
                CashPrice=0.0,
                LinePrice=fare,
                PosPrice=0.0,
                BenfitPrice=0.0,
                BookTip=0.0,
                PassengerTip=0.0,
                PeakUpPrice=0.0,
                NightUpPrice=0.0,
                FarUpPrice=0.0,
                OtherUpPrice=0.0,
                PayState="1",
                PayTime=_dt14(paid),
                OrderMatchTime=_dt14(matched),
                InvoiceStatus="0",
            ),
        )
        if rng.random() < 0.7:
            rated = paid + timedelta(seconds=rng.randint(30, 600))
            score = rng.choice((5, 5, 5, 4, 4, 3, 2))
            self.emit(
                rated,
                "ratedPassenger",
                self.rec(
                    "ratedPassenger",
                    rated,
                    OrderId=order_id,
                    EvaluateTime=_dt14(rated),
                    ServiceScore=score,
                    DriverScore=score,
                    VehicleScore=min(5, score + 1),
                ),
            )
        d.trips += 1
        self.completed.append((order_id, d, paid))
        d.free_at = paid + timedelta(seconds=rng.randint(30, 300))
        self.summary.orders_completed += 1

    # --- incidents of extra vehicles (not in the driver pool) --------------------------------------

    def extra_position(self, plate: str, when: datetime, lon: int, lat: int, *, speed: int, biz: int) -> None:
        self.emit(
            when,
            "positionVehicle",
            {
                "CompanyId": self.plan.company_id,
                "VehicleNo": plate,
                "VehicleRegionCode": self.city.code,
                "PositionTime": _dt14(when),
                "Longitude": lon,
                "Latitude": lat,
                "Encrypt": 1,
                "OrderId": f"{plate[2:]}-{_d8(when)}",
                "Speed": speed,
                "Direction": 90,
                "BizStatus": biz,
                "WarnStatus": 0,
            },
        )

    def extra_incidents(self) -> None:
        c, end = self.city, self.end
        if self.incident("out_of_city"):
            # 1.5 degrees east of the urban area: outside the city's extent, still on land in China.
            lon, lat = c.lon[1] + 1_500_000, (c.lat[0] + c.lat[1]) // 2
            for k in range(0, 40 * 60 + 1, 30):
                self.extra_position(
                    f"{c.plate}X0001",
                    end - timedelta(minutes=60) + timedelta(seconds=k),
                    lon + k * 10,
                    lat,
                    speed=60,
                    biz=1,
                )
        if self.incident("long_drive"):
            lon, lat = self.point()
            for k in range(0, int(4.25 * 3600) + 1, 60):
                self.extra_position(
                    f"{c.plate}X0002",
                    end - timedelta(hours=4.25, minutes=5) + timedelta(seconds=k),
                    lon + (k // 60 % 40) * 500,
                    lat,
                    speed=35,
                    biz=1,
                )
        if self.incident("stale_feed"):
            lon, lat = self.point()
            for k in range(0, 20 * 60 + 1, 60):
                self.extra_position(
                    f"{c.plate}X0003",
                    end - timedelta(minutes=60) + timedelta(seconds=k),
                    lon,
                    lat + k * 5,
                    speed=20,
                    biz=3,
                )
        if self.incident("clustering"):
            lon, lat = self.point()
            for k in range(25):
                self.extra_position(
                    f"{c.plate}X{100 + k:04d}",
                    end - timedelta(minutes=2),
                    lon + (k % 5) * 150,
                    lat + (k // 5) * 150,
                    speed=0,
                    biz=3,
                )

    def cancel(self, order_id: str, created: datetime, when: datetime, operator: str, code: str) -> None:
        reasons = {"1": "乘客行程有变", "2": "驾驶员无法按时到达", "3": "附近暂无可用车辆"}
        self.emit(
            when,
            "orderCancel",
            self.rec(
                "orderCancel",
                when,
                OrderId=order_id,
                OrderTime=_dt14(created),
                CancelTime=_dt14(when),
                Operator=operator,
                CancelTypeCode=code,
                CancelReason=reasons[operator],
            ),
        )
        self.summary.orders_cancelled += 1

    def orders_on(self, day_end: datetime) -> int:
        """The day's order count: ``plan.orders`` give or take 20%, a fifth more at weekends."""
        if self.plan.days == 1:
            return self.plan.orders
        weekend = 1.2 if day_end.weekday() >= 5 else 1.0
        return max(0, round(self.plan.orders * weekend * self.volume_rng.uniform(0.8, 1.2)))

    def working_day(self, orders: int) -> None:
        for d in self.drivers:
            when = self.start + timedelta(seconds=self.rng.randint(0, 600))
            d.free_at = when
            self.login(d, when)
        for _n in range(orders):
            self.order(self._order_no)
            self._order_no += 1
        for d in self.drivers:
            when = min(self.end, max(d.free_at, self.end - timedelta(minutes=5)))
            self.logout(d, when)
        if self.plan.all_interfaces:
            more.day_activity(self)

    def activity(self) -> Iterator[Event]:
        final_end = self.end
        for k in range(self.plan.days):
            self.end = final_end - timedelta(days=self.plan.days - 1 - k)
            self.start = self.end - self.window
            self._order_no = k * 1000  # order numbers stay unique within a date
            self.working_day(self.orders_on(self.end))
        if self.plan.all_interfaces:
            more.final_activity(self)
        self.extra_incidents()
        self.events.sort(key=lambda e: (e[0], e[1]))
        for _when, _seq, event in self.events:
            yield event


def base_information(plan: SimulationPlan) -> list[Event]:
    """Only the plan's base information (cheap: no activity is simulated)."""
    return list(_Generator(plan).base_information())


def generate(plan: SimulationPlan, summary: SimulationSummary | None = None) -> Iterator[Event]:
    """The plan's records, base information first, then activity in time order."""
    gen = _Generator(plan)
    for event in (*gen.base_information(), *gen.activity()):
        if summary is not None:
            summary.counts[event[0]] = summary.counts.get(event[0], 0) + 1
        yield event
    if summary is not None:
        summary.orders_completed = gen.summary.orders_completed
        summary.orders_cancelled = gen.summary.orders_cancelled


@dataclass
class RunReport:
    sent: dict[str, int] = field(default_factory=dict)
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, int, list[dict[str, str]]]] = field(default_factory=list)
    summary: SimulationSummary = field(default_factory=SimulationSummary)


def run(
    plan: SimulationPlan,
    client: Any,
    *,
    batch_size: int = 500,
    on_batch: Callable[[str, int], None] | None = None,
) -> RunReport:
    """Send the plan through ``client`` (an ExchangeClient): records are buffered per interface
    and flushed in batches, in the order they happened; base information goes first."""
    report = RunReport()
    buffers: dict[str, list[dict[str, Any]]] = {}

    def flush(interface: str) -> None:
        records = buffers.pop(interface, [])
        if not records:
            return
        result = client.send(interface, records)
        report.sent[interface] = report.sent.get(interface, 0) + len(records)
        report.accepted += result.accepted
        report.duplicates += result.duplicates
        report.rejected += [(interface, r.index, r.errors) for r in result.rejected]
        if on_batch is not None:
            on_batch(interface, len(records))

    base_done = False
    for interface, record in generate(plan, report.summary):
        if not base_done and not interface.startswith("baseInfo"):
            for name in list(buffers):
                flush(name)
            base_done = True
        buffers.setdefault(interface, []).append(record)
        if len(buffers[interface]) >= batch_size:
            flush(interface)
    for name in list(buffers):
        flush(name)
    return report
