"""The monthly bulletin and the licence counts it shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q

from yunzheng.supervision.licences import day_start
from yunzheng.supervision.models import (
    CompanyCityLicence,
    LicenceKind,
    LicencePeriod,
    PeriodStatus,
)
from yunzheng.supervision.selectors._common import AnalyticsScope
from yunzheng.supervision.selectors.rates import (
    Movers,
    RateRow,
    group_rates,
    last_run,
    month_total,
    movers,
    movers_min_orders,
    platform_ranking,
    top_platforms_limit,
)
from yunzheng.supervision.services import next_month, previous_month

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
    def table_numbers(self) -> dict[str, int]:
        """Tables are numbered consecutively over those shown (empty ones are left out)."""
        shown = [
            "platforms",
            *(["aggregators"] if self.aggregators else []),
            "cities",
            *(["provinces"] if self.provinces else []),
            *(["top"] if self.top_compliance else []),
            *(["movers"] if self.movers.risers or self.movers.fallers else []),
        ]
        return {key: number for number, key in enumerate(shown, 1)}

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
