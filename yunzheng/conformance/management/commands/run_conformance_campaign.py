"""`manage.py run_conformance_campaign`: a self-service test campaign through the real HTTP interface.

Opens a campaign for the company (as its designated contact person), then a connectivity cycle
(one record of each of the 32 interfaces) and a consistency cycle (the traffic simulator's city,
by default >= 750 completed and >= 200 cancelled orders), uploading with the given sandbox
credential to ``--base-url``, and prints both reports. ``--fault`` injects a certification fault.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yunzheng.accounts.models import Company
from yunzheng.conformance.runner import run_campaign_over_http
from yunzheng.conformance.texts import check_title, status_label
from yunzheng.conformance.traffic import FAULTS, FULL_VOLUME, SIMULATOR_FAULTS, TrafficPlan
from yunzheng.core.errors import DomainError
from yunzheng.exchange.client import ExchangeError


class Command(BaseCommand):
    help = "Run a self-service connectivity and consistency test campaign through the HTTP interface."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--company-id", required=True, help="the company's CompanyId (supervision id)")
        parser.add_argument("--token", required=True, help="a SANDBOX credential of that company (yz_…)")
        parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000")
        parser.add_argument("--only", choices=("connectivity", "consistency"))
        parser.add_argument("--drivers", type=int, default=FULL_VOLUME["drivers"])
        parser.add_argument("--orders", type=int, default=FULL_VOLUME["orders"])
        parser.add_argument("--cancel-share", type=float, default=FULL_VOLUME["cancel_share"])
        parser.add_argument("--position-interval", type=int, default=FULL_VOLUME["position_interval"])
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--fault", action="append", default=[], choices=sorted(FAULTS))
        parser.add_argument(
            "--simulator-fault", action="append", default=[], choices=sorted(SIMULATOR_FAULTS)
        )
        parser.add_argument("--wire", choices=("json", "protobuf"), default="json")

    def handle(self, *args: Any, **o: Any) -> None:
        company = Company.objects.filter(supervision_company_id=o["company_id"]).first()
        if company is None:
            raise CommandError(f"no company with CompanyId {o['company_id']!r}")
        user = company.contact_user
        if user is None:
            raise CommandError("the company has no designated contact person to act for it")
        traffic = TrafficPlan(
            company_id=company.supervision_company_id,
            drivers=o["drivers"],
            orders=o["orders"],
            cancel_share=o["cancel_share"],
            position_interval=o["position_interval"],
            seed=o["seed"],
            faults=frozenset(o["fault"]),
            simulator_faults=frozenset(o["simulator_fault"]),
        )
        try:
            run = run_campaign_over_http(
                user=user,
                company_id=company.pk,
                base_url=o["base_url"],
                token=o["token"],
                traffic=traffic,
                connectivity=o["only"] in (None, "connectivity"),
                consistency=o["only"] in (None, "consistency"),
                wire=o["wire"],
                on_step=lambda message: self.stdout.write(message),
            )
        except (ExchangeError, DomainError) as exc:
            raise CommandError(str(exc)) from exc
        for cycle in run.cycles:
            report = cycle.report or {}
            self.stdout.write(f"cycle {cycle.number} ({cycle.kind}): {status_label(cycle.status)}")
            if cycle.kind == "connectivity":
                summary = report.get("summary", {})
                self.stdout.write(
                    f"  interfaces passed {summary.get('pass')}/{summary.get('interfaces')}, "
                    f"failed {summary.get('fail')}, not received {summary.get('not_received')}"
                )
            else:
                self.stdout.write(f"  {report.get('info')}")
                for check in report.get("checks", []):
                    self.stdout.write(
                        f"  {check['code']:<20} {check['status']:<10} {check['failed']}/{check['checked']}"
                        f"  {check_title(check['code'])}"
                    )
        self.stdout.write(f"campaign #{run.campaign.pk}: {run.campaign.status}")
