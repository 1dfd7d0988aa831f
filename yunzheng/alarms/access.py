"""Who may see and act on alarms and rules (one place, used by services, selectors, pages, API).

* Transport authority staff see the alarms of their region (ministry: all; province: its cities;
  city: itself) and act on them; they write the rules of their region.
* Public security staff see the SOS alarms of their region and may acknowledge them and add notes.
* A company's members see the alarms about their company's vehicles and drivers and answer them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from yunzheng.accounts.models import CompanyMembership, StaffProfile
from yunzheng.accounts.scopes import StaffScope, staff_profile_of, staff_scope

__all__ = ["AlarmViewer", "rule_scope_for", "staff_covering", "staff_profile_of", "viewer_for"]
from yunzheng.alarms.error_codes import AlarmErrorCode as Code
from yunzheng.alarms.models import Alarm
from yunzheng.core.errors import PermissionDenied

TRANSPORT = StaffProfile.Department.TRANSPORT
POLICE = StaffProfile.Department.PUBLIC_SECURITY


@dataclass(frozen=True)
class AlarmViewer:
    """Either staff (scope) or company members (company ids)."""

    scope: StaffScope | None
    company_ids: tuple[int, ...] = ()

    @property
    def is_transport(self) -> bool:
        return self.scope is not None and self.scope.department == TRANSPORT

    @property
    def is_police(self) -> bool:
        return self.scope is not None and self.scope.department == POLICE

    @property
    def is_company(self) -> bool:
        return self.scope is None and bool(self.company_ids)

    def alarms(self, qs: QuerySet[Alarm] | None = None) -> QuerySet[Alarm]:
        qs = Alarm.objects.all() if qs is None else qs
        if self.scope is not None:
            prefix = self.scope.region_prefix
            if prefix:
                qs = qs.filter(region_code__startswith=prefix)
            if self.is_police:
                return qs.filter(is_sos=True)
            if self.is_transport:
                return qs
            return qs.none()
        if self.company_ids:
            return qs.filter(company_id__in=self.company_ids)
        return qs.none()

    def may_see(self, alarm: Alarm) -> bool:
        return self.alarms(Alarm.objects.filter(pk=alarm.pk)).exists()

    def may_handle(self, alarm: Alarm) -> bool:
        """Acknowledge, assign, close: transport staff of the region; police only SOS (acknowledge)."""
        return self.may_see(alarm) and (self.is_transport or self.is_police)


def viewer_for(user: Any) -> AlarmViewer:
    """The viewer of a logged-in user; PermissionDenied when they may see no alarm at all."""
    profile = staff_profile_of(user)
    if profile is not None:
        scope = staff_scope(user)
        if scope.department not in (TRANSPORT, POLICE):
            raise PermissionDenied(
                Code.DEPARTMENT, _("Alarms are for transport authorities and public security.")
            )
        return AlarmViewer(scope=scope)
    if user is not None and getattr(user, "is_authenticated", False):
        ids = tuple(CompanyMembership.objects.filter(user=user).values_list("company_id", flat=True))
        if ids:
            return AlarmViewer(scope=None, company_ids=ids)
    raise PermissionDenied(Code.OUT_OF_SCOPE, _("You may not see alarms."))


def rule_scope_for(user: Any) -> StaffScope:
    """Transport staff only: the region whose rules they may write."""
    scope = staff_scope(user)
    if scope.department != TRANSPORT:
        raise PermissionDenied(Code.DEPARTMENT, _("Only transport authorities write alarm rules."))
    return scope


def staff_covering(region_code: str, departments: tuple[str, ...]) -> Q:
    """Staff whose scope covers a 6-digit region code (city, its province, the ministry)."""
    city = region_code[:4] + "00"
    province = region_code[:2] + "0000"
    return Q(department__in=departments) & (
        Q(level="city", region_code=city) | Q(level="province", region_code=province) | Q(level="ministry")
    )
