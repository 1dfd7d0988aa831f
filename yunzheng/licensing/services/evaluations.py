"""Security evaluations (三项测评): recording them and requiring them valid."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.guards import ensure_real_name_verified
from yunzheng.accounts.models import Company, User
from yunzheng.core.audit import record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.errors import (
    Conflict,
    ErrorDetail,
    PermissionDenied,
    ValidationFailed,
)
from yunzheng.licensing import deadlines, files, selectors
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import (
    EvaluationAgency,
    LicenceApplication,
    Party,
    SecurityEvaluation,
)
from yunzheng.licensing.services._common import _actor, _lock, _move, _not_future, _text
from yunzheng.licensing.services.compliance import compliance_flags_clear_for
from yunzheng.licensing.workflow import (
    Action,
)

# --------------------------------------------------------------------------------------------
# Security evaluations (三项测评)
# --------------------------------------------------------------------------------------------


def security_evaluation_record(
    *,
    company: Company,
    kind: str,
    agency: str,
    report_number: str,
    issued_on: dt.date,
    upload: Any,
    user: User,
    valid_until: dt.date | None = None,
    filing_number: str = "",
    now: dt.datetime | None = None,
) -> SecurityEvaluation:
    """A company member records an evaluation with its agency and PDF report. Level-3 protection is
    valid 12 months from issue (the report may state an earlier end); the two assessments are done
    once and have no end unless the report states one (then `valid_until`)."""
    now = now_or(now)
    ensure_real_name_verified(user)
    selectors.require_member(user=user, company=company)
    if kind not in SecurityEvaluation.Kind.values:
        raise ValidationFailed.single(
            field="kind", code=Code.EVALUATION_INVALID, message=_("Unknown evaluation.")
        )
    agency = _text(agency, field="agency", limit=200, label=_("Evaluating agency"))
    report_number = _text(report_number, field="report_number", limit=100, label=_("Report number"))
    issued_on = _not_future(issued_on, field="issued_on", today=today_in_china(now))
    registered = EvaluationAgency.objects.filter(name=agency).first()
    if registered is None:
        raise ValidationFailed.single(
            field="agency",
            code=Code.AGENCY_NOT_QUALIFIED,
            message=_("The agency is not in the register of qualified evaluation agencies."),
        )
    if not registered.authorised_on(issued_on):
        raise ValidationFailed.single(
            field="agency",
            code=Code.AGENCY_AUTHORISATION_EXPIRED,
            message=_("The agency was not authorised on %(date)s (authorised %(start)s to %(end)s).")
            % {
                "date": issued_on.isoformat(),
                "start": registered.authorised_from.isoformat(),
                "end": registered.authorised_until.isoformat() if registered.authorised_until else "—",
            },
        )
    filing_number = (filing_number or "").strip()[:64]
    if kind == SecurityEvaluation.Kind.LEVEL3 and not filing_number:
        raise ValidationFailed.single(
            field="filing_number",
            code=Code.FIELD_REQUIRED,
            message=_("Give the level-3 protection's filing number with the public-security department."),
        )
    if kind == SecurityEvaluation.Kind.LEVEL3:
        yearly = deadlines.level3_valid_until(issued_on)
        valid_until = min(valid_until, yearly) if valid_until else yearly
    if valid_until is not None and valid_until <= issued_on:
        raise ValidationFailed.single(
            field="valid_until",
            code=Code.EVALUATION_INVALID,
            message=_("The end must be after the issue date."),
        )
    checked = files.check_document(upload, field="report", allow_images=False)
    stored = files.store(checked, folder="licensing/evaluations")
    with transaction.atomic():
        evaluation = SecurityEvaluation.objects.create(
            company=company,
            kind=kind,
            agency=agency,
            agency_ref=registered,
            filing_number=filing_number,
            report_number=report_number,
            issued_on=issued_on,
            valid_until=valid_until,
            stored_name=stored,
            original_name=checked.original_name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            recorded_by=user,
            recorded_at=now,
        )
        record_audit(
            actor=_actor(user),
            action="licensing.evaluation.record",
            target_type="company",
            target_id=company.pk,
            after={
                "evaluation": evaluation.pk,
                "kind": kind,
                "agency": agency,
                "report_number": report_number,
                "issued_on": issued_on,
                "valid_until": valid_until,
                "sha256": checked.sha256,
            },
        )
        compliance_flags_clear_for(company=company, evaluation=evaluation, actor=_actor(user), now=now)
    return evaluation


def evaluations_require_valid(*, company: Company, on: dt.date) -> None:
    """Conflict `evaluation.missing` / `evaluation.expired` naming each missing or expired one."""
    statuses = selectors.evaluation_statuses(company, on=on)
    missing = [s for s in statuses if s.evaluation is None]
    expired = [s for s in statuses if s.evaluation is not None and not s.valid]
    if missing:
        raise Conflict(
            Code.EVALUATION_MISSING,
            _("Evaluations missing: %(kinds)s.") % {"kinds": "、".join(s.label for s in missing)},
            details=[
                ErrorDetail(field=s.kind, code=Code.EVALUATION_MISSING, message=s.label) for s in missing
            ]
            + [ErrorDetail(field=s.kind, code=Code.EVALUATION_EXPIRED, message=s.label) for s in expired],
        )
    if expired:
        raise Conflict(
            Code.EVALUATION_EXPIRED,
            _("Evaluations expired: %(kinds)s.") % {"kinds": "、".join(s.label for s in expired)},
            details=[
                ErrorDetail(
                    field=s.kind,
                    code=Code.EVALUATION_EXPIRED,
                    message=s.label,
                    params={
                        "valid_until": s.evaluation.valid_until.isoformat()
                        if s.evaluation and s.evaluation.valid_until
                        else None
                    },
                )
                for s in expired
            ],
        )


def evaluations_submit(
    *, application: LicenceApplication, user: User, now: dt.datetime | None = None
) -> None:
    now = now_or(now)
    with transaction.atomic():
        locked = _lock(application)
        evaluations_require_valid(company=locked.company, on=today_in_china(now))
        _move(locked, action=Action.SUBMIT_EVALUATIONS, user=user, now=now)


def evaluation_agency_register(
    *,
    user: User,
    name: str,
    authorised_from: dt.date,
    authorised_until: dt.date | None = None,
    now: dt.datetime | None = None,
) -> EvaluationAgency:
    """Ministry staff add a qualified evaluation agency to the register, or change its
    authorisation period (audited)."""
    scope = selectors.scope_of(user)
    if scope is None or selectors.staff_party(scope) != Party.MINISTRY:
        raise PermissionDenied(Code.NOT_YOUR_TURN, _("Only the ministry keeps the register of agencies."))
    name = _text(name, field="name", limit=200, label=_("Evaluating agency"))
    if authorised_until is not None and authorised_until < authorised_from:
        raise ValidationFailed.single(
            field="authorised_until",
            code=Code.EVALUATION_INVALID,
            message=_("The end cannot be before the start."),
        )
    now = now_or(now)
    with transaction.atomic():
        agency, _created = EvaluationAgency.objects.update_or_create(
            name=name,
            defaults={
                "authorised_from": authorised_from,
                "authorised_until": authorised_until,
                "registered_by": user,
                "registered_at": now,
            },
        )
        record_audit(
            actor=_actor(user),
            action="licensing.evaluation_agency.register",
            target_type="evaluation_agency",
            target_id=agency.pk,
            after={"name": name, "from": authorised_from, "until": authorised_until},
        )
    return agency
