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


def _stale(spec: RuleSpec, now: datetime) -> list[Signal]:
    cutoff = now - timedelta(minutes=spec.params["minutes"])
    at = int(now.timestamp())
    states = _in_region(EngineState.objects.filter(key__startswith="v:", in_service=True), spec)
    open_alarms = {
        a.subject: a for a in Alarm.objects.filter(rule_id=spec.id).exclude(state=Alarm.State.CLOSED)
    }
    signals: list[Signal] = []
    if spec.params.get("level") == "platform":
        latest: dict[int, tuple[datetime, int, str]] = {}
        for company_id, seen, region, key in states.values_list(
            "company_id", "last_seen", "region_code", "key"
        ):
            if seen is not None and (company_id not in latest or seen > latest[company_id][0]):
                latest[company_id] = (seen, region or 0, key)
        stale = {f"p:{cid}": v for cid, v in latest.items() if v[0] < cutoff}
        for subject, (seen, region, _key) in stale.items():
            if subject not in open_alarms:
                minutes = int((now - seen).total_seconds() // 60)
                signals.append(
                    Signal(
                        OPEN,
                        spec,
                        subject,
                        int(subject[2:]),
                        at,
                        region,
                        detail=f"no position from the platform for {minutes} min",
                        record={"interface": "tick", "last_position": seen.isoformat()},
                    )
                )
    else:
        stale_rows = states.filter(last_seen__lt=cutoff).values_list(
            "key", "company_id", "last_seen", "region_code"
        )
        stale = {}
        for key, company_id, seen, region in stale_rows:
            stale[key] = seen
            if key not in open_alarms:
                minutes = int((now - seen).total_seconds() // 60)
                signals.append(
                    Signal(
                        OPEN,
                        spec,
                        key,
                        company_id,
                        at,
                        region or 0,
                        vehicle_no=key.split(":", 2)[2],
                        detail=f"in service, no position for {minutes} min",
                        record={"interface": "tick", "last_position": seen.isoformat()},
                    )
                )
    signals += [_close(spec, a, at) for subject, a in open_alarms.items() if subject not in stale]
    return signals


def _cells(spec: RuleSpec, now: datetime) -> list[Signal]:
    p = spec.params
    since = now - timedelta(minutes=p["window_minutes"])
    at = int(now.timestamp())
    step_lat = p["cell_m"] / 111_320 * 1e6  # micro-degrees
    rows = _in_region(
        EngineState.objects.filter(key__startswith="v:", last_seen__gte=since), spec
    ).values_list("key", "company_id", "longitude", "latitude", "region_code")
    cells: dict[str, list[tuple[str, int, int, int, int]]] = defaultdict(list)
    for key, company_id, lon, lat, region in rows:
        if lon is None or lat is None:
            continue
        step_lon = step_lat / max(math.cos(math.radians(lat / 1e6)), 0.1)
        cell = f"{int(lon // step_lon)}:{int(lat // step_lat)}"
        cells[cell].append((key, company_id, lon, lat, region or 0))
    crowded = {c: v for c, v in cells.items() if len(v) >= p["vehicles"]}
    open_alarms = {
        a.subject: a for a in Alarm.objects.filter(rule_id=spec.id).exclude(state=Alarm.State.CLOSED)
    }
    signals: list[Signal] = []
    for cell, members in crowded.items():
        subject = f"g:{spec.id}:{cell}"
        if subject in open_alarms:
            continue
        companies = {m[1] for m in members}
        lon = sum(m[2] for m in members) // len(members)
        lat = sum(m[3] for m in members) // len(members)
        signals.append(
            Signal(
                OPEN,
                spec,
                subject,
                next(iter(companies)) if len(companies) == 1 else 0,
                at,
                members[0][4],
                detail=f"{len(members)} vehicles within {p['cell_m']} m",
                record={
                    "interface": "tick",
                    "vehicles": sorted(m[0].split(":", 2)[2] for m in members)[:50],
                    "Longitude": lon,
                    "Latitude": lat,
                },
                point=(lon, lat, at),
            )
        )
    signals += [
        _close(spec, a, at) for subject, a in open_alarms.items() if subject.split(":", 2)[2] not in crowded
    ]
    return signals


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
