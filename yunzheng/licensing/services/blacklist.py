"""The ministry's credit blacklist (信用黑名单): entries with reason, dates and who recorded them.

While an entry is active the company can neither pass the access test (no test-passed document is
recorded) nor be granted a licence; :func:`blacklist_require_clear` is called by both.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company, User
from yunzheng.core.audit import record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yunzheng.licensing import selectors
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import CreditBlacklistEntry, Party
from yunzheng.licensing.services._common import _actor


def _require_ministry(user: User) -> None:
    scope = selectors.scope_of(user)
    if scope is None or selectors.staff_party(scope) != Party.MINISTRY:
        raise PermissionDenied(Code.NOT_YOUR_TURN, _("Only the ministry keeps the credit blacklist."))


def active_blacklist_entry(company: Company, *, on: dt.date) -> CreditBlacklistEntry | None:
    for entry in CreditBlacklistEntry.objects.filter(
        company=company, lifted_at__isnull=True, starts_on__lte=on
    ):
        if entry.active_on(on):
            return entry
    return None


def blacklist_require_clear(company: Company, *, on: dt.date) -> None:
    """Conflict ``credit.blacklisted`` while the company has an active entry."""
    entry = active_blacklist_entry(company, on=on)
    if entry is not None:
        raise Conflict(
            Code.BLACKLISTED,
            _("The company is on the ministry's credit blacklist since %(since)s: %(reason)s")
            % {"since": entry.starts_on.isoformat(), "reason": entry.reason},
        )


def blacklist_entry_record(
    *,
    company: Company,
    user: User,
    reason: str,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> CreditBlacklistEntry:
    """Ministry staff put a company on the credit blacklist (audited)."""
    _require_ministry(user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.single(field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason."))
    if ends_on is not None and ends_on < starts_on:
        raise ValidationFailed.single(
            field="ends_on", code=Code.FIELD_REQUIRED, message=_("The end cannot be before the start.")
        )
    now = now_or(now)
    with transaction.atomic():
        entry = CreditBlacklistEntry.objects.create(
            company=company,
            reason=reason[:2000],
            starts_on=starts_on,
            ends_on=ends_on,
            recorded_by=user,
            recorded_at=now,
        )
        record_audit(
            actor=_actor(user),
            action="licensing.blacklist.record",
            target_type="company",
            target_id=company.pk,
            reason=reason,
            after={"entry": entry.pk, "starts_on": starts_on, "ends_on": ends_on},
        )
    return entry


def blacklist_entry_lift(
    *, entry: CreditBlacklistEntry, user: User, reason: str, now: dt.datetime | None = None
) -> CreditBlacklistEntry:
    """Ministry staff lift an entry before its end (audited, with the reason)."""
    _require_ministry(user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.single(field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason."))
    now = now_or(now)
    with transaction.atomic():
        locked = CreditBlacklistEntry.objects.select_for_update().filter(pk=entry.pk).first()
        if locked is None or locked.lifted_at is not None:
            raise NotFound(Code.BLACKLIST_ENTRY_NOT_FOUND, _("No such active entry."))
        locked.lifted_at = now
        locked.lift_reason = reason[:2000]
        locked.save(update_fields=["lifted_at", "lift_reason"])
        record_audit(
            actor=_actor(user),
            action="licensing.blacklist.lift",
            target_type="company",
            target_id=locked.company_id,
            reason=reason,
            after={"entry": locked.pk, "on": today_in_china(now)},
        )
    return locked
