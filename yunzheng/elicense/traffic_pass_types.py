"""Traffic pass types as data per city, maintained by that city's traffic police.

The Tianjin procedure issues passes of the types the city's traffic police define; other cities
define their own. Each type carries its longest validity (yunzheng's default where the city sets
none: 90 days) and the working days the decision may take after the data review has passed (the
procedure's 7 working days is the default).
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts.models import StaffProfile, User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.errors import ValidationFailed
from yunzheng.elicense.error_codes import ElicenseErrorCode as Code
from yunzheng.elicense.models import TrafficPassType, VehicleTask

#: The department that reviews and decides traffic passes: the city's traffic police (公安交管).
REVIEWING_DEPARTMENT = StaffProfile.Department.PUBLIC_SECURITY
#: The procedure's decision time after the data review, in working days (Tianjin procedure).
DEFAULT_DECISION_WORKING_DAYS = 7
#: yunzheng's default longest validity of a new pass type (no document sets one).
DEFAULT_MAX_VALIDITY_DAYS = 90
_CODE = re.compile(r"[a-z][a-z0-9_]{1,31}")
_TIME_WINDOW = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")
MAX_TIME_WINDOWS = 4


def require_traffic_police(*, staff_user: User, region_code: str) -> None:
    """The reviewing authority of passes is the traffic police of the pass's city (the permission
    table's `traffic_pass.review`)."""
    from yunzheng.accounts.permissions import authorize

    authorize(staff_user, "traffic_pass.review", region_code=region_code)


def pass_types_for_region(region_code: str, *, active_only: bool = True) -> QuerySet[TrafficPassType]:
    types = TrafficPassType.objects.filter(region_code=region_code)
    return types.filter(active=True) if active_only else types


def pass_type_of(region_code: str, code: str) -> TrafficPassType | None:
    return pass_types_for_region(region_code).filter(code=code).first()


def reviewing_authority(region_code: str) -> str:
    """Who reviews and decides the passes of a city: the unit of its traffic police as the staff
    accounts name it (e.g. 天津市公安交通管理局), else "the traffic police of <city>"."""
    from yunzheng.accounts.scopes import region_name
    from yunzheng.accounts.selectors import department_unit_name

    unit = department_unit_name(department=REVIEWING_DEPARTMENT, region_code=region_code)
    return unit or _("the traffic police of %(region)s") % {"region": region_name(region_code)}


def time_windows_invalid(windows: list[str]) -> bool:
    """Whether normalised time windows break the rule: 1 to MAX_TIME_WINDOWS windows such as
    22:00-06:00 (24-hour clock, may cross midnight, never empty)."""
    bad = [w for w in windows if not _TIME_WINDOW.fullmatch(w) or w[:5] == w[6:]]
    return not 1 <= len(windows) <= MAX_TIME_WINDOWS or bool(bad)


def traffic_pass_type_save(
    *,
    staff_user: User,
    region_code: str,
    code: str,
    name: str,
    max_validity_days: int = DEFAULT_MAX_VALIDITY_DAYS,
    decision_working_days: int = DEFAULT_DECISION_WORKING_DAYS,
    active: bool = True,
    sort_order: int = 0,
    default_time_windows: list[str] | None = None,
    default_vehicle_task: str = "",
    now: dt.datetime | None = None,
) -> TrafficPassType:
    """Create or change a pass type of the staff member's city (traffic police only).
    `default_time_windows` ("22:00-06:00", ...) and `default_vehicle_task` (a `VehicleTask`) are
    what the application form proposes for the type."""
    require_traffic_police(staff_user=staff_user, region_code=region_code)
    code, name = code.strip(), " ".join(name.split())
    if not _CODE.fullmatch(code):
        raise ValidationFailed.single(
            field="code",
            code=Code.TP_TYPE_FIELD_INVALID,
            message=_("Use 2 to 32 lower-case letters, digits or underscores, starting with a letter."),
        )
    if not 2 <= len(name) <= 64:
        raise ValidationFailed.single(
            field="name", code=Code.TP_TYPE_FIELD_INVALID, message=_("Give a name of 2 to 64 characters.")
        )
    for field, value, top in (
        ("max_validity_days", max_validity_days, 3660),
        ("decision_working_days", decision_working_days, 60),
    ):
        if not 1 <= int(value) <= top:
            raise ValidationFailed.single(
                field=field,
                code=Code.TP_TYPE_FIELD_INVALID,
                message=_("Enter a number from 1 to %(top)s.") % {"top": top},
            )
    windows = list(default_time_windows or [])
    if windows and time_windows_invalid(windows):
        raise ValidationFailed.single(
            field="default_time_windows",
            code=Code.TP_TYPE_FIELD_INVALID,
            message=_("Give up to %(count)s time windows such as 22:00-06:00.") % {"count": MAX_TIME_WINDOWS},
        )
    if default_vehicle_task and default_vehicle_task not in VehicleTask.values:
        raise ValidationFailed.single(
            field="default_vehicle_task",
            code=Code.TP_TYPE_FIELD_INVALID,
            message=_("Choose one of the vehicle tasks of the procedure."),
        )
    now = now or timezone.now()
    with transaction.atomic():
        existing = (
            TrafficPassType.objects.select_for_update().filter(region_code=region_code, code=code).first()
        )
        before = (
            None
            if existing is None
            else {
                "name": existing.name,
                "max_validity_days": existing.max_validity_days,
                "decision_working_days": existing.decision_working_days,
                "default_time_windows": existing.default_time_windows,
                "default_vehicle_task": existing.default_vehicle_task,
                "active": existing.active,
            }
        )
        pass_type, _created = TrafficPassType.objects.update_or_create(
            region_code=region_code,
            code=code,
            defaults={
                "name": name,
                "max_validity_days": int(max_validity_days),
                "decision_working_days": int(decision_working_days),
                "default_time_windows": ",".join(windows),
                "default_vehicle_task": default_vehicle_task,
                "active": active,
                "sort_order": sort_order,
                "updated_at": now,
            },
        )
        record_audit(
            actor=Actor.for_user(staff_user),
            action="elicense.traffic_pass_type.save",
            target_type="traffic_pass_type",
            target_id=f"{region_code}/{code}",
            before=before,
            after={
                "name": name,
                "max_validity_days": int(max_validity_days),
                "decision_working_days": int(decision_working_days),
                "default_time_windows": ",".join(windows),
                "default_vehicle_task": default_vehicle_task,
                "active": active,
            },
        )
    return pass_type
