"""Office pages for staff: the queue and the case page with its actions."""

from __future__ import annotations

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from yunzheng.accounts.models import User
from yunzheng.accounts.permissions import allowed
from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import mask_id_number, mask_name, mask_phone
from yunzheng.core.errors import DomainError, NotFound, PermissionDenied
from yunzheng.core.forms import PostedAction, add_domain_error, message_domain_error, posted_action
from yunzheng.practitioners import catalogue, contacts, selectors, services
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.forms import (
    AnswerForm,
    ApproveForm,
    BusinessContactForm,
    BusinessContactRemoveForm,
    CompleteForm,
    MaterialListForm,
    MaterialListResetForm,
    QueueFilterForm,
    ReasonForm,
)
from yunzheng.practitioners.models import (
    CaseState,
    CaseType,
    MaterialKind,
    ServiceCase,
)
from yunzheng.practitioners.views._common import _shown_token
from yunzheng.practitioners.views.mine import _case_context, _timeline_rows
from yunzheng.practitioners.workflow import Action

# --------------------------------------------------------------------------------------------
# Staff
# --------------------------------------------------------------------------------------------


def _office_staff(request: HttpRequest) -> User:
    user = current_user(request)
    try:
        services.office_scope(user)
    except PermissionDenied as denied:
        raise DjangoPermissionDenied(denied.message) from None
    return user


@staff_required
def staff_queue(request: HttpRequest) -> HttpResponse:
    """The cases of the clerk's region, ordered by due date, with filters."""
    user = _office_staff(request)
    today = today_in_china()
    filters = selectors.QueueFilter(**QueueFilterForm(request.GET).filters())
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
    staff = current_user(request)
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
    services.case_staff_view_record(case=case, staff=staff, material_ids=[m.pk for m in shown])
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
            "actions": _shown_actions(case, staff),
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


def _shown_actions(case: ServiceCase, staff: User) -> list[str]:
    """The workflow's staff actions, less answering a verification for those the permission
    table does not let take registry decisions in the case's region (the service refuses them)."""
    may_answer = allowed(staff, services.REGISTRY_DECISION, region_code=case.region_code)
    return [str(a) for a in selectors.staff_actions(case) if a != Action.ANSWER or may_answer]


STAFF_ACTIONS: dict[str, PostedAction] = {
    Action.ACCEPT: PostedAction(
        None,
        lambda case, staff, data: services.case_accept(case=case, staff=staff),
        gettext_lazy("Accepted."),
    ),
    Action.RETURN: PostedAction(
        ReasonForm,
        lambda case, staff, data: services.case_return_for_supplement(
            case=case, staff=staff, reason=data["reason"]
        ),
        gettext_lazy("Returned for supplement; the applicant has been told what is needed."),
    ),
    Action.REJECT: PostedAction(
        ReasonForm,
        lambda case, staff, data: services.case_reject(case=case, staff=staff, reason=data["reason"]),
        pgettext_lazy("case", "Rejected; the applicant has been told why."),
    ),
    Action.APPROVE: PostedAction(
        ApproveForm,
        lambda case, staff, data: services.case_approve(case=case, staff=staff, grade=data["grade"]),
        gettext_lazy("Approved; the registry has been updated."),
    ),
    Action.COMPLETE: PostedAction(
        CompleteForm,
        lambda case, staff, data: services.case_complete(case=case, staff=staff, note=data["note"]),
        gettext_lazy("Completed."),
    ),
    Action.ANSWER: PostedAction(
        AnswerForm,
        lambda case, staff, data: services.case_answer_verification(
            case=case, staff=staff, answer=data["answer"], corrections=data["corrections"]
        ),
        gettext_lazy("Answered; the registry has been corrected as stated."),
    ),
}
"""Each action the staff case page posts (``action=``); anything else is a 404."""


def _staff_act(request: HttpRequest, *, case: ServiceCase, staff: User, action: str) -> str:
    staff_action = STAFF_ACTIONS.get(action)
    if staff_action is None:
        raise Http404
    return staff_action.perform(request.POST, case, staff, code=Code.FORM_INVALID)


MATERIAL_LIST_ACTIONS: dict[str, PostedAction] = {
    "save": PostedAction(
        MaterialListForm,
        lambda province, user, data: services.province_material_list_set(
            staff_user=user, province_code=province, **data
        ),
        gettext_lazy("Saved."),
    ),
    "reset": PostedAction(
        MaterialListResetForm,
        lambda province, user, data: services.province_material_list_reset(
            staff_user=user, province_code=province, **data
        ),
        gettext_lazy("Saved."),
    ),
}
MATERIAL_LIST_ACTIONS[""] = MATERIAL_LIST_ACTIONS["save"]  # a form sent with Enter names no button
"""The material-list page's actions (``action=``), for the staff member's province."""


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def staff_material_lists(request: HttpRequest) -> HttpResponse:
    """Province-level staff keep their province's material list of each service (the national
    list applies where the province keeps none)."""
    user = _office_staff(request)
    scope = services.office_scope(user)
    province = (scope.region_code or "")[:2] + "0000"
    if request.method == "POST":
        try:
            done = posted_action(MATERIAL_LIST_ACTIONS, request.POST).perform(
                request.POST, province, user, code=Code.MATERIAL_LIST_INVALID
            )
        except DomainError as error:
            message_domain_error(request, error)
        else:
            messages.success(request, done)
        return redirect("practitioners:staff_material_lists")
    rows = []
    for case_type in CaseType:
        required, optional, source = catalogue.material_lists(case_type, province)
        rows.append(
            {
                "case_type": case_type.value,
                "label": case_type.label,
                "source": source,
                "kinds": [
                    {
                        "value": kind.value,
                        "label": kind.label,
                        "required": kind in required,
                        "optional": kind in optional,
                    }
                    for kind in MaterialKind
                ],
            }
        )
    return render(request, "practitioners/staff_material_lists.html", {"rows": rows, "province": province})


CONTACT_ACTIONS: dict[str, PostedAction] = {
    "add": PostedAction(
        BusinessContactForm,
        lambda _, user, data: contacts.business_contact_add(staff_user=user, **data),
        gettext_lazy("Contact added."),
    ),
    "remove": PostedAction(
        BusinessContactRemoveForm,
        lambda _, user, data: contacts.business_contact_remove(
            staff_user=user, contact_id=data["contact_id"]
        ),
        gettext_lazy("Contact removed."),
    ),
}
"""The contacts page's actions (``op=``)."""


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def staff_contacts(request: HttpRequest) -> HttpResponse:
    """联系我们: the provincial business managers drivers see, kept by the province's transport
    staff (the ministry keeps every province's)."""
    user = current_user(request)
    try:
        provinces = contacts.keeper_provinces(staff_user=user)
    except PermissionDenied as denied:
        raise DjangoPermissionDenied(denied.message) from None
    form: django_forms.Form = BusinessContactForm(provinces=provinces)
    if request.method == "POST":
        try:
            action = posted_action(CONTACT_ACTIONS, request.POST, key="op")
            if action is CONTACT_ACTIONS["add"]:  # a bad entry is shown on its form
                form = action.bind(request.POST, provinces=provinces)
                if form.is_valid():
                    messages.success(request, action.call(None, user, form))
                    return redirect("practitioners:staff_contacts")
            else:
                messages.success(request, action.perform(request.POST, None, user, code=Code.FORM_INVALID))
                return redirect("practitioners:staff_contacts")
        except DomainError as error:
            if form.is_bound:
                add_domain_error(form, error)
            else:
                message_domain_error(request, error)
                return redirect("practitioners:staff_contacts")
    rows = [
        {"contact": contact, "province": dict(provinces).get(contact.province_code, contact.province_code)}
        for contact in contacts.contacts_for_keeper(staff_user=user)
    ]
    return render(request, "practitioners/staff_contacts.html", {"form": form, "rows": rows})
