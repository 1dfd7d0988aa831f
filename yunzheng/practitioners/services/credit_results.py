"""Credit assessment results (服务质量信誉考核结果) as a registry feed: the result of one certificate
for one cycle, recorded by the authority (staff page) or fed by the province's assessment system
(the `credit-results` import). Each result is a registry event: the credit voucher (an electronic
licence) and its ministry-index entry follow in the same transaction. A result is idempotent by
(certificate, cycle): the same result again changes nothing; a corrected grade updates the voucher.
A revoked or cancelled certificate takes no results, and a revoked voucher is never revived.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.errors import Conflict, NotFound, ValidationFailed
from yunzheng.practitioners import licences
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.models import CreditAssessment, CreditGrade, QualificationCertificate

Status = QualificationCertificate.Status


def credit_result_validate(
    *, cycle_year: int, grade: str, assessed_on: dt.date, authority: str, today: dt.date
) -> str:
    """The problems of a result's own fields (ValidationFailed naming the field); the authority,
    stripped."""
    authority = (authority or "").strip()
    if grade not in CreditGrade.values:
        raise ValidationFailed.single(
            field="grade",
            code=Code.GRADE_REQUIRED,
            message=_("The grade is one of %(grades)s.") % {"grades": ", ".join(CreditGrade.values)},
        )
    if not 2000 <= cycle_year <= today.year:
        raise ValidationFailed.single(
            field="cycle_year", code=Code.CYCLE_YEAR_INVALID, message=_("A past or current assessment year.")
        )
    if assessed_on > today or assessed_on.year < cycle_year:
        raise ValidationFailed.single(
            field="assessed_on",
            code=Code.DATE_INVALID,
            message=_("The assessment date lies between its cycle and today."),
        )
    if not authority or len(authority) > 100:
        raise ValidationFailed.single(
            field="authority",
            code=Code.FIELD_REQUIRED,
            message=_("Name the assessing authority (at most 100 characters)."),
        )
    return authority


def credit_result_write(
    *,
    certificate: QualificationCertificate,
    cycle_year: int,
    grade: str,
    assessed_on: dt.date,
    authority: str,
    actor: Actor,
    now: dt.datetime,
    dry_run: bool = False,
) -> tuple[CreditAssessment | None, str]:
    """Write one validated result of a locked certificate inside the caller's transaction:
    ("created" | "updated" | "unchanged"). Callers check who may write first."""
    if certificate.status in (Status.REVOKED, Status.CANCELLED):
        raise Conflict(
            Code.CERTIFICATE_NOT_ELIGIBLE,
            _("A %(status)s certificate takes no credit results.")
            % {"status": certificate.get_status_display()},
        )
    current = (
        CreditAssessment.objects.select_for_update()
        .filter(certificate=certificate, cycle_year=cycle_year)
        .first()
    )
    if current is not None and current.revoked_at is not None:
        raise Conflict(Code.CYCLE_ALREADY_ASSESSED, _("This cycle's voucher is revoked."))
    if current is not None and (current.grade, current.assessed_on, current.authority) == (
        grade,
        assessed_on,
        authority,
    ):
        return current, "unchanged"
    if dry_run:
        return current, "created" if current is None else "updated"
    if current is None:
        assessment = CreditAssessment.objects.create(
            certificate=certificate,
            cycle_year=cycle_year,
            grade=grade,
            assessed_on=assessed_on,
            authority=authority,
        )
        before: dict[str, object] = {}
        outcome = "created"
    else:
        assessment = current
        before = {"grade": current.grade, "assessed_on": current.assessed_on.isoformat()}
        assessment.grade, assessment.assessed_on, assessment.authority = grade, assessed_on, authority
        assessment.save(update_fields=["grade", "assessed_on", "authority"])
        outcome = "updated"
    record_audit(
        actor=actor,
        action="office.credit.record",
        target_type="qualification_certificate",
        target_id=certificate.pk,
        before=before,
        after={"cycle_year": cycle_year, "grade": grade, "assessed_on": assessed_on.isoformat()},
    )
    licences.credit_voucher_sync(assessment=assessment, actor=actor, now=now)
    return assessment, outcome


def credit_result_record(
    *,
    certificate_number: str,
    cycle_year: int,
    grade: str,
    assessed_on: dt.date,
    authority: str,
    staff: User,
    now: dt.datetime | None = None,
) -> CreditAssessment:
    """The authority records (or corrects) one certificate's credit result for one cycle."""
    from yunzheng.accounts.permissions import authorize

    now = now_or(now)
    authority = credit_result_validate(
        cycle_year=cycle_year,
        grade=grade,
        assessed_on=assessed_on,
        authority=authority,
        today=today_in_china(now),
    )
    with transaction.atomic():
        certificate = (
            QualificationCertificate.objects.select_for_update()
            .filter(number=(certificate_number or "").strip())
            .first()
        )
        if certificate is None:
            raise NotFound(Code.CERTIFICATE_NOT_FOUND, _("No certificate with this number."))
        authorize(staff, "registry.maintain", region_code=certificate.region_code)
        assessment, _outcome = credit_result_write(
            certificate=certificate,
            cycle_year=cycle_year,
            grade=grade,
            assessed_on=assessed_on,
            authority=authority,
            actor=Actor.for_user(staff),
            now=now,
        )
    if assessment is None:  # pragma: no cover - only a dry run leaves it unwritten
        raise NotFound(Code.CERTIFICATE_NOT_FOUND, _("No certificate with this number."))
    return assessment
