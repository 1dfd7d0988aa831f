"""Online service capability review (线上服务能力认定): submission, forwarding, the five
departments' reviews, extension, decision, resubmission and lapse.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.accounts.permissions import authorize
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.errors import (
    Conflict,
    ErrorDetail,
    ValidationFailed,
)
from yunzheng.core.workdays import counted_due
from yunzheng.licensing import deadlines, selectors
from yunzheng.licensing.conf import app_settings
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import (
    REVIEW_DEPARTMENTS,
    DepartmentReview,
    LicenceApplication,
    Material,
    Party,
    Stage,
    Step,
)
from yunzheng.licensing.services._common import _lock, _move, _role, _text, notify
from yunzheng.licensing.workflow import (
    SYSTEM,
    Action,
)

# --------------------------------------------------------------------------------------------
# Online service capability (线上服务能力认定)
# --------------------------------------------------------------------------------------------


def capability_submit(*, application: LicenceApplication, user: User, now: dt.datetime | None = None) -> None:
    now = now_or(now)
    with transaction.atomic():
        locked = _lock(application)
        if not locked.materials.filter(kind=Material.Kind.CAPABILITY).exists():
            raise ValidationFailed.single(
                field="capability",
                code=Code.MATERIALS_MISSING,
                message=_("Upload the online service capability materials first."),
            )
        _move(locked, action=Action.SUBMIT_CAPABILITY, user=user, now=now)


def capability_forward(
    *, application: LicenceApplication, user: User, now: dt.datetime | None = None
) -> None:
    """The city window passes the materials to the province: the 20-working-day clock starts."""
    now = now_or(now)
    with transaction.atomic():
        _move(_lock(application), action=Action.FORWARD_TO_PROVINCE, user=user, now=now)


def capability_initial_review(
    *,
    application: LicenceApplication,
    user: User,
    decision: str,
    reason: str = "",
    now: dt.datetime | None = None,
) -> None:
    """The city's initial review (初审) of the capability materials: ``accept`` forwards them to
    the province (the 20-working-day clock starts), ``return`` sends them back to the company
    with the reasons, which it sees and is told by SMS."""
    if decision == "accept":
        capability_forward(application=application, user=user, now=now)
        return
    if decision != "return":
        raise ValidationFailed.single(
            field="decision", code=Code.DECISION_INVALID, message=_("Accept or return the materials.")
        )
    now = now_or(now)
    with transaction.atomic():
        locked = _lock(application)
        _move(locked, action=Action.RETURN_CAPABILITY, user=user, now=now, reason=reason)
        notify(
            party=Party.COMPANY,
            application=locked,
            text=_("The city returned the capability materials of application #%(number)s: %(reason)s")
            % {"number": locked.pk, "reason": reason.strip()},
            now=now,
        )


def _review_stage(application: LicenceApplication) -> Stage:
    stage = selectors.open_stage(application)
    if stage is None or stage.kind != Step.CAPABILITY_REVIEW:
        raise Conflict(Code.TRANSITION_NOT_ALLOWED, _("The application is not under capability review."))
    return stage


def capability_distribute(
    *, application: LicenceApplication, user: User, now: dt.datetime | None = None
) -> Stage:
    """The province's transport department sends the materials to the other five departments."""
    now = now_or(now)
    with transaction.atomic():
        locked = _lock(application)
        stage = _review_stage(locked)
        if stage.department_reviews.exists():
            raise Conflict(Code.ALREADY_DISTRIBUTED, _("The materials were already distributed."))
        _move(locked, action=Action.DISTRIBUTE, user=user, now=now)
        days = int(app_settings.LICENSING_DEPARTMENT_REVIEW_WORKING_DAYS)
        counted = deadlines.working_days_counted(today_in_china(now), days)
        due, provisional = counted.date, counted.provisional
        if stage.due_on is not None and stage.due_on < due:
            # Never later than the review itself.
            due, provisional = stage.due_on, stage.due_provisional
        DepartmentReview.objects.bulk_create(
            [
                DepartmentReview(
                    stage=stage,
                    department=department,
                    region_code=locked.province_code,
                    requested_at=now,
                    due_on=due,
                    due_provisional=provisional,
                )
                for department in REVIEW_DEPARTMENTS
            ]
        )
        with translation.override(settings.LANGUAGE_CODE):
            text = _(
                "Licence application #%(id)s (%(company)s): please review the online service capability "
                "materials and give your opinion by %(due)s."
            ) % {"id": locked.pk, "company": locked.company.name, "due": due}
            for department in REVIEW_DEPARTMENTS:
                notify(party=department, application=locked, text=text, now=now)
    return stage


def department_review_submit(
    *,
    application: LicenceApplication,
    user: User,
    recommendation: str,
    comments: str,
    now: dt.datetime | None = None,
) -> DepartmentReview:
    """One of the five departments gives its comments and recommendation (each once per round)."""
    now = now_or(now)
    if recommendation not in DepartmentReview.Recommendation.values:
        raise ValidationFailed.single(
            field="recommendation", code=Code.RECOMMENDATION_INVALID, message=_("Choose a recommendation.")
        )
    comments = _text(comments, field="comments", limit=4000, label=_("Comments"))
    authorize(user, "licensing.case.department_review", region_code=application.province_code)
    with transaction.atomic():
        locked = _lock(application)
        role = _role(user, locked)
        stage = _review_stage(locked)
        review = DepartmentReview.objects.select_for_update().filter(stage=stage, department=role).first()
        if review is None:
            raise Conflict(Code.NOT_DISTRIBUTED, _("The materials have not been sent to your department."))
        if review.reviewed_at is not None:
            raise Conflict(Code.ALREADY_REVIEWED, _("Your department has already given its opinion."))
        review.recommendation, review.comments = recommendation, comments
        review.reviewer, review.reviewed_at = user, now
        review.save()
        _move(
            locked,
            action=Action.DEPARTMENT_REVIEW,
            user=user,
            now=now,
            role=role,
            facts={"department": role, "recommendation": recommendation},
        )
        if not stage.department_reviews.filter(reviewed_at__isnull=True).exists():
            with translation.override(settings.LANGUAGE_CODE):
                notify(
                    party=Party.PROVINCE_TRANSPORT,
                    application=locked,
                    text=_("Licence application #%(id)s: all five departments have answered; please decide.")
                    % {"id": locked.pk},
                    now=now,
                )
    return review


def capability_extend(
    *, application: LicenceApplication, user: User, reason: str, now: dt.datetime | None = None
) -> Stage:
    """Extend the review once by 10 working days, with a recorded reason; a second time → Conflict."""
    now = now_or(now)
    with transaction.atomic():
        locked = _lock(application)
        stage = _review_stage(locked)
        if stage.extended_days:
            raise Conflict(Code.ALREADY_EXTENDED, _("The review period can be extended only once."))
        reason = reason.strip()
        _move(locked, action=Action.EXTEND, user=user, now=now, reason=reason)
        stage.extended_days = deadlines.CAPABILITY_EXTENSION_WORKING_DAYS
        stage.extension_reason = reason
        stage.extended_at = now
        counted = counted_due(
            lambda calendar: deadlines.capability_review_due(
                stage.clock_start, extended=True, calendar_=calendar
            )
        )
        stage.due_on, stage.due_provisional = counted.date, counted.provisional
        stage.save(
            update_fields=["extended_days", "extension_reason", "extended_at", "due_on", "due_provisional"]
        )
        with translation.override(settings.LANGUAGE_CODE):
            notify(
                party=Party.COMPANY,
                application=locked,
                text=_(
                    "Licence application #%(id)s: the capability review was extended to %(due)s. "
                    "Reason: %(reason)s"
                )
                % {"id": locked.pk, "due": stage.due_on or "-", "reason": reason},
                now=now,
            )
    return stage


def capability_decide(
    *,
    application: LicenceApplication,
    user: User,
    decision: str,
    reason: str = "",
    decision_number: str = "",
    missing_reason: str = "",
    now: dt.datetime | None = None,
) -> LicenceApplication:
    """The province's transport department decides: approve, revise (one week to resubmit, then
    the clock restarts) or reject. It decides once all five departments have answered; deciding
    without an opinion needs `missing_reason` (recorded, e.g. a department that did not answer
    by its due date)."""
    now = now_or(now)
    action = {
        "approve": Action.APPROVE_CAPABILITY,
        "revise": Action.REVISE_CAPABILITY,
        "reject": Action.REJECT_CAPABILITY,
    }.get(decision)
    if action is None:
        raise ValidationFailed.single(
            field="decision", code=Code.FIELD_REQUIRED, message=_("Choose a decision.")
        )
    with transaction.atomic():
        locked = _lock(application)
        stage = _review_stage(locked)
        reviews = list(stage.department_reviews.all())
        if not reviews:
            raise Conflict(Code.NOT_DISTRIBUTED, _("Distribute the materials to the five departments first."))
        missing = [r.department for r in reviews if r.reviewed_at is None]
        missing_reason = missing_reason.strip()
        if missing and not missing_reason:
            raise Conflict(
                Code.REVIEWS_MISSING,
                _(
                    "Not every department has answered: %(departments)s. "
                    "Wait, or record why you decide without them."
                )
                % {"departments": "、".join(str(Party(d).label) for d in missing)},
                details=[
                    ErrorDetail(
                        field="missing_reason", code=Code.REVIEWS_MISSING, message=str(Party(d).label)
                    )
                    for d in missing
                ],
            )
        facts: dict[str, Any] = {"decision": decision, "missing": missing}
        if missing:
            facts["missing_reason"] = missing_reason
        if action == Action.APPROVE_CAPABILITY:
            from yunzheng.licensing.services.determination import determination_issue

            determination = determination_issue(
                application=locked, user=user, number=decision_number, now=now
            )
            locked.capability_decided_on = determination.decided_on
            locked.capability_decision_number = determination.number
            facts["decision_number"] = determination.number
            facts["determination_valid_until"] = determination.valid_until
        base_reason = reason.strip()
        if action != Action.APPROVE_CAPABILITY and not base_reason:
            raise ValidationFailed.single(
                field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason.")
            )
        full_reason = base_reason
        if missing:
            note = _("Decided without the opinion of: %(departments)s, because: %(reason)s") % {
                "departments": "、".join(str(Party(d).label) for d in missing),
                "reason": missing_reason,
            }
            full_reason = f"{base_reason} {note}".strip()
        _move(locked, action=action, user=user, now=now, reason=full_reason, facts=facts)
    return locked


def capability_resubmit(
    *, application: LicenceApplication, user: User, now: dt.datetime | None = None
) -> Stage | None:
    """The company resubmits revised materials within the week; the 20-day clock restarts today.
    After the week a resubmission is refused (the application lapses, see
    :func:`capability_revisions_lapse_overdue`)."""
    now = now_or(now)
    with transaction.atomic():
        locked = _lock(application)
        stage = selectors.open_stage(locked)
        if stage is None or stage.kind != Step.CAPABILITY_REVISION:
            raise Conflict(Code.TRANSITION_NOT_ALLOWED, _("No revision was requested."))
        if stage.due_on is not None and today_in_china(now) > stage.due_on:
            raise Conflict(
                Code.REVISION_OVERDUE,
                _("The week to resubmit ended on %(date)s; the application has lapsed.")
                % {"date": stage.due_on.isoformat()},
            )
        if not locked.materials.filter(
            kind=Material.Kind.CAPABILITY, uploaded_at__gte=stage.opened_at
        ).exists():
            raise ValidationFailed.single(
                field="capability",
                code=Code.MATERIALS_MISSING,
                message=_("Upload the revised materials first."),
            )
        return _move(locked, action=Action.RESUBMIT_CAPABILITY, user=user, now=now)


def capability_revision_lapse(
    *, application: LicenceApplication, user: User | None, reason: str, now: dt.datetime | None = None
) -> None:
    """Close an application whose company did not resubmit within the week (province staff, or
    the reminders command with ``user`` None)."""
    now = now_or(now)
    with transaction.atomic():
        locked = _lock(application)
        stage = selectors.open_stage(locked)
        if (
            stage is None
            or stage.kind != Step.CAPABILITY_REVISION
            or stage.due_on is None
            or (today_in_china(now) <= stage.due_on)
        ):
            raise Conflict(Code.REVISION_NOT_OVERDUE, _("The company still has time to resubmit."))
        _move(
            locked,
            action=Action.LAPSE_REVISION,
            user=user,
            now=now,
            reason=reason,
            role=None if user is not None else SYSTEM,
        )


def capability_revisions_lapse_overdue(*, now: dt.datetime | None = None) -> int:
    """Every application whose week to resubmit has passed lapses by itself (run by the reminders
    command; no clerk needed). Returns how many lapsed."""
    now = now_or(now)
    today = today_in_china(now)
    lapsed = 0
    overdue = Stage.objects.filter(
        kind=Step.CAPABILITY_REVISION, status=Stage.Status.OPEN, due_on__lt=today
    ).values_list("application_id", "due_on")
    for application_id, due_on in overdue:
        assert due_on is not None  # noqa: S101 - filtered by due_on__lt
        application = LicenceApplication.objects.get(pk=application_id)
        capability_revision_lapse(
            application=application,
            user=None,
            reason=_("No revised materials by %(date)s (one week after the revision request).")
            % {"date": due_on.isoformat()},
            now=now,
        )
        lapsed += 1
    return lapsed
