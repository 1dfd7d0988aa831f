"""The staff page of registry-feed credentials: list the region's credentials, issue one (the
token shown once), revoke one after confirming; refused to accounts the permission table refuses."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from yunzheng.accounts.credentials import registry_credential_issue
from yunzheng.accounts.models import RegistryCredential, StaffProfile
from yunzheng.core import portal
from yunzheng.core.models import AuditEntry
from yunzheng.elicense.tests.conftest import make_staff, resident_id, staff_client
from yunzheng.registries.tests.test_import import cert_row

pytestmark = pytest.mark.django_db
PAGE = "/registries/credentials/"
FEED = "/api/v1/registries/imports/qualification-certificates"
TOKEN = re.compile(r"yzr_[0-9a-f]+_[A-Za-z0-9_-]+")


def _feed(token: str) -> int:
    row = cert_row("ZJ-9", resident_id("330102"), region_code="330100", issuing_authority="杭州市运管")
    answer = Client().post(
        FEED, {"rows": [row]}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    return answer.status_code


def test_a_province_issues_a_credential_sees_it_once_and_revokes_it() -> None:
    zhejiang = make_staff("330000")
    client = staff_client(zhejiang)
    assert "registries.credentials" in {d.key for d in portal.staff_pages(zhejiang)}
    assert b'data-testid="credentials-link"' in client.get("/registries/registers/").content
    listing = client.get(PAGE)
    assert listing.status_code == 200
    # The region is chosen from the GB/T 2260 list of the staff member's province.
    assert b'<option value="330100">' in listing.content
    assert b'<option value="330000">' in listing.content
    assert b'value="110000"' not in listing.content
    assert b"no-store" in listing.headers["Cache-Control"].encode()

    issued = client.post(PAGE, {"action": "issue", "name": "杭州市道路运输管理系统", "region_code": "330100"})
    assert issued.status_code == 200, issued.content
    token = TOKEN.search(issued.content.decode())
    assert token is not None
    assert "no-store" in issued.headers["Cache-Control"]
    credential = RegistryCredential.objects.get(name="杭州市道路运输管理系统")
    assert (credential.region_code, credential.created_by) == ("330100", zhejiang)
    assert token.group(0).startswith(f"yzr_{credential.key_id}_")
    assert AuditEntry.objects.filter(
        action="registry.credential.issue", target_id=str(credential.pk)
    ).exists()
    assert _feed(token.group(0)) == 200
    again = client.get(PAGE).content.decode()
    assert credential.key_id in again
    assert token.group(0) not in again  # shown once only
    assert 'data-active="true"' in again

    confirm = client.get(f"{PAGE}{credential.key_id}/revoke/")
    assert confirm.status_code == 200
    assert b'data-testid="form-revoke"' in confirm.content
    unconfirmed = client.post(f"{PAGE}{credential.key_id}/revoke/", {})
    assert unconfirmed.status_code == 422
    credential.refresh_from_db()
    assert credential.revoked_at is None
    revoked = client.post(f"{PAGE}{credential.key_id}/revoke/", {"confirm": "on"})
    assert revoked.status_code == 302
    credential.refresh_from_db()
    assert (credential.revoked_at is not None, credential.revoked_by) == (True, zhejiang)
    assert AuditEntry.objects.filter(
        action="registry.credential.revoke", target_id=str(credential.pk)
    ).exists()
    assert _feed(token.group(0)) == 401
    assert 'data-active="false"' in client.get(PAGE).content.decode()


def test_bad_input_is_shown_on_the_form() -> None:
    client = staff_client(make_staff("330000"))
    typed = client.post(PAGE, {"action": "issue", "name": "某系统", "region_code": "110000"})
    assert typed.status_code == 422  # another province's code is not in the list
    blank = client.post(PAGE, {"action": "issue", "name": " ", "region_code": "330100"})
    assert blank.status_code == 422
    assert not RegistryCredential.objects.exists()
    assert client.post(PAGE, {"action": "delete-all"}).status_code == 400


@pytest.mark.parametrize(
    ("region", "level", "department"),
    [
        ("330100", StaffProfile.Level.CITY, StaffProfile.Department.TRANSPORT),
        ("330000", StaffProfile.Level.PROVINCE, StaffProfile.Department.PUBLIC_SECURITY),
    ],
)
def test_refused_accounts_get_403(region: str, level: str, department: str) -> None:
    zhejiang = make_staff("330000")
    issued = registry_credential_issue(user=zhejiang, name="浙江省运管系统", region_code="330000")
    refused = make_staff(region, level=level, department=department)
    client = staff_client(refused)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"action": "issue", "name": "x", "region_code": "330100"}).status_code == 403
    revoke = f"{PAGE}{issued.credential.key_id}/revoke/"
    assert client.post(revoke, {"confirm": "on"}).status_code == 403
    issued.credential.refresh_from_db()
    assert issued.credential.revoked_at is None
    assert RegistryCredential.objects.count() == 1
    assert "registries.credentials" not in {d.key for d in portal.staff_pages(refused)}


def test_another_provinces_credential_is_not_found() -> None:
    beijing = registry_credential_issue(user=make_staff("110000"), name="北京系统", region_code="110000")
    client = staff_client(make_staff("330000"))
    assert beijing.credential.key_id not in client.get(PAGE).content.decode()
    answer = client.post(f"{PAGE}{beijing.credential.key_id}/revoke/", {"confirm": "on"})
    assert answer.status_code == 404
    beijing.credential.refresh_from_db()
    assert beijing.credential.revoked_at is None
