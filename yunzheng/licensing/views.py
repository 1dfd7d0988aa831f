"""Pages of the ride-hailing platform licensing workflow: the company's task list, each
department's queue, the province's whole-case view, test appointment booking, quotas, slots and
expiries. Like api.py: read the form, call one service or selector, show the result; errors come
back as messages on the page they were made on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from yunzheng.accounts.guards import real_name_required
from yunzheng.accounts.models import User
from yunzheng.accounts.scopes import region_name
from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import mask_phone
from yunzheng.core.errors import DomainError, NotFound
from yunzheng.core.forms import (
    PostedAction,
    add_domain_error,
    cleaned_data,
    form_error,
    message_domain_error,
    posted_action,
)
from yunzheng.core.http import file_response
from yunzheng.licensing import files, forms, selectors, services
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import (
    REVIEW_DEPARTMENTS,
    LicenceApplication,
    LicencePath,
    Material,
    Party,
    SecurityEvaluation,
)
from yunzheng.licensing.workflow import ACTION_LABELS, PHASE, STEPS_NEEDING_TEST_DOCUMENT, Action, phases_for


def signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Company members (real-name verified) and staff (with their second factor) both pass."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(user, "kind", "") == User.Kind.STAFF:
            return staff_required(view)(request, *args, **kwargs)
        return real_name_required(view)(request, *args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------------------------
# Company side
# --------------------------------------------------------------------------------------------


@signed_in
def home(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if user.kind == User.Kind.STAFF:
        return redirect("licensing:staff_home")
    today = today_in_china()
    companies = []
    for company in selectors.companies_of(user):
        companies.append(
            {
                "company": company,
                "tasks": [selectors.task_view(a, on=today) for a in selectors.applications_of(company)],
                "licences": list(selectors.licences_of(company)),
                "test_document": selectors.current_test_document(company),
                "flags": list(selectors.compliance_flags_of(company)),
            }
        )
    return render(
        request,
        "licensing/home.html",
        {
            "companies": companies,
            "notifications": selectors.notifications_for_user(user),
            "paths": LicencePath.choices,
            "quotas": [{"q": q, "name": region_name(q.city_code)} for q in selectors.closed_city_quotas()],
            "apply_form": forms.ApplyForm(auto_id=False, initial={"city_code": "330100"}),
        },
    )


@real_name_required
@require_POST
def apply(request: HttpRequest, company_id: int) -> HttpResponse:
    user = current_user(request)
    try:
        company = selectors.company_for_member(user=user, company_id=company_id)
        data = cleaned_data(forms.ApplyForm(request.POST), code=Code.FIELD_REQUIRED)
        application = services.application_create(
            company=company, path=data["path"], city_code=data["city_code"], user=user
        )
    except DomainError as error:
        message_domain_error(request, error)
        return redirect("licensing:home")
    messages.success(request, _("Application created. Upload the materials of the first stage."))
    return redirect("licensing:application", pk=application.pk)


def _contact(application: LicenceApplication) -> dict[str, str]:
    contact = application.company.contact_user
    if contact is None:
        return {"name": "", "phone": ""}
    return {"name": contact.get_short_name(), "phone": mask_phone(contact.phone) if contact.phone else ""}


@signed_in
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    try:
        application, role = selectors.application_for_user(user=user, application_id=pk)
    except NotFound:
        raise Http404 from None
    today = today_in_china()
    view = selectors.task_view(application, on=today)
    stage = view.stage
    reviews = selectors.department_reviews(stage)
    my_review = next((r for r in reviews if r.department == role and r.reviewed_at is None), None)
    stages = selectors.stages_of(application)
    phases = []
    for phase in phases_for(application.path):
        phase_stages = [s for s in stages if PHASE[s.kind] == phase]
        phases.append({"phase": phase, "stages": phase_stages, "current": PHASE[application.step] == phase})
    materials = selectors.materials_of(application)
    present = {m.kind for m in materials}
    # A reviewing department sees the materials under its review, not the company's other data.
    department_view = role in REVIEW_DEPARTMENTS
    if department_view:
        materials = [m for m in materials if m.kind in selectors.DEPARTMENT_MATERIAL_KINDS]
    context = {
        "application": application,
        "role": role,
        "role_label": Party(role).label,
        "is_company": role == Party.COMPANY,
        "view": view,
        "stage": stage,
        "phases": phases,
        "transitions": [
            {"t": t, "label": ACTION_LABELS.get(t.action, t.action)}
            for t in selectors.transitions_of(application)
        ],
        "reviews": reviews,
        "my_review": my_review,
        "distributed": bool(reviews),
        "all_answered": bool(reviews) and all(r.reviewed_at for r in reviews),
        "materials": materials,
        "quota_kinds": [(k, Material.Kind(k).label, k in present) for k in services.QUOTA_MATERIAL_KINDS],
        "department_view": department_view,
        "contact": None if department_view else _contact(application),
        "city_name": region_name(application.city_code),
        "booking": None if department_view else selectors.active_booking(application),
        "can_retest": role == Party.COMPANY
        and application.path == LicencePath.NATIONAL
        and application.step in STEPS_NEEDING_TEST_DOCUMENT
        and (view.test_document is None or view.test_document_expired),
        "licence": None if department_view else getattr(application, "licence", None),
        "determination_years": services.determination_valid_years(),
        "today": today,
        "review_departments": [(d, Party(d).label) for d in REVIEW_DEPARTMENTS],
        "recommendations": [
            ("approve", pgettext("review opinion", "Approve")),
            ("revise", pgettext("review opinion", "Revise")),
            ("reject", pgettext("review opinion", "Reject")),
        ],
    }
    return render(request, "licensing/application.html", context)


# Actions posted from the application page: each parses its form and calls exactly one service.
_Run = Callable[[LicenceApplication, User, dict[str, Any]], object]


def _simple(service: Callable[..., object]) -> _Run:
    return lambda application, user, data: service(application=application, user=user)


def _with(
    service: Callable[..., object], **fixed: Any
) -> Callable[[LicenceApplication, User, dict[str, Any]], object]:
    """Call the service with the form's cleaned data (plus fixed arguments)."""
    return lambda application, user, data: service(application=application, user=user, **data, **fixed)


def _granted(licence: Any) -> str:
    return _("Licence %(number)s granted.") % {"number": licence.number}


def _labelled(action: str, form: type[django_forms.Form] | None, run: Any, done: Any = None) -> PostedAction:
    """An action whose success message is its workflow label unless it says otherwise."""
    return PostedAction(
        form, run, done if done is not None else ACTION_LABELS.get(action, gettext_lazy("Done."))
    )


_APPLICATION_ACTION_ENTRIES: dict[str, tuple[Any, ...]] = {
    "submit_quota": (None, _simple(services.quota_materials_submit)),
    Action.RETURN_QUOTA: (forms.ReasonForm, _with(services.quota_return)),
    Action.SEND_LETTER: (forms.WorkLetterForm, _with(services.work_letter_send)),
    Action.MINISTRY_REPLY: (forms.MinistryReplyForm, _with(services.ministry_reply_record)),
    Action.MINISTRY_REFUSE: (forms.ReasonForm, _with(services.ministry_refuse)),
    Action.COMPLETE_INFO: (forms.CompanyInfoForm, _with(services.company_info_complete)),
    Action.OPEN_TEST_ACCOUNT: (forms.AccountForm, _with(services.test_account_open)),
    Action.OPEN_VPN_ACCOUNT: (forms.AccountForm, _with(services.vpn_account_open)),
    "test_passed": (forms.TestResultForm, _with(services.test_result_record, passed=True)),
    "test_failed": (forms.TestResultForm, _with(services.test_result_record, passed=False)),
    Action.SUBMIT_CAPABILITY: (None, _simple(services.capability_submit)),
    Action.FORWARD_TO_PROVINCE: (None, _simple(services.capability_forward)),
    Action.RETURN_CAPABILITY: (
        forms.ReasonForm,
        _with(services.capability_initial_review, decision="return"),
    ),
    Action.DISTRIBUTE: (None, _simple(services.capability_distribute)),
    Action.DEPARTMENT_REVIEW: (forms.DepartmentReviewForm, _with(services.department_review_submit)),
    Action.EXTEND: (forms.ReasonForm, _with(services.capability_extend)),
    "decide": (forms.DecisionForm, _with(services.capability_decide)),
    Action.RESUBMIT_CAPABILITY: (None, _simple(services.capability_resubmit)),
    Action.LAPSE_REVISION: (forms.ReasonForm, _with(services.capability_revision_lapse)),
    Action.SUBMIT_EVALUATIONS: (None, _simple(services.evaluations_submit)),
    Action.GRANT: (forms.GrantForm, _with(services.licence_grant), _granted),
    Action.REFUSE: (forms.ReasonForm, _with(services.licence_refuse)),
    Action.RETEST: (None, _simple(services.application_retest)),
    Action.WITHDRAW: (forms.ReasonForm, _with(services.application_withdraw)),
}
"""(form, service call[, success message]) of each action; the message defaults to the label."""

APPLICATION_ACTIONS: dict[str, PostedAction] = {
    name: _labelled(name, *entry) for name, entry in _APPLICATION_ACTION_ENTRIES.items()
}
"""Each action the application page posts (``action=``): its form and its one service."""


@signed_in
@require_POST
def application_act(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    try:
        application, role = selectors.application_for_user(user=user, application_id=pk)
    except NotFound:
        raise Http404 from None
    try:
        chosen = posted_action(APPLICATION_ACTIONS, request.POST, code=Code.TRANSITION_NOT_ALLOWED)
        done = chosen.perform(request.POST, application, user, code=Code.FIELD_REQUIRED)
    except DomainError as error:
        message_domain_error(request, error)
    else:
        messages.success(request, done)
        if role in REVIEW_DEPARTMENTS:  # its review closed with its opinion: the case is no longer shown
            return redirect("licensing:staff_home")
    return redirect("licensing:application", pk=pk)


@signed_in
@require_POST
def material_upload(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    try:
        application, _role = selectors.application_for_user(user=user, application_id=pk)
    except NotFound:
        raise Http404 from None
    try:
        data = cleaned_data(forms.MaterialUploadForm(request.POST, request.FILES), code="upload.empty")
        material = services.material_upload(
            application=application, kind=data["kind"], upload=data["file"], user=user
        )
    except DomainError as error:
        message_domain_error(request, error)
    else:
        messages.success(request, _("Uploaded: %(name)s") % {"name": material.original_name})
    return redirect("licensing:application", pk=pk)


def _stored_file(stored: Any) -> HttpResponse:
    return file_response(
        files.open_stored(stored.stored_name), content_type=stored.content_type, filename=stored.original_name
    )


@signed_in
def material_file(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        material = selectors.material_for_user(user=current_user(request), material_id=pk)
    except NotFound:
        raise Http404 from None
    return _stored_file(material)


@signed_in
def evaluation_file(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        evaluation = selectors.evaluation_for_user(user=current_user(request), evaluation_id=pk)
    except NotFound:
        raise Http404 from None
    return _stored_file(evaluation)


@real_name_required
def evaluations(request: HttpRequest, company_id: int) -> HttpResponse:
    user = current_user(request)
    try:
        company = selectors.company_for_member(user=user, company_id=company_id)
    except NotFound:
        raise Http404 from None
    if request.method == "POST":
        form = forms.EvaluationForm(request.POST, request.FILES)
        try:
            if not form.is_valid():  # the file first (its own code), then the dates
                raise form_error(
                    form, code="upload.empty" if "report" in form.errors else Code.FIELD_REQUIRED
                )
            data = form.cleaned_data
            services.security_evaluation_record(
                company=company,
                kind=data["kind"],
                agency=data["agency"],
                report_number=data["report_number"],
                issued_on=data["issued_on"],
                valid_until=data["valid_until"],
                filing_number=data["filing_number"],
                upload=data["report"],
                user=user,
            )
        except DomainError as error:
            message_domain_error(request, error)
        else:
            messages.success(request, _("Evaluation recorded."))
            back = request.GET.get("back", "")
            target = reverse("licensing:evaluations", kwargs={"company_id": company.pk})
            return HttpResponseRedirect(target + (f"?back={back}" if back.isdigit() else ""))
    today = today_in_china()
    return render(
        request,
        "licensing/evaluations.html",
        {
            "company": company,
            "statuses": selectors.evaluation_statuses(company, on=today),
            "all": selectors.evaluations_of(company),
            "kinds": SecurityEvaluation.Kind.choices,
            "today": today,
            "back": request.GET.get("back", ""),
        },
    )


@signed_in
def booking(request: HttpRequest) -> HttpResponse:
    """Test appointments: remaining slots per month; companies waiting for a test book here."""
    user = current_user(request)
    if request.method == "POST":
        try:
            data = cleaned_data(forms.BookingForm(request.POST), code=Code.FIELD_REQUIRED)
            services.test_booking_create(company_id=data["company_id"], month=data["month"], user=user)
        except DomainError as error:
            message_domain_error(request, error)
        else:
            messages.success(
                request, _("Test appointment booked for %(month)s.") % {"month": f"{data['month']:%Y-%m}"}
            )
        return redirect("licensing:booking")
    today = today_in_china()
    companies = []
    if user.kind != User.Kind.STAFF:
        for company in selectors.companies_of(user):
            companies.append(
                {
                    "company": company,
                    "waiting": selectors.waiting_for_test_booking(company),
                    "bookings": list(selectors.bookings_of(company)[:12]),
                }
            )
    return render(
        request,
        "licensing/booking.html",
        {"months": list(selectors.slot_months(on=today)), "companies": companies, "now": timezone.now()},
    )


@signed_in
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.notification_mark_read(user=current_user(request), notification_id=pk)
    except DomainError as error:
        message_domain_error(request, error)
    target = request.POST.get("next", "")
    return HttpResponseRedirect(target if target.startswith("/licensing/") else reverse("licensing:home"))


# --------------------------------------------------------------------------------------------
# Staff side
# --------------------------------------------------------------------------------------------


def _scope(request: HttpRequest) -> Any:
    scope = selectors.scope_of(current_user(request))
    if scope is None:
        raise Http404
    return scope


@staff_required
def staff_home(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    scope = _scope(request)
    party = selectors.staff_party(scope)
    today = today_in_china()
    queue = [
        {"stage": s, "days_left": (s.due_on - today).days if s.due_on else None}
        for s in selectors.staff_queue(scope=scope)
    ]
    reviews = [
        {"review": r, "days_left": (r.due_on - today).days if r.due_on else None}
        for r in selectors.department_queue(scope=scope)
    ]
    whole = []
    if party in (Party.PROVINCE_TRANSPORT, Party.MINISTRY, Party.CITY_TRANSPORT):
        whole = [selectors.task_view(a, on=today) for a in selectors.applications_in_scope(scope)[:200]]
    return render(
        request,
        "licensing/staff_home.html",
        {
            "scope": scope,
            "party": party,
            "party_label": Party(party).label if party else "",
            "queue": queue,
            "reviews": reviews,
            "whole": whole,
            "notifications": selectors.notifications_for_user(user),
            "is_transport": scope.department == "transport",
            "is_ministry": party == Party.MINISTRY,
            "is_department": party in REVIEW_DEPARTMENTS,
            "manages_quota": party in (Party.CITY_TRANSPORT, Party.PROVINCE_TRANSPORT),
            # Compliance flags concern the city transport authority and the police (issue #17, 5).
            "flags": list(selectors.compliance_flags_in_scope(scope)[:200])
            if scope.department in ("transport", "public_security")
            else [],
        },
    )


@staff_required
def staff_quotas(request: HttpRequest) -> HttpResponse:
    """A bad city or a refused notice comes back on the form (status 400), next to its field."""
    user = current_user(request)
    scope = _scope(request)
    initial = {"city_code": scope.region_code[:4] + "00"} if scope.level == "city" else {}
    form = forms.CityQuotaForm(
        request.POST if request.method == "POST" else None, region_prefix=scope.region_prefix, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.city_quota_set(**form.cleaned_data, user=user)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("City quota saved."))
            return redirect("licensing:staff_quotas")
    quotas = selectors.city_quotas(scope=scope)
    return render(
        request,
        "licensing/staff_quotas.html",
        {
            "quotas": [{"q": q, "name": region_name(q.city_code)} for q in quotas],
            "scope": scope,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


SLOT_ACTIONS: dict[str, PostedAction] = {
    "create": PostedAction(
        forms.SlotMonthForm,
        lambda _, user, data: services.test_slot_month_create(user=user, **data),
        gettext_lazy("Test appointments saved."),
    ),
    "extra": PostedAction(
        forms.SlotExtraForm,
        lambda _, user, data: services.test_slot_month_add_capacity(
            slot_month=selectors.slot_month(slot_id=data["slot_id"]),
            extra=data["extra"],
            reason=data["reason"],
            user=user,
        ),
        gettext_lazy("Test appointments saved."),
    ),
}
SLOT_ACTIONS[""] = SLOT_ACTIONS["create"]  # the month form posts no ``op``
"""The test-appointment page's actions (``op=``)."""


@staff_required
def staff_slots(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if request.method == "POST":
        try:
            done = posted_action(SLOT_ACTIONS, request.POST, key="op").perform(
                request.POST, None, user, code=Code.FIELD_REQUIRED
            )
        except DomainError as error:
            message_domain_error(request, error)
        else:
            messages.success(request, done)
        return redirect("licensing:staff_slots")
    scope = _scope(request)
    return render(
        request,
        "licensing/staff_slots.html",
        {
            "months": selectors.recent_slot_months(),
            "is_ministry": selectors.staff_party(scope) == Party.MINISTRY,
        },
    )


@staff_required
def staff_expiries(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    days = forms.ExpiriesForm(request.GET).days_or_default()
    today = today_in_china()
    return render(
        request,
        "licensing/staff_expiries.html",
        {
            "days": days,
            "today": today,
            "evaluations": [
                {"e": e, "left": (e.valid_until - today).days if e.valid_until else None}
                for e in selectors.expiring_evaluations(scope=scope, on=today, within_days=days)
            ],
            "documents": [
                {"d": d, "left": (d.valid_until - today).days}
                for d in selectors.expiring_test_documents(scope=scope, on=today, within_days=days)
            ],
        },
    )
