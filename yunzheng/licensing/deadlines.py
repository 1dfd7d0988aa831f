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

Steps whose length the seed does not give use working-day settings with defaults in conf.py
(STEP_DEADLINES below names them).

Validity dates are inclusive: a document issued on 2026-01-10 is valid through 2026-07-10.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Literal

from yunzheng.core.workdays import DueDate, WorkingCalendar, counted_due
from yunzheng.licensing.conf import app_settings
from yunzheng.licensing.models import Step

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


def working_days_counted(start: dt.date, days: int) -> DueDate:
    """`days` working days after `start`, never refused: provisional (weekdays only) where a
    year's holidays are not known yet; `services.stage_deadlines_refresh` recomputes it once
    staff confirm that year."""
    return counted_due(lambda calendar: working_days_due(start, days, calendar_=calendar))


# --------------------------------------------------------------------------------------------
# The deadline of each step, as data: services._common._open_stage stores the result on the Stage
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepDeadline:
    """How the deadline of a step is counted from the day its clock starts.

    * ``working_days``: `days` working days (or the `setting`, when the settings define it);
    * ``calendar_days``: `days` calendar days;
    * ``booked_month``: the end of the month of the application's active test booking;
    * ``test_document``: the end of validity of the company's current test-passed document.
    """

    kind: Literal["working_days", "calendar_days", "booked_month", "test_document"]
    days: int = 0
    setting: str = ""  # a setting of conf.py that gives the length instead of `days`

    def length(self) -> int:
        return int(getattr(app_settings, self.setting)) if self.setting else self.days

    def rule(self) -> str:
        """The rule stored on the Stage (``working_days:10``): reminders re-count from it."""
        return f"{self.kind}:{self.length()}" if self.kind in ("working_days", "calendar_days") else self.kind


STEP_DEADLINES: dict[str, StepDeadline] = {
    Step.QUOTA_REVIEW: StepDeadline("working_days", setting="LICENSING_CITY_LETTER_WORKING_DAYS"),
    Step.LOCAL_REVIEW: StepDeadline("working_days", setting="LICENSING_LOCAL_REVIEW_WORKING_DAYS"),
    Step.MINISTRY_REPLY: StepDeadline("working_days", MINISTRY_REPLY_WORKING_DAYS),
    Step.TEST_ACCOUNT: StepDeadline("working_days", setting="LICENSING_MINISTRY_ACCOUNT_WORKING_DAYS"),
    Step.VPN_ACCOUNT: StepDeadline("working_days", setting="LICENSING_MINISTRY_ACCOUNT_WORKING_DAYS"),
    Step.TEST_RUN: StepDeadline("booked_month"),
    Step.CAPABILITY_INTAKE: StepDeadline("working_days", setting="LICENSING_CITY_FORWARD_WORKING_DAYS"),
    Step.CAPABILITY_REVIEW: StepDeadline("working_days", CAPABILITY_REVIEW_WORKING_DAYS),
    Step.CAPABILITY_REVISION: StepDeadline("calendar_days", REVISION_CALENDAR_DAYS),
    Step.CAPABILITY_MATERIALS: StepDeadline("test_document"),
    Step.EVALUATIONS: StepDeadline("test_document"),
    Step.LICENCE_DECISION: StepDeadline("working_days", setting="LICENSING_DECISION_WORKING_DAYS"),
}


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])
