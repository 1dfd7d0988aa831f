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

import dataclasses
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
from yunzheng.licensing.models import (
    REVIEW_DEPARTMENTS,
    Notification,
    Party,
    Stage,
    StageTransition,
    Step,
    TestBooking,
    TestSlotMonth,
)

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

    @staticmethod
    def resolve_month(slot: TestSlotMonth) -> str:
        return f"{slot.month:%Y-%m}"

    @staticmethod
    def resolve_is_open(slot: TestSlotMonth) -> bool:
        return slot.opens_at <= timezone.now()


class BookingIn(Schema):
    company_id: int
    month: str  # YYYY-MM


class BookingOut(Schema):
    id: int
    company_id: int
    month: str
    status: str
    created_at: dt.datetime

    @staticmethod
    def resolve_month(booking: TestBooking) -> str:
        return f"{booking.slot_month.month:%Y-%m}"


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

    @staticmethod
    def resolve_step(stage: Stage) -> str:
        return stage.kind

    @staticmethod
    def resolve_step_label(stage: Stage) -> str:
        return str(Step(stage.kind).label)

    @staticmethod
    def resolve_responsible_label(stage: Stage) -> str:
        return str(Party(stage.responsible).label)


class TransitionOut(Schema):
    from_step: str
    to_step: str
    action: str
    actor: str
    reason: str
    at: dt.datetime

    @staticmethod
    def resolve_actor(transition: StageTransition) -> str:
        return transition.actor_label


class ApplicationOut(Schema):
    """An application as its task list shows it, resolved from ``selectors.TaskView``."""

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

    @staticmethod
    def resolve_id(view: selectors.TaskView) -> int:
        return view.application.pk

    @staticmethod
    def resolve_company_id(view: selectors.TaskView) -> int:
        return view.application.company_id

    @staticmethod
    def resolve_path(view: selectors.TaskView) -> str:
        return view.application.path

    @staticmethod
    def resolve_city_code(view: selectors.TaskView) -> str:
        return view.application.city_code

    @staticmethod
    def resolve_step(view: selectors.TaskView) -> str:
        return view.application.step

    @staticmethod
    def resolve_step_label(view: selectors.TaskView) -> str:
        return str(Step(view.application.step).label)

    @staticmethod
    def resolve_waiting_on(view: selectors.TaskView) -> str:
        return view.stage.responsible if view.stage else ""

    @staticmethod
    def resolve_test_document_valid_until(view: selectors.TaskView) -> dt.date | None:
        return view.test_document.valid_until if view.test_document else None


class ApplicationDetailOut(ApplicationOut):
    """One application with its stages and history."""

    @staticmethod
    def resolve_stages(view: selectors.TaskView) -> Any:
        return view.application.stages.all()

    @staticmethod
    def resolve_history(view: selectors.TaskView) -> Any:
        return view.application.transitions.all()


class NotificationOut(Schema):
    id: int
    text: str
    link: str
    created_at: dt.datetime
    read: bool

    @staticmethod
    def resolve_read(notification: Notification) -> bool:
        return notification.read_at is not None


def _parse_month(value: str) -> dt.date:
    match = _MONTH.fullmatch(value.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise ValidationFailed.single(
            field="month", code=Code.FIELD_REQUIRED, message=_("Give the month as YYYY-MM.")
        )
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


@router.get("/slots", response=list[SlotOut], auth=user_auth)
def list_slots(request: HttpRequest) -> list[TestSlotMonth]:
    return list(selectors.slot_months(on=today_in_china()))


@router.post("/bookings", response={201: BookingOut}, auth=user_auth)
def create_booking(request: HttpRequest, payload: BookingIn) -> Status:
    month = _parse_month(payload.month)
    booking = services.test_booking_create(
        company_id=payload.company_id, month=month, user=current_user(request)
    )
    return Status(201, booking)


@router.get("/applications", response=list[ApplicationOut], auth=user_auth)
def list_applications(request: HttpRequest) -> list[selectors.TaskView]:
    today = today_in_china()
    return [
        selectors.task_view(application, on=today)
        for application in selectors.applications_for_user(user=current_user(request))
    ]


@router.get("/applications/{application_id}", response=ApplicationDetailOut, auth=user_auth)
def get_application(request: HttpRequest, application_id: int) -> selectors.TaskView:
    application, role = selectors.application_for_user(
        user=current_user(request), application_id=application_id
    )
    view = selectors.task_view(application, on=today_in_china())
    if role in REVIEW_DEPARTMENTS:  # the case under its review, not the company's other documents
        view = dataclasses.replace(view, test_document=None)
    return view


@router.get("/notifications", response=list[NotificationOut], auth=user_auth)
def list_notifications(request: HttpRequest) -> list[Notification]:
    return list(selectors.notifications_for_user(current_user(request)))
