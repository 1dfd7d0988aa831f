"""`manage.py exchange_log_setup [--replicas N]`: create or update the log's stream and consumers."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yunzheng.exchange import log


class Command(BaseCommand):
    help = "Create or update the exchange's JetStream stream and durable consumers (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--replicas", type=int, default=None, help="default: cluster size, max 3")

    def handle(self, *args: Any, replicas: int | None, **options: Any) -> None:
        if not log.enabled():
            raise CommandError("EXCHANGE_LOG_URL is not set: the exchange runs without a log.")
        from yunzheng.exchange.log.setup import log_setup

        report = log_setup(replicas=replicas)
        verb = "created" if report.created else "updated"
        self.stdout.write(
            f"stream {report.stream} {verb} (replicas {report.replicas}); "
            f"consumers: {', '.join(report.consumers)}"
        )
