"""What the registries contribute to the staff workbench (see core.portal)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from yunzheng.core.portal import Destination
from yunzheng.registries.access import import_region_prefix


def staff_pages(user: Any) -> list[Destination]:
    import_region_prefix(user)  # DomainError for staff who may not import
    return [
        Destination(
            key="registries.import", title=_("Registry import"), url=reverse("registries:upload"), order=70
        )
    ]
