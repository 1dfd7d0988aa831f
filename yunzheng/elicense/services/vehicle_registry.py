"""Staff decisions on the vehicle registries (staff pages): suspend, reinstate or cancel a road
transport certificate, record an annual inspection, remedy a violation. Each checks the permission
table (`registry.maintain`, the certificate's or violation's region) and then takes the registry
path of `elicense.vehicles`, so the electronic licence and the ministry index follow in the same
transaction. A cancelled certificate is final.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import today_in_china
from yunzheng.core.errors import Conflict, NotFound, ValidationFailed
from yunzheng.elicense.error_codes import ElicenseErrorCode as Code
from yunzheng.elicense.models import LicenceEvent, VehicleTransportCertificate, VehicleViolation

MAINTAIN = "registry.maintain"
Status = VehicleTransportCertificate.Status

# decision -> (statuses it may start from, new status, licence event)
_DECISIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "suspend": ((Status.VALID,), Status.SUSPENDED, LicenceEvent.Kind.SUSPEND),
    "reinstate": ((Status.SUSPENDED,), Status.VALID, LicenceEvent.Kind.REINSTATE),
    "cancel": ((Status.VALID, Status.SUSPENDED), Status.CANCELLED, LicenceEvent.Kind.CANCEL),
}


def _authorize(staff: User, region_code: str) -> None:
    from yunzheng.accounts.permissions import authorize

    authorize(staff, MAINTAIN, region_code=region_code)


def _locked(certificate_number: str) -> VehicleTransportCertificate:
    certificate = (
        VehicleTransportCertificate.objects.select_for_update()
        .filter(certificate_number=(certificate_number or "").strip())
        .first()
    )
    if certificate is None:
        raise NotFound(
            Code.VEHICLE_CERTIFICATE_NOT_FOUND, _("No road transport certificate with this number.")
        )
    return certificate


def vehicle_certificate_decide(
    *, certificate_number: str, decision: str, reason: str, staff: User, now: dt.datetime | None = None
) -> VehicleTransportCertificate:
    """Suspend, reinstate (after a suspension) or cancel a road transport certificate."""
    from yunzheng.elicense.vehicles import _recheck_passes, _sync

    reason = (reason or "").strip()[:500]
    if decision not in _DECISIONS:
        raise ValidationFailed.single(
            field="decision",
            code=Code.VEHICLE_CERTIFICATE_INVALID,
            message=_("Decide suspend, reinstate or cancel."),
        )
    if not reason:
        raise ValidationFailed.single(field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason."))
    allowed, new_status, event = _DECISIONS[decision]
    now = now or timezone.now()
    actor = Actor.for_user(staff)
    with transaction.atomic():
        certificate = _locked(certificate_number)
        _authorize(staff, certificate.issuing_region)
        if certificate.status not in allowed:
            raise Conflict(
                Code.VEHICLE_CERTIFICATE_INVALID,
                _("A %(status)s certificate cannot be changed this way.")
                % {"status": certificate.get_status_display()},
            )
        before = certificate.status
        certificate.status = new_status
        certificate.updated_at = now
        certificate.save(update_fields=["status", "updated_at"])
        _sync(certificate, event=event, actor=actor, reason=reason)
        record_audit(
            actor=actor,
            action=f"elicense.vehicle_certificate.{event}",
            target_type="vehicle_certificate",
            target_id=certificate.pk,
            before={"status": before},
            after={"status": new_status},
            reason=reason,
        )
        if new_status != Status.VALID:
            _recheck_passes(certificate.plate_number, actor=actor, now=now)
    return certificate


def vehicle_inspection_record(
    *,
    certificate_number: str,
    inspected_on: dt.date,
    passed: bool,
    staff: User,
    valid_until: dt.date | None = None,
    now: dt.datetime | None = None,
) -> VehicleTransportCertificate:
    """Record an annual inspection (年审). Passed: the date (and a new validity) reach the
    electronic licence. Failed: the certificate is suspended until a passed inspection is recorded
    and the authority reinstates it."""
    from yunzheng.elicense.vehicles import vehicle_certificate_annual_inspection

    now = now or timezone.now()
    if inspected_on > today_in_china(now):
        raise ValidationFailed.single(
            field="inspected_on",
            code=Code.VEHICLE_CERTIFICATE_INVALID,
            message=_("An inspection cannot be in the future."),
        )
    with transaction.atomic():
        certificate = _locked(certificate_number)
        _authorize(staff, certificate.issuing_region)
        if valid_until is not None and valid_until < certificate.valid_from:
            raise ValidationFailed.single(
                field="valid_until",
                code=Code.VEHICLE_CERTIFICATE_INVALID,
                message=_("The validity cannot end before it starts."),
            )
        if passed:
            return vehicle_certificate_annual_inspection(
                certificate=certificate,
                inspected_on=inspected_on,
                valid_until=valid_until,
                actor=Actor.for_user(staff),
                now=now,
            )
        if certificate.status == Status.CANCELLED:
            raise Conflict(Code.VEHICLE_CERTIFICATE_INVALID, _("A cancelled certificate has no inspections."))
        certificate.last_inspection_on = inspected_on
        certificate.save(update_fields=["last_inspection_on"])
        if certificate.status == Status.VALID:
            return vehicle_certificate_decide(
                certificate_number=certificate.certificate_number,
                decision="suspend",
                reason=str(_("Failed the annual inspection of %(day)s") % {"day": inspected_on.isoformat()}),
                staff=staff,
                now=now,
            )
    return certificate


def vehicle_violation_remedy(
    *, violation_id: int, staff: User, note: str, now: dt.datetime | None = None
) -> VehicleViolation:
    """Mark a violation remedied (处理完毕); the vehicle's approved passes are re-checked."""
    from yunzheng.elicense.vehicles import _recheck_passes

    note = (note or "").strip()[:500]
    if not note:
        raise ValidationFailed.single(
            field="note", code=Code.REASON_REQUIRED, message=_("Say how it was remedied.")
        )
    now = now or timezone.now()
    with transaction.atomic():
        violation = VehicleViolation.objects.select_for_update().filter(pk=violation_id).first()
        if violation is None:
            raise NotFound(Code.VIOLATION_NOT_FOUND, _("No such violation."))
        _authorize(staff, violation_region(violation))
        if violation.resolved_at is not None:
            raise Conflict(Code.VIOLATION_NOT_FOUND, _("This violation is already remedied."))
        violation.resolved_at = now
        violation.save(update_fields=["resolved_at"])
        actor = Actor.for_user(staff)
        record_audit(
            actor=actor,
            action="elicense.violation.resolve",
            target_type="vehicle_violation",
            target_id=violation.pk,
            reason=note,
        )
        _recheck_passes(violation.plate_number, actor=actor, now=now)
    return violation


def violation_region(violation: VehicleViolation) -> str:
    """The region a violation belongs to: where it was reported, else where the vehicle's
    certificate was issued."""
    if violation.region_code:
        return violation.region_code
    issuing = (
        VehicleTransportCertificate.objects.filter(plate_number=violation.plate_number)
        .order_by("status", "-valid_until")
        .values_list("issuing_region", flat=True)
        .first()
    )
    return issuing or ""
