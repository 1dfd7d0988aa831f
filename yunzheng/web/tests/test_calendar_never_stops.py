# ruff: noqa: F811 - fixtures imported from the apps' conftest modules are used as arguments
"""The statutory calendar never stops a service (issue 13 item 6, ADR 0007): on 2026-12-28, with
2027's holidays not yet published, a traffic pass and a One-Network Office case are both accepted
with provisional due dates, shown as provisional in their pages and APIs; entering 2027 and a
second person's confirmation recompute both, with an audit entry each. Time is moved the way
every service test moves it: the services take `now` (core.clock)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from yunzheng.core import calendar_years
from yunzheng.core.clock import today_in_china
from yunzheng.core.models import AuditEntry
from yunzheng.core.workdays import missing_next_year
from yunzheng.elicense.tests.conftest import (  # noqa: F401 - fixtures
    holder,
    make_staff,
    staff_client,
    tianjin_staff,
    truck,
    user_client,
)
from yunzheng.elicense.tests.test_calendar_provisional import (
    HOLIDAYS,
    NOTICE,
    WORKDAYS,
    _apply_on_28_december,
)
from yunzheng.practitioners import services as office
from yunzheng.practitioners.tests.conftest import (  # noqa: F401 - fixtures
    DRIVER_ID,
    at,
    clerk,
    make_verified_user,
    private_media,
    register,
    staff_login,
    submitted,
)
from yunzheng.web.calendar_pages import calendar_warning

D = dt.date
OFFICE_RECOMPUTER = "yunzheng.practitioners.services.case_deadlines_refresh"
PASS_RECOMPUTER = "yunzheng.elicense.traffic_passes.traffic_pass_due_dates_recompute"


@pytest.fixture
def driver(db: Any) -> Any:
    return make_verified_user("13812340001", name="张伟", id_no=DRIVER_ID)


def test_pass_and_office_case_on_28_december_then_2027_is_confirmed(
    holder, truck, tianjin_staff, driver, clerk, client
):
    application = _apply_on_28_december(holder, tianjin_staff)
    assert (application.due_date, application.due_date_provisional) == (D(2027, 1, 6), True)

    certificate = register(DRIVER_ID, number="3301002015001234")
    case = submitted(driver, certificate, now=at(2026, 12, 28))
    assert (case.due_on, case.due_provisional) == (D(2026, 12, 30), False)  # 2026 is known
    case = office.case_accept(case=case, staff=clerk, now=at(2026, 12, 30))
    # 3 working days: Dec 31, then Fri 1 and Mon 4 Jan counted as weekdays (2027 unknown).
    assert (case.decide_due_on, case.due_on, case.due_provisional) == (D(2027, 1, 4), D(2027, 1, 4), True)

    # Marked provisional in the applicant's API and pages, and in the clerk's queue.
    body = user_client(driver).get(f"/api/v1/office/cases/{case.pk}").json()
    assert (body["due_on"], body["due_provisional"]) == ("2027-01-04", True)
    page = user_client(driver).get(f"/office/cases/{case.pk}/").content.decode()
    assert 'data-testid="due-provisional"' in page
    staff_login(client, clerk)
    queue = client.get("/office/staff/").content.decode()
    assert 'data-testid="due-provisional"' in queue

    maker, checker = make_staff(), make_staff()
    calendar_years.calendar_year_enter(
        year=2027, notice=NOTICE, holidays=HOLIDAYS, workdays=WORKDAYS, user=maker
    )
    recomputed = calendar_years.calendar_year_confirm(year=2027, user=checker)
    assert recomputed[PASS_RECOMPUTER] == 1
    assert recomputed[OFFICE_RECOMPUTER] == 1

    application.refresh_from_db()
    assert (application.due_date, application.due_date_provisional) == (D(2027, 1, 7), False)
    case.refresh_from_db()
    # 1-3 Jan are holidays now: Dec 31, Jan 4, Jan 5.
    assert (case.decide_due_on, case.due_on, case.due_provisional) == (D(2027, 1, 5), D(2027, 1, 5), False)
    entry = AuditEntry.objects.get(action="office.case.deadline_recomputed", target_id=str(case.pk))
    assert entry.before == {"due_on": "2027-01-04", "due_provisional": True}
    assert entry.after == {"due_on": "2027-01-05", "due_provisional": False}
    confirmed = AuditEntry.objects.get(action="calendar.year.confirmed")
    assert confirmed.after is not None
    assert confirmed.after["recomputed_due_dates"][OFFICE_RECOMPUTER] == 1
    body = user_client(driver).get(f"/api/v1/office/cases/{case.pk}").json()
    assert (body["due_on"], body["due_provisional"]) == ("2027-01-05", False)
    assert 'data-testid="due-provisional"' not in client.get("/office/staff/").content.decode()


def test_staff_workbenches_warn_from_1_november(holder, clerk, client):
    assert calendar_warning(clerk, today=D(2026, 10, 31)) is None
    assert calendar_warning(clerk, today=D(2026, 11, 1)) == 2027
    assert calendar_warning(clerk, today=D(2026, 12, 28)) == 2027
    assert calendar_warning(holder, today=D(2026, 11, 1)) is None  # not staff: no banner
    # The banner on the workbench follows today's answer (today is 2026-12-04 or later).
    staff_login(client, clerk)
    page = client.get("/workbench/").content.decode()
    expected = missing_next_year(today_in_china()) is not None
    assert ('data-testid="calendar-missing-banner"' in page) is expected
    maker, checker = make_staff(), make_staff()
    calendar_years.calendar_year_enter(
        year=2027, notice=NOTICE, holidays=HOLIDAYS, workdays=WORKDAYS, user=maker
    )
    assert calendar_warning(clerk, today=D(2026, 12, 28)) == 2027  # a draft does not count
    calendar_years.calendar_year_confirm(year=2027, user=checker)
    assert calendar_warning(clerk, today=D(2026, 12, 28)) is None
