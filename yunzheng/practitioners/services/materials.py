"""Material lists per province: provincial staff maintain, for each service, the materials their
province asks for; the national list of ``catalogue.SERVICES`` applies where a province has none.
The application wizard and the submission check read the list of the certificate's province
(``catalogue.material_lists``)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.models import StaffProfile, User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or
from yunzheng.core.errors import PermissionDenied, ValidationFailed
from yunzheng.practitioners import catalogue
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.models import CaseType, MaterialKind, ProvinceMaterialList
from yunzheng.practitioners.services._common import office_scope


def _require_provincial_staff(staff_user: User, province_code: str) -> None:
    """Province-level office staff of that province (or the ministry)."""
    scope = office_scope(staff_user)
    if scope.level not in (StaffProfile.Level.PROVINCE, StaffProfile.Level.MINISTRY) or not scope.covers(
        province_code
    ):
        raise PermissionDenied(Code.OUT_OF_SCOPE, _("Only the province's staff maintain its material lists."))


def _province(region_code: str) -> str:
    code = (region_code or "").strip()
    if len(code) != 6 or not code.isdigit():
        raise ValidationFailed.single(
            field="province_code", code=Code.MATERIAL_LIST_INVALID, message=_("Choose a province.")
        )
    return code[:2] + "0000"


def _kinds(values: list[str], *, field: str) -> list[str]:
    kinds: list[str] = []
    for value in values:
        if value not in MaterialKind.values:
            raise ValidationFailed.single(
                field=field,
                code=Code.MATERIAL_LIST_INVALID,
                message=_("Unknown material: %(kind)s.") % {"kind": value},
            )
        if value not in kinds:
            kinds.append(value)
    return kinds


def province_material_list_set(
    *,
    staff_user: User,
    province_code: str,
    case_type: str,
    required: list[str],
    optional: list[str] | None = None,
    now: dt.datetime | None = None,
) -> ProvinceMaterialList:
    """Set the province's material list of one service (replacing the national default there)."""
    province = _province(province_code)
    _require_provincial_staff(staff_user, province)
    if case_type not in CaseType.values:
        raise ValidationFailed.single(
            field="case_type", code=Code.MATERIAL_LIST_INVALID, message=_("Choose a service.")
        )
    required_kinds = _kinds(list(required), field="required")
    optional_kinds = [k for k in _kinds(list(optional or []), field="optional") if k not in required_kinds]
    now = now_or(now)
    before_required, before_optional, source = catalogue.material_lists(case_type, province)
    with transaction.atomic():
        material_list, _created = ProvinceMaterialList.objects.update_or_create(
            province_code=province,
            case_type=case_type,
            defaults={
                "required": required_kinds,
                "optional": optional_kinds,
                "updated_by": staff_user,
                "updated_at": now,
            },
        )
        record_audit(
            actor=Actor.for_user(staff_user),
            action="office.material_list.set",
            target_type="province_material_list",
            target_id=f"{province}/{case_type}",
            before={"required": before_required, "optional": before_optional, "source": source},
            after={"required": required_kinds, "optional": optional_kinds},
        )
    return material_list


def province_material_list_reset(*, staff_user: User, province_code: str, case_type: str) -> None:
    """Go back to the national list for one service in the province."""
    province = _province(province_code)
    _require_provincial_staff(staff_user, province)
    with transaction.atomic():
        deleted, _rows = ProvinceMaterialList.objects.filter(
            province_code=province, case_type=case_type
        ).delete()
        if deleted:
            record_audit(
                actor=Actor.for_user(staff_user),
                action="office.material_list.reset",
                target_type="province_material_list",
                target_id=f"{province}/{case_type}",
            )
