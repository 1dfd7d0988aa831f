"""The vehicle transport certificate registry (道路运输证) and traffic violations: a minimal
registry, enough for the traffic pass's "the vehicle must be legal and have no unresolved
violations" rule. Every issue, annual inspection and cancellation updates the certificate's
electronic licence in the same transaction (`services.licence_sync`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company, User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import lookup_hash
from yunzheng.core.errors import Conflict, ErrorDetail, NotFound, ValidationFailed
from yunzheng.core.ids import find_non_halfwidth, region_code_exists
from yunzheng.elicense.error_codes import ElicenseErrorCode as Code
from yunzheng.elicense.models import (
    ElectronicLicence,
    LicenceEvent,
    LicenceType,
    PlateColour,
    VehicleTransportCertificate,
    VehicleViolation,
)
from yunzheng.elicense.services import licence_sync

SOURCE_TYPE = "elicense.vehicle_certificate"

# Province abbreviations on mainland plates (GA 36).
PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Province character, issuing-authority letter (I and O are never used), then 5 characters
# (6 on new-energy plates): capital letters except I and O, and digits.
_PLATE = re.compile(rf"[{PLATE_PROVINCES}][A-HJ-NP-Z][A-HJ-NP-Z0-9]{{5,6}}")


def validate_plate(value: str, *, field: str = "plate_number") -> str:
    """A mainland plate number, upper-cased. Letters and digits must be half-width: a full-width
    "Ａ" is refused with the character and its half-width form named."""
    plate = (value or "").strip().replace(" ", "").replace("·", "")
    if plate:
        offenders = [o for o in find_non_halfwidth(plate[1:]) if o.suggestion is not None]
        if offenders:
            first = offenders[0]
            raise ValidationFailed.single(
                field=field,
                code=Code.PLATE_FULLWIDTH,
                message=_(
                    "Character “%(char)s” at position %(position)s of the plate is full-width; "
                    "type “%(suggestion)s” instead."
                )
                % {"char": first.char, "position": first.position + 1, "suggestion": first.suggestion},
                position=first.position + 1,
                char=first.char,
                suggestion=first.suggestion,
            )
    plate = plate[:1] + plate[1:].upper()
    if not _PLATE.fullmatch(plate):
        raise ValidationFailed.single(
            field=field,
            code=Code.PLATE_FORMAT,
            message=_(
                "A plate number is a province character, a letter and 5 or 6 letters or digits, "
                "e.g. 津A12345 (letters I and O are not used)."
            ),
        )
    return plate


def vehicle_licence_data(
    *,
    certificate_number: str,
    plate: str,
    plate_colour: str,
    scope: str,
    last_inspection_on: dt.date | None = None,
) -> dict[str, Any]:
    """The data a vehicle certificate's electronic licence carries (also for bulk imports)."""
    return {
        "certificate_number": certificate_number,
        "plate": plate,
        "plate_colour": str(PlateColour(plate_colour).label),
        "scope": scope,
        "last_inspection_on": last_inspection_on.isoformat() if last_inspection_on else "",
    }


def _licence_data(certificate: VehicleTransportCertificate) -> dict[str, Any]:
    return vehicle_licence_data(
        certificate_number=certificate.certificate_number,
        plate=certificate.plate_number,
        plate_colour=certificate.plate_colour,
        scope=certificate.business_scope,
        last_inspection_on=certificate.last_inspection_on,
    )


def _sync(
    certificate: VehicleTransportCertificate, *, event: str, actor: Actor, reason: str = ""
) -> ElectronicLicence:
    return licence_sync(
        source_type=SOURCE_TYPE,
        source_id=certificate.pk,
        licence_type=LicenceType.VEHICLE_TRANSPORT_CERTIFICATE,
        holder_user=certificate.owner_user,
        holder_company=certificate.owner_company,
        holder_name=certificate.owner_name,
        holder_id_number=certificate.owner_id_number,
        issuer_region=certificate.issuing_region,
        valid_from=certificate.valid_from,
        valid_until=certificate.valid_until,
        data=_licence_data(certificate),
        event=event,
        actor=actor,
        reason=reason,
        source_updated_at=certificate.updated_at,
        now=certificate.updated_at,
    )


def vehicle_certificate_issue(
    *,
    certificate_number: str,
    plate_number: str,
    plate_colour: str,
    business_scope: str,
    issuing_region: str,
    valid_from: dt.date,
    valid_until: dt.date,
    actor: Actor,
    owner_company: Company | None = None,
    owner_user: User | None = None,
    owner_name: str = "",
    owner_id_number: str = "",
    now: dt.datetime | None = None,
) -> VehicleTransportCertificate:
    plate = validate_plate(plate_number)
    problems: list[ErrorDetail] = []
    certificate_number = certificate_number.strip()
    if not certificate_number or len(certificate_number) > 32 or find_non_halfwidth(certificate_number):
        problems.append(
            ErrorDetail(
                "certificate_number", Code.VEHICLE_CERTIFICATE_INVALID, _("At most 32 half-width characters.")
            )
        )
    if plate_colour not in PlateColour.values:
        problems.append(
            ErrorDetail("plate_colour", Code.VEHICLE_CERTIFICATE_INVALID, _("Unknown plate colour."))
        )
    if not business_scope.strip():
        problems.append(ErrorDetail("business_scope", Code.VEHICLE_CERTIFICATE_INVALID, _("Required.")))
    if not region_code_exists(issuing_region):
        problems.append(
            ErrorDetail("issuing_region", Code.VEHICLE_CERTIFICATE_INVALID, _("Not a GB/T 2260 code."))
        )
    if valid_from > valid_until:
        problems.append(
            ErrorDetail("valid_until", Code.VEHICLE_CERTIFICATE_INVALID, _("Cannot end before it starts."))
        )
    if owner_company is not None:
        owner_name, owner_id_number = owner_company.name, owner_company.credit_code
    elif owner_user is not None and getattr(owner_user, "is_real_name_verified", False):
        owner_name = owner_name or owner_user.real_name or ""
        owner_id_number = owner_id_number or owner_user.id_number or ""
    if not owner_name.strip():
        problems.append(ErrorDetail("owner_name", Code.VEHICLE_CERTIFICATE_INVALID, _("Name the owner.")))
    if problems:
        raise ValidationFailed(
            Code.VEHICLE_CERTIFICATE_INVALID, _("The certificate data is invalid."), details=problems
        )
    now = now or timezone.now()
    with transaction.atomic():
        if VehicleTransportCertificate.objects.filter(certificate_number=certificate_number).exists() or (
            VehicleTransportCertificate.objects.filter(plate_number=plate, plate_colour=plate_colour)
            .exclude(status=VehicleTransportCertificate.Status.CANCELLED)
            .exists()
        ):
            raise Conflict(
                Code.VEHICLE_CERTIFICATE_EXISTS,
                _("This certificate number, or a live certificate for this plate, already exists."),
            )
        certificate = VehicleTransportCertificate.objects.create(
            certificate_number=certificate_number,
            plate_number=plate,
            plate_colour=plate_colour,
            owner_company=owner_company,
            owner_user=owner_user,
            owner_name=owner_name.strip(),
            owner_id_number=owner_id_number or None,
            owner_id_hash=lookup_hash(owner_id_number) if owner_id_number else "",
            business_scope=business_scope.strip(),
            issuing_region=issuing_region,
            valid_from=valid_from,
            valid_until=valid_until,
            created_at=now,
            updated_at=now,
        )
        _sync(certificate, event=LicenceEvent.Kind.ISSUE, actor=actor)
        record_audit(
            actor=actor,
            action="elicense.vehicle_certificate.issue",
            target_type="vehicle_certificate",
            target_id=certificate.pk,
            after={"plate": plate, "number": certificate_number},
        )
    return certificate


def vehicle_certificate_annual_inspection(
    *,
    certificate: VehicleTransportCertificate,
    inspected_on: dt.date,
    actor: Actor,
    valid_until: dt.date | None = None,
    now: dt.datetime | None = None,
) -> VehicleTransportCertificate:
    """Record a passed annual inspection (年审), optionally extending the validity."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = VehicleTransportCertificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.status == VehicleTransportCertificate.Status.CANCELLED:
            raise Conflict(Code.VEHICLE_CERTIFICATE_INVALID, _("A cancelled certificate has no inspections."))
        locked.last_inspection_on = inspected_on
        if valid_until is not None:
            locked.valid_until = valid_until
        locked.updated_at = now
        locked.save()
        _sync(locked, event=LicenceEvent.Kind.ANNUAL_INSPECTION, actor=actor)
        record_audit(
            actor=actor,
            action="elicense.vehicle_certificate.inspection",
            target_type="vehicle_certificate",
            target_id=locked.pk,
            after={"inspected_on": inspected_on, "valid_until": locked.valid_until},
        )
    return locked


def vehicle_certificate_cancel(
    *, certificate: VehicleTransportCertificate, actor: Actor, reason: str, now: dt.datetime | None = None
) -> VehicleTransportCertificate:
    if not reason.strip():
        raise ValidationFailed.single(field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason."))
    now = now or timezone.now()
    with transaction.atomic():
        locked = VehicleTransportCertificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.status == VehicleTransportCertificate.Status.CANCELLED:
            raise Conflict(Code.VEHICLE_CERTIFICATE_INVALID, _("The certificate is already cancelled."))
        locked.status = VehicleTransportCertificate.Status.CANCELLED
        locked.updated_at = now
        locked.save()
        _sync(locked, event=LicenceEvent.Kind.CANCEL, actor=actor, reason=reason.strip())
        record_audit(
            actor=actor,
            action="elicense.vehicle_certificate.cancel",
            target_type="vehicle_certificate",
            target_id=locked.pk,
            reason=reason.strip(),
        )
        _recheck_passes(locked.plate_number, actor=actor, now=now)
    return locked


def vehicle_violation_record(
    *, plate_number: str, occurred_on: dt.date, description: str, actor: Actor, now: dt.datetime | None = None
) -> VehicleViolation:
    plate = validate_plate(plate_number)
    description = description.strip()[:200]
    if not description:
        raise ValidationFailed.single(
            field="description", code=Code.REASON_REQUIRED, message=_("Describe it.")
        )
    with transaction.atomic():
        violation = VehicleViolation.objects.create(
            plate_number=plate,
            occurred_on=occurred_on,
            description=description,
            recorded_at=now or timezone.now(),
        )
        record_audit(
            actor=actor,
            action="elicense.violation.record",
            target_type="vehicle_violation",
            target_id=violation.pk,
            after={"plate": plate, "occurred_on": occurred_on},
        )
        _recheck_passes(plate, actor=actor, now=now)
    return violation


def vehicle_violation_resolve(
    *, violation: VehicleViolation, actor: Actor, now: dt.datetime | None = None
) -> None:
    with transaction.atomic():
        updated = VehicleViolation.objects.filter(pk=violation.pk, resolved_at__isnull=True).update(
            resolved_at=now or timezone.now()
        )
        if not updated:
            raise NotFound(Code.VIOLATION_NOT_FOUND, _("No such unresolved violation."))
        record_audit(
            actor=actor,
            action="elicense.violation.resolve",
            target_type="vehicle_violation",
            target_id=violation.pk,
        )


def _recheck_passes(plate_number: str, *, actor: Actor, now: dt.datetime | None) -> None:
    """Approved traffic passes of the vehicle are re-checked in the registry's transaction."""
    from yunzheng.elicense.traffic_passes import recheck_for_vehicle

    recheck_for_vehicle(plate_number=plate_number, actor=actor, now=now)


def vehicle_legal_problems(*, plate_number: str, on: dt.date | None = None) -> list[tuple[str, str]]:
    """Why a vehicle may not get a pass: (code, message) pairs; empty when it is legal."""
    on = on or today_in_china()
    problems: list[tuple[str, str]] = []
    live = VehicleTransportCertificate.objects.filter(
        plate_number=plate_number,
        status=VehicleTransportCertificate.Status.VALID,
        valid_from__lte=on,
        valid_until__gte=on,
    )
    if not live.exists():
        problems.append(
            (Code.TP_VEHICLE_NOT_LEGAL, _("The vehicle has no valid road transport certificate."))
        )
    unresolved = VehicleViolation.objects.filter(plate_number=plate_number, resolved_at__isnull=True).count()
    if unresolved:
        problems.append(
            (
                Code.TP_VEHICLE_VIOLATIONS,
                _("The vehicle has %(count)s unresolved traffic violation(s); resolve them first.")
                % {"count": unresolved},
            )
        )
    return problems
