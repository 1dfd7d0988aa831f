"""The registry of platform operating licences (网络预约出租汽车经营许可证): issue, change, renew,
suspend, reinstate, revoke and cancel, each one transaction, audited, with an
`OperatingLicenceEvent` history row, and the company's electronic licence and ministry-index entry
updated in the same transaction (elicense.licence_sync, ADR 0011).

The city transport authority maintains its own city's licences (`registry.operating_licence.maintain`
in the permission table; a municipality's at province level). Revocation and cancellation are
final: nothing renews, changes or reinstates such a licence, and its electronic licence stays
revoked. The licensing workflow's grant step issues through `operating_licence_issue`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company, User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or
from yunzheng.core.errors import Conflict, NotFound, ValidationFailed
from yunzheng.core.ids import region_code_exists
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import LicenceApplication, OperatingLicence, OperatingLicenceEvent
from yunzheng.licensing.services._common import _text

SOURCE_TYPE = "licensing.operating_licence"
MAINTAIN = "registry.operating_licence.maintain"

Status = OperatingLicence.Status
Event = OperatingLicenceEvent.Kind
FINAL = (Status.REVOKED, Status.CANCELLED)

# decision -> (statuses it may start from, the status it leads to)
_DECISIONS: dict[str, tuple[tuple[str, ...], str]] = {
    Event.SUSPEND: ((Status.VALID,), Status.SUSPENDED),
    Event.REINSTATE: ((Status.SUSPENDED,), Status.VALID),
    Event.REVOKE: ((Status.VALID, Status.SUSPENDED), Status.REVOKED),
    Event.CANCEL: ((Status.VALID, Status.SUSPENDED), Status.CANCELLED),
}
# The electronic licence's status imposed by the registry's (None: follow the event).
_LICENCE_STATUS = {Status.SUSPENDED: "suspended", Status.REVOKED: "revoked", Status.CANCELLED: "revoked"}
# The elicense event of each registry event.
_LICENCE_EVENT = {
    Event.ISSUE: "issue",
    Event.CHANGE: "change",
    Event.RENEW: "issue",
    Event.SUSPEND: "suspend",
    Event.REINSTATE: "reinstate",
    Event.REVOKE: "revoke",
    Event.CANCEL: "cancel",
}


def _authorize(staff: User, city_code: str) -> None:
    from yunzheng.accounts.permissions import authorize

    authorize(staff, MAINTAIN, region_code=city_code)


def _reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()[:500]
    if required and not reason:
        raise ValidationFailed.single(field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason."))
    return reason


def _next_number(city_code: str, year: int) -> str:
    prefix = f"{city_code}WY{year}"
    count = OperatingLicence.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{count + 1:05d}"


def _locked(number: str) -> OperatingLicence:
    licence = (
        OperatingLicence.objects.select_for_update(of=("self",))
        .select_related("company")
        .filter(number=(number or "").strip())
        .first()
    )
    if licence is None:
        raise NotFound(Code.LICENCE_NOT_FOUND, _("No operating licence with this number."))
    return licence


def _sync(licence: OperatingLicence, *, event: str, actor: Actor, reason: str, now: dt.datetime) -> str:
    """Mirror the licence in the electronic-licence registry (same transaction: both commit or
    neither). The registry's status wins whatever the event, so nothing revives a revoked one."""
    from yunzheng.elicense.models import LicenceType
    from yunzheng.elicense.services import licence_sync

    electronic = licence_sync(
        source_type=SOURCE_TYPE,
        source_id=licence.pk,
        licence_type=LicenceType.RIDEHAIL_OPERATING_LICENCE,
        holder_name=licence.company.name,
        holder_company=licence.company,
        # The company's credit code identifies the holder in the index (hashed, like an ID number).
        holder_id_number=licence.company.credit_code,
        issuer_region=licence.city_code,
        valid_from=licence.valid_from,
        valid_until=licence.valid_until,
        data={
            "certificate_number": licence.number,
            "scope": licence.scope[:40],
            "area": licence.area[:40],
            "kind": licence.kind,
            "credit_code": licence.company.credit_code,
        },
        event=_LICENCE_EVENT[Event(event)],
        status=_LICENCE_STATUS.get(Status(licence.status)),
        actor=actor,
        reason=reason,
        source_updated_at=now,
        now=now,
    )
    return str(electronic.lid)


def _record(
    licence: OperatingLicence,
    *,
    event: str,
    before: dict[str, Any],
    after: dict[str, Any],
    from_status: str,
    staff: User,
    reason: str,
    now: dt.datetime,
) -> None:
    """History row, audit entry and the electronic licence of one registry event."""
    actor = Actor.for_user(staff)
    OperatingLicenceEvent.objects.create(
        licence=licence,
        version=licence.version,
        kind=event,
        from_status=from_status,
        to_status=licence.status,
        changes={"before": before, "after": after},
        reason=reason,
        actor_label=actor.label,
        at=now,
    )
    record_audit(
        actor=actor,
        action=f"licensing.operating_licence.{event}",
        target_type="operating_licence",
        target_id=licence.pk,
        before=before,
        after={**after, "status": licence.status, "version": licence.version},
        reason=reason,
    )
    electronic_id = _sync(licence, event=event, actor=actor, reason=reason, now=now)
    if licence.electronic_licence_id != electronic_id:
        licence.electronic_licence_id = electronic_id
        licence.save(update_fields=["electronic_licence_id"])


def _validity(valid_from: dt.date, valid_until: dt.date) -> None:
    if valid_until <= valid_from:
        raise ValidationFailed.single(
            field="valid_until",
            code=Code.LICENCE_INVALID,
            message=_("The validity cannot end before it starts."),
        )


def operating_licence_issue(
    *,
    company: Company,
    kind: str,
    scope: str,
    area: str,
    city_code: str,
    valid_from: dt.date,
    valid_until: dt.date,
    staff: User,
    number: str = "",
    application: LicenceApplication | None = None,
    now: dt.datetime | None = None,
) -> OperatingLicence:
    """Enter a licence in the registry: granted by the licensing workflow (`application`), or an
    existing licence of the city entered by its authority (`number` given)."""
    now = now_or(now)
    scope = _text(scope, field="scope", limit=200, label=_("Business scope"))
    area = _text(area, field="area", limit=200, label=_("Operating area"))
    if kind not in OperatingLicence.Kind.values:
        raise ValidationFailed.single(field="kind", code=Code.LICENCE_INVALID, message=_("Unknown kind."))
    if not region_code_exists(city_code):
        raise ValidationFailed.single(
            field="city_code", code=Code.CITY_INVALID, message=_("Not a GB/T 2260 region code.")
        )
    number = (number or "").strip()
    if len(number) > 40:
        raise ValidationFailed.single(
            field="number", code=Code.LICENCE_INVALID, message=_("At most 40 characters.")
        )
    _validity(valid_from, valid_until)
    _authorize(staff, city_code)
    with transaction.atomic():
        number = number or _next_number(city_code, valid_from.year)
        if OperatingLicence.objects.filter(number=number).exists():
            raise Conflict(Code.LICENCE_EXISTS, _("A licence with this number already exists."))
        licence = OperatingLicence.objects.create(
            number=number,
            company=company,
            application=application,
            kind=kind,
            scope=scope,
            area=area,
            city_code=city_code,
            valid_from=valid_from,
            valid_until=valid_until,
            issued_by=staff,
            issued_at=now,
            updated_at=now,
        )
        _record(
            licence,
            event=Event.ISSUE,
            before={},
            after={"number": number, "company": company.credit_code, "valid_until": valid_until.isoformat()},
            from_status="",
            staff=staff,
            reason="",
            now=now,
        )
    return licence


def _require_live(licence: OperatingLicence) -> None:
    if licence.status in FINAL:
        raise Conflict(
            Code.LICENCE_REVOKED_FINAL,
            _("A %(status)s licence is final: it cannot be changed, renewed or reinstated.")
            % {"status": licence.get_status_display()},
        )


def operating_licence_change(
    *,
    number: str,
    staff: User,
    reason: str,
    scope: str | None = None,
    area: str | None = None,
    now: dt.datetime | None = None,
) -> OperatingLicence:
    """Change the business scope or operating area. A change that changes nothing is a no-op."""
    now = now_or(now)
    reason = _reason(reason, required=True)
    wanted: dict[str, str] = {}
    if scope is not None:
        wanted["scope"] = _text(scope, field="scope", limit=200, label=_("Business scope"))
    if area is not None:
        wanted["area"] = _text(area, field="area", limit=200, label=_("Operating area"))
    with transaction.atomic():
        licence = _locked(number)
        _authorize(staff, licence.city_code)
        _require_live(licence)
        changed = {name: value for name, value in wanted.items() if getattr(licence, name) != value}
        if not changed:
            return licence
        before = {name: getattr(licence, name) for name in changed}
        for name, value in changed.items():
            setattr(licence, name, value)
        licence.version += 1
        licence.updated_at = now
        licence.save()
        _record(
            licence,
            event=Event.CHANGE,
            before=before,
            after=changed,
            from_status=licence.status,
            staff=staff,
            reason=reason,
            now=now,
        )
    return licence


def operating_licence_renew(
    *, number: str, staff: User, valid_until: dt.date, reason: str = "", now: dt.datetime | None = None
) -> OperatingLicence:
    """Extend the validity. Refused for a revoked or cancelled licence (revocation is final); a
    suspended licence stays suspended."""
    now = now_or(now)
    reason = _reason(reason, required=False)
    with transaction.atomic():
        licence = _locked(number)
        _authorize(staff, licence.city_code)
        _require_live(licence)
        if valid_until <= licence.valid_until:
            raise ValidationFailed.single(
                field="valid_until",
                code=Code.LICENCE_INVALID,
                message=_("A renewal ends after the current validity (%(day)s).")
                % {"day": licence.valid_until.isoformat()},
            )
        before = {"valid_until": licence.valid_until.isoformat()}
        licence.valid_until = valid_until
        licence.version += 1
        licence.updated_at = now
        licence.save()
        _record(
            licence,
            event=Event.RENEW,
            before=before,
            after={"valid_until": valid_until.isoformat()},
            from_status=licence.status,
            staff=staff,
            reason=reason,
            now=now,
        )
    return licence


def operating_licence_decide(
    *, number: str, decision: str, staff: User, reason: str, now: dt.datetime | None = None
) -> OperatingLicence:
    """An authority's decision: suspend, reinstate (after a suspension), revoke or cancel."""
    now = now_or(now)
    if decision not in _DECISIONS:
        raise ValidationFailed.single(
            field="decision",
            code=Code.LICENCE_INVALID,
            message=_("Decide suspend, reinstate, revoke or cancel."),
        )
    reason = _reason(reason, required=True)
    allowed, new_status = _DECISIONS[decision]
    with transaction.atomic():
        licence = _locked(number)
        _authorize(staff, licence.city_code)
        if licence.status not in allowed:
            if licence.status in FINAL:
                _require_live(licence)
            raise Conflict(
                Code.LICENCE_TRANSITION_NOT_ALLOWED,
                _("A %(current)s licence cannot be %(decision)s.")
                % {"current": licence.get_status_display(), "decision": Event(decision).label},
            )
        before_status = licence.status
        licence.status = new_status
        licence.version += 1
        licence.updated_at = now
        licence.save()
        _record(
            licence,
            event=decision,
            before={"status": before_status},
            after={},
            from_status=before_status,
            staff=staff,
            reason=reason,
            now=now,
        )
    return licence


def operating_licence_suspend(
    *, number: str, staff: User, reason: str, now: dt.datetime | None = None
) -> OperatingLicence:
    return operating_licence_decide(
        number=number, decision=Event.SUSPEND, staff=staff, reason=reason, now=now
    )


def operating_licence_reinstate(
    *, number: str, staff: User, reason: str, now: dt.datetime | None = None
) -> OperatingLicence:
    return operating_licence_decide(
        number=number, decision=Event.REINSTATE, staff=staff, reason=reason, now=now
    )


def operating_licence_revoke(
    *, number: str, staff: User, reason: str, now: dt.datetime | None = None
) -> OperatingLicence:
    return operating_licence_decide(number=number, decision=Event.REVOKE, staff=staff, reason=reason, now=now)


def operating_licence_cancel(
    *, number: str, staff: User, reason: str, now: dt.datetime | None = None
) -> OperatingLicence:
    return operating_licence_decide(number=number, decision=Event.CANCEL, staff=staff, reason=reason, now=now)
