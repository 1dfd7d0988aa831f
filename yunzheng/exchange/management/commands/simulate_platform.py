"""`manage.py simulate_platform`: drive realistic ride-hailing traffic through the HTTP interface."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yunzheng.exchange.client import ExchangeClient, ExchangeError
from yunzheng.exchange.simulator import CITIES, FAULTS, INCIDENTS, SimulationPlan, run


class Command(BaseCommand):
    help = (
        "Simulate a ride-hailing platform in one city (base info, log-ins, orders, cancellations, trips "
        "with positions, payments, ratings) and upload it through the real HTTP interface."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000")
        parser.add_argument("--token", required=True, help="the company's credential (yz_…)")
        parser.add_argument("--company-id", required=True, help="the CompanyId of that company")
        parser.add_argument("--city", type=int, default=330100, choices=sorted(CITIES))
        parser.add_argument("--drivers", type=int, default=20)
        parser.add_argument("--orders", type=int, default=100)
        parser.add_argument("--cancel-share", type=float, default=0.25)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--wire", choices=("json", "protobuf"), default="json")
        parser.add_argument("--position-interval", type=int, default=5)
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--fault", action="append", default=[], choices=sorted(FAULTS))
        parser.add_argument(
            "--incident",
            action="append",
            default=[],
            choices=sorted(INCIDENTS | {"all"}),
            help="one occurrence of a situation the real-time alarms watch for (repeat, or 'all')",
        )

    def handle(self, *args: Any, **o: Any) -> None:
        plan = SimulationPlan(
            company_id=o["company_id"],
            city=o["city"],
            drivers=o["drivers"],
            orders=o["orders"],
            cancel_share=o["cancel_share"],
            seed=o["seed"],
            position_interval=o["position_interval"],
            faults=frozenset(o["fault"]),
            incidents=INCIDENTS if "all" in o["incident"] else frozenset(o["incident"]),
        )
        started = time.monotonic()
        with ExchangeClient(o["base_url"], o["token"], o["company_id"], wire=o["wire"]) as client:
            try:
                report = run(plan, client, batch_size=o["batch_size"])
            except ExchangeError as exc:
                raise CommandError(f"upload refused: {exc}") from exc
        elapsed = time.monotonic() - started
        total = sum(report.sent.values())
        for interface, count in sorted(report.sent.items()):
            self.stdout.write(f"  {interface:<28} {count:>8}")
        self.stdout.write(
            f"{total} records in {elapsed:.1f} s: {report.accepted} accepted, "
            f"{report.duplicates} duplicates, "
            f"{len(report.rejected)} rejected; orders completed {report.summary.orders_completed}, "
            f"cancelled {report.summary.orders_cancelled}"
        )
        for interface, index, errors in report.rejected[:10]:
            self.stdout.write(f"  rejected {interface}[{index}]: {errors}")
