"""Shared helpers of the office pages."""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from yunzheng.core.auth import current_user
from yunzheng.core.errors import NotFound
from yunzheng.practitioners import catalogue, selectors
from yunzheng.practitioners.models import (
    ServiceCase,
)

AGREED_SESSION_KEY = "office_agreed_services"


def _service_or_404(slug: str) -> catalogue.ServiceDefinition:
    definition = catalogue.service_by_slug(slug)
    if definition is None:
        raise Http404
    return definition


def _own_case(request: HttpRequest, pk: int) -> ServiceCase:
    try:
        return selectors.case_for_applicant(user=current_user(request), case_id=pk)
    except NotFound:
        raise Http404 from None


def _steps(
    case: ServiceCase | None, definition: catalogue.ServiceDefinition, current: str
) -> list[dict[str, Any]]:
    names = [
        ("instructions", _("Instructions")),
        ("certificate", _("Certificate")),
        ("info", _("Information")),
    ]
    if definition.issues_new_certificate:
        names.append(("delivery", _("Delivery")))
    if definition.materials or definition.optional_materials:
        names.append(("materials", _("Materials")))
    names.append(("review", _("Submit")))
    keys = [key for key, _label in names]
    position = keys.index(current)
    return [
        {"key": key, "label": label, "number": i + 1, "done": i < position, "current": i == position}
        for i, (key, label) in enumerate(names)
    ]


def _next_step_after(case: ServiceCase, step: str) -> str:
    definition = catalogue.service(case.case_type)
    order = ["info"]
    if definition.issues_new_certificate:
        order.append("delivery")
    if definition.materials or definition.optional_materials:
        order.append("materials")
    order.append("review")
    target = order[order.index(step) + 1]
    return reverse(f"practitioners:case_{target}", args=[case.pk])


# The staff case page is audited with the materials it shows; it hands out short-lived tokens for
# them, so its thumbnails do not each write an audit entry. A material opened any other way is
# audited on its own.
_THUMBNAIL_SALT = "office.material.shown"
_THUMBNAIL_MAX_AGE = 600


def _shown_token(*, material_pk: int, staff_pk: int) -> str:
    return signing.dumps([material_pk, staff_pk], salt=_THUMBNAIL_SALT, compress=False)


def _shown_on_audited_page(token: str, *, material_pk: int, staff_pk: int) -> bool:
    if not token:
        return False
    try:
        value = signing.loads(token, salt=_THUMBNAIL_SALT, max_age=_THUMBNAIL_MAX_AGE)
    except signing.BadSignature:
        return False
    return bool(value == [material_pk, staff_pk])
