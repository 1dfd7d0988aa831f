"""Office pages for applicants: the service list, instructions, certificate choice and the
application (information, delivery, materials, review).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from yunzheng.accounts.guards import real_name_required
from yunzheng.accounts.models import User
from yunzheng.core.auth import current_user
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import mask_id_number
from yunzheng.core.errors import DomainError
from yunzheng.core.forms import add_domain_error
from yunzheng.practitioners import catalogue, selectors, services
from yunzheng.practitioners.forms import (
    AgreeForm,
    CertificateChoiceForm,
    DeliveryForm,
    MaterialForm,
    PersonalForm,
)
from yunzheng.practitioners.models import (
    CaseState,
    CaseType,
    DeliveryMethod,
    MaterialKind,
    ServiceCase,
)
from yunzheng.practitioners.views._common import (
    AGREED_SESSION_KEY,
    _next_step_after,
    _own_case,
    _service_or_404,
    _steps,
)
from yunzheng.practitioners.views.mine import _case_context

# --------------------------------------------------------------------------------------------
# Service list, instructions, certificate
# --------------------------------------------------------------------------------------------


def office_home(request: HttpRequest) -> HttpResponse:
    """The service list: anyone may browse; verified users also see their certificates."""
    user = request.user
    certificates: list[Any] = []
    open_count = 0
    if isinstance(user, User) and user.is_real_name_verified:
        services.certificates_associate_for_user(user=user)
        certificates = list(selectors.certificates_for_user(user=user))
        open_count = selectors.cases_for_applicant(user=user, group="open").count()
    return render(
        request,
        "practitioners/home.html",
        {
            "services": list(catalogue.SERVICES.values()),
            "certificates": certificates,
            "open_count": open_count,
            "today": today_in_china(),
        },
    )


@require_http_methods(["GET", "POST"])
def service_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Business instructions; agreeing to them (verified users only) leads to the certificate."""
    definition = _service_or_404(slug)
    form = AgreeForm(request.POST or None)
    if request.method == "POST":
        return _agree(request, slug=slug, form=form, definition=definition)
    context = _service_context(definition, form)
    # Said before the instructions: nothing can be started while every certificate has a case open.
    context["blocking_cases"] = selectors.cases_blocking_new_applications(user=request.user)
    return render(request, "practitioners/service_detail.html", context)


def _service_context(definition: catalogue.ServiceDefinition, form: AgreeForm) -> dict[str, Any]:
    return {
        "service": definition,
        "form": form,
        "steps": _steps(None, definition, "instructions"),
        "materials": [MaterialKind(k).label for k in definition.materials],
        "optional_materials": [MaterialKind(k).label for k in definition.optional_materials],
    }


@real_name_required
def _agree(
    request: HttpRequest, *, slug: str, form: AgreeForm, definition: catalogue.ServiceDefinition
) -> HttpResponse:
    if not form.is_valid():
        return render(
            request, "practitioners/service_detail.html", _service_context(definition, form), status=422
        )
    agreed = dict(request.session.get(AGREED_SESSION_KEY, {}))
    agreed[definition.case_type] = timezone.now().isoformat()
    request.session[AGREED_SESSION_KEY] = agreed
    return redirect("practitioners:service_certificate", slug=slug)


@never_cache
@real_name_required
@require_http_methods(["GET", "POST"])
def service_certificate(request: HttpRequest, slug: str) -> HttpResponse:
    definition = _service_or_404(slug)
    user = current_user(request)
    if definition.case_type not in request.session.get(AGREED_SESSION_KEY, {}):
        messages.warning(request, _("Read the business instructions and agree to them first."))
        return redirect("practitioners:service_detail", slug=slug)
    services.certificates_associate_for_user(user=user)
    form = CertificateChoiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_draft_create(
                applicant=user,
                case_type=definition.case_type,
                certificate_id=form.cleaned_data["certificate"],
                agreed=True,
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect("practitioners:case_info", pk=case.pk)
    choices = selectors.certificate_choices(user=user, case_type=definition.case_type, today=today_in_china())
    return render(
        request,
        "practitioners/service_certificate.html",
        {
            "service": definition,
            "choices": choices,
            "form": form,
            "steps": _steps(None, definition, "certificate"),
        },
    )


# --------------------------------------------------------------------------------------------
# The application: information, delivery, materials, review
# --------------------------------------------------------------------------------------------


def _own_draft(request: HttpRequest, pk: int) -> ServiceCase:
    case = _own_case(request, pk)
    if case.state != CaseState.DRAFT:
        raise Http404
    return case


@never_cache
@real_name_required
@require_http_methods(["GET", "POST"])
def case_info(request: HttpRequest, pk: int) -> HttpResponse:
    case = _own_draft(request, pk)
    user = current_user(request)
    definition = catalogue.service(case.case_type)
    info = services.personal_info(case)
    details = dict(case.details)
    # A verification request stores its claims as {"claimed": {field: value}}; the form names
    # them claimed_<field>.
    claimed = details.pop("claimed", None) or {}
    certificate = case.certificate
    # Prefilled from the certificate: the credit assessment's service company is the certificate's
    # service unit; renewal and replacement show the recorded licence class.
    prefill: dict[str, Any] = {"licence_class": certificate.licence_class}
    if case.case_type == CaseType.CREDIT_ASSESSMENT:
        prefill["service_company"] = certificate.service_unit
    details.pop("new_contact_phone", None)  # stored encrypted; the applicant types it again
    initial = {
        "name": user.real_name or "",
        "phone": info.phone,
        "contact_name": info.contact_name,
        "address": info.address,
        **prefill,
        **details,
        **{f"claimed_{field}": value for field, value in claimed.items()},
    }
    form = PersonalForm(
        request.POST or None,
        initial=initial,
        case_type=case.case_type,
        certificate=case.certificate,
        years=catalogue.cycle_years(today_in_china()),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.case_form_save(
                case=case,
                applicant=user,
                phone=form.cleaned_data["phone"],
                address=form.cleaned_data["address"],
                contact_name=form.cleaned_data["contact_name"],
                details=form.detail_values(),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect(_next_step_after(case, "info"))
    return render(
        request,
        "practitioners/case_info.html",
        {
            "case": case,
            "service": definition,
            "form": form,
            "masked_id_number": mask_id_number(user.id_number or ""),
            "steps": _steps(case, definition, "info"),
        },
    )


@never_cache
@real_name_required
@require_http_methods(["GET", "POST"])
def case_delivery(request: HttpRequest, pk: int) -> HttpResponse:
    case = _own_draft(request, pk)
    definition = catalogue.service(case.case_type)
    if not definition.issues_new_certificate:
        return redirect(_next_step_after(case, "info"))
    info = services.personal_info(case)
    delivery = info.delivery
    form = DeliveryForm(
        request.POST or None,
        initial={
            "method": delivery.method or DeliveryMethod.COLLECT,
            "recipient": delivery.recipient or info.contact_name,
            "phone": delivery.phone or info.phone,
            "address": delivery.address or info.address,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.case_delivery_save(
                case=case,
                applicant=current_user(request),
                method=form.cleaned_data["method"],
                recipient=form.cleaned_data["recipient"],
                phone=form.cleaned_data["phone"],
                address=form.cleaned_data["address"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect(_next_step_after(case, "delivery"))
    return render(
        request,
        "practitioners/case_delivery.html",
        {
            "case": case,
            "service": definition,
            "form": form,
            "collect_at": case.certificate.issuing_authority,
            "steps": _steps(case, definition, "delivery"),
        },
    )


def _material_rows(case: ServiceCase, errors: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
    categories = catalogue.valid_categories(case.certificate)
    required = catalogue.required_materials(
        case_type=case.case_type,
        details=case.details,
        certificate_categories=categories,
        region_code=case.region_code,
    )
    allowed = catalogue.allowed_materials(
        case_type=case.case_type,
        details=case.details,
        certificate_categories=categories,
        region_code=case.region_code,
    )
    current = selectors.current_materials(case)
    return [
        {
            "kind": kind,
            "label": MaterialKind(kind).label,
            "required": kind in required,
            "material": current.get(kind),
            "errors": (errors or {}).get(kind, []),
        }
        for kind in allowed
    ]


@never_cache
@real_name_required
@require_http_methods(["GET", "POST"])
def case_materials(request: HttpRequest, pk: int) -> HttpResponse:
    """One small form per material (robust on any phone); used while drafting and supplementing."""
    case = _own_case(request, pk)
    if case.state not in (CaseState.DRAFT, CaseState.RETURNED):
        raise Http404
    definition = catalogue.service(case.case_type)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        form = MaterialForm(request.POST, request.FILES)
        if not form.is_valid():
            errors[kind] = [str(e) for e in form.errors.get("file", [_("Choose a file.")])]
            status = 422
        else:
            try:
                services.case_material_upload(
                    case=case, applicant=current_user(request), kind=kind, upload=form.cleaned_data["file"]
                )
            except DomainError as error:
                errors[kind] = [error.message]
                status = 422
            else:
                messages.success(
                    request,
                    _("%(material)s: uploaded successfully.") % {"material": MaterialKind(kind).label},
                )
                return redirect("practitioners:case_materials", pk=case.pk)
    rows = _material_rows(case, errors)
    return render(
        request,
        "practitioners/case_materials.html",
        {
            "case": case,
            "service": definition,
            "rows": rows,
            "all_required_present": all(row["material"] for row in rows if row["required"]),
            "supplementing": case.state == CaseState.RETURNED,
            "steps": _steps(case, definition, "materials") if case.is_draft else [],
            "next_url": _next_step_after(case, "materials") if case.is_draft else "",
        },
        status=status,
    )


@never_cache
@real_name_required
@require_http_methods(["GET", "POST"])
def case_review(request: HttpRequest, pk: int) -> HttpResponse:
    case = _own_draft(request, pk)
    definition = catalogue.service(case.case_type)
    problems: list[str] = []
    if request.method == "POST":
        try:
            submitted = services.case_submit(case=case, applicant=current_user(request))
        except DomainError as error:
            problems = [detail.message for detail in error.details] or [error.message]
        else:
            messages.success(
                request, _("Submitted. Your case number is %(number)s.") % {"number": submitted.number}
            )
            return redirect("practitioners:case_detail", pk=submitted.pk)
    return render(
        request,
        "practitioners/case_review.html",
        {
            **_case_context(case),
            "problems": problems,
            "steps": _steps(case, definition, "review"),
        },
        status=422 if problems else 200,
    )


@real_name_required
@require_POST
def case_discard(request: HttpRequest, pk: int) -> HttpResponse:
    case = _own_draft(request, pk)
    services.case_draft_discard(case=case, applicant=current_user(request))
    messages.success(request, _("The draft was deleted."))
    return redirect("practitioners:my_cases")
