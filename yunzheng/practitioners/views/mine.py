"""My Office: the applicant's cases, their materials and certificates, the credit voucher."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from yunzheng.accounts.guards import real_name_required
from yunzheng.accounts.scopes import region_name
from yunzheng.core.auth import current_user
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import decrypt_field, mask_name, mask_phone
from yunzheng.core.errors import DomainError, NotFound
from yunzheng.core.forms import message_domain_error
from yunzheng.core.http import file_response
from yunzheng.elicense.rendering import public_base_url
from yunzheng.practitioners import catalogue, licences, selectors, services
from yunzheng.practitioners.models import (
    CaseMaterial,
    CaseState,
    CaseType,
    DeliveryMethod,
    ServiceCase,
)
from yunzheng.practitioners.views._common import _own_case, _shown_on_audited_page
from yunzheng.practitioners.workflow import ACTION_LABELS, Action

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
    elif case.case_type == CaseType.RENEWAL:
        detail_rows += [
            (_("Licence class (准驾车型)"), details.get("licence_class", "")),
            (_("Reason for the renewal"), details.get("reason", "")),
        ]
    elif case.case_type == CaseType.REPLACEMENT:
        reason = details.get("replacement_reason", "")
        detail_rows.append((_("Licence class (准驾车型)"), details.get("licence_class", "")))
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
        if details.get("licence_class"):
            detail_rows.append((_("Licence class (准驾车型)"), details["licence_class"]))
        if details.get("unit_phone"):
            detail_rows.append((_("Phone of the service unit"), details["unit_phone"]))
        if details.get("new_address"):
            detail_rows.append((_("New address"), details["new_address"]))
        if details.get("new_contact_name"):
            detail_rows.append((_("New contact person"), mask_name(details["new_contact_name"])))
        if details.get("new_contact_phone"):
            detail_rows.append(
                (_("New contact phone"), mask_phone(decrypt_field(details["new_contact_phone"])))
            )
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
        "today": today_in_china(),
        "region": region_name(case.region_code),
    }


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    """我的办件: the user's cases, newest first, with state and due date."""
    user = current_user(request)
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
        {"page": page, "group": group, "query": f"group={group}" if group else "", "today": today_in_china()},
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
        services.case_withdraw(
            case=case, applicant=current_user(request), reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        message_domain_error(request, error)
    else:
        messages.success(request, _("The application was withdrawn."))
    return redirect("practitioners:case_detail", pk=case.pk)


@real_name_required
@require_POST
def case_supplement(request: HttpRequest, pk: int) -> HttpResponse:
    case = _own_case(request, pk)
    try:
        services.case_supplement(
            case=case, applicant=current_user(request), note=request.POST.get("note", "")
        )
    except DomainError as error:
        message_domain_error(request, error)
        return redirect("practitioners:case_materials", pk=case.pk)
    messages.success(request, _("The supplement was sent; the decision clock runs again."))
    return redirect("practitioners:case_detail", pk=case.pk)


@never_cache
@login_required
def material_file(request: HttpRequest, pk: int, material_pk: int) -> HttpResponse:
    """A material's image, for the applicant or staff whose scope covers the case (audited)."""
    user = current_user(request)
    try:
        material, as_staff = selectors.material_for_viewer(user=user, case_id=pk, material_id=material_pk)
    except NotFound:
        raise Http404 from None
    if as_staff:  # current_user let staff through only with their second factor
        if _shown_on_audited_page(request.GET.get("t", ""), material_pk=material.pk, staff_pk=user.pk):
            return _material_response(material)
        services.material_staff_view_record(material=material, staff=user)
    return _material_response(material)


def _material_response(material: CaseMaterial) -> HttpResponse:
    return file_response(
        services.material_bytes(material=material), content_type=material.content_type, inline=True
    )


@login_required
def my_certificates(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    services.certificates_associate_for_user(user=user)
    return render(
        request,
        "practitioners/my_certificates.html",
        {
            "certificates": list(selectors.certificates_for_user(user=user)),
            "today": today_in_china(),
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
            assessment=assessment, kind=kind, base_url=public_base_url(request), user=current_user(request)
        )
    except NotFound:
        raise Http404 from None
    except DomainError as error:  # no longer valid, or the province cannot sign yet
        message_domain_error(request, error)
        return redirect("practitioners:case_detail", pk=case.pk)
    return file_response(
        content, content_type=content_type, filename=f"credit-voucher-{assessment.cycle_year}.{kind}"
    )


@never_cache
@login_required
def voucher_png(request: HttpRequest, pk: int) -> HttpResponse:
    """The credit-assessment voucher as a picture (elicense signs it and draws it)."""
    return _voucher_download(request, pk, "png")


@never_cache
@login_required
def voucher_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _voucher_download(request, pk, "pdf")
