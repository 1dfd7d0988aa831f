"""Test appointments: monthly slots opened by the ministry and the companies' bookings.

(Services about the platform's connectivity *tests* are named test_…; they are not pytest tests,
hence the PT028 exemption.)
"""

# ruff: noqa: PT028
from __future__ import annotations

import datetime as dt
import logging
import random
import time

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts.guards import ensure_real_name_verified
from yunzheng.accounts.models import Company, User
from yunzheng.core.audit import record_audit
from yunzheng.core.clock import CHINA, now_or, today_in_china
from yunzheng.core.errors import (
    Conflict,
    DomainError,
    ErrorDetail,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from yunzheng.licensing import deadlines, selectors
from yunzheng.licensing.conf import app_settings
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import (
    LicenceApplication,
    Party,
    Step,
    TestBooking,
    TestSlotMonth,
)
from yunzheng.licensing.services._common import _actor, _lock, _move
from yunzheng.licensing.workflow import (
    SYSTEM,
    Action,
)

logger = logging.getLogger(__name__)


class ServiceBusy(DomainError):
    """The database stayed locked through every retry: the client should try again shortly."""

    status_code = 503


# --------------------------------------------------------------------------------------------
# Test appointments
# --------------------------------------------------------------------------------------------


def _require_ministry(user: User) -> None:
    scope = selectors.scope_of(user)
    if scope is None or selectors.staff_party(scope) != Party.MINISTRY:
        raise PermissionDenied(Code.NOT_YOUR_TURN, _("Only the ministry manages test appointments."))


def default_opens_at(month: dt.date) -> dt.datetime:
    """Noon (Asia/Shanghai) on the configured day of the month (the seed: noon on the 1st)."""
    day = int(app_settings.LICENSING_SLOT_OPEN_DAY)
    hour = int(app_settings.LICENSING_SLOT_OPEN_HOUR)
    return dt.datetime(month.year, month.month, day, hour, 0, tzinfo=CHINA)


def test_slot_month_create(
    *,
    month: dt.date,
    user: User | None,
    capacity: int | None = None,
    opens_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> TestSlotMonth:
    """The ministry opens a month of test appointments (user None: operator scripts, demo)."""
    now = now_or(now)
    if user is not None:
        _require_ministry(user)
    month = month.replace(day=1)
    capacity = int(app_settings.LICENSING_SLOT_CAPACITY) if capacity is None else capacity
    if capacity < 1 or capacity > 10_000:
        raise ValidationFailed.single(
            field="capacity", code=Code.SLOTS_INVALID, message=_("Between 1 and 10000 slots.")
        )
    try:
        with transaction.atomic():
            slot = TestSlotMonth.objects.create(
                month=month, capacity=capacity, opens_at=opens_at or default_opens_at(month), created_at=now
            )
            record_audit(
                actor=_actor(user),
                action="licensing.slot_month.create",
                target_type="test_slot_month",
                target_id=slot.pk,
                after={"month": f"{month:%Y-%m}", "capacity": capacity, "opens_at": slot.opens_at},
            )
    except IntegrityError:
        raise Conflict(Code.BOOKING_MONTH_EXISTS, _("This month already has test appointments.")) from None
    return slot


def test_slot_month_add_capacity(
    *, slot_month: TestSlotMonth, extra: int, reason: str, user: User, now: dt.datetime | None = None
) -> TestSlotMonth:
    """Regulators open extra slots (audited, with a reason)."""
    _require_ministry(user)
    if extra < 1 or extra > 1000:
        raise ValidationFailed.single(
            field="extra", code=Code.SLOTS_INVALID, message=_("Between 1 and 1000 slots.")
        )
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.single(field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason."))
    with transaction.atomic():
        TestSlotMonth.objects.filter(pk=slot_month.pk).update(extra_capacity=F("extra_capacity") + extra)
        slot_month.refresh_from_db()
        record_audit(
            actor=_actor(user),
            action="licensing.slot_month.add_capacity",
            target_type="test_slot_month",
            target_id=slot_month.pk,
            after={"extra": extra, "total": slot_month.total},
            reason=reason,
        )
    return slot_month


def _booking_error(code: Code) -> Conflict:
    messages = {
        Code.BOOKING_FULL: _("All test appointments of this month are taken. Try another month."),
        Code.BOOKING_ALREADY_BOOKED: _("The company already has a booking in this month (one per month)."),
    }
    return Conflict(code, messages[code])


def _take_slot(slot: TestSlotMonth) -> None:
    """One conditional UPDATE: the row lock is held only from here to COMMIT, and a waiter
    re-checks the condition on the committed row (PostgreSQL READ COMMITTED), so `booked` can
    never pass capacity; the CHECK constraint guards it as well. (bench/booking_rush.py compares
    it with locking the row first.)"""
    taken = TestSlotMonth.objects.filter(pk=slot.pk, booked__lt=F("capacity") + F("extra_capacity")).update(
        booked=F("booked") + 1
    )
    if not taken:
        raise _booking_error(Code.BOOKING_FULL)


def _booking_transaction(
    *, slot: TestSlotMonth, company: Company, application: LicenceApplication, user: User, now: dt.datetime
) -> TestBooking:
    """The critical section: take a slot atomically, insert the booking, move the application."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            timeout = int(app_settings.LICENSING_BOOKING_LOCK_TIMEOUT_MS)
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = {int(timeout)}")
        _take_slot(slot)
        try:
            with transaction.atomic():
                booking = TestBooking.objects.create(
                    company=company, slot_month=slot, application=application, created_at=now, booked_by=user
                )
        except IntegrityError:
            raise _booking_error(Code.BOOKING_ALREADY_BOOKED) from None
        locked_application = _lock(application)
        if locked_application.step != Step.TEST_BOOKING:
            raise Conflict(Code.BOOKING_NOT_ELIGIBLE, _("The application is not waiting for a test booking."))
        _move(
            locked_application,
            action=Action.BOOK_TEST,
            user=user,
            now=now,
            role=Party.COMPANY,
            facts={"booking": booking.pk, "month": f"{slot.month:%Y-%m}"},
        )
    return booking


def test_booking_create(
    *, company_id: int, month: dt.date, user: User, now: dt.datetime | None = None
) -> TestBooking:
    """Book the connectivity and consistency test of company `company_id` in `month`.

    First come, first served, one booking per company per month, never more bookings than slots.
    At an opening thousands of requests arrive within a second, nearly all of them too late, so
    the order of the checks matters: first the month's state (one small query, no lock: not open
    yet, over, full), then membership, an existing booking and eligibility, and only then the tiny
    critical section (`_booking_transaction`). Lock timeouts (PostgreSQL) and SQLite's "locked"
    errors are retried with jitter, then answered 503 `booking.busy`, never 500.
    """
    now = now_or(now)
    ensure_real_name_verified(user)
    # SQLite's shared-cache test database answers "table is locked" at once instead of waiting,
    # so it gets more (short) retries; PostgreSQL waits on the row lock up to lock_timeout.
    attempts = 60 if connection.vendor == "sqlite" else 3
    for attempt in range(attempts):
        try:
            return _booking_attempt(company_id=company_id, month=month.replace(day=1), user=user, now=now)
        except OperationalError as error:
            logger.info("booking attempt %s hit a lock: %s", attempt + 1, error)
            time.sleep(random.uniform(0.005, 0.02) * min(attempt + 1, 5))  # noqa: S311  (jitter, not crypto)
    raise ServiceBusy(Code.BOOKING_BUSY, _("Too many requests at once; please try again in a moment."))


# The hot path's first read, in plain SQL: compiling the equivalent queryset costs about as much
# as running it, and at an opening this query answers nearly every request on its own.
_SLOT_STATE_SQL = (
    "SELECT id, opens_at, capacity + extra_capacity, booked FROM licensing_testslotmonth WHERE month = %s"
)


def _slot_state(month: dt.date) -> tuple[int, dt.datetime, int, int] | None:
    with connection.cursor() as cursor:
        cursor.execute(_SLOT_STATE_SQL, [month])
        row = cursor.fetchone()
    if row is None:
        return None
    opens_at = row[1]
    if isinstance(opens_at, str):  # SQLite returns text
        opens_at = dt.datetime.fromisoformat(opens_at)
    if timezone.is_naive(opens_at):
        opens_at = timezone.make_aware(opens_at, dt.UTC)
    return int(row[0]), opens_at, int(row[2]), int(row[3])


def _booking_attempt(*, company_id: int, month: dt.date, user: User, now: dt.datetime) -> TestBooking:
    state = _slot_state(month)
    if state is None:
        raise NotFound(Code.BOOKING_MONTH_NOT_FOUND, _("No test appointments are offered in this month."))
    slot_id, opens_at, total, booked = state
    if now < opens_at:
        raise Conflict(
            Code.BOOKING_NOT_OPEN,
            _("Booking for %(month)s opens at %(opens)s.")
            % {"month": f"{month:%Y-%m}", "opens": timezone.localtime(opens_at).strftime("%Y-%m-%d %H:%M")},
            details=[
                ErrorDetail(
                    field="month",
                    code=Code.BOOKING_NOT_OPEN,
                    message="opens_at",
                    params={"opens_at": opens_at.isoformat()},
                )
            ],
        )
    if deadlines.month_end(month) < today_in_china(now):
        raise Conflict(Code.BOOKING_MONTH_PAST, _("This month is over."))
    if booked >= total:
        raise _booking_error(Code.BOOKING_FULL)
    company = Company.objects.filter(pk=company_id, memberships__user_id=user.pk).first()
    if company is None:
        raise PermissionDenied(Code.NOT_A_MEMBER, _("You do not act for this company."))
    if (
        TestBooking.objects.filter(company=company, slot_month_id=slot_id)
        .exclude(status=TestBooking.Status.CANCELLED)
        .exists()
    ):
        raise _booking_error(Code.BOOKING_ALREADY_BOOKED)
    application = LicenceApplication.objects.filter(company=company, step=Step.TEST_BOOKING).first()
    if application is None:
        raise Conflict(
            Code.BOOKING_NOT_ELIGIBLE,
            _(
                "The company has no application waiting for a test "
                "(the ministry opens the VPN account first)."
            ),
        )
    slot = TestSlotMonth.objects.get(pk=slot_id)
    return _booking_transaction(slot=slot, company=company, application=application, user=user, now=now)


def test_booking_cancel(*, booking: TestBooking, user: User, now: dt.datetime | None = None) -> TestBooking:
    """The company gives a booked slot back (before the test): the slot is free again."""
    now = now_or(now)
    selectors.require_member(user=user, company=booking.company)
    with transaction.atomic():
        locked = TestBooking.objects.select_for_update().get(pk=booking.pk)
        if locked.status != TestBooking.Status.BOOKED:
            raise Conflict(Code.BOOKING_NOT_FOUND, _("Only an active booking can be cancelled."))
        locked.status = TestBooking.Status.CANCELLED
        locked.result_at = now
        locked.save(update_fields=["status", "result_at"])
        TestSlotMonth.objects.filter(pk=locked.slot_month_id, booked__gt=0).update(booked=F("booked") - 1)
        if locked.application_id:
            application = _lock(locked.application)  # type: ignore[arg-type]
            if application.step == Step.TEST_RUN:
                # Back to booking: the table has no such move for the company, so it is recorded
                # as a failed (not taken) test by the system.
                _move(
                    application,
                    action=Action.TEST_FAILED,
                    user=user,
                    now=now,
                    role=SYSTEM,
                    reason="cancelled",
                )
        record_audit(
            actor=_actor(user),
            action="licensing.booking.cancel",
            target_type="test_booking",
            target_id=locked.pk,
        )
    return locked
