"""Pages of the One-Network Office (道路运政一网通办).

Drivers (phone-sized): service list -> instructions and agreement -> certificate -> personal
information -> delivery (when a new certificate results) -> materials -> review and submit ->
My Office (我的办件) with each case's timeline, due dates and outcome; vouchers; verification of
wrong data. Staff (desk-sized): the queue of their region and the case page with its actions.
Views parse forms and call services or selectors; no business rules here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from yunzheng.accounts.guards import real_name_required, staff_required
from yunzheng.accounts.models import User
from yunzheng.accounts.scopes import region_name
from yunzheng.core.audit import record_audit
from yunzheng.core.crypto import mask_id_number, mask_name, mask_phone
from yunzheng.core.errors import DomainError, NotFound, PermissionDenied
from yunzheng.elicense.api import public_base_url
from yunzheng.practitioners import catalogue, licences, selectors, services
from yunzheng.practitioners.forms import (
    AgreeForm,
    AnswerForm,
    ApproveForm,
    CertificateChoiceForm,
    CompleteForm,
    DeliveryForm,
    MaterialForm,
    PersonalForm,
    ReasonForm,
    add_domain_error,
)
from yunzheng.practitioners.models import (
    CaseMaterial,
    CaseState,
    CaseType,
    DeliveryMethod,
    MaterialKind,
    ServiceCase,
)
from yunzheng.practitioners.workflow import ACTION_LABELS, Action

AGREED_SESSION_KEY = "office_agreed_services"


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise DjangoPermissionDenied
    return user


def _today() -> dt.date:
    return timezone.localdate()


def _service_or_404(slug: str) -> catalogue.ServiceDefinition:
    definition = catalogue.service_by_slug(slug)
    if definition is None:
        raise Http404
    return definition


def _own_case(request: HttpRequest, pk: int) -> ServiceCase:
    try:
        return selectors.case_for_applicant(user=_user(request), case_id=pk)
    except NotFound:
        raise Http404 from None


def _steps(
    case: ServiceCase | None, definition: catalogue.ServiceDefinition, current: str
) -> list[dict[str, Any]]:
    names = [
        ("instructions", _("Instructions")),
        ("certificate", _("Certificate")),
        ("info", _("Information")),
    ]
    if definition.issues_new_certificate:
        names.append(("delivery", _("Delivery")))
    if definition.materials or definition.optional_materials:
        names.append(("materials", _("Materials")))
    names.append(("review", _("Submit")))
    keys = [key for key, _label in names]
    position = keys.index(current)
    return [
        {"key": key, "label": label, "number": i + 1, "done": i < position, "current": i == position}
        for i, (key, label) in enumerate(names)
    ]


def _next_step_after(case: ServiceCase, step: str) -> str:
    definition = catalogue.service(case.case_type)
    order = ["info"]
    if definition.issues_new_certificate:
        order.append("delivery")
    if definition.materials or definition.optional_materials:
        order.append("materials")
    order.append("review")
    target = order[order.index(step) + 1]
    return reverse(f"practitioners:case_{target}", args=[case.pk])


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
            "today": _today(),
        },
    )


@require_http_methods(["GET", "POST"])
def service_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Business instructions; agreeing to them (verified users only) leads to the certificate."""
    definition = _service_or_404(slug)
    form = AgreeForm(request.POST or None)
    if request.method == "POST":
        return _agree(request, slug=slug, form=form, definition=definition)
    return render(request, "practitioners/service_detail.html", _service_context(definition, form))


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
    user = _user(request)
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
    choices = selectors.certificate_choices(user=user, case_type=definition.case_type, today=_today())
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
    user = _user(request)
    definition = catalogue.service(case.case_type)
    info = services.personal_info(case)
    details = dict(case.details)
    # A verification request stores its claims as {"claimed": {field: value}}; the form names
    # them claimed_<field>.
    claimed = details.pop("claimed", None) or {}
    initial = {
        "name": user.real_name or "",
        "phone": info.phone,
        "contact_name": info.contact_name,
        "address": info.address,
        **details,
        **{f"claimed_{field}": value for field, value in claimed.items()},
    }
    form = PersonalForm(
        request.POST or None,
        initial=initial,
        case_type=case.case_type,
        certificate=case.certificate,
        years=catalogue.cycle_years(_today()),
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
                applicant=_user(request),
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
        case_type=case.case_type, details=case.details, certificate_categories=categories
    )
    allowed = catalogue.allowed_materials(
        case_type=case.case_type, details=case.details, certificate_categories=categories
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
                    case=case, applicant=_user(request), kind=kind, upload=form.cleaned_data["file"]
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
            submitted = services.case_submit(case=case, applicant=_user(request))
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
    services.case_draft_discard(case=case, applicant=_user(request))
    messages.success(request, _("The draft was deleted."))
    return redirect("practitioners:my_cases")


# --------------------------------------------------------------------------------------------
# My Office
# --------------------------------------------------------------------------------------------


def _case_context(case: ServiceCase) -> dict[str, Any]:
    info = services.personal_info(case)
    details = case.details
    detail_rows: list[tuple[str, str]] = []
    if case.case_type == CaseType.CREDIT_ASSESSMENT:
        detail_rows += [
            (_("Assessment cycle"), str(details.get("cycle_year", ""))),
            (_("Service company"), details.get("service_company") or "—"),
        ]
    elif case.case_type == CaseType.REPLACEMENT:
        reason = details.get("replacement_reason", "")
        detail_rows.append((_("Reason"), str(catalogue.REPLACEMENT_REASONS.get(reason, reason))))
    elif case.case_type == CaseType.CHANGE_UNIT:
        detail_rows += [
            (_("New service unit"), details.get("new_unit", "")),
            (_("Phone of the new unit"), details.get("unit_phone", "")),
            (_("Reason for the change"), details.get("reason", "")),
        ]
    elif case.case_type == CaseType.CHANGE_INFO:
        if details.get("update_name"):
            detail_rows.append((_("Name"), _("Show my verified name on the certificate")))
        if details.get("new_address"):
            detail_rows.append((_("New address"), details["new_address"]))
        detail_rows.append((_("Reason for the change"), details.get("reason", "")))
    elif case.case_type == CaseType.CANCELLATION:
        detail_rows.append(
            (_("Categories to cancel"), "、".join(catalogue.category_labels(details.get("categories", []))))
        )
    elif case.case_type == CaseType.INFO_VERIFICATION:
        for key, value in (details.get("claimed") or {}).items():
            detail_rows.append(
                (_("Correct value: %(field)s") % {"field": catalogue.VERIFIABLE_FIELDS[key]}, value)
            )
        detail_rows.append((_("What is wrong"), details.get("description", "")))
    return {
        "case": case,
        "service": catalogue.service(case.case_type),
        "info": info,
        "masked_phone": mask_phone(info.phone) if info.phone else "",
        "delivery_label": DeliveryMethod(case.delivery_method).label if case.delivery_method else "",
        "detail_rows": detail_rows,
        "materials": list(selectors.current_materials(case).values()),
        "today": _today(),
        "region": region_name(case.region_code),
    }


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    """我的办件: the user's cases, newest first, with state and due date."""
    user = _user(request)
    services.certificates_associate_for_user(user=user)
    group = request.GET.get("group", "")
    if group not in ("", "open", "done", "drafts"):
        group = ""
    page = Paginator(
        selectors.cases_for_applicant(user=user, group=group), selectors.MY_CASES_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "practitioners/my_cases.html",
        {"page": page, "group": group, "query": f"group={group}" if group else "", "today": _today()},
    )


@never_cache
@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _own_case(request, pk)
    if case.is_draft:
        return redirect("practitioners:case_review", pk=case.pk)
    actions = selectors.applicant_actions(case)
    assessment = selectors.credit_assessment_for_case(case) if case.state == CaseState.COMPLETED else None
    return render(
        request,
        "practitioners/case_detail.html",
        {
            **_case_context(case),
            "timeline": _timeline_rows(case),
            "can_withdraw": Action.WITHDRAW in actions,
            "can_supplement": Action.SUPPLEMENT in actions,
            "assessment": assessment,
            "certificate": case.certificate,
        },
    )


def _timeline_rows(case: ServiceCase) -> list[dict[str, Any]]:
    return [
        {
            "at": step.at,
            "label": ACTION_LABELS.get(Action(step.action), step.action),
            "to": CaseState(step.to_state).label,
            "reason": step.reason,
            "by": _("Applicant") if step.actor_role == "applicant" else _("Authority"),
        }
        for step in selectors.case_timeline(case)
    ]


@real_name_required
@require_POST
def case_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    case = _own_case(request, pk)
    try:
        services.case_withdraw(case=case, applicant=_user(request), reason=request.POST.get("reason", ""))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The application was withdrawn."))
    return redirect("practitioners:case_detail", pk=case.pk)


@real_name_required
@require_POST
def case_supplement(request: HttpRequest, pk: int) -> HttpResponse:
    case = _own_case(request, pk)
    try:
        services.case_supplement(case=case, applicant=_user(request), note=request.POST.get("note", ""))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("practitioners:case_materials", pk=case.pk)
    messages.success(request, _("The supplement was sent; the decision clock runs again."))
    return redirect("practitioners:case_detail", pk=case.pk)


@never_cache
@login_required
def material_file(request: HttpRequest, pk: int, material_pk: int) -> HttpResponse:
    """A material's image, for the applicant or staff whose scope covers the case (audited)."""
    user = _user(request)
    try:
        material, as_staff = selectors.material_for_viewer(user=user, case_id=pk, material_id=material_pk)
    except NotFound:
        raise Http404 from None
    if as_staff:
        if not getattr(user, "is_verified", lambda: False)():
            raise Http404  # staff need their second factor before seeing anyone's documents
        if _shown_on_audited_page(request.GET.get("t", ""), material_pk=material.pk, staff_pk=user.pk):
            return _material_response(material)
        record_audit(
            actor=services.Actor.for_user(user),
            action="office.material.staff_view",
            target_type="office_case",
            target_id=material.case_id,
            after={"material": material.pk, "kind": material.kind},
        )
    return _material_response(material)


def _material_response(material: CaseMaterial) -> HttpResponse:
    response = HttpResponse(services.material_bytes(material=material), content_type=material.content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


# The staff case page is audited with the materials it shows; it hands out short-lived tokens for
# them, so its thumbnails do not each write an audit entry. A material opened any other way is
# audited on its own.
_THUMBNAIL_SALT = "office.material.shown"
_THUMBNAIL_MAX_AGE = 600


def _shown_token(*, material_pk: int, staff_pk: int) -> str:
    return signing.dumps([material_pk, staff_pk], salt=_THUMBNAIL_SALT, compress=False)


def _shown_on_audited_page(token: str, *, material_pk: int, staff_pk: int) -> bool:
    if not token:
        return False
    try:
        value = signing.loads(token, salt=_THUMBNAIL_SALT, max_age=_THUMBNAIL_MAX_AGE)
    except signing.BadSignature:
        return False
    return bool(value == [material_pk, staff_pk])


@login_required
def my_certificates(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    services.certificates_associate_for_user(user=user)
    return render(
        request,
        "practitioners/my_certificates.html",
        {
            "certificates": list(selectors.certificates_for_user(user=user)),
            "today": _today(),
            "masked_name": mask_name(user.real_name or ""),
            "verification_slug": catalogue.service(CaseType.INFO_VERIFICATION).slug,
        },
    )


# --------------------------------------------------------------------------------------------
# Credit voucher
# --------------------------------------------------------------------------------------------


def _voucher_download(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    case = _own_case(request, pk)
    assessment = selectors.credit_assessment_for_case(case)
    if assessment is None:
        raise Http404
    try:
        content, content_type = licences.voucher_document(
            assessment=assessment, kind=kind, base_url=public_base_url(request), user=_user(request)
        )
    except NotFound:
        raise Http404 from None
    except DomainError as error:  # no longer valid, or the province cannot sign yet
        messages.error(request, error.message)
        return redirect("practitioners:case_detail", pk=case.pk)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="credit-voucher-{assessment.cycle_year}.{kind}"'
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@login_required
def voucher_png(request: HttpRequest, pk: int) -> HttpResponse:
    """The credit-assessment voucher as a picture (elicense signs it and draws it)."""
    return _voucher_download(request, pk, "png")


@never_cache
@login_required
def voucher_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _voucher_download(request, pk, "pdf")


# --------------------------------------------------------------------------------------------
# Staff
# --------------------------------------------------------------------------------------------


def _office_staff(request: HttpRequest) -> User:
    user = _user(request)
    try:
        services.office_scope(user)
    except PermissionDenied as denied:
        raise DjangoPermissionDenied(denied.message) from None
    return user


@staff_required
def staff_queue(request: HttpRequest) -> HttpResponse:
    """The cases of the clerk's region, ordered by due date, with filters."""
    user = _office_staff(request)
    today = _today()
    state = request.GET.get("state", "open")
    if state not in ("open", "all", *[s for s in CaseState.values if s != CaseState.DRAFT]):
        state = "open"
    case_type = request.GET.get("type", "")
    if case_type not in CaseType.values:
        case_type = ""
    filters = selectors.QueueFilter(
        state=state,
        case_type=case_type,
        overdue=request.GET.get("overdue") == "1",
        due_today=request.GET.get("due_today") == "1",
    )
    queue = selectors.staff_queue(staff_user=user, filters=filters, today=today)
    page = Paginator(queue, selectors.QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    # Everything a row shows is prepared here: the template stays a flat loop (50 rows per page).
    state_labels = dict(CaseState.choices)
    type_labels = dict(CaseType.choices)
    rows = []
    for case in page.object_list:
        overdue = case.due_on is not None and case.due_on < today
        rows.append(
            {
                "case": case,
                "url": reverse("practitioners:staff_case", args=[case.pk]),
                "holder": mask_name(case.certificate.holder_name),
                "service": type_labels[case.case_type],
                "state": state_labels[case.state],
                "row_class": "overdue" if overdue else ("due-today" if case.due_on == today else ""),
            }
        )
    scope = services.office_scope(user)
    return render(
        request,
        "practitioners/staff_queue.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "states": [(s.value, s.label) for s in CaseState if s != CaseState.DRAFT],
            "types": CaseType.choices,
            "counts": selectors.staff_queue_counts(staff_user=user, today=today),
            "today": today,
            "scope_name": scope.region_name,
            "query_without_page": _query_without_page(request),
        },
    )


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _staff_case(request: HttpRequest, pk: int) -> ServiceCase:
    user = _office_staff(request)
    try:
        return selectors.case_for_staff(staff_user=user, case_id=pk)
    except NotFound:
        raise Http404 from None


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def staff_case(request: HttpRequest, pk: int) -> HttpResponse:
    """One case in full (viewing it is audited: it holds personal data), with its actions."""
    case = _staff_case(request, pk)
    staff = _user(request)
    reason_form = ReasonForm()
    approve_form = ApproveForm()
    complete_form = CompleteForm()
    answer_form = AnswerForm(claimed=(case.details or {}).get("claimed"))
    error_message = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            done = _staff_act(request, case=case, staff=staff, action=action)
        except DomainError as error:
            error_message = error.message
            for detail in error.details:
                if detail.field in ("reason", "grade", "answer") or detail.field.startswith("correct"):
                    error_message = detail.message
            reason_form = ReasonForm(request.POST)
            approve_form = ApproveForm(request.POST)
            complete_form = CompleteForm(request.POST)
            answer_form = AnswerForm(request.POST, claimed=(case.details or {}).get("claimed"))
        else:
            messages.success(request, done)
            return redirect("practitioners:staff_case", pk=case.pk)
    context = _case_context(case)
    shown = context["materials"]
    record_audit(
        actor=services.Actor.for_user(staff),
        action="office.case.staff_view",
        target_type="office_case",
        target_id=case.pk,
        after={"materials": sorted(m.pk for m in shown)},
    )
    context["staff_materials"] = [
        (
            m,
            reverse("practitioners:material_file", args=[case.pk, m.pk])
            + "?t="
            + _shown_token(material_pk=m.pk, staff_pk=staff.pk),
        )
        for m in shown
    ]
    applicant = case.applicant
    return render(
        request,
        "practitioners/staff_case.html",
        {
            **context,
            "timeline": _timeline_rows(case),
            "actions": [str(a) for a in selectors.staff_actions(case)],
            "reason_form": reason_form,
            "approve_form": approve_form,
            "complete_form": complete_form,
            "answer_form": answer_form,
            "error_message": error_message,
            "certificate": case.certificate,
            "holder_id": mask_id_number(case.certificate.holder_id_number),
            "applicant_phone": mask_phone(applicant.phone or ""),
            "is_credit": case.case_type == CaseType.CREDIT_ASSESSMENT,
        },
        status=422 if error_message else 200,
    )


def _staff_act(request: HttpRequest, *, case: ServiceCase, staff: User, action: str) -> str:
    post = request.POST
    reason = post.get("reason", "")
    if action == Action.ACCEPT:
        services.case_accept(case=case, staff=staff)
        return _("Accepted.")
    if action == Action.RETURN:
        services.case_return_for_supplement(case=case, staff=staff, reason=reason)
        return _("Returned for supplement; the applicant has been told what is needed.")
    if action == Action.REJECT:
        services.case_reject(case=case, staff=staff, reason=reason)
        return pgettext("case", "Rejected; the applicant has been told why.")
    if action == Action.APPROVE:
        services.case_approve(case=case, staff=staff, grade=post.get("grade", ""))
        return _("Approved; the registry has been updated.")
    if action == Action.COMPLETE:
        services.case_complete(case=case, staff=staff, note=post.get("note", ""))
        return _("Completed.")
    if action == Action.ANSWER:
        form = AnswerForm(post)
        form.is_valid()
        services.case_answer_verification(
            case=case, staff=staff, answer=post.get("answer", ""), corrections=form.corrections()
        )
        return _("Answered; the registry has been corrected as stated.")
    raise Http404
