"""Statutory deadlines of One-Network Office cases, in working days (core.workdays).

Pure functions of dates and the calendar; the services store their results on the case, so queues
filter on stored dates and never compute a calendar per row.

Counting follows core.workdays: the day of the event does not count, so a case submitted on a
holiday starts its clock on the next working day.

* acceptance: within 2 working days of submission;
* decision: within 3 working days of acceptance, plus every working day the case spent waiting
  for the applicant's supplement (补正) — the clock pauses from the day after the return up to and
  including the day the supplement arrives;
* information verification (核查): the issuing authority answers within 2 working days.

A deadline in a year whose holidays nobody knows yet is never refused: the services count it with
`core.workdays.counted_due` (weekdays only in that year) and store it with `due_provisional`;
`services.case_deadlines_refresh` recomputes it (audited) once staff confirm that year's calendar.
"""

from __future__ import annotations

import datetime as dt

from yunzheng.core.workdays import WorkingCalendar

ACCEPT_WORKING_DAYS = 2
DECIDE_WORKING_DAYS = 3
ANSWER_WORKING_DAYS = 2


def acceptance_due(submitted_on: dt.date, *, calendar: WorkingCalendar | None = None) -> dt.date:
    return (calendar or WorkingCalendar()).add_working_days(submitted_on, ACCEPT_WORKING_DAYS)


def answer_due(submitted_on: dt.date, *, calendar: WorkingCalendar | None = None) -> dt.date:
    return (calendar or WorkingCalendar()).add_working_days(submitted_on, ANSWER_WORKING_DAYS)


def decision_due(
    accepted_on: dt.date, *, paused_working_days: int = 0, calendar: WorkingCalendar | None = None
) -> dt.date:
    if paused_working_days < 0:
        raise ValueError("paused_working_days must be zero or positive")
    return (calendar or WorkingCalendar()).add_working_days(
        accepted_on, DECIDE_WORKING_DAYS + paused_working_days
    )


def paused_working_days(
    returned_on: dt.date, resumed_on: dt.date, *, calendar: WorkingCalendar | None = None
) -> int:
    """Working days the decision clock stood still: those in (returned_on, resumed_on]."""
    if resumed_on < returned_on:
        raise ValueError("a supplement cannot arrive before the return")
    return (calendar or WorkingCalendar()).working_days_between(returned_on, resumed_on)
