"""Consistency grading (符合性测试): checks over the records a company uploaded in one test cycle.

:class:`Grader` is pure Python: feed it the cycle's records (``add_position`` for the two position
interfaces, ``add_record`` for every other accepted record, ``add_rejected`` for rejected ones)
and ask for :meth:`Grader.report`. Per-record checks (upload lag, 1970 timestamps, swapped
coordinates) run while records stream in; per-order checks run at the end over dictionaries keyed
by OrderId and by plate, so grading is a few sequential reads plus linear work - no query per
order. :func:`grade_cycle` streams a stored cycle from the database into a Grader.

Every check has a stable code, counts what it looked at (``checked``) and what failed
(``failed``), and keeps up to ``Thresholds.examples`` examples, each ``{"reason", "params"}``
(rendered in the reader's language by :mod:`.texts`). Personal data (licence = ID numbers) is masked
in examples.
"""

from __future__ import annotations

import calendar
import dataclasses
import gc
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from yunzheng.exchange.spec import FieldKind, Spec, get_spec
from yunzheng.exchange.spec.loader import LATITUDE_RANGE, LONGITUDE_RANGE

Record = dict[str, Any]

#: The checks, in report order. Codes are stable: reports and tests refer to them.
CHECK_CODES: tuple[str, ...] = (
    "volume",
    "order_sequence",
    "ids_consistent",
    "positions_agree",
    "fare_plausible",
    "zero_duration",
    "sub_kilometre_paid",
    "epoch_timestamps",
    "swapped_lat_lon",
    "unknown_driver",
    "unknown_vehicle",
    "upload_lag",
)

# Slots of an order's records.
CREATE, MATCH, CANCEL, DEPART, ARRIVE, PAY = range(6)
_ORDER_SLOTS = {
    "orderCreate": CREATE,
    "orderMatch": MATCH,
    "orderCancel": CANCEL,
    "operateDepart": DEPART,
    "operateArrive": ARRIVE,
    "operatePay": PAY,
}
CANCEL_PARTIES = ("1", "2", "3")  # passenger, driver, platform (code table CancelOperator)

#: Where each check comes from. ``documented``: the ministry's published test rule (at least 750
#: orders and 200 cancellations). ``spec``: a rule of the interface specification (event order,
#: identifiers, field meanings). ``yunzheng``: yunzheng's own data-quality checks with thresholds
#: that no published document sets; each campaign decides whether they count
#: (:attr:`Thresholds.quality_modes`) and with which limits.
CHECK_SOURCES: dict[str, str] = {
    "volume": "documented",
    "order_sequence": "spec",
    "ids_consistent": "spec",
    "positions_agree": "yunzheng",
    "fare_plausible": "yunzheng",
    "zero_duration": "yunzheng",
    "sub_kilometre_paid": "yunzheng",
    "epoch_timestamps": "spec",
    "swapped_lat_lon": "spec",
    "unknown_driver": "spec",
    "unknown_vehicle": "spec",
    "upload_lag": "yunzheng",
}
QUALITY_CHECKS: tuple[str, ...] = tuple(c for c in CHECK_CODES if CHECK_SOURCES[c] == "yunzheng")

#: How a campaign treats one of yunzheng's own quality checks.
QUALITY_MODES = ("graded", "advisory", "off")  # counts for the result / reported only / not run
#: Readings of the documented volume rule: ``paid`` - 750 orders that were completed and paid
#: (yunzheng's default reading); ``all`` - 750 orders of any outcome (created orders).
VOLUME_BASES = ("paid", "all")
DEFAULT_VOLUME_BASIS = "paid"


@dataclass(frozen=True)
class Thresholds:
    """Grading limits; a campaign keeps the values it was created with (``Campaign.thresholds``)."""

    min_orders: int = 750  # completed (paid) orders
    min_cancellations: int = 200  # cancelled orders, by passenger, driver and platform
    max_upload_lag_seconds: int = 60
    max_clock_skew_seconds: int = 300  # an event "from the future" beyond this is a clock error
    position_window_seconds: int = 60
    position_tolerance_meters: int = 500
    min_paid_km: float = 1.0
    min_trip_seconds: int = 60
    fare_per_km_min: float = 1.0
    fare_per_km_max: float = 30.0
    max_average_speed_kmh: float = 150.0
    earliest_year: int = 2000
    examples: int = 10
    # The documented rule's reading: which orders count towards ``min_orders`` (VOLUME_BASES).
    volume_basis: str = DEFAULT_VOLUME_BASIS
    # check code -> QUALITY_MODES value, for yunzheng's own checks; missing means "graded".
    quality_modes: dict[str, str] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Thresholds:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def mode(self, code: str) -> str:
        """``graded`` for documented and specification checks; the campaign's mode for ours."""
        if CHECK_SOURCES.get(code) != "yunzheng":
            return "graded"
        return self.quality_modes.get(code, "graded")


class CheckResult:
    """Counts and examples of one check."""

    __slots__ = ("cap", "checked", "code", "examples", "failed", "graded", "mode")

    def __init__(self, code: str, cap: int, *, graded: bool = True, mode: str = "graded") -> None:
        self.code = code
        self.cap = cap
        self.checked = 0
        self.failed = 0
        self.examples: list[dict[str, Any]] = []
        self.graded = graded
        self.mode = mode

    def fail(self, reason: str, **params: Any) -> None:
        self.failed += 1
        if len(self.examples) < self.cap:
            self.examples.append({"reason": reason, "params": params})

    @property
    def status(self) -> str:
        if self.mode == "off":
            return "off"
        if not self.graded:
            return "not_graded"
        return "fail" if self.failed else "pass"

    @property
    def counts(self) -> bool:
        """Whether the check decides the cycle's result (advisory and switched-off checks do not)."""
        return self.graded and self.mode == "graded"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "source": CHECK_SOURCES.get(self.code, "spec"),
            "mode": self.mode,
            "counts": self.counts,
            "status": self.status,
            "checked": self.checked,
            "failed": self.failed,
            "examples": self.examples,
        }


_DAY_EPOCH: dict[int, int] = {}


def dt14_epoch(v: int) -> int:
    """YYYYMMDDhhmmss (Beijing time, already validated) -> unix seconds."""
    d8, hms = divmod(v, 1_000_000)
    e = _DAY_EPOCH.get(d8)
    if e is None:
        y, md = divmod(d8, 10000)
        m, d = divmod(md, 100)
        e = _DAY_EPOCH[d8] = calendar.timegm((y, m, d, 0, 0, 0)) - 8 * 3600
    h, ms = divmod(hms, 10_000)
    mi, s = divmod(ms, 100)
    return e + h * 3600 + mi * 60 + s


def mask_licence(value: str) -> str:
    """Licence numbers are ID numbers: first 4 and last 4 shown; stored ones are keyed hashes
    (the sandbox keeps no plaintext), shown as a short reference."""
    if len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return f"#{value[:8]}"
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def distance_m(lon1: int, lat1: int, lon2: int, lat2: int) -> float:
    """Distance of two micro-degree points (equirectangular; exact enough below tens of km)."""
    lat = math.radians((lat1 + lat2) / 2e6)
    dx = (lon2 - lon1) * 1e-6 * 111_320.0 * math.cos(lat)
    dy = (lat2 - lat1) * 1e-6 * 110_574.0
    return math.hypot(dx, dy)


@dataclass(frozen=True)
class _InterfacePlan:
    type: str
    slot: int | None
    lag: bool  # real-time interface: upload lag graded
    datetime_fields: tuple[str, ...]
    coordinate_pairs: tuple[tuple[str, str], ...]


def _plans(spec: Spec) -> dict[int, _InterfacePlan]:
    plans: dict[int, _InterfacePlan] = {}
    for iface in spec.interfaces.values():
        dts = tuple(f.name for f in iface.fields if f.kind in (FieldKind.DATETIME, FieldKind.TIMESTAMP))
        lons = [
            f.name for f in iface.fields if f.coordinate is not None and f.coordinate.value == "longitude"
        ]
        pairs = tuple(
            (lon, lon.replace("Longitude", "Latitude"))
            for lon in lons
            if lon.replace("Longitude", "Latitude") in iface.field_map
        )
        plans[iface.ipc_type_code] = _InterfacePlan(
            type=iface.type,
            slot=_ORDER_SLOTS.get(iface.type),
            lag=iface.category in ("order", "operate", "position"),
            datetime_fields=dts,
            coordinate_pairs=pairs,
        )
    return plans


def _looks_swapped(lon: Any, lat: Any) -> bool:
    return (
        type(lon) is int
        and type(lat) is int
        and LATITUDE_RANGE[0] <= lon <= LATITUDE_RANGE[1]
        and LONGITUDE_RANGE[0] <= lat <= LONGITUDE_RANGE[1]
    )


class Grader:
    """Accumulates one cycle's records and grades them. Not thread-safe; one per grading."""

    def __init__(
        self, thresholds: Thresholds | None = None, *, spec: Spec | None = None, replay: bool = False
    ):
        self.t = thresholds or Thresholds()
        self.spec = spec or get_spec()
        self.replay = replay
        self._plans = _plans(self.spec)
        cap = self.t.examples
        self.checks = {code: CheckResult(code, cap, mode=self.t.mode(code)) for code in CHECK_CODES}
        if replay:
            self.checks["upload_lag"].graded = False
        self.orders: dict[str, list[Record | None]] = {}
        self._order_pks: dict[str, list[int]] = {}
        self.tracks: dict[str, list[tuple[int, int, int]]] = {}
        self._base: dict[tuple[str, str], tuple[int, int]] = {}  # (kind, key) -> (UpdateTime, Flag)
        self.records = 0
        self.positions = 0
        self.rejected: Counter[str] = Counter()
        self._min_dt14 = self.t.earliest_year * 10**10
        self._min_epoch = calendar.timegm((self.t.earliest_year, 1, 1, 0, 0, 0)) - 8 * 3600

    # --- streaming input ----------------------------------------------------------------------

    def add_position(
        self, interface: int, vehicle_no: str, epoch: int, lon: int, lat: int, received: int
    ) -> None:
        """An accepted positionVehicle / positionDriver record (typed columns)."""
        self.add_positions([(interface, vehicle_no, epoch, lon, lat, received)])

    def add_positions(self, rows: Iterable[tuple[int, str, int, int, int, int]]) -> None:
        """Accepted positions as ``(interface, plate, event epoch, lon, lat, received epoch)``.

        The hot loop of a large cycle (a million positions), so the per-record checks are inlined.
        Swapped coordinates are not looked for: the validator rejects them (see add_rejected).
        """
        tracks = self.tracks
        plans = self._plans
        lag_check = self.checks["upload_lag"]
        epoch_check = self.checks["epoch_timestamps"]
        max_lag = self.t.max_upload_lag_seconds
        max_skew = -self.t.max_clock_skew_seconds
        min_epoch = self._min_epoch
        count = 0
        for interface, vehicle_no, epoch, lon, lat, received in rows:
            count += 1
            track = tracks.get(vehicle_no)
            if track is None:
                track = tracks[vehicle_no] = []
            track.append((epoch, lon, lat))
            lag = received - epoch
            if lag > max_lag:
                lag_check.fail("late", interface=plans[interface].type, key=vehicle_no, seconds=lag)
            elif lag < max_skew:
                lag_check.fail("future", interface=plans[interface].type, key=vehicle_no, seconds=-lag)
            if epoch < min_epoch:
                epoch_check.fail(
                    "before_year",
                    interface=plans[interface].type,
                    field="PositionTime",
                    key=vehicle_no,
                    value=epoch,
                )
        self.records += count
        self.positions += count
        lag_check.checked += count
        epoch_check.checked += count
        self.checks["swapped_lat_lon"].checked += count

    def add_record(
        self, interface: int, record: Record, epoch: int | None, received: int, pk: int = 0
    ) -> None:
        """Any other accepted record (normalised, as stored). Of two records of the same kind for one
        order (a corrected re-send with another event time), the later stored one (higher ``pk``)
        counts."""
        plan = self._plans.get(interface)
        if plan is None:
            return
        self.records += 1
        order_id = record.get("OrderId")
        slot = plan.slot
        if slot is not None and type(order_id) is str:
            slots = self.orders.get(order_id)
            if slots is None:
                slots = self.orders[order_id] = [None] * 6
                self._order_pks[order_id] = [0] * 6
            pks = self._order_pks[order_id]
            if slots[slot] is None or pk >= pks[slot]:
                slots[slot] = record
                pks[slot] = pk
        elif plan.type in ("baseInfoDriver", "baseInfoVehicle"):
            kind, key_field = (
                ("driver", "LicenseId") if plan.type == "baseInfoDriver" else ("vehicle", "VehicleNo")
            )
            base_key = (kind, str(record.get(key_field)))
            version = (int(record.get("UpdateTime") or 0), int(record.get("Flag") or 1))
            previous = self._base.get(base_key)
            if previous is None or version[0] >= previous[0]:
                self._base[base_key] = version
        key = order_id if type(order_id) is str else plan.type
        if plan.lag and epoch is not None:
            lag_check = self.checks["upload_lag"]
            lag_check.checked += 1
            lag = received - epoch
            if lag > self.t.max_upload_lag_seconds:
                lag_check.fail("late", interface=plan.type, key=key, seconds=lag)
            elif -lag > self.t.max_clock_skew_seconds:
                lag_check.fail("future", interface=plan.type, key=key, seconds=-lag)
        if plan.datetime_fields:
            check = self.checks["epoch_timestamps"]
            minimum = self._min_dt14
            for name in plan.datetime_fields:
                v = record.get(name)
                if type(v) is int:
                    check.checked += 1
                    if v < minimum:
                        check.fail("before_year", interface=plan.type, field=name, key=key, value=v)
        if plan.coordinate_pairs:
            # accepted coordinates are within China's ranges, so never swapped: count them only
            self.checks["swapped_lat_lon"].checked += sum(
                1 for lon, _ in plan.coordinate_pairs if lon in record
            )

    def add_rejected(self, interface: int, record: Record) -> None:
        """A rejected record, as sent: only swapped coordinates are graded from it."""
        plan = self._plans.get(interface)
        if plan is None:
            return
        self.rejected[plan.type] += 1
        order_id = record.get("OrderId")
        key = order_id if type(order_id) is str else str(record.get("VehicleNo") or plan.type)
        self._swapped(plan, record, key, accepted=False)

    def _swapped(self, plan: _InterfacePlan, record: Record, key: str, *, accepted: bool) -> None:
        if not plan.coordinate_pairs:
            return
        check = self.checks["swapped_lat_lon"]
        for lon_name, lat_name in plan.coordinate_pairs:
            lon, lat = record.get(lon_name), record.get(lat_name)
            if lon is None and lat is None:
                continue
            check.checked += 1
            if _looks_swapped(lon, lat):
                check.fail("swapped", interface=plan.type, key=key, field=lon_name, lon=lon, lat=lat)

    # --- per-order checks -----------------------------------------------------------------------

    def _known(self, kind: str) -> set[str]:
        return {key for (k, key), (_, flag) in self._base.items() if k == kind and flag != 3}

    def _nearest(self, vehicle: str, epoch: int) -> tuple[int, int, int] | None:
        track = self.tracks.get(vehicle)
        if not track:
            return None
        i = bisect_left(track, (epoch, -(2**62), -(2**62)))
        best = None
        for j in (i - 1, i):
            if 0 <= j < len(track) and (best is None or abs(track[j][0] - epoch) < abs(best[0] - epoch)):
                best = track[j]
        if best is None or abs(best[0] - epoch) > self.t.position_window_seconds:
            return None
        return best

    def report(self) -> dict[str, Any]:
        t = self.t
        for track in self.tracks.values():
            track.sort()
        known_drivers = self._known("driver")
        known_vehicles = self._known("vehicle")
        c = self.checks
        sequence, ids, agree = c["order_sequence"], c["ids_consistent"], c["positions_agree"]
        fare, zero, subkm = c["fare_plausible"], c["zero_duration"], c["sub_kilometre_paid"]
        drivers, vehicles = c["unknown_driver"], c["unknown_vehicle"]
        completed = cancelled = incomplete = incomplete_without_create = 0
        parties: Counter[str] = Counter()

        for order_id in sorted(self.orders):
            slots = self.orders[order_id]
            cr, ma, ca, de, ar, pa = slots
            if ca is not None:
                cancelled += 1
                parties[str(ca.get("Operator"))] += 1
            if pa is not None and cr is not None:
                completed += 1
            elif ca is None:
                incomplete += 1
            if cr is None:
                incomplete_without_create += 1

            # order_sequence: each event has its predecessor, in time order; cancelled means not served
            sequence.checked += 1
            problem = _sequence_problem(cr, ma, ca, de, ar, pa)
            if problem is not None:
                sequence.fail(problem[0], order_id=order_id, **problem[1])

            # ids_consistent: one driver, one vehicle, the same times and figures everywhere
            compared, mismatch = _ids_problem(cr, ma, ca, de, ar, pa)
            if compared:
                ids.checked += 1
                if mismatch is not None:
                    ids.fail(mismatch[0], order_id=order_id, **mismatch[1])

            vehicle = next(
                (str(r["VehicleNo"]) for r in (de, pa, ma) if r is not None and "VehicleNo" in r), ""
            )
            # positions_agree: departure and arrival where the position stream has the vehicle
            events = []
            if de is not None:
                events.append(("departure", de.get("DepTime"), de.get("DepLongitude"), de.get("DepLatitude")))
            if ar is not None:
                events.append(
                    ("arrival", ar.get("DestTime"), ar.get("DestLongitude"), ar.get("DestLatitude"))
                )
            if events:
                agree.checked += 1
                for event, when, lon, lat in events:
                    if type(when) is not int or type(lon) is not int or type(lat) is not int:
                        continue
                    epoch = dt14_epoch(when)
                    point = self._nearest(vehicle, epoch)
                    if point is None:
                        agree.fail(
                            "no_position",
                            order_id=order_id,
                            event=event,
                            vehicle=vehicle,
                            time=when,
                            window=t.position_window_seconds,
                        )
                        break
                    meters = distance_m(lon, lat, point[1], point[2])
                    if meters > t.position_tolerance_meters:
                        agree.fail(
                            "too_far",
                            order_id=order_id,
                            event=event,
                            vehicle=vehicle,
                            time=when,
                            meters=round(meters),
                            seconds=abs(point[0] - epoch),
                        )
                        break

            if pa is not None:
                km = _number(pa.get("DriveMile"))
                price = _number(pa.get("FactPrice"))
                trip = ar if ar is not None else pa
                drive_time = trip.get("DriveTime")
                # zero_duration: a paid trip that took no time
                zero.checked += 1
                span = _span(de if de is not None else pa, trip)
                if drive_time == 0 or (span is not None and 0 <= span < t.min_trip_seconds):
                    zero.fail("zero_duration", order_id=order_id, seconds=span, drive_time=drive_time)
                # sub_kilometre_paid: paid for less than a kilometre
                subkm.checked += 1
                if km is not None and price is not None and km < t.min_paid_km and price > 0:
                    subkm.fail("sub_kilometre", order_id=order_id, km=km, fare=price)
                # fare_plausible: fare per km and average speed
                if km is not None and price is not None and km >= t.min_paid_km:
                    fare.checked += 1
                    per_km = price / km
                    seconds = drive_time if type(drive_time) is int else 0
                    speed = km / (seconds / 3600) if seconds > 0 else 0.0
                    if not t.fare_per_km_min <= per_km <= t.fare_per_km_max:
                        fare.fail(
                            "fare_per_km", order_id=order_id, fare=price, km=km, per_km=round(per_km, 2)
                        )
                    elif speed > t.max_average_speed_kmh:
                        fare.fail("speed", order_id=order_id, km=km, seconds=seconds, kmh=round(speed))

            # unknown_driver / unknown_vehicle: orders name drivers and vehicles of the base data
            licences = {str(r["LicenseId"]) for r in (ma, de, pa) if r is not None and "LicenseId" in r}
            if licences:
                drivers.checked += 1
                unknown = sorted(licences - known_drivers)
                if unknown:
                    drivers.fail("unknown_driver", order_id=order_id, licence=mask_licence(unknown[0]))
            plates = {str(r["VehicleNo"]) for r in (ma, de, pa) if r is not None and "VehicleNo" in r}
            if plates:
                vehicles.checked += 1
                unknown = sorted(plates - known_vehicles)
                if unknown:
                    vehicles.fail("unknown_vehicle", order_id=order_id, vehicle=unknown[0])

        volume = c["volume"]
        volume.checked = 3
        counted = completed if t.volume_basis == "paid" else len(self.orders) - incomplete_without_create
        if counted < t.min_orders:
            volume.fail("too_few_orders", count=counted, minimum=t.min_orders, basis=t.volume_basis)
        for check in c.values():
            if check.mode == "off":  # not run: its counts and examples are not shown
                check.checked = check.failed = 0
                check.examples.clear()
        if cancelled < t.min_cancellations:
            volume.fail("too_few_cancellations", count=cancelled, minimum=t.min_cancellations)
        missing = [p for p in CANCEL_PARTIES if not parties.get(p)]
        if missing:
            volume.fail("missing_party", parties=missing)

        checks = [self.checks[code].to_dict() for code in CHECK_CODES]
        return {
            "test": "consistency",
            "spec_version": self.spec.version,
            "replay": self.replay,
            "thresholds": t.to_dict(),
            "passed": all(ch["status"] != "fail" or not ch["counts"] for ch in checks),
            "documented_passed": all(ch["status"] != "fail" for ch in checks if ch["source"] != "yunzheng"),
            "volume_rule": {
                "basis": t.volume_basis,
                "default_basis": DEFAULT_VOLUME_BASIS,
                "min_orders": t.min_orders,
                "min_cancellations": t.min_cancellations,
                "counted_orders": counted,
            },
            "info": {
                "orders": len(self.orders),
                "completed": completed,
                "cancelled": cancelled,
                "cancelled_by": {p: parties.get(p, 0) for p in CANCEL_PARTIES},
                "incomplete": incomplete,
                "records": self.records,
                "positions": self.positions,
                "vehicles_in_base": len(known_vehicles),
                "drivers_in_base": len(known_drivers),
                "rejected_records": dict(sorted(self.rejected.items())),
            },
            "checks": checks,
        }


def _number(v: Any) -> float | None:
    return float(v) if type(v) in (int, float) else None


def _span(start: Record, end: Record) -> int | None:
    dep, dest = start.get("DepTime"), end.get("DestTime")
    if type(dep) is int and type(dest) is int:
        return dt14_epoch(dest) - dt14_epoch(dep)
    return None


def _sequence_problem(
    cr: Record | None,
    ma: Record | None,
    ca: Record | None,
    de: Record | None,
    ar: Record | None,
    pa: Record | None,
) -> tuple[str, dict[str, Any]] | None:
    """The first illegal step of an order's events, or None."""
    if cr is None:
        first = next(
            name for name, r in zip(_ORDER_SLOTS, (cr, ma, ca, de, ar, pa), strict=True) if r is not None
        )
        return "missing_create", {"interface": first}
    ordered = cr.get("OrderTime")
    if ma is not None and _before(ma.get("DistributeTime"), ordered):
        return "match_before_create", {"time": ma.get("DistributeTime"), "before": ordered}
    if ca is not None and _before(ca.get("CancelTime"), ordered):
        return "cancel_before_create", {"time": ca.get("CancelTime"), "before": ordered}
    if ca is not None and (de is not None or ar is not None or pa is not None):
        served = "operatePay" if pa is not None else "operateArrive" if ar is not None else "operateDepart"
        return "cancelled_and_served", {"interface": served}
    if de is not None and ma is None:
        return "depart_without_match", {}
    if de is not None and ma is not None and _before(de.get("DepTime"), ma.get("DistributeTime")):
        return "depart_before_match", {"time": de.get("DepTime"), "before": ma.get("DistributeTime")}
    if ar is not None and de is None:
        return "arrive_without_depart", {}
    if ar is not None and de is not None and _before(ar.get("DestTime"), de.get("DepTime")):
        return "arrive_before_depart", {"time": ar.get("DestTime"), "before": de.get("DepTime")}
    if pa is not None and ar is None:
        return "pay_without_arrive", {}
    if pa is not None and ar is not None and _before(pa.get("PayTime"), ar.get("DestTime")):
        return "pay_before_arrive", {"time": pa.get("PayTime"), "before": ar.get("DestTime")}
    return None


def _before(a: Any, b: Any) -> bool:
    return type(a) is int and type(b) is int and a < b


_SAME_IN_PAY: tuple[tuple[int, str, str], ...] = (
    (DEPART, "DepTime", "DepTime"),
    (DEPART, "DepLongitude", "DepLongitude"),
    (DEPART, "DepLatitude", "DepLatitude"),
    (ARRIVE, "DestTime", "DestTime"),
    (ARRIVE, "DestLongitude", "DestLongitude"),
    (ARRIVE, "DestLatitude", "DestLatitude"),
    (ARRIVE, "DriveTime", "DriveTime"),
    (MATCH, "DistributeTime", "OrderMatchTime"),
)


def _ids_problem(
    cr: Record | None,
    ma: Record | None,
    ca: Record | None,
    de: Record | None,
    ar: Record | None,
    pa: Record | None,
) -> tuple[bool, tuple[str, dict[str, Any]] | None]:
    """(whether anything was compared, the first difference or None)."""
    compared = False
    for field, reason in (("LicenseId", "driver_differs"), ("VehicleNo", "vehicle_differs")):
        seen = [
            (name, r[field])
            for name, r in (("orderMatch", ma), ("operateDepart", de), ("operatePay", pa))
            if r is not None and field in r
        ]
        if len(seen) > 1:
            compared = True
            first = seen[0][1]
            for name, value in seen[1:]:
                if value != first:
                    shown = (
                        (mask_licence(str(first)), mask_licence(str(value)))
                        if field == "LicenseId"
                        else (first, value)
                    )
                    return True, (
                        reason,
                        {"interface": name, "expected": shown[0], "got": shown[1], "field": field},
                    )
    if pa is not None:
        slots = (cr, ma, ca, de, ar, pa)
        for slot, source, target in _SAME_IN_PAY:
            other = slots[slot]
            if other is None or pa.get(target) is None or other.get(source) is None:
                continue
            compared = True
            if pa[target] != other[source]:
                return True, (
                    "value_differs",
                    {"field": target, "expected": other[source], "got": pa[target]},
                )
        if (
            ar is not None
            and _number(ar.get("DriveMile")) is not None
            and _number(pa.get("DriveMile")) is not None
        ):
            compared = True
            if abs(float(ar["DriveMile"]) - float(pa["DriveMile"])) > 0.011:
                return True, (
                    "value_differs",
                    {"field": "DriveMile", "expected": ar["DriveMile"], "got": pa["DriveMile"]},
                )
    if cr is not None and ca is not None and ca.get("OrderTime") is not None:
        compared = True
        if ca["OrderTime"] != cr.get("OrderTime"):
            return True, (
                "value_differs",
                {"field": "OrderTime", "expected": cr.get("OrderTime"), "got": ca["OrderTime"]},
            )
    return compared, None


# ---------------------------------------------------------------------------------------------
# from the database
# ---------------------------------------------------------------------------------------------

POSITION_INTERFACES = (0x4001, 0x4002)


def grade_cycle(
    cycle_id: int, *, thresholds: Thresholds | None = None, replay: bool = False, spec: Spec | None = None
) -> dict[str, Any]:
    """Grade a stored cycle: four sequential reads (batches, positions, other accepted records,
    rejected records), streamed into a :class:`Grader`.

    The cyclic garbage collector is paused meanwhile: grading builds millions of small acyclic
    objects, and the collector's passes over the growing heap cost about 15 % at 100,000 orders.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _grade_cycle(cycle_id, thresholds=thresholds, replay=replay, spec=spec)
    finally:
        if collecting:
            gc.enable()


def _grade_cycle(
    cycle_id: int, *, thresholds: Thresholds | None, replay: bool, spec: Spec | None
) -> dict[str, Any]:
    from yunzheng.conformance.models import SandboxBatch, SandboxRecord

    grader = Grader(thresholds, spec=spec, replay=replay)
    received = {
        pk: int(at.timestamp())
        for pk, at in SandboxBatch.objects.filter(cycle_id=cycle_id).values_list("pk", "received_at")
    }
    records = SandboxRecord.objects.filter(cycle_id=cycle_id)
    positions = (
        records.filter(accepted=True, interface__in=POSITION_INTERFACES)
        .values_list("interface", "vehicle_no", "event_epoch", "longitude", "latitude", "batch_id")
        .iterator(chunk_size=20_000)
    )
    grader.add_positions(
        (interface, vehicle, epoch, lon, lat, received[batch])
        for interface, vehicle, epoch, lon, lat, batch in positions
        if epoch is not None and lon is not None and lat is not None  # always set when accepted
    )
    add_record = grader.add_record
    # No ORDER BY: sorting half a million rows costs more than resolving re-sends by id here.
    for pk, interface, record, epoch, batch in _records_with_payload(
        records.filter(accepted=True).exclude(interface__in=POSITION_INTERFACES)
    ):
        add_record(interface, record, epoch, received[batch], pk)
    for _pk, interface, record, _epoch, _batch in _records_with_payload(
        records.filter(accepted=False).order_by("pk")
    ):
        grader.add_rejected(interface, record)
    return grader.report()


def _records_with_payload(queryset: Any) -> Iterable[tuple[int, int, Record, int | None, int]]:
    """(id, interface, record, event epoch, batch id), the JSON decoded with msgspec (several times
    faster than the JSONField's json.loads, which matters at 100,000 orders)."""
    import msgspec
    from django.db import connection
    from django.db.models import TextField
    from django.db.models.functions import Cast

    decode = msgspec.json.Decoder().decode
    if connection.vendor == "postgresql":
        rows = queryset.annotate(text=Cast("record", TextField())).values_list(
            "pk", "interface", "text", "event_epoch", "batch_id"
        )
        for pk, interface, text, epoch, batch in rows.iterator(chunk_size=10_000):
            yield pk, interface, decode(text), epoch, batch
    else:
        yield from queryset.values_list("pk", "interface", "record", "event_epoch", "batch_id").iterator(
            chunk_size=10_000
        )
