"""The sandbox behind the real exchange endpoint: same decoding, validation and answer as
production, separate storage, never in the supervision tables, statistics or forwarding."""

from __future__ import annotations

import pytest

from yunzheng.conformance import services
from yunzheng.conformance.models import Cycle, SandboxBatch, SandboxRecord
from yunzheng.exchange.models import (
    BaseInfoCurrent,
    EventRecord,
    ForwardingOutbox,
    IngestBatch,
    PositionRecord,
    RejectStat,
    UploadStat,
)
from yunzheng.exchange.spec.samples import valid_record

from .conftest import Tenant

pytestmark = pytest.mark.django_db


def _production_rows() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            IngestBatch,
            EventRecord,
            PositionRecord,
            BaseInfoCurrent,
            UploadStat,
            RejectStat,
            ForwardingOutbox,
        )
    }


def test_sandbox_uploads_never_reach_production_tables_or_statistics(tenant: Tenant) -> None:
    campaign = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    cycle = services.cycle_open(campaign=campaign, kind=Cycle.Kind.CONNECTIVITY, user=tenant.user)
    good = valid_record("positionVehicle", seed=1, CompanyId=tenant.company_id)
    swapped = {**valid_record("positionVehicle", seed=2, CompanyId=tenant.company_id)}
    swapped["Longitude"], swapped["Latitude"] = swapped["Latitude"], swapped["Longitude"]
    sandbox = tenant.post("positionVehicle", [good, swapped])
    vehicle = tenant.post(
        "baseInfoVehicle", [valid_record("baseInfoVehicle", seed=1, CompanyId=tenant.company_id)]
    )
    assert _production_rows() == dict.fromkeys(_production_rows(), 0)
    body = sandbox.json()
    assert sandbox.status_code == 200
    assert vehicle.status_code == 200
    assert (body["result"], body["accepted"], body["duplicates"]) == ("partial", 1, 0)
    assert [(r["index"], [(e["field"], e["code"]) for e in r["errors"]]) for r in body["rejected"]] == [
        (1, [("Longitude", "coordinate_range"), ("Latitude", "coordinate_range")])
    ]
    assert body["batch_id"] == SandboxBatch.objects.filter(interface=0x4002).get().pk
    stored = SandboxRecord.objects.filter(cycle=cycle).order_by("position")
    assert [(r.accepted, r.position) for r in stored.filter(interface=0x4002)] == [(True, 0), (False, 1)]
    rejected = stored.get(accepted=False)
    assert rejected.record["Longitude"] == swapped["Longitude"]
    assert {e["code"] for e in rejected.errors or []} == {"coordinate_range"}

    # the same records from the production credential are supervision data, counted as such
    live = tenant.post("positionVehicle", [good, swapped], sandbox=False)
    assert live.json()["accepted"] == 1
    assert (PositionRecord.objects.count(), UploadStat.objects.count()) == (1, 1)
    assert UploadStat.objects.get().environment == "production"
    assert SandboxRecord.objects.filter(interface=0x4002).count() == 2


def test_a_wholly_rejected_batch_is_answered_as_in_production(tenant: Tenant) -> None:
    wrong = tenant.post("orderCreate", [valid_record("orderCreate", seed=1, CompanyId="3301OTHER001")])
    assert wrong.status_code == 422
    assert wrong.json()["rejected"][0]["errors"][-1]["code"] == "company_mismatch"
    assert SandboxRecord.objects.filter(accepted=False).count() == 1
    assert not EventRecord.objects.exists()


def test_personal_data_is_stored_as_the_exchange_stores_it(tenant: Tenant) -> None:
    from yunzheng.core.crypto import is_field_token, lookup_hash

    driver = valid_record("baseInfoDriver", seed=3, CompanyId=tenant.company_id)
    bad = {
        **valid_record("baseInfoDriver", seed=4, CompanyId=tenant.company_id),
        "DriverPhone": "1３900000000",
    }
    assert tenant.post("baseInfoDriver", [driver, bad]).status_code == 200
    stored = SandboxRecord.objects.get(accepted=True)
    assert stored.license_id == lookup_hash(driver["LicenseId"]) == stored.record["LicenseId"]
    assert is_field_token(stored.record["DriverPhone"])
    assert is_field_token(stored.record["DriverName"])
    rejected = SandboxRecord.objects.get(accepted=False)
    text = str(rejected.record) + str(rejected.errors)
    for plain in (driver["DriverPhone"], bad["DriverPhone"], bad["LicenseId"], driver["LicenseId"]):
        assert plain not in text
        assert plain not in str(stored.record)
    assert rejected.errors is not None
    assert rejected.errors[0]["hint"]["code"] == "halfwidth"
