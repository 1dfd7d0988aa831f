"""The rule engine: records in, incident signals out, O(1) per record and rule.

Pure evaluation - no database here. The caller gives it the compiled rules, a state store (a dict
``subject key -> JSON-able dict``: the per-vehicle/driver/company-city memory of every rule) and a
:class:`Context` answering the registry questions (licence state at a time, licensed cities, city
extents) from data it prefetched for the batch. ``live.py`` runs it on the ingest path with the
state locked in the database; ``dryrun.py`` on yesterday's stored records with state in memory;
``bench/alarm_engine.py`` with everything in memory.

Incidents: each rule keeps ``{"o": 1}`` in the subject's state while its incident is open, so an
incident opens once (not per record) and the engine emits ``close`` (or ``ended`` for rules that
wait for staff) when the condition is over. Evidence (the record, a track point) is emitted while
an incident is open and bounded by the caller.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from yunzheng.alarms.kinds import SOS_BIT, WARN_BITS, CompiledSchedule

OPEN = "open"
EVIDENCE = "evidence"
CLOSE = "close"
ENDED = "ended"  # the condition is over but the rule leaves closing to staff (SOS)

Record = Mapping[str, Any]
State = dict[str, Any]

IN_SERVICE = frozenset({1, 2, 3})  # BizStatus 载客 / 接单 / 空驶
CARRYING = 1


@dataclass(frozen=True)
class RuleSpec:
    id: int
    version: int
    kind: str
    severity: str
    region_prefix: str  # "" nationwide, "33" a province, "3301" a city, "330106" a county
    schedule: CompiledSchedule
    params: Mapping[str, Any]
    name: str = ""

    @property
    def is_sos(self) -> bool:
        return self.kind == "warn_status" and SOS_BIT in self.params.get("bits", ())


@dataclass(slots=True)
class Signal:
    action: str
    rule: RuleSpec
    subject: str
    company_pk: int
    at: int  # unix seconds of the triggering record
    region: int
    vehicle_no: str = ""
    driver_hash: str = ""
    driver_display: str = ""
    order_id: str = ""
    detail: str = ""
    record: dict[str, Any] | None = None
    point: tuple[int, int, int] | None = None


class Context(Protocol):
    def licence_state(self, kind: str, identifier: str, epoch: int) -> str: ...

    def city_licensed(self, company_pk: int, city: int, epoch: int) -> bool | None:
        """True/False; None when the company has no operating-licence record at all."""
        ...

    def city_bounds(self, city: int) -> Any | None: ...


def region_prefix(code: str) -> str:
    """The prefix a rule's region covers: 330000 -> "33", 330100 -> "3301", 330106 -> "330106"."""
    if not code:
        return ""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


# ---------------------------------------------------------------------------------------------
# time: YYYYMMDDhhmmss (Beijing) -> unix seconds, memoised per day
# ---------------------------------------------------------------------------------------------

_DAYS: dict[int, int] = {}


def dt14_epoch(v: int) -> int:
    d8, hms = divmod(v, 1_000_000)
    base = _DAYS.get(d8)
    if base is None:
        y, md = divmod(d8, 10000)
        m, d = divmod(md, 100)
        base = calendar.timegm((y, m, d, 0, 0, 0)) - 8 * 3600
        if len(_DAYS) > 4096:
            _DAYS.clear()
        _DAYS[d8] = base
    h, ms = divmod(hms, 10_000)
    mi, s = divmod(ms, 100)
    return base + h * 3600 + mi * 60 + s


def city_of(code: int) -> int:
    return code if code % 10000 == 0 else code // 100 * 100


# ---------------------------------------------------------------------------------------------
# subjects
# ---------------------------------------------------------------------------------------------


def vehicle_key(company_pk: int, plate: str) -> str:
    return f"v:{company_pk}:{plate}"


def driver_key(company_pk: int, driver_hash: str) -> str:
    return f"d:{company_pk}:{driver_hash}"


def city_key(company_pk: int, city: int) -> str:
    return f"c:{company_pk}:{city}"


#: Which record types each per-record kind reads.
KIND_INTERFACES: dict[str, frozenset[str]] = {
    "unlicensed_order": frozenset({"orderMatch", "operateDepart"}),
    "outside_licensed_cities": frozenset({"orderCreate", "orderMatch", "operatePay"}),
    "out_of_city": frozenset({"positionVehicle"}),
    "continuous_driving": frozenset({"positionVehicle"}),
    "warn_status": frozenset({"positionVehicle"}),
    "fare_band": frozenset({"operatePay"}),
    "stale_feed": frozenset(),  # the tick (periodic.py) opens and closes it from the state columns
    "clustering": frozenset(),  # likewise
}
#: Record types that update a vehicle's common state even without a rule.
STATE_INTERFACES = frozenset({"positionVehicle", "operateLogin", "operateLogout"})
REGION_FIELDS = {
    "positionVehicle": "VehicleRegionCode",
    "positionDriver": "DriverRegionCode",
    "orderCreate": "Address",
    "orderMatch": "Address",
    "orderCancel": "Address",
    "operatePay": "OnArea",
}
TIME_FIELDS = {
    "positionVehicle": "PositionTime",
    "positionDriver": "PositionTime",
    "orderCreate": "OrderTime",
    "orderMatch": "DistributeTime",
    "operateDepart": "DepTime",
    "operateArrive": "DestTime",
    "operatePay": "DepTime",
    "operateLogin": "LoginTime",
    "operateLogout": "LogoutTime",
}
#: Fields an alarm may keep as evidence (none personal).
EVIDENCE_FIELDS = (
    "OrderId",
    "VehicleNo",
    "VehicleRegionCode",
    "PositionTime",
    "Longitude",
    "Latitude",
    "Speed",
    "WarnStatus",
    "BizStatus",
    "Address",
    "OnArea",
    "DistributeTime",
    "OrderTime",
    "DepTime",
    "DestTime",
    "FactPrice",
    "DriveMile",
    "DriveTime",
)


def evidence_of(interface: str, rec: Record) -> dict[str, Any]:
    out: dict[str, Any] = {"interface": interface}
    for name in EVIDENCE_FIELDS:
        value = rec.get(name)
        if value is not None and value != "":
            out[name] = value
    masked = rec.get("_driver_display")
    if masked:
        out["Driver"] = masked
    return out


def subject_keys(company_pk: int, interface: str, records: Iterable[Record], company_region: int) -> set[str]:
    """Every state key a batch may touch (the live path locks exactly these rows)."""
    keys: set[str] = set()
    if interface in ("positionVehicle", "operateLogin", "operateLogout", "operatePay", "operateDepart"):
        keys.update(vehicle_key(company_pk, r["VehicleNo"]) for r in records)
    if interface in ("orderMatch", "operateDepart"):
        for r in records:
            keys.add(vehicle_key(company_pk, r["VehicleNo"]))
            keys.add(driver_key(company_pk, r["LicenseId"]))
    if interface in ("orderCreate", "orderMatch", "operatePay"):
        field_name = REGION_FIELDS[interface]
        keys.update(city_key(company_pk, city_of(int(r.get(field_name) or company_region))) for r in records)
    return keys


# ---------------------------------------------------------------------------------------------
# the engine
# ---------------------------------------------------------------------------------------------

Handler = Callable[["Engine", RuleSpec, State, str, Record, int, int, int, Context, list[Signal]], None]


@dataclass
class Engine:
    rules: Sequence[RuleSpec]
    _select: dict[tuple[str, int], tuple[tuple[Handler, RuleSpec], ...]] = field(default_factory=dict)

    def rules_for(self, interface: str, region: int) -> tuple[tuple[Handler, RuleSpec], ...]:
        """The (handler, rule) pairs for a record type in a region - cached, so O(1) per record."""
        key = (interface, region)
        found = self._select.get(key)
        if found is None:
            text = f"{region:06d}"
            found = tuple(
                (HANDLERS[r.kind], r)
                for r in self.rules
                if interface in KIND_INTERFACES.get(r.kind, ()) and text.startswith(r.region_prefix)
            )
            self._select[key] = found
        return found

    def process(
        self,
        *,
        company_pk: int,
        company_region: int,
        interface: str,
        records: Iterable[Record],
        states: dict[str, State],
        ctx: Context,
        out: list[Signal],
    ) -> None:
        """Evaluate one batch (records of one company and interface, in time order)."""
        if interface == "positionVehicle":
            self._positions(company_pk, records, states, ctx, out)
            return
        time_field = TIME_FIELDS.get(interface)
        if time_field is None:
            return
        region_field = REGION_FIELDS.get(interface)
        for rec in records:
            t = dt14_epoch(rec[time_field])
            region = int(rec.get(region_field) or company_region) if region_field else company_region
            if interface == "operateLogout" or interface == "operateLogin":
                st = states.setdefault(vehicle_key(company_pk, rec["VehicleNo"]), {})
                st["svc"] = 1 if interface == "operateLogin" else 0
                continue
            for handler, rule in self.rules_for(interface, region):
                if rule.schedule.always or rule.schedule.active(t):
                    handler(self, rule, states, interface, rec, t, region, company_pk, ctx, out)

    def _positions(
        self,
        company_pk: int,
        records: Iterable[Record],
        states: dict[str, State],
        ctx: Context,
        out: list[Signal],
    ) -> None:
        rules_for = self.rules_for
        for rec in records:
            t = dt14_epoch(rec["PositionTime"])
            region = rec["VehicleRegionCode"]
            key = f"v:{company_pk}:{rec['VehicleNo']}"
            st = states.get(key)
            if st is None:
                st = states[key] = {}
            if t < st.get("t", 0):
                continue  # a late, out-of-order position: never moves a vehicle's state backwards
            biz = rec.get("BizStatus")
            st["t"] = t
            st["x"] = rec["Longitude"]
            st["y"] = rec["Latitude"]
            st["g"] = region
            st["svc"] = 1 if biz in IN_SERVICE else 0
            for handler, rule in rules_for("positionVehicle", region):
                if rule.schedule.always or rule.schedule.active(t):
                    handler(self, rule, st, key, rec, t, region, company_pk, ctx, out)


def _sub(st: State, rule: RuleSpec) -> State:
    r = st.get("r")
    if r is None:
        r = st["r"] = {}
    rid = str(rule.id)
    sub = r.get(rid)
    if sub is None:
        sub = r[rid] = {}
    return sub


def _signal(
    action: str,
    rule: RuleSpec,
    subject: str,
    company_pk: int,
    t: int,
    region: int,
    interface: str,
    rec: Record,
    detail: str = "",
    *,
    with_point: bool = False,
) -> Signal:
    return Signal(
        action,
        rule,
        subject,
        company_pk,
        t,
        region,
        vehicle_no=rec.get("VehicleNo", ""),
        driver_hash=rec.get("LicenseId", "") if interface != "positionVehicle" else "",
        driver_display=rec.get("_driver_display", ""),
        order_id=rec.get("OrderId", ""),
        detail=detail,
        record=evidence_of(interface, rec) if action != CLOSE else None,
        point=(rec["Longitude"], rec["Latitude"], t) if with_point else None,
    )


# --- positions (st is the vehicle's state; the subject is the vehicle) -------------------------


def _warn_status(
    engine: Engine,
    rule: RuleSpec,
    st: State,
    key: str,
    rec: Record,
    t: int,
    region: int,
    cpk: int,
    ctx: Context,
    out: list[Signal],
) -> None:
    mask = rule.params.get("_mask")
    if mask is None:
        mask = 0
        for bit in rule.params["bits"]:
            mask |= 1 << bit
    active = (rec.get("WarnStatus") or 0) & mask
    sub = _sub(st, rule)
    state = sub.get("o", 0)  # 0 closed, 1 open, 2 open but the condition ended (waits for staff)
    if active:
        if state == 1:
            out.append(_signal(EVIDENCE, rule, key, cpk, t, region, "positionVehicle", rec, with_point=True))
        else:
            sub["o"] = 1
            names = ", ".join(str(WARN_BITS[b]) for b in rule.params["bits"] if active >> b & 1)
            out.append(
                _signal(OPEN, rule, key, cpk, t, region, "positionVehicle", rec, names, with_point=True)
            )
    elif state == 1:
        if rule.params.get("auto_close", True):
            sub["o"] = 0
            out.append(_signal(CLOSE, rule, key, cpk, t, region, "positionVehicle", rec))
        else:
            sub["o"] = 0  # the next set bit is a new incident; the open alarm waits for staff
            out.append(_signal(ENDED, rule, key, cpk, t, region, "positionVehicle", rec))


def _out_of_city(
    engine: Engine,
    rule: RuleSpec,
    st: State,
    key: str,
    rec: Record,
    t: int,
    region: int,
    cpk: int,
    ctx: Context,
    out: list[Signal],
) -> None:
    sub = _sub(st, rule)
    outside = False
    if rec.get("BizStatus") == CARRYING:
        bounds = ctx.city_bounds(city_of(region))
        outside = bounds is not None and not bounds.contains(rec["Longitude"], rec["Latitude"])
    if outside:
        since = sub.get("s")
        if since is None:
            sub["s"] = since = t
        if sub.get("o"):
            out.append(_signal(EVIDENCE, rule, key, cpk, t, region, "positionVehicle", rec, with_point=True))
        elif t - since >= rule.params["minutes"] * 60:
            sub["o"] = 1
            minutes = (t - since) // 60
            detail = f"{minutes} min outside {city_of(region)} carrying passengers"
            out.append(
                _signal(OPEN, rule, key, cpk, t, region, "positionVehicle", rec, detail, with_point=True)
            )
    else:
        sub.pop("s", None)
        if sub.get("o"):
            sub["o"] = 0
            out.append(_signal(CLOSE, rule, key, cpk, t, region, "positionVehicle", rec))


def _continuous_driving(
    engine: Engine,
    rule: RuleSpec,
    st: State,
    key: str,
    rec: Record,
    t: int,
    region: int,
    cpk: int,
    ctx: Context,
    out: list[Signal],
) -> None:
    p = rule.params
    brk = p["break_minutes"] * 60
    sub = _sub(st, rule)
    last = sub.get("l")
    sub["l"] = t
    if last is not None and t - last >= brk:  # no position for a break's length: a break
        sub.pop("d", None)
        sub.pop("p", None)
    moving = (rec.get("Speed") or 0) > p["moving_speed_kmh"]
    if moving:
        sub.pop("p", None)
        start = sub.get("d")
        if start is None:
            sub["d"] = start = t
        if sub.get("o"):
            out.append(_signal(EVIDENCE, rule, key, cpk, t, region, "positionVehicle", rec, with_point=True))
        elif t - start >= p["hours"] * 3600:
            sub["o"] = 1
            detail = f"driving {(t - start) // 60} min without a {p['break_minutes']} min break"
            out.append(
                _signal(OPEN, rule, key, cpk, t, region, "positionVehicle", rec, detail, with_point=True)
            )
        return
    paused = sub.get("p")
    if paused is None:
        sub["p"] = paused = t
    if t - paused >= brk or (last is not None and t - last >= brk):
        sub.pop("d", None)
        if sub.get("o"):
            sub["o"] = 0
            out.append(_signal(CLOSE, rule, key, cpk, t, region, "positionVehicle", rec))


# --- orders (states is the whole store; subjects vary) -----------------------------------------


def _order_incident(
    rule: RuleSpec,
    states: Any,
    key: str,
    cpk: int,
    t: int,
    region: int,
    interface: str,
    rec: Record,
    out: list[Signal],
    *,
    problem: str | None,
) -> None:
    """One incident per subject for the order kinds: while ``problem`` holds, the first record
    opens the alarm and later ones add evidence; the first record without it closes the alarm."""
    st = states.get(key)
    if st is None:
        st = states[key] = {}
    sub = _sub(st, rule)
    if problem is not None:
        if sub.get("o"):
            out.append(_signal(EVIDENCE, rule, key, cpk, t, region, interface, rec))
        else:
            sub["o"] = 1
            out.append(_signal(OPEN, rule, key, cpk, t, region, interface, rec, problem))
    elif sub.get("o"):
        sub["o"] = 0
        out.append(_signal(CLOSE, rule, key, cpk, t, region, interface, rec))


def _unlicensed_order(
    engine: Engine,
    rule: RuleSpec,
    states: Any,
    interface: str,
    rec: Record,
    t: int,
    region: int,
    cpk: int,
    ctx: Context,
    out: list[Signal],
) -> None:
    for kind in rule.params["check"]:
        ident = rec["LicenseId"] if kind == "driver" else rec["VehicleNo"]
        key = driver_key(cpk, ident) if kind == "driver" else vehicle_key(cpk, ident)
        licence = ctx.licence_state(kind, ident, t)
        problem = (
            None
            if licence == "valid"
            else f"{kind} {licence} at {interface} of order {rec.get('OrderId', '')}"
        )
        _order_incident(rule, states, key, cpk, t, region, interface, rec, out, problem=problem)


def _outside_licensed_cities(
    engine: Engine,
    rule: RuleSpec,
    states: Any,
    interface: str,
    rec: Record,
    t: int,
    region: int,
    cpk: int,
    ctx: Context,
    out: list[Signal],
) -> None:
    city = city_of(region)
    licensed = ctx.city_licensed(cpk, city, t)
    if licensed is None:
        licensed = not rule.params.get("alarm_without_any_licence", False)
    problem = None if licensed else f"no operating licence in {city}"
    _order_incident(rule, states, city_key(cpk, city), cpk, t, region, interface, rec, out, problem=problem)


def _fare_band(
    engine: Engine,
    rule: RuleSpec,
    states: Any,
    interface: str,
    rec: Record,
    t: int,
    region: int,
    cpk: int,
    ctx: Context,
    out: list[Signal],
) -> None:
    p = rule.params
    price = float(rec.get("FactPrice") or 0)
    km = float(rec.get("DriveMile") or 0)
    seconds = int(rec.get("DriveTime") or 0)
    problems = []
    if km >= max(p.get("min_km") or 0, 0.01):
        per_km = price / km
        if (p.get("per_km_min") is not None and per_km < p["per_km_min"]) or (
            p.get("per_km_max") is not None and per_km > p["per_km_max"]
        ):
            problems.append(f"{per_km:.2f} yuan/km")
    if seconds >= 60:
        per_min = price / (seconds / 60)
        if (p.get("per_minute_min") is not None and per_min < p["per_minute_min"]) or (
            p.get("per_minute_max") is not None and per_min > p["per_minute_max"]
        ):
            problems.append(f"{per_min:.2f} yuan/min")
    problem = (
        f"order {rec.get('OrderId', '')}: {', '.join(problems)} (fare {price:.2f})" if problems else None
    )
    key = vehicle_key(cpk, rec["VehicleNo"])
    _order_incident(rule, states, key, cpk, t, region, interface, rec, out, problem=problem)


def _noop(*args: Any) -> None:
    return None


HANDLERS: dict[str, Any] = {
    "warn_status": _warn_status,
    "out_of_city": _out_of_city,
    "continuous_driving": _continuous_driving,
    "stale_feed": _noop,
    "unlicensed_order": _unlicensed_order,
    "outside_licensed_cities": _outside_licensed_cities,
    "fare_band": _fare_band,
    "clustering": _noop,
}


def compile_rule(
    *,
    id: int,
    version: int,
    kind: str,
    severity: str,
    region_code: str,
    schedule: CompiledSchedule,
    params: Mapping[str, Any],
    name: str = "",
) -> RuleSpec:
    """A RuleSpec with derived parameters precomputed (e.g. the WarnStatus bit mask)."""
    params = dict(params)
    if kind == "warn_status":
        mask = 0
        for bit in params.get("bits", ()):
            mask |= 1 << bit
        params["_mask"] = mask
    return RuleSpec(
        id=id,
        version=version,
        kind=kind,
        severity=severity,
        region_prefix=region_prefix(region_code),
        schedule=schedule,
        params=params,
        name=name,
    )
