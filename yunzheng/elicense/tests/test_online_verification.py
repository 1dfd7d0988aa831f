"""Online verification: POST /api/v1/elicense/verify and the /verify/ pages — live status,
refusals, rate limiting and the attempt log."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import pytest
from django.test import Client
from django.utils import timezone

from yunzheng.core.crypto import mask_name, sm2_sign
from yunzheng.elicense import qr_payload, services
from yunzheng.elicense.models import VerificationAttempt
from yunzheng.elicense.tests.conftest import SYSTEM, make_staff, staff_client, sync_licence

URL = "/api/v1/elicense/verify"


def verify(client: Client, text: str, ip: str = "10.0.0.1") -> dict:
    response = client.post(URL, {"payload": text}, content_type="application/json", REMOTE_ADDR=ip)
    assert response.status_code == 200, response.content
    return response.json()


def test_valid_payload_verifies_online_with_masked_essentials(client, licence):
    signed = services.licence_sign(licence=licence)
    answer = verify(client, signed.qr_text("https://yz.example.cn"))
    assert answer["result"] == "valid"
    assert answer["reason_code"] == "licence.valid"
    assert answer["licence"]["id"] == licence.lid
    assert answer["licence"]["essentials"]["holder"] == "王**"
    assert answer["licence"]["issuer_name"].startswith("浙江省")
    assert licence.holder_name not in json.dumps(answer, ensure_ascii=False)
    assert licence.holder_id_number not in json.dumps(answer)


@pytest.mark.django_db(transaction=True)
def test_revoked_is_reported_within_one_second(live_server, keys, holder):
    licence = sync_licence(holder)
    signed = services.licence_sign(licence=licence)

    def post_verify() -> dict:
        request = urllib.request.Request(  # noqa: S310
            live_server.url + URL,
            data=json.dumps({"payload": signed.text}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310  (the test server)
            return json.loads(response.read())

    assert post_verify()["result"] == "valid"
    services.licence_revoke(licence=licence, actor=SYSTEM, reason="forged documents")
    # The very next verification says revoked: no cache stands between the registry and the answer
    # (how fast that is lives in bench/, not in a timed assertion).
    answer = post_verify()
    assert answer["result"] == "revoked"


def test_staff_revocation_through_the_api_then_verification(client, keys, holder):
    licence = sync_licence(holder)
    signed = services.licence_sign(licence=licence)
    staff = make_staff("330000")
    response = staff_client(staff).post(
        f"/api/v1/elicense/staff/licences/{licence.lid}/revoke",
        {"reason": "fraud"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    changed = response.json()
    assert (changed["id"], changed["status"]) == (licence.lid, "revoked")
    assert changed["holder"] != licence.holder_name
    assert changed["holder"] == mask_name(licence.holder_name)
    answer = verify(client, signed.text)
    assert answer["result"] == "revoked"


def test_staff_of_another_region_cannot_revoke(client, keys, holder):
    licence = sync_licence(holder)
    response = staff_client(make_staff("120000")).post(
        f"/api/v1/elicense/staff/licences/{licence.lid}/revoke",
        {"reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_refusals(client, keys, licence):
    signed = services.licence_sign(licence=licence)
    claims, body, signature = qr_payload.parse(signed.text)
    tampered = qr_payload.assemble(body[:-1] + bytes([body[-1] ^ 1]), signature)
    unknown_claims = qr_payload.Claims(
        **{**{f: getattr(claims, f) for f in claims.__struct_fields__}, "kid": "330000-00000000"}
    )
    unknown_body = qr_payload.encode_claims(unknown_claims)
    unknown = qr_payload.assemble(unknown_body, sm2_sign(keys["330000"].private_key, unknown_body))
    cases = {
        tampered: "not_genuine",
        unknown: "not_genuine",
        "not a licence": "not_genuine",
    }
    for text, result in cases.items():
        answer = verify(client, text)
        assert answer["result"] == result
        assert answer["licence"] is None
    assert verify(client, unknown)["reason_code"] == "key.unknown"


def test_rotated_out_key_is_refused_online(client, keys, licence):
    signed = services.licence_sign(licence=licence)
    services.signing_key_rotate(province="330000", actor=SYSTEM)
    assert verify(client, signed.text)["result"] == "valid"  # still within verify_until
    old = keys["330000"]
    old.refresh_from_db()
    later = old.verify_until + dt.timedelta(seconds=1)
    outcome = services.verification_verify(text=signed.text, client_ip="10.0.0.2", now=later)
    assert (outcome.result, outcome.reason_code) == ("not_genuine", "key.expired")


def test_superseded_and_expired(client, keys, holder):
    licence = sync_licence(holder)
    signed = services.licence_sign(licence=licence)
    sync_licence(holder, event="change", data={**licence.data, "categories": ["巡游出租汽车驾驶员"]})
    answer = verify(client, signed.text)
    assert (answer["result"], answer["licence"]["version"], answer["licence"]["current_version"]) == (
        "superseded",
        1,
        2,
    )
    fresh = services.licence_sign(licence=licence.__class__.objects.get(pk=licence.pk))
    expired_day = timezone.now() + dt.timedelta(days=400)
    assert (
        services.verification_verify(text=fresh.text, client_ip="10.0.0.3", now=expired_day).result
        == "expired"
    )


def test_rate_limit_and_log(client, settings, licence):
    settings.ELICENSE_VERIFY_RATE_LIMIT = 3
    signed = services.licence_sign(licence=licence)
    for _attempt in range(3):
        verify(client, signed.text, ip="10.9.9.9")
    response = client.post(
        URL, {"payload": signed.text}, content_type="application/json", REMOTE_ADDR="10.9.9.9"
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert response.json()["error"]["code"] == "verify.rate_limited"
    verify(client, signed.text, ip="10.9.9.10")  # another client is not affected
    attempts = VerificationAttempt.objects.order_by("at")
    assert attempts.count() == 5
    assert list(attempts.values_list("result", flat=True)) == ["valid"] * 3 + ["rate_limited", "valid"]
    assert {a.lid for a in attempts if a.result == "valid"} == {licence.lid}
    assert not any("10.9.9" in a.ip_hash for a in attempts)  # a keyed hash, never the address


def test_verify_pages(client, licence):
    signed = services.licence_sign(licence=licence)
    page = client.get("/verify/")
    assert page.status_code == 200
    assert "核验" in page.content.decode()
    posted = client.post("/verify/", {"payload": signed.text})
    assert 'data-result="valid"' in posted.content.decode()
    link = signed.qr_text("http://testserver")
    assert link.startswith("HTTP://TESTSERVER/V/YZ1:")
    by_link = client.get(link.replace("HTTP://TESTSERVER", ""))
    content = by_link.content.decode()
    assert by_link.status_code == 200
    assert 'data-result="valid"' in content
    assert "王**" in content
    assert licence.holder_name not in content
    by_long_link = client.get("/verify/" + signed.text)
    assert 'data-result="valid"' in by_long_link.content.decode()
    bad = client.get("/verify/" + signed.text[:-3] + "AAA")
    assert 'data-result="not_genuine"' in bad.content.decode()


def test_staff_licence_page_is_audited_and_changes_status(client, keys, holder):
    from yunzheng.core.models import AuditEntry

    licence = sync_licence(
        holder,
        data={
            "certificate_number": "330100202600001",
            "categories": ["网约车驾驶员"],
            "registry_version": 7,
            "credit_code": "x",
        },
    )
    signed = services.licence_sign(licence=licence)
    staff = staff_client(make_staff("330000"))
    page = staff.get(f"/elicense/staff/licences/{licence.lid}/").content.decode()
    assert holder.real_name in page
    assert "registry_version" not in page
    assert AuditEntry.objects.filter(action="elicense.licence.staff_view", target_id=licence.lid).exists()
    assert (
        staff.get(f"/elicense/staff/licences/{licence.lid}/download.pdf")["Content-Type"] == "application/pdf"
    )
    assert (
        staff.post(
            f"/elicense/staff/licences/{licence.lid}/", {"action": "suspend", "reason": "核查"}
        ).status_code
        == 302
    )
    assert verify(client, signed.text)["result"] == "suspended"
    assert (
        staff_client(make_staff("120000")).get(f"/elicense/staff/licences/{licence.lid}/").status_code == 404
    )
