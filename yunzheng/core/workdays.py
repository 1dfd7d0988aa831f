"""Working days on China's statutory calendar, for statutory deadlines (法定工作日).

Sources, in order: a year that staff entered and a second person confirmed (StatutoryCalendarYear,
see core.calendar_years), else the chinesecalendar library. For a year neither knows, a strict
calendar raises CalendarYearUnknown; a provisional calendar (`WorkingCalendar(provisional=True)`,
`provisional_due`) counts that year's weekdays only and says so, so that no application is ever
refused for want of a holiday schedule: the date is stored as provisional and recomputed when the
year is confirmed (core.calendar_years.calendar_year_confirm).

Conventions (the usual way Chinese administrative deadlines are counted): the day of the event
does not count; `add_working_days(start, n)` is the n-th working day strictly after `start`, so a
case submitted on a holiday starts its clock on the first working day after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import chinese_calendar
from django.utils.translation import gettext as _

from yunzheng.core.errors import DomainError

IsWorkingDay = Callable[[dt.date], bool]


class CalendarYearUnknown(DomainError):
    """Neither staff nor the library know this year's holidays: deadlines cannot be computed.
    A 4xx: the question asks about a year outside the known calendar (the client can ask about
    another date); nothing in the server failed."""

    status_code = 422

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

    calendar_year = (
        StatutoryCalendarYear.objects.filter(year=year, confirmed_at__isnull=False)
        .prefetch_related("days")
        .first()
    )
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


def _weekdays_only(day: dt.date) -> bool:
    return day.weekday() < 5


@dataclass(frozen=True)
class DueDate:
    """A computed due date; `provisional` when it was counted across a year whose statutory
    holidays are not known yet (weekdays only), to be recomputed once the year is confirmed."""

    date: dt.date
    provisional: bool


class WorkingCalendar:
    """One calendar per computation: looks each year up once (one query), then answers from memory.

    `provisional=True`: a year nobody knows yet counts Monday-Friday as working days and is
    remembered in `provisional_years` instead of raising CalendarYearUnknown.
    """

    def __init__(self, *, provisional: bool = False) -> None:
        self._years: dict[int, IsWorkingDay] = {}
        self._provisional = provisional
        self.provisional_years: set[int] = set()

    def _rules(self, year: int) -> IsWorkingDay:
        rules = self._years.get(year)
        if rules is None:
            rules = _staff_rules(year) or _library_rules(year)
            if rules is None:
                if not self._provisional:
                    raise CalendarYearUnknown(year)
                rules = _weekdays_only
                self.provisional_years.add(year)
            self._years[year] = rules
        return rules

    def is_known_year(self, year: int) -> bool:
        """Whether the year's statutory holidays are known (staff-confirmed or in the library)."""
        try:
            self._rules(year)
        except CalendarYearUnknown:
            return False
        return year not in self.provisional_years

    def due(self, start: dt.date, days: int) -> DueDate:
        """add_working_days, telling whether the count crossed a year nobody knows yet."""
        date = self.add_working_days(start, days)
        provisional = any(year in self.provisional_years for year in range(start.year, date.year + 1))
        return DueDate(date=date, provisional=provisional)

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


def provisional_due(start: dt.date, days: int) -> DueDate:
    """The due date `days` working days after `start`, never refused: provisional (weekdays only)
    where a year's holidays are not known yet. Store `.provisional` next to the date."""
    return WorkingCalendar(provisional=True).due(start, days)


def counted_due(compute: Callable[[WorkingCalendar], dt.date]) -> DueDate:
    """Run a due-date computation (`compute(calendar) -> date`) on a provisional calendar: never
    refused; provisional when any year it looked at (a pause, the count itself) is not known yet."""
    calendar = WorkingCalendar(provisional=True)
    date = compute(calendar)
    return DueDate(date=date, provisional=bool(calendar.provisional_years))


def is_known_year(year: int) -> bool:
    return WorkingCalendar().is_known_year(year)


def missing_next_year(today: dt.date) -> int | None:
    """From 1 November, the coming year when its statutory calendar is still missing (staff
    workbenches warn about it); None otherwise."""
    if today.month < 11:
        return None
    return None if is_known_year(today.year + 1) else today.year + 1
