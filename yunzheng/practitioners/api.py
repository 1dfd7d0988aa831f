"""JSON API of the One-Network Office for the mini-program and app clients (/api/v1/office/).

Authentication: a bearer token (POST /api/v1/auth/login) or the web session (with CSRF). Every
case endpoint looks the case up among the caller's own: another user's case is a 404, like one
that does not exist. Errors have the platform's one shape (core.api).

An application is built in steps, like the pages: create a draft (service, certificate,
agreement), save the form, choose a delivery when a new certificate results, upload each
material, submit. Then: list, detail (timeline, due dates, outcome), withdraw, supplement.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from yunzheng.accounts.auth import user_auth
from yunzheng.core.auth import current_user
from yunzheng.core.clock import today_in_china
from yunzheng.core.pagination import paginate
from yunzheng.practitioners import catalogue, selectors, services
from yunzheng.practitioners.models import CaseType, MaterialKind, QualificationCertificate, ServiceCase
from yunzheng.practitioners.workflow import ACTION_LABELS, Action

router = Router(tags=["office"])


# --------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------


class MaterialRequirementOut(Schema):
    kind: str
    label: str
    required: bool


class ServiceOut(Schema):
    case_type: str
    title: str
    summary: str
    instructions: list[str]
    materials: list[MaterialRequirementOut]
    issues_new_certificate: bool


class CategoryOut(Schema):
    category: str
    label: str
    status: str

    @staticmethod
    def resolve_label(grant: Any) -> str:
        return str(grant.get_category_display())


class CreditOut(Schema):
    cycle_year: int
    grade: str
    assessed_on: dt.date


class ViolationOut(Schema):
    occurred_on: dt.date
    description: str
    points: int


class CertificateOut(Schema):
    id: int
    number: str
    status: str
    categories: list[CategoryOut]
    issuing_authority: str
    region_code: str
    first_issued_on: dt.date
    valid_from: dt.date
    valid_until: dt.date
    service_unit: str
    violations: list[ViolationOut]
    credit_assessments: list[CreditOut]

    @staticmethod
    def resolve_status(certificate: QualificationCertificate) -> str:
        return certificate.status_on(today_in_china())

    @staticmethod
    def resolve_categories(certificate: QualificationCertificate) -> Any:
        return certificate.grants.all()

    @staticmethod
    def resolve_violations(certificate: QualificationCertificate) -> Any:
        return certificate.violations.all()

    @staticmethod
    def resolve_credit_assessments(certificate: QualificationCertificate) -> Any:
        return certificate.credit_assessments.all()


class _CaseFields(Schema):
    id: int
    number: str | None
    case_type: str
    service: str
    state: str
    state_label: str
    certificate_number: str
    submitted_at: dt.datetime | None
    due_on: dt.date | None
    # Counted on weekdays only across a year whose holidays are not published yet; recomputed.
    due_provisional: bool
    overdue: bool


class TransitionOut(Schema):
    action: str
    label: str
    from_state: str
    to_state: str
    by: str
    reason: str
    at: dt.datetime

    @staticmethod
    def resolve_label(transition: Any) -> str:
        return str(ACTION_LABELS.get(Action(transition.action), transition.action))

    @staticmethod
    def resolve_by(transition: Any) -> str:
        return str(transition.actor_role)


class MaterialOut(Schema):
    id: int
    kind: str
    label: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime

    @staticmethod
    def resolve_label(material: Any) -> str:
        return str(MaterialKind(material.kind).label)


class CaseSummaryOut(_CaseFields):
    """A case in a list, resolved from the model."""

    @staticmethod
    def resolve_id(case: ServiceCase) -> int:
        return case.pk

    @staticmethod
    def resolve_service(case: ServiceCase) -> str:
        return str(CaseType(case.case_type).label)

    @staticmethod
    def resolve_state_label(case: ServiceCase) -> str:
        return str(case.get_state_display())

    @staticmethod
    def resolve_certificate_number(case: ServiceCase) -> str:
        return case.certificate.number

    @staticmethod
    def resolve_overdue(case: ServiceCase) -> bool:
        return case.is_overdue(today_in_china())


class CaseDetailOut(CaseSummaryOut):
    """A case in full, resolved from the model (materials, timeline and actions by selectors)."""

    accept_due_on: dt.date | None
    decide_due_on: dt.date | None
    paused_working_days: int
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    completed_at: dt.datetime | None
    outcome_reason: str
    completion_note: str
    delivery_method: str
    details: dict[str, Any]
    required_materials: list[str]
    materials: list[MaterialOut]
    timeline: list[TransitionOut]
    actions: list[str]

    @staticmethod
    def resolve_required_materials(case: ServiceCase) -> list[str]:
        return list(
            catalogue.required_materials(
                case_type=case.case_type,
                details=case.details,
                certificate_categories=catalogue.valid_categories(case.certificate),
            )
        )

    @staticmethod
    def resolve_materials(case: ServiceCase) -> Any:
        return list(selectors.current_materials(case).values())

    @staticmethod
    def resolve_timeline(case: ServiceCase) -> Any:
        return selectors.case_timeline(case)

    @staticmethod
    def resolve_actions(case: ServiceCase) -> list[str]:
        return [str(a) for a in selectors.applicant_actions(case)]


class DraftIn(Schema):
    case_type: str
    certificate_id: int
    agreed: bool


class FormIn(Schema):
    phone: str
    address: str
    contact_name: str
    details: dict[str, Any] = {}


class DeliveryIn(Schema):
    method: str
    recipient: str = ""
    phone: str = ""
    address: str = ""


class NoteIn(Schema):
    reason: str = ""


# --------------------------------------------------------------------------------------------
# Shaping
# --------------------------------------------------------------------------------------------


def _own(request: HttpRequest, case_id: int) -> ServiceCase:
    return selectors.case_for_applicant(user=current_user(request), case_id=case_id)


# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------


@router.get("/services", response=list[ServiceOut], auth=None, summary="The services and what each needs")
def list_services(request: HttpRequest) -> list[ServiceOut]:
    return [
        ServiceOut(
            case_type=definition.case_type,
            title=definition.title,
            summary=str(definition.summary),
            instructions=[str(p) for p in definition.instructions],
            materials=[
                MaterialRequirementOut(kind=kind, label=str(MaterialKind(kind).label), required=True)
                for kind in definition.materials
            ]
            + [
                MaterialRequirementOut(kind=kind, label=str(MaterialKind(kind).label), required=False)
                for kind in definition.optional_materials
            ],
            issues_new_certificate=definition.issues_new_certificate,
        )
        for definition in catalogue.SERVICES.values()
    ]


@router.get("/certificates", response=list[CertificateOut], auth=user_auth, summary="My certificates")
def my_certificates(request: HttpRequest) -> list[QualificationCertificate]:
    user = current_user(request)
    services.certificates_associate_for_user(user=user)
    return list(selectors.certificates_for_user(user=user))


@router.get(
    "/cases", response=list[CaseSummaryOut], auth=user_auth, summary="My Office: my cases, newest first"
)
@paginate(page_size=selectors.MY_CASES_PAGE_SIZE)
def my_cases(request: HttpRequest, group: str = "") -> QuerySet[ServiceCase]:
    if group not in ("", "open", "done", "drafts"):
        group = ""
    return selectors.cases_for_applicant(user=current_user(request), group=group)


@router.get("/cases/{case_id}", response=CaseDetailOut, auth=user_auth, summary="One of my cases")
def case_detail(request: HttpRequest, case_id: int) -> ServiceCase:
    return _own(request, case_id)


@router.post("/cases", response={201: CaseDetailOut}, auth=user_auth, summary="Start an application")
def case_create(request: HttpRequest, payload: DraftIn) -> Status[ServiceCase]:
    case = services.case_draft_create(
        applicant=current_user(request),
        case_type=payload.case_type,
        certificate_id=payload.certificate_id,
        agreed=payload.agreed,
    )
    return Status(201, case)


@router.put("/cases/{case_id}/form", response=CaseDetailOut, auth=user_auth, summary="Save the form")
def case_form(request: HttpRequest, case_id: int, payload: FormIn) -> ServiceCase:
    case = services.case_form_save(
        case=_own(request, case_id),
        applicant=current_user(request),
        phone=payload.phone,
        address=payload.address,
        contact_name=payload.contact_name,
        details=payload.details,
    )
    return case


@router.put(
    "/cases/{case_id}/delivery", response=CaseDetailOut, auth=user_auth, summary="Choose the delivery"
)
def case_delivery(request: HttpRequest, case_id: int, payload: DeliveryIn) -> ServiceCase:
    case = services.case_delivery_save(
        case=_own(request, case_id),
        applicant=current_user(request),
        method=payload.method,
        recipient=payload.recipient,
        phone=payload.phone,
        address=payload.address,
    )
    return case


@router.post(
    "/cases/{case_id}/materials/{kind}",
    response={201: MaterialOut},
    auth=user_auth,
    summary="Upload one material (PNG or JPEG, at most 10 MB)",
)
def case_material(
    request: HttpRequest,
    case_id: int,
    kind: str,
    file: UploadedFile = File(...),  # noqa: B008
) -> Status[Any]:
    material = services.case_material_upload(
        case=_own(request, case_id), applicant=current_user(request), kind=kind, upload=file
    )
    return Status(201, material)


@router.post("/cases/{case_id}/submit", response=CaseDetailOut, auth=user_auth, summary="Submit")
def case_submit(request: HttpRequest, case_id: int) -> ServiceCase:
    return services.case_submit(case=_own(request, case_id), applicant=current_user(request))


@router.post(
    "/cases/{case_id}/withdraw",
    response=CaseDetailOut,
    auth=user_auth,
    summary="Withdraw (only before acceptance: 409 case.withdraw_after_acceptance afterwards)",
)
def case_withdraw(request: HttpRequest, case_id: int, payload: NoteIn | None = None) -> ServiceCase:
    case = services.case_withdraw(
        case=_own(request, case_id), applicant=current_user(request), reason=payload.reason if payload else ""
    )
    return case


@router.post(
    "/cases/{case_id}/supplement", response=CaseDetailOut, auth=user_auth, summary="Send the supplement"
)
def case_supplement(request: HttpRequest, case_id: int, payload: NoteIn | None = None) -> ServiceCase:
    case = services.case_supplement(
        case=_own(request, case_id), applicant=current_user(request), note=payload.reason if payload else ""
    )
    return case
