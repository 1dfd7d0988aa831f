"""The common header, built from the visitor's role: one list of links for every page of every app.

`header` is a template context processor (settings.TEMPLATES); the links are computed lazily, only
when a page that extends web/base.html renders them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

logger = logging.getLogger(__name__)

ANONYMOUS, DRIVER, COMPANY, STAFF = "anonymous", "driver", "company", "staff"


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    testid: str


def role_of(user: Any) -> str:
    """The visitor's role for navigation: staff, company contact (member of a company), driver."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    if getattr(user, "kind", "") == "staff":
        return STAFF
    from yunzheng.accounts import selectors as accounts

    return COMPANY if accounts.companies_for_user(user=user).exists() else DRIVER


def header_links(user: Any) -> list[NavLink]:
    role = role_of(user)
    if role == ANONYMOUS:
        return [
            NavLink(_("Verify a licence"), reverse("elicense:verify"), "nav-verify"),
            NavLink(_("Log in"), reverse("web:home") + "#login", "nav-login"),
        ]
    if role == STAFF:
        from yunzheng.core import portal

        links = [NavLink(_("Workbench"), reverse("web:workbench"), "nav-workbench")]
        links += [
            NavLink(page.title, page.url, f"nav-{page.key}")
            for page in portal.staff_pages(user)
            if page.in_header
        ]
        return links
    links = [
        NavLink(pgettext("navigation", "My home"), reverse("web:driver_home"), "nav-driver-home"),
        NavLink(_("Services"), reverse("practitioners:home"), "nav-office"),
        NavLink(_("My cases"), reverse("practitioners:my_cases"), "nav-my-cases-header"),
        NavLink(_("My licences"), reverse("elicense:home"), "nav-licences"),
    ]
    if role == COMPANY:
        links.append(NavLink(_("My companies"), reverse("web:company_pick"), "nav-companies"))
    links.append(NavLink(_("Account"), reverse("accounts:home"), "nav-account"))
    return links


def _safe_header_links(user: Any) -> list[NavLink]:
    try:
        return header_links(user)
    except DatabaseError:
        # The 500 page must still render when the database is what failed.
        logger.exception("Header links unavailable")
        return [NavLink(_("Home"), reverse("web:home"), "nav-home")]


def header(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {"header_links": SimpleLazyObject(lambda: _safe_header_links(user))}
