"""Audit entries for staff reading a case: the case page and its materials hold personal data,
so every look at them is recorded (by these services, not by the pages)."""

from __future__ import annotations

from collections.abc import Iterable

from yunzheng.accounts.models import User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.practitioners.models import CaseMaterial, ServiceCase


def case_staff_view_record(*, case: ServiceCase, staff: User, material_ids: Iterable[int]) -> None:
    """Staff opened the case page, which shows these materials (as thumbnails with short-lived
    tokens, so opening one from the page writes no second entry)."""
    record_audit(
        actor=Actor.for_user(staff),
        action="office.case.staff_view",
        target_type="office_case",
        target_id=case.pk,
        after={"materials": sorted(material_ids)},
    )


def material_staff_view_record(*, material: CaseMaterial, staff: User) -> None:
    """Staff opened a material other than from the audited case page."""
    record_audit(
        actor=Actor.for_user(staff),
        action="office.material.staff_view",
        target_type="office_case",
        target_id=material.case_id,
        after={"material": material.pk, "kind": material.kind},
    )
