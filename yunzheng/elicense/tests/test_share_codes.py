"""Holder consent: one-time share codes, holder-only access, everything audited and visible."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from yunzheng.core.errors import NotFound
from yunzheng.core.models import AuditEntry
from yunzheng.elicense import services
from yunzheng.elicense.models import ShareCode
from yunzheng.elicense.tests.conftest import user_client


def create_code(holder, licence, recipient="天津市公安交管局 王警官") -> str:
    response = user_client(holder).post(
        f"/api/v1/elicense/licences/{licence.lid}/share-codes",
        {"recipient_name": recipient},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()["code"]


def redeem(client, code: str, ip: str = "10.1.1.1"):
    return client.post(
        "/api/v1/elicense/share/redeem", {"code": code}, content_type="application/json", REMOTE_ADDR=ip
    )


def test_share_code_works_once_then_never(client, holder, licence):
    code = create_code(holder, licence)
    assert len(code) == 11
    assert code[5] == "-"
    first = redeem(client, code)
    assert first.status_code == 200, first.content
    shared = first.json()
    assert shared["shared_with"] == "天津市公安交管局 王警官"
    values = {row["label"]: row["value"] for row in shared["rows"]}
    assert holder.real_name in values.values()  # in full
    assert holder.id_number in values.values()
    for _again in range(2):
        again = redeem(client, code, ip="10.1.1.2")
        assert again.status_code == 404
        assert again.json()["error"]["code"] == "share_code.invalid"
    share = ShareCode.objects.get(licence=licence)
    assert share.used_at is not None
    assert share.used_by_ip_hash
    assert code.replace("-", "") not in share.code_hash  # only a keyed hash is stored
    actions = list(AuditEntry.objects.filter(target_id=licence.lid).values_list("action", flat=True))
    assert actions.count("elicense.share_code.create") == 1
    assert actions.count("elicense.share_code.use") == 1
    assert actions.count("elicense.share_code.refused") == 2
    # The holder sees the use.
    listed = user_client(holder).get(f"/api/v1/elicense/licences/{licence.lid}/share-codes").json()
    assert listed[0]["state"] == "used"
    assert listed[0]["used_at"]


def test_code_is_typed_leniently(client, holder, licence):
    code = create_code(holder, licence)
    assert redeem(client, " " + code.lower().replace("-", " ") + " ").status_code == 200


def test_expired_code_is_refused(holder, licence):
    issued = services.share_code_create(licence=licence, user=holder, recipient_name="某物流公司")
    later = timezone.now() + dt.timedelta(minutes=11)
    with pytest.raises(NotFound):
        services.share_code_redeem(code=issued.code, client_ip="10.1.1.3", now=later)
    assert services.share_code_redeem(code=issued.code, client_ip="10.1.1.3").licence == licence


def test_wrong_codes_are_refused(client, licence):
    for code in ("", "ABCDE-FGHJK", "12345", "x" * 40):
        assert redeem(client, code).status_code in (404, 422)


def test_only_the_holder_sees_and_shares(holder, other_user, licence):
    other = user_client(other_user)
    assert other.get(f"/api/v1/elicense/licences/{licence.lid}").status_code == 404
    assert (
        other.post(
            f"/api/v1/elicense/licences/{licence.lid}/share-codes",
            {"recipient_name": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert other.get(f"/elicense/licences/{licence.lid}/").status_code == 404
    assert other.get(f"/elicense/licences/{licence.lid}/download.pdf").status_code == 404
    with pytest.raises(NotFound):
        services.share_code_create(licence=licence, user=other_user, recipient_name="x")
    assert other.get("/api/v1/elicense/licences").json() == []
    mine = user_client(holder).get("/api/v1/elicense/licences").json()
    assert [item["id"] for item in mine] == [licence.lid]
    assert (mine[0]["type"], mine[0]["holder"]) == (licence.licence_type, licence.holder_name)
    services.share_code_create(licence=licence, user=holder, recipient_name="王警官")
    detail = user_client(holder).get(f"/api/v1/elicense/licences/{licence.lid}").json()
    assert (detail["id"], detail["type_label"]) == (licence.lid, str(licence.get_licence_type_display()))
    assert detail["rows"]
    assert all(set(row) == {"label", "value"} for row in detail["rows"])
    assert [(s["recipient_name"], s["state"]) for s in detail["share_codes"]] == [("王警官", "open")]
    assert [e["version"] for e in detail["events"]] == [e.version for e in licence.events.all()]


def test_share_pages(client, holder, licence):
    holder_client = user_client(holder)
    page = holder_client.post(
        f"/elicense/licences/{licence.lid}/share/", {"recipient_name": "王警官"}, follow=True
    )
    assert page.status_code == 200
    share = ShareCode.objects.get(licence=licence)
    assert "王警官" in page.content.decode()
    message = next(m.message for m in page.context["messages"])
    code = message.split("：")[1].split(" ")[0] if "：" in message else message.split(": ")[1].split(" ")[0]
    # GET only confirms (a link preview must not use the code) ...
    confirm = client.get(f"/verify/share/{code}/")
    assert confirm.status_code == 200
    share.refresh_from_db()
    assert share.used_at is None
    # ... POST shows the licence in full, once.
    shown = client.post("/verify/share/", {"code": code})
    assert holder.real_name in shown.content.decode()
    again = client.post("/verify/share/", {"code": code})
    assert holder.real_name not in again.content.decode()
    licence_page = holder_client.get(f"/elicense/licences/{licence.lid}/").content.decode()
    assert 'data-testid="share-list"' in licence_page
    assert "王警官" in licence_page
