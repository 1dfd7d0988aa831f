"""The case state machine: one explicit table of every allowed (state, action) -> new state.

Services look a transition up here before changing anything; nothing else decides what may happen
next. Pages and the API ask `allowed_actions` which buttons to show.

    draft ──submit──▶ submitted ──accept──▶ accepted ──approve──▶ approved ──complete──▶ completed
                       │  │                  │   ▲  └──reject──▶ rejected
                       │  └─reject─▶ rejected│   └──supplement── returned ◀─return─┘
                       └─withdraw─▶ withdrawn (only before acceptance)

Information verification (核查) is answered by the issuing authority directly:
    submitted ──answer──▶ completed, or ──reject──▶ rejected (the data were right), or withdrawn.

Approval of a service that issues no new certificate (credit assessment, cancellation) completes
the case at once: `case_approve` records approve and then complete.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import pgettext_lazy

from yunzheng.core.workflow import Transition, WorkflowTable
from yunzheng.practitioners.models import CaseState, CaseType


class Action(StrEnum):
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    ACCEPT = "accept"
    RETURN = "return"
    SUPPLEMENT = "supplement"
    REJECT = "reject"
    APPROVE = "approve"
    COMPLETE = "complete"
    ANSWER = "answer"


class Role(StrEnum):
    APPLICANT = "applicant"
    STAFF = "staff"
    SYSTEM = "system"


ACTION_LABELS = {
    Action.SUBMIT: pgettext_lazy("case action", "Submitted"),
    Action.WITHDRAW: pgettext_lazy("case action", "Withdrawn by the applicant"),
    Action.ACCEPT: pgettext_lazy("case action", "Accepted"),
    Action.RETURN: pgettext_lazy("case action", "Returned for supplement"),
    Action.SUPPLEMENT: pgettext_lazy("case action", "Supplement submitted"),
    Action.REJECT: pgettext_lazy("case action", "Rejected"),
    Action.APPROVE: pgettext_lazy("case action", "Approved"),
    Action.COMPLETE: pgettext_lazy("case action", "Completed"),
    Action.ANSWER: pgettext_lazy("case action", "Answered"),
}

REGULAR_TYPES = frozenset(CaseType) - {CaseType.INFO_VERIFICATION}
VERIFICATION_TYPES = frozenset({CaseType.INFO_VERIFICATION})
ALL_TYPES = frozenset(CaseType)


def _t(
    source: CaseState,
    action: Action,
    target: CaseState,
    *roles: Role,
    case_types: frozenset[CaseType] = ALL_TYPES,
    reason_required: bool = False,
) -> Transition:
    return Transition(source, action, target, frozenset(roles), case_types, reason_required)


S = CaseState
TRANSITIONS: tuple[Transition, ...] = (
    _t(S.DRAFT, Action.SUBMIT, S.SUBMITTED, Role.APPLICANT),
    _t(S.SUBMITTED, Action.WITHDRAW, S.WITHDRAWN, Role.APPLICANT),
    _t(S.SUBMITTED, Action.ACCEPT, S.ACCEPTED, Role.STAFF, case_types=REGULAR_TYPES),
    # 不予受理: refused at acceptance, with a reason the applicant sees.
    _t(S.SUBMITTED, Action.REJECT, S.REJECTED, Role.STAFF, reason_required=True),
    _t(S.SUBMITTED, Action.ANSWER, S.COMPLETED, Role.STAFF, case_types=VERIFICATION_TYPES),
    _t(S.ACCEPTED, Action.RETURN, S.RETURNED, Role.STAFF, case_types=REGULAR_TYPES, reason_required=True),
    _t(S.RETURNED, Action.SUPPLEMENT, S.ACCEPTED, Role.APPLICANT, case_types=REGULAR_TYPES),
    _t(S.ACCEPTED, Action.REJECT, S.REJECTED, Role.STAFF, case_types=REGULAR_TYPES, reason_required=True),
    _t(S.ACCEPTED, Action.APPROVE, S.APPROVED, Role.STAFF, case_types=REGULAR_TYPES),
    _t(S.APPROVED, Action.COMPLETE, S.COMPLETED, Role.STAFF, Role.SYSTEM, case_types=REGULAR_TYPES),
)
del S

# Variants are the case types.
TABLE = WorkflowTable(TRANSITIONS)


def find_transition(*, case_type: str, state: str, action: Action) -> Transition | None:
    """The transition `action` takes from `state` for this case type, or None if not allowed."""
    return TABLE.find(state=CaseState(state), action=action, variant=CaseType(case_type))


def allowed_actions(*, case_type: str, state: str, role: Role) -> list[Action]:
    """Actions `role` may take on a case in `state`, in table order (for buttons and the API)."""
    return [Action(a) for a in TABLE.allowed_actions(state=state, role=role, variant=case_type)]
