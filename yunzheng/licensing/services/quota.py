"""City quotas (城市配额): the province sets how many new licences each city may take."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.models import StaffProfile, User
from yunzheng.accounts.scopes import region_name
from yunzheng.core.audit import record_audit
from yunzheng.core.clock import now_or
from yunzheng.core.errors import (
    Conflict,
    ErrorDetail,
    PermissionDenied,
    ValidationFailed,
)
from yunzheng.core.ids import region_code_exists
from yunzheng.licensing import selectors
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import (
    CityQuota,
)
from yunzheng.licensing.services._common import _actor

# --------------------------------------------------------------------------------------------
# City quotas
# --------------------------------------------------------------------------------------------


def _require_city_code(city_code: str, *, field: str = "city_code") -> str:
    city_code = (city_code or "").strip()
    if not (
        len(city_code) == 6
        and city_code.isdigit()
        and city_code.endswith("00")
        and not city_code.endswith("0000")
        and region_code_exists(city_code)
    ):
        raise ValidationFailed.single(
            field=field,
            code=Code.CITY_INVALID,
            message=_("Enter the GB/T 2260 code of a city (six digits ending in 00, e.g. 330100)."),
        )
    return city_code


def city_quota_set(
    *,
    city_code: str,
    accepting: bool,
    user: User,
    notice_number: str = "",
    notice_title: str = "",
    notice_date: dt.date | None = None,
    local_evaluations_required: bool | None = None,
    now: dt.datetime | None = None,
) -> CityQuota:
    """The city (or its province's) transport authority records whether the city accepts new
    platforms; stopping needs the notice that stopped it. `local_evaluations_required` (None:
    unchanged) says whether a local licence (地牌) here needs the three evaluations."""
    now = now_or(now)
    city_code = _require_city_code(city_code)
    scope = selectors.scope_of(user)
    if (
        scope is None
        or scope.department != StaffProfile.Department.TRANSPORT
        or scope.level == StaffProfile.Level.MINISTRY
        or not scope.covers(city_code)
    ):
        raise PermissionDenied(
            Code.NOT_YOUR_TURN, _("Only the city's transport authority can change its quota.")
        )
    notice_number, notice_title = notice_number.strip()[:100], notice_title.strip()[:200]
    if not accepting and not notice_number:
        raise ValidationFailed.single(
            field="notice_number",
            code=Code.QUOTA_NOTICE_REQUIRED,
            message=_("Give the number of the notice that stops new platforms."),
        )
    with transaction.atomic():
        quota = CityQuota.objects.select_for_update().filter(city_code=city_code).first()
        before = (
            {
                "accepting": quota.accepting,
                "notice_number": quota.notice_number,
                "local_evaluations_required": quota.local_evaluations_required,
            }
            if quota is not None
            else None
        )
        if quota is None:
            quota = CityQuota(city_code=city_code)
        quota.accepting = accepting
        quota.notice_number = notice_number
        quota.notice_title = notice_title
        quota.notice_date = notice_date
        if local_evaluations_required is not None:
            quota.local_evaluations_required = local_evaluations_required
        quota.updated_at = now
        quota.updated_by = user
        quota.save()
        record_audit(
            actor=_actor(user),
            action="licensing.city_quota.set",
            target_type="city_quota",
            target_id=city_code,
            before=before,
            after={
                "accepting": accepting,
                "notice_number": notice_number,
                "notice_title": notice_title,
                "notice_date": notice_date,
                "local_evaluations_required": quota.local_evaluations_required,
            },
        )
    return quota


def _require_city_accepting(city_code: str) -> None:
    quota = CityQuota.objects.filter(city_code=city_code).first()
    if quota is not None and not quota.accepting:
        raise Conflict(
            Code.QUOTA_CITY_CLOSED,
            _("%(city)s does not accept new ride-hailing platforms (notice %(number)s %(title)s, %(date)s).")
            % {
                "city": region_name(city_code) or city_code,
                "number": quota.notice_number,
                "title": quota.notice_title,
                "date": quota.notice_date.isoformat() if quota.notice_date else "",
            },
            details=[
                ErrorDetail(
                    field="city_code",
                    code=Code.QUOTA_CITY_CLOSED,
                    message=quota.notice_title or quota.notice_number,
                    params={
                        "notice_number": quota.notice_number,
                        "notice_title": quota.notice_title,
                        "notice_date": quota.notice_date.isoformat() if quota.notice_date else None,
                    },
                )
            ],
        )
