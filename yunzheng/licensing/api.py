"""JSON API of the licensing app, mounted by config/api.py at /api/v1/licensing/.

Companies authenticate as people (accounts.auth.user_auth: a bearer token from
/api/v1/auth/login, or the web session) and act for a company they are a member of.

    GET  /slots                      test appointment months with remaining slots
    POST /bookings                   book a test: {"company_id": 1, "month": "2026-12"}
                                     201, or 409 booking.not_open | booking.full |
                                     booking.already_booked | booking.not_eligible, 503 booking.busy
    GET  /applications               the caller's companies' applications (task view)
    GET  /applications/{id}          one application: stage, due date, history
    GET  /notifications              the caller's dashboard lines
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from yunzheng.accounts.auth import user_auth
from yunzheng.core.auth import current_user
from yunzheng.core.clock import today_in_china
from yunzheng.core.errors import ValidationFailed
from yunzheng.licensing import selectors, services
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import REVIEW_DEPARTMENTS, LicenceApplication, Party, Step

router = Router(tags=["licensing"])
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class SlotOut(Schema):
    month: str
    capacity: int
    extra_capacity: int
    booked: int
    remaining: int
    opens_at: dt.datetime
    is_open: bool


class BookingIn(Schema):
    company_id: int
    month: str  # YYYY-MM


class BookingOut(Schema):
    id: int
    company_id: int
    month: str
    status: str
    created_at: dt.datetime


class StageOut(Schema):
    step: str
    step_label: str
    responsible: str
    responsible_label: str
    status: str
    opened_at: dt.datetime
    due_on: dt.date | None
    due_provisional: bool  # counted on weekdays only (a year's holidays unknown); recomputed later
    extended_days: int
    extension_reason: str
    completed_at: dt.datetime | None


class TransitionOut(Schema):
    from_step: str
    to_step: str
    action: str
    actor: str
    reason: str
    at: dt.datetime


class ApplicationOut(Schema):
    id: int
    company_id: int
    path: str
    city_code: str
    step: str
    step_label: str
    waiting_on: str
    due_on: dt.date | None
    due_provisional: bool
    days_left: int | None
    test_document_valid_until: dt.date | None
    stages: list[StageOut] = []
    history: list[TransitionOut] = []


class NotificationOut(Schema):
    id: int
    text: str
    link: str
    created_at: dt.datetime
    read: bool


def _parse_month(value: str) -> dt.date:
    match = _MONTH.fullmatch(value.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise ValidationFailed.single(
            field="month", code=Code.FIELD_REQUIRED, message=_("Give the month as YYYY-MM.")
        )
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


@router.get("/slots", response=list[SlotOut], auth=user_auth)
def list_slots(request: HttpRequest) -> list[dict[str, Any]]:
    now = timezone.now()
    return [
        {
            "month": f"{slot.month:%Y-%m}",
            "capacity": slot.capacity,
            "extra_capacity": slot.extra_capacity,
            "booked": slot.booked,
            "remaining": slot.remaining,
            "opens_at": slot.opens_at,
            "is_open": slot.opens_at <= now,
        }
        for slot in selectors.slot_months(on=today_in_china(now))
    ]


@router.post("/bookings", response={201: BookingOut}, auth=user_auth)
def create_booking(request: HttpRequest, payload: BookingIn) -> Status:
    month = _parse_month(payload.month)
    booking = services.test_booking_create(
        company_id=payload.company_id, month=month, user=current_user(request)
    )
    return Status(
        201,
        {
            "id": booking.pk,
            "company_id": booking.company_id,
            "month": f"{month:%Y-%m}",
            "status": booking.status,
            "created_at": booking.created_at,
        },
    )


def _application_out(application: LicenceApplication, *, detail: bool) -> dict[str, Any]:
    view = selectors.task_view(application, on=today_in_china())
    out: dict[str, Any] = {
        "id": application.pk,
        "company_id": application.company_id,
        "path": application.path,
        "city_code": application.city_code,
        "step": application.step,
        "step_label": str(Step(application.step).label),
        "waiting_on": view.stage.responsible if view.stage else "",
        "due_on": view.due_on,
        "due_provisional": view.due_provisional,
        "days_left": view.days_left,
        "test_document_valid_until": view.test_document.valid_until if view.test_document else None,
    }
    if detail:
        out["stages"] = [
            {
                "step": s.kind,
                "step_label": str(Step(s.kind).label),
                "responsible": s.responsible,
                "responsible_label": str(Party(s.responsible).label),
                "status": s.status,
                "opened_at": s.opened_at,
                "due_on": s.due_on,
                "due_provisional": s.due_provisional,
                "extended_days": s.extended_days,
                "extension_reason": s.extension_reason,
                "completed_at": s.completed_at,
            }
            for s in application.stages.all()
        ]
        out["history"] = [
            {
                "from_step": t.from_step,
                "to_step": t.to_step,
                "action": t.action,
                "actor": t.actor_label,
                "reason": t.reason,
                "at": t.at,
            }
            for t in application.transitions.all()
        ]
    return out


@router.get("/applications", response=list[ApplicationOut], auth=user_auth)
def list_applications(request: HttpRequest) -> list[dict[str, Any]]:
    user = current_user(request)
    applications = LicenceApplication.objects.filter(company__in=selectors.companies_of(user)).select_related(
        "company"
    )
    return [_application_out(a, detail=False) for a in applications]


@router.get("/applications/{application_id}", response=ApplicationOut, auth=user_auth)
def get_application(request: HttpRequest, application_id: int) -> dict[str, Any]:
    application, role = selectors.application_for_user(
        user=current_user(request), application_id=application_id
    )
    out = _application_out(application, detail=True)
    if role in REVIEW_DEPARTMENTS:  # the case under its review, not the company's other documents
        out["test_document_valid_until"] = None
    return out


@router.get("/notifications", response=list[NotificationOut], auth=user_auth)
def list_notifications(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "id": n.pk,
            "text": n.text,
            "link": n.link,
            "created_at": n.created_at,
            "read": n.read_at is not None,
        }
        for n in selectors.notifications_for_user(current_user(request))
    ]
