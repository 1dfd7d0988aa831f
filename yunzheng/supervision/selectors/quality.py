"""Data quality and timeliness, per company."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company
from yunzheng.core.clock import today_in_china
from yunzheng.exchange.models import POSITION_VEHICLE, PositionRecord, RejectStat, UploadStat
from yunzheng.supervision import sql
from yunzheng.supervision.conf import app_settings
from yunzheng.supervision.models import (
    ActivityDaily,
    CompanyCityLicence,
    OrderFact,
)
from yunzheng.supervision.regions import (
    Bounds,
    known_city_bounds,
)
from yunzheng.supervision.selectors._common import AnalyticsScope, _in_scope
from yunzheng.supervision.selectors.rates import _ratio

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
        lag_limit = int(app_settings.SUPERVISION_LAG_LIMIT_SECONDS)
        silence = float(app_settings.SUPERVISION_SILENCE_HOURS)
        reject_limit = float(app_settings.SUPERVISION_REJECT_SHARE_LIMIT)
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
    today = today_in_china(now)
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
    hours = int(app_settings.SUPERVISION_POSITION_CHECK_HOURS)
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
