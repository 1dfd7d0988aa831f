"""The tables behind the dashboard's charts, as CSV (UTF-8 with BOM, for Excel) and Excel files.

Every table is built from the selectors with the reader's scope, so an export never holds more
than the page shows; personal data (drivers' licence numbers) is masked by the selectors. The
views audit every download (``services.export_record``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from yunzheng.core.clock import CHINA
from yunzheng.supervision import selectors
from yunzheng.supervision.regions import name_of
from yunzheng.supervision.selectors import AnalyticsScope, RateRow


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def _rate_headers(first: list[str]) -> list[str]:
    return [
        *first,
        _("Orders"),
        _("Compliant orders"),
        _("Compliance rate (%)"),
        _("Licensed-driver rate (%)"),
        _("Licensed-vehicle rate (%)"),
    ]


def _rate_cells(row: RateRow) -> list[Any]:
    return [row.orders, row.both_ok, _pct(row.rate), _pct(row.driver_rate), _pct(row.vehicle_rate)]


@dataclass(frozen=True)
class Params:
    month: date
    company_id: int | None = None
    city_code: int | None = None
    day: date | None = None
    reason: str = ""
    days: int = 7


def _daily(scope: AnalyticsScope, p: Params) -> Table:
    rows = selectors.daily_rates(scope=scope, month=p.month)
    return Table(
        _("Orders and compliance per day"),
        _rate_headers([_("Day")]),
        [[r.label, *_rate_cells(r)] for r in rows],
    )


def _platforms(scope: AnalyticsScope, p: Params, *, aggregators: bool = False) -> Table:
    rows = selectors.platform_ranking(scope=scope, month=p.month, aggregators=aggregators)
    title = _("Aggregator platforms") if aggregators else _("Platforms by order volume")
    return Table(
        title,
        _rate_headers([_("Rank"), _("Platform")]),
        [[r.rank, r.label, *_rate_cells(r)] for r in rows],
    )


def _regions(scope: AnalyticsScope, p: Params, *, by: str) -> Table:
    rows = selectors.group_rates(scope=scope, month=p.month, by=by)
    title = _("Cities by order volume") if by == "city" else _("Provinces by order volume")
    return Table(
        title,
        _rate_headers([_("Rank"), _("Region code"), _("Region")]),
        [[r.rank, f"{int(r.key):06d}", r.label, *_rate_cells(r)] for r in rows],
    )


def _movers(scope: AnalyticsScope, p: Params) -> Table:
    rows: list[list[Any]] = []
    for by in ("platform", "city"):
        moved = selectors.movers(scope=scope, month=p.month, by=by)
        for direction, items in ((_("Up"), moved.risers), (_("Down"), moved.fallers)):
            for m in items:
                rows.append(
                    [
                        _("Platform") if by == "platform" else _("City"),
                        direction,
                        m.label,
                        m.previous_orders,
                        m.orders,
                        _pct(m.previous_rate),
                        _pct(m.rate),
                        round(m.change_points, 2),
                    ]
                )
    headers = [
        _("Dimension"),
        _("Direction"),
        _("Platform or city"),
        _("Orders last month"),
        _("Orders"),
        _("Rate last month (%)"),
        _("Compliance rate (%)"),
        _("Change (points)"),
    ]
    return Table(_("Biggest month-on-month movers"), headers, rows)


def _cancellations(scope: AnalyticsScope, p: Params) -> Table:
    series = selectors.activity_series(scope=scope, month=p.month)
    metrics = selectors.CANCEL_METRICS
    headers = [_("Day"), *[str(m.label) for m in metrics], _("Passenger complaints")]
    rows = [
        [d.isoformat(), *[series.by_metric[m][i] for m in metrics], series.by_metric["complaint"][i]]
        for i, d in enumerate(series.days)
    ]
    return Table(_("Cancellations by party and complaints"), headers, rows)


def _noncompliant(scope: AnalyticsScope, p: Params) -> Table:
    page = selectors.noncompliant_orders(
        scope=scope,
        month=p.month,
        company_id=p.company_id,
        city_code=p.city_code,
        day=p.day,
        reason=p.reason,
        limit=100_000,
    )
    headers = [
        _("Day"),
        _("Company"),
        _("CompanyId"),
        _("Order"),
        _("City"),
        _("Departure"),
        _("Driver's licence (masked)"),
        _("Vehicle"),
        _("Reasons"),
    ]
    rows = [
        [
            r.day.isoformat(),
            r.company_name,
            r.company_id,
            r.order_id,
            name_of(r.city_code),
            r.served_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            r.driver,
            r.vehicle_no,
            "; ".join(r.reasons),
        ]
        for r in page.rows
    ]
    return Table(_("Non-compliant orders"), headers, rows)


def _quality(scope: AnalyticsScope, p: Params) -> Table:
    rows = selectors.quality_report(scope=scope, days=p.days)
    headers = [
        _("Company"),
        _("CompanyId"),
        _("Records received"),
        _("Rejected share (%)"),
        _("Average lag (s)"),
        _("Maximum lag (s)"),
        _("Last upload"),
        _("Licensed cities without data"),
        _("Zero-duration trips"),
        _("Paid trips under 1 km"),
        _("Times before 2000"),
        _("Events out of order"),
        _("Positions outside the city"),
        _("Issues"),
    ]
    out = [
        [
            r.company_name,
            r.company_id,
            r.received,
            _pct(r.reject_share),
            None if r.lag_avg_seconds is None else round(r.lag_avg_seconds, 1),
            r.lag_max_seconds,
            r.last_received_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") if r.last_received_at else "",
            " ".join(f"{c:06d}" for c in r.silent_cities),
            r.zero_duration,
            r.sub_km_paid,
            r.epoch_time + r.positions_epoch,
            r.out_of_order,
            r.positions_outside,
            " ".join(selectors.issue_label(i) for i in r.issues()),
        ]
        for r in rows
    ]
    return Table(_("Data quality and timeliness"), headers, out)


DATASETS: dict[str, Callable[[AnalyticsScope, Params], Table]] = {
    "daily": _daily,
    "platforms": _platforms,
    "aggregators": lambda scope, p: _platforms(scope, p, aggregators=True),
    "cities": lambda scope, p: _regions(scope, p, by="city"),
    "provinces": lambda scope, p: _regions(scope, p, by="province"),
    "movers": _movers,
    "cancellations": _cancellations,
    "noncompliant": _noncompliant,
    "quality": _quality,
}
FORMATS = ("csv", "xlsx")


def build(name: str, scope: AnalyticsScope, params: Params) -> Table:
    return DATASETS[name](scope, params)


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.title[:31] or "data"
    sheet.append(table.headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    for index, header in enumerate(table.headers, start=1):
        width = max([len(str(header)) * 2, *(len(str(r[index - 1] or "")) + 2 for r in table.rows[:200])])
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = min(48, max(8, width))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
