"""Test results and the test-passed document (测试通过文件).

(Named test_…, not pytest tests: hence the PT028 exemption.)
"""

# ruff: noqa: PT028
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company, User
from yunzheng.accounts.permissions import authorize
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.errors import (
    Conflict,
    PermissionDenied,
    ValidationFailed,
)
from yunzheng.licensing import deadlines, selectors
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import (
    LicenceApplication,
    LicencePath,
    Party,
    Step,
    TestBooking,
    TestPassedDocument,
)
from yunzheng.licensing.services._common import _actor, _lock, _move, _not_future, _role, notify
from yunzheng.licensing.services.blacklist import blacklist_require_clear
from yunzheng.licensing.workflow import (
    SYSTEM,
    Action,
)

# --------------------------------------------------------------------------------------------
# Test results and the test-passed document
# --------------------------------------------------------------------------------------------


def _document_number(company: Company, issued_on: dt.date) -> str:
    base = f"CT{issued_on:%Y%m%d}{company.pk:06d}"
    count = TestPassedDocument.objects.filter(number__startswith=base).count()
    return f"{base}{count + 1:02d}"


def test_passed_document_record(
    *,
    company: Company,
    issued_on: dt.date,
    source: str,
    source_ref: str,
    actor: Actor,
    number: str = "",
    recorded_by: User | None = None,
    now: dt.datetime | None = None,
) -> TestPassedDocument:
    """Record a test-passed document (valid 6 months). Called by ministry staff (source "manual",
    from the official result) and later by the conformance app (source "conformance", its run id).
    Applications of the company waiting at the test move on; the active booking becomes "passed"."""
    now = now_or(now)
    if recorded_by is not None:  # a person issues it: the ministry only (conformance passes as system)
        authorize(recorded_by, "licensing.test_document.issue")
    if source not in TestPassedDocument.Source.values:
        raise ValidationFailed.single(field="source", code=Code.FIELD_REQUIRED, message=_("Unknown source."))
    issued_on = _not_future(issued_on, field="issued_on", today=today_in_china(now))
    # A company on the ministry's credit blacklist cannot pass the test while the entry is active.
    blacklist_require_clear(company, on=today_in_china(now))
    with transaction.atomic():
        document = TestPassedDocument.objects.create(
            company=company,
            number=(number.strip()[:64] or _document_number(company, issued_on)),
            issued_on=issued_on,
            valid_until=deadlines.test_document_valid_until(issued_on),
            source=source,
            source_ref=source_ref[:100],
            recorded_by=actor.label[:200],
            recorded_at=now,
        )
        record_audit(
            actor=actor,
            action="licensing.test_document.record",
            target_type="company",
            target_id=company.pk,
            after={
                "number": document.number,
                "issued_on": issued_on,
                "valid_until": document.valid_until,
                "source": source,
                "source_ref": source_ref,
            },
        )
        TestBooking.objects.filter(company=company, status=TestBooking.Status.BOOKED).update(
            status=TestBooking.Status.PASSED, result_at=now
        )
        for application in LicenceApplication.objects.filter(company=company, step=Step.TEST_RUN):
            locked = _lock(application)
            action = (
                Action.TEST_PASSED_RESUME
                if locked.path == LicencePath.NATIONAL and locked.capability_decided_on is not None
                else Action.TEST_PASSED
            )
            # The document moves the application on (role "system"); the history names who recorded it.
            _move(
                locked,
                action=action,
                user=recorded_by,
                now=now,
                role=SYSTEM,
                facts={"document": document.number},
            )
    return document


def test_result_record(
    *,
    application: LicenceApplication,
    user: User,
    passed: bool,
    issued_on: dt.date | None = None,
    document_number: str = "",
    reason: str = "",
    now: dt.datetime | None = None,
) -> TestPassedDocument | None:
    """Ministry staff record the official result of the tests of an application at the test step.
    Passed: the test-passed document is recorded. Failed: the booking stays used (it frees no slot)
    and the company must book again, in a later month."""
    now = now_or(now)
    authorize(user, "licensing.test.record_result")
    application = LicenceApplication.objects.select_related("company").get(pk=application.pk)  # fresh step
    if _role(user, application) != Party.MINISTRY or application.step != Step.TEST_RUN:
        raise PermissionDenied(
            Code.NOT_YOUR_TURN, _("Only the ministry records test results, at the test step.")
        )
    if passed:
        return test_passed_document_record(
            company=application.company,
            issued_on=issued_on or today_in_china(now),
            source=TestPassedDocument.Source.MANUAL,
            source_ref="",
            actor=_actor(user),
            number=document_number,
            recorded_by=user,
            now=now,
        )
    with transaction.atomic():
        locked = _lock(application)
        TestBooking.objects.filter(application=locked, status=TestBooking.Status.BOOKED).update(
            status=TestBooking.Status.FAILED, result_at=now
        )
        _move(locked, action=Action.TEST_FAILED, user=user, now=now, reason=reason or _("Tests failed"))
    return None


def application_retest(
    *, application: LicenceApplication, user: User | None, now: dt.datetime | None = None
) -> LicenceApplication:
    """Send an application back to the test after its test-passed document expired (the company,
    or the reminders command with user None)."""
    now = now_or(now)
    with transaction.atomic():
        locked = _lock(application)
        document = selectors.current_test_document(locked.company)
        if document is not None and deadlines.is_valid_on(document.valid_until, today_in_china(now)):
            raise Conflict(Code.TEST_DOCUMENT_STILL_VALID, _("The test-passed document is still valid."))
        _move(
            locked,
            action=Action.RETEST,
            user=user,
            now=now,
            role=None if user is not None else SYSTEM,
            reason=_("The test-passed document expired"),
        )
    return locked


def test_booking_failed_by_official_run(
    *, booking_id: int, reason: str, actor: Actor, now: dt.datetime | None = None
) -> TestBooking | None:
    """An official conformance run of the booking failed (its cycles used up, or ended by the
    regulator): the booking is closed as failed (its slot stays used), the application returns to
    booking by itself and the company is told to book a later month. Called by the conformance
    app; a booking no longer active is left alone (returns None)."""
    now = now_or(now)
    reason = (reason or "").strip() or _("Tests failed")
    with transaction.atomic():
        booking = TestBooking.objects.select_for_update().filter(pk=booking_id).first()
        if booking is None or booking.status != TestBooking.Status.BOOKED:
            return None
        booking.status = TestBooking.Status.FAILED
        booking.result_at = now
        booking.save(update_fields=["status", "result_at"])
        record_audit(
            actor=actor,
            action="licensing.booking.failed",
            target_type="test_booking",
            target_id=booking.pk,
            reason=reason,
        )
        applications = LicenceApplication.objects.filter(company_id=booking.company_id, step=Step.TEST_RUN)
        for application in applications:
            locked = _lock(application)
            _move(locked, action=Action.TEST_FAILED, user=None, now=now, role=SYSTEM, reason=reason)
            notify(
                party=Party.COMPANY,
                application=locked,
                text=_("The official test failed: %(reason)s. Book the test again in a later month.")
                % {"reason": reason},
                now=now,
            )
    return booking
