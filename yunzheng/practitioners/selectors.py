"""Reads of the One-Network Office, with visibility checked here.

An applicant sees only their own cases and materials (another user's is "not found"); staff see
the cases of their region if their department handles practitioner services. Certificates are
found by the holder's ID-number hash, so a verified user sees theirs even before association.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.core.clock import today_in_china
from yunzheng.core.errors import DomainError, NotFound
from yunzheng.elicense.models import ElectronicLicence
from yunzheng.practitioners import catalogue, workflow
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.models import (
    CLOCK_STATES,
    OPEN_STATES,
    QUEUE_STATES,
    CaseMaterial,
    CaseState,
    CaseTransition,
    CaseType,
    CreditAssessment,
    QualificationCertificate,
    ServiceCase,
    VerificationRequest,
)
from yunzheng.practitioners.services import office_scope

QUEUE_PAGE_SIZE = 50
MY_CASES_PAGE_SIZE = 20


def _case_not_found() -> NotFound:
    return NotFound(Code.CASE_NOT_FOUND, _("No such case."))


# --------------------------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------------------------


def certificates_for_user(*, user: User) -> QuerySet[QualificationCertificate]:
    """The certificates whose holder is this verified person (none for unverified users)."""
    if not getattr(user, "is_real_name_verified", False) or not user.id_number_hash:
        return QualificationCertificate.objects.none()
    return (
        QualificationCertificate.objects.filter(holder_id_hash=user.id_number_hash)
        .prefetch_related("grants", "violations", "credit_assessments")
        .order_by("number")
    )


@dataclass(frozen=True)
class CertificateChoice:
    certificate: QualificationCertificate
    eligible: bool
    why_not: str


def certificate_choices(*, user: User, case_type: str, today: dt.date) -> list[CertificateChoice]:
    """The user's certificates for a service: which can be chosen, and why the others cannot."""
    definition = catalogue.service(case_type)
    certificates = list(certificates_for_user(user=user))
    busy = set(
        ServiceCase.objects.filter(certificate__in=certificates, state__in=OPEN_STATES).values_list(
            "certificate_id", flat=True
        )
    )
    choices = []
    for certificate in certificates:
        why_not = ""
        if certificate.pk in busy:
            why_not = _("Already in a case that is being handled.")
        elif definition.needs_valid_certificate and not certificate.is_within_validity(today):
            why_not = _("Not within its validity.")
        elif certificate.status == QualificationCertificate.Status.CANCELLED:
            why_not = _("Cancelled.")
        choices.append(CertificateChoice(certificate=certificate, eligible=not why_not, why_not=why_not))
    return choices


# --------------------------------------------------------------------------------------------
# Applicants' cases
# --------------------------------------------------------------------------------------------


def cases_for_applicant(*, user: User, group: str = "") -> QuerySet[ServiceCase]:
    """My Office: the user's cases, newest first; `group` is "open", "done", "drafts" or "" (all)."""
    cases = (
        ServiceCase.objects.filter(applicant=user)
        .select_related("certificate")
        # The list shows state, dates and the certificate number: nothing encrypted is decrypted.
        .defer(
            "personal_data",
            "details",
            "certificate__holder_name",
            "certificate__holder_id_number",
            "certificate__holder_address",
        )
    )
    if group == "open":
        cases = cases.filter(state__in=OPEN_STATES)
    elif group == "done":
        cases = cases.filter(state__in=[CaseState.COMPLETED, CaseState.REJECTED, CaseState.WITHDRAWN])
    elif group == "drafts":
        cases = cases.filter(state=CaseState.DRAFT)
    return cases.order_by("-created_at", "-pk")


def case_for_applicant(*, user: User, case_id: int) -> ServiceCase:
    case = (
        ServiceCase.objects.filter(pk=case_id, applicant=user)
        .select_related("certificate", "applicant")
        .first()
    )
    if case is None:
        raise _case_not_found()
    return case


def current_materials(case: ServiceCase) -> dict[str, CaseMaterial]:
    return {m.kind: m for m in case.materials.filter(replaced_at__isnull=True)}


def case_timeline(case: ServiceCase) -> list[CaseTransition]:
    return list(case.transitions.select_related("actor").order_by("at", "pk"))


# --------------------------------------------------------------------------------------------
# Staff
# --------------------------------------------------------------------------------------------


def cases_for_staff(*, staff_user: Any) -> QuerySet[ServiceCase]:
    """Submitted cases within the staff member's region (drafts are the applicant's business)."""
    scope = office_scope(staff_user)
    cases = ServiceCase.objects.exclude(state=CaseState.DRAFT)
    prefix = scope.region_prefix
    if len(prefix) == 2:
        cases = cases.filter(province_code=prefix + "0000")
    elif len(prefix) == 4:
        cases = cases.filter(city_code=prefix + "00")
    return cases


@dataclass(frozen=True)
class QueueFilter:
    state: str = "open"  # a CaseState, "open" (waiting for the authority) or "all"
    case_type: str = ""
    overdue: bool = False
    due_today: bool = False


# Queue states the authority has to act on (the partial queue indexes are built on them).
ACTIONABLE_STATES = QUEUE_STATES


def staff_queue(
    *, staff_user: Any, filters: QueueFilter, today: dt.date | None = None
) -> QuerySet[ServiceCase]:
    """The staff queue, ordered by due date (earliest first; cases without one last).

    Overdue and due-today use the stored due date of the current step, so the database answers
    from the (scope, state, due_on) indexes; no calendar is computed per row.
    """
    today = today or today_in_china()
    cases = cases_for_staff(staff_user=staff_user)
    if filters.state == "open":
        cases = cases.filter(state__in=ACTIONABLE_STATES)
    elif filters.state in CaseState.values and filters.state != CaseState.DRAFT:
        cases = cases.filter(state=filters.state)
    if filters.case_type:
        cases = cases.filter(case_type=filters.case_type)
    # Only submitted and accepted cases have a running clock (the stored due date is empty otherwise).
    if filters.overdue:
        cases = cases.filter(state__in=CLOCK_STATES, due_on__lt=today)
    if filters.due_today:
        cases = cases.filter(state__in=CLOCK_STATES, due_on=today)
    # Rows show the holder's masked name and the certificate number: skip decrypting the rest.
    return (
        cases.select_related("certificate")
        .defer("personal_data", "details", "certificate__holder_id_number", "certificate__holder_address")
        .order_by("due_on", "submitted_at", "pk")
    )


def staff_queue_counts(*, staff_user: Any, today: dt.date | None = None) -> dict[str, int]:
    """Badges for the queue's filters: waiting, overdue, due today."""
    today = today or today_in_china()
    cases = cases_for_staff(staff_user=staff_user).filter(state__in=CLOCK_STATES)
    return {
        "overdue": cases.filter(due_on__lt=today).count(),
        "due_today": cases.filter(due_on=today).count(),
    }


def case_for_staff(*, staff_user: Any, case_id: int) -> ServiceCase:
    case = (
        cases_for_staff(staff_user=staff_user)
        .filter(pk=case_id)
        .select_related("certificate", "applicant")
        .prefetch_related(
            Prefetch("materials", queryset=CaseMaterial.objects.filter(replaced_at__isnull=True))
        )
        .first()
    )
    if case is None:
        raise _case_not_found()
    return case


# --------------------------------------------------------------------------------------------
# Materials and vouchers
# --------------------------------------------------------------------------------------------


def material_for_viewer(*, user: Any, case_id: int, material_id: int) -> tuple[CaseMaterial, bool]:
    """A material and whether the viewer is staff (whose access is audited). The applicant or staff
    whose scope covers the case may see it; for anyone else it does not exist."""
    material = CaseMaterial.objects.select_related("case").filter(pk=material_id, case_id=case_id).first()
    if material is None or not getattr(user, "is_authenticated", False):
        raise NotFound(Code.MATERIAL_NOT_FOUND, _("No such material."))
    if material.case.applicant_id == user.pk:
        return material, False
    try:
        visible = cases_for_staff(staff_user=user).filter(pk=case_id).exists()
    except DomainError:  # not staff, or a department without access: the same "not found"
        visible = False
    if not visible:
        raise NotFound(Code.MATERIAL_NOT_FOUND, _("No such material."))
    return material, True


def credit_assessment_for_case(case: ServiceCase) -> CreditAssessment | None:
    return CreditAssessment.objects.filter(case=case).select_related("certificate").first()


def applicant_actions(case: ServiceCase) -> list[workflow.Action]:
    actions = workflow.allowed_actions(
        case_type=case.case_type, state=case.state, role=workflow.Role.APPLICANT
    )
    if case.accepted_at is not None and workflow.Action.WITHDRAW in actions:
        actions.remove(workflow.Action.WITHDRAW)
    return actions


def staff_actions(case: ServiceCase) -> list[workflow.Action]:
    return workflow.allowed_actions(case_type=case.case_type, state=case.state, role=workflow.Role.STAFF)


@dataclass(frozen=True)
class QueueCount:
    waiting: int
    overdue: int


def staff_workbench_counts(*, staff_user: Any, today: dt.date | None = None) -> dict[str, QueueCount]:
    """Workbench badges: certificate cases and information-verification requests waiting for the
    authority, and how many of each are past their due date. PermissionDenied outside transport."""
    today = today or today_in_china()
    waiting = cases_for_staff(staff_user=staff_user).filter(state__in=ACTIONABLE_STATES)
    verification = Q(case_type=CaseType.INFO_VERIFICATION)
    overdue = Q(state__in=CLOCK_STATES, due_on__lt=today)
    return {
        "cases": QueueCount(
            waiting=waiting.exclude(verification).count(),
            overdue=waiting.exclude(verification).filter(overdue).count(),
        ),
        "verification": QueueCount(
            waiting=waiting.filter(verification).count(),
            overdue=waiting.filter(verification).filter(overdue).count(),
        ),
    }


def case_counts_for_applicant(*, user: User) -> dict[str, int]:
    """My Office badges: the applicant's cases by state (drafts included), states without cases
    left out."""
    rows = ServiceCase.objects.filter(applicant=user).values("state").annotate(n=Count("pk"))
    return {row["state"]: row["n"] for row in rows}


def cases_blocking_new_applications(*, user: Any) -> list[ServiceCase]:
    """The open cases that leave none of the user's certificates free for a new application (one
    open case per certificate); empty when a certificate is free or the user has none."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "is_government_staff", False):
        return []
    certificates = set(certificates_for_user(user=user).values_list("pk", flat=True))
    if not certificates:
        return []
    open_cases = list(
        ServiceCase.objects.filter(certificate_id__in=certificates, state__in=OPEN_STATES)
        .defer("personal_data", "details")
        .order_by("-pk")
    )
    return open_cases if {case.certificate_id for case in open_cases} >= certificates else []


def electronic_licences_of(
    *, certificate: QualificationCertificate
) -> tuple[ElectronicLicence | None, dict[int, ElectronicLicence]]:
    """The certificate's electronic licence, and its credit vouchers by assessment id."""
    from yunzheng.practitioners import licences

    vouchers = {
        int(licence.source_id): licence
        for licence in ElectronicLicence.objects.filter(
            source_type=licences.VOUCHER_SOURCE,
            source_id__in=[str(pk) for pk in certificate.credit_assessments.values_list("pk", flat=True)],
        )
    }
    return licences.certificate_licence(certificate), vouchers


def verification_requests_of_applicant(*, user: Any) -> QuerySet[VerificationRequest]:
    """The requests a driver filed (their "my requests" list)."""
    return VerificationRequest.objects.filter(applicant=user)


def verification_requests_of_region(*, region_prefix: str, state: str = "") -> QuerySet[VerificationRequest]:
    """The requests of a region for those who answer them, oldest due first; ``state`` filters
    when it is one of the states."""
    queue = VerificationRequest.objects.filter(region_code__startswith=region_prefix)
    if state in VerificationRequest.State.values:
        queue = queue.filter(state=state)
    return queue.order_by("due_on", "submitted_at")
