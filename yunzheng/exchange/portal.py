"""What the data exchange contributes to the staff workbench and header (see core.portal)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.core.portal import Destination, Fact, Panel
from yunzheng.exchange import selectors


def staff_pages(user: Any) -> list[Destination]:
    selectors.read_scope_for_user(user)  # PermissionDenied for anyone without a staff scope
    return [
        Destination(
            key="exchange.overview",
            title=_("Data exchange"),
            url=reverse("exchange:staff_overview"),
            in_header=True,
            order=20,
        )
    ]


def company_panel(user: Any, company: Any) -> Panel:
    """The company's uploads in the last 7 days and its API credentials (production)."""
    from yunzheng.accounts import selectors as accounts

    rows = selectors.company_overview(
        selectors.upload_stats(scope=selectors.read_scope_for_company(company), days=7)
    )
    active = accounts.company_credentials(company=company).filter(revoked_at__isnull=True).count()
    detail = reverse("accounts:company_detail", args=[company.pk])
    facts = [Fact(_("Active API credentials"), str(active), detail)]
    for row in rows:
        facts += [
            Fact(_("Records received (7 days)"), f"{row.received:,}"),
            Fact(_("Rejected (7 days)"), f"{row.rejected:,}"),
            Fact(_("Interfaces used"), str(row.interfaces)),
            Fact(
                _("Last upload"),
                timezone.localtime(row.last_received_at).strftime("%Y-%m-%d %H:%M")
                if row.last_received_at
                else "—",
            ),
        ]
    return Panel(
        key="exchange",
        title=_("Supervision data exchange"),
        facts=facts,
        links=[Destination(key="accounts.company", title=_("Credentials and members"), url=detail)],
        empty="",
    )
