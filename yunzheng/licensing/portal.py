"""What licensing contributes to the staff workbench (see core.portal)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from yunzheng.core.clock import today_in_china
from yunzheng.core.portal import Destination, Fact, Panel, WorkQueue
from yunzheng.licensing import selectors
from yunzheng.licensing.models import REVIEW_DEPARTMENTS


def staff_queues(user: Any) -> list[WorkQueue]:
    counts = selectors.staff_workbench_counts(user)
    if not counts.acts_as_party:
        return []
    scope = selectors.scope_of(user)
    url = reverse("licensing:staff_home")
    if scope is not None and scope.department in REVIEW_DEPARTMENTS:
        return [
            WorkQueue(
                key="licensing.department_reviews",
                title=_("Licensing: department reviews"),
                url=url,
                count=counts.reviews,
                overdue=counts.reviews_overdue,
                action="licensing.case.department_review",
                order=40,
            )
        ]
    return [
        WorkQueue(
            key="licensing.steps",
            title=_("Licensing: steps to act on"),
            url=url,
            count=counts.steps,
            overdue=counts.steps_overdue,
            action="licensing.step.act",
            order=40,
        )
    ]


def staff_pages(user: Any) -> list[Destination]:
    scope = selectors.scope_of(user)
    if scope is None or scope.department != "transport":
        return []
    return [
        Destination(
            key="licensing.quotas",
            title=_("Licensing: city quotas"),
            url=reverse("licensing:staff_quotas"),
            order=41,
        ),
        Destination(
            key="licensing.expiries",
            title=_("Licensing: expiring evaluations"),
            url=reverse("licensing:staff_expiries"),
            order=42,
        ),
    ]


def company_panels(user: Any, company: Any) -> list[Panel]:
    """The company's licensing case with its next step, and its test appointments."""
    on = today_in_china()
    case_facts = []
    for application in selectors.open_applications_of(company).order_by("-pk")[:3]:
        task = selectors.task_view(application, on=on)
        value = task.next_action or str(application.get_step_display())
        if task.waiting_on:
            value = _("%(step)s (waiting for %(party)s)") % {"step": value, "party": task.waiting_on}
        if task.due_on:
            value += " · " + _("due %(date)s") % {"date": task.due_on.isoformat()}
            if task.due_provisional:
                value += " " + pgettext("due date", "(provisional)")
        case_facts.append(
            Fact(
                _("Application #%(pk)s") % {"pk": application.pk},
                value,
                reverse("licensing:application", args=[application.pk]),
            )
        )
    bookings = [
        Fact(
            booking.slot_month.month.strftime("%Y-%m"),
            str(booking.get_status_display()),
            reverse("licensing:booking"),
        )
        for booking in selectors.bookings_of(company).select_related("slot_month")[:3]
    ]
    return [
        Panel(
            key="licensing",
            title=_("Platform licensing"),
            facts=case_facts,
            links=[
                Destination(
                    key="licensing.home", title=_("Licensing applications"), url=reverse("licensing:home")
                )
            ],
            empty=_("No open licensing application."),
        ),
        Panel(
            key="bookings",
            title=_("Test appointments"),
            facts=bookings,
            links=[
                Destination(key="licensing.booking", title=_("Book a test"), url=reverse("licensing:booking"))
            ],
            empty=_("No test appointment booked."),
        ),
    ]
