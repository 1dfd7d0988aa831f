"""Test appointments: opening time, capacity, one booking per company per month, extra slots,
the JSON API, and a real race of threads against the database (SQLite or PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from yunzheng.accounts.services import user_token_create
from yunzheng.core.errors import Conflict, PermissionDenied
from yunzheng.core.models import AuditEntry
from yunzheng.licensing import services
from yunzheng.licensing.models import LicenceApplication, Step, TestBooking, TestSlotMonth
from yunzheng.licensing.tests.factories import advance_to, at, company_with_contact, officials

D = dt.date


def _ready_companies(count: int, *, now: dt.datetime):
    who = officials()
    ready = []
    for _ in range(count):
        company, user = company_with_contact()
        application = services.application_create(
            company=company, path="national", city_code="330100", user=user, now=now
        )
        advance_to(application, Step.TEST_BOOKING, user=user, who=who, now=now)
        ready.append((company, user))
    return who, ready


@pytest.mark.django_db
def test_opening_time_capacity_one_per_month_and_extra_slots() -> None:
    now = at(2026, 5, 1, 11)
    who, ready = _ready_companies(3, now=now)
    slot = services.test_slot_month_create(month=D(2026, 5, 1), user=who.ministry, capacity=1)
    assert slot.opens_at == at(2026, 5, 1, 12)  # the seed: noon on the 1st, Asia/Shanghai
    (first, first_user), (second, second_user), (third, third_user) = ready

    with pytest.raises(Conflict) as early:
        services.test_booking_create(
            company_id=first.pk, month=D(2026, 5, 1), user=first_user, now=at(2026, 5, 1, 11)
        )
    assert early.value.code == "booking.not_open"
    opening = at(2026, 5, 1, 12)
    with pytest.raises(PermissionDenied):  # only a member books for a company
        services.test_booking_create(company_id=third.pk, month=D(2026, 5, 1), user=second_user, now=opening)
    services.test_booking_create(company_id=first.pk, month=D(2026, 5, 1), user=first_user, now=opening)
    with pytest.raises(Conflict) as again:
        services.test_booking_create(company_id=first.pk, month=D(2026, 5, 1), user=first_user, now=opening)
    assert again.value.code in ("booking.already_booked", "booking.full")
    with pytest.raises(Conflict) as full:
        services.test_booking_create(company_id=second.pk, month=D(2026, 5, 1), user=second_user, now=opening)
    assert full.value.code == "booking.full"
    with pytest.raises(PermissionDenied):  # only the ministry opens slots
        services.test_slot_month_add_capacity(slot_month=slot, extra=1, reason="加开", user=who.city)

    services.test_slot_month_add_capacity(
        slot_month=slot, extra=1, reason="测试需求大，加开一个名额", user=who.ministry
    )
    services.test_booking_create(company_id=second.pk, month=D(2026, 5, 1), user=second_user, now=opening)
    with pytest.raises(Conflict):
        services.test_booking_create(company_id=third.pk, month=D(2026, 5, 1), user=third_user, now=opening)
    slot.refresh_from_db()
    assert (slot.capacity, slot.extra_capacity, slot.booked, slot.remaining) == (1, 1, 2, 0)
    assert AuditEntry.objects.filter(
        action="licensing.slot_month.add_capacity", reason__contains="加开"
    ).exists()

    # A cancelled booking gives its slot back.
    booking = TestBooking.objects.get(company=second)
    services.test_booking_cancel(booking=booking, user=second_user, now=opening)
    services.test_booking_create(company_id=third.pk, month=D(2026, 5, 1), user=third_user, now=opening)


@pytest.mark.django_db
def test_booking_api_answers_with_stable_codes() -> None:
    now = dt.datetime.now(tz=dt.UTC)
    who, [(company, user), (other, _other_user)] = _ready_companies(2, now=now)
    month = now.date().replace(day=1)
    services.test_slot_month_create(
        month=month, user=who.ministry, capacity=2, opens_at=now - dt.timedelta(minutes=5)
    )
    token = user_token_create(user=user).token
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    slots = client.get("/api/v1/licensing/slots").json()
    assert slots[0]["remaining"] == 2
    assert slots[0]["is_open"] is True
    body = {"company_id": company.pk, "month": f"{month:%Y-%m}"}
    created = client.post("/api/v1/licensing/bookings", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert (created.json()["month"], created.json()["company_id"]) == (f"{month:%Y-%m}", company.pk)
    assert slots[0]["month"] == f"{month:%Y-%m}"
    again = client.post("/api/v1/licensing/bookings", body, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "booking.already_booked"
    foreign = client.post(
        "/api/v1/licensing/bookings",
        {"company_id": other.pk, "month": f"{month:%Y-%m}"},
        content_type="application/json",
    )
    assert foreign.status_code == 403
    bad = client.post(
        "/api/v1/licensing/bookings",
        {"company_id": company.pk, "month": "2026-13"},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert (
        Client().post("/api/v1/licensing/bookings", body, content_type="application/json").status_code == 401
    )
    application = LicenceApplication.objects.get(company=company)
    detail = client.get(f"/api/v1/licensing/applications/{application.pk}").json()
    assert detail["step"] == "test_run"
    assert detail["history"][-1]["action"] == "book_test"
    assert detail["history"][-1]["actor"]
    assert [s["step"] for s in detail["stages"]][-1] == "test_run"
    assert detail["stages"][-1]["step_label"] != "test_run"  # the label, not the code
    [listed] = client.get("/api/v1/licensing/applications").json()
    assert (listed["id"], listed["step"], listed["stages"], listed["history"]) == (
        application.pk,
        "test_run",
        [],
        [],
    )
    assert listed["waiting_on"] == detail["waiting_on"]
    notifications = client.get("/api/v1/licensing/notifications").json()
    assert all(isinstance(n["read"], bool) for n in notifications)


@pytest.mark.django_db(transaction=True)
def test_concurrent_rush_never_overbooks() -> None:
    """72 threads (24 companies × 3 attempts) race for 5 slots: exactly 5 bookings, 5 companies."""
    now = dt.datetime.now(tz=dt.UTC)
    who, ready = _ready_companies(24, now=now)
    month = now.date().replace(day=1)
    slot = services.test_slot_month_create(
        month=month, user=who.ministry, capacity=5, opens_at=now - dt.timedelta(seconds=1)
    )
    barrier = threading.Barrier(72)
    results: list[str] = []
    lock = threading.Lock()

    def attempt(company, user) -> None:
        try:
            barrier.wait()
            try:
                services.test_booking_create(company_id=company.pk, month=month, user=user)
                outcome = "booked"
            except Conflict as error:
                outcome = error.code
            except Exception as error:
                outcome = f"error:{type(error).__name__}:{error}"
            with lock:
                results.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=pair) for pair in ready for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    counts = Counter(results)
    assert len(results) == 72
    assert counts["booked"] == 5, counts
    assert set(counts) <= {"booked", "booking.full", "booking.already_booked", "booking.not_eligible"}, counts
    slot.refresh_from_db()
    assert slot.booked == 5
    bookings = TestBooking.objects.filter(slot_month=slot)
    assert bookings.count() == 5
    assert bookings.values("company").distinct().count() == 5
    assert TestSlotMonth.objects.get(pk=slot.pk).remaining == 0
