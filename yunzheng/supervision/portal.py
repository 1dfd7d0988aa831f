"""What supervision contributes to the staff workbench and header (see core.portal)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from yunzheng.core.portal import Destination
from yunzheng.supervision import selectors


def staff_pages(user: Any) -> list[Destination]:
    selectors.scope_for_user(user)  # PermissionDenied for anyone without an analytics scope
    return [
        Destination(
            key="supervision.dashboard",
            title=_("Supervision dashboard"),
            url=reverse("supervision:dashboard"),
            in_header=True,
            order=10,
        ),
        Destination(
            key="supervision.noncompliant",
            title=_("Non-compliant orders"),
            url=reverse("supervision:noncompliant"),
            order=11,
        ),
        Destination(
            key="supervision.quality",
            title=_("Data quality"),
            url=reverse("supervision:quality"),
            order=12,
        ),
    ]
