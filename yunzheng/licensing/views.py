"""Pages of the ride-hailing platform licensing workflow: the company's task list, each
department's queue, the province's whole-case view, test appointment booking, quotas, slots and
expiries. Like api.py: read the form, call one service or selector, show the result; errors come
back as messages on the page they were made on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from yunzheng.accounts.guards import real_name_required
from yunzheng.accounts.models import User
from yunzheng.accounts.scopes import region_name
from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import mask_phone
from yunzheng.core.errors import DomainError, NotFound, ValidationFailed
from yunzheng.core.forms import message_domain_error
from yunzheng.licensing import files, selectors, services
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import (
    REVIEW_DEPARTMENTS,
    CityQuota,
    LicenceApplication,
    LicencePath,
    Material,
    Party,
    SecurityEvaluation,
    Step,
    TestSlotMonth,
)
from yunzheng.licensing.workflow import ACTION_LABELS, PHASE, STEPS_NEEDING_TEST_DOCUMENT, Action, phases_for


def _date(data: QueryDict, name: str, *, required: bool = True) -> dt.date | None:
    raw = (data.get(name) or "").strip()
    if not raw and not required:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed.single(
            field=name, code=Code.FIELD_REQUIRED, message=_("Enter a date as YYYY-MM-DD.")
        ) from None


def _int(data: QueryDict, name: str, default: int | None = None) -> int:
    raw = (data.get(name) or "").strip()
    if not raw and default is not None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationFailed.single(
            field=name, code=Code.FIELD_REQUIRED, message=_("Enter a number.")
        ) from None


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
                "tasks": [
                    selectors.task_view(a, on=today)
                    for a in LicenceApplication.objects.filter(company=company)
                ],
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
            "quotas": CityQuota.objects.filter(accepting=False),
        },
    )


@real_name_required
@require_POST
def apply(request: HttpRequest, company_id: int) -> HttpResponse:
    user = current_user(request)
    try:
        company = selectors.company_for_member(user=user, company_id=company_id)
        application = services.application_create(
            company=company,
            path=request.POST.get("path", ""),
            city_code=request.POST.get("city_code", ""),
            user=user,
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
    stages = list(application.stages.all())
    phases = []
    for phase in phases_for(application.path):
        phase_stages = [s for s in stages if PHASE[s.kind] == phase]
        phases.append({"phase": phase, "stages": phase_stages, "current": PHASE[application.step] == phase})
    materials = list(application.materials.select_related("uploaded_by"))
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
            {"t": t, "label": ACTION_LABELS.get(t.action, t.action)} for t in application.transitions.all()
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


# Actions posted from the application page: each calls exactly one service.
def _act(action: str, application: LicenceApplication, user: User, data: QueryDict) -> str:
    """Run one action; returns the success message."""
    reason = data.get("reason", "")
    if action == "submit_quota":
        services.quota_materials_submit(application=application, user=user)
    elif action == Action.RETURN_QUOTA:
        services.quota_return(application=application, user=user, reason=reason)
    elif action == Action.SEND_LETTER:
        services.work_letter_send(
            application=application,
            user=user,
            letter_number=data.get("letter_number", ""),
            letter_date=_date(data, "letter_date") or today_in_china(),
        )
    elif action == Action.MINISTRY_REPLY:
        services.ministry_reply_record(
            application=application,
            user=user,
            reply_number=data.get("reply_number", ""),
            reply_date=_date(data, "reply_date") or today_in_china(),
        )
    elif action == Action.MINISTRY_REFUSE:
        services.ministry_refuse(application=application, user=user, reason=reason)
    elif action == Action.COMPLETE_INFO:
        services.company_info_complete(
            application=application,
            user=user,
            platform_name=data.get("platform_name", ""),
            app_name=data.get("app_name", ""),
            server_location=data.get("server_location", ""),
        )
    elif action == Action.OPEN_TEST_ACCOUNT:
        services.test_account_open(application=application, user=user, account=data.get("account", ""))
    elif action == Action.OPEN_VPN_ACCOUNT:
        services.vpn_account_open(application=application, user=user, account=data.get("account", ""))
    elif action in ("test_passed", "test_failed"):
        services.test_result_record(
            application=application,
            user=user,
            passed=action == "test_passed",
            issued_on=_date(data, "issued_on", required=False),
            document_number=data.get("document_number", ""),
            reason=reason,
        )
    elif action == Action.SUBMIT_CAPABILITY:
        services.capability_submit(application=application, user=user)
    elif action == Action.FORWARD_TO_PROVINCE:
        services.capability_forward(application=application, user=user)
    elif action == Action.RETURN_CAPABILITY:
        services.capability_initial_review(
            application=application, user=user, decision="return", reason=reason
        )
    elif action == Action.DISTRIBUTE:
        services.capability_distribute(application=application, user=user)
    elif action == Action.DEPARTMENT_REVIEW:
        services.department_review_submit(
            application=application,
            user=user,
            recommendation=data.get("recommendation", ""),
            comments=data.get("comments", ""),
        )
    elif action == Action.EXTEND:
        services.capability_extend(application=application, user=user, reason=reason)
    elif action == "decide":
        services.capability_decide(
            application=application,
            user=user,
            decision=data.get("decision", ""),
            reason=reason,
            decision_number=data.get("decision_number", ""),
            missing_reason=data.get("missing_reason", ""),
        )
    elif action == Action.RESUBMIT_CAPABILITY:
        services.capability_resubmit(application=application, user=user)
    elif action == Action.LAPSE_REVISION:
        services.capability_revision_lapse(application=application, user=user, reason=reason)
    elif action == Action.SUBMIT_EVALUATIONS:
        services.evaluations_submit(application=application, user=user)
    elif action == Action.GRANT:
        licence = services.licence_grant(
            application=application,
            user=user,
            scope=data.get("scope", ""),
            area=data.get("area", ""),
            valid_years=_int(data, "valid_years", 4),
        )
        return _("Licence %(number)s granted.") % {"number": licence.number}
    elif action == Action.REFUSE:
        services.licence_refuse(application=application, user=user, reason=reason)
    elif action == Action.RETEST:
        services.application_retest(application=application, user=user)
    elif action == Action.WITHDRAW:
        services.application_withdraw(application=application, user=user, reason=reason)
    else:
        raise ValidationFailed.single(
            field="action", code=Code.TRANSITION_NOT_ALLOWED, message=_("Unknown action.")
        )
    return str(ACTION_LABELS.get(action, _("Done.")))


@signed_in
@require_POST
def application_act(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    try:
        application, role = selectors.application_for_user(user=user, application_id=pk)
    except NotFound:
        raise Http404 from None
    try:
        done = _act(request.POST.get("action", ""), application, user, request.POST)
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
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationFailed.single(field="file", code="upload.empty", message=_("Choose a file."))
        material = services.material_upload(
            application=application, kind=request.POST.get("kind", ""), upload=upload, user=user
        )
    except DomainError as error:
        message_domain_error(request, error)
    else:
        messages.success(request, _("Uploaded: %(name)s") % {"name": material.original_name})
    return redirect("licensing:application", pk=pk)


def _file_response(*, stored_name: str, content_type: str, original_name: str) -> FileResponse:
    response = FileResponse(
        iter([files.open_stored(stored_name)]),
        content_type=content_type,
        as_attachment=True,
        filename=original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@signed_in
def material_file(request: HttpRequest, pk: int) -> HttpResponse:
    material = Material.objects.select_related("application").filter(pk=pk).first()
    if material is None:
        raise Http404
    try:
        _application, role = selectors.application_for_user(
            user=current_user(request), application_id=material.application_id
        )
    except NotFound:
        raise Http404 from None
    if role in REVIEW_DEPARTMENTS and material.kind not in selectors.DEPARTMENT_MATERIAL_KINDS:
        raise Http404
    return _file_response(  # type: ignore[return-value]  # a streaming response, like any other here
        stored_name=material.stored_name,
        content_type=material.content_type,
        original_name=material.original_name,
    )


@signed_in
def evaluation_file(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = SecurityEvaluation.objects.select_related("company").filter(pk=pk).first()
    if evaluation is None:
        raise Http404
    user = current_user(request)
    allowed = selectors.is_member(user, evaluation.company)
    scope = selectors.scope_of(user)
    if scope is not None and scope.department == "transport":
        allowed = (
            scope.level == "ministry"
            or LicenceApplication.objects.filter(
                company=evaluation.company, city_code__startswith=scope.region_prefix
            ).exists()
        )
    if not allowed:
        raise Http404
    return _file_response(  # type: ignore[return-value]
        stored_name=evaluation.stored_name,
        content_type=evaluation.content_type,
        original_name=evaluation.original_name,
    )


@real_name_required
def evaluations(request: HttpRequest, company_id: int) -> HttpResponse:
    user = current_user(request)
    try:
        company = selectors.company_for_member(user=user, company_id=company_id)
    except NotFound:
        raise Http404 from None
    if request.method == "POST":
        try:
            upload = request.FILES.get("report")
            if upload is None:
                raise ValidationFailed.single(
                    field="report", code="upload.empty", message=_("Choose the report (PDF).")
                )
            services.security_evaluation_record(
                company=company,
                kind=request.POST.get("kind", ""),
                agency=request.POST.get("agency", ""),
                report_number=request.POST.get("report_number", ""),
                issued_on=_date(request.POST, "issued_on") or today_in_china(),
                valid_until=_date(request.POST, "valid_until", required=False),
                filing_number=request.POST.get("filing_number", ""),
                upload=upload,
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
            "all": SecurityEvaluation.objects.filter(company=company),
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
            month = _date(request.POST, "month") or today_in_china()
            services.test_booking_create(company_id=_int(request.POST, "company_id"), month=month, user=user)
        except DomainError as error:
            message_domain_error(request, error)
        else:
            messages.success(
                request, _("Test appointment booked for %(month)s.") % {"month": f"{month:%Y-%m}"}
            )
        return redirect("licensing:booking")
    today = today_in_china()
    companies = []
    if user.kind != User.Kind.STAFF:
        for company in selectors.companies_of(user):
            companies.append(
                {
                    "company": company,
                    "waiting": LicenceApplication.objects.filter(
                        company=company, step=Step.TEST_BOOKING
                    ).first(),
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
    user = current_user(request)
    scope = _scope(request)
    if request.method == "POST":
        try:
            services.city_quota_set(
                city_code=request.POST.get("city_code", ""),
                accepting=request.POST.get("accepting") == "yes",
                notice_number=request.POST.get("notice_number", ""),
                notice_title=request.POST.get("notice_title", ""),
                notice_date=_date(request.POST, "notice_date", required=False),
                local_evaluations_required={"yes": True, "no": False}.get(
                    request.POST.get("local_evaluations", "")
                ),
                user=user,
            )
        except DomainError as error:
            message_domain_error(request, error)
        else:
            messages.success(request, _("City quota saved."))
        return redirect("licensing:staff_quotas")
    quotas = CityQuota.objects.filter(city_code__startswith=scope.region_prefix)
    return render(
        request,
        "licensing/staff_quotas.html",
        {
            "quotas": [{"q": q, "name": region_name(q.city_code)} for q in quotas],
            "scope": scope,
            "default_city": scope.region_code if scope.level == "city" else "",
        },
    )


@staff_required
def staff_slots(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if request.method == "POST":
        try:
            if request.POST.get("op") == "extra":
                slot = TestSlotMonth.objects.filter(pk=_int(request.POST, "slot_id")).first()
                if slot is None:
                    raise NotFound(Code.BOOKING_MONTH_NOT_FOUND, _("No such month."))
                services.test_slot_month_add_capacity(
                    slot_month=slot,
                    extra=_int(request.POST, "extra"),
                    reason=request.POST.get("reason", ""),
                    user=user,
                )
            else:
                month = _date(request.POST, "month") or today_in_china()
                opens = request.POST.get("opens_at", "").strip()
                opens_at = None
                if opens:
                    try:
                        opens_at = dt.datetime.fromisoformat(opens).replace(tzinfo=services.SHANGHAI)
                    except ValueError:
                        raise ValidationFailed.single(
                            field="opens_at",
                            code=Code.FIELD_REQUIRED,
                            message=_("Enter a time as YYYY-MM-DDTHH:MM."),
                        ) from None
                services.test_slot_month_create(
                    month=month, user=user, capacity=_int(request.POST, "capacity", 20), opens_at=opens_at
                )
        except DomainError as error:
            message_domain_error(request, error)
        else:
            messages.success(request, _("Test appointments saved."))
        return redirect("licensing:staff_slots")
    scope = _scope(request)
    return render(
        request,
        "licensing/staff_slots.html",
        {
            "months": list(TestSlotMonth.objects.order_by("-month")[:24]),
            "is_ministry": selectors.staff_party(scope) == Party.MINISTRY,
        },
    )


@staff_required
def staff_expiries(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    try:
        days = max(1, min(int(request.GET.get("days", "60")), 366))
    except ValueError:
        days = 60
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
