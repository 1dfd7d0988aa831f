"""The regulators' pages: dashboard, drill-down, data quality, exports, the monthly bulletin.

Staff only (password + TOTP + StaffProfile, ``staff_required``); every page reads through the
selectors with the staff member's scope (a city sees its city, a province its cities, the
ministry the country). Like api.py: validate input, call selectors/services, render.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yunzheng.accounts.permissions import allowed
from yunzheng.core.audit import Actor
from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.clock import today_in_china
from yunzheng.core.errors import DomainError, PermissionDenied
from yunzheng.core.http import file_response
from yunzheng.core.regions import cities, grouped_choices
from yunzheng.supervision import bulletin as bulletin_module
from yunzheng.supervision import exports, selectors, services
from yunzheng.supervision.models import ActivityDaily
from yunzheng.supervision.regions import name_of
from yunzheng.supervision.selectors import AnalyticsScope


def _scope(request: HttpRequest) -> AnalyticsScope:
    try:
        return selectors.scope_for_user(current_user(request))
    except DomainError as exc:
        raise DjangoPermissionDenied(exc.message) from exc


def _month(value: str | None) -> date:
    """The month asked for, else the latest month computed, else the current month (Beijing)."""
    if value:
        try:
            return services.month_start(value)
        except DomainError as exc:
            raise Http404(exc.message) from exc
    latest = selectors.latest_computed_month()
    return latest or today_in_china().replace(day=1)


def _int(value: str | None, default: int | None = None, lo: int = 0, hi: int = 10**9) -> int | None:
    if value is None or value == "":
        return default
    try:
        return max(lo, min(hi, int(value)))
    except ValueError:
        return default


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def _chart_data(scope: AnalyticsScope, month: date) -> dict[str, Any]:
    """Everything the charts draw, for json_script (the tables below the charts show the same)."""
    daily = selectors.daily_rates(scope=scope, month=month)
    platforms = selectors.platform_ranking(scope=scope, month=month, limit=selectors.top_platforms_limit())
    cities = selectors.group_rates(scope=scope, month=month, by="city")[:20]
    activity = selectors.activity_series(scope=scope, month=month)
    geo = selectors.map_data(scope=scope, month=month)
    m = ActivityDaily.Metric
    return {
        "days": [d.key.isoformat()[5:] for d in daily],
        "orders": [d.orders for d in daily],
        "rate": [_pct(d.rate) for d in daily],
        "driver_rate": [_pct(d.driver_rate) for d in daily],
        "vehicle_rate": [_pct(d.vehicle_rate) for d in daily],
        "platforms": {
            "labels": [p.label for p in platforms],
            "orders": [p.orders for p in platforms],
            "rate": [_pct(p.rate) for p in platforms],
        },
        "cities": {
            "labels": [c.label for c in cities],
            "orders": [c.orders for c in cities],
            "rate": [_pct(c.rate) for c in cities],
        },
        "cancellations": {
            str(metric.label): activity.by_metric[metric] for metric in selectors.CANCEL_METRICS
        },
        "cancellation_totals": {
            str(metric.label): activity.total(metric) for metric in selectors.CANCEL_METRICS
        },
        "complaints": activity.by_metric[m.COMPLAINT],
        "map": {
            "bounds": geo.bounds,
            "vehicles": geo.vehicles,
            "density": geo.density,
            "minutes": geo.minutes,
        },
        "labels": {
            "orders": _("Orders"),
            "rate": _("Compliance rate (%)"),
            "driver_rate": _("Licensed-driver rate (%)"),
            "vehicle_rate": _("Licensed-vehicle rate (%)"),
            "complaints": _("Passenger complaints"),
            "vehicles": _("Vehicles (latest position)"),
            "density": _("Trip departures"),
            "longitude": _("Longitude"),
            "latitude": _("Latitude"),
        },
    }


@staff_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    month = _month(request.GET.get("month"))
    total = selectors.month_total(scope=scope, month=month)
    previous = selectors.month_total(scope=scope, month=services.previous_month(month))
    moved = selectors.movers(scope=scope, month=month)
    activity = selectors.activity_series(scope=scope, month=month)
    context = {
        "scope": scope,
        "month": month,
        "month_value": month.strftime("%Y-%m"),
        "previous_month": services.previous_month(month).strftime("%Y-%m"),
        "next_month": services.next_month(month).strftime("%Y-%m"),
        "total": total,
        "previous": previous,
        "change_points": None
        if total.rate is None or previous.rate is None
        else (total.rate - previous.rate) * 100,
        "reasons": selectors.reasons_breakdown(total),
        "daily": selectors.daily_rates(scope=scope, month=month),
        "platforms": selectors.platform_ranking(
            scope=scope, month=month, limit=selectors.top_platforms_limit()
        ),
        "aggregators": selectors.platform_ranking(scope=scope, month=month, aggregators=True),
        "cities": selectors.group_rates(scope=scope, month=month, by="city"),
        "provinces": selectors.group_rates(scope=scope, month=month, by="province")
        if not scope.region_prefix
        else [],
        "movers": moved,
        "city_movers": selectors.movers(scope=scope, month=month, by="city"),
        "activity": activity,
        "activity_rows": [
            (
                d,
                [activity.by_metric[m][i] for m in selectors.CANCEL_METRICS],
                activity.by_metric["complaint"][i],
            )
            for i, d in enumerate(activity.days)
        ],
        "cancel_labels": [m.label for m in selectors.CANCEL_METRICS],
        "charts": _chart_data(scope, month),
        "run": selectors.last_run(month=month),
        "can_compute": _can_compute(request),
        "formats": exports.FORMATS,
    }
    return render(request, "supervision/dashboard.html", context)


@staff_required
@require_GET
def noncompliant(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    month = _month(request.GET.get("month"))
    company = None
    company_id = request.GET.get("company", "")
    if company_id:
        company = selectors.company_by_supervision_id(supervision_company_id=company_id)
        if company is None:
            raise Http404(_("No such company."))
    city = _int(request.GET.get("city"))
    if city is not None and not scope.covers_city(city):
        raise Http404(_("That city is outside your scope."))
    day = _date(request.GET.get("day"))
    reason = request.GET.get("reason", "")
    page_number = _int(request.GET.get("page"), 1, 1, 100_000) or 1
    size = 50
    page = selectors.noncompliant_orders(
        scope=scope,
        month=month,
        company_id=company.pk if company else None,
        city_code=city,
        day=day,
        reason=reason,
        limit=size,
        offset=(page_number - 1) * size,
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "supervision/noncompliant.html",
        {
            "scope": scope,
            "month": month,
            "month_value": month.strftime("%Y-%m"),
            "page": page,
            "page_number": page_number,
            "pages": max(1, (page.total + size - 1) // size),
            "company": company,
            "city": city,
            "city_name": name_of(city) if city else "",
            "city_value": f"{city:06d}" if city else "",
            "city_choices": grouped_choices(cities(scope.region_prefix)),
            "day": day,
            "reason": reason,
            "reasons": [(r, selectors.reason_label(*r.split(":"))) for r in selectors.REASONS],
            "query": query.urlencode(),
            "formats": exports.FORMATS,
        },
    )


@staff_required
@require_GET
def quality(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    days = _int(request.GET.get("days"), 7, 1, 92) or 7
    rows = selectors.quality_report(scope=scope, days=days)
    return render(
        request,
        "supervision/quality.html",
        {
            "scope": scope,
            "days": days,
            "rows": rows,
            "labels": {i: selectors.issue_label(i) for i in selectors.ISSUES},
            "formats": exports.FORMATS,
            "export_query": f"days={days}",
        },
    )


@staff_required
@require_GET
def export(request: HttpRequest, dataset: str, fmt: str) -> HttpResponse:
    if dataset not in exports.DATASETS or fmt not in exports.FORMATS:
        raise Http404(_("No such export."))
    scope = _scope(request)
    month = _month(request.GET.get("month"))
    company_id = request.GET.get("company", "")
    company = selectors.company_by_supervision_id(supervision_company_id=company_id) if company_id else None
    city = _int(request.GET.get("city"))
    if city is not None and not scope.covers_city(city):
        raise Http404(_("That city is outside your scope."))
    params = exports.Params(
        month=month,
        company_id=company.pk if company else None,
        city_code=city,
        day=_date(request.GET.get("day")),
        reason=request.GET.get("reason", ""),
        days=_int(request.GET.get("days"), 7, 1, 92) or 7,
    )
    table = exports.build(dataset, scope, params)
    services.export_record(
        actor=Actor.for_user(current_user(request)),
        dataset=dataset,
        fmt=fmt,
        rows=len(table.rows),
        filters={
            "scope": scope.region_prefix,
            "month": month.strftime("%Y-%m"),
            "company": company_id,
            "city": city,
            "day": request.GET.get("day", ""),
            "reason": params.reason,
        },
    )
    filename = f"supervision-{dataset}-{scope.region_prefix or 'all'}-{month:%Y%m}.{fmt}"
    if fmt == "csv":
        return file_response(exports.to_csv(table), content_type="text/csv; charset=utf-8", filename=filename)
    return file_response(
        exports.to_xlsx(table),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=filename,
    )


def _bulletin(request: HttpRequest, month_value: str) -> tuple[AnalyticsScope, selectors.Bulletin]:
    scope = _scope(request)
    try:
        month = services.month_start(month_value)
    except DomainError as exc:
        raise Http404(exc.message) from exc
    return scope, selectors.bulletin(scope=scope, month=month)


@staff_required
@require_GET
def bulletin(request: HttpRequest, month: str) -> HttpResponse:
    _, data = _bulletin(request, month)
    context = bulletin_module.context(data)
    context["month_value"] = data.month.strftime("%Y-%m")
    return render(request, "supervision/bulletin.html", context)


@staff_required
@require_GET
def bulletin_pdf(request: HttpRequest, month: str) -> HttpResponse:
    scope, data = _bulletin(request, month)
    services.export_record(
        actor=Actor.for_user(current_user(request)),
        dataset="bulletin",
        fmt="pdf",
        rows=len(data.platforms),
        filters={"scope": scope.region_prefix, "month": data.month.strftime("%Y-%m")},
    )
    return file_response(
        bulletin_module.render_pdf(data),
        content_type="application/pdf",
        filename=f"bulletin-{scope.region_prefix or 'all'}-{data.month:%Y%m}.pdf",
        inline=True,
    )


def _can_compute(request: HttpRequest) -> bool:
    return allowed(current_user(request), "supervision.compute")


@staff_required
@require_POST
def compute(request: HttpRequest) -> HttpResponse:
    """Recompute a month for the staff member's own region (transport authorities only)."""
    month = _month(request.POST.get("month"))
    try:
        result = services.compliance_compute(month=month, user=current_user(request))
    except PermissionDenied as denied:
        raise DjangoPermissionDenied(denied.message) from None
    messages.success(
        request,
        _("Compliance of %(month)s recomputed: %(orders)s orders.")
        % {"month": month.strftime("%Y-%m"), "orders": result.orders},
    )
    return HttpResponseRedirect(reverse("supervision:dashboard") + f"?month={month:%Y-%m}")
