"""Who may take which staff action: ONE declarative table (department × level × action, plus a
region rule) and ONE function every service calls before a staff action.

    from yunzheng.accounts.permissions import authorize

    def traffic_pass_approve(*, application, staff_user, ...):
        authorize(staff_user, "traffic_pass.review", region_code=application.region_code)

`authorize` answers PermissionDenied with a stable code: `staff.required` (not staff),
`staff.action_not_allowed` (department or level not in the table), `staff.out_of_scope` (the
item's region fails the rule). The same table renders `docs/permissions.md`
(`manage.py permissions_table --write`) and the administrators' page `/accounts/staff/permissions/`.
Conditions that depend on an item's state (a booking held, a review open) are named in the table
and checked by the service right after `authorize`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from yunzheng.accounts.models import StaffProfile
from yunzheng.accounts.scopes import StaffScope, staff_scope
from yunzheng.core.errors import PermissionDenied

D = StaffProfile.Department
L = StaffProfile.Level

ACTION_NOT_ALLOWED = "staff.action_not_allowed"
OUT_OF_SCOPE = "staff.out_of_scope"

# Region rules: how the staff member's region must relate to the item's.
COVERS = "covers"  # the item's region lies within the staff member's (ministry: everywhere)
SAME_CITY = "same_city"  # city-level staff of the item's city (a municipality's: province level)
NATIONWIDE = "nationwide"  # no regional condition (ministry-level actions)
SAME_REGION = "same_region"  # the staff member's own region exactly (e.g. a province's review)

REGION_RULES = {
    COVERS: "item's region within the staff member's region",
    SAME_CITY: "the item's city, city level (municipalities 11/12/31/50: their province-level code)",
    NATIONWIDE: "nationwide",
    SAME_REGION: "exactly the staff member's region",
}

ALL_LEVELS = frozenset(L.values)
#: Beijing, Tianjin, Shanghai, Chongqing: cities at province level (GB/T 2260 "xx0000").
MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
REVIEWING_DEPARTMENTS = frozenset({D.PUBLIC_SECURITY, D.PBOC, D.TAX, D.COMMUNICATIONS, D.CYBERSPACE})


@dataclass(frozen=True)
class Permission:
    action: str
    what: str  # English description (docs and the page)
    departments: frozenset[str]
    levels: frozenset[str]
    region: str
    personal_data: str  # "none" | "masked" | "full, audited"
    condition: str = ""  # a state condition the service checks after authorize


PERMISSIONS: tuple[Permission, ...] = (
    Permission(
        "realname.review",
        "Review real-name verifications (approve, reject, see the ID photo)",
        frozenset({D.TRANSPORT, D.PUBLIC_SECURITY}),
        ALL_LEVELS,
        COVERS,
        "full, audited",
    ),
    Permission(
        "office.case.handle",
        "Handle practitioner (One-Network Office) cases: accept, decide, see materials",
        frozenset({D.TRANSPORT}),
        ALL_LEVELS,
        COVERS,
        "full, audited",
    ),
    Permission(
        "office.contact.maintain",
        "Keep the provincial business managers drivers see under 联系我们 (add, remove)",
        frozenset({D.TRANSPORT}),
        frozenset({L.PROVINCE, L.MINISTRY}),
        COVERS,
        "none",
    ),
    Permission(
        "traffic_pass.review",
        "Review traffic passes: data review, approve, reject, revoke",
        frozenset({D.PUBLIC_SECURITY}),
        frozenset({L.CITY, L.PROVINCE}),
        SAME_CITY,
        "full, audited",
    ),
    Permission(
        "elicense.licence.status",
        "Suspend, revoke or reinstate an electronic licence (the issuing authority's registry)",
        frozenset({D.TRANSPORT}),
        frozenset({L.CITY, L.PROVINCE}),
        COVERS,
        "masked",
        "the licence's issuing region",
    ),
    Permission(
        "elicense.licence.view",
        "See an electronic licence in full at the staff desk (holder's name and ID number; downloads)",
        frozenset({D.TRANSPORT, D.PUBLIC_SECURITY}),
        ALL_LEVELS,
        COVERS,
        "full, audited",
        "the licence's issuing region",
    ),
    Permission(
        "registry.view",
        "Browse the registries (certificates, vehicles, violations, inspections, operating licences, "
        "credit results) and information-verification requests",
        frozenset({D.TRANSPORT}),
        ALL_LEVELS,
        COVERS,
        "masked",
    ),
    Permission(
        "registry.maintain",
        "Registry decisions: suspend/revoke certificates and vehicle certificates, remedy violations, "
        "record inspections and credit results, answer information-verification requests",
        frozenset({D.TRANSPORT}),
        frozenset({L.CITY, L.PROVINCE}),
        COVERS,
        "masked",
        "revocation and cancellation are final",
    ),
    Permission(
        "registry.operating_licence.maintain",
        "Issue, change, renew, suspend, reinstate, revoke or cancel a platform operating licence",
        frozenset({D.TRANSPORT}),
        frozenset({L.CITY, L.PROVINCE}),
        SAME_CITY,
        "none",
        "revoked and cancelled licences are final",
    ),
    Permission(
        "licensing.test.official_start",
        "Start an official access test of a platform company",
        frozenset({D.TRANSPORT}),
        frozenset({L.MINISTRY}),
        NATIONWIDE,
        "none",
        "the company holds a test booking of the current month",
    ),
    Permission(
        "licensing.test.record_result",
        "Record the result of an access test",
        frozenset({D.TRANSPORT}),
        frozenset({L.MINISTRY}),
        NATIONWIDE,
        "none",
        "the application is at the test step",
    ),
    Permission(
        "licensing.test_document.issue",
        "Issue the test-passed document",
        frozenset({D.TRANSPORT}),
        frozenset({L.MINISTRY}),
        NATIONWIDE,
        "none",
    ),
    Permission(
        "licensing.case.department_review",
        "Give a department's opinion on a licensing case and see its materials",
        REVIEWING_DEPARTMENTS,
        frozenset({L.PROVINCE}),
        SAME_REGION,
        "masked",
        "only the case's materials, only while the department's review is open",
    ),
    Permission(
        "licensing.step.act",
        "Act on a licensing case's steps as the city, provincial or ministry transport authority",
        frozenset({D.TRANSPORT}),
        ALL_LEVELS,
        COVERS,
        "masked",
        "the step waits for the staff member's authority",
    ),
    Permission(
        "alarm.handle",
        "Acknowledge, assign and close real-time alarms of the region",
        frozenset({D.TRANSPORT, D.PUBLIC_SECURITY}),
        ALL_LEVELS,
        COVERS,
        "masked",
        "public security: SOS alarms only",
    ),
    Permission(
        "supervision.compute",
        "Recompute compliance analytics",
        frozenset({D.TRANSPORT}),
        ALL_LEVELS,
        COVERS,
        "none",
    ),
    Permission(
        "calendar.maintain",
        "Maintain the statutory calendar",
        frozenset({D.TRANSPORT}),
        frozenset({L.PROVINCE, L.MINISTRY}),
        NATIONWIDE,
        "none",
    ),
    Permission(
        "registry.import",
        "Import registry records (qualification certificates, vehicles, violations, annual "
        "inspections) from files or batches",
        frozenset({D.TRANSPORT}),
        ALL_LEVELS,
        COVERS,
        "full, audited",
        "rows outside the staff member's region are rejected",
    ),
    Permission(
        "registry.credential.manage",
        "Issue and revoke the registry-feed credentials of provincial systems",
        frozenset({D.TRANSPORT}),
        frozenset({L.PROVINCE, L.MINISTRY}),
        COVERS,
        "none",
    ),
    Permission(
        "permissions.view",
        "See this permission table",
        frozenset({D.TRANSPORT}),
        frozenset({L.PROVINCE, L.MINISTRY}),
        NATIONWIDE,
        "none",
    ),
)

_BY_ACTION = {p.action: p for p in PERMISSIONS}


def permission(action: str) -> Permission:
    try:
        return _BY_ACTION[action]
    except KeyError:
        raise LookupError(f"unknown staff action {action!r}: add it to PERMISSIONS") from None


def region_allows(scope: StaffScope, rule: str, region_code: str | None) -> bool:
    if rule == NATIONWIDE or region_code is None:  # None: a listing, filtered by scope afterwards
        return True
    if not region_code:
        return False
    if rule == COVERS:
        return scope.covers(region_code)
    if rule == SAME_CITY:
        municipal = scope.level == L.PROVINCE and scope.region_code[:2] in MUNICIPALITIES
        return (scope.level == L.CITY or municipal) and scope.covers(region_code)
    if rule == SAME_REGION:
        return scope.region_code == region_code
    raise LookupError(rule)


def check(scope: StaffScope, action: str, *, region_code: str | None = None) -> str | None:
    """The refusal code for `scope` taking `action` on an item in `region_code`, or None."""
    rule = permission(action)
    if scope.department not in rule.departments or scope.level not in rule.levels:
        return ACTION_NOT_ALLOWED
    if not region_allows(scope, rule.region, region_code):
        return OUT_OF_SCOPE
    return None


def authorize(user: Any, action: str, *, region_code: str | None = None) -> StaffScope:
    """THE check before a staff action: the user's scope if the table allows it, else
    PermissionDenied (`staff.required`, `staff.action_not_allowed` or `staff.out_of_scope`).
    A service acting on an item passes the item's region; `region_code=None` checks department
    and level only (queues, which then filter by the scope's region)."""
    scope = staff_scope(user)
    refusal = check(scope, action, region_code=region_code)
    if refusal == ACTION_NOT_ALLOWED:
        raise PermissionDenied(ACTION_NOT_ALLOWED, _("Your department or level may not do this."))
    if refusal == OUT_OF_SCOPE:
        raise PermissionDenied(OUT_OF_SCOPE, _("This is outside your region."))
    return scope


def allowed(user: Any, action: str, *, region_code: str | None = None) -> bool:
    try:
        authorize(user, action, region_code=region_code)
    except PermissionDenied:
        return False
    return True


def markdown_table() -> str:
    """The table as Markdown (docs/permissions.md; also what `permissions_table` prints)."""
    departments = list(D.values)
    levels = list(L.values)
    lines = [
        "# Staff permissions",
        "",
        "Generated from `yunzheng/accounts/permissions.py` by `manage.py permissions_table --write`;",
        "a test fails when this file is stale. Every service taking a staff action calls",
        "`authorize(user, action, region_code=...)` with the action named here.",
        "",
        "| action | what | departments | levels | region rule | personal data | condition |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p in PERMISSIONS:
        lines.append(
            f"| `{p.action}` | {p.what} | {', '.join(d for d in departments if d in p.departments)} | "
            f"{', '.join(lv for lv in levels if lv in p.levels)} | {REGION_RULES[p.region]} | "
            f"{p.personal_data} | {p.condition or '-'} |"
        )
    lines += ["", "## Grid (✓: allowed, subject to the region rule)", ""]
    header = "| action | " + " | ".join(f"{d}/{lv}" for d in departments for lv in levels) + " |"
    lines += [header, "| --- |" + " --- |" * (len(departments) * len(levels))]
    for p in PERMISSIONS:
        cells = ["✓" if d in p.departments and lv in p.levels else "" for d in departments for lv in levels]
        lines.append(f"| `{p.action}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
