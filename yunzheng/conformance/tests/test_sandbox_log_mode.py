"""In log mode the sandbox is a consumer of the log too: the upload is answered once the log has
the batch, ``exchange_consume`` hands it to the sandbox (once, even when redelivered)."""

from __future__ import annotations

from typing import Any

import pytest

from yunzheng.conformance import services
from yunzheng.conformance.models import Cycle, SandboxBatch, SandboxRecord
from yunzheng.exchange.log import runtime
from yunzheng.exchange.log.consume import consume, route_message
from yunzheng.exchange.log.settings import log_settings
from yunzheng.exchange.models import IngestBatch, PositionRecord
from yunzheng.exchange.spec.samples import valid_record

from .conftest import Tenant

pytestmark = pytest.mark.django_db


def test_a_sandbox_batch_goes_through_the_log_to_the_sandbox(tenant: Tenant, log_mode: Any) -> None:
    campaign = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    cycle = services.cycle_open(campaign=campaign, kind=Cycle.Kind.CONNECTIVITY, user=tenant.user)
    good = valid_record("positionVehicle", seed=1, CompanyId=tenant.company_id)
    swapped = {**valid_record("positionVehicle", seed=2, CompanyId=tenant.company_id)}
    swapped["Longitude"], swapped["Latitude"] = swapped["Latitude"], swapped["Longitude"]

    answer = tenant.post("positionVehicle", [good, swapped])
    body = answer.json()
    assert answer.status_code == 200
    assert (body["result"], body["accepted"], body["duplicates"]) == ("partial", 1, 0)
    assert [(r["index"], {e["code"] for e in r["errors"]}) for r in body["rejected"]] == [
        (1, {"coordinate_range"})
    ]
    assert not SandboxBatch.objects.exists()  # acknowledged by the log, not stored yet
    again = tenant.post("positionVehicle", [good, swapped]).json()
    assert (again["accepted"], again["duplicates"]) == (0, 1)  # the re-send is de-duplicated

    report = consume(until_idle=True)
    assert report.messages == 1
    batch = SandboxBatch.objects.get()
    assert (batch.received, batch.accepted, batch.rejected, batch.cycle_id) == (2, 1, 1, cycle.pk)
    stored = SandboxRecord.objects.filter(cycle=cycle).order_by("position")
    assert [(r.accepted, r.position) for r in stored] == [(True, 0), (False, 1)]
    assert not IngestBatch.objects.exists()
    assert not PositionRecord.objects.exists()

    async def message() -> Any:
        js = await runtime.jetstream(log_settings().servers, 3)
        return await js.get_msg(log_settings().stream, body["batch_id"])

    raw = runtime.run(message(), timeout=5)
    assert route_message(raw.data, raw.headers["Nats-Msg-Id"], "route-sandbox") == (2, False)
    assert SandboxBatch.objects.count() == 1
