"""Shared helpers of the electronic-licence services: settings, time, staff coverage."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from yunzheng.core.errors import (
    PermissionDenied,
)

ROOT_PROVINCE = "000000"  # the ministry: signs the trust list
_REGION = re.compile(r"\d{6}")
# Limits that keep every QR code small enough to scan from a phone screen (see qr_payload).
MAX_ESSENTIAL_TEXT = 40
MAX_ESSENTIAL_ITEMS = 8
SHARE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed
SHARE_CODE_LENGTH = 10


def require_staff_covering(*, staff_user: Any, region_code: str) -> None:
    from yunzheng.accounts.scopes import staff_scope

    scope = staff_scope(staff_user)
    if not scope.covers(region_code):
        raise PermissionDenied("staff.out_of_scope", _("This is outside your region."))
