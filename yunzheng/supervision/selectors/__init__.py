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

from yunzheng.supervision.selectors._common import (
    VALID,
    AnalyticsScope,
    national_scope,
    scope_for_user,
)
from yunzheng.supervision.selectors.bulletin import (
    Bulletin,
    bulletin,
    licences_in_force,
    licensed_platforms,
)
from yunzheng.supervision.selectors.maps import (
    MapData,
    map_data,
    trip_density,
    vehicle_positions,
)
from yunzheng.supervision.selectors.noncompliant import (
    CANCEL_METRICS,
    REASONS,
    ActivitySeries,
    NonCompliantOrder,
    NonCompliantPage,
    activity_series,
    company_by_supervision_id,
    noncompliant_orders,
    noncompliant_rows,
    reason_label,
)
from yunzheng.supervision.selectors.quality import (
    ISSUES,
    QualityRow,
    issue_label,
    quality_report,
)
from yunzheng.supervision.selectors.rates import (
    GROUPS,
    Mover,
    Movers,
    RateRow,
    daily_rates,
    group_rates,
    last_run,
    latest_computed_month,
    month_total,
    movers,
    movers_min_orders,
    platform_ranking,
    reasons_breakdown,
    top_platforms_limit,
)

__all__ = [
    "CANCEL_METRICS",
    "GROUPS",
    "ISSUES",
    "REASONS",
    "VALID",
    "ActivitySeries",
    "AnalyticsScope",
    "Bulletin",
    "MapData",
    "Mover",
    "Movers",
    "NonCompliantOrder",
    "NonCompliantPage",
    "QualityRow",
    "RateRow",
    "activity_series",
    "bulletin",
    "company_by_supervision_id",
    "daily_rates",
    "group_rates",
    "issue_label",
    "last_run",
    "latest_computed_month",
    "licences_in_force",
    "licensed_platforms",
    "map_data",
    "month_total",
    "movers",
    "movers_min_orders",
    "national_scope",
    "noncompliant_orders",
    "noncompliant_rows",
    "platform_ranking",
    "quality_report",
    "reason_label",
    "reasons_breakdown",
    "scope_for_user",
    "top_platforms_limit",
    "trip_density",
    "vehicle_positions",
]
