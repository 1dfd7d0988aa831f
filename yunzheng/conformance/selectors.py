"""Reads of the conformance app, with who may see and do what.

* A company's members see the company's campaigns (self-service and official) and run their own
  self-service campaigns.
* Transport staff see the campaigns of companies registered in their region (``staff_scope``; the
  ministry sees all) and run official campaigns for those companies. Other departments' staff see
  nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company, StaffProfile
from yunzheng.accounts.scopes import StaffScope, staff_profile_of
from yunzheng.conformance.connectivity import connectivity_report
from yunzheng.conformance.error_codes import ConformanceErrorCode as Code
from yunzheng.conformance.grading import CHECK_CODES, Thresholds, grade_cycle
from yunzheng.conformance.models import Campaign, Cycle, SandboxBatch
from yunzheng.core.errors import NotFound, PermissionDenied


def regulator_scope(user: Any) -> StaffScope | None:
    """The scope of a transport-authority staff member (who may run official tests), else None."""
    profile = staff_profile_of(user)
    if profile is None or profile.department != StaffProfile.Department.TRANSPORT:
        return None
    return StaffScope(department=profile.department, level=profile.level, region_code=profile.region_code)


def is_staff(user: Any) -> bool:
    return staff_profile_of(user) is not None


def member_companies(user: Any) -> QuerySet[Company]:
    if not getattr(user, "is_authenticated", False):
        return Company.objects.none()
    return Company.objects.filter(memberships__user=user).distinct().order_by("name")


def scope_companies(scope: StaffScope) -> QuerySet[Company]:
    return Company.objects.filter(region_code__startswith=scope.region_prefix).order_by("name")


def member_company(*, user: Any, company_id: int) -> Company:
    company = member_companies(user).filter(pk=company_id).first()
    if company is None:
        raise NotFound(Code.COMPANY_NOT_FOUND, _("No such company."))
    return company


def regulated_company(*, user: Any, company_id: int) -> Company:
    scope = regulator_scope(user)
    if scope is None:
        raise PermissionDenied(Code.NOT_ALLOWED, _("Only transport authority staff run official tests."))
    company = scope_companies(scope).filter(pk=company_id).first()
    if company is None:
        raise NotFound(Code.COMPANY_NOT_FOUND, _("No such company in your region."))
    return company


def visible_campaigns(user: Any) -> QuerySet[Campaign]:
    """Campaigns the user may see (empty for anyone else)."""
    campaigns = Campaign.objects.select_related("company")
    scope = regulator_scope(user)
    if scope is not None:
        return campaigns.filter(company__region_code__startswith=scope.region_prefix)
    if not getattr(user, "is_authenticated", False) or is_staff(user):
        return campaigns.none()
    return campaigns.filter(company__memberships__user=user).distinct()


def campaign_for_user(*, user: Any, campaign_id: int) -> Campaign:
    campaign = visible_campaigns(user).filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(Code.CAMPAIGN_NOT_FOUND, _("No such test campaign."))
    return campaign


def cycle_for_user(*, user: Any, cycle_id: int) -> Cycle:
    cycle = (
        Cycle.objects.select_related("campaign", "campaign__company")
        .filter(pk=cycle_id, campaign__in=visible_campaigns(user))
        .first()
    )
    if cycle is None:
        raise NotFound(Code.CYCLE_NOT_FOUND, _("No such test cycle."))
    return cycle


def can_run(user: Any, campaign: Campaign) -> bool:
    """Whether the user opens and closes cycles of this campaign: the company's members for a
    self-service campaign, transport staff covering the company for an official one."""
    if campaign.kind == Campaign.Kind.OFFICIAL:
        scope = regulator_scope(user)
        return scope is not None and campaign.company.region_code.startswith(scope.region_prefix)
    if not getattr(user, "is_authenticated", False) or is_staff(user):
        return False
    return campaign.company.memberships.filter(user=user).exists()


def open_cycle_of(company: Company) -> Cycle | None:
    return Cycle.objects.select_related("campaign").filter(company=company, status=Cycle.Status.OPEN).first()


def uploads_outside_cycles(company: Company) -> int:
    """Sandbox records the company sent while no cycle was open (stored, not graded)."""
    return sum(
        SandboxBatch.objects.filter(company=company, cycle__isnull=True).values_list("received", flat=True)
    )


def cycle_report(cycle: Cycle) -> dict[str, Any]:
    """The report of a cycle: the kept snapshot once closed; computed live while it is open (the
    test sheet fills as the company uploads)."""
    if cycle.report is not None and cycle.status != Cycle.Status.OPEN:
        return dict(cycle.report)
    campaign = cycle.campaign
    if cycle.kind == Cycle.Kind.CONNECTIVITY:
        report = connectivity_report(cycle.pk, company_id=campaign.company.supervision_company_id)
    else:
        report = grade_cycle(
            cycle.pk, thresholds=Thresholds.from_dict(campaign.thresholds), replay=campaign.replay
        )
    report["live"] = True
    return report


@dataclass(frozen=True)
class ComparisonRow:
    code: str  # interface type or check code
    label: str
    cells: list[dict[str, Any] | None]  # per cycle: {"status", "detail"} or None (not in that cycle)


@dataclass(frozen=True)
class Comparison:
    cycles: list[Cycle]
    connectivity: list[ComparisonRow]
    consistency: list[ComparisonRow]


def campaign_comparison(campaign: Campaign) -> Comparison:
    """Closed cycles side by side: each interface (connectivity) and each check (consistency)
    with its status and counts per cycle."""
    cycles = list(campaign.cycles.exclude(report__isnull=True).order_by("number"))
    by_interface: dict[str, list[dict[str, Any] | None]] = {}
    labels: dict[str, str] = {}
    by_check: dict[str, list[dict[str, Any] | None]] = {code: [None] * len(cycles) for code in CHECK_CODES}
    for i, cycle in enumerate(cycles):
        report = cycle.report or {}
        if cycle.kind == Cycle.Kind.CONNECTIVITY:
            for row in report.get("interfaces", []):
                cells = by_interface.setdefault(row["type"], [None] * len(cycles))
                labels[row["type"]] = row.get("name_zh", "")
                cells[i] = {
                    "status": row["status"],
                    "detail": f"{row['accepted']}/{row['received']}",
                }
        else:
            for check in report.get("checks", []):
                cells = by_check.setdefault(check["code"], [None] * len(cycles))
                cells[i] = {"status": check["status"], "detail": f"{check['failed']}/{check['checked']}"}
    return Comparison(
        cycles=cycles,
        connectivity=[ComparisonRow(t, labels.get(t, ""), cells) for t, cells in by_interface.items()],
        consistency=[
            ComparisonRow(code, "", cells)
            for code, cells in by_check.items()
            if any(c is not None for c in cells)
        ],
    )


def company_bookings(company: Company) -> list[Any]:
    """The company's active licensing test appointments (licensing's selector)."""
    from yunzheng.licensing import selectors as licensing_selectors

    return [b for b in licensing_selectors.bookings_of(company) if b.status == "booked"]
