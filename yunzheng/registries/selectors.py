"""Reads of the staff registry pages: each register of the owning apps, limited to the staff
member's region (`registry.view` in the permission table: a city its own records, a province its
cities, the ministry everything). Items outside the region are "not found".

The registers stay in their apps (ADR 0022); this module only reads their tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company
from yunzheng.accounts.permissions import allowed, authorize
from yunzheng.accounts.scopes import StaffScope
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import lookup_hash
from yunzheng.core.errors import DomainError, NotFound
from yunzheng.core.ids import validate_resident_id
from yunzheng.elicense.models import ElectronicLicence, VehicleTransportCertificate, VehicleViolation
from yunzheng.licensing.models import OperatingLicence
from yunzheng.practitioners.models import CreditAssessment, QualificationCertificate, VerificationRequest

VIEW = "registry.view"
MAINTAIN = "registry.maintain"
LICENCE_MAINTAIN = "registry.operating_licence.maintain"
INSPECTION_INTERVAL_DAYS = 365


def view_scope(user: Any) -> StaffScope:
    """The scope of someone who may browse the registries; PermissionDenied otherwise."""
    return authorize(user, VIEW)


def may_maintain(user: Any, region_code: str, *, action: str = MAINTAIN) -> bool:
    return allowed(user, action, region_code=region_code)


def _not_found() -> NotFound:
    return NotFound("registry.not_found", _("No such record in your region."))


def _looks_like_id(q: str) -> str:
    if len(q) != 18:
        return ""
    try:
        return validate_resident_id(q).number
    except DomainError:  # not an ID number: search certificate numbers instead
        return ""


# --------------------------------------------------------------------------------------------
# Qualification certificates and credit results (practitioners)
# --------------------------------------------------------------------------------------------


def certificates(*, user: Any, q: str = "", status: str = "") -> QuerySet[QualificationCertificate]:
    """Search by certificate number (part of it) or the holder's full ID number."""
    scope = view_scope(user)
    rows = QualificationCertificate.objects.filter(region_code__startswith=scope.region_prefix)
    if status in QualificationCertificate.Status.values:
        rows = rows.filter(status=status)
    q = q.strip()
    if q:
        id_number = _looks_like_id(q)
        rows = (
            rows.filter(holder_id_hash=lookup_hash(id_number))
            if id_number
            else rows.filter(number__icontains=q)
        )
    return rows.order_by("-updated_at", "-pk")


def certificate(*, user: Any, number: str) -> QualificationCertificate:
    found = certificates(user=user).filter(number=number).prefetch_related("grants").first()
    if found is None:
        raise _not_found()
    return found


def credit_results(*, user: Any, q: str = "", grade: str = "") -> QuerySet[CreditAssessment]:
    scope = view_scope(user)
    rows = CreditAssessment.objects.filter(
        certificate__region_code__startswith=scope.region_prefix
    ).select_related("certificate")
    if grade:
        rows = rows.filter(grade=grade)
    if q.strip():
        rows = rows.filter(certificate__number__icontains=q.strip())
    return rows.order_by("-assessed_on", "-pk")


def electronic_licence_of(source_type: str, source_id: int) -> ElectronicLicence | None:
    return ElectronicLicence.objects.filter(source_type=source_type, source_id=str(source_id)).first()


# --------------------------------------------------------------------------------------------
# Vehicles, annual inspections and violations (elicense)
# --------------------------------------------------------------------------------------------


def vehicle_certificates(
    *, user: Any, q: str = "", status: str = ""
) -> QuerySet[VehicleTransportCertificate]:
    """Search by plate or certificate number (part of either)."""
    scope = view_scope(user)
    rows = VehicleTransportCertificate.objects.filter(issuing_region__startswith=scope.region_prefix)
    if status in VehicleTransportCertificate.Status.values:
        rows = rows.filter(status=status)
    q = q.strip().upper()
    if q:
        rows = rows.filter(Q(plate_number__icontains=q) | Q(certificate_number__icontains=q))
    return rows.order_by("plate_number", "pk")


def vehicle_certificate(*, user: Any, number: str) -> VehicleTransportCertificate:
    found = vehicle_certificates(user=user).filter(certificate_number=number).first()
    if found is None:
        raise _not_found()
    return found


def inspections(*, user: Any, q: str = "", state: str = "") -> QuerySet[VehicleTransportCertificate]:
    """Vehicles by their last annual inspection; `state="overdue"`: none in the last year."""
    rows = vehicle_certificates(user=user, q=q).exclude(status=VehicleTransportCertificate.Status.CANCELLED)
    if state == "overdue":
        cutoff = today_in_china() - dt.timedelta(days=INSPECTION_INTERVAL_DAYS)
        rows = rows.filter(Q(last_inspection_on__isnull=True) | Q(last_inspection_on__lt=cutoff))
    return rows.order_by("last_inspection_on", "plate_number")


def violations(*, user: Any, q: str = "", state: str = "") -> QuerySet[VehicleViolation]:
    """Violations reported in the region, or without a region for a vehicle registered there."""
    scope = view_scope(user)
    rows = VehicleViolation.objects.all()
    if scope.region_prefix:
        plates = VehicleTransportCertificate.objects.filter(
            issuing_region__startswith=scope.region_prefix
        ).values("plate_number")
        rows = rows.filter(
            Q(region_code__startswith=scope.region_prefix) | Q(region_code="", plate_number__in=plates)
        )
    if state == "open":
        rows = rows.filter(resolved_at__isnull=True)
    elif state == "remedied":
        rows = rows.filter(resolved_at__isnull=False)
    if q.strip():
        rows = rows.filter(Q(plate_number__icontains=q.strip().upper()) | Q(reference__icontains=q.strip()))
    return rows.order_by("resolved_at", "-occurred_on", "-pk")


def violation(*, user: Any, pk: int) -> VehicleViolation:
    found = violations(user=user).filter(pk=pk).first()
    if found is None:
        raise _not_found()
    return found


def violations_of_plate(plate_number: str) -> QuerySet[VehicleViolation]:
    return VehicleViolation.objects.filter(plate_number=plate_number).order_by("resolved_at", "-occurred_on")


# --------------------------------------------------------------------------------------------
# Platform operating licences (licensing)
# --------------------------------------------------------------------------------------------


def operating_licences(*, user: Any, q: str = "", status: str = "") -> QuerySet[OperatingLicence]:
    """Search by licence number, company name or credit code (part of any)."""
    scope = view_scope(user)
    rows = OperatingLicence.objects.filter(city_code__startswith=scope.region_prefix).select_related(
        "company"
    )
    if status in OperatingLicence.Status.values:
        rows = rows.filter(status=status)
    q = q.strip()
    if q:
        rows = rows.filter(
            Q(number__icontains=q) | Q(company__name__icontains=q) | Q(company__credit_code__icontains=q)
        )
    return rows.order_by("-issued_at", "-pk")


def operating_licence(*, user: Any, number: str) -> OperatingLicence:
    found = operating_licences(user=user).filter(number=number).first()
    if found is None:
        raise _not_found()
    return found


def company_by_credit_code(credit_code: str) -> Company:
    company = Company.objects.filter(credit_code=(credit_code or "").strip().upper()).first()
    if company is None:
        raise NotFound("company.not_found", _("No registered company with this credit code."))
    return company


# --------------------------------------------------------------------------------------------
# Information verification requests (核查, practitioners)
# --------------------------------------------------------------------------------------------


def verification_requests(*, user: Any, state: str = "") -> QuerySet[VerificationRequest]:
    scope = view_scope(user)
    rows = VerificationRequest.objects.filter(region_code__startswith=scope.region_prefix)
    if state in VerificationRequest.State.values:
        rows = rows.filter(state=state)
    elif state != "all":
        rows = rows.exclude(state=VerificationRequest.State.ANSWERED)
    return rows.select_related("applicant").order_by("due_on", "submitted_at", "pk")


def verification_request(*, user: Any, pk: int) -> VerificationRequest:
    found = verification_requests(user=user, state="all").filter(pk=pk).first()
    if found is None:
        raise _not_found()
    return found


def open_verification_requests(*, user: Any) -> tuple[int, int]:
    """Workbench badge: requests waiting for acceptance or an answer, and those past due."""
    waiting = verification_requests(user=user)
    return waiting.count(), waiting.filter(due_on__lt=today_in_china()).count()
