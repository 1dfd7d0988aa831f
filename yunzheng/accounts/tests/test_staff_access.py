"""The one staff check (pages and API), "current user or answer", staff session lifetime, and the
one rate limiter."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.test import Client

from yunzheng.accounts.tests.factories import login, public_client, staff, staff_client
from yunzheng.core.auth import SESSION_LAST_SEEN, SESSION_STARTED
from yunzheng.core.models import AuditEntry
from yunzheng.core.ratelimit import seconds_until, window_limit

pytestmark = pytest.mark.django_db

STAFF_API = "/api/v1/elicense/staff/traffic-passes"
STAFF_PAGE = "/accounts/staff/real-name/"
USER_API = "/api/v1/auth/me"


def _half_logged_in_staff() -> Client:
    """A staff account logged in with the password only (no second factor in this session)."""
    client = Client()
    client.force_login(staff("half-way"))
    return client


def test_staff_api_answers_401_403_and_lets_verified_staff_through() -> None:
    anonymous = Client().get(STAFF_API)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"

    public = public_client(login("13900000001")).get(STAFF_API)
    assert public.status_code == 403
    assert public.json()["error"]["code"] == "staff.required"

    half = _half_logged_in_staff().get(STAFF_API)
    assert half.status_code == 403
    assert half.json()["error"]["code"] == "staff.second_factor_required"

    assert staff_client(staff("full")).get(STAFF_API).status_code == 200


def test_staff_pages_redirect_to_login_or_refuse_the_wrong_role() -> None:
    anonymous = Client().get(STAFF_PAGE)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/staff/login/")
    half = _half_logged_in_staff().get(STAFF_PAGE)
    assert half.status_code == 302
    assert half["Location"].startswith("/accounts/staff/login/")
    assert public_client(login("13900000002")).get(STAFF_PAGE).status_code == 403
    assert staff_client(staff("page-staff")).get(STAFF_PAGE).status_code == 200


def test_current_user_never_treats_half_logged_in_staff_as_a_user() -> None:
    assert Client().get(USER_API).status_code == 401
    assert public_client(login("13900000003")).get(USER_API).status_code == 200
    half = _half_logged_in_staff().get(USER_API)
    assert half.status_code == 403
    assert half.json()["error"]["code"] == "staff.second_factor_required"


def _age_session(client: Client, *, started_ago: float, last_seen_ago: float) -> None:
    session = client.session
    now = time.time()
    session[SESSION_STARTED] = now - started_ago
    session[SESSION_LAST_SEEN] = now - last_seen_ago
    session.save()


def test_staff_session_ends_after_30_idle_minutes() -> None:
    user = staff("idle-staff")
    client = staff_client(user)
    _age_session(client, started_ago=29 * 60, last_seen_ago=29 * 60)
    assert client.get(STAFF_PAGE).status_code == 200  # 29 minutes idle: still in
    _age_session(client, started_ago=40 * 60, last_seen_ago=31 * 60)
    response = client.get(STAFF_PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/staff/login/")
    assert client.get(STAFF_API).status_code == 401
    entry = AuditEntry.objects.filter(action="staff.session.expired", target_id=str(user.pk)).get()
    assert entry.after == {"reason": "idle"}


def test_staff_session_ends_after_12_hours_however_active() -> None:
    client = staff_client(staff("busy-staff"))
    _age_session(client, started_ago=11.9 * 3600, last_seen_ago=60)
    assert client.get(STAFF_PAGE).status_code == 200
    _age_session(client, started_ago=12.1 * 3600, last_seen_ago=60)
    assert client.get(STAFF_API).status_code == 401
    assert AuditEntry.objects.filter(action="staff.session.expired", after__reason="max_age").exists()


def test_public_sessions_are_not_cut_by_the_staff_limits() -> None:
    client = public_client(login("13900000004"))
    _age_session(client, started_ago=13 * 3600, last_seen_ago=2 * 3600)
    assert client.get(USER_API).status_code == 200


def test_window_limit_counts_rows_in_the_window() -> None:
    staff("limit-a")
    staff("limit-b")
    rows = AuditEntry.objects.filter(action="staff.create")
    now = max(rows.values_list("created_at", flat=True)) + dt.timedelta(seconds=1)
    assert window_limit(rows, window=dt.timedelta(hours=1), limit=3, now=now, field="created_at") is None
    free_at = window_limit(rows, window=dt.timedelta(hours=1), limit=2, now=now, field="created_at")
    assert free_at is not None
    oldest = min(rows.values_list("created_at", flat=True))
    assert free_at == oldest + dt.timedelta(hours=1)
    assert 3500 < seconds_until(free_at, now) <= 3600
    later = now + dt.timedelta(hours=2)
    assert window_limit(rows, window=dt.timedelta(hours=1), limit=2, now=later, field="created_at") is None
