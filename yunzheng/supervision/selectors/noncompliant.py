"""Drill-down: the non-compliant orders and why; activity (cancellations by party, complaints)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TypedDict

from django.db.models import Sum
from django.utils.translation import gettext as _
from typing_extensions import Unpack

from yunzheng.accounts.models import Company
from yunzheng.core.pagination import MappedQuerySet
from yunzheng.supervision import sql
from yunzheng.supervision.models import (
    ActivityDaily,
    OrderFact,
)
from yunzheng.supervision.regions import (
    name_of,
)
from yunzheng.supervision.selectors._common import VALID, AnalyticsScope, _month_rows
from yunzheng.supervision.services import days_of

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
    def city(self) -> str:
        return name_of(self.city_code)

    @property
    def reasons(self) -> list[str]:
        out = []
        if self.driver_state != VALID:
            out.append(reason_label("driver", self.driver_state))
        if self.vehicle_state != VALID:
            out.append(reason_label("vehicle", self.vehicle_state))
        return out


@dataclass
class NonCompliantPage:
    total: int
    rows: list[NonCompliantOrder]


def noncompliant_rows(
    *,
    scope: AnalyticsScope,
    month: date,
    company_id: int | None = None,
    city_code: int | None = None,
    day: date | None = None,
    reason: str = "",
) -> MappedQuerySet[OrderFact, NonCompliantOrder]:
    """The month's orders whose driver or vehicle was not licensed at the order time, newest
    first, with the reasons (the licence states stored on each fact, see ``sql.py``); read a slice
    at a time (companies and masked drivers looked up per slice)."""
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
    return MappedQuerySet(qs.order_by("-day", "-served_at", "order_id"), _noncompliant_orders)


class NonCompliantFilters(TypedDict, total=False):
    """The optional filters of :func:`noncompliant_rows`."""

    company_id: int | None
    city_code: int | None
    day: date | None
    reason: str


def noncompliant_orders(
    *,
    scope: AnalyticsScope,
    month: date,
    limit: int = 100,
    offset: int = 0,
    **filters: Unpack[NonCompliantFilters],
) -> NonCompliantPage:
    """One page of :func:`noncompliant_rows` with the total (the staff page and the exports)."""
    found = noncompliant_rows(scope=scope, month=month, **filters)
    start = max(0, offset)
    return NonCompliantPage(total=found.count(), rows=found[start : start + max(1, min(limit, 10_000))])


def _noncompliant_orders(facts: list[OrderFact]) -> list[NonCompliantOrder]:
    companies = {c.pk: c for c in Company.objects.filter(pk__in={f.company_id for f in facts})}
    drivers = _masked_drivers(facts)
    return [
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
