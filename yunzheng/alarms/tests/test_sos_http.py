"""Bit 0 of WarnStatus through the real exchange HTTP endpoint: the SOS alarm exists as soon as
the upload is acknowledged, for the city's transport staff and its police - and only theirs."""

from __future__ import annotations

from typing import Any

from yunzheng.accounts.tests.factories import staff_client
from yunzheng.alarms.models import Alarm, AlarmNotification
from yunzheng.alarms.tests.helpers import bj, clerk, position, rule, send


def test_sos_bit_opens_an_alarm_before_the_upload_is_answered(uploader: Any) -> None:
    sos = rule("warn_status", params={"bits": [0], "auto_close": False}, severity="critical", name="SOS")
    city = clerk("hz-transport-duty")
    police = clerk("hz-police", department="public_security")
    nb_police = clerk("nb-police", department="public_security", region="330200")

    send(uploader, "positionVehicle", [position(uploader.company_id, bj(10, 0, 0), warn=0)])
    assert not Alarm.objects.exists()

    # The company acknowledges nothing else: the response itself is the acknowledgement.
    send(uploader, "positionVehicle", [position(uploader.company_id, bj(10, 0, 5), warn=0b1)])
    alarm = Alarm.objects.get()
    assert (alarm.rule_id, alarm.is_sos, alarm.severity, alarm.state) == (sos.pk, True, "critical", "open")
    assert alarm.vehicle_no == "浙A12345"
    assert alarm.region_code == "330100"
    assert alarm.evidence[0]["WarnStatus"] == 1
    notified = set(AlarmNotification.objects.filter(alarm=alarm).values_list("recipient_id", flat=True))
    assert {city.pk, police.pk} <= notified
    assert nb_police.pk not in notified

    # Still pressed: no second alarm, the track grows.
    send(uploader, "positionVehicle", [position(uploader.company_id, bj(10, 0, 10), warn=0b1)])
    assert Alarm.objects.count() == 1
    assert len(Alarm.objects.get().track) == 2

    # Released: the condition ends, but an SOS waits for a person to close it.
    send(uploader, "positionVehicle", [position(uploader.company_id, bj(10, 0, 15), warn=0)])
    alarm.refresh_from_db()
    assert alarm.state == "open"
    assert alarm.condition_ended_at is not None

    # The API: transport staff and police of 杭州 see it; 宁波's police does not.
    clients = {user.pk: staff_client(user) for user in (city, police, nb_police)}
    for user, expected in ((city, [alarm.pk]), (police, [alarm.pk]), (nb_police, [])):
        body = clients[user.pk].get("/api/v1/supervision/alarms?state=open").json()
        assert [a["id"] for a in body] == expected, user.username
    row = clients[city.pk].get("/api/v1/supervision/alarms?state=open").json()[0]
    assert row["kind"] == "warn_status"
    assert row["severity"] == "critical"
    assert row["vehicle_no"] == "浙A12345"
    assert row["company_id"] == uploader.company_id
    assert row["evidence_url"] == f"/supervision/alarms/{alarm.pk}/"


def test_bad_state_filter_is_a_clear_error(uploader: Any) -> None:
    response = staff_client(clerk()).get("/api/v1/supervision/alarms?state=whatever")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "state"
