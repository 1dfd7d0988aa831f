"""Licence status changes by the authority, expiry, activation and staff views."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.errors import (
    Conflict,
    ValidationFailed,
)
from yunzheng.elicense.error_codes import ElicenseErrorCode as Code
from yunzheng.elicense.models import (
    ElectronicLicence,
    LicenceEvent,
    LicenceStatus,
)
from yunzheng.elicense.services.sync import _save_version

# --------------------------------------------------------------------------------------------
# Licences: status changes by the authority, expiry
# --------------------------------------------------------------------------------------------


def _change_status(
    *,
    licence: ElectronicLicence,
    kind: str,
    to_status: str,
    allowed_from: set[str],
    actor: Actor,
    reason: str,
    now: dt.datetime | None,
    staff_user: Any = None,
) -> ElectronicLicence:
    if staff_user is not None:  # staff act only as the issuing authority's registry
        from yunzheng.accounts.permissions import authorize

        authorize(staff_user, "elicense.licence.status", region_code=licence.issuer_region)
    if not reason.strip():
        raise ValidationFailed.single(field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason."))
    now = now_or(now)
    with transaction.atomic():
        locked = ElectronicLicence.objects.select_for_update().get(pk=licence.pk)
        if locked.status not in allowed_from:
            raise Conflict(
                Code.LICENCE_STATUS_CONFLICT,
                _("The licence is %(status)s; this change is not possible.")
                % {"status": locked.get_status_display()},
            )
        from_status = locked.status
        locked.status = to_status
        locked.status_reason = reason.strip()
        locked.version += 1
        _save_version(
            locked,
            kind=kind,
            from_status=from_status,
            actor=actor,
            reason=reason.strip(),
            changed=["status"],
            now=now,
        )
    return locked


def licence_revoke(
    *,
    licence: ElectronicLicence,
    actor: Actor,
    reason: str,
    now: dt.datetime | None = None,
    staff_user: Any = None,
) -> ElectronicLicence:
    """Revoke at once: the online check answers "revoked" from the moment this commits."""
    return _change_status(
        licence=licence,
        kind=LicenceEvent.Kind.REVOKE,
        to_status=LicenceStatus.REVOKED,
        allowed_from={LicenceStatus.VALID, LicenceStatus.SUSPENDED, LicenceStatus.EXPIRED},
        actor=actor,
        reason=reason,
        now=now,
        staff_user=staff_user,
    )


def licence_suspend(
    *,
    licence: ElectronicLicence,
    actor: Actor,
    reason: str,
    now: dt.datetime | None = None,
    staff_user: Any = None,
) -> ElectronicLicence:
    return _change_status(
        licence=licence,
        kind=LicenceEvent.Kind.SUSPEND,
        to_status=LicenceStatus.SUSPENDED,
        allowed_from={LicenceStatus.VALID},
        actor=actor,
        reason=reason,
        now=now,
        staff_user=staff_user,
    )


def licence_reinstate(
    *,
    licence: ElectronicLicence,
    actor: Actor,
    reason: str,
    now: dt.datetime | None = None,
    staff_user: Any = None,
) -> ElectronicLicence:
    to_status = LicenceStatus.VALID if licence.valid_until >= today_in_china(now) else LicenceStatus.EXPIRED
    return _change_status(
        licence=licence,
        kind=LicenceEvent.Kind.REINSTATE,
        to_status=to_status,
        allowed_from={LicenceStatus.SUSPENDED},
        actor=actor,
        reason=reason,
        now=now,
        staff_user=staff_user,
    )


#: The staff status changes by their action name (the staff page and the API post these names).
LICENCE_STATUS_CHANGES: dict[str, Callable[..., ElectronicLicence]] = {
    "revoke": licence_revoke,
    "suspend": licence_suspend,
    "reinstate": licence_reinstate,
}


def licence_expire_due(*, now: dt.datetime | None = None) -> int:
    """Mark valid licences whose last day has passed as expired (run daily; the online check
    already answers "expired" from the dates, so a late run is never unsafe)."""
    now = now_or(now)
    today = today_in_china(now)
    count = 0
    for licence_id in ElectronicLicence.objects.filter(
        status=LicenceStatus.VALID, valid_until__lt=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            licence = ElectronicLicence.objects.select_for_update().get(pk=licence_id)
            if licence.status != LicenceStatus.VALID or licence.valid_until >= today:
                continue
            licence.status = LicenceStatus.EXPIRED
            licence.version += 1
            _save_version(
                licence,
                kind=LicenceEvent.Kind.EXPIRE,
                from_status=LicenceStatus.VALID,
                actor=Actor.system("licence_expire_due"),
                reason="",
                changed=["status"],
                now=now,
            )
            count += 1
    return count


def licence_record_activation(
    *, licence: ElectronicLicence, user: Any, now: dt.datetime | None = None
) -> None:
    """The holder viewed or downloaded the licence: the first time counts as activation."""
    if licence.activated_at is not None or not user_holds_licence(user=user, licence=licence):
        return
    now = now_or(now)
    ElectronicLicence.objects.filter(pk=licence.pk, activated_at__isnull=True).update(activated_at=now)
    licence.activated_at = now


def licence_record_staff_view(*, licence: ElectronicLicence, staff_user: User, what: str) -> None:
    """Staff seeing a licence in full (holder name, ID number): `elicense.licence.view` of the
    licence's issuing region (PermissionDenied otherwise), and every view audited."""
    from yunzheng.accounts.permissions import authorize

    authorize(staff_user, "elicense.licence.view", region_code=licence.issuer_region)
    record_audit(
        actor=Actor.for_user(staff_user),
        action=f"elicense.licence.staff_{what}",
        target_type="electronic_licence",
        target_id=licence.lid,
    )


def index_record_id_search(*, staff_user: User) -> None:
    """Staff searched the ministry index by a holder's ID number: every such search is audited
    (the number itself is not written down)."""
    record_audit(
        actor=Actor.for_user(staff_user), action="elicense.index.search_by_id", target_type="ministry_index"
    )


def user_holds_licence(*, user: Any, licence: ElectronicLicence) -> bool:
    """Holder-only rule, in one place: the holder user, a member of the holder company, or a
    verified person whose ID number is the licence's."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if licence.holder_user_id is not None and licence.holder_user_id == user.pk:
        return True
    if licence.holder_company_id is not None:
        return bool(user.company_memberships.filter(company_id=licence.holder_company_id).exists())
    return bool(
        licence.holder_id_hash
        and getattr(user, "is_real_name_verified", False)
        and user.id_number_hash == licence.holder_id_hash
    )
