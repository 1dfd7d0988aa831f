"""Reads of the supervision analytics for the dashboard, the API, exports and the bulletin.

Visibility: every read takes an :class:`AnalyticsScope` (from ``staff_scope``): the ministry sees
the country, a province its cities, a city itself. Scopes become an integer range over
``city_code`` in every query - there is no unscoped read here.

Definitions (see docs/adr/0050-supervision-compliance.md):
* an **order** is a completed order: an ``operatePay`` record; it counts on the Beijing day (and
  in the month) of its completion; its city is its pick-up region (OnArea);
* it is **compliant** when, at its departure time, the driver held a valid ride-hailing driver's
  qualification certificate and the vehicle a valid ride-hailing transport certificate;
* **rates** are compliant orders / orders (``None`` without orders); month-on-month change is in
  percentage points.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, ExpressionWrapper, F, IntegerField, Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company
from yunzheng.accounts.scopes import staff_scope
from yunzheng.exchange.models import POSITION_VEHICLE, PositionRecord, RejectStat, UploadStat
from yunzheng.exchange.spec.validation import BEIJING
from yunzheng.supervision import sql
from yunzheng.supervision.licences import day_start
from yunzheng.supervision.models import (
    ActivityDaily,
    CompanyCityLicence,
    ComplianceDaily,
    ComplianceRun,
    LicenceKind,
    LicencePeriod,
    LicenceState,
    OrderFact,
    PeriodStatus,
    PlatformProfile,
)
from yunzheng.supervision.regions import (
    Bounds,
    bounds_for_prefix,
    known_city_bounds,
    name_of,
    prefix_range,
)
from yunzheng.supervision.services import days_of, next_month, previous_month

VALID = LicenceState.VALID.value


# ---------------------------------------------------------------------------------------------
# scope
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalyticsScope:
    region_prefix: str  # "" nationwide, "33" a province, "3301" a city
    label: str

    @property
    def level(self) -> str:
        return {0: "ministry", 2: "province", 4: "city"}.get(len(self.region_prefix), "district")

    def city_range(self) -> tuple[int, int] | None:
        return prefix_range(self.region_prefix)

    def covers_city(self, city_code: int) -> bool:
        return f"{city_code:06d}".startswith(self.region_prefix)


def scope_for_user(user: Any) -> AnalyticsScope:
    """Staff only (PermissionDenied otherwise); the region decides what they see."""
    scope = staff_scope(user)
    return AnalyticsScope(region_prefix=scope.region_prefix, label=scope.region_name)


def national_scope() -> AnalyticsScope:
    return AnalyticsScope(region_prefix="", label=_("Nationwide"))


def _in_scope(qs: QuerySet[Any], scope: AnalyticsScope, column: str = "city_code") -> QuerySet[Any]:
    bounds = scope.city_range()
    return qs.filter(**{f"{column}__range": bounds}) if bounds else qs


def _month_rows(scope: AnalyticsScope, month: date, model: Any = ComplianceDaily) -> QuerySet[Any]:
    return _in_scope(model.objects.filter(day__gte=month, day__lt=next_month(month)), scope)


# ---------------------------------------------------------------------------------------------
# rates
# ---------------------------------------------------------------------------------------------


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class RateRow:
    key: Any
    label: str
    orders: int = 0
    both_ok: int = 0
    driver_ok: int = 0
    vehicle_ok: int = 0
    is_aggregator: bool = False
    rank: int = 0
    code: str = ""  # platforms: the company's CompanyId (supervision identifier)
    driver_reasons: dict[str, int] = field(default_factory=dict)
    vehicle_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return _ratio(self.both_ok, self.orders)

    @property
    def driver_rate(self) -> float | None:
        return _ratio(self.driver_ok, self.orders)

    @property
    def vehicle_rate(self) -> float | None:
        return _ratio(self.vehicle_ok, self.orders)

    @property
    def non_compliant(self) -> int:
        return self.orders - self.both_ok

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key if not isinstance(self.key, date) else self.key.isoformat(),
            "code": self.code,
            "label": self.label,
            "rank": self.rank,
            "orders": self.orders,
            "compliant": self.both_ok,
            "driver_ok": self.driver_ok,
            "vehicle_ok": self.vehicle_ok,
            "rate": self.rate,
            "driver_rate": self.driver_rate,
            "vehicle_rate": self.vehicle_rate,
            "is_aggregator": self.is_aggregator,
            "driver_reasons": self.driver_reasons,
            "vehicle_reasons": self.vehicle_reasons,
        }


GROUPS = ("platform", "city", "province", "day", "total")


def _group_key(by: str) -> dict[str, Any]:
    if by == "platform":
        return {"k": F("company_id")}
    if by == "city":
        return {"k": F("city_code")}
    if by == "province":
        return {"k": ExpressionWrapper(F("city_code") / 10000 * 10000, output_field=IntegerField())}
    if by == "day":
        return {"k": F("day")}
    return {}


def _labels(by: str, keys: Iterable[Any]) -> tuple[dict[Any, str], set[Any]]:
    keys = list(keys)
    if by == "platform":
        names = dict(Company.objects.filter(pk__in=keys).values_list("pk", "name"))
        profiles = {p.company_id: p for p in PlatformProfile.objects.filter(company_id__in=keys)}
        labels = {
            k: (
                profiles[k].display_name
                if k in profiles and profiles[k].display_name
                else names.get(k, str(k))
            )
            for k in keys
        }
        return labels, {k for k, p in profiles.items() if p.is_aggregator}
    if by in ("city", "province"):
        return {k: name_of(k) for k in keys}, set()
    if by == "day":
        return {k: k.isoformat() for k in keys}, set()
    return {k: _("Total") for k in keys}, set()


def group_rates(
    *,
    scope: AnalyticsScope,
    month: date,
    by: str = "platform",
    days: tuple[date, date] | None = None,
    company_id: int | None = None,
) -> list[RateRow]:
    """Orders and compliance per platform / city / province / day (or in total) of ``month``
    (or of the days [start, end) instead), sorted by volume (largest first; days by date)."""
    if by not in GROUPS:
        raise ValueError(f"by must be one of {GROUPS}")
    if days is not None:
        qs = _in_scope(ComplianceDaily.objects.filter(day__gte=days[0], day__lt=days[1]), scope)
    else:
        qs = _month_rows(scope, month)
    if company_id is not None:
        qs = qs.filter(company_id=company_id)
    key = _group_key(by)
    rows: dict[Any, RateRow] = {}
    grouped = (
        qs.annotate(**key).values("k", "driver_state", "vehicle_state")
        if key
        else qs.values("driver_state", "vehicle_state")
    )
    for item in grouped.annotate(n=Sum("orders")).order_by():
        k = item.get("k", "total")
        row = rows.setdefault(k, RateRow(key=k, label=""))
        n = int(item["n"])
        row.orders += n
        d_ok, v_ok = item["driver_state"] == VALID, item["vehicle_state"] == VALID
        row.driver_ok += n if d_ok else 0
        row.vehicle_ok += n if v_ok else 0
        row.both_ok += n if d_ok and v_ok else 0
        if not d_ok:
            row.driver_reasons[item["driver_state"]] = row.driver_reasons.get(item["driver_state"], 0) + n
        if not v_ok:
            row.vehicle_reasons[item["vehicle_state"]] = row.vehicle_reasons.get(item["vehicle_state"], 0) + n
    labels, aggregators = _labels(by, rows)
    codes = (
        dict(Company.objects.filter(pk__in=list(rows)).values_list("pk", "supervision_company_id"))
        if by == "platform"
        else {}
    )
    for k, row in rows.items():
        row.label = labels.get(k, str(k))
        row.is_aggregator = k in aggregators
        row.code = codes.get(k, "")
    if by == "day":
        return sorted(rows.values(), key=lambda r: r.key)
    ordered = sorted(rows.values(), key=lambda r: (-r.orders, r.label))
    for i, row in enumerate(ordered, start=1):
        row.rank = i
    return ordered


def month_total(*, scope: AnalyticsScope, month: date) -> RateRow:
    rows = group_rates(scope=scope, month=month, by="total")
    return rows[0] if rows else RateRow(key="total", label=_("Total"))


def daily_rates(*, scope: AnalyticsScope, month: date) -> list[RateRow]:
    """Every day of the month (days without orders included, with 0)."""
    found = {r.key: r for r in group_rates(scope=scope, month=month, by="day")}
    return [found.get(d) or RateRow(key=d, label=d.isoformat()) for d in days_of(month)]


def platform_ranking(
    *, scope: AnalyticsScope, month: date, aggregators: bool = False, limit: int | None = None
) -> list[RateRow]:
    """Platforms by order volume (rank 1 = most orders); aggregators are ranked separately."""
    rows = [r for r in group_rates(scope=scope, month=month, by="platform") if r.is_aggregator == aggregators]
    for i, row in enumerate(rows, start=1):
        row.rank = i
    return rows[:limit] if limit else rows


def top_platforms_limit() -> int:
    return int(getattr(settings, "SUPERVISION_TOP_PLATFORMS", 10))


def movers_min_orders() -> int:
    return int(getattr(settings, "SUPERVISION_MOVERS_MIN_ORDERS", 1000))


@dataclass
class Mover:
    key: Any
    label: str
    orders: int
    previous_orders: int
    rate: float
    previous_rate: float

    @property
    def change_points(self) -> float:
        return (self.rate - self.previous_rate) * 100

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "orders": self.orders,
            "previous_orders": self.previous_orders,
            "rate": self.rate,
            "previous_rate": self.previous_rate,
            "change_points": round(self.change_points, 4),
        }


@dataclass
class Movers:
    risers: list[Mover]
    fallers: list[Mover]


def movers(
    *,
    scope: AnalyticsScope,
    month: date,
    by: str = "platform",
    limit: int = 5,
    min_orders: int | None = None,
) -> Movers:
    """The largest month-on-month changes of the compliance rate (percentage points), among
    platforms (aggregators included) or cities with at least ``min_orders`` in both months."""
    floor = movers_min_orders() if min_orders is None else min_orders
    now = {r.key: r for r in group_rates(scope=scope, month=month, by=by)}
    before = {r.key: r for r in group_rates(scope=scope, month=previous_month(month), by=by)}
    both = []
    for k, row in now.items():
        prev = before.get(k)
        if prev is None or row.orders < floor or prev.orders < floor:
            continue
        both.append(Mover(k, row.label, row.orders, prev.orders, row.rate or 0.0, prev.rate or 0.0))
    risers = sorted((m for m in both if m.change_points > 0), key=lambda m: (-m.change_points, m.label))
    fallers = sorted((m for m in both if m.change_points < 0), key=lambda m: (m.change_points, m.label))
    return Movers(risers=risers[:limit], fallers=fallers[:limit])


def last_run(*, month: date) -> ComplianceRun | None:
    return ComplianceRun.objects.filter(month=month).order_by("-finished_at").first()


# ---------------------------------------------------------------------------------------------
# drill-down: the non-compliant orders and why
# ---------------------------------------------------------------------------------------------

REASONS = (
    "driver:unlicensed",
    "driver:expired",
    "driver:suspended",
    "driver:cancelled",
    "driver:revoked",
    "vehicle:unlicensed",
    "vehicle:expired",
    "vehicle:suspended",
    "vehicle:cancelled",
    "vehicle:revoked",
)


def reason_label(party: str, state: str) -> str:
    labels = {
        ("driver", "unlicensed"): _("Unlicensed driver"),
        ("driver", "expired"): _("Driver's certificate expired"),
        ("driver", "suspended"): _("Driver's certificate suspended"),
        ("driver", "cancelled"): _("Driver's certificate cancelled"),
        ("driver", "revoked"): _("Driver's certificate revoked"),
        ("vehicle", "unlicensed"): _("Unlicensed vehicle"),
        ("vehicle", "expired"): _("Vehicle's certificate expired"),
        ("vehicle", "suspended"): _("Vehicle's certificate suspended"),
        ("vehicle", "cancelled"): _("Vehicle's certificate cancelled"),
        ("vehicle", "revoked"): _("Vehicle's certificate revoked"),
    }
    return str(labels.get((party, state), state))


@dataclass(frozen=True)
class NonCompliantOrder:
    company_id: str
    company_name: str
    order_id: str
    city_code: int
    day: date
    served_at: datetime
    driver: str  # masked
    vehicle_no: str
    driver_state: str
    vehicle_state: str

    @property
    def reasons(self) -> list[str]:
        out = []
        if self.driver_state != VALID:
            out.append(reason_label("driver", self.driver_state))
        if self.vehicle_state != VALID:
            out.append(reason_label("vehicle", self.vehicle_state))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "company_id": self.company_id,
            "company_name": self.company_name,
            "order_id": self.order_id,
            "city_code": self.city_code,
            "city": name_of(self.city_code),
            "day": self.day.isoformat(),
            "served_at": self.served_at.isoformat(),
            "driver": self.driver,
            "vehicle_no": self.vehicle_no,
            "driver_state": self.driver_state,
            "vehicle_state": self.vehicle_state,
            "reasons": self.reasons,
        }


@dataclass
class NonCompliantPage:
    total: int
    rows: list[NonCompliantOrder]


def noncompliant_orders(
    *,
    scope: AnalyticsScope,
    month: date,
    company_id: int | None = None,
    city_code: int | None = None,
    day: date | None = None,
    reason: str = "",
    limit: int = 100,
    offset: int = 0,
) -> NonCompliantPage:
    """The month's orders whose driver or vehicle was not licensed at the order time, newest
    first, with the reasons (the licence states stored on each fact, see ``sql.py``)."""
    qs = _month_rows(scope, month, OrderFact).exclude(driver_state=VALID, vehicle_state=VALID)
    if company_id is not None:
        qs = qs.filter(company_id=company_id)
    if city_code is not None:
        qs = qs.filter(city_code=city_code)
    if day is not None:
        qs = qs.filter(day=day)
    if reason in REASONS:
        party, state = reason.split(":")
        qs = qs.filter(**{f"{party}_state": state})
    total = qs.count()
    start = max(0, offset)
    facts = list(qs.order_by("-day", "-served_at", "order_id")[start : start + max(1, min(limit, 10_000))])
    companies = {c.pk: c for c in Company.objects.filter(pk__in={f.company_id for f in facts})}
    drivers = _masked_drivers(facts)
    rows = [
        NonCompliantOrder(
            company_id=companies[f.company_id].supervision_company_id if f.company_id in companies else "",
            company_name=companies[f.company_id].name if f.company_id in companies else "",
            order_id=f.order_id,
            city_code=f.city_code,
            day=f.day,
            served_at=f.served_at,
            driver=drivers.get((f.company_id, f.order_id), "—"),
            vehicle_no=f.vehicle_no,
            driver_state=f.driver_state,
            vehicle_state=f.vehicle_state,
        )
        for f in facts
    ]
    return NonCompliantPage(total=total, rows=rows)


def _masked_drivers(facts: list[OrderFact]) -> dict[tuple[int, str], str]:
    """The masked licence number of each fact's driver: facts keep only its keyed hash, the
    exchange's pay record keeps it encrypted (``personal_data.mask_record`` decrypts and masks)."""
    from yunzheng.exchange.models import EventRecord
    from yunzheng.exchange.personal_data import mask_record

    by_company: dict[int, list[str]] = {}
    for f in facts:
        by_company.setdefault(f.company_id, []).append(f.order_id)
    out: dict[tuple[int, str], str] = {}
    pay = sql.ipc("operatePay")
    for company_id, orders in by_company.items():
        for i in range(0, len(orders), 1000):
            records = EventRecord.objects.filter(
                company_id=company_id, order_id__in=orders[i : i + 1000], interface=pay
            ).values_list("order_id", "payload")
            for order_id, payload in records:
                out[(company_id, order_id)] = str(mask_record("operatePay", payload).get("LicenseId", "—"))
    return out


def company_by_supervision_id(*, supervision_company_id: str) -> Company | None:
    return Company.objects.filter(supervision_company_id=supervision_company_id).first()


# ---------------------------------------------------------------------------------------------
# activity: cancellations by party, complaints
# ---------------------------------------------------------------------------------------------

CANCEL_METRICS = (
    ActivityDaily.Metric.CANCEL_PASSENGER,
    ActivityDaily.Metric.CANCEL_DRIVER,
    ActivityDaily.Metric.CANCEL_PLATFORM,
    ActivityDaily.Metric.CANCEL_OTHER,
)


@dataclass
class ActivitySeries:
    days: list[date]
    by_metric: dict[str, list[int]]  # metric -> count per day

    def total(self, metric: str) -> int:
        return sum(self.by_metric.get(metric, []))


def activity_series(*, scope: AnalyticsScope, month: date) -> ActivitySeries:
    days = days_of(month)
    index = {d: i for i, d in enumerate(days)}
    series: dict[str, list[int]] = {m: [0] * len(days) for m in ActivityDaily.Metric.values}
    for item in (
        _month_rows(scope, month, ActivityDaily).values("day", "metric").annotate(n=Sum("count")).order_by()
    ):
        series[item["metric"]][index[item["day"]]] += int(item["n"])
    return ActivitySeries(days=days, by_metric=series)


# ---------------------------------------------------------------------------------------------
# data quality and timeliness, per company
# ---------------------------------------------------------------------------------------------


@dataclass
class QualityRow:
    company_pk: int
    company_id: str
    company_name: str
    received: int = 0
    rejected: int = 0
    lag_avg_seconds: float | None = None
    lag_max_seconds: int = 0
    last_received_at: datetime | None = None
    top_rejects: list[tuple[str, str, int]] = field(default_factory=list)
    licensed_cities: list[int] = field(default_factory=list)
    silent_cities: list[int] = field(default_factory=list)
    orders: int = 0
    zero_duration: int = 0
    sub_km_paid: int = 0
    epoch_time: int = 0
    out_of_order: int = 0
    positions_checked: int = 0
    positions_outside: int = 0
    positions_epoch: int = 0

    @property
    def reject_share(self) -> float | None:
        return _ratio(self.rejected, self.received)

    @property
    def hours_since_last(self) -> float | None:
        if self.last_received_at is None:
            return None
        return (timezone.now() - self.last_received_at).total_seconds() / 3600

    def issues(self) -> list[str]:
        """Short names of what needs attention (thresholds in settings)."""
        out = []
        lag_limit = int(getattr(settings, "SUPERVISION_LAG_LIMIT_SECONDS", 300))
        silence = float(getattr(settings, "SUPERVISION_SILENCE_HOURS", 24))
        reject_limit = float(getattr(settings, "SUPERVISION_REJECT_SHARE_LIMIT", 0.01))
        if self.lag_avg_seconds is not None and self.lag_avg_seconds > lag_limit:
            out.append("lag")
        if self.hours_since_last is None or self.hours_since_last > silence:
            out.append("silent")
        if (self.reject_share or 0) > reject_limit:
            out.append("rejects")
        if self.silent_cities:
            out.append("silent_cities")
        if self.zero_duration or self.sub_km_paid or self.epoch_time or self.positions_epoch:
            out.append("implausible")
        if self.positions_outside:
            out.append("outside_city")
        if self.out_of_order:
            out.append("out_of_order")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "company_id": self.company_id,
            "company_name": self.company_name,
            "received": self.received,
            "rejected": self.rejected,
            "reject_share": self.reject_share,
            "lag_avg_seconds": self.lag_avg_seconds,
            "lag_max_seconds": self.lag_max_seconds,
            "last_received_at": self.last_received_at.isoformat() if self.last_received_at else None,
            "hours_since_last": self.hours_since_last,
            "top_rejects": [{"field": f, "code": c, "count": n} for f, c, n in self.top_rejects],
            "licensed_cities": self.licensed_cities,
            "silent_cities": self.silent_cities,
            "orders": self.orders,
            "zero_duration": self.zero_duration,
            "sub_km_paid": self.sub_km_paid,
            "epoch_time": self.epoch_time,
            "out_of_order": self.out_of_order,
            "positions_checked": self.positions_checked,
            "positions_outside": self.positions_outside,
            "positions_epoch": self.positions_epoch,
            "issues": self.issues(),
        }


ISSUES = ("lag", "silent", "rejects", "silent_cities", "implausible", "outside_city", "out_of_order")


def issue_label(issue: str) -> str:
    labels = {
        "lag": _("Slow uploads"),
        "silent": _("No recent data"),
        "rejects": _("Many rejected records"),
        "silent_cities": _("Licensed city without data"),
        "implausible": _("Implausible trips"),
        "outside_city": _("Positions outside the city"),
        "out_of_order": _("Events out of order"),
    }
    return str(labels.get(issue, issue))


def _scope_companies(scope: AnalyticsScope, since_day: date) -> QuerySet[Company]:
    """Companies a regulator watches: registered in the region, licensed in one of its cities,
    or with completed orders there recently."""
    bounds = scope.city_range()
    if bounds is None:
        return Company.objects.all()
    licensed = _in_scope(CompanyCityLicence.objects.all(), scope).values("company_id")
    active = _in_scope(OrderFact.objects.filter(day__gte=since_day), scope).values("company_id")
    return Company.objects.filter(
        Q(region_code__startswith=scope.region_prefix) | Q(pk__in=licensed) | Q(pk__in=active)
    ).distinct()


def _city_code_range(scope: AnalyticsScope) -> tuple[str, str] | None:
    bounds = scope.city_range()
    return (f"{bounds[0]:06d}", f"{bounds[1]:06d}") if bounds else None


def quality_report(
    *, scope: AnalyticsScope, days: int = 7, now: datetime | None = None, company_id: int | None = None
) -> list[QualityRow]:
    """Timeliness and plausibility of each company's data over the last ``days`` days."""
    now = now or timezone.now()
    today = now.astimezone(BEIJING).date()
    since_day = today - timedelta(days=days - 1)
    companies = _scope_companies(scope, since_day)
    if company_id is not None:
        companies = companies.filter(pk=company_id)
    rows = {c.pk: QualityRow(c.pk, c.supervision_company_id, c.name) for c in companies}
    if not rows:
        return []
    pks = list(rows)
    production = "production"
    stats = UploadStat.objects.filter(company_id__in=pks, environment=production, day__gte=since_day)
    for item in stats.values("company_id").annotate(
        received=Sum("received"),
        rejected=Sum("rejected"),
        lag_count=Sum("lag_count"),
        lag_sum=Sum("lag_sum_seconds"),
        lag_max=Max("lag_max_seconds"),
    ):
        row = rows[item["company_id"]]
        row.received, row.rejected = int(item["received"] or 0), int(item["rejected"] or 0)
        row.lag_avg_seconds = (item["lag_sum"] / item["lag_count"]) if item["lag_count"] else None
        row.lag_max_seconds = int(item["lag_max"] or 0)
    last = UploadStat.objects.filter(company_id__in=pks, environment=production).values("company_id")
    for item in last.annotate(at=Max("last_received_at")):
        rows[item["company_id"]].last_received_at = item["at"]
    rejects = (
        RejectStat.objects.filter(company_id__in=pks, environment=production, day__gte=since_day)
        .values("company_id", "field", "code")
        .annotate(n=Sum("count"))
        .order_by("company_id", "-n")
    )
    for item in rejects:
        row = rows[item["company_id"]]
        if len(row.top_rejects) < 3:
            row.top_rejects.append((item["field"], item["code"], int(item["n"])))

    # Licensed cities without any completed order or cancellation in the window.
    day_now = today
    licences = CompanyCityLicence.objects.filter(company_id__in=pks, valid_from__lte=day_now).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day_now)
    )
    city_range = _city_code_range(scope)
    if city_range:
        licences = licences.filter(city_code__range=city_range)
    active: set[tuple[int, int]] = set(
        OrderFact.objects.filter(company_id__in=pks, day__gte=since_day)
        .values_list("company_id", "city_code")
        .distinct()
    ) | set(
        ActivityDaily.objects.filter(company_id__in=pks, day__gte=since_day)
        .values_list("company_id", "city_code")
        .distinct()
    )
    for lic in licences.order_by("city_code"):
        row = rows[lic.company_id]
        code = int(lic.city_code)
        if code not in row.licensed_cities:
            row.licensed_cities.append(code)
            if (lic.company_id, code) not in active:
                row.silent_cities.append(code)

    # Implausible completed orders (flags set at extraction).
    facts = _in_scope(OrderFact.objects.filter(company_id__in=pks, day__gte=since_day), scope)
    flag_counts = facts.values("company_id").annotate(
        orders=Count("id"),
        **{name: Count("id", filter=_bit(bit)) for name, bit in sql.FLAGS.items()},
    )
    for item in flag_counts:
        row = rows[item["company_id"]]
        row.orders = int(item["orders"])
        for name in sql.FLAGS:
            setattr(row, name, int(item[name]))

    # Positions of the last hours outside the extent of the city they claim, or dated before 2000.
    hours = int(getattr(settings, "SUPERVISION_POSITION_CHECK_HOURS", 24))
    since = now - timedelta(hours=hours)
    outside = _outside_city_q(known_city_bounds())
    positions = PositionRecord.objects.filter(
        company_id__in=pks, interface=POSITION_VEHICLE, position_time__gte=since, position_time__lte=now
    )
    bounds = scope.city_range()
    if bounds:
        positions = positions.filter(region_code__range=bounds)
    for item in (
        positions.values("company_id").annotate(n=Count("id"), out=Count("id", filter=outside)).order_by()
    ):
        row = rows[item["company_id"]]
        row.positions_checked, row.positions_outside = int(item["n"]), int(item["out"])
    epoch = PositionRecord.objects.filter(
        company_id__in=pks, position_time__lt=datetime(2000, 1, 1, tzinfo=UTC), received_at__gte=since
    )
    for item in epoch.values("company_id").annotate(n=Count("id")).order_by():
        rows[item["company_id"]].positions_epoch = int(item["n"])
    return sorted(rows.values(), key=lambda r: (-len(r.issues()), r.company_name))


def _bit(bit: int) -> Q:
    """flags & bit != 0, portably: flags is a 4-bit mask, so list the values with that bit."""
    return Q(flags__in=[v for v in range(16) if v & bit])


def _outside_city_q(cities: dict[int, Bounds]) -> Q:
    q = Q(pk__in=[])
    for code, b in cities.items():
        q |= Q(region_code__gte=code, region_code__lte=code + 99) & (
            Q(longitude__lt=b.lon_min)
            | Q(longitude__gt=b.lon_max)
            | Q(latitude__lt=b.lat_min)
            | Q(latitude__gt=b.lat_max)
        )
    return q


# ---------------------------------------------------------------------------------------------
# map: current vehicle positions, trip density
# ---------------------------------------------------------------------------------------------


@dataclass
class MapData:
    bounds: dict[str, float] | None
    vehicles: list[list[float]]  # [lon, lat, biz status]
    density: list[list[float]]  # [lon, lat, trips] per grid cell
    minutes: int
    cell_degrees: float


def vehicle_positions(*, scope: AnalyticsScope, now: datetime | None = None) -> tuple[list[list[float]], int]:
    """The latest position of each vehicle seen in the last SUPERVISION_MAP_MINUTES minutes."""
    now = now or timezone.now()
    minutes = int(getattr(settings, "SUPERVISION_MAP_MINUTES", 30))
    limit = int(getattr(settings, "SUPERVISION_MAP_MAX_VEHICLES", 5000))
    qs = PositionRecord.objects.filter(
        interface=POSITION_VEHICLE,
        position_time__gte=now - timedelta(minutes=minutes),
        position_time__lte=now,
    )
    bounds = scope.city_range()
    if bounds:
        qs = qs.filter(region_code__range=bounds)
    seen: set[tuple[int, str]] = set()
    out: list[list[float]] = []
    fields = ("company_id", "vehicle_no", "longitude", "latitude", "biz_status")
    for company, vehicle, lon, lat, biz in (
        qs.order_by("-position_time").values_list(*fields)[: limit * 50].iterator()
    ):
        if (company, vehicle) in seen:
            continue
        seen.add((company, vehicle))
        out.append([lon / 1e6, lat / 1e6, int(biz or 0)])
        if len(out) >= limit:
            break
    return out, minutes


def trip_density(*, scope: AnalyticsScope, month: date, cell_degrees: float = 0.01) -> list[list[float]]:
    """Departure points of the month's completed orders, counted per grid cell."""
    cell = max(1000, int(cell_degrees * 1e6))
    qs = _month_rows(scope, month, OrderFact).filter(dep_lon__isnull=False, dep_lat__isnull=False)
    grid = (
        qs.annotate(
            gx=ExpressionWrapper(F("dep_lon") / cell, output_field=IntegerField()),
            gy=ExpressionWrapper(F("dep_lat") / cell, output_field=IntegerField()),
        )
        .values("gx", "gy")
        .annotate(n=Count("id"))
        .order_by("-n")[:5000]
    )
    return [[(g["gx"] + 0.5) * cell / 1e6, (g["gy"] + 0.5) * cell / 1e6, int(g["n"])] for g in grid]


def map_data(*, scope: AnalyticsScope, month: date, now: datetime | None = None) -> MapData:
    vehicles, minutes = vehicle_positions(scope=scope, now=now)
    density = trip_density(scope=scope, month=month)
    frame: Bounds | None = bounds_for_prefix(scope.region_prefix)
    return MapData(
        bounds=frame.as_degrees() if frame else None,
        vehicles=vehicles,
        density=density,
        minutes=minutes,
        cell_degrees=0.01,
    )


# ---------------------------------------------------------------------------------------------
# licences issued (for the bulletin)
# ---------------------------------------------------------------------------------------------


def licences_in_force(*, scope: AnalyticsScope, kind: str, on: date) -> int:
    """Identifiers holding a period in force at the end of ``on`` (issuing region in scope)."""
    end = day_start(on + timedelta(days=1))
    qs = LicencePeriod.objects.filter(kind=kind, valid_from__lte=on, valid_until__gte=on).filter(
        Q(status=PeriodStatus.VALID) | Q(status_changed_at__gte=end)
    )
    from yunzheng.supervision.services import trusted_sources

    qs = qs.filter(source__in=trusted_sources())
    if scope.region_prefix:
        qs = qs.filter(region_code__startswith=scope.region_prefix)
    return qs.values("identifier").distinct().count()


def licensed_platforms(*, scope: AnalyticsScope, on: date) -> int:
    qs = CompanyCityLicence.objects.filter(valid_from__lte=on).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=on)
    )
    if scope.region_prefix:
        qs = qs.filter(city_code__startswith=scope.region_prefix)
    return qs.values("company_id").distinct().count()


# ---------------------------------------------------------------------------------------------
# the monthly bulletin
# ---------------------------------------------------------------------------------------------


@dataclass
class Bulletin:
    scope: AnalyticsScope
    month: date
    as_of: date
    platforms_licensed: int
    drivers_licensed: int
    vehicles_licensed: int
    total: RateRow
    previous_total: RateRow
    platforms: list[RateRow]
    aggregators: list[RateRow]
    cities: list[RateRow]
    provinces: list[RateRow]
    top_compliance: list[RateRow]
    movers: Movers
    city_movers: Movers
    computed_at: datetime | None

    @property
    def change_orders(self) -> float | None:
        if not self.previous_total.orders:
            return None
        return (self.total.orders - self.previous_total.orders) / self.previous_total.orders


def bulletin(*, scope: AnalyticsScope, month: date) -> Bulletin:
    as_of = next_month(month) - timedelta(days=1)
    limit = top_platforms_limit()
    platforms = platform_ranking(scope=scope, month=month)
    floor = movers_min_orders()
    top_compliance = sorted(
        (r for r in platforms if r.orders >= floor and r.rate is not None),
        key=lambda r: (-(r.rate or 0), -r.orders, r.label),
    )[:5]
    run = last_run(month=month)
    return Bulletin(
        scope=scope,
        month=month,
        as_of=as_of,
        platforms_licensed=licensed_platforms(scope=scope, on=as_of),
        drivers_licensed=licences_in_force(scope=scope, kind=LicenceKind.DRIVER, on=as_of),
        vehicles_licensed=licences_in_force(scope=scope, kind=LicenceKind.VEHICLE, on=as_of),
        total=month_total(scope=scope, month=month),
        previous_total=month_total(scope=scope, month=previous_month(month)),
        platforms=platforms[:limit],
        aggregators=platform_ranking(scope=scope, month=month, aggregators=True),
        cities=group_rates(scope=scope, month=month, by="city")[:limit],
        provinces=group_rates(scope=scope, month=month, by="province") if not scope.region_prefix else [],
        top_compliance=top_compliance,
        movers=movers(scope=scope, month=month),
        city_movers=movers(scope=scope, month=month, by="city"),
        computed_at=run.finished_at if run else None,
    )


def reasons_breakdown(row: RateRow) -> list[dict[str, Any]]:
    """Non-compliant orders by reason (an order may have a driver and a vehicle reason)."""
    out: list[dict[str, Any]] = []
    for party, reasons in (("driver", row.driver_reasons), ("vehicle", row.vehicle_reasons)):
        for state, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            out.append({"reason": f"{party}:{state}", "label": reason_label(party, state), "orders": n})
    return out
