"""The certificate registry: registering certificates and applying approved cases to it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.crypto import decrypt_field, lookup_hash, mask_name, mask_phone
from yunzheng.core.errors import ValidationFailed
from yunzheng.core.ids import region_code_exists, validate_resident_id
from yunzheng.practitioners import licences
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.models import (
    CaseType,
    CertificateCategory,
    CertificateCategoryGrant,
    CreditAssessment,
    QualificationCertificate,
    ServiceCase,
)
from yunzheng.practitioners.services._common import CERTIFICATE_VALIDITY_YEARS

# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------

_PERSONAL_FIELDS = {
    "holder_name": mask_name,
    "holder_address": lambda value: "***" if value else "",
    "contact_name": mask_name,
    "contact_phone": mask_phone,
}


def _audit_value(name: str, value: Any) -> Any:
    masker = _PERSONAL_FIELDS.get(name)
    if masker is not None:
        return masker(str(value or ""))
    return value.isoformat() if isinstance(value, dt.date) else value


def _certificate_update(
    certificate: QualificationCertificate,
    *,
    changes: Mapping[str, Any],
    actor: Actor,
    reason: str,
    case: ServiceCase | None,
    now: dt.datetime,
    event: str = "change",
) -> list[str]:
    """Apply field changes to a locked certificate: new version, audit with before/after (masked),
    and the electronic licence updated in the same transaction."""
    changed = [name for name, value in changes.items() if getattr(certificate, name) != value]
    before = {name: _audit_value(name, getattr(certificate, name)) for name in changed}
    for name in changed:
        setattr(certificate, name, changes[name])
    if certificate.valid_until < certificate.valid_from:
        raise ValidationFailed.single(
            field="valid_until",
            code=Code.CORRECTION_INVALID,
            message=_("A certificate cannot end before it starts."),
        )
    certificate.version += 1
    certificate.save()
    record_audit(
        actor=actor,
        action="office.certificate.update",
        target_type="qualification_certificate",
        target_id=certificate.pk,
        before=before,
        after={
            **{name: _audit_value(name, changes[name]) for name in changed},
            "version": certificate.version,
            "case": case.number if case else None,
        },
        reason=reason,
    )
    licences.certificate_licence_sync(
        certificate=certificate, event=event, actor=actor, reason=reason, now=now
    )
    return changed


def _apply_to_registry(case: ServiceCase, *, staff: User, actor: Actor, grade: str, now: dt.datetime) -> None:
    today = today_in_china(now)
    certificate = QualificationCertificate.objects.select_for_update().get(pk=case.certificate_id)
    details = case.details
    reason = _("Case %(number)s approved") % {"number": case.number}
    kind = CaseType(case.case_type)
    if kind == CaseType.CREDIT_ASSESSMENT:
        assessment = CreditAssessment.objects.create(
            certificate=certificate,
            cycle_year=int(details["cycle_year"]),
            grade=grade,
            assessed_on=today,
            authority=certificate.issuing_authority,
            case=case,
        )
        record_audit(
            actor=actor,
            action="office.credit.assess",
            target_type="qualification_certificate",
            target_id=certificate.pk,
            after={"cycle_year": assessment.cycle_year, "grade": grade, "case": case.number},
            reason=reason,
        )
        licences.credit_voucher_sync(assessment=assessment, actor=actor, now=now)
    elif kind == CaseType.RENEWAL:
        valid_from = today
        valid_until = add_years(valid_from, CERTIFICATE_VALIDITY_YEARS) - dt.timedelta(days=1)
        renewed: dict[str, Any] = {"valid_from": valid_from, "valid_until": valid_until}
        if details.get("licence_class"):
            renewed["licence_class"] = details["licence_class"]
        _certificate_update(
            certificate,
            changes=renewed,
            actor=actor,
            reason=reason,
            case=case,
            now=now,
            event="issue",
        )
    elif kind == CaseType.REPLACEMENT:
        if details.get("licence_class") and details["licence_class"] != certificate.licence_class:
            _certificate_update(
                certificate,
                changes={"licence_class": details["licence_class"]},
                actor=actor,
                reason=reason,
                case=case,
                now=now,
            )
        certificate.version += 1
        certificate.save(update_fields=["version", "updated_at"])
        record_audit(
            actor=actor,
            action="office.certificate.replace",
            target_type="qualification_certificate",
            target_id=certificate.pk,
            after={"version": certificate.version, "case": case.number},
            reason=reason,
        )
        licences.certificate_licence_sync(
            certificate=certificate, event="issue", actor=actor, reason=reason, now=now
        )
    elif kind == CaseType.CHANGE_UNIT:
        _certificate_update(
            certificate,
            changes={"service_unit": details["new_unit"], "service_unit_phone": details["unit_phone"]},
            actor=actor,
            reason=reason,
            case=case,
            now=now,
        )
    elif kind == CaseType.CHANGE_INFO:
        changes: dict[str, Any] = {}
        if details.get("update_name") and case.applicant.real_name:
            changes["holder_name"] = case.applicant.real_name
        if details.get("new_address"):
            changes["holder_address"] = details["new_address"]
        if details.get("licence_class"):
            changes["licence_class"] = details["licence_class"]
        if details.get("unit_phone"):
            changes["service_unit_phone"] = details["unit_phone"]
        if details.get("new_contact_name"):
            changes["contact_name"] = details["new_contact_name"]
        if details.get("new_contact_phone"):
            changes["contact_phone"] = decrypt_field(details["new_contact_phone"])
        _certificate_update(certificate, changes=changes, actor=actor, reason=reason, case=case, now=now)
    elif kind == CaseType.CANCELLATION:
        chosen = set(details.get("categories") or [])
        grants = list(
            certificate.grants.select_for_update().filter(status=CertificateCategoryGrant.Status.VALID)
        )
        for grant in grants:
            if grant.category in chosen:
                grant.status = CertificateCategoryGrant.Status.CANCELLED
                grant.cancelled_on = today
                grant.save(update_fields=["status", "cancelled_on"])
        remaining = [g.category for g in grants if g.category not in chosen]
        before_status = certificate.status
        if not remaining:
            certificate.status = QualificationCertificate.Status.CANCELLED
        certificate.version += 1
        certificate.save(update_fields=["status", "version", "updated_at"])
        record_audit(
            actor=actor,
            action="office.certificate.cancel_categories",
            target_type="qualification_certificate",
            target_id=certificate.pk,
            before={"status": before_status},
            after={
                "cancelled": sorted(chosen),
                "remaining": sorted(remaining),
                "status": certificate.status,
                "version": certificate.version,
                "case": case.number,
            },
            reason=reason,
        )
        licences.certificate_licence_sync(
            certificate=certificate,
            event="cancel" if not remaining else "change",
            actor=actor,
            reason=reason,
            now=now,
        )
        if not remaining:
            # A cancelled certificate's credit vouchers stop verifying as valid too.
            for assessment in certificate.credit_assessments.filter(revoked_at__isnull=True):
                assessment.revoked_at = now
                assessment.save(update_fields=["revoked_at"])
                licences.credit_voucher_sync(assessment=assessment, actor=actor, now=now)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def certificate_register(
    *,
    number: str,
    holder_name: str,
    holder_id_number: str,
    categories: list[str],
    issuing_authority: str,
    region_code: str,
    first_issued_on: dt.date,
    valid_from: dt.date,
    valid_until: dt.date,
    service_unit: str = "",
    service_unit_phone: str = "",
    holder_address: str = "",
    actor: Actor,
    now: dt.datetime | None = None,
) -> QualificationCertificate:
    """Enter a certificate into the registry (data migration from the issuing authority, demo data)."""
    now = now_or(now)
    resident = validate_resident_id(holder_id_number, field="holder_id_number")
    if valid_until < valid_from:
        raise ValidationFailed.single(
            field="valid_until",
            code=Code.CORRECTION_INVALID,
            message=_("A certificate cannot end before it starts."),
        )
    if not region_code_exists(region_code):
        raise ValidationFailed.single(
            field="region_code",
            code=Code.FIELD_REQUIRED,
            message=_("The issuing region must be a GB/T 2260 code."),
        )
    unknown = [c for c in categories if c not in CertificateCategory.values]
    if not categories or unknown:
        raise ValidationFailed.single(
            field="categories", code=Code.CATEGORIES_REQUIRED, message=_("Give at least one known category.")
        )
    with transaction.atomic():
        certificate = QualificationCertificate.objects.create(
            number=number,
            holder_name=holder_name,
            holder_id_number=resident.number,
            holder_id_hash=lookup_hash(resident.number),
            holder_address=holder_address or None,
            issuing_authority=issuing_authority,
            region_code=region_code,
            first_issued_on=first_issued_on,
            valid_from=valid_from,
            valid_until=valid_until,
            service_unit=service_unit,
            service_unit_phone=service_unit_phone,
        )
        CertificateCategoryGrant.objects.bulk_create(
            [
                CertificateCategoryGrant(
                    certificate=certificate, category=category, granted_on=first_issued_on
                )
                for category in categories
            ]
        )
        record_audit(
            actor=actor,
            action="office.certificate.register",
            target_type="qualification_certificate",
            target_id=certificate.pk,
            after={
                "number": number,
                "holder": mask_name(holder_name),
                "categories": categories,
                "region_code": region_code,
                "valid_until": valid_until,
            },
        )
        licences.certificate_licence_sync(
            certificate=certificate, event="issue", actor=actor, reason="registered", now=now
        )
    return certificate
