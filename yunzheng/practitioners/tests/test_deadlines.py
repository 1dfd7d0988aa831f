"""Statutory deadlines on the real 2026 calendar (National Day 1-7 Oct with Saturday 10 Oct worked;
Spring Festival 15-23 Feb with Saturdays 14 and 28 Feb worked; Mid-Autumn Friday 25 Sep)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from yunzheng.core.models import StatutoryCalendarDay, StatutoryCalendarYear
from yunzheng.core.workdays import CalendarYearUnknown, DueDate, counted_due
from yunzheng.practitioners import deadlines

D = dt.date


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("submitted", "due"),
    [
        (D(2026, 9, 30), D(2026, 10, 9)),  # the eve of National Day: the holiday does not count
        (D(2026, 10, 3), D(2026, 10, 9)),  # submitted during the holiday: the clock starts on the 8th
        (D(2026, 10, 8), D(2026, 10, 10)),  # Saturday 10 Oct is a working day (调休)
        (D(2026, 10, 9), D(2026, 10, 12)),  # ... and Sunday 11 Oct is not
        (D(2026, 2, 12), D(2026, 2, 14)),  # Saturday 14 Feb is worked before Spring Festival
        (D(2026, 2, 13), D(2026, 2, 24)),  # Spring Festival 15-23 Feb
        (D(2026, 9, 24), D(2026, 9, 29)),  # Mid-Autumn Festival on Friday 25 Sep
    ],
)
def test_acceptance_due_two_working_days(submitted: dt.date, due: dt.date) -> None:
    assert deadlines.acceptance_due(submitted) == due


@pytest.mark.django_db
def test_decision_due_three_working_days_after_acceptance() -> None:
    # Accepted Friday 9 Oct: Saturday 10 Oct (worked), Monday 12, Tuesday 13.
    assert deadlines.decision_due(D(2026, 10, 9)) == D(2026, 10, 13)
    # Accepted just before Spring Festival: 14 Feb (Sat, worked), then 24 and 25 Feb.
    assert deadlines.decision_due(D(2026, 2, 13)) == D(2026, 2, 25)


@pytest.mark.django_db
def test_supplement_pause_extends_the_decision_by_the_working_days_paused() -> None:
    accepted = D(2026, 10, 8)  # Thursday
    assert deadlines.decision_due(accepted) == D(2026, 10, 12)
    # Returned Friday 9 Oct, resumed Tuesday 13 Oct: Saturday 10 (worked), Monday 12 and Tuesday 13
    # stood still; Sunday 11 was no working day anyway.
    paused = deadlines.paused_working_days(D(2026, 10, 9), D(2026, 10, 13))
    assert paused == 3
    assert deadlines.decision_due(accepted, paused_working_days=paused) == D(2026, 10, 15)
    # An ordinary weekend: returned Friday 16 Oct, resumed Tuesday 20 Oct -> Monday and Tuesday.
    assert deadlines.paused_working_days(D(2026, 10, 16), D(2026, 10, 20)) == 2
    # A supplement on the day of the return costs nothing.
    assert deadlines.paused_working_days(D(2026, 10, 16), D(2026, 10, 16)) == 0


@pytest.mark.django_db
def test_information_verification_answer_due_in_two_working_days() -> None:
    assert deadlines.answer_due(D(2026, 9, 30)) == D(2026, 10, 9)


@pytest.mark.django_db
def test_unknown_year_is_not_guessed_until_staff_enter_it() -> None:
    with pytest.raises(CalendarYearUnknown):
        deadlines.acceptance_due(D(2026, 12, 30))
    # The services store it provisionally instead (weekdays only: Friday 1 Jan counted).
    provisional = counted_due(lambda calendar: deadlines.acceptance_due(D(2026, 12, 30), calendar=calendar))
    assert provisional == DueDate(D(2027, 1, 1), provisional=True)
    # Entered and confirmed (maker-checker, core.calendar_years): only a confirmed year counts.
    year = StatutoryCalendarYear.objects.create(year=2027, notice="test notice", confirmed_at=timezone.now())
    StatutoryCalendarDay.objects.create(calendar_year=year, date=D(2027, 1, 1), kind="holiday", name="元旦")
    # 31 Dec 2026 (Thursday), then 1 Jan 2027 is a holiday and 2-3 Jan a weekend: Monday 4 Jan.
    assert deadlines.acceptance_due(D(2026, 12, 30)) == D(2027, 1, 4)


def test_paused_days_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="before the return"):
        deadlines.paused_working_days(D(2026, 10, 13), D(2026, 10, 9))
    with pytest.raises(ValueError, match="zero or positive"):
        deadlines.decision_due(D(2026, 10, 9), paused_working_days=-1)
