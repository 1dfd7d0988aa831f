"""What access certification contributes to the staff workbench (see core.portal)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from yunzheng.conformance import selectors
from yunzheng.core.portal import Destination, Fact, Panel


def staff_pages(user: Any) -> list[Destination]:
    if selectors.regulator_scope(user) is None:
        return []
    return [
        Destination(
            key="conformance.official",
            title=_("Access certification: official tests"),
            url=reverse("conformance:staff_home"),
            order=30,
        )
    ]


def company_panel(user: Any, company: Any) -> Panel:
    """Access certification on the company's home: its latest campaigns and their results."""
    campaigns = selectors.visible_campaigns(user).filter(company=company).order_by("-pk")[:3]
    return Panel(
        key="conformance",
        title=_("Access certification (sandbox and official tests)"),
        facts=[
            Fact(
                f"{campaign.get_kind_display()} #{campaign.pk}",
                str(campaign.get_status_display()),
                reverse("conformance:campaign", args=[campaign.pk]),
            )
            for campaign in campaigns
        ],
        links=[
            Destination(
                key="conformance.home",
                title=_("Start or continue a connectivity test"),
                url=reverse("conformance:home"),
            )
        ],
        empty=_("No test campaign yet."),
    )
