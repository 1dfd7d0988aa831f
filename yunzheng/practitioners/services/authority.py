"""Decisions of the issuing authority on a qualification certificate — suspension (暂扣),
revocation (吊销), reinstatement after a suspension — as registry events: the certificate changes
first and its electronic licence and ministry-index entry follow in the same transaction (never
the other way round). A revocation is final: nothing reinstates, renews or replaces a revoked
certificate, and its licence stays revoked.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.accounts.permissions import authorize
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or
from yunzheng.core.errors import Conflict, NotFound, ValidationFailed
from yunzheng.practitioners import licences
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.models import QualificationCertificate

Status = QualificationCertificate.Status
# decision -> (allowed current statuses, licence event)
_DECISIONS: dict[str, tuple[tuple[str, ...], str]] = {
    Status.SUSPENDED: ((Status.VALID,), "suspend"),
    Status.REVOKED: ((Status.VALID, Status.SUSPENDED), "revoke"),
    Status.VALID: ((Status.SUSPENDED,), "reinstate"),
}


def certificate_status_decide(
    *, number: str, status: str, reason: str, staff: User, now: dt.datetime | None = None
) -> QualificationCertificate:
    """Suspend, revoke or reinstate (after a suspension) a certificate of the staff's region."""
    now = now_or(now)
    reason = reason.strip()[:500]
    if status not in _DECISIONS:
        raise ValidationFailed.single(
            field="status", code=Code.FIELD_REQUIRED, message=_("Decide suspended, revoked or valid.")
        )
    if not reason:
        raise ValidationFailed.single(field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason."))
    allowed, event = _DECISIONS[status]
    with transaction.atomic():
        certificate = (
            QualificationCertificate.objects.select_for_update().filter(number=number.strip()).first()
        )
        if certificate is None:
            raise NotFound(Code.CERTIFICATE_NOT_FOUND, _("No certificate with this number."))
        authorize(staff, "registry.maintain", region_code=certificate.region_code)
        if certificate.status not in allowed:
            raise Conflict(
                Code.TRANSITION_NOT_ALLOWED,
                _("A %(current)s certificate cannot become %(new)s.")
                % {"current": certificate.get_status_display(), "new": Status(status).label},
            )
        before = certificate.status
        certificate.status = status
        certificate.version += 1
        certificate.save(update_fields=["status", "version", "updated_at"])
        actor = Actor.for_user(staff)
        record_audit(
            actor=actor,
            action=f"office.certificate.{event}",
            target_type="qualification_certificate",
            target_id=certificate.pk,
            before={"status": before},
            after={"status": status, "version": certificate.version},
            reason=reason,
        )
        licences.certificate_licence_sync(
            certificate=certificate, event=event, actor=actor, reason=reason, now=now
        )
    return certificate
