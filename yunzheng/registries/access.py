"""Who may feed the registries: the permission table (`registry.import`: transport-authority
staff, within their region - a city its own records, a province its cities, the ministry
everything), and provincial systems through their registry-feed credentials (accounts.credentials)."""

from __future__ import annotations

from typing import Any

from yunzheng.accounts.permissions import authorize


def import_region_prefix(user: Any) -> str:
    """The region prefix the staff member may import for; PermissionDenied for anyone else."""
    return authorize(user, "registry.import").region_prefix
