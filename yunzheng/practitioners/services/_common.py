"""Shared helpers of the office services: constants, dates, access checks and `_transition`,
the one place that moves a case (history, audit, SMS after commit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from yunzheng.accounts.guards import ensure_real_name_verified
from yunzheng.accounts.models import StaffProfile, User
from yunzheng.accounts.scopes import StaffScope
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.errors import Conflict, NotFound, ValidationFailed
from yunzheng.core.sms import send_sms_on_commit
from yunzheng.practitioners import workflow
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.models import (
    CaseState,
    CaseTransition,
    CaseType,
    ServiceCase,
)
from yunzheng.practitioners.workflow import Action, Role

# Departments whose staff handle practitioner cases.
OFFICE_DEPARTMENTS = (StaffProfile.Department.TRANSPORT,)
CERTIFICATE_VALIDITY_YEARS = 6

# ISO 3166-2:CN subdivision codes, keyed by the first two digits of a GB/T 2260 code: the prefix
# of human-readable case numbers (ZJ-2026-000123).
PROVINCE_ABBREVIATIONS = {
    "11": "BJ", "12": "TJ", "13": "HE", "14": "SX", "15": "NM", "21": "LN", "22": "JL", "23": "HL",
    "31": "SH", "32": "JS", "33": "ZJ", "34": "AH", "35": "FJ", "36": "JX", "37": "SD", "41": "HA",
    "42": "HB", "43": "HN", "44": "GD", "45": "GX", "46": "HI", "50": "CQ", "51": "SC", "52": "GZ",
    "53": "YN", "54": "XZ", "61": "SN", "62": "GS", "63": "QH", "64": "NX", "65": "XJ",
}  # fmt: skip


def scope_codes(region_code: str) -> tuple[str, str]:
    """(province, city) GB/T 2260 codes of a region: 330106 -> (330000, 330100)."""
    return region_code[:2] + "0000", region_code[:4] + "00"


# --------------------------------------------------------------------------------------------
# Access checks
# --------------------------------------------------------------------------------------------


def _case_not_found() -> NotFound:
    return NotFound(Code.CASE_NOT_FOUND, _("No such case."))


def office_scope(user: Any) -> StaffScope:
    """The staff scope of someone who handles practitioner cases; PermissionDenied otherwise."""
    from yunzheng.accounts.permissions import authorize

    return authorize(user, "office.case.handle")


def _require_staff_covers(user: User, case: ServiceCase) -> None:
    from yunzheng.accounts.permissions import authorize

    authorize(user, "office.case.handle", region_code=case.region_code)


def _lock_case(case: ServiceCase | int) -> ServiceCase:
    pk = case.pk if isinstance(case, ServiceCase) else case
    locked = ServiceCase.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise _case_not_found()
    return locked


def _lock_own_case(case: ServiceCase | int, applicant: User) -> ServiceCase:
    locked = _lock_case(case)
    if locked.applicant_id != applicant.pk:
        raise _case_not_found()
    return locked


def _lock_own_draft(case: ServiceCase | int, applicant: User) -> ServiceCase:
    ensure_real_name_verified(applicant)
    locked = _lock_own_case(case, applicant)
    if locked.state != CaseState.DRAFT:
        raise Conflict(
            Code.NOT_A_DRAFT, _("This application has been submitted and can no longer be edited.")
        )
    return locked


# --------------------------------------------------------------------------------------------
# Transitions
# --------------------------------------------------------------------------------------------


def _service_label(case: ServiceCase) -> str:
    return str(CaseType(case.case_type).label)


def _notify(case: ServiceCase, text: str) -> None:
    phone = case.applicant.phone
    if phone:
        send_sms_on_commit(
            phone=phone,
            text=text,
            template=f"office_case_{case.state}",
            params={"case": case.number or "", "state": case.state},
        )


def _transition(
    case: ServiceCase,
    *,
    action: Action,
    role: Role,
    actor_user: User | None,
    actor: Actor,
    reason: str = "",
    now: dt.datetime,
    extra_after: Mapping[str, Any] | None = None,
) -> CaseState:
    """Move a locked case along the table; record it (CaseTransition + audit). The caller saves."""
    transition = workflow.find_transition(case_type=case.case_type, state=case.state, action=action)
    if transition is None or role not in transition.roles:
        raise Conflict(
            Code.TRANSITION_NOT_ALLOWED,
            _("This cannot be done while the case is “%(state)s”.") % {"state": CaseState(case.state).label},
        )
    if transition.reason_required and not reason.strip():
        raise ValidationFailed.single(
            field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason; the applicant will see it.")
        )
    source = CaseState(case.state)
    case.state = transition.target
    case.updated_at = now
    CaseTransition.objects.create(
        case=case,
        action=action,
        from_state=source,
        to_state=transition.target,
        actor=actor_user,
        actor_role=role,
        reason=reason,
        at=now,
    )
    record_audit(
        actor=actor,
        action=f"office.case.{action}",
        target_type="office_case",
        target_id=case.pk,
        before={"state": source},
        after={"state": transition.target, "number": case.number, **(extra_after or {})},
        reason=reason,
    )
    return CaseState(transition.target)


def _due_text(day: dt.date | None) -> str:
    return day.isoformat() if day else _("(to be set once the holiday calendar is published)")


def _submitted_text(case: ServiceCase) -> str:
    return _(
        "[Road Transport Administration] Your application %(number)s (%(service)s) was submitted; "
        "the authority answers by %(due)s."
    ) % {"number": case.number, "service": _service_label(case), "due": _due_text(case.due_on)}
