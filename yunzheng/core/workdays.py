"""Working days on China's statutory calendar, for statutory deadlines (法定工作日).

Sources, in order: a year that staff entered in the admin (StatutoryCalendarYear), else the
chinesecalendar library, else a clear error — a deadline is never computed on a guessed calendar.

Conventions (the usual way Chinese administrative deadlines are counted): the day of the event
does not count; `add_working_days(start, n)` is the n-th working day strictly after `start`, so a
case submitted on a holiday starts its clock on the first working day after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import chinese_calendar
from django.utils.translation import gettext as _

from yunzheng.core.errors import DomainError

IsWorkingDay = Callable[[dt.date], bool]


class CalendarYearUnknown(DomainError):
    """Neither staff nor the library know this year's holidays: deadlines cannot be computed."""

    status_code = 503

    def __init__(self, year: int) -> None:
        super().__init__(
            "calendar.year_unknown",
            _(
                "The statutory holiday schedule for %(year)s is not known yet. Staff must enter it "
                "(Statutory calendar years in the admin) before deadlines in %(year)s can be computed."
            )
            % {"year": year},
        )
        self.year = year


def _staff_rules(year: int) -> IsWorkingDay | None:
    from yunzheng.core.models import StatutoryCalendarYear

    calendar_year = StatutoryCalendarYear.objects.filter(year=year).prefetch_related("days").first()
    if calendar_year is None:
        return None
    special = {day.date: day.kind == day.Kind.ADJUSTED_WORKDAY for day in calendar_year.days.all()}

    def is_working(day: dt.date) -> bool:
        if day in special:
            return special[day]
        return day.weekday() < 5

    return is_working


def _library_rules(year: int) -> IsWorkingDay | None:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return None
    return chinese_calendar.is_workday


class WorkingCalendar:
    """One calendar per computation: looks each year up once (one query), then answers from memory."""

    def __init__(self) -> None:
        self._years: dict[int, IsWorkingDay] = {}

    def _rules(self, year: int) -> IsWorkingDay:
        rules = self._years.get(year)
        if rules is None:
            rules = _staff_rules(year) or _library_rules(year)
            if rules is None:
                raise CalendarYearUnknown(year)
            self._years[year] = rules
        return rules

    def is_working_day(self, day: dt.date) -> bool:
        return self._rules(day.year)(day)

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        if days < 0:
            raise ValueError("days must be zero or positive")
        current, counted = start, 0
        while counted < days:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                counted += 1
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        if end < start:
            return -self.working_days_between(end, start)
        counted, current = 0, start
        while current < end:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                counted += 1
        return counted


def is_working_day(day: dt.date) -> bool:
    return WorkingCalendar().is_working_day(day)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The `days`-th working day after `start` (start itself never counts); `days=0` gives `start`."""
    return WorkingCalendar().add_working_days(start, days)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]; negative when end is before start.

    Inverse of add_working_days: working_days_between(a, add_working_days(a, n)) == n.
    """
    return WorkingCalendar().working_days_between(start, end)
