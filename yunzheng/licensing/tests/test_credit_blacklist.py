"""Issue #17 item 6: a ministry credit blacklist (entries with reason, dates and who recorded them)
blocks test passes and licence grants while an entry is active."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from yunzheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from yunzheng.core.models import AuditEntry
from yunzheng.licensing import services
from yunzheng.licensing.models import OperatingLicence, Step, TestSlotMonth
from yunzheng.licensing.tests.factories import at, pdf_upload, record_evaluations
from yunzheng.licensing.tests.test_workflow import _application_at_test_booking

pytestmark = pytest.mark.django_db
D = dt.date


def _at_test_run(now: dt.datetime) -> tuple[Any, Any, Any, Any]:
    company, user, who, application = _application_at_test_booking(now)
    month = now.date().replace(day=1)
    if not TestSlotMonth.objects.filter(month=month).exists():
        services.test_slot_month_create(
            month=month, user=who.ministry, capacity=5, opens_at=now - dt.timedelta(hours=1)
        )
    services.test_booking_create(company_id=company.pk, month=month, user=user, now=now)
    application.refresh_from_db()
    assert application.step == Step.TEST_RUN
    return company, user, who, application


def test_an_active_entry_blocks_the_test_pass_until_it_ends() -> None:
    now = at(2026, 2, 2)
    company, _user, who, application = _at_test_run(now)
    with pytest.raises(PermissionDenied):  # only the ministry keeps the list
        services.blacklist_entry_record(
            company=company, user=who.city, reason="x", starts_on=D(2026, 1, 1), now=now
        )
    with pytest.raises(ValidationFailed):
        services.blacklist_entry_record(
            company=company, user=who.ministry, reason=" ", starts_on=D(2026, 1, 1), now=now
        )
    entry = services.blacklist_entry_record(
        company=company,
        user=who.ministry,
        reason="严重失信：虚假材料",
        starts_on=D(2026, 1, 15),
        ends_on=D(2026, 2, 10),
        now=now,
    )
    assert (entry.recorded_by, entry.recorded_at) == (who.ministry, now)
    assert AuditEntry.objects.filter(action="licensing.blacklist.record").exists()
    with pytest.raises(Conflict) as blocked:
        services.test_result_record(
            application=application, user=who.ministry, passed=True, issued_on=now.date(), now=now
        )
    assert blocked.value.code == "credit.blacklisted"
    application.refresh_from_db()
    assert application.step == Step.TEST_RUN
    # after the entry's end the test can pass
    later = at(2026, 2, 11)
    services.test_result_record(
        application=application, user=who.ministry, passed=True, issued_on=later.date(), now=later
    )
    application.refresh_from_db()
    assert application.step == Step.CAPABILITY_MATERIALS


def test_an_active_entry_blocks_the_licence_grant_and_lifting_it_clears_the_way() -> None:
    now = at(2026, 3, 2)
    company, user, who, application = _at_test_run(now)
    services.test_result_record(
        application=application, user=who.ministry, passed=True, issued_on=now.date(), now=now
    )
    services.material_upload(
        application=application, kind="capability", upload=pdf_upload(), user=user, now=now
    )
    services.capability_submit(application=application, user=user, now=now)
    services.capability_forward(application=application, user=who.city, now=now)
    services.capability_distribute(application=application, user=who.province, now=now)
    for official in who.departments.values():
        services.department_review_submit(
            application=application, user=official, recommendation="approve", comments="同意", now=now
        )
    services.capability_decide(application=application, user=who.province, decision="approve", now=now)
    record_evaluations(company, user, issued_on=D(2026, 2, 27), now=now)
    services.evaluations_submit(application=application, user=user, now=now)
    entry = services.blacklist_entry_record(
        company=company, user=who.ministry, reason="列入失信名单", starts_on=D(2026, 3, 1), now=now
    )  # open-ended
    with pytest.raises(Conflict) as blocked:
        services.licence_grant(application=application, user=who.city, scope="网约车", area="杭州市", now=now)
    assert blocked.value.code == "credit.blacklisted"
    assert not OperatingLicence.objects.exists()
    services.blacklist_entry_lift(entry=entry, user=who.ministry, reason="信用修复完成", now=now)
    licence = services.licence_grant(
        application=application, user=who.city, scope="网约车", area="杭州市", now=now
    )
    assert licence.company == company
