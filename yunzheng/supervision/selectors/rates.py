"""Compliance rates: by platform, city, province, day; rankings and movers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import ExpressionWrapper, F, IntegerField, Sum
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company
from yunzheng.supervision.conf import app_settings
from yunzheng.supervision.models import (
    ComplianceDaily,
    ComplianceRun,
    PlatformProfile,
)
from yunzheng.supervision.regions import (
    name_of,
)
from yunzheng.supervision.selectors._common import VALID, AnalyticsScope, _in_scope, _month_rows
from yunzheng.supervision.selectors.noncompliant import reason_label
from yunzheng.supervision.services import days_of, previous_month

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
    return int(app_settings.SUPERVISION_TOP_PLATFORMS)


def movers_min_orders() -> int:
    return int(app_settings.SUPERVISION_MOVERS_MIN_ORDERS)


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


def latest_computed_month() -> date | None:
    """The latest month compliance was computed for (the dashboard's default month)."""
    return ComplianceRun.objects.order_by("-month").values_list("month", flat=True).first()


def reasons_breakdown(row: RateRow) -> list[dict[str, Any]]:
    """Non-compliant orders by reason (an order may have a driver and a vehicle reason)."""
    out: list[dict[str, Any]] = []
    for party, reasons in (("driver", row.driver_reasons), ("vehicle", row.vehicle_reasons)):
        for state, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            out.append({"reason": f"{party}:{state}", "label": reason_label(party, state), "orders": n})
    return out
