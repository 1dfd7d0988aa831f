"""CSV (UTF-8 with BOM, for Excel) and Excel exports of alarm lists; no personal data in clear."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.alarms.models import Alarm, RuleKind, Severity
from yunzheng.core.clock import CHINA


def _rows(alarms: Iterable[Alarm]) -> tuple[list[str], list[list[str]]]:
    header = [
        _("ID"),
        _("Severity"),
        _("Kind"),
        _("State"),
        _("Company"),
        _("Region"),
        _("Plate"),
        _("Driver"),
        _("Order"),
        _("Detail"),
        _("Opened at"),
        _("Acknowledged at"),
        _("Closed at"),
        _("Closing note"),
    ]

    def when(value: object) -> str:
        return (
            timezone.localtime(value, CHINA).strftime("%Y-%m-%d %H:%M:%S")
            if isinstance(value, datetime)
            else ""
        )

    rows = [
        [
            str(a.pk),
            str(Severity(a.severity).label),
            str(RuleKind(a.kind).label),
            str(Alarm.State(a.state).label),
            a.company.name if a.company else "",
            a.region_code,
            a.vehicle_no,
            a.driver_display,  # masked at the source; the clear number is never kept
            a.order_id,
            a.detail,
            when(a.opened_at),
            when(a.acknowledged_at),
            when(a.closed_at),
            a.close_note,
        ]
        for a in alarms
    ]
    return header, rows


def alarms_csv(alarms: Iterable[Alarm]) -> bytes:
    header, rows = _rows(alarms)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def alarms_xlsx(alarms: Iterable[Alarm]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    header, rows = _rows(alarms)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Alarms")[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
