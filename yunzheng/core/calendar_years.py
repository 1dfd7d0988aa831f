"""Entering a year's statutory calendar (the State Council notice) with a second person's
confirmation, and recomputing every provisional due date once the year is confirmed.

Staff type the notice as holiday ranges and adjusted working days (`calendar_year_enter`), look at
the month-by-month preview (`month_preview`), and a different staff member confirms it
(`calendar_year_confirm`). Until then the year counts for nothing (core.workdays counts it
provisionally, weekdays only). Confirmation runs, in the same transaction, every recomputer listed
in the setting STATUTORY_CALENDAR_RECOMPUTERS (dotted paths of `fn() -> int`, one per app
that stores due dates), so no due date stays provisional for a year that is now known; core names
no domain app (the composition root lists them).
"""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.conf import app_settings
from yunzheng.core.errors import Conflict, ErrorDetail, NotFound, PermissionDenied, ValidationFailed
from yunzheng.core.models import StatutoryCalendarDay, StatutoryCalendarYear
from yunzheng.core.workdays import is_known_year

# Years before the library's first year or far in the future are typing mistakes.
FIRST_YEAR, LAST_YEAR = 2004, 2100
MAX_NAME_LENGTH = 50


@dataclass(frozen=True)
class HolidayRange:
    start: dt.date
    end: dt.date
    name: str


@dataclass(frozen=True)
class AdjustedWorkday:
    date: dt.date
    name: str


@dataclass(frozen=True)
class PreviewDay:
    date: dt.date
    working: bool
    kind: str  # "holiday", "workday" (adjusted), "weekend", "" (ordinary weekday)
    name: str


@dataclass
class PreviewMonth:
    month: int
    weeks: list[list[PreviewDay | None]] = field(default_factory=list)
    working_days: int = 0


def _detail(field_name: str, code: str, message: str) -> ErrorDetail:
    return ErrorDetail(field=field_name, code=code, message=message)


def validate_schedule(
    *, year: int, holidays: Iterable[HolidayRange], workdays: Iterable[AdjustedWorkday]
) -> dict[dt.date, tuple[str, str]]:
    """Check a notice as typed; returns {date: (kind, festival)} or raises ValidationFailed listing
    every problem (field, code, message)."""
    problems: list[ErrorDetail] = []
    if not FIRST_YEAR <= year <= LAST_YEAR:
        problems.append(_detail("year", "calendar.year_invalid", _("Enter a year between 2004 and 2100.")))
    days: dict[dt.date, tuple[str, str]] = {}
    for index, holiday in enumerate(holidays, start=1):
        where = f"holidays[{index}]"
        name = holiday.name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            problems.append(
                _detail(where, "calendar.name_required", _("Name the festival (at most 50 characters)."))
            )
        if holiday.end < holiday.start:
            problems.append(
                _detail(where, "calendar.range_reversed", _("A holiday cannot end before it starts."))
            )
            continue
        if holiday.start.year != year or holiday.end.year != year:
            problems.append(
                _detail(where, "calendar.outside_year", _("Every date must fall in the year entered."))
            )
            continue
        if (holiday.end - holiday.start).days > 15:
            problems.append(_detail(where, "calendar.range_too_long", _("A holiday lasts at most 16 days.")))
            continue
        day = holiday.start
        while day <= holiday.end:
            if day in days:
                problems.append(
                    _detail(
                        where,
                        "calendar.date_twice",
                        _("%(date)s is listed twice.") % {"date": day.isoformat()},
                    )
                )
            days[day] = (StatutoryCalendarDay.Kind.HOLIDAY, name)
            day += dt.timedelta(days=1)
    for index, workday in enumerate(workdays, start=1):
        where = f"workdays[{index}]"
        name = workday.name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            problems.append(
                _detail(where, "calendar.name_required", _("Name the festival (at most 50 characters)."))
            )
        if workday.date.year != year:
            problems.append(
                _detail(where, "calendar.outside_year", _("Every date must fall in the year entered."))
            )
            continue
        if workday.date.weekday() < 5:
            # The notices only ever move weekend days; a weekday here is a typing mistake.
            problems.append(
                _detail(
                    where,
                    "calendar.workday_not_weekend",
                    _("%(date)s is a weekday already; adjusted working days are Saturdays or Sundays.")
                    % {"date": workday.date.isoformat()},
                )
            )
            continue
        if workday.date in days:
            problems.append(
                _detail(
                    where,
                    "calendar.date_twice",
                    _("%(date)s is listed twice.") % {"date": workday.date.isoformat()},
                )
            )
        days[workday.date] = (StatutoryCalendarDay.Kind.ADJUSTED_WORKDAY, name)
    if not problems and not any(kind == StatutoryCalendarDay.Kind.HOLIDAY for kind, _n in days.values()):
        problems.append(
            _detail("holidays", "calendar.no_holidays", _("Enter at least one holiday from the notice."))
        )
    if problems:
        raise ValidationFailed(
            problems[0].code, _("Please correct the statutory calendar."), details=problems
        )
    return days


def month_preview(year: int, days: dict[dt.date, tuple[str, str]]) -> list[PreviewMonth]:
    """Twelve months of the year as weeks (Monday first), each day marked working or not."""
    months: list[PreviewMonth] = []
    weeks_of = stdlib_calendar.Calendar(firstweekday=0)
    for month in range(1, 13):
        preview = PreviewMonth(month=month)
        for week in weeks_of.monthdatescalendar(year, month):
            row: list[PreviewDay | None] = []
            for day in week:
                if day.month != month:
                    row.append(None)
                    continue
                kind, name = days.get(day, ("", ""))
                if kind:
                    working = kind == StatutoryCalendarDay.Kind.ADJUSTED_WORKDAY
                else:
                    working = day.weekday() < 5
                    kind = "" if working else "weekend"
                preview.working_days += working
                row.append(PreviewDay(date=day, working=working, kind=kind, name=name))
            preview.weeks.append(row)
        months.append(preview)
    return months


def stored_days(calendar_year: StatutoryCalendarYear) -> dict[dt.date, tuple[str, str]]:
    return {day.date: (day.kind, day.name) for day in calendar_year.days.all()}


def calendar_year_enter(
    *,
    year: int,
    notice: str,
    holidays: list[HolidayRange],
    workdays: list[AdjustedWorkday],
    user: Any,
) -> StatutoryCalendarYear:
    """Record (or replace) the draft of a year's schedule; it counts only after confirmation."""
    notice = notice.strip()
    if not notice or len(notice) > 200:
        raise ValidationFailed.single(
            field="notice",
            code="calendar.notice_required",
            message=_("Name the State Council notice (at most 200 characters)."),
        )
    days = validate_schedule(year=year, holidays=holidays, workdays=workdays)
    actor = Actor.for_user(user)
    with transaction.atomic():
        existing = StatutoryCalendarYear.objects.select_for_update().filter(year=year).first()
        if existing is not None and existing.confirmed_at is not None:
            raise Conflict(
                "calendar.already_confirmed",
                _("The calendar of %(year)s is confirmed already and cannot be changed here.")
                % {"year": year},
            )
        calendar_year = existing or StatutoryCalendarYear(year=year)
        calendar_year.notice = notice
        calendar_year.entered_by = user
        calendar_year.save()
        calendar_year.days.all().delete()
        StatutoryCalendarDay.objects.bulk_create(
            StatutoryCalendarDay(calendar_year=calendar_year, date=date, kind=kind, name=name)
            for date, (kind, name) in sorted(days.items())
        )
        record_audit(
            actor=actor,
            action="calendar.year.entered",
            target_type="statutory_calendar_year",
            target_id=year,
            after={
                "notice": notice,
                "holidays": sorted(d.isoformat() for d, (k, _n) in days.items() if k == "holiday"),
                "workdays": sorted(d.isoformat() for d, (k, _n) in days.items() if k == "workday"),
            },
        )
    return calendar_year


def _recomputers() -> list[tuple[str, Callable[..., int]]]:
    paths: list[str] = list(app_settings.STATUTORY_CALENDAR_RECOMPUTERS)
    return [(path, import_string(path)) for path in paths]


def calendar_year_confirm(*, year: int, user: Any, now: dt.datetime | None = None) -> dict[str, int]:
    """A second staff member confirms the entered year: from now on it counts, and every due date
    stored as provisional is recomputed in the same transaction. Returns {recomputer: count}."""
    actor = Actor.for_user(user)
    with transaction.atomic():
        calendar_year = StatutoryCalendarYear.objects.select_for_update().filter(year=year).first()
        if calendar_year is None:
            raise NotFound("calendar.not_entered", _("Nobody has entered the calendar of this year yet."))
        if calendar_year.confirmed_at is not None:
            raise Conflict("calendar.already_confirmed", _("This calendar is confirmed already."))
        if calendar_year.entered_by_id is None or calendar_year.entered_by_id == getattr(user, "pk", None):
            raise PermissionDenied(
                "calendar.same_person",
                _("A second person must confirm the calendar: you entered it yourself."),
            )
        calendar_year.confirmed_by = user
        calendar_year.confirmed_at = now or timezone.now()
        calendar_year.save(update_fields=["confirmed_by", "confirmed_at", "updated_at"])
        recomputed = {path: fn() for path, fn in _recomputers()}
        record_audit(
            actor=actor,
            action="calendar.year.confirmed",
            target_type="statutory_calendar_year",
            target_id=year,
            after={"notice": calendar_year.notice, "recomputed_due_dates": recomputed},
        )
    return recomputed


def calendar_year_discard(*, year: int, user: Any) -> None:
    """Drop an unconfirmed draft (e.g. typed from the wrong notice)."""
    with transaction.atomic():
        calendar_year = StatutoryCalendarYear.objects.select_for_update().filter(year=year).first()
        if calendar_year is None or calendar_year.confirmed_at is not None:
            raise Conflict("calendar.not_a_draft", _("Only an unconfirmed entry can be discarded."))
        calendar_year.delete()
        record_audit(
            actor=Actor.for_user(user),
            action="calendar.year.discarded",
            target_type="statutory_calendar_year",
            target_id=year,
        )


def calendar_years_overview(today: dt.date) -> list[dict[str, Any]]:
    """This year and the next two: known from the library, confirmed, waiting for confirmation,
    or missing."""
    entries = {entry.year: entry for entry in StatutoryCalendarYear.objects.filter(year__gte=today.year)}
    rows = []
    for year in range(today.year, today.year + 3):
        entry = entries.get(year)
        if entry is not None and entry.confirmed_at is not None:
            state = "confirmed"
        elif entry is not None:
            state = "draft"
        elif is_known_year(year):
            state = "library"
        else:
            state = "missing"
        rows.append({"year": year, "state": state, "entry": entry})
    return rows


def calendar_year_entry(year: int) -> StatutoryCalendarYear | None:
    """The staff-entered calendar of ``year`` (confirmed or not) with its days and who entered and
    confirmed it, or None."""
    return (
        StatutoryCalendarYear.objects.filter(year=year)
        .select_related("entered_by", "confirmed_by")
        .prefetch_related("days")
        .first()
    )
