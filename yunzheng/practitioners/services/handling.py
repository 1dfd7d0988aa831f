"""Staff handling of a case: accept, return for supplement, reject, approve, complete, answer a
verification; deadlines refreshed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.accounts.permissions import authorize
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.errors import Conflict, ErrorDetail, ValidationFailed
from yunzheng.core.workdays import counted_due
from yunzheng.practitioners import catalogue, deadlines
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.models import (
    CaseState,
    CaseType,
    CreditGrade,
    DeliveryMethod,
    QualificationCertificate,
    ServiceCase,
)
from yunzheng.practitioners.services._common import (
    _due_text,
    _lock_case,
    _notify,
    _require_staff_covers,
    _service_label,
    _transition,
    office_scope,
)
from yunzheng.practitioners.services.registry import _apply_to_registry, _certificate_update
from yunzheng.practitioners.services.verification_requests import REGISTRY_DECISION
from yunzheng.practitioners.workflow import Action, Role


def _lock_for_staff(case: ServiceCase | int, staff: User) -> ServiceCase:
    office_scope(staff)
    locked = _lock_case(case)
    _require_staff_covers(staff, locked)
    return locked


def case_accept(*, case: ServiceCase, staff: User, now: dt.datetime | None = None) -> ServiceCase:
    """Accept a submitted case (受理): the 3-working-day decision clock starts."""
    now = now_or(now)
    with transaction.atomic():
        locked = _lock_for_staff(case, staff)
        accepted_on = today_in_china(now)
        counted = counted_due(lambda calendar: deadlines.decision_due(accepted_on, calendar=calendar))
        due = counted.date
        _transition(
            locked,
            action=Action.ACCEPT,
            role=Role.STAFF,
            actor_user=staff,
            actor=Actor.for_user(staff),
            now=now,
            extra_after={"decide_due_on": due, "due_provisional": counted.provisional},
        )
        locked.accepted_at = now
        locked.decide_due_on = due
        locked.due_on = due
        locked.due_provisional = counted.provisional
        locked.handled_by = staff
        locked.save()
        _notify(
            locked,
            _(
                "[Road Transport Administration] Your application %(number)s (%(service)s) was accepted; "
                "a decision is due by %(due)s."
            )
            % {"number": locked.number, "service": _service_label(locked), "due": _due_text(due)},
        )
    return locked


def case_return_for_supplement(
    *, case: ServiceCase, staff: User, reason: str, now: dt.datetime | None = None
) -> ServiceCase:
    """Ask the applicant for corrected or further materials (补正): the decision clock pauses."""
    now = now_or(now)
    reason = reason.strip()[:500]
    with transaction.atomic():
        locked = _lock_for_staff(case, staff)
        _transition(
            locked,
            action=Action.RETURN,
            role=Role.STAFF,
            actor_user=staff,
            actor=Actor.for_user(staff),
            reason=reason,
            now=now,
        )
        locked.returned_on = today_in_china(now)
        locked.due_on, locked.due_provisional = None, False
        locked.outcome_reason = reason
        locked.handled_by = staff
        locked.save()
        _notify(
            locked,
            _(
                "[Road Transport Administration] Your application %(number)s needs a supplement: "
                "%(reason)s Please supplement it in My Office."
            )
            % {"number": locked.number, "reason": reason},
        )
    return locked


def case_reject(
    *, case: ServiceCase, staff: User, reason: str, now: dt.datetime | None = None
) -> ServiceCase:
    """Refuse the application (before acceptance: 不予受理; after: 不予批准), with a reason."""
    now = now_or(now)
    reason = reason.strip()[:500]
    with transaction.atomic():
        locked = _lock_for_staff(case, staff)
        _transition(
            locked,
            action=Action.REJECT,
            role=Role.STAFF,
            actor_user=staff,
            actor=Actor.for_user(staff),
            reason=reason,
            now=now,
        )
        locked.decided_at = now
        locked.due_on, locked.due_provisional = None, False
        locked.outcome_reason = reason
        locked.handled_by = staff
        locked.save()
        _notify(
            locked,
            _(
                "[Road Transport Administration] Your application %(number)s (%(service)s) was rejected: "
                "%(reason)s"
            )
            % {"number": locked.number, "service": _service_label(locked), "reason": reason},
        )
    return locked


def case_approve(
    *, case: ServiceCase, staff: User, grade: str = "", now: dt.datetime | None = None
) -> ServiceCase:
    """Approve an accepted case and apply it to the registry in the same transaction. Services that
    issue no new certificate are completed at once; the others wait for `case_complete`."""
    now = now_or(now)
    with transaction.atomic():
        locked = _lock_for_staff(case, staff)
        if locked.case_type == CaseType.CREDIT_ASSESSMENT and grade not in CreditGrade.values:
            raise ValidationFailed.single(
                field="grade", code=Code.GRADE_REQUIRED, message=_("Choose the credit grade for the cycle.")
            )
        actor = Actor.for_user(staff)
        _transition(
            locked,
            action=Action.APPROVE,
            role=Role.STAFF,
            actor_user=staff,
            actor=actor,
            now=now,
            extra_after={"grade": grade} if grade else None,
        )
        locked.decided_at = now
        locked.due_on, locked.due_provisional = None, False
        locked.outcome_reason = ""
        locked.handled_by = staff
        _apply_to_registry(locked, staff=staff, actor=actor, grade=grade, now=now)
        if catalogue.service(locked.case_type).issues_new_certificate:
            text = _(
                "[Road Transport Administration] Your application %(number)s (%(service)s) was approved; "
                "we will tell you when the new certificate is ready."
            )
        else:
            _transition(
                locked, action=Action.COMPLETE, role=Role.SYSTEM, actor_user=None, actor=actor, now=now
            )
            locked.completed_at = now
            text = _(
                "[Road Transport Administration] Your application %(number)s (%(service)s) was approved "
                "and is completed."
            )
        locked.save()
        _notify(locked, text % {"number": locked.number, "service": _service_label(locked)})
    return locked


def case_complete(
    *, case: ServiceCase, staff: User, note: str = "", now: dt.datetime | None = None
) -> ServiceCase:
    """The new certificate was handed over or posted (the note says which, e.g. the tracking number)."""
    now = now_or(now)
    note = note.strip()[:200]
    with transaction.atomic():
        locked = _lock_for_staff(case, staff)
        if not note:
            note = (
                _("Posted to the address given.")
                if locked.delivery_method == DeliveryMethod.MAIL
                else _("Collected in person.")
            )
        _transition(
            locked,
            action=Action.COMPLETE,
            role=Role.STAFF,
            actor_user=staff,
            actor=Actor.for_user(staff),
            reason=note,
            now=now,
        )
        locked.completed_at = now
        locked.completion_note = note
        locked.handled_by = staff
        locked.save()
        _notify(
            locked,
            _("[Road Transport Administration] Your application %(number)s is completed: %(note)s")
            % {"number": locked.number, "note": note},
        )
    return locked


def case_answer_verification(
    *,
    case: ServiceCase,
    staff: User,
    answer: str,
    corrections: Mapping[str, str],
    now: dt.datetime | None = None,
) -> ServiceCase:
    """The issuing authority answers an information-verification request: corrections (if any)
    update the registry (audited with before and after), and the answer is recorded on the case."""
    now = now_or(now)
    answer = answer.strip()[:500]
    if not answer:
        raise ValidationFailed.single(
            field="answer",
            code=Code.ANSWER_REQUIRED,
            message=_("Write the answer; the applicant will see it."),
        )
    with transaction.atomic():
        locked = _lock_for_staff(case, staff)
        if locked.case_type != CaseType.INFO_VERIFICATION:
            raise Conflict(Code.TRANSITION_NOT_ALLOWED, _("Only verification requests are answered."))
        # The answer corrects or confirms the registry: a registry decision in the case's region.
        authorize(staff, REGISTRY_DECISION, region_code=locked.region_code)
        changes = _clean_corrections(corrections)
        actor = Actor.for_user(staff)
        _transition(
            locked,
            action=Action.ANSWER,
            role=Role.STAFF,
            actor_user=staff,
            actor=actor,
            reason=answer,
            now=now,
            extra_after={"corrected": sorted(changes)},
        )
        if changes:
            certificate = QualificationCertificate.objects.select_for_update().get(pk=locked.certificate_id)
            _certificate_update(
                certificate, changes=changes, actor=actor, reason=answer, case=locked, now=now
            )
        locked.decided_at = now
        locked.completed_at = now
        locked.due_on, locked.due_provisional = None, False
        locked.outcome_reason = answer
        locked.details = {**locked.details, "corrected": {k: str(v) for k, v in changes.items()}}
        locked.handled_by = staff
        locked.save()
        _notify(
            locked,
            _(
                "[Road Transport Administration] The issuing authority answered your request %(number)s: "
                "%(answer)s"
            )
            % {"number": locked.number, "answer": answer},
        )
    return locked


def _clean_corrections(corrections: Mapping[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    errors: list[ErrorDetail] = []
    for key, raw in corrections.items():
        if key not in catalogue.VERIFIABLE_FIELDS:
            errors.append(ErrorDetail(field=key, code=Code.CORRECTION_INVALID, message=_("Unknown field.")))
            continue
        value = (raw or "").strip()
        if not value:
            continue
        if key in catalogue.DATE_FIELDS:
            try:
                changes[key] = dt.date.fromisoformat(value)
            except ValueError:
                errors.append(
                    ErrorDetail(field=key, code=Code.DATE_INVALID, message=_("Enter a date as YYYY-MM-DD."))
                )
        else:
            changes[key] = value[:200]
    if errors:
        raise ValidationFailed(
            Code.CORRECTION_INVALID, _("Please correct the marked fields."), details=errors
        )
    return changes


def case_deadlines_refresh(*, now: dt.datetime | None = None) -> int:
    """Recompute the due dates of open cases that were counted provisionally (or, from before
    provisional dates, left unknown) because their year's holidays were not published yet; run
    when staff confirm a statutory calendar year. Each change is audited. Returns how many cases
    changed."""
    updated = 0
    with transaction.atomic():
        pending = ServiceCase.objects.select_for_update().filter(
            Q(due_provisional=True) | Q(due_on__isnull=True),
            state__in=[CaseState.SUBMITTED, CaseState.ACCEPTED],
        )
        for case in pending:
            if case.state == CaseState.SUBMITTED and case.submitted_at:
                submitted_on = today_in_china(case.submitted_at)
                compute = (
                    deadlines.answer_due
                    if case.case_type == CaseType.INFO_VERIFICATION
                    else deadlines.acceptance_due
                )
                due = counted_due(lambda calendar: compute(submitted_on, calendar=calendar))  # noqa: B023
                case.accept_due_on = due.date
            elif case.accepted_at:
                accepted_on = today_in_china(case.accepted_at)
                paused = case.paused_working_days
                due = counted_due(
                    lambda calendar: deadlines.decision_due(
                        accepted_on,  # noqa: B023
                        paused_working_days=paused,  # noqa: B023
                        calendar=calendar,
                    )
                )
                case.decide_due_on = due.date
            else:
                continue
            if due.date == case.due_on and due.provisional == case.due_provisional:
                continue
            before = {"due_on": case.due_on, "due_provisional": case.due_provisional}
            case.due_on, case.due_provisional = due.date, due.provisional
            case.save(update_fields=["accept_due_on", "decide_due_on", "due_on", "due_provisional"])
            record_audit(
                actor=Actor.system("statutory calendar"),
                action="office.case.deadline_recomputed",
                target_type="office_case",
                target_id=case.pk,
                before=before,
                after={"due_on": due.date, "due_provisional": due.provisional},
            )
            updated += 1
    return updated
