"""The analytics scope every supervision read takes, and helpers shared by the readers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from yunzheng.accounts.scopes import staff_scope
from yunzheng.supervision.models import (
    ComplianceDaily,
    LicenceState,
)
from yunzheng.supervision.regions import (
    prefix_range,
)
from yunzheng.supervision.services import next_month

VALID = LicenceState.VALID.value


# ---------------------------------------------------------------------------------------------
# scope
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalyticsScope:
    region_prefix: str  # "" nationwide, "33" a province, "3301" a city
    label: str

    @property
    def level(self) -> str:
        return {0: "ministry", 2: "province", 4: "city"}.get(len(self.region_prefix), "district")

    def city_range(self) -> tuple[int, int] | None:
        return prefix_range(self.region_prefix)

    def covers_city(self, city_code: int) -> bool:
        return f"{city_code:06d}".startswith(self.region_prefix)


def scope_for_user(user: Any) -> AnalyticsScope:
    """Staff only (PermissionDenied otherwise); the region decides what they see."""
    scope = staff_scope(user)
    return AnalyticsScope(region_prefix=scope.region_prefix, label=scope.region_name)


def national_scope() -> AnalyticsScope:
    return AnalyticsScope(region_prefix="", label=_("Nationwide"))


def _in_scope(qs: QuerySet[Any], scope: AnalyticsScope, column: str = "city_code") -> QuerySet[Any]:
    bounds = scope.city_range()
    return qs.filter(**{f"{column}__range": bounds}) if bounds else qs


def _month_rows(scope: AnalyticsScope, month: date, model: Any = ComplianceDaily) -> QuerySet[Any]:
    return _in_scope(model.objects.filter(day__gte=month, day__lt=next_month(month)), scope)
