"""The transition table: who may do what from which state."""

from __future__ import annotations

import pytest

from yunzheng.core.workflow import WorkflowTable
from yunzheng.practitioners.models import CaseState, CaseType
from yunzheng.practitioners.workflow import TABLE, TRANSITIONS, Action, Role, allowed_actions, find_transition


def test_each_state_and_action_has_one_transition() -> None:
    # The table refuses two transitions for one (state, action, case type) when it is built.
    assert TABLE.transitions == TRANSITIONS
    with pytest.raises(ValueError, match="two transitions"):
        WorkflowTable([*TRANSITIONS, TRANSITIONS[0]])


def test_withdraw_only_before_acceptance() -> None:
    for state in CaseState:
        transition = find_transition(case_type=CaseType.RENEWAL, state=state, action=Action.WITHDRAW)
        assert (transition is not None) == (state == CaseState.SUBMITTED), state


def test_negative_outcomes_need_a_reason() -> None:
    for transition in TRANSITIONS:
        assert transition.reason_required == (transition.action in (Action.RETURN, Action.REJECT))


def test_staff_and_applicant_actions_are_separate() -> None:
    assert allowed_actions(case_type=CaseType.RENEWAL, state=CaseState.SUBMITTED, role=Role.APPLICANT) == [
        Action.WITHDRAW
    ]
    assert allowed_actions(case_type=CaseType.RENEWAL, state=CaseState.SUBMITTED, role=Role.STAFF) == [
        Action.ACCEPT,
        Action.REJECT,
    ]
    assert allowed_actions(case_type=CaseType.RENEWAL, state=CaseState.RETURNED, role=Role.APPLICANT) == [
        Action.SUPPLEMENT
    ]
    assert allowed_actions(case_type=CaseType.RENEWAL, state=CaseState.ACCEPTED, role=Role.STAFF) == [
        Action.RETURN,
        Action.REJECT,
        Action.APPROVE,
    ]


def test_verification_is_answered_not_accepted() -> None:
    kind = CaseType.INFO_VERIFICATION
    assert allowed_actions(case_type=kind, state=CaseState.SUBMITTED, role=Role.STAFF) == [
        Action.REJECT,
        Action.ANSWER,
    ]
    assert (
        find_transition(case_type=CaseType.RENEWAL, state=CaseState.SUBMITTED, action=Action.ANSWER) is None
    )


def test_final_states_have_no_way_out() -> None:
    for transition in TRANSITIONS:
        assert transition.source not in (CaseState.COMPLETED, CaseState.REJECTED, CaseState.WITHDRAWN)
