"""Deadline arithmetic on the real 2026 statutory calendar (dates checked by hand against the
State Council's 2026 holiday notice: National Day 1-7 Oct with 20 Sep and 10 Oct worked; Spring
Festival 15-23 Feb with 14 and 28 Feb worked; Qingming 4-6 Apr)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from yunzheng.core.models import StatutoryCalendarDay, StatutoryCalendarYear
from yunzheng.core.workdays import CalendarYearUnknown, DueDate
from yunzheng.licensing import deadlines

D = dt.date


@pytest.mark.django_db
def test_ministry_reply_due_fifteen_working_days_across_national_day() -> None:
    # Letter on Fri 18 Sep: Sun 20 Sep is worked, 25 Sep and 1-7 Oct are off, Sat 10 Oct is worked.
    assert deadlines.ministry_reply_due(D(2026, 9, 18)) == D(2026, 10, 15)


@pytest.mark.django_db
def test_capability_review_twenty_working_days_across_spring_festival_and_one_extension() -> None:
    # Received Mon 9 Feb: 14 and 28 Feb are worked, 16-20 and 23 Feb are off.
    assert deadlines.capability_review_due(D(2026, 2, 9)) == D(2026, 3, 13)
    assert deadlines.capability_review_due(D(2026, 2, 9), extended=True) == D(2026, 3, 27)


@pytest.mark.django_db
def test_revision_gives_one_calendar_week_and_the_clock_restarts_from_resubmission() -> None:
    assert deadlines.revision_due(D(2026, 3, 10)) == D(2026, 3, 17)
    # Resubmitted Mon 16 Mar: a fresh 20 working days, over Qingming (Mon 6 Apr off).
    assert deadlines.capability_review_due(D(2026, 3, 16)) == D(2026, 4, 14)


def test_six_and_twelve_months_clamp_to_month_end() -> None:
    assert deadlines.test_document_valid_until(D(2026, 1, 10)) == D(2026, 7, 10)
    assert deadlines.test_document_valid_until(D(2026, 8, 31)) == D(2027, 2, 28)
    assert deadlines.level3_valid_until(D(2026, 2, 28)) == D(2027, 2, 28)
    assert deadlines.add_months(D(2027, 8, 31), 6) == D(2028, 2, 29)


def test_validity_is_inclusive() -> None:
    assert deadlines.is_valid_on(D(2026, 7, 10), D(2026, 7, 10))
    assert not deadlines.is_valid_on(D(2026, 7, 10), D(2026, 7, 11))
    assert deadlines.is_valid_on(None, D(2099, 1, 1))
    assert deadlines.days_left(D(2026, 7, 10), D(2026, 7, 12)) == -2


@pytest.mark.django_db
def test_unknown_year_gives_no_date_until_staff_enter_it() -> None:
    with pytest.raises(CalendarYearUnknown):
        deadlines.ministry_reply_due(D(2026, 12, 21))
    # Never refused where a date is stored: weekdays only, marked provisional (1 Jan counted).
    provisional = deadlines.working_days_counted(D(2026, 12, 21), deadlines.MINISTRY_REPLY_WORKING_DAYS)
    assert provisional == DueDate(D(2027, 1, 11), provisional=True)
    # Entered and confirmed (maker-checker, core.calendar_years): only a confirmed year counts.
    year = StatutoryCalendarYear.objects.create(
        year=2027, notice="test schedule", confirmed_at=timezone.now()
    )
    StatutoryCalendarDay.objects.create(calendar_year=year, date=D(2027, 1, 1), kind="holiday", name="元旦")
    # 22-25 and 28-31 Dec 2026 (8 days), 1 Jan 2027 off, then 4-8 and 11-12 Jan (7 more).
    assert deadlines.ministry_reply_due(D(2026, 12, 21)) == D(2027, 1, 12)
    assert deadlines.working_days_counted(D(2026, 12, 21), 15) == DueDate(D(2027, 1, 12), provisional=False)
