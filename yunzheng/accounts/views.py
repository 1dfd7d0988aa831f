"""Pages of the accounts app: SMS login, agreements, real-name verification, company accounts,
and the staff login and real-name review. Views parse forms and call services; no rules here."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from yunzheng.accounts import selectors, services
from yunzheng.accounts.auth import client_ip
from yunzheng.accounts.forms import (
    CompanyRegisterForm,
    ContactChangeForm,
    CredentialForm,
    LoginForm,
    MemberForm,
    OtpForm,
    PhotoForm,
    RealNameForm,
    RejectForm,
    StaffLoginForm,
)
from yunzheng.accounts.guards import real_name_required
from yunzheng.accounts.models import Company, RealNameVerification, User
from yunzheng.accounts.policies import current_policies
from yunzheng.accounts.scopes import region_name, staff_scope
from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.crypto import mask_id_number, mask_name, mask_phone
from yunzheng.core.errors import DomainError, NotFound, PermissionDenied
from yunzheng.core.forms import PostedAction, add_domain_error
from yunzheng.core.http import file_response

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
STAFF_PENDING_USER = "accounts_staff_pending_user"
STAFF_PENDING_AT = "accounts_staff_pending_at"
STAFF_PENDING_SECONDS = 300


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --------------------------------------------------------------------------------------------
# Public login
# --------------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Phone + SMS code, one page, no JavaScript needed: "send code" and "log in" are two buttons."""
    next_url = _safe_next(request, reverse("web:my_home"))
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(next_url)
    form = LoginForm(request.POST or None)
    code_sent: services.SmsCodeIssued | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "send_code":
                code_sent = services.sms_code_request(
                    phone=data["phone"], client_ip=client_ip(request), agreed=data["agree"]
                )
            else:
                result = services.sms_login(
                    phone=data["phone"],
                    code=data["code"] or "",
                    client_ip=client_ip(request),
                    agreed=data["agree"],
                )
                auth_login(request, result.user, backend=MODEL_BACKEND)
                if result.created:
                    messages.success(request, _("Welcome! Your account has been created."))
                if not result.user.is_real_name_verified and next_url in (
                    reverse("web:my_home"),
                    reverse("web:driver_home"),
                ):
                    # Straight to verification, and back to the home afterwards.
                    return HttpResponseRedirect(
                        reverse("accounts:realname") + "?" + urlencode({"next": next_url})
                    )
                return HttpResponseRedirect(next_url)
        except DomainError as error:
            add_domain_error(form, error)
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "code_sent": code_sent,
            "code_sent_minutes": code_sent.expires_in_seconds // 60 if code_sent else 0,
            "next": next_url,
            "policies": current_policies(),
        },
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.user_logout_recorded(user=current_user(request))
    auth_logout(request)
    messages.success(request, _("You have logged out."))
    return redirect("web:home")


def user_agreement(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/user_agreement.html", {"policy": current_policies()[0]})


def privacy_policy(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/privacy_policy.html", {"policy": current_policies()[1]})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    return render(
        request,
        "accounts/home.html",
        {
            "masked_phone": mask_phone(user.phone) if user.phone else "",
            "masked_name": mask_name(user.real_name) if user.real_name else "",
            "masked_id_number": mask_id_number(user.id_number) if user.id_number else "",
            "companies": selectors.companies_for_user(user=user),
        },
    )


# --------------------------------------------------------------------------------------------
# Real-name verification
# --------------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def realname(request: HttpRequest) -> HttpResponse:
    """Status of the user's verification, and the photo upload that starts a new one."""
    user = current_user(request)
    next_url = _safe_next(request, "")
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            verification = services.realname_photo_upload(user=user, upload=form.cleaned_data["photo"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            target = reverse("accounts:realname_confirm", args=[verification.pk])
            if next_url:
                target += "?" + urlencode({"next": next_url})
            return HttpResponseRedirect(target)
    latest = selectors.realname_latest_for_user(user=user)
    return render(
        request,
        "accounts/realname.html",
        {
            "form": form,
            "latest": latest,
            "draft": selectors.realname_draft_for_user(user=user),
            "next": next_url,
            "masked_name": mask_name(user.real_name) if user.real_name else "",
            "masked_id_number": mask_id_number(user.id_number) if user.id_number else "",
        },
    )


def _own_verification(request: HttpRequest, pk: int) -> RealNameVerification:
    try:
        return selectors.realname_verification_for_user(user=current_user(request), verification_id=pk)
    except NotFound:
        raise Http404 from None


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def realname_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The OCR prefill for the user to check and correct, then submit."""
    verification = _own_verification(request, pk)
    if verification.status != RealNameVerification.Status.DRAFT:
        return redirect("accounts:realname")
    prefill = selectors.realname_prefill(verification)
    next_url = _safe_next(request, "")
    form = RealNameForm(
        request.POST or None,
        initial={
            "name": prefill.name,
            "sex": prefill.sex,
            "ethnicity": prefill.ethnicity,
            "birth_date": prefill.birth_date,
            "address": prefill.address,
            "id_number": prefill.id_number,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            submitted = services.realname_verification_submit(
                user=current_user(request),
                verification_id=verification.pk,
                submission=services.RealNameSubmission(
                    name=data["name"],
                    sex=data["sex"],
                    ethnicity=data["ethnicity"],
                    birth_date=data["birth_date"],
                    address=data["address"],
                    id_number=data["id_number"],
                ),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if submitted.status == RealNameVerification.Status.APPROVED:
                messages.success(request, _("Your real name is verified."))
                if next_url:
                    return HttpResponseRedirect(next_url)
            else:
                messages.success(
                    request, _("Submitted. Staff will review it, usually within one working day.")
                )
            return redirect("accounts:realname")
    return render(
        request,
        "accounts/realname_confirm.html",
        {"form": form, "verification": verification, "ocr_read": not prefill.is_empty, "next": next_url},
    )


@never_cache
@login_required
def realname_own_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """The user's own uploaded photo (drafts and pending only), for comparing with the form."""
    verification = _own_verification(request, pk)
    if verification.status not in (RealNameVerification.Status.DRAFT, RealNameVerification.Status.PENDING):
        raise Http404
    return _photo_response(verification)


def _photo_response(verification: RealNameVerification) -> HttpResponse:
    try:
        content = services.realname_photo_bytes(verification=verification)
    except (NotFound, FileNotFoundError):
        raise Http404 from None
    return file_response(
        content, content_type=verification.photo_content_type or "application/octet-stream", inline=True
    )


# --------------------------------------------------------------------------------------------
# Companies
# --------------------------------------------------------------------------------------------


@login_required
def company_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/company_list.html",
        {"companies": selectors.companies_for_user(user=current_user(request))},
    )


@real_name_required
@require_http_methods(["GET", "POST"])
def company_register(request: HttpRequest) -> HttpResponse:
    form = CompanyRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            company = services.company_register(user=current_user(request), **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("The company is registered; you are its designated contact person."))
            return redirect("accounts:company_detail", pk=company.pk)
    return render(request, "accounts/company_register.html", {"form": form})


def _member_company(request: HttpRequest, pk: int) -> Company:
    try:
        return selectors.company_for_member(user=current_user(request), company_id=pk)
    except NotFound:
        raise Http404 from None


def _company_page(
    request: HttpRequest, company: Company, *, issued: Any = None, status: int = 200, **forms: Any
) -> HttpResponse:
    context = {
        "company": company,
        "is_contact": company.contact_user_id == request.user.pk,
        "credentials": selectors.company_credentials(company=company),
        "members": selectors.company_members(company=company),
        "designations": company.contact_designations.select_related("contact", "designated_by")[:20],
        "credential_form": forms.get("credential_form") or CredentialForm(),
        "member_form": forms.get("member_form") or MemberForm(),
        "issued": issued,
    }
    response = render(request, "accounts/company_detail.html", context, status=status)
    if issued is not None:
        response["Cache-Control"] = "no-store"  # the one page that shows the secret
    return response


@login_required
def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _company_page(request, _member_company(request, pk))


@login_required
@require_POST
def company_credential_create(request: HttpRequest, pk: int) -> HttpResponse:
    company = _member_company(request, pk)
    form = CredentialForm(request.POST)
    if form.is_valid():
        try:
            issued = services.company_credential_issue(
                company=company,
                user=current_user(request),
                name=form.cleaned_data["name"],
                environment=form.cleaned_data["environment"],
            )
        except PermissionDenied as denied:
            raise DjangoPermissionDenied(denied.message) from None
        except DomainError as error:
            add_domain_error(form, error)
        else:
            # Rendered, not redirected: the token exists only in this response.
            return _company_page(request, company, issued=issued)
    return _company_page(request, company, credential_form=form, status=422)


@login_required
@require_POST
def company_credential_revoke(request: HttpRequest, pk: int, credential_pk: int) -> HttpResponse:
    company = _member_company(request, pk)
    try:
        services.company_credential_withdraw(
            company=company, user=current_user(request), credential_id=credential_pk
        )
    except PermissionDenied as denied:
        raise DjangoPermissionDenied(denied.message) from None
    except NotFound:
        raise Http404 from None
    messages.success(request, _("The credential is revoked; uploads with it are refused from now on."))
    return redirect("accounts:company_detail", pk=company.pk)


@login_required
@require_POST
def company_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    company = _member_company(request, pk)
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            services.company_member_add(
                company=company, added_by=current_user(request), phone=form.cleaned_data["phone"]
            )
        except PermissionDenied as denied:
            raise DjangoPermissionDenied(denied.message) from None
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("The person was added to the company."))
            return redirect("accounts:company_detail", pk=company.pk)
    return _company_page(request, company, member_form=form, status=422)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def company_contact_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Two steps: enter the new contact and a reason; then confirm against a prominent warning."""
    company = selectors.company_with_contact(company_id=pk)
    if company is None:
        raise Http404
    if not services.company_contact_may_designate(company=company, user=current_user(request)):
        raise DjangoPermissionDenied(
            _("Only the company's contact person or its legal representative can do this.")
        )
    form = ContactChangeForm(request.POST or None, request.FILES or None)
    candidate: User | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            candidate = services.company_contact_candidate(phone=data["phone"])
            if request.POST.get("step") == "confirm":
                services.company_contact_change(
                    company=company,
                    changed_by=current_user(request),
                    new_contact_phone=data["phone"],
                    reason=data["reason"],
                    confirmed=data["confirm"],
                    letter=data.get("letter"),
                )
                messages.success(request, _("The designated contact person has been changed."))
                if selectors.companies_for_user(user=current_user(request)).filter(pk=company.pk).exists():
                    return redirect("accounts:company_detail", pk=company.pk)
                return redirect("accounts:company_list")  # the legal representative, not a member
        except DomainError as error:
            add_domain_error(form, error)
    return render(
        request,
        "accounts/company_contact.html",
        {
            "company": company,
            "form": form,
            "candidate": candidate,
            "candidate_name": mask_name(candidate.real_name or "") if candidate else "",
            "candidate_phone": mask_phone(candidate.phone or "") if candidate else "",
            "current_phone": mask_phone(company.contact_user.phone or "") if company.contact_user else "",
        },
    )


# --------------------------------------------------------------------------------------------
# Staff login (password, then TOTP) and real-name review
# --------------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def staff_login(request: HttpRequest) -> HttpResponse:
    """Step 1: the password. Nobody is logged in until the second factor is also right."""
    form = StaffLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_password_check(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                client_ip=client_ip(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            request.session.cycle_key()
            request.session[STAFF_PENDING_USER] = user.pk
            request.session[STAFF_PENDING_AT] = time.time()
            target = reverse("accounts:staff_otp")
            next_url = _safe_next(request, "")
            return HttpResponseRedirect(target + ("?" + urlencode({"next": next_url}) if next_url else ""))
    return render(request, "accounts/staff_login.html", {"form": form, "next": _safe_next(request, "")})


def _pending_staff_user(request: HttpRequest) -> User | None:
    user_id = request.session.get(STAFF_PENDING_USER)
    started = request.session.get(STAFF_PENDING_AT, 0)
    if not user_id or time.time() - float(started) > STAFF_PENDING_SECONDS:
        return None
    return selectors.active_staff_user(user_id=user_id)


@never_cache
@require_http_methods(["GET", "POST"])
def staff_otp(request: HttpRequest) -> HttpResponse:
    """Step 2: the TOTP code of the enrolled device. Without one, the page says to ask an
    administrator for an enrolment link: a device is never set up at login."""
    user = _pending_staff_user(request)
    if user is None:
        messages.error(request, _("Please enter your username and password first."))
        return redirect("accounts:staff_login")
    enrolled = selectors.has_confirmed_device(user=user)
    form = OtpForm(request.POST or None)
    if enrolled and request.method == "POST" and form.is_valid():
        try:
            verified_device = services.staff_otp_verify(
                user=user, token=form.cleaned_data["token"], client_ip=client_ip(request)
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            for key in (STAFF_PENDING_USER, STAFF_PENDING_AT):
                request.session.pop(key, None)
            user.otp_device = verified_device  # type: ignore[attr-defined]  # django_otp picks it up on login
            auth_login(request, user, backend=MODEL_BACKEND)
            return HttpResponseRedirect(_safe_next(request, reverse("web:workbench")))
    context: dict[str, Any] = {"form": form, "enrolled": enrolled, "next": _safe_next(request, "")}
    return render(request, "accounts/staff_otp.html", context)


@staff_required
def staff_home(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    scope = staff_scope(user)
    can_review = scope.in_department(*services.REAL_NAME_REVIEW_DEPARTMENTS)
    return render(
        request,
        "accounts/staff_home.html",
        {
            "profile": user.staff_profile,
            "scope": scope,
            "can_review": can_review,
            "pending_count": selectors.realname_review_queue(staff_user=user).count() if can_review else 0,
        },
    )


@staff_required
def staff_realname_queue(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    status = request.GET.get("status", RealNameVerification.Status.PENDING)
    if status not in (
        RealNameVerification.Status.PENDING,
        RealNameVerification.Status.APPROVED,
        RealNameVerification.Status.REJECTED,
    ):
        status = RealNameVerification.Status.PENDING
    try:
        items = list(selectors.realname_review_queue(staff_user=user, status=status)[:200])
    except PermissionDenied as denied:
        raise DjangoPermissionDenied(denied.message) from None
    rows = [
        {
            "item": item,
            "name": mask_name(item.name or ""),
            "id_number": mask_id_number(item.id_number or ""),
            "region": region_name(item.region_code),
        }
        for item in items
    ]
    return render(
        request,
        "accounts/staff_realname_queue.html",
        {"rows": rows, "status": status, "statuses": RealNameVerification.Status},
    )


def _staff_verification(request: HttpRequest, pk: int) -> RealNameVerification:
    try:
        return selectors.realname_verification_for_staff(staff_user=current_user(request), verification_id=pk)
    except PermissionDenied as denied:
        raise DjangoPermissionDenied(denied.message) from None
    except NotFound:
        raise Http404 from None


REALNAME_DECISIONS: dict[str, PostedAction] = {
    "approve": PostedAction(
        None,
        lambda verification, reviewer, data: services.realname_verification_approve(
            verification=verification, reviewer=reviewer
        ),
        gettext_lazy("Approved."),
    ),
    "reject": PostedAction(
        RejectForm,
        lambda verification, reviewer, data: services.realname_verification_reject(
            verification=verification, reviewer=reviewer, reason=data["reason"]
        ),
        gettext_lazy("Rejected; the applicant has been told why."),
    ),
}
"""The review page's decisions (``decision=``, ``reject`` when absent)."""


@staff_required
@require_http_methods(["GET", "POST"])
def staff_realname_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One submission in full (its viewing is audited), with approve / reject."""
    verification = _staff_verification(request, pk)
    reviewer = current_user(request)
    form = RejectForm()
    if request.method == "POST":
        decision = REALNAME_DECISIONS.get(request.POST.get("decision") or "reject")
        if decision is None:
            raise Http404
        bound = decision.bind(request.POST)
        form = bound if isinstance(bound, RejectForm) else RejectForm(request.POST)
        if bound.is_valid():
            try:
                messages.success(request, decision.call(verification, reviewer, bound))
                return redirect("accounts:staff_realname_queue")
            except DomainError as error:
                add_domain_error(form, error)
    services.realname_staff_access_record(staff_user=reviewer, verification=verification, what="details")
    return render(
        request,
        "accounts/staff_realname_detail.html",
        {
            "verification": verification,
            "form": form,
            "applicant_phone": mask_phone(verification.user.phone or ""),
            "region": region_name(verification.region_code),
        },
    )


@never_cache
@staff_required
def staff_realname_photo(request: HttpRequest, pk: int) -> HttpResponse:
    verification = _staff_verification(request, pk)
    services.realname_staff_access_record(
        staff_user=current_user(request), verification=verification, what="photo"
    )
    return _photo_response(verification)
