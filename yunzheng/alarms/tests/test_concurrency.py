"""Two workers evaluating batches of the same vehicle at the same moment (as two gunicorn workers
would): the state rows are locked per batch, so the incident opens exactly once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from yunzheng.alarms.live import on_stored_batch
from yunzheng.alarms.models import Alarm, EngineState
from yunzheng.alarms.tests.helpers import bj, position, rule
from yunzheng.exchange.hooks import StoredBatch


@pytest.mark.django_db(transaction=True)
def test_parallel_batches_of_one_vehicle_open_one_incident(uploader: Any) -> None:
    rule("warn_status", params={"bits": [0]}, severity="critical")
    company = uploader.company
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(second: int) -> None:
        try:
            records = [
                position(company.supervision_company_id, bj(10, second, s), warn=1) for s in range(0, 50, 5)
            ]
            batch = StoredBatch(
                company_pk=company.pk,
                supervision_company_id=company.supervision_company_id,
                company_region="330100",
                interface="positionVehicle",
                records=records,
                batch_id=None,
                received_at=timezone.now(),
            )
            barrier.wait(timeout=30)
            on_stored_batch(batch)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(minute,)) for minute in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    alarm = Alarm.objects.get()  # one incident, not four
    # Whichever batch came second, no state moved backwards: a batch older than the vehicle's
    # latest position adds nothing, so the track is in time order.
    times = [point[2] for point in alarm.track]
    assert 10 <= len(times) <= 40
    assert times == sorted(times)
    assert EngineState.objects.filter(key__startswith="v:").count() == 1
