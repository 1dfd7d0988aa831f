"""Run a whole self-service campaign through the real HTTP interface (tests, demos, the command
``manage.py run_conformance_campaign``).

The cycles are opened and closed through this app's services (as the company does on its pages);
the data goes through ``POST /exchange/v1/...`` with the company's sandbox credential, exactly as
the company's uploader sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from yunzheng.accounts.models import User
from yunzheng.conformance import services
from yunzheng.conformance.models import Campaign, Cycle
from yunzheng.conformance.traffic import Event, TrafficPlan, connectivity_records, consistency_events
from yunzheng.exchange.client import ExchangeClient


@dataclass
class SendSummary:
    sent: dict[str, int] = field(default_factory=dict)
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0


def send_events(client: ExchangeClient, events: list[Event], *, batch_size: int = 1000) -> SendSummary:
    """Upload events in stream order, buffered per interface (base information first)."""
    summary = SendSummary()
    buffers: dict[str, list[dict[str, Any]]] = {}

    def flush(interface: str) -> None:
        records = buffers.pop(interface, [])
        if not records:
            return
        report = client.send(interface, records)
        summary.sent[interface] = summary.sent.get(interface, 0) + len(records)
        summary.accepted += report.accepted
        summary.duplicates += report.duplicates
        summary.rejected += len(report.rejected)

    base_done = False
    for interface, record in events:
        if not base_done and not interface.startswith("baseInfo"):
            for name in list(buffers):
                flush(name)
            base_done = True
        buffers.setdefault(interface, []).append(record)
        if len(buffers[interface]) >= batch_size:
            flush(interface)
    for name in list(buffers):
        flush(name)
    return summary


@dataclass
class CampaignRun:
    campaign: Campaign
    cycles: list[Cycle] = field(default_factory=list)
    sent: list[SendSummary] = field(default_factory=list)


def run_campaign_over_http(
    *,
    user: User,
    company_id: int,
    base_url: str,
    token: str,
    traffic: TrafficPlan,
    connectivity: bool = True,
    consistency: bool = True,
    replay: bool = True,
    wire: str = "json",
    campaign: Campaign | None = None,
    on_step: Callable[[str], None] | None = None,
) -> CampaignRun:
    """Open a campaign (or continue ``campaign``), then per test: open a cycle, upload, close it.

    ``replay``: the simulated hours are uploaded in seconds, so upload lag cannot be real time and
    is reported, not graded (the campaign is marked as a replay).
    """
    say = on_step or (lambda _message: None)
    if campaign is None:
        campaign = services.campaign_start_self_service(company_id=company_id, user=user, replay=replay)
    run = CampaignRun(campaign=campaign)
    with ExchangeClient(
        base_url, token, traffic.company_id, wire=wire, batch_size=1000, compress=True
    ) as client:
        if connectivity:
            cycle = services.cycle_open(campaign=campaign, kind=Cycle.Kind.CONNECTIVITY, user=user)
            say(f"connectivity cycle {cycle.number} open")
            events = [
                (t, r) for t, records in connectivity_records(traffic.company_id).items() for r in records
            ]
            run.sent.append(send_events(client, events))
            run.cycles.append(services.cycle_close(cycle=cycle, user=user))
            say(f"connectivity cycle {cycle.number}: {run.cycles[-1].status}")
        if consistency:
            cycle = services.cycle_open(campaign=campaign, kind=Cycle.Kind.CONSISTENCY, user=user)
            say(f"consistency cycle {cycle.number} open")
            run.sent.append(send_events(client, consistency_events(traffic)))
            run.cycles.append(services.cycle_close(cycle=cycle, user=user))
            say(f"consistency cycle {cycle.number}: {run.cycles[-1].status}")
    campaign.refresh_from_db()
    return run
