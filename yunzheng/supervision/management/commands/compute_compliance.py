"""`manage.py compute_compliance`: the nightly extraction and the monthly computation.

manage.py compute_compliance --yesterday            # nightly: yesterday's orders -> facts
manage.py compute_compliance --day 2026-10-05
manage.py compute_compliance --month 2026-10 [--region 33] [--no-refresh]
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from yunzheng.core.audit import Actor
from yunzheng.core.clock import today_in_china
from yunzheng.core.errors import DomainError
from yunzheng.supervision.models import OrderFact
from yunzheng.supervision.services import compliance_compute, order_facts_refresh


class Command(BaseCommand):
    help = "Extract completed orders from the exchange and compute the compliance rates."

    def add_arguments(self, parser: Any) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--month", help="YYYY-MM: recompute the whole month")
        group.add_argument("--day", type=date.fromisoformat, help="YYYY-MM-DD: extract one day")
        group.add_argument("--yesterday", action="store_true", help="extract yesterday (Beijing time)")
        parser.add_argument("--region", default="", help="region prefix: 33 a province, 3301 a city")
        parser.add_argument(
            "--no-refresh", action="store_true", help="month: re-aggregate the stored facts only"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["month"]:
                result = compliance_compute(
                    month=options["month"],
                    region_prefix=options["region"],
                    refresh_facts=not options["no_refresh"],
                    actor=Actor.system("compute_compliance"),
                )
                self.stdout.write(
                    f"{result.month:%Y-%m} {result.region_prefix or 'all'}: {result.orders} orders "
                    f"(facts {result.facts_ms} ms, aggregates {result.compute_ms} ms)"
                )
                return
            day = options["day"] or today_in_china() - timedelta(days=1)
            orders = order_facts_refresh(day=day, region_prefix=options["region"])
            self.stdout.write(f"{day}: {orders} completed orders extracted and classified")
            if connection.vendor == "postgresql" and not connection.in_atomic_block:
                # New fact pages become all-visible, so the monthly roll-up stays an index-only
                # scan (autovacuum would get there too, later). Outside any transaction.
                with connection.cursor() as cursor:
                    cursor.execute(f"VACUUM (ANALYZE) {OrderFact._meta.db_table}")
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
