"""What the registries contribute to the staff workbench (see core.portal)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from yunzheng.accounts.permissions import allowed
from yunzheng.core.portal import Destination, WorkQueue
from yunzheng.registries import selectors
from yunzheng.registries.access import import_region_prefix


def staff_queues(user: Any) -> list[WorkQueue]:
    if not allowed(user, selectors.MAINTAIN):
        return []
    count, overdue = selectors.open_verification_requests(user=user)
    return [
        WorkQueue(
            key="registries.verification_requests",
            title=_("Information verification requests"),
            url=reverse("registries:register", args=["verification"]),
            count=count,
            overdue=overdue,
            action=selectors.MAINTAIN,
            order=71,
        )
    ]


def staff_pages(user: Any) -> list[Destination]:
    pages: list[Destination] = []
    if allowed(user, selectors.VIEW):
        pages.append(
            Destination(
                key="registries.registers",
                title=_("Registries"),
                url=reverse("registries:index"),
                summary=_(
                    "Certificates, vehicles, violations, inspections, operating licences, credit results"
                ),
                order=69,
            )
        )
    if allowed(user, "registry.credential.manage"):
        pages.append(
            Destination(
                key="registries.credentials",
                title=_("Registry feed credentials"),
                url=reverse("registries:credentials"),
                summary=_("Issue and revoke the credentials of provincial systems feeding the registries"),
                order=72,
                action="registry.credential.manage",
            )
        )
    import_region_prefix(user)  # DomainError for staff who may not import
    pages.append(
        Destination(
            key="registries.import", title=_("Registry import"), url=reverse("registries:upload"), order=70
        )
    )
    return pages
