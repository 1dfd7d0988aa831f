"""Per-interface storage plans and event-time arithmetic (no database access).

A plan says how one interface is stored: position, event or base information, which field(s)
version a record, its natural key and region field, and its personal data (ADR 0005).
Times: YYYYMMDDhhmmss / YYYYMMDD in Beijing time -> unix seconds, memoised per day.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from yunzheng.exchange import personal_data
from yunzheng.exchange.spec import FieldKind, InterfaceSpec

Record = dict[str, Any]

#: The time that versions an event record (first field present wins). Base information uses
#: UpdateTime, positions PositionTime.

#: The time that versions an event record (first field present wins). Base information uses
#: UpdateTime, positions PositionTime.
EVENT_TIME_FIELDS: dict[str, tuple[str, ...]] = {
    "orderCreate": ("OrderTime",),
    "orderMatch": ("DistributeTime",),
    "orderCancel": ("CancelTime",),
    "operateLogin": ("LoginTime",),
    "operateLogout": ("LogoutTime",),
    "operateDepart": ("DepTime",),
    "operateArrive": ("DestTime",),
    "operatePay": ("PayTime", "DestTime"),
    "ratedPassenger": ("EvaluateTime",),
    "ratedPassengerComplaint": ("ComplaintTime",),
    "ratedDriverPunish": ("PunishTime",),
    "ratedDriver": ("TestDate",),
    "shareRoute": ("RouteCreateTime",),
    "shareOrder": ("OrderEnsureTime",),
    "sharePay": ("PayTime", "DestTime"),
}


# ---------------------------------------------------------------------------------------------
# time helpers: YYYYMMDDhhmmss / YYYYMMDD (Beijing time) -> unix seconds, memoised per day
# ---------------------------------------------------------------------------------------------

_DAY_EPOCH: dict[int, int] = {}


def _day_epoch(date8: int) -> int:
    e = _DAY_EPOCH.get(date8)
    if e is None:
        y, md = divmod(date8, 10000)
        m, d = divmod(md, 100)
        e = calendar.timegm((y, m, d, 0, 0, 0)) - 8 * 3600
        if len(_DAY_EPOCH) > 20000:
            _DAY_EPOCH.clear()
        _DAY_EPOCH[date8] = e
    return e


def dt14_epoch(v: int) -> int:
    """YYYYMMDDhhmmss in Beijing time -> unix seconds (the validator guarantees a real time)."""
    d8, hms = divmod(v, 1_000_000)
    h, ms = divmod(hms, 10_000)
    mi, s = divmod(ms, 100)
    return _day_epoch(d8) + h * 3600 + mi * 60 + s


def _epoch_of(value: int, kind: FieldKind) -> int:
    return _day_epoch(value) if kind is FieldKind.DATE else dt14_epoch(value)


def _month_of(value: int, kind: FieldKind) -> int:
    return value // 100 if kind is FieldKind.DATE else value // 100_000_000


def _aware(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _event_epochs(plan: _Plan, records: list[Record]) -> tuple[list[int], set[int]]:
    """Event times of the records as unix seconds, and the months (YYYYMM) they fall in.

    Memoised per batch: the records of one batch share a handful of distinct times.
    """
    memo: dict[int, int] = {}
    epochs: list[int] = []
    append = epochs.append
    if plan.time_kinds == (FieldKind.DATETIME,):
        # dt14_epoch inlined: order and operation times rarely repeat within a batch, so the
        # memo misses and three calls per record would be most of this loop's cost.
        name = plan.time_fields[0]
        days = _DAY_EPOCH
        for rec in records:
            v = rec[name]
            e = memo.get(v)
            if e is None:
                d8, hms = divmod(v, 1_000_000)
                day = days.get(d8)
                if day is None:
                    day = _day_epoch(d8)
                e = memo[v] = day + hms // 10_000 * 3600 + hms // 100 % 100 * 60 + hms % 100
            append(e)
        return epochs, {v // 100_000_000 for v in memo}
    if len(plan.time_fields) == 1:
        name = plan.time_fields[0]
        kind = plan.time_kinds[0]
        for rec in records:
            v = rec[name]
            e = memo.get(v)
            if e is None:
                e = memo[v] = _epoch_of(v, kind)
            append(e)
        return epochs, {_month_of(v, kind) for v in memo}
    months: set[int] = set()
    for rec in records:
        v, kind = plan.event_time_value(rec)
        e = memo.get(v)
        if e is None:
            e = memo[v] = _epoch_of(v, kind)
            months.add(_month_of(v, kind))
        append(e)
    return epochs, months


# ---------------------------------------------------------------------------------------------
# per-interface plans
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    interface: InterfaceSpec
    kind: str  # "position" | "event" | "baseinfo"
    time_fields: tuple[str, ...]
    time_kinds: tuple[FieldKind, ...]
    key_fields: tuple[str, ...]  # natural key without CompanyId
    region_field: str | None
    # Personal data (personal_data.py): stored as lookup_hash in the natural key, as tokens in
    # the stored JSON record.
    personal: personal_data.InterfacePersonalData | None = None

    def event_time_value(self, rec: Record) -> tuple[int, FieldKind]:
        for name, kind in zip(self.time_fields, self.time_kinds, strict=True):
            v = rec.get(name)
            if v is not None:
                return v, kind
        raise KeyError(self.time_fields[0])  # pragma: no cover - required fields guarantee one

    def natural_key(self, rec: Record) -> str:
        if not self.key_fields:
            return str(rec["CompanyId"])
        if len(self.key_fields) == 1:
            return str(rec[self.key_fields[0]])
        return "|".join(str(rec[f]).replace("\\", "\\\\").replace("|", "\\|") for f in self.key_fields)

    def stored_key(self, rec: Record, sealer: personal_data.Sealer) -> str:
        """The natural key as stored: personal key fields (LicenseId, PassengerPhone) hashed."""
        hashed = self.personal.key_fields if self.personal else ()
        if not hashed:
            return self.natural_key(rec)
        return self.natural_key({**rec, **{f: sealer.hash(rec[f]) for f in hashed}})

    def stored_keys(self, records: list[Record], sealer: personal_data.Sealer) -> list[str]:
        """:meth:`stored_key` of each record; one comprehension for a one-field key that is not
        personal (OrderId, RouteId: the order streams)."""
        hashed = self.personal.key_fields if self.personal else frozenset()
        if len(self.key_fields) == 1 and not hashed:
            name = self.key_fields[0]
            return [str(rec[name]) for rec in records]
        return [self.stored_key(rec, sealer) for rec in records]

    def stored_record(self, rec: Record, sealer: personal_data.Sealer) -> Record:
        """The record as stored in JSON: personal values as encrypt_field tokens."""
        return sealer.seal(self.personal, rec) if self.personal and self.personal.any else rec


_PLANS: dict[str, _Plan] = {}


def plan_for(interface: InterfaceSpec) -> _Plan:
    plan = _PLANS.get(interface.type)
    if plan is None:
        times: tuple[str, ...]
        if interface.category == "position":
            kind, times = "position", ("PositionTime",)
        elif interface.version_field:
            kind, times = "baseinfo", (interface.version_field,)
        else:
            kind, times = "event", EVENT_TIME_FIELDS[interface.type]
        region = next((f.name for f in interface.fields if f.region_code), None)
        plan = _Plan(
            interface=interface,
            kind=kind,
            time_fields=times,
            time_kinds=tuple(
                FieldKind.DATE if interface.field_map[t].kind is FieldKind.DATE else FieldKind.DATETIME
                for t in times
            ),
            key_fields=tuple(f for f in interface.natural_key if f != "CompanyId"),
            region_field=region,
            personal=personal_data.for_interface(interface.type),
        )
        _PLANS[interface.type] = plan
    return plan
