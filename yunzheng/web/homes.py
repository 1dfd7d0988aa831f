"""A home per role, reached right after login: the driver's services grid, the company's console
and the staff workbench. Everything shown comes from the owning app's selectors and portal module;
nothing here queries another app's models."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from yunzheng.core import portal
from yunzheng.core.auth import staff_required
from yunzheng.core.errors import DomainError
from yunzheng.web.navigation import COMPANY, STAFF, role_of


@login_required
@require_GET
def my_home(request: HttpRequest) -> HttpResponse:
    """Where "my home" leads each role: staff to the workbench, company contacts to the choice of
    company, everyone else to the driver's home."""
    role = role_of(request.user)
    if role == STAFF:
        return redirect("web:workbench")
    if role == COMPANY:
        return redirect("web:company_pick")
    return redirect("web:driver_home")


@login_required
@require_GET
def driver_home(request: HttpRequest) -> HttpResponse:
    from yunzheng.accounts.models import User
    from yunzheng.elicense import portal as elicense_portal
    from yunzheng.practitioners import portal as office_portal

    user = request.user
    if not isinstance(user, User) or user.kind == User.Kind.STAFF:
        return redirect("web:workbench")
    return render(
        request,
        "web/driver_home.html",
        {
            "services": office_portal.driver_services(),
            "case_states": office_portal.driver_case_counts(user),
            "documents": office_portal.driver_documents(user) + elicense_portal.holder_documents(user),
            "contacts": office_portal.business_contacts(user),
            "real_name_status": user.get_real_name_status_display(),
            "verified": user.is_real_name_verified,
            "is_company_member": role_of(user) == COMPANY,
        },
    )


@login_required
@require_GET
def company_pick(request: HttpRequest) -> HttpResponse:
    """The contact person picks which company to work for (most have one)."""
    from yunzheng.accounts import selectors as accounts
    from yunzheng.accounts.models import User

    user = request.user
    if not isinstance(user, User):
        raise DjangoPermissionDenied
    return render(request, "web/company_pick.html", {"companies": accounts.companies_for_user(user=user)})


@login_required
@require_GET
def company_home(request: HttpRequest, pk: int) -> HttpResponse:
    from yunzheng.accounts import selectors as accounts
    from yunzheng.accounts.models import User
    from yunzheng.conformance import portal as conformance_portal
    from yunzheng.elicense import portal as elicense_portal
    from yunzheng.exchange import portal as exchange_portal
    from yunzheng.licensing import portal as licensing_portal

    user = request.user
    if not isinstance(user, User):
        raise DjangoPermissionDenied
    try:
        company = accounts.company_for_member(user=user, company_id=pk)
    except DomainError:
        raise Http404 from None
    panels: list[Any] = [
        exchange_portal.company_panel(user, company),
        conformance_portal.company_panel(user, company),
        *licensing_portal.company_panels(user, company),
        elicense_portal.company_panel(user, company),
    ]
    return render(request, "web/company_home.html", {"company": company, "panels": panels})


@staff_required
@require_GET
def workbench(request: HttpRequest) -> HttpResponse:
    """Every queue this staff member's department, level and region may act on, with counts."""
    from yunzheng.accounts.scopes import staff_scope

    user = request.user
    scope = staff_scope(user)
    queues = portal.staff_queues(user)
    return render(
        request,
        "web/workbench.html",
        {
            "scope": scope,
            "profile": getattr(user, "staff_profile", None),
            "queues": queues,
            "pages": portal.staff_pages(user),
            "total_overdue": sum(q.overdue or 0 for q in queues),
            "otp_settings_url": reverse("accounts:staff_home"),
        },
    )
