"""Information verification (核查) for a certificate that is *not found* under the driver's ID
number — the most common problem once the provinces' registries are imported.

The driver names the certificate number and the issuing authority (and its region); staff of that
region accept the request, which starts a 2-working-day clock (provisional while the year's
holidays are unknown), and answer:

* found — the certificate is registered under the driver's ID number (e.g. imported since): it is
  linked to the account;
* corrected — the registry held a wrong ID number or name: it now holds the driver's verified
  identity (new version, audited);
* unchanged — the registry is right; a note says why.

Every answer about an existing certificate is a registry event: the certificate gets a new version
and its electronic licence and ministry-index entry follow in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.guards import ensure_real_name_verified
from yunzheng.accounts.models import User
from yunzheng.accounts.permissions import authorize
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.crypto import mask_id_number
from yunzheng.core.errors import Conflict, ErrorDetail, NotFound, ValidationFailed
from yunzheng.core.ids import region_code_exists
from yunzheng.core.workdays import WorkingCalendar
from yunzheng.practitioners import licences
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.models import QualificationCertificate, VerificationRequest

ANSWER_WORKING_DAYS = 2
#: Answering a verification request changes (or confirms) the registry: a registry decision.
REGISTRY_DECISION = "registry.maintain"
_NUMBER = re.compile(r"[A-Za-z0-9-]{1,32}")
State = VerificationRequest.State
Answer = VerificationRequest.Answer


def verification_request_file(
    *,
    applicant: User,
    certificate_number: str,
    issuing_authority: str,
    region_code: str,
    now: dt.datetime | None = None,
) -> VerificationRequest:
    """A verified driver asks the issuing authority to look for a certificate."""
    ensure_real_name_verified(applicant)
    now = now_or(now)
    number = certificate_number.strip()
    authority = issuing_authority.strip()
    problems: list[ErrorDetail] = []
    if not _NUMBER.fullmatch(number):
        problems.append(
            ErrorDetail(
                "certificate_number",
                Code.FIELD_REQUIRED,
                _("Enter the certificate number as printed (letters, digits, hyphens)."),
            )
        )
    if not authority or len(authority) > 100:
        problems.append(
            ErrorDetail("issuing_authority", Code.FIELD_REQUIRED, _("Name the issuing authority."))
        )
    if not region_code_exists(region_code):
        problems.append(
            ErrorDetail("region_code", Code.FIELD_REQUIRED, _("Choose the issuing authority's region."))
        )
    if problems:
        raise ValidationFailed(problems[0].code, _("Please correct the marked fields."), details=problems)
    with transaction.atomic():
        if VerificationRequest.objects.filter(
            applicant=applicant, certificate_number=number, state__in=[State.SUBMITTED, State.ACCEPTED]
        ).exists():
            raise Conflict(
                Code.CERTIFICATE_BUSY, _("You already have an open verification request for this number.")
            )
        request = VerificationRequest.objects.create(
            applicant=applicant,
            certificate_number=number,
            issuing_authority=authority,
            region_code=region_code,
            submitted_at=now,
        )
        record_audit(
            actor=Actor.for_user(applicant),
            action="office.verification_request.file",
            target_type="verification_request",
            target_id=request.pk,
            after={"certificate_number": number, "region_code": region_code},
        )
    return request


def _locked_for_staff(request: VerificationRequest | int, staff: User) -> VerificationRequest:
    """The request, locked, once the permission table lets `staff` answer it: accepting and
    answering are registry decisions (`registry.maintain`) in the request's region."""
    authorize(staff, REGISTRY_DECISION)  # department and level first: no existence oracle
    pk = request.pk if isinstance(request, VerificationRequest) else request
    locked = VerificationRequest.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise NotFound(Code.CASE_NOT_FOUND, _("No such request."))
    authorize(staff, REGISTRY_DECISION, region_code=locked.region_code)
    return locked


def verification_request_accept(
    *, request: VerificationRequest | int, staff: User, now: dt.datetime | None = None
) -> VerificationRequest:
    """Accept a request: the 2-working-day answer clock starts."""
    now = now_or(now)
    with transaction.atomic():
        locked = _locked_for_staff(request, staff)
        if locked.state != State.SUBMITTED:
            raise Conflict(Code.TRANSITION_NOT_ALLOWED, _("Only a submitted request can be accepted."))
        due = WorkingCalendar(provisional=True).due(today_in_china(now), ANSWER_WORKING_DAYS)
        locked.state = State.ACCEPTED
        locked.accepted_at = now
        locked.due_on, locked.due_provisional = due.date, due.provisional
        locked.save()
        record_audit(
            actor=Actor.for_user(staff),
            action="office.verification_request.accept",
            target_type="verification_request",
            target_id=locked.pk,
            after={"due_on": due.date, "due_provisional": due.provisional},
        )
    return locked


def verification_request_answer(
    *,
    request: VerificationRequest | int,
    staff: User,
    answer: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> VerificationRequest:
    """Answer an accepted request (see the module docstring for the three answers)."""
    now = now_or(now)
    note = note.strip()[:500]
    if answer not in Answer.values:
        raise ValidationFailed.single(
            field="answer", code=Code.ANSWER_REQUIRED, message=_("Answer found, corrected or unchanged.")
        )
    if answer == Answer.UNCHANGED and not note:
        raise ValidationFailed.single(
            field="note", code=Code.REASON_REQUIRED, message=_("Say why the registry stays as it is.")
        )
    actor = Actor.for_user(staff)
    with transaction.atomic():
        locked = _locked_for_staff(request, staff)
        if locked.state != State.ACCEPTED:
            raise Conflict(Code.TRANSITION_NOT_ALLOWED, _("Accept the request before answering it."))
        applicant = locked.applicant
        certificate = (
            QualificationCertificate.objects.select_for_update()
            .filter(number=locked.certificate_number)
            .first()
        )
        if answer in (Answer.FOUND, Answer.CORRECTED) and certificate is None:
            raise Conflict(
                Code.CERTIFICATE_NOT_FOUND,
                _("There is no certificate with this number in the registry; import it first."),
            )
        if certificate is not None:
            before = {
                "holder_id_number": mask_id_number(certificate.holder_id_number or ""),
                "holder": certificate.holder_id,
                "version": certificate.version,
            }
            if answer == Answer.FOUND and certificate.holder_id_hash != applicant.id_number_hash:
                raise Conflict(
                    Code.CERTIFICATE_NOT_FOUND,
                    _("The certificate is not under the applicant's ID number; correct it instead."),
                )
            if answer == Answer.CORRECTED:
                certificate.holder_id_number = applicant.id_number
                certificate.holder_id_hash = applicant.id_number_hash
                certificate.holder_name = applicant.real_name or certificate.holder_name
            if answer in (Answer.FOUND, Answer.CORRECTED):
                certificate.holder = applicant
            # The answer is a registry event: new version, the licence and the index follow.
            certificate.version += 1
            certificate.save()
            record_audit(
                actor=actor,
                action=f"office.certificate.verification_{answer}",
                target_type="qualification_certificate",
                target_id=certificate.pk,
                before=before,
                after={
                    "holder_id_number": mask_id_number(certificate.holder_id_number or ""),
                    "holder": certificate.holder_id,
                    "version": certificate.version,
                    "request": locked.pk,
                },
                reason=note,
            )
            licences.certificate_licence_sync(
                certificate=certificate,
                event="change",
                actor=actor,
                reason=_("Information verification: %(answer)s") % {"answer": answer},
                now=now,
            )
        locked.state = State.ANSWERED
        locked.answer = answer
        locked.answer_note = note
        locked.answered_at = now
        locked.certificate = certificate
        locked.save()
        record_audit(
            actor=actor,
            action="office.verification_request.answer",
            target_type="verification_request",
            target_id=locked.pk,
            after={"answer": answer, "certificate": certificate.pk if certificate else None},
            reason=note,
        )
    return locked


def verification_due_dates_recompute() -> int:
    """Recompute provisional answer dates after staff confirm a statutory calendar year."""
    changed = 0
    calendar = WorkingCalendar(provisional=True)
    with transaction.atomic():
        for request in VerificationRequest.objects.select_for_update().filter(
            due_provisional=True, state=State.ACCEPTED
        ):
            assert request.accepted_at is not None  # noqa: S101 - accepted requests have it
            due = calendar.due(today_in_china(request.accepted_at), ANSWER_WORKING_DAYS)
            if due.provisional and due.date == request.due_on:
                continue
            before = {"due_on": request.due_on}
            request.due_on, request.due_provisional = due.date, due.provisional
            request.save(update_fields=["due_on", "due_provisional"])
            record_audit(
                actor=Actor.system("statutory calendar"),
                action="office.verification_request.due_recomputed",
                target_type="verification_request",
                target_id=request.pk,
                before=before,
                after={"due_on": due.date, "due_provisional": due.provisional},
            )
            changed += 1
    return changed
