"""Deadlines of the licensing workflow: pure functions of dates and the statutory calendar.

Counting follows core.workdays: the day of the event never counts, so a letter sent on a holiday
starts its clock on the next working day. The services store the results on the Stage rows, so
queues filter on stored dates and never compute a calendar per row.

Statutory and seed rules:
* the ministry replies to the city's work contact letter within 15 working days;
* the online service capability review takes at most 20 working days from the province's receipt,
  extendable once per review round by 10 working days with a recorded reason;
* a "revise" decision gives the company one week — 7 calendar days, the seed's wording — to
  resubmit; the 20-day clock then restarts from the day of the resubmission (a new round);
* the test-passed document is valid for 6 calendar months from its issue;
* the level-3 protection evaluation (等保三级) is renewed yearly: valid 12 months from issue;
  the network protection and app security assessments are done once (no end unless the report
  states one).

Steps whose length the seed does not give use working-day defaults from settings (services read
them): LICENSING_CITY_LETTER_WORKING_DAYS (10), LICENSING_MINISTRY_ACCOUNT_WORKING_DAYS (5),
LICENSING_CITY_FORWARD_WORKING_DAYS (5), LICENSING_DEPARTMENT_REVIEW_WORKING_DAYS (10),
LICENSING_DECISION_WORKING_DAYS (20, the general licensing limit of 行政许可法 art. 42).

Validity dates are inclusive: a document issued on 2026-01-10 is valid through 2026-07-10.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable

from yunzheng.core.workdays import CalendarYearUnknown, WorkingCalendar

MINISTRY_REPLY_WORKING_DAYS = 15
CAPABILITY_REVIEW_WORKING_DAYS = 20
CAPABILITY_EXTENSION_WORKING_DAYS = 10
REVISION_CALENDAR_DAYS = 7
TEST_DOCUMENT_VALID_MONTHS = 6
LEVEL3_VALID_MONTHS = 12


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's end (Aug 31 + 6 months = Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def working_days_due(start: dt.date, days: int, *, calendar_: WorkingCalendar | None = None) -> dt.date:
    return (calendar_ or WorkingCalendar()).add_working_days(start, days)


def ministry_reply_due(letter_on: dt.date, *, calendar_: WorkingCalendar | None = None) -> dt.date:
    return working_days_due(letter_on, MINISTRY_REPLY_WORKING_DAYS, calendar_=calendar_)


def capability_review_due(
    round_started_on: dt.date, *, extended: bool = False, calendar_: WorkingCalendar | None = None
) -> dt.date:
    """Due date of one capability review round: 20 working days, 30 once extended."""
    days = CAPABILITY_REVIEW_WORKING_DAYS + (CAPABILITY_EXTENSION_WORKING_DAYS if extended else 0)
    return working_days_due(round_started_on, days, calendar_=calendar_)


def revision_due(decided_on: dt.date) -> dt.date:
    """The company's last day to resubmit after a "revise" decision (calendar days, not working)."""
    return decided_on + dt.timedelta(days=REVISION_CALENDAR_DAYS)


def test_document_valid_until(issued_on: dt.date) -> dt.date:
    return add_months(issued_on, TEST_DOCUMENT_VALID_MONTHS)


def level3_valid_until(issued_on: dt.date) -> dt.date:
    return add_months(issued_on, LEVEL3_VALID_MONTHS)


def is_valid_on(valid_until: dt.date | None, day: dt.date) -> bool:
    """Whether something valid through `valid_until` (None = no end) is still valid on `day`."""
    return valid_until is None or day <= valid_until


def days_left(due_on: dt.date | None, today: dt.date) -> int | None:
    """Calendar days until `due_on` (0 on the day itself, negative when overdue)."""
    return None if due_on is None else (due_on - today).days


def or_unknown(compute: Callable[[], dt.date]) -> dt.date | None:
    """Run a deadline computation; None when its year's calendar is not known yet (staff enter it,
    and `manage.py licensing_reminders` fills the date in later)."""
    try:
        return compute()
    except CalendarYearUnknown:
        return None
