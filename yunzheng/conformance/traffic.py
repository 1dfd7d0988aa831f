"""Test traffic for the conformance tests: what a company (or our tests) pushes into a cycle.

* :func:`connectivity_records` - one valid record of each of the 32 interfaces (the test sheet).
* :func:`consistency_events` - a city's ride-hailing activity from the exchange's traffic simulator
  (:mod:`yunzheng.exchange.simulator`), plus a vehicle position at every trip's end (terminals
  report on a status change; the simulator samples positions every ``position_interval`` s and
  would otherwise leave the arrival up to one interval away from the last point), with
  certification faults applied.
* :func:`feed_cycle` - puts events into the sandbox as a live uploader would (time-ordered batches
  received a few seconds after their events), without HTTP; for tests and the benchmark.

Faults (:data:`FAULTS`): each makes exactly one consistency check fail, on every 10th completed
order (at least one when there are ten). They are applied to the simulator's clean output, so the
exchange simulator stays a generator of realistic traffic; its own switches (``swapped_lat_lon``,
``zero_duration_trip``, ``unix_epoch_time``, ``unknown_driver``) can be passed through as
``simulator_faults`` (see docs/adr/0041-conformance-checks-and-faults.md for what each grades).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stdnum.cn import ric

from yunzheng.exchange.simulator import SimulationPlan, SimulationSummary, generate
from yunzheng.exchange.spec import get_spec
from yunzheng.exchange.spec.samples import valid_record

Record = dict[str, Any]
Event = tuple[str, Record]

#: A volume that passes the default thresholds (>= 750 completed, >= 200 cancelled, all parties).
FULL_VOLUME: dict[str, Any] = {"drivers": 500, "orders": 1500, "cancel_share": 0.1, "position_interval": 120}


@dataclass(frozen=True)
class Fault:
    code: str
    check: str  # the consistency check it makes fail
    description: str


FAULTS: dict[str, Fault] = {
    f.code: f
    for f in (
        Fault("out_of_order_events", "order_sequence", "payment time 2 minutes before the arrival"),
        Fault(
            "inconsistent_ids", "ids_consistent", "payment names another (known) vehicle than match/departure"
        ),
        Fault(
            "position_mismatch", "positions_agree", "departure place moved ~2 km from where the vehicle was"
        ),
        Fault("implausible_fare", "fare_plausible", "fare multiplied by 100"),
        Fault("zero_duration", "zero_duration", "driving time 0 s in arrival and payment"),
        Fault(
            "sub_kilometre_paid", "sub_kilometre_paid", "mileage 0.6 km in arrival and payment, fare charged"
        ),
        Fault("epoch_1970", "epoch_timestamps", "booked departure time 19700101080000 (unix time 0)"),
        Fault(
            "swapped_lat_lon",
            "swapped_lat_lon",
            "one position in mid-trip with longitude and latitude swapped",
        ),
        Fault(
            "unknown_driver",
            "unknown_driver",
            "match, departure and payment name a driver not in baseInfoDriver",
        ),
        Fault(
            "unknown_vehicle",
            "unknown_vehicle",
            "the order's vehicle (and its positions) not in baseInfoVehicle",
        ),
        Fault("late_upload", "upload_lag", "every 10th position batch arrives 10 minutes late"),
        Fault("too_few_cancellations", "volume", "drivers' cancellations and every second other one dropped"),
    )
}

SIMULATOR_FAULTS = frozenset({"swapped_lat_lon", "zero_duration_trip", "unix_epoch_time", "unknown_driver"})


def connectivity_records(
    company_id: str, *, now: datetime | None = None, seed: int = 1
) -> dict[str, list[Record]]:
    """One valid, realistic record of every interface of the spec, for the test sheet."""
    out: dict[str, list[Record]] = {}
    for type_name in get_spec().interfaces:
        out[type_name] = [valid_record(type_name, seed=seed, now=now, CompanyId=company_id)]
    return out


# ---------------------------------------------------------------------------------------------
# consistency traffic
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrafficPlan:
    company_id: str
    drivers: int = FULL_VOLUME["drivers"]
    orders: int = FULL_VOLUME["orders"]
    cancel_share: float = FULL_VOLUME["cancel_share"]
    position_interval: int = FULL_VOLUME["position_interval"]
    seed: int = 7
    end: datetime | None = None
    faults: frozenset[str] = frozenset()
    simulator_faults: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = set(self.faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {sorted(FAULTS)}")


@dataclass
class TrafficSummary:
    counts: dict[str, int] = field(default_factory=dict)
    affected: dict[str, list[str]] = field(default_factory=dict)  # fault -> order ids
    simulation: SimulationSummary = field(default_factory=SimulationSummary)


class _Orders:
    """Index of the events of each order, in stream order."""

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.by_order: dict[str, dict[str, Record]] = {}
        self.positions: dict[str, list[tuple[str, Record]]] = {}
        for interface, rec in events:
            order_id = rec.get("OrderId")
            if not isinstance(order_id, str):
                continue
            if interface.startswith("position"):
                self.positions.setdefault(order_id, []).append((interface, rec))
            else:
                self.by_order.setdefault(order_id, {})[interface] = rec
        self.completed = [
            o for o, recs in self.by_order.items() if "operatePay" in recs and "operateArrive" in recs
        ]

    def every_tenth(self) -> list[str]:
        return self.completed[::10]


def _dt14(t: datetime) -> int:
    from yunzheng.exchange.spec.validation import BEIJING

    return int(t.astimezone(BEIJING).strftime("%Y%m%d%H%M%S"))


def _shift_dt14(v: int, seconds: int) -> int:
    from yunzheng.exchange.spec.datetimes import datetime14_to_datetime

    return _dt14(datetime.fromtimestamp(datetime14_to_datetime(v).timestamp() + seconds, UTC))


def _add_trip_end_positions(events: list[Event]) -> list[Event]:
    orders = _Orders(events)
    out: list[Event] = []
    for interface, rec in events:
        out.append((interface, rec))
        if interface != "operateArrive":
            continue
        order_id = rec["OrderId"]
        points = [r for t, r in orders.positions.get(order_id, []) if t == "positionVehicle"]
        if not points or any(p["PositionTime"] == rec["DestTime"] for p in points):
            continue
        last = points[-1]
        out.append(
            (
                "positionVehicle",
                {
                    **last,
                    "PositionTime": rec["DestTime"],
                    "Longitude": rec["DestLongitude"],
                    "Latitude": rec["DestLatitude"],
                    "Speed": 0,
                },
            )
        )
    return out


def _fake_licence(n: int) -> str:
    body = f"33010619800101{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def _apply_fault(code: str, events: list[Event], summary: TrafficSummary) -> list[Event]:
    orders = _Orders(events)
    chosen = orders.every_tenth()
    recs = orders.by_order
    if code == "out_of_order_events":
        for o in chosen:
            recs[o]["operatePay"]["PayTime"] = _shift_dt14(recs[o]["operateArrive"]["DestTime"], -120)
    elif code == "inconsistent_ids":
        plates = sorted({r["VehicleNo"] for t, r in events if t == "baseInfoVehicle"})
        for o in chosen:
            pay = recs[o]["operatePay"]
            pay["VehicleNo"] = next(p for p in plates if p != pay["VehicleNo"])
    elif code == "position_mismatch":
        for o in chosen:
            for name in ("operateDepart", "operatePay"):
                recs[o][name]["DepLongitude"] += 20_000
    elif code == "implausible_fare":
        for o in chosen:
            pay = recs[o]["operatePay"]
            pay["FactPrice"] = round(pay["FactPrice"] * 100, 1)
    elif code == "zero_duration":
        for o in chosen:
            for name in ("operateArrive", "operatePay"):
                recs[o][name]["DriveTime"] = 0
    elif code == "sub_kilometre_paid":
        for o in chosen:
            for name in ("operateArrive", "operatePay"):
                recs[o][name]["DriveMile"] = 0.6
    elif code == "epoch_1970":
        for o in chosen:
            recs[o]["orderCreate"]["DepartTime"] = 19700101080000
    elif code == "swapped_lat_lon":
        for o in chosen:
            trip = [r for t, r in orders.positions.get(o, []) if t == "positionVehicle"]
            if len(trip) >= 3:
                middle = trip[len(trip) // 2]
                middle["Longitude"], middle["Latitude"] = middle["Latitude"], middle["Longitude"]
    elif code == "unknown_driver":
        for n, o in enumerate(chosen):
            licence = _fake_licence(n)
            for name in ("orderMatch", "operateDepart", "operatePay"):
                recs[o][name]["LicenseId"] = licence
    elif code == "unknown_vehicle":
        for n, o in enumerate(chosen):
            plate = f"浙AZ{9000 + n % 1000:04d}"
            for name in ("orderMatch", "operateDepart", "operatePay"):
                recs[o][name]["VehicleNo"] = plate
            for _t, r in orders.positions.get(o, []):
                r["VehicleNo"] = plate
    elif code == "too_few_cancellations":
        kept: list[Event] = []
        seen = 0
        for interface, rec in events:
            if interface == "orderCancel":
                seen += 1
                if rec["Operator"] == "2" or seen % 2 == 0:
                    summary.affected.setdefault(code, []).append(rec["OrderId"])
                    continue
            kept.append((interface, rec))
        return kept
    elif code == "late_upload":
        return events  # a delivery fault: feed_cycle(late_upload=True) receives batches late
    summary.affected[code] = chosen
    return events


def consistency_events(plan: TrafficPlan, summary: TrafficSummary | None = None) -> list[Event]:
    """The plan's activity (base information first, then time order), with its faults applied."""
    summary = summary if summary is not None else TrafficSummary()
    simulation = SimulationPlan(
        company_id=plan.company_id,
        drivers=plan.drivers,
        orders=plan.orders,
        cancel_share=plan.cancel_share,
        position_interval=plan.position_interval,
        seed=plan.seed,
        end=plan.end,
        faults=plan.simulator_faults,
    )
    events = copy.deepcopy(list(generate(simulation, summary.simulation)))
    events = _add_trip_end_positions(events)
    for code in sorted(plan.faults):
        events = _apply_fault(code, events, summary)
    summary.counts = {}
    for interface, _rec in events:
        summary.counts[interface] = summary.counts.get(interface, 0) + 1
    return events


# ---------------------------------------------------------------------------------------------
# feeding a cycle without HTTP (tests, benchmark)
# ---------------------------------------------------------------------------------------------


def event_epoch(interface: str, record: Record) -> int | None:
    """Unix seconds of a record's event time (None for base information)."""
    from yunzheng.conformance.grading import dt14_epoch
    from yunzheng.exchange.ingest import EVENT_TIME_FIELDS

    if interface.startswith("baseInfo"):
        return None
    names = ("PositionTime",) if interface.startswith("position") else EVENT_TIME_FIELDS.get(interface, ())
    for name in names:
        v = record.get(name)
        if isinstance(v, int):
            if v < 10**13:  # unix seconds (PositionTime may be sent so)
                return v if v > 10**9 else None
            if v >= 10**13 and v % 1_000_000 < 240_000:
                try:
                    return dt14_epoch(v)
                except (ValueError, OverflowError):
                    return None
            return None
    return None


@dataclass
class FeedReport:
    batches: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0


def feed_cycle(
    *,
    credential: Any,
    events: Iterable[Event],
    window_seconds: int = 50,
    delay_seconds: int = 5,
    late_upload: bool = False,
    late_seconds: int = 600,
    send: Callable[..., Any] | None = None,
) -> FeedReport:
    """Upload ``events`` to the company's open cycle as a live uploader would: base information
    first, then each ``window_seconds`` of activity as one batch per interface, received
    ``delay_seconds`` after the window ends (so upload lag stays below window + delay).
    ``late_upload`` receives every 10th position batch ``late_seconds`` late."""
    from yunzheng.conformance.sandbox import record_sandbox_batch

    send = send or record_sandbox_batch
    spec = get_spec()
    base: dict[str, list[Record]] = {}
    timed: list[tuple[int, int, str, Record]] = []
    for seq, (interface, rec) in enumerate(events):
        epoch = event_epoch(interface, rec)
        if epoch is None:
            base.setdefault(interface, []).append(rec)
        else:
            timed.append((epoch, seq, interface, rec))
    timed.sort()
    report = FeedReport()
    start = timed[0][0] if timed else int(datetime.now(UTC).timestamp())

    def upload(interface: str, records: list[Record], received: int) -> None:
        result = send(
            credential=credential,
            interface=spec.interface(interface),
            records=records,
            received_at=datetime.fromtimestamp(received, UTC),
        )
        report.batches += 1
        report.accepted += result.accepted
        report.duplicates += result.duplicates
        report.rejected += len(result.rejected)

    for interface, records in base.items():
        upload(interface, records, start - 60)
    window: dict[str, list[Record]] = {}
    current = None
    position_batches = 0

    def flush(window_index: int) -> None:
        nonlocal position_batches
        received = (window_index + 1) * window_seconds + delay_seconds
        for interface, records in window.items():
            at = received
            if interface.startswith("position"):
                position_batches += 1
                if late_upload and position_batches % 10 == 1:
                    at += late_seconds
            upload(interface, records, at)
        window.clear()

    for epoch, _seq, interface, rec in timed:
        index = epoch // window_seconds
        if current is not None and index != current:
            flush(current)
        current = index
        window.setdefault(interface, []).append(rec)
    if current is not None:
        flush(current)
    return report
