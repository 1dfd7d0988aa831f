"""Rules evaluated by the clock, over the engine's state columns: stale feeds and clustering.

``alarms_tick`` (``manage.py alarms_tick``, run every minute by the scheduler or cron) opens and
closes these incidents and escalates unacknowledged high-severity alarms. A stale feed is a
vehicle in service (its last position said 载客/接单/空驶 and it has not logged out) with no
position for N minutes - or, at ``level=platform``, a company all of whose vehicles in service are
silent. Clustering counts vehicles whose latest position (within the window) falls in the same
grid cell of ``cell_m`` metres.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from yunzheng.alarms.engine import CLOSE, OPEN, RuleSpec, Signal
from yunzheng.alarms.live import rule_specs
from yunzheng.alarms.models import Alarm, AlarmRule, EngineState, RuleKind
from yunzheng.alarms.services import alarm_signals_apply, alarms_escalate


@dataclass
class TickReport:
    opened: int = 0
    closed: int = 0
    escalated: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def _in_region(qs: Any, spec: RuleSpec) -> Any:
    prefix = spec.region_prefix
    if not prefix:
        return qs
    lo, hi = int(prefix.ljust(6, "0")), int(prefix.ljust(6, "9"))
    return qs.filter(region_code__gte=lo, region_code__lte=hi)


def _close(spec: RuleSpec, alarm: Alarm, at: int) -> Signal:
    return Signal(CLOSE, spec, alarm.subject, alarm.company_id or 0, at, int(alarm.region_code or 0))


@dataclass(frozen=True)
class VehicleSeen:
    """A vehicle's latest position as the engine keeps it (live: an ``EngineState`` row; dry run:
    the replayed day)."""

    key: str
    company_id: int
    last_seen: datetime
    in_service: bool
    longitude: int | None
    latitude: int | None
    region: int


def stale_subjects(
    params: Mapping[str, Any], seen: Iterable[VehicleSeen], now: datetime
) -> dict[str, VehicleSeen]:
    """The silent subjects at ``now``: vehicles in service with no position for ``minutes`` or, at
    ``level=platform``, companies whose latest vehicle in service is that silent."""
    cutoff = now - timedelta(minutes=params["minutes"])
    in_service = [v for v in seen if v.in_service]
    if params.get("level") == "platform":
        latest: dict[int, VehicleSeen] = {}
        for v in in_service:
            if v.company_id not in latest or v.last_seen > latest[v.company_id].last_seen:
                latest[v.company_id] = v
        return {f"p:{cid}": v for cid, v in latest.items() if v.last_seen < cutoff}
    return {v.key: v for v in in_service if v.last_seen < cutoff}


def crowded_cells(
    params: Mapping[str, Any], seen: Iterable[VehicleSeen], now: datetime
) -> dict[str, list[VehicleSeen]]:
    """Grid cells of ``cell_m`` metres holding at least ``vehicles`` vehicles seen in the window."""
    since = now - timedelta(minutes=params["window_minutes"])
    step_lat = params["cell_m"] / 111_320 * 1e6  # micro-degrees
    cells: dict[str, list[VehicleSeen]] = defaultdict(list)
    for v in seen:
        if v.last_seen < since or v.longitude is None or v.latitude is None:
            continue
        step_lon = step_lat / max(math.cos(math.radians(v.latitude / 1e6)), 0.1)
        cells[f"{int(v.longitude // step_lon)}:{int(v.latitude // step_lat)}"].append(v)
    return {c: members for c, members in cells.items() if len(members) >= params["vehicles"]}


def stale_signal(spec: RuleSpec, subject: str, seen: VehicleSeen, now: datetime) -> Signal:
    minutes = int((now - seen.last_seen).total_seconds() // 60)
    record = {"interface": "tick", "last_position": seen.last_seen.isoformat()}
    at = int(now.timestamp())
    if subject.startswith("p:"):
        detail = f"no position from the platform for {minutes} min"
        return Signal(OPEN, spec, subject, seen.company_id, at, seen.region, detail=detail, record=record)
    return Signal(
        OPEN,
        spec,
        subject,
        seen.company_id,
        at,
        seen.region,
        vehicle_no=subject.split(":", 2)[2],
        detail=f"in service, no position for {minutes} min",
        record=record,
    )


def cell_signal(spec: RuleSpec, cell: str, members: list[VehicleSeen], now: datetime) -> Signal:
    companies = {m.company_id for m in members}
    lon = sum(m.longitude or 0 for m in members) // len(members)
    lat = sum(m.latitude or 0 for m in members) // len(members)
    at = int(now.timestamp())
    return Signal(
        OPEN,
        spec,
        f"g:{spec.id}:{cell}",
        next(iter(companies)) if len(companies) == 1 else 0,
        at,
        members[0].region,
        detail=f"{len(members)} vehicles within {spec.params['cell_m']} m",
        record={
            "interface": "tick",
            "vehicles": sorted(m.key.split(":", 2)[2] for m in members)[:50],
            "Longitude": lon,
            "Latitude": lat,
        },
        point=(lon, lat, at),
    )


def _engine_seen(states: Any) -> list[VehicleSeen]:
    rows = states.values_list(
        "key", "company_id", "last_seen", "in_service", "longitude", "latitude", "region_code"
    )
    return [
        VehicleSeen(key, company_id, seen, in_service, lon, lat, region or 0)
        for key, company_id, seen, in_service, lon, lat, region in rows
        if seen is not None
    ]


def _open_alarms(spec: RuleSpec) -> dict[str, Alarm]:
    return {a.subject: a for a in Alarm.objects.filter(rule_id=spec.id).exclude(state=Alarm.State.CLOSED)}


def _stale(spec: RuleSpec, now: datetime) -> list[Signal]:
    states = _in_region(EngineState.objects.filter(key__startswith="v:", in_service=True), spec)
    if spec.params.get("level") != "platform":  # per vehicle the database can pick the silent ones
        states = states.filter(last_seen__lt=now - timedelta(minutes=spec.params["minutes"]))
    stale = stale_subjects(spec.params, _engine_seen(states), now)
    open_alarms = _open_alarms(spec)
    at = int(now.timestamp())
    signals = [stale_signal(spec, s, seen, now) for s, seen in stale.items() if s not in open_alarms]
    return signals + [_close(spec, a, at) for subject, a in open_alarms.items() if subject not in stale]


def _cells(spec: RuleSpec, now: datetime) -> list[Signal]:
    since = now - timedelta(minutes=spec.params["window_minutes"])
    states = _in_region(EngineState.objects.filter(key__startswith="v:", last_seen__gte=since), spec)
    crowded = crowded_cells(spec.params, _engine_seen(states), now)
    open_alarms = _open_alarms(spec)
    at = int(now.timestamp())
    signals = [
        cell_signal(spec, cell, members, now)
        for cell, members in crowded.items()
        if f"g:{spec.id}:{cell}" not in open_alarms
    ]
    return signals + [
        _close(spec, a, at) for subject, a in open_alarms.items() if subject.split(":", 2)[2] not in crowded
    ]


def alarms_tick(*, now: datetime | None = None) -> TickReport:
    now = now or timezone.now()
    report = TickReport()
    specs = rule_specs(
        AlarmRule.objects.filter(enabled=True, kind__in=[RuleKind.STALE_FEED, RuleKind.CLUSTERING])
    )
    for spec in specs:
        if not spec.schedule.active(int(now.timestamp())):
            continue
        with transaction.atomic():
            signals = _stale(spec, now) if spec.kind == RuleKind.STALE_FEED else _cells(spec, now)
            if signals:
                alarm_signals_apply(signals=signals, now=now)
        opened = sum(1 for s in signals if s.action == OPEN)
        report.opened += opened
        report.closed += sum(1 for s in signals if s.action == CLOSE)
        report.by_kind[spec.kind] = report.by_kind.get(spec.kind, 0) + opened
    report.escalated = len(alarms_escalate(now=now))
    return report
