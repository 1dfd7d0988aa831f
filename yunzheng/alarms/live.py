"""Alarms on the live streams: the exchange calls :func:`on_stored_batch` after each stored batch.

Multi-worker correctness (docs/adr/0060): the state of every subject a batch touches is a row of
``EngineState``, locked (``SELECT ... FOR UPDATE``, in key order) for the batch's evaluation and
written back in the same transaction as the alarms it opens or closes. Two gunicorn workers (or
the log consumer) evaluating batches of the same vehicle therefore take turns, and neither can
open a second incident or lose the other's state. Rules are compiled once per process and
recompiled when the rule table changes (one small query per batch).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from yunzheng.alarms.conf import app_settings
from yunzheng.alarms.context import RegistryContext
from yunzheng.alarms.engine import (
    KIND_INTERFACES,
    STATE_INTERFACES,
    TIME_FIELDS,
    Engine,
    RuleSpec,
    Signal,
    compile_rule,
    dt14_epoch,
    subject_keys,
)
from yunzheng.alarms.kinds import Schedule, compile_schedule
from yunzheng.alarms.models import AlarmRule, EngineState
from yunzheng.core.crypto import lookup_hash, mask_id_number
from yunzheng.exchange.hooks import StoredBatch

logger = logging.getLogger(__name__)

_DRIVER_INTERFACES = frozenset({"orderMatch", "operateDepart", "operatePay", "positionDriver"})


@dataclass
class _Compiled:
    stamp: tuple[Any, ...]
    engine: Engine
    interfaces: frozenset[str]
    checked_at: float  # time.monotonic() of the last stamp query


_COMPILED: _Compiled | None = None


def rule_specs(rules: Iterable[AlarmRule]) -> list[RuleSpec]:
    return [
        compile_rule(
            id=r.pk,
            version=r.version,
            kind=r.kind,
            severity=r.severity,
            region_code=r.region_code,
            schedule=compile_schedule(Schedule.model_validate(r.schedule or {})),
            params=r.params,
            name=r.name,
        )
        for r in rules
    ]


def current_engine() -> _Compiled:
    """The engine of the enabled rules; recompiled when any rule changed (one aggregate query,
    at most every ``ALARMS_RULES_RECHECK_SECONDS``)."""
    global _COMPILED
    compiled = _COMPILED
    now = time.monotonic()
    if compiled is not None and now - compiled.checked_at < float(app_settings.ALARMS_RULES_RECHECK_SECONDS):
        return compiled
    agg = AlarmRule.objects.aggregate(changed=Max("updated_at"), count=Count("id"))
    stamp = (agg["changed"], agg["count"])
    if compiled is None or compiled.stamp != stamp:
        specs = rule_specs(AlarmRule.objects.filter(enabled=True))
        interfaces = set(STATE_INTERFACES) if specs else set()
        for spec in specs:
            interfaces |= KIND_INTERFACES.get(spec.kind, frozenset())
        compiled = _Compiled(
            stamp=stamp, engine=Engine(specs), interfaces=frozenset(interfaces), checked_at=now
        )
    else:
        compiled.checked_at = now
    _COMPILED = compiled
    return compiled


def forget_compiled_rules() -> None:
    """Recompile (after the stamp query) at the next batch: called by this process's rule writes."""
    global _COMPILED
    _COMPILED = None


def normalise(interface: str, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records the engine may keep: a driver's licence number as its lookup hash and masked form.
    Sorted by event time, so a batch's incidents open and close in the order things happened."""
    if interface in _DRIVER_INTERFACES:
        hashes: dict[str, tuple[str, str]] = {}
        out = []
        for rec in records:
            raw = rec.get("LicenseId") or ""
            pair = hashes.get(raw)
            if pair is None:
                pair = hashes[raw] = (lookup_hash(raw) if raw else "", mask_id_number(raw) if raw else "")
            copy = dict(rec)
            copy["LicenseId"], copy["_driver_display"] = pair
            out.append(copy)
    else:
        out = list(records)
    time_field = TIME_FIELDS.get(interface)
    if time_field:
        out.sort(key=lambda r: r.get(time_field) or 0)
    return out


def on_stored_batch(batch: StoredBatch) -> None:
    """The exchange's records listener (see exchange/hooks.py)."""
    compiled = current_engine()
    if batch.interface not in compiled.interfaces:
        return
    process_batch(
        engine=compiled.engine,
        company_pk=batch.company_pk,
        company_region=int(batch.company_region) if batch.company_region.isdigit() else 0,
        interface=batch.interface,
        records=normalise(batch.interface, batch.records),
        now=batch.received_at,
    )


def _aware(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def process_batch(
    *,
    engine: Engine,
    company_pk: int,
    company_region: int,
    interface: str,
    records: list[dict[str, Any]],
    now: datetime | None = None,
) -> list[Signal]:
    """Evaluate one normalised batch with its subjects' state locked; store state and alarms."""
    from yunzheng.alarms.services import alarm_signals_apply

    now = now or timezone.now()
    keys = sorted(subject_keys(company_pk, interface, records, company_region))
    ctx = RegistryContext()
    if interface in ("orderMatch", "operateDepart"):
        ctx.prefetch_licences("driver", (r["LicenseId"] for r in records))
        ctx.prefetch_licences("vehicle", (r["VehicleNo"] for r in records))
    if interface in ("orderCreate", "orderMatch", "operatePay"):
        ctx.prefetch_cities([company_pk])
    with transaction.atomic():
        existing = set(EngineState.objects.filter(key__in=keys).values_list("key", flat=True))
        missing = [EngineState(key=k, company_id=company_pk, data={}) for k in keys if k not in existing]
        if missing:
            EngineState.objects.bulk_create(missing, ignore_conflicts=True)
        rows = {
            row.key: row
            for row in EngineState.objects.select_for_update().filter(key__in=keys).order_by("key")
        }
        states = {key: row.data for key, row in rows.items()}
        out: list[Signal] = []
        engine.process(
            company_pk=company_pk,
            company_region=company_region,
            interface=interface,
            records=records,
            states=states,
            ctx=ctx,
            out=out,
        )
        for key, row in rows.items():
            data = states[key]
            row.data = data
            if key.startswith("v:") and "t" in data:
                row.last_seen = _aware(data["t"])
                row.in_service = bool(data.get("svc"))
                row.longitude = data.get("x")
                row.latitude = data.get("y")
                row.region_code = data.get("g")
            elif key.startswith("v:") and "svc" in data:
                row.in_service = bool(data["svc"])
        EngineState.objects.bulk_update(
            list(rows.values()), ["data", "last_seen", "in_service", "longitude", "latitude", "region_code"]
        )
        if out:
            alarm_signals_apply(signals=out, now=now)
    return out


def record_time(interface: str, rec: dict[str, Any]) -> int | None:
    field_name = TIME_FIELDS.get(interface)
    value = rec.get(field_name) if field_name else None
    return dt14_epoch(value) if value else None
