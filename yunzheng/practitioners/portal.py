"""What the One-Network Office contributes to the driver's home and the staff workbench (see\ncore.portal)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.core.portal import Destination, Fact, WorkQueue
from yunzheng.practitioners import catalogue, selectors, services
from yunzheng.practitioners.models import OPEN_STATES, CaseState, CaseType


def staff_queues(user: Any) -> list[WorkQueue]:
    counts = selectors.staff_workbench_counts(staff_user=user)
    queue_url = reverse("practitioners:staff_queue")
    return [
        WorkQueue(
            key="practitioners.cases",
            title=_("Certificate service cases"),
            url=queue_url,
            count=counts["cases"].waiting,
            overdue=counts["cases"].overdue,
            action="office.case.handle",
            order=20,
        ),
        WorkQueue(
            key="practitioners.verification",
            title=_("Information verification requests"),
            url=f"{queue_url}?{urlencode({'type': CaseType.INFO_VERIFICATION})}",
            count=counts["verification"].waiting,
            overdue=counts["verification"].overdue,
            action=services.REGISTRY_DECISION,  # answering is a registry decision
            order=21,
        ),
    ]


def staff_pages(user: Any) -> list[Destination]:
    """Pages beyond the queues; the permission table decides who sees each (core.portal)."""
    return [
        Destination(
            key="practitioners.contacts",
            title=_("Contact us: provincial business managers"),
            url=reverse("practitioners:staff_contacts"),
            order=25,
            action="office.contact.maintain",
        )
    ]


def driver_services() -> list[Destination]:
    """The services grid of the driver's home (the mini program's 服务事项)."""
    return [
        Destination(
            key=f"practitioners.service.{definition.slug}",
            title=definition.title,
            url=reverse("practitioners:service_detail", args=[definition.slug]),
            summary=str(definition.summary),
        )
        for definition in catalogue.SERVICES.values()
    ]


def driver_case_counts(user: User) -> list[Fact]:
    """我的办件: the applicant's cases per state, each linking to the matching list."""
    counts = selectors.case_counts_for_applicant(user=user)
    groups = {CaseState.DRAFT: "drafts", **dict.fromkeys(OPEN_STATES, "open")}
    url = reverse("practitioners:my_cases")
    return [
        Fact(
            label=str(label),
            value=str(counts.get(state, 0)),
            url=f"{url}?{urlencode({'group': groups.get(CaseState(state), 'done')})}",
        )
        for state, label in CaseState.choices
        if counts.get(state, 0) or state in OPEN_STATES
    ]


def driver_documents(user: User) -> list[Fact]:
    """我的证照, paper part: the qualification certificates on record for this person."""
    return [
        Fact(
            label=_("Qualification certificates (paper)"),
            value=str(selectors.certificates_for_user(user=user).count()),
            url=reverse("practitioners:my_certificates"),
        )
    ]


def business_contacts(user: User) -> list[dict[str, str]]:
    """联系我们 on the driver's home: the provincial business managers, the user's province first."""
    from yunzheng.practitioners.contacts import contacts_for_public

    # A resident ID number starts with the GB/T 2260 code of where it was issued.
    id_number = (user.id_number or "") if user.is_real_name_verified else ""
    return contacts_for_public(province_code=id_number[:2] + "0000" if id_number[:2].isdigit() else "")
