"""Reads of the licensing app: who may see and do what, queues, task lists, expiries.

Roles: a user's role towards an application is one of workflow's parties, derived from
accounts (company membership, or the staff profile's department, level and region):

* company: a member of the applying company (CompanyMembership);
* city_transport: transport staff at city level whose scope covers the application's city;
* province_transport: transport staff at province level covering the city;
* ministry: transport staff at ministry level (nationwide);
* public_security, pboc, tax, communications, cyberspace: that department's staff at province
  level covering the city (they review the online service capability).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company, CompanyMembership, ContactDesignation, StaffProfile
from yunzheng.accounts.permissions import allowed
from yunzheng.accounts.scopes import StaffScope, staff_profile_of
from yunzheng.core.clock import today_in_china
from yunzheng.core.errors import NotFound, PermissionDenied
from yunzheng.licensing import deadlines
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import (
    REVIEW_DEPARTMENTS,
    TERMINAL_STEPS,
    CapabilityDetermination,
    CityQuota,
    ComplianceFlag,
    CreditBlacklistEntry,
    DepartmentReview,
    EvaluationAgency,
    LicenceApplication,
    Material,
    Notification,
    OperatingLicence,
    Party,
    SecurityEvaluation,
    Stage,
    StageTransition,
    Step,
    TestBooking,
    TestPassedDocument,
    TestSlotMonth,
)

Dept = StaffProfile.Department
Level = StaffProfile.Level


def scope_of(user: Any) -> StaffScope | None:
    profile = staff_profile_of(user)
    if profile is None:
        return None
    return StaffScope(department=profile.department, level=profile.level, region_code=profile.region_code)


def staff_party(scope: StaffScope) -> str | None:
    """The party a staff member acts as (independent of any application), or None."""
    if scope.department == Dept.TRANSPORT:
        return {
            Level.CITY: Party.CITY_TRANSPORT,
            Level.PROVINCE: Party.PROVINCE_TRANSPORT,
            Level.MINISTRY: Party.MINISTRY,
        }[Level(scope.level)]
    if scope.department in REVIEW_DEPARTMENTS and scope.level == Level.PROVINCE:
        return scope.department
    return None


def is_member(user: Any, company: Company) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return CompanyMembership.objects.filter(company=company, user_id=user.pk).exists()


def role_of(user: Any, application: LicenceApplication) -> str | None:
    """The party `user` acts as on `application`, or None (no business with it)."""
    scope = scope_of(user)
    if scope is None:
        return Party.COMPANY if is_member(user, application.company) else None
    party = staff_party(scope)
    if party is None or not (party == Party.MINISTRY or scope.covers(application.city_code)):
        return None
    return party


def _not_found() -> NotFound:
    return NotFound(Code.APPLICATION_NOT_FOUND, _("No such application."))


def application_for_user(*, user: Any, application_id: int) -> tuple[LicenceApplication, str]:
    """The application and the viewer's role; NotFound for anyone with no business with it, so
    ids cannot be probed. Department staff see applications in their region that reached review."""
    application = (
        LicenceApplication.objects.select_related("company", "company__contact_user")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise _not_found()
    role = role_of(user, application)
    if role is None:
        raise _not_found()
    if role in REVIEW_DEPARTMENTS and not department_review_open(user=user, application=application):
        raise _not_found()
    return application, role


#: What a reviewing department sees of a case: the materials it reviews, nothing else of the company.
DEPARTMENT_MATERIAL_KINDS = frozenset({Material.Kind.CAPABILITY})


def open_department_review(application: LicenceApplication, department: str) -> DepartmentReview | None:
    """The department's review of the case's open capability stage still waiting for its opinion."""
    return DepartmentReview.objects.filter(
        stage__application=application,
        stage__status=Stage.Status.OPEN,
        stage__kind=Step.CAPABILITY_REVIEW,
        department=department,
        reviewed_at__isnull=True,
    ).first()


def department_review_open(*, user: Any, application: LicenceApplication) -> bool:
    """`licensing.case.department_review` (accounts.permissions): a reviewing department of the
    case's province sees the case only while its own review is open — not before the materials
    reach it, not after it answered."""
    if not allowed(user, "licensing.case.department_review", region_code=application.province_code):
        return False
    scope = scope_of(user)
    return scope is not None and open_department_review(application, scope.department) is not None


def material_for_user(*, user: Any, material_id: int) -> Material:
    """A material of an application the user may see (``application_for_user``), else NotFound."""
    material = Material.objects.select_related("application").filter(pk=material_id).first()
    if material is None:
        raise NotFound(Code.APPLICATION_NOT_FOUND, _("No such file."))
    _application, role = application_for_user(user=user, application_id=material.application_id)
    if role in REVIEW_DEPARTMENTS and material.kind not in DEPARTMENT_MATERIAL_KINDS:
        raise NotFound(Code.APPLICATION_NOT_FOUND, _("No such file."))
    return material


def evaluation_for_user(*, user: Any, evaluation_id: int) -> SecurityEvaluation:
    """A security evaluation report for a member of its company, or for transport staff: the
    ministry, or a region where the company applied. Anyone else: NotFound."""
    evaluation = SecurityEvaluation.objects.select_related("company").filter(pk=evaluation_id).first()
    if evaluation is None:
        raise NotFound(Code.APPLICATION_NOT_FOUND, _("No such file."))
    visible = is_member(user, evaluation.company)
    scope = scope_of(user)
    if scope is not None and scope.department == "transport":
        visible = (
            scope.level == "ministry"
            or LicenceApplication.objects.filter(
                company=evaluation.company, city_code__startswith=scope.region_prefix
            ).exists()
        )
    if not visible:
        raise NotFound(Code.APPLICATION_NOT_FOUND, _("No such file."))
    return evaluation


def require_member(*, user: Any, company: Company) -> None:
    if not is_member(user, company):
        raise PermissionDenied(Code.NOT_A_MEMBER, _("You do not act for this company."))


def companies_of(user: Any) -> QuerySet[Company]:
    return (
        Company.objects.filter(memberships__user_id=user.pk).select_related("contact_user").order_by("name")
    )


def company_for_member(*, user: Any, company_id: int) -> Company:
    company = companies_of(user).filter(pk=company_id).first()
    if company is None:
        raise NotFound(Code.NOT_A_MEMBER, _("No such company among yours."))
    return company


def applications_of(company: Company) -> QuerySet[LicenceApplication]:
    """Every application of the company (callers check membership), newest first."""
    return LicenceApplication.objects.filter(company=company)


def waiting_for_test_booking(company: Company) -> LicenceApplication | None:
    return LicenceApplication.objects.filter(company=company, step=Step.TEST_BOOKING).first()


def stages_of(application: LicenceApplication) -> list[Stage]:
    return list(application.stages.all())


def materials_of(application: LicenceApplication) -> list[Material]:
    return list(application.materials.select_related("uploaded_by"))


def transitions_of(application: LicenceApplication) -> QuerySet[StageTransition]:
    return application.transitions.all()


def evaluations_of(company: Company) -> QuerySet[SecurityEvaluation]:
    return SecurityEvaluation.objects.filter(company=company)


def closed_city_quotas() -> QuerySet[CityQuota]:
    """Cities not accepting applications (public notices; shown to every company)."""
    return CityQuota.objects.filter(accepting=False)


def city_quotas(*, scope: StaffScope) -> QuerySet[CityQuota]:
    return CityQuota.objects.filter(city_code__startswith=scope.region_prefix)


def slot_month(*, slot_id: int) -> TestSlotMonth:
    slot = TestSlotMonth.objects.filter(pk=slot_id).first()
    if slot is None:
        raise NotFound(Code.BOOKING_MONTH_NOT_FOUND, _("No such month."))
    return slot


def recent_slot_months(*, limit: int = 24) -> list[TestSlotMonth]:
    return list(TestSlotMonth.objects.order_by("-month")[:limit])


def open_stage(application: LicenceApplication) -> Stage | None:
    return application.stages.filter(status=Stage.Status.OPEN).first()


def current_test_document(company: Company) -> TestPassedDocument | None:
    return TestPassedDocument.objects.filter(company=company).order_by("-issued_on", "-id").first()


def current_evaluations(company: Company) -> dict[str, SecurityEvaluation]:
    """The latest evaluation of each kind (by issue date)."""
    latest: dict[str, SecurityEvaluation] = {}
    for evaluation in SecurityEvaluation.objects.filter(company=company).order_by(
        "kind", "-issued_on", "-id"
    ):
        latest.setdefault(evaluation.kind, evaluation)
    return latest


@dataclass(frozen=True)
class EvaluationStatus:
    kind: str
    label: str
    evaluation: SecurityEvaluation | None
    valid: bool
    days_left: int | None


def evaluation_statuses(company: Company, *, on: dt.date) -> list[EvaluationStatus]:
    latest = current_evaluations(company)
    statuses = []
    for kind, label in SecurityEvaluation.Kind.choices:
        evaluation = latest.get(kind)
        valid = evaluation is not None and deadlines.is_valid_on(evaluation.valid_until, on)
        left = deadlines.days_left(evaluation.valid_until, on) if evaluation else None
        statuses.append(EvaluationStatus(kind, str(label), evaluation, valid, left))
    return statuses


def expiring_evaluations(*, scope: StaffScope, on: dt.date, within_days: int) -> QuerySet[SecurityEvaluation]:
    """Evaluations ending within `within_days` (or already ended) of companies in the scope."""
    limit = on + dt.timedelta(days=within_days)
    queryset = SecurityEvaluation.objects.filter(valid_until__isnull=False, valid_until__lte=limit)
    if scope.region_prefix:
        queryset = queryset.filter(
            Q(company__region_code__startswith=scope.region_prefix)
            | Q(company__licence_applications__city_code__startswith=scope.region_prefix)
        )
    return queryset.select_related("company").distinct().order_by("valid_until")


def expiring_test_documents(
    *, scope: StaffScope, on: dt.date, within_days: int
) -> QuerySet[TestPassedDocument]:
    limit = on + dt.timedelta(days=within_days)
    queryset = TestPassedDocument.objects.filter(
        valid_until__lte=limit, valid_until__gte=on - dt.timedelta(days=30)
    )
    if scope.region_prefix:
        queryset = queryset.filter(
            Q(company__region_code__startswith=scope.region_prefix)
            | Q(company__licence_applications__city_code__startswith=scope.region_prefix)
        )
    return queryset.select_related("company").distinct().order_by("valid_until")


def applications_in_scope(scope: StaffScope) -> QuerySet[LicenceApplication]:
    queryset = LicenceApplication.objects.select_related("company")
    if scope.region_prefix:
        queryset = queryset.filter(city_code__startswith=scope.region_prefix)
    return queryset


def staff_queue(*, scope: StaffScope) -> QuerySet[Stage]:
    """Open stages this staff member's office must act on, earliest due first."""
    party = staff_party(scope)
    if party is None or party in REVIEW_DEPARTMENTS:
        return Stage.objects.none()
    queryset = Stage.objects.filter(status=Stage.Status.OPEN, responsible=party).select_related(
        "application", "application__company"
    )
    if scope.region_prefix:
        queryset = queryset.filter(application__city_code__startswith=scope.region_prefix)
    return queryset.order_by("due_on", "opened_at")


def department_queue(*, scope: StaffScope) -> QuerySet[DepartmentReview]:
    """Capability reviews waiting for this department's opinion (province level)."""
    if scope.department not in REVIEW_DEPARTMENTS or scope.level != Level.PROVINCE:
        return DepartmentReview.objects.none()
    return (
        DepartmentReview.objects.filter(
            department=scope.department,
            region_code=scope.region_code,
            reviewed_at__isnull=True,
            stage__status=Stage.Status.OPEN,
        )
        .select_related("stage", "stage__application", "stage__application__company")
        .order_by("due_on", "requested_at")
    )


def notifications_for_user(user: Any, *, limit: int = 20) -> list[Notification]:
    scope = scope_of(user)
    if scope is not None:
        queryset = Notification.objects.filter(
            department=scope.department, level=scope.level, region_code=scope.region_code
        )
    else:
        queryset = Notification.objects.filter(
            Q(recipient_user_id=user.pk) | Q(recipient_company__memberships__user_id=user.pk)
        )
    return list(queryset.select_related("recipient_company").order_by("-created_at", "-id")[:limit])


def slot_months(*, on: dt.date) -> QuerySet[TestSlotMonth]:
    """Months whose tests have not ended yet, soonest first."""
    return TestSlotMonth.objects.filter(month__gte=on.replace(day=1)).order_by("month")


def bookings_of(company: Company) -> QuerySet[TestBooking]:
    return TestBooking.objects.filter(company=company).select_related("slot_month").order_by("-created_at")


def licences_of(company: Company) -> QuerySet[OperatingLicence]:
    return OperatingLicence.objects.filter(company=company).order_by("-issued_at")


@dataclass
class TaskView:
    """What the company's task list shows for one application."""

    application: LicenceApplication
    stage: Stage | None
    waiting_on: str
    next_action: str
    due_on: dt.date | None
    days_left: int | None
    test_document: TestPassedDocument | None
    test_document_expired: bool
    evaluations: list[EvaluationStatus] = field(default_factory=list)
    due_provisional: bool = False


def task_view(application: LicenceApplication, *, on: dt.date) -> TaskView:
    stage = open_stage(application)
    document = current_test_document(application.company)
    expired = document is not None and not deadlines.is_valid_on(document.valid_until, on)
    if stage is None:
        waiting, next_action = "", ""
    else:
        waiting = str(Party(stage.responsible).label)
        next_action = str(Step(stage.kind).label)
    return TaskView(
        application=application,
        stage=stage,
        waiting_on=str(waiting),
        next_action=str(next_action),
        due_on=stage.due_on if stage else None,
        days_left=deadlines.days_left(stage.due_on, on) if stage else None,
        test_document=document,
        test_document_expired=expired,
        evaluations=evaluation_statuses(application.company, on=on),
        due_provisional=bool(stage and stage.due_provisional),
    )


def applications_for_user(*, user: Any) -> QuerySet[LicenceApplication]:
    """The applications of the companies ``user`` acts for (the API's task list)."""
    return LicenceApplication.objects.filter(company__in=companies_of(user)).select_related("company")


def open_applications_of(company: Company) -> QuerySet[LicenceApplication]:
    return LicenceApplication.objects.filter(company=company).exclude(step__in=TERMINAL_STEPS)


def active_booking(application: LicenceApplication) -> TestBooking | None:
    return (
        TestBooking.objects.filter(application=application, status=TestBooking.Status.BOOKED)
        .select_related("slot_month")
        .order_by("-created_at")
        .first()
    )


def department_reviews(stage: Stage | None) -> list[DepartmentReview]:
    if stage is None or stage.kind != Step.CAPABILITY_REVIEW:
        return []
    return list(stage.department_reviews.select_related("reviewer").order_by("id"))


@dataclass(frozen=True)
class WorkbenchCounts:
    steps: int
    steps_overdue: int
    reviews: int
    reviews_overdue: int
    acts_as_party: bool  # False: this staff member has no part in licensing


def staff_workbench_counts(user: Any) -> WorkbenchCounts:
    """Workbench badges: open steps this office must act on and department reviews waiting for
    this department's opinion, each with how many are past their statutory due date."""
    scope = scope_of(user)
    if scope is None or staff_party(scope) is None:
        return WorkbenchCounts(0, 0, 0, 0, acts_as_party=False)
    on = today_in_china()
    steps, reviews = staff_queue(scope=scope), department_queue(scope=scope)
    return WorkbenchCounts(
        steps=steps.count(),
        steps_overdue=steps.filter(due_on__lt=on).count(),
        reviews=reviews.count(),
        reviews_overdue=reviews.filter(due_on__lt=on).count(),
        acts_as_party=True,
    )


def compliance_flags_in_scope(scope: StaffScope) -> QuerySet[ComplianceFlag]:
    """Open compliance flags of companies holding a valid licence in the staff member's region
    (the city transport authority and the police see their cities; the ministry everything)."""
    queryset = ComplianceFlag.objects.filter(cleared_at__isnull=True)
    if scope.region_prefix:
        queryset = queryset.filter(company__operating_licences__city_code__startswith=scope.region_prefix)
    return queryset.select_related("company", "lapsed_evaluation").distinct().order_by("-raised_at")


def compliance_flags_of(company: Company) -> QuerySet[ComplianceFlag]:
    return ComplianceFlag.objects.filter(company=company, cleared_at__isnull=True).order_by("-raised_at")


# --------------------------------------------------------------------------------------------
# Registers and documents the staff and company pages read
# --------------------------------------------------------------------------------------------


def determination_with_cases(*, pk: int) -> tuple[CapabilityDetermination | None, list[int]]:
    """A capability determination and the applications it belongs to: the national case that
    made it and the local cases that refer to it (who may see any of them may see it)."""
    determination = CapabilityDetermination.objects.select_related("company").filter(pk=pk).first()
    if determination is None:
        return None, []
    local = LicenceApplication.objects.filter(determination=determination).values_list("pk", flat=True)
    return determination, [determination.application_id, *local]


def contact_designation(*, company_id: int, designation_id: int) -> ContactDesignation | None:
    return ContactDesignation.objects.filter(pk=designation_id, company_id=company_id).first()


def blacklist_entries() -> QuerySet[CreditBlacklistEntry]:
    """The credit blacklist, newest first."""
    return CreditBlacklistEntry.objects.select_related("company", "recorded_by").order_by("-recorded_at")


def blacklist_entry(*, pk: int) -> CreditBlacklistEntry | None:
    return CreditBlacklistEntry.objects.filter(pk=pk).first()


def evaluation_agencies() -> QuerySet[EvaluationAgency]:
    return EvaluationAgency.objects.all()
