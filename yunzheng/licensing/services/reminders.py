"""Reminders (manage.py licensing_reminders, from cron), idempotent through
Notification.dedupe_key; stage deadlines filled in late; notifications marked read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.errors import (
    NotFound,
)
from yunzheng.core.models import AuditEntry
from yunzheng.core.workdays import DueDate
from yunzheng.licensing import deadlines, selectors
from yunzheng.licensing.conf import app_settings
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import (
    DepartmentReview,
    LicenceApplication,
    LicencePath,
    Notification,
    Party,
    SecurityEvaluation,
    Stage,
    Step,
    TestPassedDocument,
)
from yunzheng.licensing.services._common import notify
from yunzheng.licensing.services.capability import capability_revisions_lapse_overdue
from yunzheng.licensing.services.compliance import compliance_flags_raise
from yunzheng.licensing.services.testing import application_retest
from yunzheng.licensing.workflow import (
    STEPS_NEEDING_TEST_DOCUMENT,
)


def notification_mark_read(*, user: User, notification_id: int, now: dt.datetime | None = None) -> None:
    visible = {n.pk for n in selectors.notifications_for_user(user, limit=500)}
    if notification_id not in visible:
        raise NotFound(Code.FILE_NOT_FOUND, _("No such notification."))
    Notification.objects.filter(pk=notification_id, read_at__isnull=True).update(read_at=now_or(now))


def stage_deadlines_refresh() -> int:
    """Recompute the working-day due dates of open stages and department reviews that were
    counted provisionally (or, from before provisional dates, left unknown) because a year's
    calendar was missing; run when staff confirm that year. Each change is audited. Returns how
    many stages and reviews changed."""
    changed = 0
    with transaction.atomic():
        stages = (
            Stage.objects.select_for_update()
            .filter(Q(due_provisional=True) | Q(due_on__isnull=True), status=Stage.Status.OPEN)
            .filter(due_rule__startswith="working_days:")
        )
        for stage in stages:
            days = int(stage.due_rule.split(":", 1)[1]) + stage.extended_days
            due = deadlines.working_days_counted(stage.clock_start, days)
            changed += _due_changed(stage, due, target_type="licensing_stage")
        reviews = DepartmentReview.objects.select_for_update().filter(
            due_provisional=True, reviewed_at__isnull=True, stage__status=Stage.Status.OPEN
        )
        review_days = int(app_settings.LICENSING_DEPARTMENT_REVIEW_WORKING_DAYS)
        for review in reviews.select_related("stage"):
            due = deadlines.working_days_counted(today_in_china(review.requested_at), review_days)
            if review.stage.due_on is not None and review.stage.due_on < due.date:
                due = DueDate(review.stage.due_on, review.stage.due_provisional)
            changed += _due_changed(review, due, target_type="licensing_department_review")
    return changed


def _due_changed(item: Stage | DepartmentReview, due: DueDate, *, target_type: str) -> int:
    if item.due_on == due.date and item.due_provisional == due.provisional:
        return 0
    before = {"due_on": item.due_on, "due_provisional": item.due_provisional}
    type(item).objects.filter(pk=item.pk).update(due_on=due.date, due_provisional=due.provisional)
    record_audit(
        actor=Actor.system("statutory calendar"),
        action="licensing.deadline_recomputed",
        target_type=target_type,
        target_id=item.pk,
        before=before,
        after={"due_on": due.date, "due_provisional": due.provisional},
    )
    return 1


# --------------------------------------------------------------------------------------------
# Reminders (manage.py licensing_reminders, from cron): idempotent through Notification.dedupe_key
# --------------------------------------------------------------------------------------------


def _stage_reminders(today: dt.date, now: dt.datetime) -> int:
    sent = 0
    tomorrow = today + dt.timedelta(days=1)
    for stage in Stage.objects.filter(
        status=Stage.Status.OPEN, due_on__isnull=False, due_on__lte=tomorrow
    ).select_related("application", "application__company", "application__company__contact_user"):
        application = stage.application
        overdue = stage.due_on is not None and stage.due_on < today
        key = f"stage-{'overdue' if overdue else 'due'}:{stage.pk}:{stage.due_on}"
        text = (
            _("Licence application #%(id)s: the step “%(step)s” is overdue (due %(due)s).")
            if overdue
            else _("Licence application #%(id)s: the step “%(step)s” is due %(due)s.")
        ) % {"id": application.pk, "step": Step(stage.kind).label, "due": stage.due_on}
        parties: Iterable[str] = {Party.COMPANY, stage.responsible}
        if overdue and stage.responsible != Party.COMPANY:
            parties = {Party.COMPANY, stage.responsible, Party.PROVINCE_TRANSPORT}  # escalate
        for party in sorted(parties):
            if notify(party=party, application=application, text=text, dedupe_key=f"{key}:{party}", now=now):
                sent += 1
    return sent


def _test_document_reminders(today: dt.date, now: dt.datetime, *, within_days: int) -> int:
    sent = 0
    limit = today + dt.timedelta(days=within_days)
    for document in TestPassedDocument.objects.filter(
        valid_until__gte=today, valid_until__lte=limit
    ).select_related("company", "company__contact_user"):
        if document != selectors.current_test_document(document.company):
            continue
        text = _(
            "The test-passed document %(number)s expires on %(date)s. "
            "Finish the remaining stages before then, "
            "or the tests must be taken again."
        ) % {"number": document.number, "date": document.valid_until}
        if notify(
            party=Party.COMPANY,
            application=None,
            company=document.company,
            text=text,
            link="/licensing/",
            dedupe_key=f"testdoc-expiring:{document.pk}",
            now=now,
        ):
            sent += 1
    return sent


def _evaluation_reminders(today: dt.date, now: dt.datetime, *, within_days: int) -> int:
    sent = 0
    limit = today + dt.timedelta(days=within_days)
    for evaluation in SecurityEvaluation.objects.filter(
        valid_until__isnull=False, valid_until__gte=today, valid_until__lte=limit
    ).select_related("company", "company__contact_user"):
        text = _("The evaluation “%(kind)s” (report %(number)s) expires on %(date)s; renew it in time.") % {
            "kind": evaluation.get_kind_display(),
            "number": evaluation.report_number,
            "date": evaluation.valid_until,
        }
        if notify(
            party=Party.COMPANY,
            application=None,
            company=evaluation.company,
            text=text,
            link=f"/licensing/companies/{evaluation.company_id}/evaluations/",
            dedupe_key=f"evaluation-expiring:{evaluation.pk}",
            now=now,
        ):
            sent += 1
    return sent


def _expired_test_documents(today: dt.date, now: dt.datetime) -> int:
    moved = 0
    for application in LicenceApplication.objects.filter(
        step__in=STEPS_NEEDING_TEST_DOCUMENT, path=LicencePath.NATIONAL
    ).select_related("company"):
        document = selectors.current_test_document(application.company)
        if document is not None and deadlines.is_valid_on(document.valid_until, today):
            continue
        application_retest(application=application, user=None, now=now)
        moved += 1
    return moved


def reminders_send(*, now: dt.datetime | None = None, within_days: int = 30) -> dict[str, int]:
    """Due-date and expiry warnings (each once), unknown due dates filled in, applications
    whose test-passed document expired sent back to the test, and applications whose week to
    resubmit revised capability materials has passed closed as lapsed; licensed companies whose
    level-3 evaluation lapsed get a compliance flag (services.compliance)."""
    now = now_or(now)
    today = today_in_china(now)
    with translation.override(settings.LANGUAGE_CODE):
        filled = stage_deadlines_refresh()
        with transaction.atomic():
            stages = _stage_reminders(today, now)
            documents = _test_document_reminders(today, now, within_days=within_days)
            evaluations = _evaluation_reminders(today, now, within_days=within_days)
            flags = compliance_flags_raise(now=now)
        # A missed week to resubmit closes the application before anything else is done with it.
        lapsed = capability_revisions_lapse_overdue(now=now)
        retests = _expired_test_documents(today, now)
    if stages or documents or evaluations or retests or lapsed or flags:
        record_audit(
            actor=Actor(kind=AuditEntry.ActorKind.SYSTEM, label="licensing_reminders"),
            action="licensing.reminders.send",
            target_type="licensing",
            after={
                "stages": stages,
                "documents": documents,
                "evaluations": evaluations,
                "retests": retests,
                "lapsed": lapsed,
                "flags": flags,
            },
        )
    return {
        "filled": filled,
        "stages": stages,
        "documents": documents,
        "evaluations": evaluations,
        "retests": retests,
        "lapsed": lapsed,
        "flags": flags,
    }
