"""Licensing stages and the five departments' reviews whose working-day due date falls in a year
whose holidays are not published yet get a provisional date (never none), shown as provisional,
and recomputed with an audit entry when staff confirm that year (ADR 0007)."""

from __future__ import annotations

import datetime as dt

import pytest

from yunzheng.accounts.tests.factories import staff_client
from yunzheng.core import calendar_years
from yunzheng.core.models import AuditEntry
from yunzheng.elicense.tests.conftest import make_staff
from yunzheng.licensing import services
from yunzheng.licensing.models import DepartmentReview, Stage, Step
from yunzheng.licensing.tests.factories import at
from yunzheng.licensing.tests.test_procedure_fidelity import _at_intake

pytestmark = pytest.mark.django_db
D = dt.date
RECOMPUTER = "yunzheng.licensing.services.stage_deadlines_refresh"


def test_review_and_department_reviews_from_28_december_are_provisional_then_recomputed() -> None:
    application, _user, who = _at_intake(at(2026, 12, 21))
    services.capability_forward(application=application, user=who.city, now=at(2026, 12, 28))
    services.capability_distribute(application=application, user=who.province, now=at(2026, 12, 28))
    stage = Stage.objects.get(application=application, kind=Step.CAPABILITY_REVIEW, status="open")
    # 20 working days from Mon 28 Dec, 2027 on weekdays: Dec 29-31, Jan 1, 4-8, 11-15, 18-22, 25.
    assert (stage.due_on, stage.due_provisional) == (D(2027, 1, 25), True)
    reviews = list(DepartmentReview.objects.filter(stage=stage))
    assert len(reviews) == 5
    # 10 working days: Dec 29-31, Jan 1, 4-8, 11.
    assert {(r.due_on, r.due_provisional) for r in reviews} == {(D(2027, 1, 11), True)}

    page = staff_client(who.province).get(f"/licensing/staff/applications/{application.pk}/")
    assert 'data-testid="due-provisional"' in page.content.decode()

    maker, checker = make_staff(), make_staff()
    calendar_years.calendar_year_enter(
        year=2027,
        notice="国务院办公厅关于2027年部分节假日安排的通知（测试）",
        holidays=[calendar_years.HolidayRange(start=D(2027, 1, 1), end=D(2027, 1, 3), name="元旦")],
        workdays=[],
        user=maker,
    )
    recomputed = calendar_years.calendar_year_confirm(year=2027, user=checker)
    assert recomputed[RECOMPUTER] == 6  # the review and its five department reviews

    stage.refresh_from_db()
    assert (stage.due_on, stage.due_provisional) == (D(2027, 1, 26), False)
    assert {(r.due_on, r.due_provisional) for r in DepartmentReview.objects.filter(stage=stage)} == {
        (D(2027, 1, 12), False)
    }
    entries = AuditEntry.objects.filter(action="licensing.deadline_recomputed")
    assert {e.target_type for e in entries} == {"licensing_stage", "licensing_department_review"}
    review_entry = entries.filter(target_type="licensing_department_review").first()
    assert review_entry is not None
    assert review_entry.before == {"due_on": "2027-01-11", "due_provisional": True}
    assert review_entry.after == {"due_on": "2027-01-12", "due_provisional": False}
