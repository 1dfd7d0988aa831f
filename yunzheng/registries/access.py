"""Who may feed the registries: transport-authority staff, within their region (a city its own
records, a province its cities, the ministry everything). Switch to the permission table of
core/accounts when it lands (#14)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from yunzheng.accounts.models import StaffProfile
from yunzheng.accounts.scopes import staff_scope
from yunzheng.core.errors import PermissionDenied


def import_region_prefix(user: Any) -> str:
    """The region prefix the user may import for; PermissionDenied for anyone else."""
    scope = staff_scope(user)
    if scope.department != StaffProfile.Department.TRANSPORT:
        raise PermissionDenied(
            "registry.not_allowed", _("Only transport-authority staff maintain these registries.")
        )
    return scope.region_prefix
