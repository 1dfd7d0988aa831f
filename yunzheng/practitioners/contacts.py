"""联系我们: provincial business managers, kept by each province's transport staff.

Services (writes, audited) and the selectors the driver's home and the staff page read. A
province's transport staff keep their own province's list; the ministry may keep every province's
(the permission table's `office.contact.maintain`).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from yunzheng.accounts.permissions import authorize
from yunzheng.accounts.scopes import StaffScope, region_name
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.errors import NotFound, ValidationFailed
from yunzheng.core.regions import provinces
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.models import BusinessContact

ACTION = "office.contact.maintain"
# A landline with area code and extension, or a mobile number: digits, spaces, - and +.
_PHONE = re.compile(r"\+?[0-9][0-9 \-]{5,19}")


def keeper_scope(staff_user: Any) -> StaffScope:
    """The scope of a staff member who keeps contacts; PermissionDenied otherwise."""
    return authorize(staff_user, ACTION)


def keeper_provinces(*, staff_user: Any) -> list[tuple[str, str]]:
    """(code, name) of the provinces this staff member keeps contacts for, for a <select>."""
    scope = keeper_scope(staff_user)
    return [(p.code, p.name) for p in provinces(scope.region_prefix)]


def contacts_for_keeper(*, staff_user: Any) -> QuerySet[BusinessContact]:
    """The contacts a staff member keeps (their province; every province for the ministry)."""
    scope = keeper_scope(staff_user)
    return BusinessContact.objects.filter(province_code__startswith=scope.region_prefix).order_by(
        "province_code", "pk"
    )


def contacts_for_public(*, province_code: str = "") -> list[dict[str, str]]:
    """What drivers see: the managers of their province first, then the others."""
    rows = []
    for contact in BusinessContact.objects.all():
        rows.append(
            {
                "province": region_name(contact.province_code),
                "name": contact.name,
                "unit": contact.unit,
                "phone": contact.phone,
                "hours": contact.hours,
                "own": "1" if contact.province_code == province_code else "",
            }
        )
    return sorted(rows, key=lambda row: row["own"] == "")


def business_contact_add(
    *, staff_user: Any, province_code: str, name: str, phone: str, unit: str = "", hours: str = ""
) -> BusinessContact:
    if province_code not in {p.code for p in provinces()}:
        raise ValidationFailed.single(
            field="province_code", code="contact.province_invalid", message=_("Choose a province.")
        )
    if not name.strip() or not phone.strip():
        raise ValidationFailed.single(
            field="name" if not name.strip() else "phone",
            code="contact.required",
            message=_("Name and telephone are required."),
        )
    if not _PHONE.fullmatch(phone.strip()):
        raise ValidationFailed.single(
            field="phone",
            code="contact.phone_invalid",
            message=_("Enter a telephone number: digits, with area code, spaces or dashes."),
        )
    authorize(staff_user, ACTION, region_code=province_code)
    with transaction.atomic():
        contact = BusinessContact.objects.create(
            province_code=province_code,
            name=name.strip(),
            unit=unit.strip(),
            phone=phone.strip(),
            hours=hours.strip(),
        )
        record_audit(
            actor=Actor.for_user(staff_user),
            action="office.contact.add",
            target_type="business_contact",
            target_id=contact.pk,
            after={"province": province_code, "name": contact.name, "phone": contact.phone},
        )
    return contact


def business_contact_remove(*, staff_user: Any, contact_id: int) -> None:
    with transaction.atomic():
        contact = BusinessContact.objects.select_for_update().filter(pk=contact_id).first()
        if contact is None:
            raise NotFound(Code.CONTACT_NOT_FOUND, _("No such contact."))
        authorize(staff_user, ACTION, region_code=contact.province_code)
        record_audit(
            actor=Actor.for_user(staff_user),
            action="office.contact.remove",
            target_type="business_contact",
            target_id=contact.pk,
            before={"province": contact.province_code, "name": contact.name, "phone": contact.phone},
        )
        contact.delete()
