"""联系我们: provincial business managers, kept by each province's transport staff.

Services (writes, audited) and the selectors the driver's home and the staff page read. A
province's staff keep their own province's list; the ministry may keep every province's.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from yunzheng.accounts.scopes import region_name
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.errors import NotFound, PermissionDenied, ValidationFailed
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.models import BusinessContact
from yunzheng.practitioners.services import office_scope


def _keeper_scope(staff_user: Any, province_code: str) -> None:
    scope = office_scope(staff_user)
    if scope.level not in ("ministry", "province"):
        raise PermissionDenied(Code.CONTACT_LEVEL, _("Business contacts are kept by provincial staff."))
    if not scope.covers(province_code):
        raise PermissionDenied(Code.OUT_OF_SCOPE, _("This province is outside your region."))


def contacts_for_keeper(*, staff_user: Any) -> QuerySet[BusinessContact]:
    """The contacts a staff member keeps (their province; every province for the ministry)."""
    scope = office_scope(staff_user)
    if scope.level not in ("ministry", "province"):
        raise PermissionDenied(Code.CONTACT_LEVEL, _("Business contacts are kept by provincial staff."))
    return BusinessContact.objects.filter(province_code__startswith=scope.region_prefix)


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
    if not (province_code.isdigit() and len(province_code) == 6 and province_code.endswith("0000")):
        raise ValidationFailed.single(
            field="province_code", code="contact.province_invalid", message=_("Choose a province.")
        )
    if not name.strip() or not phone.strip():
        raise ValidationFailed.single(
            field="name" if not name.strip() else "phone",
            code="contact.required",
            message=_("Name and telephone are required."),
        )
    _keeper_scope(staff_user, province_code)
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
        _keeper_scope(staff_user, contact.province_code)
        record_audit(
            actor=Actor.for_user(staff_user),
            action="office.contact.remove",
            target_type="business_contact",
            target_id=contact.pk,
            before={"province": contact.province_code, "name": contact.name, "phone": contact.phone},
        )
        contact.delete()
