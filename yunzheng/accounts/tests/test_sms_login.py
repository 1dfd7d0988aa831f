"""Phone + SMS code login: the happy path, every abuse case, and the API and page around it."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client, RequestFactory
from django.utils import timezone

from yunzheng.accounts import services
from yunzheng.accounts.auth import client_ip
from yunzheng.accounts.models import PolicyAcceptance, SmsCode, User, UserToken
from yunzheng.accounts.policies import CURRENT_VERSIONS
from yunzheng.accounts.tests.factories import last_code, login, sms_to, staff
from yunzheng.core.crypto import lookup_hash
from yunzheng.core.errors import PermissionDenied, RateLimited, ValidationFailed
from yunzheng.core.models import AuditEntry

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
IP = "203.0.113.7"


def _request(phone: str = PHONE, *, ip: str = IP, now: dt.datetime | None = None) -> services.SmsCodeIssued:
    return services.sms_code_request(phone=phone, client_ip=ip, agreed=True, now=now)


def _login(code: str, *, phone: str = PHONE, now: dt.datetime | None = None) -> services.LoginResult:
    return services.sms_login(phone=phone, code=code, client_ip=IP, agreed=True, now=now)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _error(exc_info: pytest.ExceptionInfo[Any]) -> str:
    return str(exc_info.value.code)


# --------------------------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------------------------


def test_first_login_creates_the_account_and_later_logins_find_it() -> None:
    issued = _request()
    assert issued.masked_phone == "139****5678"
    assert issued.expires_in_seconds == 300
    assert issued.resend_in_seconds == 60
    first = _login(last_code(PHONE))
    assert first.created
    user = first.user
    assert user.phone == PHONE
    assert user.phone_hash == lookup_hash(PHONE)
    assert PHONE not in user.username  # usernames are never phone numbers
    assert not user.has_usable_password()

    later = timezone.now() + dt.timedelta(minutes=2)
    _request(now=later)
    second = _login(last_code(PHONE), now=later)
    assert not second.created
    assert second.user.pk == user.pk
    assert User.objects.count() == 1
    actions = list(AuditEntry.objects.filter(target_type="user").values_list("action", flat=True))
    assert actions == ["user.register", "user.login"]


def test_acceptance_of_both_policies_is_recorded_with_version_time_and_ip() -> None:
    _request()
    user = _login(last_code(PHONE)).user
    rows = {row.document: row for row in PolicyAcceptance.objects.filter(user=user)}
    assert set(rows) == {"user_agreement", "privacy_policy"}
    for document, row in rows.items():
        assert row.version == CURRENT_VERSIONS[document]
        assert row.client_ip == IP
        assert abs((timezone.now() - row.accepted_at).total_seconds()) < 60
    # Accepting the same version again at the next login adds nothing.
    later = timezone.now() + dt.timedelta(minutes=2)
    _request(now=later)
    _login(last_code(PHONE), now=later)
    assert PolicyAcceptance.objects.filter(user=user).count() == 2


def test_without_agreement_no_code_is_sent_and_no_account_created() -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.sms_code_request(phone=PHONE, client_ip=IP, agreed=False)
    assert _error(refused) == "agreement.required"
    assert refused.value.details[0].field == "agree"
    assert SmsCode.objects.count() == 0
    assert sms_to(PHONE) == []

    _request()
    with pytest.raises(ValidationFailed) as refused:
        services.sms_login(phone=PHONE, code=last_code(PHONE), client_ip=IP, agreed=False)
    assert _error(refused) == "agreement.required"
    assert User.objects.count() == 0
    assert SmsCode.objects.get().attempts == 0  # a missing tick is not a guess


def test_codes_are_stored_only_as_salted_keyed_hashes_and_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _request()
    code = last_code(PHONE)
    row = SmsCode.objects.get()
    stored = " ".join(str(value) for value in SmsCode.objects.values().get().values())
    assert code not in stored
    assert PHONE not in stored
    assert len(row.code_hash) == 64
    assert len(row.salt) == 32
    _login(code)
    assert code not in caplog.text


def test_wrong_code_counts_an_attempt_and_changes_nothing_else() -> None:
    _request()
    code = last_code(PHONE)
    with pytest.raises(ValidationFailed) as wrong:
        _login(_wrong(code))
    assert _error(wrong) == "sms_code.wrong"
    assert wrong.value.details[0].params["attempts_left"] == 4
    assert User.objects.count() == 0
    assert SmsCode.objects.get().attempts == 1  # committed, although the call raised
    assert _login(code).created  # the right code still works


def test_malformed_code_is_refused_without_using_an_attempt() -> None:
    _request()
    with pytest.raises(ValidationFailed) as malformed:
        _login("12ab")
    assert _error(malformed) == "sms_code.format"
    assert SmsCode.objects.get().attempts == 0


def test_expired_code_is_refused() -> None:
    sent_at = timezone.now()
    _request(now=sent_at)
    with pytest.raises(ValidationFailed) as expired:
        _login(last_code(PHONE), now=sent_at + dt.timedelta(minutes=5))
    assert _error(expired) == "sms_code.expired"
    assert User.objects.count() == 0
    # Just inside the five minutes it works.
    assert _login(last_code(PHONE), now=sent_at + dt.timedelta(minutes=4, seconds=59)).created


def test_reused_code_is_refused() -> None:
    _request()
    code = last_code(PHONE)
    _login(code)
    with pytest.raises(ValidationFailed) as reused:
        _login(code)
    assert _error(reused) == "sms_code.used"
    assert AuditEntry.objects.filter(action__in=["user.login", "user.register"]).count() == 1


def test_a_new_code_replaces_the_previous_one() -> None:
    sent_at = timezone.now()
    _request(now=sent_at)
    old = last_code(PHONE)
    _request(now=sent_at + dt.timedelta(seconds=61))
    new = last_code(PHONE)
    later = sent_at + dt.timedelta(seconds=62)
    if old != new:
        with pytest.raises(ValidationFailed):
            _login(old, now=later)
    assert _login(new, now=later).created


def test_resend_within_one_minute_is_refused_with_retry_after() -> None:
    sent_at = timezone.now()
    _request(now=sent_at)
    with pytest.raises(RateLimited) as too_soon:
        _request(now=sent_at + dt.timedelta(seconds=45))
    assert _error(too_soon) == "sms_code.too_soon"
    assert too_soon.value.retry_after_seconds == 15
    assert SmsCode.objects.count() == 1
    assert len(sms_to(PHONE)) == 1
    _request(now=sent_at + dt.timedelta(seconds=60))
    assert SmsCode.objects.count() == 2


def test_wrong_codes_end_the_code_not_the_phone() -> None:
    """Issue #14: someone guessing from elsewhere kills the code, but cannot lock the phone's owner
    out of login: the owner asks for a new code and logs in at once."""
    sent_at = timezone.now()
    _request(now=sent_at)
    code = last_code(PHONE)
    for attempt in range(1, 5):
        with pytest.raises(ValidationFailed) as wrong:
            _login(_wrong(code), now=sent_at + dt.timedelta(seconds=attempt))
        assert _error(wrong) == "sms_code.wrong"
    with pytest.raises(ValidationFailed) as exhausted:
        _login(_wrong(code), now=sent_at + dt.timedelta(seconds=5))
    assert _error(exhausted) == "sms_code.exhausted"
    # The guessed-at code is dead, even when right.
    with pytest.raises(ValidationFailed) as dead:
        _login(code, now=sent_at + dt.timedelta(seconds=10))
    assert _error(dead) == "sms_code.not_requested"
    assert User.objects.count() == 0
    assert AuditEntry.objects.filter(action="sms_code.exhausted").count() == 1
    # The owner is not locked out: a new code (after the resend pause) logs in.
    fresh = sent_at + dt.timedelta(seconds=61)
    _request(now=fresh)
    assert _login(last_code(PHONE), now=fresh).created


def test_login_without_any_code_requested() -> None:
    with pytest.raises(ValidationFailed) as missing:
        _login("123456")
    assert _error(missing) == "sms_code.not_requested"


def test_per_phone_hourly_and_daily_limits() -> None:
    start = timezone.now()
    for index in range(5):
        _request(now=start + dt.timedelta(minutes=2 * index))
    with pytest.raises(RateLimited) as hourly:
        _request(now=start + dt.timedelta(minutes=12))
    assert _error(hourly) == "sms_code.rate_limited_phone"
    # The first code leaves the one-hour window at start + 1 h.
    assert hourly.value.retry_after_seconds == 48 * 60
    for index in range(5):
        _request(now=start + dt.timedelta(hours=2, minutes=2 * index))
    with pytest.raises(RateLimited) as daily:
        _request(now=start + dt.timedelta(hours=5))
    assert _error(daily) == "sms_code.rate_limited_phone"
    assert daily.value.retry_after_seconds == 19 * 3600
    assert SmsCode.objects.count() == 10
    _request(now=start + dt.timedelta(days=1, minutes=1))


def test_per_ip_limit_across_many_phones(settings: Any) -> None:
    settings.ACCOUNTS_SMS_PER_IP_HOUR = 3
    start = timezone.now()
    for index in range(3):
        _request(f"1390000000{index}", now=start)
    with pytest.raises(RateLimited) as limited:
        _request("13900000009", now=start + dt.timedelta(seconds=1))
    assert _error(limited) == "sms_code.rate_limited_ip"
    assert sms_to("13900000009") == []
    # Another network is not affected.
    _request("13900000009", ip="198.51.100.1", now=start + dt.timedelta(seconds=1))


def test_default_limits() -> None:
    limits = services.sms_limits()
    assert (limits.ttl_seconds, limits.resend_seconds, limits.max_attempts, limits.lock_seconds) == (
        300,
        60,
        5,
        1800,
    )
    assert (limits.per_phone_hour, limits.per_phone_day, limits.per_ip_hour) == (5, 10, 30)


def test_bad_phone_number_is_refused() -> None:
    with pytest.raises(ValidationFailed) as bad:
        services.sms_code_request(phone="1234", client_ip=IP, agreed=True)
    assert _error(bad) == "phone.format"


def test_staff_accounts_cannot_log_in_with_an_sms_code() -> None:
    clerk = staff("hz-clerk")
    clerk.phone, clerk.phone_hash = PHONE, lookup_hash(PHONE)
    clerk.save()
    _request()
    with pytest.raises(PermissionDenied) as refused:
        _login(last_code(PHONE))
    assert _error(refused) == "sms_login.not_allowed"


def test_purge_removes_old_rows_but_keeps_active_locks() -> None:
    old = timezone.now() - dt.timedelta(days=3)
    _request(now=old)
    _request("13900000001")
    assert services.sms_code_purge() == 1
    assert SmsCode.objects.count() == 1


# --------------------------------------------------------------------------------------------
# API
# --------------------------------------------------------------------------------------------


def _api_code(client: Client, phone: str = PHONE, **extra: Any) -> Any:
    return client.post(
        "/api/v1/auth/sms-code", {"phone": phone, "agree": True}, content_type="application/json", **extra
    )


def _api_login(client: Client, code: str, phone: str = PHONE) -> Any:
    return client.post(
        "/api/v1/auth/login",
        {"phone": phone, "code": code, "agree": True, "client_name": "mini-program"},
        content_type="application/json",
    )


def test_api_login_gives_a_bearer_token_and_logout_revokes_it(client: Client) -> None:
    response = _api_code(client)
    assert response.status_code == 200
    assert response.json() == {"masked_phone": "139****5678", "expires_in": 300, "resend_in": 60}
    response = _api_login(client, last_code(PHONE))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] is True
    assert body["token_type"] == "Bearer"
    assert body["user"]["phone"] == "139****5678"
    assert body["user"]["real_name_status"] == "unverified"
    token = body["token"]
    assert token.startswith("yzu_")
    assert UserToken.objects.get().token_hash != token  # only the hash is stored

    anonymous = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    me = anonymous.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["phone"] == "139****5678"
    assert UserToken.objects.get().last_used_at is not None

    assert anonymous.post("/api/v1/auth/logout").status_code == 204
    after = anonymous.get("/api/v1/auth/me")
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "not_authenticated"


def test_api_rejects_expired_and_forged_tokens() -> None:
    user = login(PHONE)
    issued = services.user_token_create(user=user)
    client = Client()
    assert client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {issued.token}").status_code == 200
    UserToken.objects.update(expires_at=F("created_at"))
    assert client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {issued.token}").status_code == 401
    assert client.get("/api/v1/auth/me", HTTP_AUTHORIZATION="Bearer yzu_forged").status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 401


def test_api_errors_have_the_one_shape_and_retry_after(client: Client) -> None:
    assert _api_code(client).status_code == 200
    too_soon = _api_code(client)
    assert too_soon.status_code == 429
    assert int(too_soon["Retry-After"]) in range(55, 61)
    error = too_soon.json()["error"]
    assert error["code"] == "sms_code.too_soon"
    assert set(error) == {"code", "message", "details", "request_id"}

    wrong = _api_login(client, _wrong(last_code(PHONE)))
    assert wrong.status_code == 422
    body = wrong.json()["error"]
    assert body["code"] == "sms_code.wrong"
    assert body["details"][0]["field"] == "code"

    no_agreement = client.post(
        "/api/v1/auth/login",
        {"phone": PHONE, "code": "123456", "agree": False},
        content_type="application/json",
    )
    assert no_agreement.json()["error"]["code"] == "agreement.required"


def test_api_per_ip_limit_uses_remote_addr_not_forwarded_for(client: Client, settings: Any) -> None:
    settings.ACCOUNTS_SMS_PER_IP_HOUR = 1
    assert _api_code(client, "13900000001", REMOTE_ADDR="192.0.2.1").status_code == 200
    spoofed = _api_code(client, "13900000002", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert spoofed.status_code == 429
    assert spoofed.json()["error"]["code"] == "sms_code.rate_limited_ip"


def test_api_policies_lists_current_versions(client: Client) -> None:
    body = client.get("/api/v1/auth/policies").json()
    assert {(p["key"], p["version"]) for p in body} == set(CURRENT_VERSIONS.items())
    assert all(p["url"].startswith("/accounts/") for p in body)


# --------------------------------------------------------------------------------------------
# Web pages
# --------------------------------------------------------------------------------------------


def test_web_login_flow_in_chinese_with_session_and_logout(client: Client) -> None:
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "获取验证码" in html
    assert "用户协议" in html
    assert "隐私政策" in html

    sent = client.post("/accounts/login/", {"phone": PHONE, "agree": "on", "action": "send_code"})
    assert sent.status_code == 200
    assert "139****5678" in sent.content.decode()
    logged_in = client.post("/accounts/login/", {"phone": PHONE, "code": last_code(PHONE), "agree": "on"})
    assert logged_in.status_code == 302
    # Unverified users are sent to verify, and back to their home afterwards.
    assert logged_in["Location"] == "/accounts/real-name/?next=%2Fhome%2F"
    assert client.get("/api/v1/auth/me").json()["phone"] == "139****5678"  # the session works for the API
    home = client.get("/accounts/")
    assert "139****5678" in home.content.decode()

    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/accounts/").status_code == 302


def test_web_login_shows_errors_on_the_fields(client: Client) -> None:
    no_tick = client.post("/accounts/login/", {"phone": PHONE, "action": "send_code"})
    assert "请先阅读并同意" in no_tick.content.decode()
    client.post("/accounts/login/", {"phone": PHONE, "agree": "on", "action": "send_code"})
    wrong = client.post("/accounts/login/", {"phone": PHONE, "code": _wrong(last_code(PHONE)), "agree": "on"})
    assert wrong.status_code == 200
    assert "验证码错误" in wrong.content.decode()
    assert not User.objects.exists()


def test_web_login_redirects_only_to_local_next(client: Client) -> None:
    client.post("/accounts/login/", {"phone": PHONE, "agree": "on", "action": "send_code"})
    response = client.post(
        "/accounts/login/",
        {"phone": PHONE, "code": last_code(PHONE), "agree": "on", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/accounts/real-name/?next=%2Fhome%2F"


def test_policy_pages_show_the_texts(client: Client) -> None:
    agreement = client.get("/accounts/agreement/").content.decode()
    privacy = client.get("/accounts/privacy/").content.decode()
    assert "用户协议" in agreement
    assert CURRENT_VERSIONS["user_agreement"] in agreement
    assert "隐私政策" in privacy
    assert "个人信息保护法" in privacy


def test_client_ip_trusts_forwarded_for_only_as_configured(settings: Any) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert client_ip(request) == "10.0.0.2"
    settings.ACCOUNTS_TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # what our proxy saw; the forged left entry is ignored
    settings.ACCOUNTS_TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "6.6.6.6"
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="not-an-ip")) is None


def test_endpoints_are_in_the_openapi_document(client: Client) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("sms-code", "login", "logout", "me", "real-name", "real-name/photo", "policies"):
        assert f"/api/v1/auth/{path}" in paths
    assert "/api/v1/auth/real-name/{verification_id}/submit" in paths


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_logins_with_the_same_code_only_one_succeeds() -> None:
    """The code row is locked while it is checked (SELECT ... FOR UPDATE on PostgreSQL, the write
    lock of an IMMEDIATE transaction on SQLite), so a race cannot use one code twice."""
    _request()
    code = last_code(PHONE)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            _login(code)
            outcomes.append("ok")
        except ValidationFailed as refused:
            outcomes.append(str(refused.code))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ok", "sms_code.used"]
    assert User.objects.count() == 1
