"""Provincial systems feed the registries as machines: a registry-feed credential per system,
issued and revoked by transport staff (permission table), stored hashed, confined to its region,
and named in the audit trail of every write."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from yunzheng.accounts.credentials import registry_credential_issue, registry_credential_revoke
from yunzheng.accounts.models import RegistryCredential, StaffProfile
from yunzheng.core.errors import PermissionDenied
from yunzheng.core.models import AuditEntry
from yunzheng.elicense.tests.conftest import make_staff, resident_id, staff_client
from yunzheng.practitioners.models import QualificationCertificate
from yunzheng.registries.importing import registry_import_rows
from yunzheng.registries.tests.test_import import cert_row

pytestmark = pytest.mark.django_db
URL = "/api/v1/registries/imports/qualification-certificates"


def _post(token: str, rows: list[dict[str, str]]) -> Any:
    return Client().post(
        URL, {"rows": rows}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_a_province_12_credential_cannot_write_province_11_records_and_is_audited() -> None:
    tianjin = make_staff("120000")
    issued = registry_credential_issue(user=tianjin, name="天津市道路运输管理系统", region_code="120000")
    stored = RegistryCredential.objects.get(pk=issued.credential.pk)
    secret = issued.token.split("_", 2)[2]  # yzr_<hex key id>_<secret>; the secret may contain "_"
    assert secret not in stored.secret_hash  # only the hash is kept
    assert len(stored.secret_hash) == 64

    rows = [
        cert_row(
            "TJ-1", resident_id("120101"), region_code="120100", issuing_authority="天津市交通运输委员会"
        ),
        cert_row("BJ-1", resident_id("110101"), region_code="110100", issuing_authority="北京市交通委员会"),
    ]
    answer = _post(issued.token, rows)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["created"] == 1
    assert [(r["row"], r["field"], r["code"]) for r in body["rejected"]] == [
        (2, "region_code", "region.out_of_scope")
    ]
    assert QualificationCertificate.objects.filter(number="TJ-1").exists()
    assert not QualificationCertificate.objects.filter(number="BJ-1").exists()

    entry = AuditEntry.objects.filter(action="registry.import").latest("id")
    assert entry.actor_id == f"registry_credential:{stored.pk}"
    assert stored.key_id in entry.actor_label
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_a_revoked_or_wrong_credential_is_refused() -> None:
    tianjin = make_staff("120000")
    issued = registry_credential_issue(user=tianjin, name="天津市道路运输管理系统", region_code="120000")
    row = cert_row("TJ-2", resident_id("120101"), region_code="120100")
    wrong = issued.token[:-3] + ("aaa" if not issued.token.endswith("aaa") else "bbb")
    assert _post(wrong, [row]).status_code == 401
    registry_credential_revoke(user=tianjin, key_id=issued.credential.key_id)
    refused = _post(issued.token, [row])
    assert refused.status_code == 401
    assert not QualificationCertificate.objects.filter(number="TJ-2").exists()
    assert AuditEntry.objects.filter(action="registry.credential.revoke").count() == 1


def test_only_transport_staff_of_the_region_issue_and_revoke() -> None:
    beijing = make_staff("110000")
    with pytest.raises(PermissionDenied) as outside:
        registry_credential_issue(user=beijing, name="天津系统", region_code="120000")
    assert outside.value.code == "staff.out_of_scope"
    city = make_staff("120100", level=StaffProfile.Level.CITY)
    with pytest.raises(PermissionDenied) as level:
        registry_credential_issue(user=city, name="天津系统", region_code="120100")
    assert level.value.code == "staff.action_not_allowed"
    issued = registry_credential_issue(user=make_staff("120000"), name="天津系统", region_code="120000")
    with pytest.raises(PermissionDenied):
        registry_credential_revoke(user=beijing, key_id=issued.credential.key_id)

    # The staff API: issue (token once), list, revoke.
    client = staff_client(make_staff("120000"))
    created = client.post(
        "/api/v1/registries/credentials",
        {"name": "天津市系统二", "region_code": "120000"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    token = created.json()["token"]
    assert (created.json()["name"], created.json()["region_code"]) == ("天津市系统二", "120000")
    assert token.startswith(f"yzr_{created.json()['key_id']}_")
    assert created.json()["revoked_at"] is None
    listed = client.get("/api/v1/registries/credentials").json()
    assert {c["key_id"] for c in listed} == {issued.credential.key_id, created.json()["key_id"]}
    assert all("token" not in c for c in listed)
    revoked = client.post(f"/api/v1/registries/credentials/{created.json()['key_id']}/revoke")
    assert revoked.json()["revoked_at"] is not None
    assert _post(token, []).status_code == 401


def test_the_import_service_itself_checks_a_staff_member() -> None:
    """A staff member is checked by the import service (not only by the page and the API) and
    imports for their own region only, as themselves."""
    police = make_staff("120000", department=StaffProfile.Department.PUBLIC_SECURITY)
    rows = [
        cert_row(
            "TJ-9", resident_id("120101"), region_code="120100", issuing_authority="天津市交通运输委员会"
        )
    ]
    with pytest.raises(PermissionDenied) as refused:
        registry_import_rows(kind="qualification-certificates", rows=rows, user=police)
    assert refused.value.code == "staff.action_not_allowed"
    beijing = make_staff("110000")
    report = registry_import_rows(kind="qualification-certificates", rows=rows, user=beijing)
    assert (report.created, [r.code for r in report.rejected]) == (0, ["region.out_of_scope"])
    tianjin = make_staff("120000")
    assert registry_import_rows(kind="qualification-certificates", rows=rows, user=tianjin).created == 1
    assert AuditEntry.objects.filter(action="registry.import").latest("id").actor_id == str(tianjin.pk)
