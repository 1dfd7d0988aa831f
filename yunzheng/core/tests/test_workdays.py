"""Working-day arithmetic on real statutory holiday periods (State Council schedules)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from yunzheng.core.models import StatutoryCalendarDay, StatutoryCalendarYear
from yunzheng.core.workdays import (
    CalendarYearUnknown,
    WorkingCalendar,
    add_working_days,
    is_working_day,
    missing_next_year,
    provisional_due,
    working_days_between,
)

D = dt.date
pytestmark = pytest.mark.django_db


def test_two_working_days_after_national_day_eve_lands_after_the_golden_week() -> None:
    # 2026: 1-7 October is the National Day holiday; the 8th and 9th are the first working days.
    assert add_working_days(D(2026, 9, 30), 2) == D(2026, 10, 9)


def test_adjusted_sunday_counts_as_working_day() -> None:
    # 2026-09-20 is a Sunday made a working day (调休) for the National Day holiday.
    assert D(2026, 9, 20).weekday() == 6
    assert is_working_day(D(2026, 9, 20))
    assert add_working_days(D(2026, 9, 19), 1) == D(2026, 9, 20)


def test_adjusted_saturday_counts_as_working_day() -> None:
    # 2026-10-10 is a Saturday made a working day.
    assert D(2026, 10, 10).weekday() == 5
    assert is_working_day(D(2026, 10, 10))
    assert add_working_days(D(2026, 10, 9), 1) == D(2026, 10, 10)


def test_start_inside_a_holiday_counts_from_the_first_working_day_after() -> None:
    # Submitted on 3 October 2026 (holiday): day 1 is 8 October, day 2 is 9 October.
    assert not is_working_day(D(2026, 10, 3))
    assert add_working_days(D(2026, 10, 3), 1) == D(2026, 10, 8)
    assert add_working_days(D(2026, 10, 3), 2) == D(2026, 10, 9)


def test_spring_festival_2026() -> None:
    # 2026 Spring Festival: 15-23 February off; 14 Feb (Sat) and 28 Feb (Sat) are working days.
    assert is_working_day(D(2026, 2, 14))
    assert not any(is_working_day(D(2026, 2, day)) for day in range(15, 24))
    assert add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)


def test_plain_weekend_and_weekday() -> None:
    assert not is_working_day(D(2026, 11, 21))  # Saturday
    assert is_working_day(D(2026, 11, 20))  # Friday
    assert add_working_days(D(2026, 11, 20), 1) == D(2026, 11, 23)


def test_zero_days_is_the_start_and_negative_days_are_refused() -> None:
    assert add_working_days(D(2026, 10, 3), 0) == D(2026, 10, 3)
    with pytest.raises(ValueError, match="zero or positive"):
        add_working_days(D(2026, 10, 3), -1)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2026, 9, 30), D(2026, 10, 9), 2),
        (D(2026, 9, 30), D(2026, 10, 7), 0),
        (D(2026, 10, 9), D(2026, 9, 30), -2),
        (D(2026, 11, 16), D(2026, 11, 23), 5),
        (D(2026, 11, 16), D(2026, 11, 16), 0),
    ],
)
def test_working_days_between(start: dt.date, end: dt.date, expected: int) -> None:
    assert working_days_between(start, end) == expected


@pytest.mark.parametrize("days", [1, 2, 3, 5, 7, 10, 15, 20, 30])
def test_between_inverts_add_across_the_year(days: int) -> None:
    calendar = WorkingCalendar()
    for offset in range(0, 300, 11):  # stays inside 2026: 2027 is not known yet
        start = D(2026, 1, 1) + dt.timedelta(days=offset)
        due = calendar.add_working_days(start, days)
        assert calendar.working_days_between(start, due) == days
        assert calendar.is_working_day(due)


def test_unknown_year_is_an_error_not_a_guess() -> None:
    with pytest.raises(CalendarYearUnknown) as raised:
        add_working_days(D(2027, 3, 1), 1)
    assert raised.value.year == 2027
    assert raised.value.code == "calendar.year_unknown"
    # Crossing into an unknown year mid-count is refused too.
    with pytest.raises(CalendarYearUnknown):
        add_working_days(D(2026, 12, 28), 10)


def _confirmed_year(year: int, notice: str) -> StatutoryCalendarYear:
    # Only a confirmed entry counts (maker-checker: core.calendar_years); the services are tested
    # in test_calendar_years.py, these tests exercise the calendar arithmetic.
    return StatutoryCalendarYear.objects.create(year=year, notice=notice, confirmed_at=timezone.now())


def test_staff_entered_year_is_used_when_the_library_lacks_it() -> None:
    year = _confirmed_year(2027, "国办发明电〔2026〕测试号")
    StatutoryCalendarDay.objects.create(calendar_year=year, date=D(2027, 1, 1), kind="holiday", name="元旦")
    # An adjusted working Sunday.
    StatutoryCalendarDay.objects.create(calendar_year=year, date=D(2027, 1, 3), kind="workday", name="元旦")
    assert not is_working_day(D(2027, 1, 1))  # Friday, but a holiday
    assert is_working_day(D(2027, 1, 3))  # Sunday, but adjusted
    assert not is_working_day(D(2027, 1, 2))  # ordinary Saturday
    assert add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 3)
    assert add_working_days(D(2026, 12, 31), 2) == D(2027, 1, 4)


def test_staff_entry_overrides_the_library_for_a_known_year() -> None:
    year = _confirmed_year(2026, "correction")
    StatutoryCalendarDay.objects.create(calendar_year=year, date=D(2026, 11, 20), kind="holiday", name="测试")
    assert not is_working_day(D(2026, 11, 20))
    # Days the staff did not list follow plain weekday rules for that year.
    assert is_working_day(D(2026, 11, 19))


def test_calendar_looks_up_each_year_once(django_assert_num_queries) -> None:
    calendar = WorkingCalendar()
    with django_assert_num_queries(1):
        calendar.add_working_days(D(2026, 1, 5), 200)


def test_provisional_due_counts_weekdays_of_an_unknown_year_and_says_so() -> None:
    # Monday 2026-12-28 + 7: three days of 2026, then four weekdays of 2027 (holidays unknown).
    due = provisional_due(D(2026, 12, 28), 7)
    assert due.date == D(2027, 1, 6)
    assert due.provisional
    # Entirely inside a known year: exact, and not provisional.
    known = provisional_due(D(2026, 9, 30), 2)
    assert (known.date, known.provisional) == (D(2026, 10, 9), False)


def test_an_unconfirmed_entry_counts_for_nothing() -> None:
    year = StatutoryCalendarYear.objects.create(year=2027, notice="draft")
    StatutoryCalendarDay.objects.create(calendar_year=year, date=D(2027, 1, 4), kind="holiday", name="测试")
    with pytest.raises(CalendarYearUnknown):
        is_working_day(D(2027, 1, 4))
    assert provisional_due(D(2027, 1, 1), 1).date == D(2027, 1, 4)


def test_next_year_warning_from_november() -> None:
    assert missing_next_year(D(2026, 10, 31)) is None
    assert missing_next_year(D(2026, 11, 1)) == 2027
    assert missing_next_year(D(2025, 11, 20)) is None  # 2026 is in the library
    _confirmed_year(2027, "国办发明电〔2026〕测试号")
    assert missing_next_year(D(2026, 12, 4)) is None
