""" "Test against yesterday's data": run a rule, not yet switched on, over the stored records of a
day and show what it would have raised.

The rule is compiled exactly as the live engine would compile it and evaluated with in-memory
state over the exchange's stored positionVehicle / order records of the day (Beijing) in the
rule's region, company by company in time order. Nothing is written. The kinds the clock
evaluates (stale feed, clustering) replay the day's positions in time order and run the live
tick's own test (``periodic.stale_subjects`` / ``crowded_cells``) at every minute, as
``alarms_tick`` does; they see only that day's positions and no log-outs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from yunzheng.alarms.context import RegistryContext
from yunzheng.alarms.engine import IN_SERVICE, KIND_INTERFACES, OPEN, Engine, RuleSpec, Signal, compile_rule
from yunzheng.alarms.kinds import (
    PERIODIC_KINDS,
    Schedule,
    compile_schedule,
    validate_params,
    validate_schedule,
)
from yunzheng.alarms.models import RuleKind
from yunzheng.alarms.periodic import VehicleSeen, cell_signal, crowded_cells, stale_signal, stale_subjects
from yunzheng.core.clock import CHINA
from yunzheng.exchange.models import EventRecord, PositionRecord
from yunzheng.exchange.spec import get_spec

MAX_RECORDS = 500_000


@dataclass
class DryRunResult:
    day: date
    records: int = 0
    truncated: bool = False
    would_open: list[Signal] = field(default_factory=list)


def _dt14(t: datetime) -> int:
    b = t.astimezone(CHINA)
    return ((((b.year * 100 + b.month) * 100 + b.day) * 100 + b.hour) * 100 + b.minute) * 100 + b.second


def _region_range(prefix: str) -> tuple[int, int] | None:
    return (int(prefix.ljust(6, "0")), int(prefix.ljust(6, "9"))) if prefix else None


def rule_dry_run(
    *, kind: str, region_code: str, params: Any, schedule: Any, severity: str = "medium", day: date
) -> DryRunResult:
    result = DryRunResult(day=day)
    spec = compile_rule(
        id=0,
        version=0,
        kind=kind,
        severity=severity,
        region_code=region_code,
        schedule=compile_schedule(Schedule.model_validate(validate_schedule(schedule))),
        params=validate_params(kind, params),
    )
    start = datetime.combine(day, time(0), CHINA)
    end = start + timedelta(days=1)
    bounds = _region_range(spec.region_prefix)
    if kind in PERIODIC_KINDS:
        _replay_ticks(spec, result, start, end, bounds)
        return result
    engine = Engine([spec])
    ctx = RegistryContext()
    states: dict[str, dict[str, Any]] = {}
    out: list[Signal] = []
    spec_index = get_spec()
    for interface in sorted(KIND_INTERFACES.get(kind, ())):
        code = spec_index.interface(interface).ipc_type_code
        batches: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if interface == "positionVehicle":
            qs = PositionRecord.objects.filter(
                interface=code, position_time__gte=start, position_time__lt=end
            )
            if bounds:
                qs = qs.filter(region_code__range=bounds)
            rows = qs.order_by("company_id", "position_time").values_list(
                "company_id",
                "vehicle_no",
                "region_code",
                "position_time",
                "longitude",
                "latitude",
                "speed",
                "warn_status",
                "biz_status",
                "order_id",
            )[: MAX_RECORDS + 1]
            for cid, plate, region, when, lon, lat, speed, warn, biz, order in rows:
                batches[cid].append(
                    {
                        "VehicleNo": plate,
                        "VehicleRegionCode": region,
                        "PositionTime": _dt14(when),
                        "Longitude": lon,
                        "Latitude": lat,
                        "Speed": speed,
                        "WarnStatus": warn,
                        "BizStatus": biz,
                        "OrderId": order,
                    }
                )
        else:
            events = EventRecord.objects.filter(interface=code, event_time__gte=start, event_time__lt=end)
            if bounds:
                events = events.filter(region_code__range=bounds)
            event_rows = events.order_by("company_id", "event_time").values_list(
                "company_id", "payload", "license_id"
            )[: MAX_RECORDS + 1]
            for cid, payload, licence in event_rows:
                rec = dict(payload)
                if licence:
                    rec["LicenseId"] = licence
                batches[cid].append(rec)
        for cid, records in batches.items():
            result.records += len(records)
            if result.records > MAX_RECORDS:
                result.truncated = True
                break
            if interface in ("orderMatch", "operateDepart"):
                ctx.prefetch_licences("driver", (r.get("LicenseId", "") for r in records))
                ctx.prefetch_licences("vehicle", (r.get("VehicleNo", "") for r in records))
            engine.process(
                company_pk=cid,
                company_region=0,
                interface=interface,
                records=records,
                states=states,
                ctx=ctx,
                out=out,
            )
    result.would_open = [s for s in out if s.action == OPEN]
    return result


def _replay_ticks(
    spec: RuleSpec, result: DryRunResult, start: datetime, end: datetime, bounds: tuple[int, int] | None
) -> None:
    code = get_spec().interface("positionVehicle").ipc_type_code
    qs = PositionRecord.objects.filter(interface=code, position_time__gte=start, position_time__lt=end)
    if bounds:
        qs = qs.filter(region_code__range=bounds)
    rows = qs.order_by("position_time").values_list(
        "company_id", "vehicle_no", "region_code", "position_time", "longitude", "latitude", "biz_status"
    )[: MAX_RECORDS + 1]
    latest: dict[str, VehicleSeen] = {}
    open_now: set[str] = set()

    def tick(now: datetime) -> None:
        nonlocal open_now
        if not spec.schedule.active(int(now.timestamp())):
            return
        if spec.kind == RuleKind.STALE_FEED:
            stale = stale_subjects(spec.params, latest.values(), now)
            result.would_open += [
                stale_signal(spec, s, v, now) for s, v in stale.items() if s not in open_now
            ]
            open_now = set(stale)
        else:
            crowded = crowded_cells(spec.params, latest.values(), now)
            result.would_open += [
                cell_signal(spec, c, m, now) for c, m in crowded.items() if c not in open_now
            ]
            open_now = set(crowded)

    next_tick = start + timedelta(minutes=1)
    for company_id, plate, region, when, lon, lat, biz in rows:
        result.records += 1
        if result.records > MAX_RECORDS:
            result.truncated = True
            break
        while when >= next_tick:
            tick(next_tick)
            next_tick += timedelta(minutes=1)
        key = f"v:{company_id}:{plate}"
        latest[key] = VehicleSeen(key, company_id, when, biz in IN_SERVICE, lon, lat, region or 0)
    while next_tick <= end:
        tick(next_tick)
        next_tick += timedelta(minutes=1)
