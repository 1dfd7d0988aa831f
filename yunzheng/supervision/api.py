"""JSON API of the supervision app, mounted by config/api.py at /api/v1/supervision/.

For regulators only (a staff session with its second factor, or a staff bearer token); every
answer is limited to the caller's region (``staff_scope``). Rates are fractions (0.775), None
without orders; changes are percentage points.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from yunzheng.accounts.auth import user_auth
from yunzheng.core.auth import current_user
from yunzheng.core.errors import NotFound
from yunzheng.core.pagination import MappedQuerySet, paginate
from yunzheng.supervision import selectors, services
from yunzheng.supervision.error_codes import SupervisionErrorCode as Code
from yunzheng.supervision.selectors import AnalyticsScope

router = Router(tags=["supervision"])


def _scope(request: HttpRequest) -> AnalyticsScope:
    return selectors.scope_for_user(current_user(request))


def _company_pk(company: str | None) -> int | None:
    if not company:
        return None
    found = selectors.company_by_supervision_id(supervision_company_id=company)
    if found is None:
        raise NotFound(Code.NOT_FOUND, "No such company.")
    return found.pk


class MonthQuery(Schema):
    month: str


class RatesQuery(MonthQuery):
    by: str = "platform"
    company: str | None = None


class RateOut(Schema):
    key: Any
    code: str
    label: str
    rank: int
    orders: int
    compliant: int
    driver_ok: int
    vehicle_ok: int
    rate: float | None
    driver_rate: float | None
    vehicle_rate: float | None
    is_aggregator: bool
    driver_reasons: dict[str, int]
    vehicle_reasons: dict[str, int]

    @staticmethod
    def resolve_compliant(row: selectors.RateRow) -> int:
        return row.both_ok


@router.get("/rates", response=list[RateOut], auth=user_auth, summary="Compliance rates")
def rates(request: HttpRequest, query: Query[RatesQuery]) -> list[selectors.RateRow]:
    """Orders and compliance of `month` per `by` = platform, city, province, day or total."""
    scope = _scope(request)
    if query.by not in selectors.GROUPS:
        raise NotFound(Code.NOT_FOUND, f"by must be one of {', '.join(selectors.GROUPS)}")
    month = services.month_start(query.month)
    return selectors.group_rates(scope=scope, month=month, by=query.by, company_id=_company_pk(query.company))


class RankingQuery(MonthQuery):
    aggregators: bool = False
    limit: int | None = None


@router.get("/ranking", response=list[RateOut], auth=user_auth, summary="Platforms by order volume")
def ranking(request: HttpRequest, query: Query[RankingQuery]) -> list[selectors.RateRow]:
    """Platforms ranked by completed orders with their rates; aggregators separately."""
    scope = _scope(request)
    return selectors.platform_ranking(
        scope=scope, month=services.month_start(query.month), aggregators=query.aggregators, limit=query.limit
    )


class MoversQuery(MonthQuery):
    by: str = "platform"
    limit: int = 5
    min_orders: int | None = None


class MoverOut(Schema):
    key: Any
    label: str
    orders: int
    previous_orders: int
    rate: float
    previous_rate: float
    change_points: float

    @staticmethod
    def resolve_change_points(mover: selectors.Mover) -> float:
        return round(mover.change_points, 4)


class MoversOut(Schema):
    risers: list[MoverOut]
    fallers: list[MoverOut]


@router.get("/movers", response=MoversOut, auth=user_auth, summary="Month-on-month movers")
def movers(request: HttpRequest, query: Query[MoversQuery]) -> selectors.Movers:
    scope = _scope(request)
    by = query.by if query.by in ("platform", "city", "province") else "platform"
    return selectors.movers(
        scope=scope,
        month=services.month_start(query.month),
        by=by,
        limit=max(1, min(query.limit, 50)),
        min_orders=query.min_orders,
    )


class NonCompliantQuery(MonthQuery):
    company: str | None = None
    city: int | None = None
    day: date | None = None
    reason: str = ""


class NonCompliantOut(Schema):
    company_id: str
    company_name: str
    order_id: str
    city_code: int
    city: str
    day: str
    served_at: str
    driver: str
    vehicle_no: str
    driver_state: str
    vehicle_state: str
    reasons: list[str]

    @staticmethod
    def resolve_day(row: selectors.NonCompliantOrder) -> str:
        return row.day.isoformat()

    @staticmethod
    def resolve_served_at(row: selectors.NonCompliantOrder) -> str:
        return row.served_at.isoformat()


@router.get("/noncompliant", response=list[NonCompliantOut], auth=user_auth, summary="Non-compliant orders")
@paginate(page_size=100, max_page_size=1000)
def noncompliant(
    request: HttpRequest, query: Query[NonCompliantQuery]
) -> MappedQuerySet[Any, selectors.NonCompliantOrder]:
    """The drill-down: orders whose driver or vehicle was not licensed at the order time, and why
    (`reason`: driver:unlicensed, driver:expired, driver:cancelled, vehicle:... ), newest first.
    Licence numbers are masked. Pages of 100 (`page`, or `limit` up to 1000 and `offset`):
    `{count, page, pages, items}`."""
    scope = _scope(request)
    if query.city is not None and not scope.covers_city(query.city):
        raise NotFound(Code.OUT_OF_SCOPE, "That city is outside your scope.")
    return selectors.noncompliant_rows(
        scope=scope,
        month=services.month_start(query.month),
        company_id=_company_pk(query.company),
        city_code=query.city,
        day=query.day,
        reason=query.reason,
    )


class ActivityOut(Schema):
    days: list[date]
    series: dict[str, list[int]]

    @staticmethod
    def resolve_series(activity: selectors.ActivitySeries) -> dict[str, list[int]]:
        return activity.by_metric


@router.get("/activity", response=ActivityOut, auth=user_auth, summary="Cancellations by party, complaints")
def activity(request: HttpRequest, query: Query[MonthQuery]) -> selectors.ActivitySeries:
    scope = _scope(request)
    return selectors.activity_series(scope=scope, month=services.month_start(query.month))


class QualityQuery(Schema):
    days: int = 7


class TopRejectOut(Schema):
    field: str
    code: str
    count: int


class QualityOut(Schema):
    company_id: str
    company_name: str
    received: int
    rejected: int
    reject_share: float | None
    lag_avg_seconds: float | None
    lag_max_seconds: int
    last_received_at: str | None
    hours_since_last: float | None
    top_rejects: list[TopRejectOut]
    licensed_cities: list[int]
    silent_cities: list[int]
    orders: int
    zero_duration: int
    sub_km_paid: int
    epoch_time: int
    out_of_order: int
    positions_checked: int
    positions_outside: int
    positions_epoch: int
    issues: list[str]

    @staticmethod
    def resolve_last_received_at(row: selectors.QualityRow) -> str | None:
        return row.last_received_at.isoformat() if row.last_received_at else None

    @staticmethod
    def resolve_top_rejects(row: selectors.QualityRow) -> list[dict[str, Any]]:
        return [{"field": f, "code": c, "count": n} for f, c, n in row.top_rejects]

    @staticmethod
    def resolve_issues(row: selectors.QualityRow) -> list[str]:
        return row.issues()


@router.get("/quality", response=list[QualityOut], auth=user_auth, summary="Data quality per company")
def quality(request: HttpRequest, query: Query[QualityQuery]) -> list[selectors.QualityRow]:
    """Upload lag, time since the last upload, rejected share, licensed cities without data,
    implausible trips (zero duration, paid under 1 km, times before 2000), events out of order,
    positions outside the city, over the last `days` days."""
    scope = _scope(request)
    return selectors.quality_report(scope=scope, days=max(1, min(query.days, 92)))


class MapOut(Schema):
    bounds: dict[str, float] | None
    vehicles: list[list[float]]
    density: list[list[float]]
    minutes: int
    cell_degrees: float


@router.get("/map", response=MapOut, auth=user_auth, summary="Vehicle positions and trip density")
def map_view(request: HttpRequest, query: Query[MonthQuery]) -> selectors.MapData:
    scope = _scope(request)
    return selectors.map_data(scope=scope, month=services.month_start(query.month))


class ComputeIn(Schema):
    month: str
    region_prefix: str | None = None


class ComputeOut(Schema):
    month: date
    region_prefix: str
    orders: int
    facts_ms: int
    compute_ms: int
    run_id: int


@router.post("/compute", response=ComputeOut, auth=user_auth, summary="Recompute a month")
def compute(request: HttpRequest, payload: ComputeIn) -> services.ComputeResult:
    """Transport authorities recompute a month within their region (a narrower prefix of it may
    be given)."""
    return services.compliance_compute(
        month=payload.month, region_prefix=payload.region_prefix or "", user=current_user(request)
    )
