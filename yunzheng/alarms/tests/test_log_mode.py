"""With the exchange in log mode, alarms are evaluated by the log consumer (the same records
listener, after the consumer's commit): an SOS upload is acknowledged after the replicated
publish, and the alarm exists as soon as the consumer has written the batch."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from yunzheng.alarms.models import Alarm
from yunzheng.alarms.tests.helpers import bj, position, rule
from yunzheng.exchange.models import PositionRecord


@pytest.mark.django_db
def test_the_log_consumer_raises_the_sos_alarm(uploader: Any, log_mode: Any) -> None:
    rule("warn_status", params={"bits": [0], "auto_close": False}, severity="critical")
    answer = uploader.post_json(
        "positionVehicle", [position(uploader.company_id, bj(10, 0, s), warn=1) for s in (0, 5)]
    )
    assert answer.status_code == 200
    assert answer.json()["accepted"] == 2
    assert not Alarm.objects.exists()  # acknowledged by the log, not yet consumed
    call_command("exchange_consume", "--until-idle")
    assert PositionRecord.objects.count() == 2
    alarm = Alarm.objects.get()
    assert alarm.is_sos
    assert len(alarm.track) == 2
