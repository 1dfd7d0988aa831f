"""Pages of the conformance app (mounted at /conformance/): no business rules here.

Companies: their sandbox credentials (on the accounts company page), campaigns, the connectivity
test sheet, the consistency report, the cycle comparison and the PDF. Staff (transport authority):
official runs and company results. Everyone signed in: what changed between two spec versions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yunzheng.accounts.models import CompanyCredential, User
from yunzheng.conformance import selectors, services
from yunzheng.conformance.error_codes import ConformanceErrorCode as Code
from yunzheng.conformance.forms import CampaignStartForm, CycleOpenForm, OfficialStartForm
from yunzheng.conformance.models import Campaign, Cycle
from yunzheng.conformance.report_pdf import campaign_pdf
from yunzheng.conformance.specversions import load_version, spec_diff, spec_versions
from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.errors import DomainError, NotFound
from yunzheng.core.errors import PermissionDenied as DomainPermissionDenied
from yunzheng.core.forms import cleaned_data, message_domain_error
from yunzheng.core.http import file_response


def signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Company users (logged in) and staff (with their second factor) both pass."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(user, "kind", "") == User.Kind.STAFF:
            return staff_required(view)(request, *args, **kwargs)
        return view(request, *args, **kwargs)

    return wrapper


def _visible(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainPermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc


def _campaign_url(campaign: Campaign) -> str:
    return reverse("conformance:campaign", args=[campaign.pk])


# --------------------------------------------------------------------------------------------
# Company side
# --------------------------------------------------------------------------------------------


@signed_in
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if selectors.is_staff(user):
        return HttpResponseRedirect(reverse("conformance:staff_home"))
    companies = []
    campaigns = selectors.visible_campaigns(user)
    for company in selectors.member_companies(user):
        credentials = company.credentials.filter(revoked_at__isnull=True)
        companies.append(
            {
                "company": company,
                "sandbox_credentials": credentials.filter(
                    environment=CompanyCredential.Environment.SANDBOX
                ).count(),
                "open_cycle": selectors.open_cycle_of(company),
                "campaigns": [c for c in campaigns if c.company_id == company.pk][:20],
                "outside": selectors.uploads_outside_cycles(company),
            }
        )
    return render(request, "conformance/home.html", {"companies": companies})


@signed_in
@require_POST
def campaign_start(request: HttpRequest, company_id: int) -> HttpResponse:
    form = CampaignStartForm(request.POST)
    form.is_valid()  # every field is optional: the form only normalises them
    try:
        campaign = services.campaign_start_self_service(
            company_id=company_id, user=current_user(request), replay=form.cleaned_data["replay"]
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as error:
        message_domain_error(request, error)
        return HttpResponseRedirect(reverse("conformance:home"))
    messages.success(
        request, _("Test campaign started. Open a cycle, then upload with your sandbox credential.")
    )
    return HttpResponseRedirect(_campaign_url(campaign))


@signed_in
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    campaign = _visible(lambda: selectors.campaign_for_user(user=user, campaign_id=pk))
    cycles = list(campaign.cycles.order_by("number"))
    return render(
        request,
        "conformance/campaign.html",
        {
            "campaign": campaign,
            "cycles": cycles,
            "open_cycle": next((c for c in cycles if c.is_open), None),
            "company_open_cycle": selectors.open_cycle_of(campaign.company),
            "can_run": selectors.can_run(user, campaign),
            "kinds": Cycle.Kind.choices,
            "staff": selectors.is_staff(user),
        },
    )


@signed_in
@require_POST
def cycle_open(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    campaign = _visible(lambda: selectors.campaign_for_user(user=user, campaign_id=pk))
    form = CycleOpenForm(request.POST)
    form.is_valid()  # the kind is the service's to check
    try:
        cycle = services.cycle_open(campaign=campaign, kind=form.cleaned_data["kind"], user=user)
    except DomainError as error:
        message_domain_error(request, error)
        return HttpResponseRedirect(_campaign_url(campaign))
    messages.success(
        request, _("Cycle %(number)s is open: sandbox uploads are graded in it.") % {"number": cycle.number}
    )
    return HttpResponseRedirect(reverse("conformance:cycle", args=[cycle.pk]))


@signed_in
@require_POST
def cycle_close(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    cycle = _visible(lambda: selectors.cycle_for_user(user=user, cycle_id=pk))
    try:
        closed = services.cycle_close(cycle=cycle, user=user)
    except DomainError as error:
        message_domain_error(request, error)
        return HttpResponseRedirect(reverse("conformance:cycle", args=[cycle.pk]))
    messages.success(request, _("Cycle %(number)s is graded.") % {"number": closed.number})
    return HttpResponseRedirect(reverse("conformance:cycle", args=[cycle.pk]))


@signed_in
@require_POST
def campaign_end(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    campaign = _visible(lambda: selectors.campaign_for_user(user=user, campaign_id=pk))
    try:
        services.campaign_end(campaign=campaign, user=user)
    except DomainError as error:
        message_domain_error(request, error)
    return HttpResponseRedirect(_campaign_url(campaign))


@signed_in
@require_GET
def cycle_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    cycle = _visible(lambda: selectors.cycle_for_user(user=user, cycle_id=pk))
    report = selectors.cycle_report(cycle)
    context = {
        "cycle": cycle,
        "campaign": cycle.campaign,
        "report": report,
        "can_run": selectors.can_run(user, cycle.campaign),
    }
    if cycle.kind == Cycle.Kind.CONNECTIVITY:
        interfaces = report.get("interfaces", [])
        wanted = request.GET.get("status", "")
        context["interfaces"] = [r for r in interfaces if not wanted or r["status"] == wanted]
        context["wanted"] = wanted
        return render(request, "conformance/cycle_connectivity.html", context)
    return render(request, "conformance/cycle_consistency.html", context)


@signed_in
@require_GET
def campaign_compare(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    campaign = _visible(lambda: selectors.campaign_for_user(user=user, campaign_id=pk))
    return render(
        request,
        "conformance/compare.html",
        {"campaign": campaign, "comparison": selectors.campaign_comparison(campaign)},
    )


@signed_in
@require_GET
def campaign_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    campaign = _visible(lambda: selectors.campaign_for_user(user=user, campaign_id=pk))
    return file_response(
        campaign_pdf(campaign),
        content_type="application/pdf",
        filename=f"conformance-campaign-{campaign.pk}.pdf",
        inline=True,
    )


@signed_in
@require_GET
def spec_page(request: HttpRequest) -> HttpResponse:
    versions = spec_versions()
    old_version = request.GET.get("old", "")
    new_version = request.GET.get("new", "")
    diff = None
    error = ""
    if old_version and new_version:
        old, new = load_version(old_version), load_version(new_version)
        if old is None or new is None:
            error = _("Unknown spec version.")
        else:
            diff = spec_diff(old, new)
    return render(
        request,
        "conformance/spec.html",
        {"versions": versions, "diff": diff, "old": old_version, "new": new_version, "error": error},
    )


# --------------------------------------------------------------------------------------------
# Staff side
# --------------------------------------------------------------------------------------------


def _regulator(request: HttpRequest) -> Any:
    scope = selectors.regulator_scope(current_user(request))
    if scope is None:
        raise DjangoPermissionDenied(_("Only transport authority staff run official tests."))
    return scope


@staff_required
@require_GET
def staff_home(request: HttpRequest) -> HttpResponse:
    scope = _regulator(request)
    user = current_user(request)
    companies = list(selectors.scope_companies(scope)[:200])
    official = list(selectors.visible_campaigns(user).filter(kind=Campaign.Kind.OFFICIAL)[:100])
    return render(
        request,
        "conformance/staff_home.html",
        {
            "scope": scope,
            "rows": [{"company": c, "bookings": selectors.company_bookings(c)} for c in companies],
            "official": official,
        },
    )


@staff_required
@require_POST
def staff_official_start(request: HttpRequest) -> HttpResponse:
    _regulator(request)
    try:
        data = cleaned_data(OfficialStartForm(request.POST), code=Code.FIELD_INVALID)
        campaign = services.campaign_start_official(
            company_id=data["company_id"],
            user=current_user(request),
            booking_id=data["booking_id"],
            reference=data["reference"],
        )
    except DomainError as error:
        message_domain_error(request, error)
        return HttpResponseRedirect(reverse("conformance:staff_home"))
    messages.success(request, _("Official test started. Open the first cycle when the company is ready."))
    return HttpResponseRedirect(_campaign_url(campaign))


@staff_required
@require_GET
def staff_company(request: HttpRequest, company_id: int) -> HttpResponse:
    scope = _regulator(request)
    company = selectors.scope_companies(scope).filter(pk=company_id).first()
    if company is None:
        raise Http404
    campaigns = selectors.visible_campaigns(current_user(request)).filter(company=company)
    return render(
        request,
        "conformance/staff_company.html",
        {"company": company, "campaigns": campaigns, "bookings": selectors.company_bookings(company)},
    )
