"""Map data: current vehicle positions and trip density."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, ExpressionWrapper, F, IntegerField
from django.utils import timezone

from yunzheng.exchange.models import POSITION_VEHICLE, PositionRecord
from yunzheng.supervision.conf import app_settings
from yunzheng.supervision.models import (
    OrderFact,
)
from yunzheng.supervision.regions import (
    Bounds,
    bounds_for_prefix,
)
from yunzheng.supervision.selectors._common import AnalyticsScope, _month_rows

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
    minutes = int(app_settings.SUPERVISION_MAP_MINUTES)
    limit = int(app_settings.SUPERVISION_MAP_MAX_VEHICLES)
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
