"""The desk, the rules (versions, validation, audit, dry run), escalation, exports, company answers."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from yunzheng.accounts.models import CompanyMembership
from yunzheng.accounts.tests.factories import staff_client
from yunzheng.alarms import services
from yunzheng.alarms.models import Alarm, AlarmEvent, AlarmNotification, AlarmRuleVersion
from yunzheng.alarms.periodic import alarms_tick
from yunzheng.alarms.tests.helpers import HZ_POINT, bj, clerk, position, rule, send
from yunzheng.core.models import AuditEntry


def _sos(uploader: Any, **kw: Any) -> Alarm:
    rule("warn_status", params={"bits": [0], "auto_close": False}, severity="critical", name="SOS", **kw)
    send(uploader, "positionVehicle", [position(uploader.company_id, bj(10, 0, s), warn=1) for s in (0, 5)])
    return Alarm.objects.get()


def test_rules_are_versioned_validated_and_audited(db: Any) -> None:
    author = clerk()
    client = staff_client(author)
    bad = client.post(
        "/api/v1/supervision/alarms/rules",
        {"name": "x", "kind": "out_of_city", "params": {"minutes": 0, "colour": "red"}},
        content_type="application/json",
    )
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert fields == {"params.minutes", "params.colour"}
    outside = client.post(
        "/api/v1/supervision/alarms/rules",
        {"name": "x", "kind": "out_of_city", "region_code": "330200"},
        content_type="application/json",
    )
    assert outside.status_code == 422
    assert outside.json()["error"]["details"][0]["field"] == "region_code"

    created = client.post(
        "/api/v1/supervision/alarms/rules",
        {"name": "异地载客", "kind": "out_of_city", "params": {"minutes": 20}},
        content_type="application/json",
    ).json()
    assert (created["region_code"], created["version"], created["enabled"]) == ("330100", 1, False)
    assert created["params"] == {"minutes": 20}
    on = client.post(
        f"/api/v1/supervision/alarms/rules/{created['id']}/enabled",
        {"enabled": True, "note": "试运行通过"},
        content_type="application/json",
    ).json()
    assert (on["enabled"], on["version"]) == (True, 2)
    changed = client.put(
        f"/api/v1/supervision/alarms/rules/{created['id']}",
        {"name": "异地载客", "kind": "out_of_city", "params": {"minutes": 45}, "severity": "high"},
        content_type="application/json",
    ).json()
    assert (changed["version"], changed["params"]["minutes"], changed["enabled"]) == (3, 45, True)
    versions = list(AlarmRuleVersion.objects.filter(rule_id=created["id"]).order_by("version"))
    assert [(v.version, v.enabled, v.params["minutes"]) for v in versions] == [
        (1, False, 20),
        (2, True, 20),
        (3, True, 45),
    ]
    actions = list(AuditEntry.objects.filter(target_type="alarms.rule").values_list("action", flat=True))
    assert actions == ["alarms.rule_create", "alarms.rule_enable", "alarms.rule_update"]
    # Police may not write rules.
    police = staff_client(clerk("hz-police-rules", department="public_security"))
    assert police.get("/api/v1/supervision/alarms/rules").status_code == 403


def test_dry_run_against_yesterdays_records(uploader: Any) -> None:
    author = clerk()
    send(
        uploader,
        "positionVehicle",
        [position(uploader.company_id, bj(10, 0, s), warn=s % 2) for s in range(0, 6)],
    )
    draft = services.rule_create(
        user=author,
        name="SOS",
        region_code="330100",
        kind="warn_status",
        severity="critical",
        params={"bits": [0]},
    )
    assert not Alarm.objects.exists()  # disabled: nothing raised live
    client = staff_client(author)
    result = client.post(
        f"/api/v1/supervision/alarms/rules/{draft.pk}/dry-run",
        {"day": "2026-12-03"},
        content_type="application/json",
    ).json()
    assert result["records"] == 6
    assert len(result["would_open"]) == 3  # pressed, released, pressed, ... opens three incidents
    assert result["would_open"][0]["vehicle_no"] == "浙A12345"
    assert not Alarm.objects.exists()  # a dry run writes nothing
    page = client.post(
        f"/supervision/alarms/rules/{draft.pk}/",
        {
            "name": "SOS",
            "region_code": "330100",
            "kind": "warn_status",
            "severity": "critical",
            "params": '{"bits": [0]}',
            "schedule": "{}",
            "dry_run": "1",
        },
    )
    assert page.status_code == 200
    assert "dry-run-result" in page.content.decode()


def _dry_run(client: Client, rule_id: int) -> dict[str, Any]:
    answer = client.post(
        f"/api/v1/supervision/alarms/rules/{rule_id}/dry-run",
        {"day": "2026-12-03"},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_dry_run_of_the_kinds_the_clock_evaluates(uploader: Any) -> None:
    author = clerk()
    cid = uploader.company_id
    silent = [position(cid, bj(9, m), plate="浙A00001", biz=1) for m in (0, 5, 30)]
    parked = [
        position(cid, bj(9, 35), plate="浙A00001", biz=4),
        position(cid, bj(9, 0), plate="浙A00002", biz=4),
    ]
    crowd = [
        position(cid, bj(11, 1), plate=f"浙A3000{i}", point=(HZ_POINT[0] + i * 50, HZ_POINT[1]))
        for i in range(6)
    ]
    spread = [
        position(cid, bj(11, 1), plate=f"浙A2000{i}", point=(HZ_POINT[0] + (i + 1) * 20_000, HZ_POINT[1]))
        for i in range(4)
    ]
    for batch in (silent, parked, crowd, spread):
        send(uploader, "positionVehicle", sorted(batch, key=lambda r: r["PositionTime"]))
    stale = services.rule_create(
        user=author,
        name="断流",
        region_code="330100",
        kind="stale_feed",
        severity="medium",
        params={"minutes": 10},
    )
    cluster = services.rule_create(
        user=author,
        name="聚集",
        region_code="330100",
        kind="clustering",
        severity="high",
        params={"cell_m": 300, "vehicles": 5, "window_minutes": 5},
    )
    client = staff_client(author)
    stale_run = _dry_run(client, stale.pk)
    assert stale_run["records"] == len(silent) + len(parked) + len(crowd) + len(spread)
    # Silent from 9:05 to 9:30 while in service: one incident; parked (停运) vehicles never count, and
    # the crowd's vehicles fall silent after 11:01, each one incident.
    assert sorted(w["vehicle_no"] for w in stale_run["would_open"]) == sorted(
        ["浙A00001"] + [r["VehicleNo"] for r in crowd + spread]
    )
    [first] = [w for w in stale_run["would_open"] if w["vehicle_no"] == "浙A00001"]
    assert first["at"].startswith("2026-12-03T09:16")
    cluster_run = _dry_run(client, cluster.pk)
    [gathering] = cluster_run["would_open"]  # once, though six vehicles stay in the cell for minutes
    assert "6 vehicles" in gathering["detail"]
    assert gathering["at"].startswith("2026-12-03T11:02")
    assert not Alarm.objects.exists()  # a dry run writes nothing


def test_desk_acknowledge_assign_close_and_export(uploader: Any) -> None:
    alarm = _sos(uploader)
    city = clerk("hz-clerk-desk")
    colleague = clerk("hz-clerk-2")
    client = staff_client(city)
    desk = client.get("/supervision/alarms/").content.decode()
    assert f'data-testid="alarm-row-{alarm.pk}"' in desk
    assert 'data-testid="count-critical"' in desk
    counts = client.get("/api/v1/supervision/alarms/counts").json()
    assert counts == {
        "total": 1,
        "unacknowledged": 1,
        "sos": 1,
        "by_severity": {"critical": 1, "high": 0, "medium": 0, "low": 0},
    }
    detail = client.get(f"/supervision/alarms/{alarm.pk}/").content.decode()
    assert "alarm-track" in detail
    assert "evidence-table" in detail
    # Coordinates read as degrees, never the interface's micro-degrees (#12 item 4).
    assert "Longitude=120.150000°" in detail
    assert "Latitude=30.270000°" in detail
    assert "120150000" not in detail

    client.post(f"/supervision/alarms/{alarm.pk}/act/", {"action": "acknowledge", "note": "已联系司机"})
    client.post(f"/supervision/alarms/{alarm.pk}/act/", {"action": "assign", "assignee": colleague.pk})
    response = client.post(f"/supervision/alarms/{alarm.pk}/act/", {"action": "close", "note": ""})
    alarm.refresh_from_db()
    assert alarm.state == "acknowledged"
    assert alarm.assigned_to_id == colleague.pk
    client.post(f"/supervision/alarms/{alarm.pk}/act/", {"action": "close", "note": "误触，乘客安全"})
    alarm.refresh_from_db()
    assert alarm.state == "closed"
    assert alarm.closed_by_id == city.pk
    assert [e.action for e in alarm.events.all()] == ["opened", "acknowledged", "assigned", "closed"]
    assert AlarmNotification.objects.filter(recipient=colleague, alarm=alarm).exists()
    # The engine forgot the incident: the next press is a new alarm.
    send(uploader, "positionVehicle", [position(uploader.company_id, bj(10, 5), warn=1)])
    assert Alarm.objects.filter(state="open").count() == 1

    # Off duty: the next alarm is notified to the colleague on duty only.
    client.post("/supervision/alarms/duty/", {"on_duty": "0"})
    assert "duty-state" in client.get("/supervision/alarms/").content.decode()
    send(uploader, "positionVehicle", [position(uploader.company_id, bj(10, 6), plate="浙A55555", warn=1)])
    newest = Alarm.objects.latest("id")
    notified = set(AlarmNotification.objects.filter(alarm=newest).values_list("recipient_id", flat=True))
    assert colleague.pk in notified
    assert city.pk not in notified

    csv = client.get("/supervision/alarms/export.csv?state=all")
    text = csv.content.decode("utf-8-sig")
    assert "浙A12345" in text
    assert "误触" in text
    xlsx = client.get("/supervision/alarms/export.xlsx?state=all")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 4
    assert AuditEntry.objects.filter(action="alarms.export").count() == 2
    assert response.status_code == 302


def test_police_sees_sos_only_and_cannot_close(uploader: Any) -> None:
    alarm = _sos(uploader)
    rule("warn_status", params={"bits": [2]}, severity="low", name="疲劳")
    send(
        uploader, "positionVehicle", [position(uploader.company_id, bj(10, 1), plate="浙A77777", warn=0b100)]
    )
    assert Alarm.objects.count() == 2
    police = staff_client(clerk("hz-police-desk", department="public_security"))
    rows = police.get("/api/v1/supervision/alarms").json()
    assert [r["id"] for r in rows] == [alarm.pk]
    ack = police.post(
        f"/api/v1/supervision/alarms/{alarm.pk}/acknowledge",
        {"note": "已出警"},
        content_type="application/json",
    )
    assert ack.status_code == 200
    close = police.post(
        f"/api/v1/supervision/alarms/{alarm.pk}/close", {"note": "x"}, content_type="application/json"
    )
    assert close.status_code == 403
    # The desk offers the police no link to the rules, which they may not write.
    rules_url = reverse("alarms:rules")
    assert f'href="{rules_url}"' not in police.get(reverse("alarms:desk")).content.decode()
    clerk_desk = staff_client(clerk()).get(reverse("alarms:desk")).content.decode()
    assert f'href="{rules_url}"' in clerk_desk


def test_escalation_of_unacknowledged_high_alarms(uploader: Any) -> None:
    alarm = _sos(uploader)
    province = clerk("zj-province", level="province", region="330000")
    assert alarms_tick(now=alarm.raised_at + timedelta(minutes=5)).escalated == 0
    assert alarms_tick(now=alarm.raised_at + timedelta(minutes=11)).escalated == 1
    assert alarms_tick(now=alarm.raised_at + timedelta(minutes=30)).escalated == 0  # once
    alarm.refresh_from_db()
    assert alarm.escalated_at is not None
    assert AlarmEvent.objects.filter(alarm=alarm, action="escalated").count() == 1
    assert AlarmNotification.objects.filter(recipient=province, alarm=alarm).exists()


def test_company_sees_its_own_alarms_and_answers(uploader: Any) -> None:
    from yunzheng.exchange.tests.conftest import make_uploader

    alarm = _sos(uploader)
    other = make_uploader(phone="13900000002", company_id="OTHERCO", body="91330106MA2H4K8Q1")
    member = CompanyMembership.objects.get(company=uploader.company).user
    outsider = CompanyMembership.objects.get(company=other.company).user
    client = Client()
    client.force_login(member)
    assert f"company-alarm-link-{alarm.pk}" in client.get("/supervision/alarms/company/").content.decode()
    response = client.post(
        f"/supervision/alarms/company/{alarm.pk}/", {"kind": "explanation", "text": "乘客误触，已回访"}
    )
    assert response.status_code == 302
    assert AlarmEvent.objects.get(alarm=alarm, action="explanation").note == "乘客误触，已回访"
    api = client.get("/api/v1/supervision/alarms").json()
    assert api[0]["evidence_url"] == f"/supervision/alarms/company/{alarm.pk}/"
    stranger = Client()
    stranger.force_login(outsider)
    assert stranger.get(f"/supervision/alarms/company/{alarm.pk}/").status_code == 404
    assert stranger.get("/api/v1/supervision/alarms").json() == []
    denied = stranger.post(
        f"/api/v1/supervision/alarms/{alarm.pk}/answer",
        {"kind": "explanation", "text": "x"},
        content_type="application/json",
    )
    assert denied.status_code == 403


def test_rule_page_offers_named_regions_of_the_author_and_refuses_a_code_not_listed(db: Any) -> None:
    """#12: a rule's region is chosen from the GB/T 2260 list, never typed."""
    client = staff_client(clerk())
    page = client.get("/supervision/alarms/rules/new/").content.decode()
    assert '<option value="330100" selected>杭州市</option>' in page
    assert "温州市" not in page
    refused = client.post(
        "/supervision/alarms/rules/new/",
        {"name": "越界", "region_code": "339999", "kind": "warn_status", "severity": "medium",
         "params": '{"bits": [0]}', "schedule": "{}"},
    )  # fmt: skip
    assert refused.status_code == 200
    assert refused.context["form"].errors["region_code"] == ["请从列表中选择地区。"]
    assert not AlarmRuleVersion.objects.exists()
