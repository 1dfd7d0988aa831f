"""Issue #17, licensing items 2 and 3, through the services and the pages.

2 - the city does an initial review (初审) of the capability materials: accept (forward to the
    province), or return them to the company with the reasons;
3 - "revise and resubmit within one week": a late resubmission is refused, and the application
    lapses by itself once the week has passed (the reminders command, no clerk).
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from yunzheng.accounts.models import User
from yunzheng.accounts.tests.factories import staff_client
from yunzheng.core.errors import Conflict, ValidationFailed
from yunzheng.licensing import services
from yunzheng.licensing.models import LicenceApplication, Notification, Step
from yunzheng.licensing.tests.factories import Officials, at, pdf_upload
from yunzheng.licensing.tests.test_workflow import _application_at_test_booking, _pass_test

pytestmark = pytest.mark.django_db
D = dt.date


def _at_intake(now: dt.datetime) -> tuple[LicenceApplication, User, Officials]:
    _company, user, who, application = _application_at_test_booking(now)
    _pass_test(application, user=user, who=who, now=now)
    services.material_upload(
        application=application, kind="capability", upload=pdf_upload(), user=user, now=now
    )
    services.capability_submit(application=application, user=user, now=now)
    application.refresh_from_db()
    assert application.step == Step.CAPABILITY_INTAKE
    return application, user, who


def test_city_initial_review_returns_materials_with_reasons_or_accepts_them() -> None:
    start = at(2026, 2, 2)
    application, user, who = _at_intake(start)
    with pytest.raises(ValidationFailed):  # a return needs its reasons
        services.capability_initial_review(application=application, user=who.city, decision="return")
    services.capability_initial_review(
        application=application, user=who.city, decision="return", reason="税务登记证明不清晰", now=start
    )
    application.refresh_from_db()
    assert application.step == Step.CAPABILITY_MATERIALS
    assert Notification.objects.filter(application=application, text__contains="税务登记证明不清晰").exists()
    # the company resubmits; the city accepts and the province's 20-day clock starts
    services.material_upload(
        application=application, kind="capability", upload=pdf_upload(), user=user, now=start
    )
    services.capability_submit(application=application, user=user, now=start)
    services.capability_initial_review(application=application, user=who.city, decision="accept", now=start)
    application.refresh_from_db()
    assert application.step == Step.CAPABILITY_REVIEW
    with pytest.raises(ValidationFailed):
        services.capability_initial_review(application=application, user=who.city, decision="maybe")


def test_city_initial_review_page_returns_with_reasons() -> None:
    # the page acts now: the test-passed document must be valid today
    application, _user, who = _at_intake(dt.datetime.now(tz=dt.UTC))
    city = staff_client(who.city)
    page = city.get(f"/licensing/staff/applications/{application.pk}/").content.decode()
    assert 'data-testid="return_capability"' in page
    assert 'data-testid="forward"' in page
    city.post(
        f"/licensing/applications/{application.pk}/act/",
        {"action": "return_capability", "reason": "缺少附件"},
    )
    application.refresh_from_db()
    assert application.step == Step.CAPABILITY_MATERIALS


def _at_revision(start: dt.datetime) -> tuple[LicenceApplication, User, Officials]:
    application, user, who = _at_intake(start)
    services.capability_forward(application=application, user=who.city, now=start)
    services.capability_distribute(application=application, user=who.province, now=start)
    for official in who.departments.values():
        services.department_review_submit(
            application=application, user=official, recommendation="approve", comments="同意", now=start
        )
    services.capability_decide(
        application=application, user=who.province, decision="revise", reason="材料不全", now=at(2026, 3, 10)
    )
    application.refresh_from_db()
    assert application.step == Step.CAPABILITY_REVISION
    return application, user, who


def test_a_late_resubmission_is_refused() -> None:
    application, user, _who = _at_revision(at(2026, 2, 2))
    services.material_upload(
        application=application, kind="capability", upload=pdf_upload(), user=user, now=at(2026, 3, 18)
    )
    with pytest.raises(Conflict) as caught:  # due 2026-03-17, one week after the decision
        services.capability_resubmit(application=application, user=user, now=at(2026, 3, 18))
    assert caught.value.code == "review.revision_overdue"


def test_the_application_lapses_by_itself_when_the_week_has_passed() -> None:
    application, _user, _who = _at_revision(at(2026, 2, 2))
    assert services.reminders_send(now=at(2026, 3, 17))["lapsed"] == 0  # still the last day
    out = StringIO()
    call_command("licensing_reminders", stdout=out)  # runs today, long after 2026-03-17
    assert "lapsed=1" in out.getvalue()
    application.refresh_from_db()
    assert application.step == Step.REJECTED
    last = application.transitions.order_by("-pk").first()
    assert last is not None
    assert (last.action, last.to_step) == ("lapse_revision", Step.REJECTED)
    assert "2026-03-17" in last.reason  # the reason names the missed date
    assert "lapsed=0" in _run_again()


def _run_again() -> str:
    out = StringIO()
    call_command("licensing_reminders", stdout=out)
    return out.getvalue()
