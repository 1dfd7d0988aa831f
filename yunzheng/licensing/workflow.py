"""The licensing state machine: one explicit table of every allowed (step, action) -> next step.

Services look a transition up here before changing anything; pages ask `allowed_actions` which
buttons to show. Self-loops (distribute, department review, extend) act inside a step without
opening a new Stage.

National path (经营许可 with the online service capability determination):

    quota_materials ─submit─▶ quota_review ─send_letter─▶ ministry_reply ─reply─▶ company_info
      ▲        └───────return──────┘                         └─refuse─▶ rejected
    company_info ─complete─▶ test_account ─open─▶ vpn_account ─open─▶ test_booking ─book─▶ test_run
    test_run ─fail─▶ test_booking (book again, next month)
    test_run ─pass─▶ capability_materials ─submit─▶ capability_intake ─forward─▶ capability_review
    capability_review ─approve─▶ evaluations │ ─revise─▶ capability_revision ─resubmit─▶ capability_review
                      └─reject─▶ rejected     └ (distribute, department_review, extend: self-loops)
    evaluations ─submit─▶ licence_decision ─grant─▶ granted │ ─refuse─▶ rejected

Local path (地牌, a second city): builds on the national result. The company refers to its valid
online-service-capability determination; no work contact letter, ministry reply, test accounts or
access test again. Only the local review, the local evaluations where the city requires them, and
the local licence:

    quota_materials ─submit─▶ local_review ─accept_local─▶ evaluations ─submit─▶ licence_decision
      ▲        └──────return_local────┘    └─accept_local_direct─▶ licence_decision (no local evaluations)

After the test, if the test-passed document expires before the licence is granted, `retest`
sends the application back to test_booking (company or the reminders command).
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yunzheng.core.workflow import Transition, WorkflowTable
from yunzheng.licensing.models import REVIEW_DEPARTMENTS, LicencePath, Party, Phase, Step


class Action(StrEnum):
    SUBMIT_QUOTA = "submit_quota"
    RETURN_QUOTA = "return_quota"
    ACCEPT_LOCAL = "accept_local"
    ACCEPT_LOCAL_DIRECT = "accept_local_direct"
    RETURN_LOCAL = "return_local"
    SEND_LETTER = "send_letter"
    MINISTRY_REPLY = "ministry_reply"
    MINISTRY_REFUSE = "ministry_refuse"
    COMPLETE_INFO = "complete_info"
    OPEN_TEST_ACCOUNT = "open_test_account"
    OPEN_VPN_ACCOUNT = "open_vpn_account"
    BOOK_TEST = "book_test"
    TEST_PASSED = "test_passed"
    TEST_PASSED_RESUME = "test_passed_resume"
    TEST_FAILED = "test_failed"
    SUBMIT_CAPABILITY = "submit_capability"
    FORWARD_TO_PROVINCE = "forward_to_province"
    RETURN_CAPABILITY = "return_capability"
    DISTRIBUTE = "distribute"
    DEPARTMENT_REVIEW = "department_review"
    EXTEND = "extend"
    APPROVE_CAPABILITY = "approve_capability"
    REVISE_CAPABILITY = "revise_capability"
    REJECT_CAPABILITY = "reject_capability"
    RESUBMIT_CAPABILITY = "resubmit_capability"
    LAPSE_REVISION = "lapse_revision"
    SUBMIT_EVALUATIONS = "submit_evaluations"
    GRANT = "grant"
    REFUSE = "refuse"
    RETEST = "retest"
    WITHDRAW = "withdraw"


ACTION_LABELS: dict[str, Promise] = {
    "create": _("Application created"),
    Action.SUBMIT_QUOTA: _("Quota materials submitted"),
    Action.RETURN_QUOTA: _("Quota materials returned"),
    Action.ACCEPT_LOCAL: _("Local review passed: present the evaluations"),
    Action.ACCEPT_LOCAL_DIRECT: _("Local review passed: to the decision"),
    Action.RETURN_LOCAL: _("Local materials returned"),
    Action.SEND_LETTER: _("Work contact letter sent to the ministry"),
    Action.MINISTRY_REPLY: _("Ministry replied"),
    Action.MINISTRY_REFUSE: _("Ministry refused"),
    Action.COMPLETE_INFO: _("Company information completed"),
    Action.OPEN_TEST_ACCOUNT: _("Test account opened"),
    Action.OPEN_VPN_ACCOUNT: _("VPN account opened"),
    Action.BOOK_TEST: _("Test appointment booked"),
    Action.TEST_PASSED: _("Tests passed"),
    Action.TEST_PASSED_RESUME: _("Tests passed again"),
    Action.TEST_FAILED: _("Tests failed"),
    Action.SUBMIT_CAPABILITY: _("Capability materials submitted to the city window"),
    Action.FORWARD_TO_PROVINCE: _("Materials passed to the province"),
    Action.RETURN_CAPABILITY: _("Materials returned by the city's initial review"),
    Action.DISTRIBUTE: _("Distributed to the five departments"),
    Action.DEPARTMENT_REVIEW: _("Department opinion recorded"),
    Action.EXTEND: _("Review period extended"),
    Action.APPROVE_CAPABILITY: _("Online service capability approved"),
    Action.REVISE_CAPABILITY: _("Revision requested"),
    Action.REJECT_CAPABILITY: _("Online service capability rejected"),
    Action.RESUBMIT_CAPABILITY: _("Revised materials resubmitted"),
    Action.LAPSE_REVISION: _("Closed: no resubmission in time"),
    Action.SUBMIT_EVALUATIONS: _("Security evaluations presented"),
    Action.GRANT: _("Licence granted"),
    Action.REFUSE: _("Licence refused"),
    Action.RETEST: _("Test document expired: test again"),
    Action.WITHDRAW: _("Withdrawn by the company"),
}

SYSTEM = "system"
BOTH_PATHS = frozenset(LicencePath)
NATIONAL_ONLY = frozenset({LicencePath.NATIONAL})
LOCAL_ONLY = frozenset({LicencePath.LOCAL})


def _t(
    source: Step,
    action: Action,
    target: Step,
    *roles: str,
    paths: frozenset[str] = BOTH_PATHS,
    reason_required: bool = False,
) -> Transition:
    return Transition(source, action, target, frozenset(roles), frozenset(paths), reason_required)


S = Step
P = Party
_AFTER_TEST = (S.CAPABILITY_MATERIALS, S.CAPABILITY_INTAKE, S.CAPABILITY_REVIEW, S.CAPABILITY_REVISION)
_AFTER_TEST_BOTH = (S.EVALUATIONS, S.LICENCE_DECISION)
_OPEN_STEPS = tuple(s for s in Step if s not in (S.GRANTED, S.REJECTED, S.WITHDRAWN))

TRANSITIONS: tuple[Transition, ...] = (
    _t(S.QUOTA_MATERIALS, Action.SUBMIT_QUOTA, S.QUOTA_REVIEW, P.COMPANY, paths=NATIONAL_ONLY),
    # Local licence (地牌): the second city's own review replaces the letter, reply, accounts, test.
    _t(S.QUOTA_MATERIALS, Action.SUBMIT_QUOTA, S.LOCAL_REVIEW, P.COMPANY, paths=LOCAL_ONLY),
    _t(S.LOCAL_REVIEW, Action.ACCEPT_LOCAL, S.EVALUATIONS, P.CITY_TRANSPORT, paths=LOCAL_ONLY),
    _t(S.LOCAL_REVIEW, Action.ACCEPT_LOCAL_DIRECT, S.LICENCE_DECISION, P.CITY_TRANSPORT, paths=LOCAL_ONLY),
    _t(
        S.LOCAL_REVIEW,
        Action.RETURN_LOCAL,
        S.QUOTA_MATERIALS,
        P.CITY_TRANSPORT,
        paths=LOCAL_ONLY,
        reason_required=True,
    ),
    _t(
        S.QUOTA_REVIEW,
        Action.RETURN_QUOTA,
        S.QUOTA_MATERIALS,
        P.CITY_TRANSPORT,
        reason_required=True,
        paths=NATIONAL_ONLY,
    ),
    _t(S.QUOTA_REVIEW, Action.SEND_LETTER, S.MINISTRY_REPLY, P.CITY_TRANSPORT, paths=NATIONAL_ONLY),
    _t(S.MINISTRY_REPLY, Action.MINISTRY_REPLY, S.COMPANY_INFO, P.MINISTRY, paths=NATIONAL_ONLY),
    _t(
        S.MINISTRY_REPLY,
        Action.MINISTRY_REFUSE,
        S.REJECTED,
        P.MINISTRY,
        reason_required=True,
        paths=NATIONAL_ONLY,
    ),
    _t(S.COMPANY_INFO, Action.COMPLETE_INFO, S.TEST_ACCOUNT, P.COMPANY, paths=NATIONAL_ONLY),
    _t(S.TEST_ACCOUNT, Action.OPEN_TEST_ACCOUNT, S.VPN_ACCOUNT, P.MINISTRY, paths=NATIONAL_ONLY),
    _t(S.VPN_ACCOUNT, Action.OPEN_VPN_ACCOUNT, S.TEST_BOOKING, P.MINISTRY, paths=NATIONAL_ONLY),
    _t(S.TEST_BOOKING, Action.BOOK_TEST, S.TEST_RUN, P.COMPANY, paths=NATIONAL_ONLY),
    _t(S.TEST_RUN, Action.TEST_FAILED, S.TEST_BOOKING, P.MINISTRY, SYSTEM, paths=NATIONAL_ONLY),
    _t(S.TEST_RUN, Action.TEST_PASSED, S.CAPABILITY_MATERIALS, P.MINISTRY, SYSTEM, paths=NATIONAL_ONLY),
    # A re-test after an expired document: the capability determination already made still holds.
    _t(S.TEST_RUN, Action.TEST_PASSED_RESUME, S.EVALUATIONS, P.MINISTRY, SYSTEM, paths=NATIONAL_ONLY),
    _t(S.CAPABILITY_MATERIALS, Action.SUBMIT_CAPABILITY, S.CAPABILITY_INTAKE, P.COMPANY, paths=NATIONAL_ONLY),
    _t(S.CAPABILITY_INTAKE, Action.FORWARD_TO_PROVINCE, S.CAPABILITY_REVIEW, P.CITY_TRANSPORT),
    # The city's initial review (初审): accept (forward, above) or return with the reasons.
    _t(
        S.CAPABILITY_INTAKE,
        Action.RETURN_CAPABILITY,
        S.CAPABILITY_MATERIALS,
        P.CITY_TRANSPORT,
        reason_required=True,
    ),
    _t(S.CAPABILITY_REVIEW, Action.DISTRIBUTE, S.CAPABILITY_REVIEW, P.PROVINCE_TRANSPORT),
    _t(S.CAPABILITY_REVIEW, Action.DEPARTMENT_REVIEW, S.CAPABILITY_REVIEW, *REVIEW_DEPARTMENTS),
    _t(S.CAPABILITY_REVIEW, Action.EXTEND, S.CAPABILITY_REVIEW, P.PROVINCE_TRANSPORT, reason_required=True),
    _t(S.CAPABILITY_REVIEW, Action.APPROVE_CAPABILITY, S.EVALUATIONS, P.PROVINCE_TRANSPORT),
    _t(
        S.CAPABILITY_REVIEW,
        Action.REVISE_CAPABILITY,
        S.CAPABILITY_REVISION,
        P.PROVINCE_TRANSPORT,
        reason_required=True,
    ),
    _t(S.CAPABILITY_REVIEW, Action.REJECT_CAPABILITY, S.REJECTED, P.PROVINCE_TRANSPORT, reason_required=True),
    _t(S.CAPABILITY_REVISION, Action.RESUBMIT_CAPABILITY, S.CAPABILITY_REVIEW, P.COMPANY),
    _t(
        S.CAPABILITY_REVISION,
        Action.LAPSE_REVISION,
        S.REJECTED,
        P.PROVINCE_TRANSPORT,
        SYSTEM,  # the reminders command, when the week has passed
        reason_required=True,
    ),
    _t(S.EVALUATIONS, Action.SUBMIT_EVALUATIONS, S.LICENCE_DECISION, P.COMPANY),
    _t(S.LICENCE_DECISION, Action.GRANT, S.GRANTED, P.CITY_TRANSPORT),
    _t(S.LICENCE_DECISION, Action.REFUSE, S.REJECTED, P.CITY_TRANSPORT, reason_required=True),
    *(_t(s, Action.RETEST, S.TEST_BOOKING, P.COMPANY, SYSTEM, paths=NATIONAL_ONLY) for s in _AFTER_TEST),
    *(_t(s, Action.RETEST, S.TEST_BOOKING, P.COMPANY, SYSTEM, paths=NATIONAL_ONLY) for s in _AFTER_TEST_BOTH),
    *(_t(s, Action.WITHDRAW, S.WITHDRAWN, P.COMPANY, reason_required=True) for s in _OPEN_STEPS),
)
del S, P

# Variants are the licence paths (national / local).
TABLE = WorkflowTable(TRANSITIONS)

# Who must act while an application is in a step (the Stage's responsible party).
RESPONSIBLE: dict[str, str] = {
    Step.QUOTA_MATERIALS: Party.COMPANY,
    Step.QUOTA_REVIEW: Party.CITY_TRANSPORT,
    Step.LOCAL_REVIEW: Party.CITY_TRANSPORT,
    Step.MINISTRY_REPLY: Party.MINISTRY,
    Step.COMPANY_INFO: Party.COMPANY,
    Step.TEST_ACCOUNT: Party.MINISTRY,
    Step.VPN_ACCOUNT: Party.MINISTRY,
    Step.TEST_BOOKING: Party.COMPANY,
    Step.TEST_RUN: Party.MINISTRY,
    Step.CAPABILITY_MATERIALS: Party.COMPANY,
    Step.CAPABILITY_INTAKE: Party.CITY_TRANSPORT,
    Step.CAPABILITY_REVIEW: Party.PROVINCE_TRANSPORT,
    Step.CAPABILITY_REVISION: Party.COMPANY,
    Step.EVALUATIONS: Party.COMPANY,
    Step.LICENCE_DECISION: Party.CITY_TRANSPORT,
}

PHASE: dict[str, str] = {
    Step.QUOTA_MATERIALS: Phase.QUOTA,
    Step.QUOTA_REVIEW: Phase.QUOTA,
    Step.LOCAL_REVIEW: Phase.QUOTA,
    Step.MINISTRY_REPLY: Phase.MINISTRY,
    Step.COMPANY_INFO: Phase.MINISTRY,
    Step.TEST_ACCOUNT: Phase.MINISTRY,
    Step.VPN_ACCOUNT: Phase.MINISTRY,
    Step.TEST_BOOKING: Phase.TEST,
    Step.TEST_RUN: Phase.TEST,
    Step.CAPABILITY_MATERIALS: Phase.CAPABILITY,
    Step.CAPABILITY_INTAKE: Phase.CAPABILITY,
    Step.CAPABILITY_REVIEW: Phase.CAPABILITY,
    Step.CAPABILITY_REVISION: Phase.CAPABILITY,
    Step.EVALUATIONS: Phase.EVALUATIONS,
    Step.LICENCE_DECISION: Phase.DECISION,
    Step.GRANTED: Phase.DECISION,
    Step.REJECTED: Phase.DECISION,
    Step.WITHDRAWN: Phase.DECISION,
}

# Steps after the test: on the national path they must finish while the test-passed document is
# valid (the local path builds on the national result and has no test of its own).
STEPS_NEEDING_TEST_DOCUMENT = frozenset(
    {
        Step.CAPABILITY_MATERIALS,
        Step.CAPABILITY_INTAKE,
        Step.CAPABILITY_REVIEW,
        Step.CAPABILITY_REVISION,
        Step.EVALUATIONS,
        Step.LICENCE_DECISION,
    }
)


def phases_for(path: str) -> list[Phase]:
    phases = list(Phase)
    if path == LicencePath.NATIONAL:
        return phases
    return [p for p in phases if p not in (Phase.MINISTRY, Phase.TEST, Phase.CAPABILITY)]


def find_transition(*, path: str, step: str, action: str) -> Transition | None:
    return TABLE.find(state=step, action=action, variant=path)


def allowed_actions(*, path: str, step: str, role: str) -> list[Action]:
    """Actions `role` may take on an application in `step`, in table order (for buttons)."""
    return [Action(a) for a in TABLE.allowed_actions(state=step, role=role, variant=path)]
