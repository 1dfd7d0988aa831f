"""Staff credential rules (issue #14): enrolment only by an administrator's one-time link, lockout
per account and per address that grows, audited failures, password change and reset on pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunzheng.accounts import services
from yunzheng.accounts.models import StaffLoginFailure, User
from yunzheng.accounts.tests.factories import STAFF_PASSWORD, staff, staff_client, totp_now
from yunzheng.core.audit import Actor
from yunzheng.core.errors import RateLimited
from yunzheng.core.models import AuditEntry
from yunzheng.core.ratelimit import lockout_until

pytestmark = pytest.mark.django_db

ADMIN = Actor.system("test-admin")


def _login(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> str:
    response = client.post(
        "/accounts/staff/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )
    return "otp" if response.status_code == 302 else response.content.decode()


# --------------------------------------------------------------------------------------------
# Enrolment by link
# --------------------------------------------------------------------------------------------


def test_enrolment_link_is_issued_audited_and_works_once() -> None:
    user = staff("new-clerk")
    token = services.staff_credential_link_issue(user=user, purpose="enrol", issued_by=ADMIN)
    issued = AuditEntry.objects.get(action="staff.enrol.issue")
    assert issued.target_id == str(user.pk)
    assert token not in str(issued.after)  # the secret link never reaches the log

    client = Client()
    url = f"/accounts/staff/enrol/{token}/"
    assert 'data-testid="totp-qr"' not in client.get(url).content.decode()  # password first
    wrong = client.post(url, {"step": "password", "password": "not-the-password"})
    assert wrong.status_code == 200
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert StaffLoginFailure.objects.count() == 1
    assert client.post(url, {"step": "password", "password": STAFF_PASSWORD}).status_code == 302
    page = client.get(url).content.decode()
    assert 'data-testid="totp-qr"' in page
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    done = client.post(url, {"step": "code", "token": totp_now(device)})
    assert done["Location"] == "/accounts/staff/login/"
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.filter(action="staff.totp.enrol", target_id=str(user.pk)).exists()
    assert client.get(url).status_code == 404  # used up
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1


def test_a_new_link_replaces_the_old_one_and_links_expire() -> None:
    user = staff("two-links")
    first = services.staff_credential_link_issue(user=user, purpose="enrol", issued_by=ADMIN)
    second = services.staff_credential_link_issue(user=user, purpose="enrol", issued_by=ADMIN)
    assert Client().get(f"/accounts/staff/enrol/{first}/").status_code == 404
    assert Client().get(f"/accounts/staff/enrol/{second}/").status_code == 200
    assert Client().get(f"/accounts/staff/reset/{second}/").status_code == 404  # wrong purpose
    old = services.staff_credential_link_issue(
        user=user, purpose="enrol", issued_by=ADMIN, now=timezone.now() - dt.timedelta(days=4)
    )
    assert Client().get(f"/accounts/staff/enrol/{old}/").status_code == 404


def test_the_admin_site_issues_links(admin_client_otp: Client) -> None:
    user = staff("by-admin")
    response = admin_client_otp.post(
        "/admin/accounts/user/",
        {"action": "issue_enrolment_link", "_selected_action": [user.pk]},
        follow=True,
    )
    assert "/accounts/staff/enrol/" in response.content.decode()
    entry = AuditEntry.objects.get(action="staff.enrol.issue")
    assert entry.actor_label.endswith("root")


@pytest.fixture
def admin_client_otp() -> Client:
    admin = User.objects.create_superuser(username="root", password=STAFF_PASSWORD, email="")
    device = services.staff_totp_device_create(user=admin, confirmed=True)
    client = Client()
    client.force_login(admin)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


# --------------------------------------------------------------------------------------------
# Lockout
# --------------------------------------------------------------------------------------------


def test_wrong_passwords_lock_the_account_and_are_audited() -> None:
    user = staff("guessed")
    services.staff_totp_device_create(user=user, confirmed=True)
    client = Client()
    for _attempt in range(5):
        assert _login(client, "guessed", "wrong-password") != "otp"
    refused = _login(client, "guessed", STAFF_PASSWORD)
    assert refused != "otp"  # the right password no longer helps while locked
    assert "登录已锁定" in refused
    assert AuditEntry.objects.filter(action="staff.login.failed").count() == 5
    assert AuditEntry.objects.filter(action="staff.login.locked_out", after__scope="account").exists()
    # from another address too: the lock is on the account
    assert _login(Client(), "guessed", STAFF_PASSWORD, ip="10.9.9.9") != "otp"


def test_the_lockout_grows_with_each_further_failure() -> None:
    staff("grows")
    for _attempt in range(5):
        _login(Client(), "grows", "wrong-password")
    failures = StaffLoginFailure.objects.all()
    now = timezone.now()
    base = dt.timedelta(seconds=60)
    first = lockout_until(
        failures, threshold=5, base=base, longest=dt.timedelta(days=1), window=dt.timedelta(days=1), now=now
    )
    assert first is not None
    assert dt.timedelta(seconds=55) < first - now <= base
    # let the lock pass, fail once more: locked twice as long
    failures.update(created_at=now - dt.timedelta(seconds=61))
    assert _login(Client(), "grows", STAFF_PASSWORD) == "otp"  # the lock has passed
    _login(Client(), "grows", "wrong-password")
    second = lockout_until(
        failures, threshold=5, base=base, longest=dt.timedelta(days=1), window=dt.timedelta(days=1), now=now
    )
    assert second is not None
    assert dt.timedelta(seconds=110) < second - timezone.now() <= 2 * base


def test_one_address_guessing_many_accounts_is_locked_out() -> None:
    staff("victim")
    for number in range(20):
        _login(Client(), f"nobody-{number}", "guess", ip="10.6.6.6")
    assert _login(Client(), "victim", STAFF_PASSWORD, ip="10.6.6.6") != "otp"
    assert AuditEntry.objects.filter(action="staff.login.locked_out", after__scope="address").exists()
    assert _login(Client(), "victim", STAFF_PASSWORD, ip="10.7.7.7") == "otp"  # others unaffected


def test_wrong_totp_codes_count_towards_the_lockout() -> None:
    user = staff("codes")
    device = services.staff_totp_device_create(user=user, confirmed=True)
    wrong = "000000" if totp_now(device) != "000000" else "111111"
    client = Client()
    assert _login(client, "codes", STAFF_PASSWORD) == "otp"
    client.post("/accounts/staff/otp/", {"token": wrong}, REMOTE_ADDR="10.0.0.1")
    failure = StaffLoginFailure.objects.get()
    assert failure.stage == "totp"
    assert AuditEntry.objects.filter(action="staff.login.failed", after__stage="totp").exists()
    for _attempt in range(4):
        services.staff_login_failure_record(username="codes", client_ip="10.0.0.1", stage="totp")
    with pytest.raises(RateLimited) as locked:
        services.staff_otp_verify(user=user, token=totp_now(device), client_ip="10.0.0.1")
    assert locked.value.code == "staff_login.locked_out"


def test_a_full_login_resets_the_account_count() -> None:
    user = staff("resets")
    services.staff_totp_device_create(user=user, confirmed=True)
    for _attempt in range(3):
        _login(Client(), "resets", "wrong-password")
    staff_client(user)
    assert not StaffLoginFailure.objects.filter(username_hash=services.staff_security.username_hash("resets"))


# --------------------------------------------------------------------------------------------
# Passwords on pages
# --------------------------------------------------------------------------------------------


def test_password_change_page() -> None:
    user = staff("changer")
    client = staff_client(user)
    url = "/accounts/staff/password/"
    new = "a-brand-new-long-password"
    wrong = client.post(url, {"old_password": "nope", "new_password1": new, "new_password2": new})
    assert wrong.status_code == 200
    weak = client.post(url, {"old_password": STAFF_PASSWORD, "new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200
    ok = client.post(url, {"old_password": STAFF_PASSWORD, "new_password1": new, "new_password2": new})
    assert ok["Location"] == "/accounts/staff/"
    assert client.get("/accounts/staff/").status_code == 200  # still logged in
    user.refresh_from_db()
    assert user.check_password(new)
    assert AuditEntry.objects.filter(action="staff.password.change", target_id=str(user.pk)).exists()


def test_password_reset_by_link() -> None:
    user = staff("forgetful")
    token = services.staff_credential_link_issue(user=user, purpose="password_reset", issued_by=ADMIN)
    url = f"/accounts/staff/reset/{token}/"
    new = "another-long-password-42"
    mismatch = Client().post(url, {"new_password1": new, "new_password2": new + "x"})
    assert mismatch.status_code == 200
    done = Client().post(url, {"new_password1": new, "new_password2": new})
    assert done["Location"] == "/accounts/staff/login/"
    user.refresh_from_db()
    assert user.check_password(new)
    assert Client().get(url).status_code == 404
    assert AuditEntry.objects.filter(action="staff.password.reset", target_id=str(user.pk)).exists()
