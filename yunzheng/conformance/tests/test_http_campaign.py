"""A full passing campaign through the real HTTP interface: a live server, the exchange client and
the company's sandbox credential; >= 750 completed and >= 200 cancelled orders."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from yunzheng.conformance.models import Campaign, Cycle, SandboxRecord
from yunzheng.conformance.runner import run_campaign_over_http
from yunzheng.conformance.traffic import TrafficPlan
from yunzheng.exchange.models import EventRecord, IngestBatch, PositionRecord, UploadStat

from .conftest import make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_full_campaign_passes_through_the_http_interface(live_server: Any) -> None:
    tenant = make_tenant()
    run = run_campaign_over_http(
        user=tenant.user,
        company_id=tenant.company.pk,
        base_url=live_server.url,
        token=tenant.sandbox_token,
        traffic=TrafficPlan(company_id=tenant.company_id),
    )
    connectivity, consistency = run.cycles
    assert connectivity.report is not None
    assert consistency.report is not None
    assert connectivity.report["summary"]["pass"] == 32, connectivity.report["summary"]
    statuses = {c["code"]: c["status"] for c in consistency.report["checks"]}
    assert [code for code, status in statuses.items() if status == "fail"] == []
    assert statuses["upload_lag"] == "not_graded"  # hours of traffic replayed in seconds
    info = consistency.report["info"]
    assert info["completed"] >= 750, info
    assert info["cancelled"] >= 200, info
    assert min(info["cancelled_by"].values()) > 0
    assert (connectivity.status, consistency.status) == (Cycle.Status.PASSED, Cycle.Status.PASSED)
    assert run.campaign.status == Campaign.Status.PASSED
    sent = sum(run.sent[1].sent.values())
    assert SandboxRecord.objects.filter(cycle=consistency).count() == sent == run.sent[1].accepted
    # graded, never counted as supervision data
    assert not (IngestBatch.objects.exists())
    assert not (EventRecord.objects.exists())
    assert not (PositionRecord.objects.exists())
    assert not UploadStat.objects.exists()


def test_the_command_runs_a_campaign_against_a_server(live_server: Any) -> None:
    tenant = make_tenant()
    out = StringIO()
    call_command(
        "run_conformance_campaign",
        "--company-id",
        tenant.company_id,
        "--token",
        tenant.sandbox_token,
        "--base-url",
        live_server.url,
        "--only",
        "connectivity",
        "--wire",
        "protobuf",
        stdout=out,
    )
    assert "interfaces passed 32/32" in out.getvalue()
    assert Cycle.objects.get().status == Cycle.Status.PASSED


def test_the_bundled_simulator_passes_the_connectivity_test(live_server: Any) -> None:
    """A company that points the bundled traffic simulator (`manage.py simulate_platform`) at its
    sandbox credential feeds all 32 interfaces with valid records: the connectivity test passes."""
    from yunzheng.conformance import services
    from yunzheng.exchange.client import ExchangeClient
    from yunzheng.exchange.simulator import SimulationPlan, run

    tenant = make_tenant()
    campaign = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    cycle = services.cycle_open(campaign=campaign, kind=Cycle.Kind.CONNECTIVITY, user=tenant.user)
    plan = SimulationPlan(company_id=tenant.company_id, drivers=3, orders=6, position_interval=60, seed=4)
    with ExchangeClient(live_server.url, tenant.sandbox_token, tenant.company_id, batch_size=500) as client:
        report = run(plan, client)
    assert report.rejected == []
    assert len(report.sent) == 32
    closed = services.cycle_close(cycle=cycle, user=tenant.user)
    assert closed.report is not None
    assert closed.report["summary"] == {"interfaces": 32, "pass": 32, "fail": 0, "not_received": 0}
    assert closed.status == Cycle.Status.PASSED
    assert SandboxRecord.objects.filter(cycle=cycle).count() == sum(report.sent.values())
