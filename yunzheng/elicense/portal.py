"""What electronic licences contribute to the homes and the staff workbench (see core.portal)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from yunzheng.core.portal import Destination, Fact, Panel, WorkQueue
from yunzheng.elicense import selectors
from yunzheng.elicense.models import LicenceType


def staff_queues(user: Any) -> list[WorkQueue]:
    count, overdue = selectors.application_queue_counts(staff_user=user)
    return [
        WorkQueue(
            key="elicense.traffic_passes",
            title=_("Traffic-pass reviews"),
            url=reverse("elicense:staff_passes"),
            count=count,
            overdue=overdue,
            action="traffic_pass.review",
            order=50,
        )
    ]


def staff_pages(user: Any) -> list[Destination]:
    selectors.latest_sync_report(staff_user=user)  # PermissionDenied if not staff
    return [
        Destination(
            key="elicense.sync",
            title=_("Electronic licences: registry consistency"),
            url=reverse("elicense:staff_sync"),
            order=60,
        )
    ]


def holder_documents(user: Any) -> list[Fact]:
    """我的证照, electronic part: licences and vouchers the user holds, and traffic passes."""
    licences = selectors.licences_for_user(user=user)
    vouchers = licences.filter(licence_type=LicenceType.CREDIT_VOUCHER).count()
    home = reverse("elicense:home")
    return [
        Fact(_("Electronic licences"), str(licences.count() - vouchers), home),
        Fact(_("Credit assessment vouchers"), str(vouchers), home),
        Fact(
            _("Traffic passes"),
            str(selectors.applications_for_user(user=user).count()),
            reverse("elicense:passes"),
        ),
    ]


def company_licences(company: Any) -> list[Fact]:
    """The company's electronic licences (operating licence, vehicle certificates...), by type."""
    rows = selectors.licences_of_company(company=company)
    home = reverse("elicense:home")
    return [Fact(str(LicenceType(kind).label), str(count), home) for kind, count in rows]


def company_panel(user: Any, company: Any) -> Panel:
    return Panel(
        key="elicense",
        title=_("The company's electronic licences"),
        facts=company_licences(company),
        links=[Destination(key="elicense.home", title=_("Open the licences"), url=reverse("elicense:home"))],
        empty=_("No electronic licence yet."),
    )
