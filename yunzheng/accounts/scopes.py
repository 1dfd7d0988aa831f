"""What a staff member may see, derived from their department, level and region.

Other apps filter with it:

    scope = staff_scope(request.user)          # raises PermissionDenied for non-staff
    cases = Case.objects.filter(region_code__startswith=scope.region_prefix)
    if not scope.covers(case.region_code): ...

A ministry sees the whole country (prefix ""), a province every code sharing its first two digits,
a city every code sharing its first four (GB/T 2260: PPCCDD).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from stdnum import numdb

from yunzheng.accounts.error_codes import AccountsErrorCode
from yunzheng.accounts.models import StaffProfile
from yunzheng.core.errors import PermissionDenied

_PREFIX_LENGTH = {
    StaffProfile.Level.MINISTRY: 0,
    StaffProfile.Level.PROVINCE: 2,
    StaffProfile.Level.CITY: 4,
}
_REGION_CODE = re.compile(r"\d{6}")
_VALIDITY = re.compile(r"^\[[^\]]*\]")  # stdnum prefixes abolished/renamed areas with "[1983-]"


@dataclass(frozen=True)
class StaffScope:
    department: str
    level: str
    region_code: str  # "" for the ministry

    @property
    def region_prefix(self) -> str:
        return self.region_code[: _PREFIX_LENGTH[StaffProfile.Level(self.level)]]

    def covers(self, region_code: str) -> bool:
        """Whether an item registered under `region_code` (6 digits) is within this scope."""
        return bool(_REGION_CODE.fullmatch(region_code or "")) and region_code.startswith(self.region_prefix)

    def in_department(self, *departments: str) -> bool:
        return self.department in departments

    @property
    def region_name(self) -> str:
        return region_name(self.region_code) if self.region_code else _("Nationwide")


def staff_profile_of(user: Any) -> StaffProfile | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    try:
        profile: StaffProfile = user.staff_profile
    except StaffProfile.DoesNotExist:
        return None
    return profile


def staff_scope(user: Any) -> StaffScope:
    """The scope of a staff member; PermissionDenied (`staff.required`) for anyone else."""
    profile = staff_profile_of(user)
    if profile is None:
        raise PermissionDenied(AccountsErrorCode.STAFF_REQUIRED, _("This is for government staff only."))
    return StaffScope(department=profile.department, level=profile.level, region_code=profile.region_code)


def region_name(code: str) -> str:
    """Province and prefecture/county name of a GB/T 2260 code, e.g. "浙江省杭州市"; "" if unknown."""
    if not _REGION_CODE.fullmatch(code or ""):
        return ""
    province = _lookup(code[:2] + "0000")
    if code.endswith("0000"):
        return province
    if code.endswith("00"):
        return province + _lookup(code)
    city = _lookup(code[:4] + "00")
    county = _lookup(code)
    return province + (city if city not in ("市辖区", "县", province) else "") + county


def _lookup(code: str) -> str:
    info = {key: value for _part, props in numdb.get("cn/loc").info(code) for key, value in props.items()}
    return _VALIDITY.sub("", info.get("county", ""))
