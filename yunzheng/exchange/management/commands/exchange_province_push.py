"""`manage.py exchange_province_push [--once]`: deliver the log to provincial/city platforms (log mode)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yunzheng.exchange import log


class Command(BaseCommand):
    help = "Push each province's log consumer to its platform over HTTP (ack on 2xx, retry with backoff)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then exit")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between idle rounds")

    def handle(self, *args: Any, once: bool, interval: float, **options: Any) -> None:
        if not log.enabled():
            raise CommandError("EXCHANGE_LOG_URL is not set: use forward_exchange (the outbox).")
        from yunzheng.exchange.log.provinces import push_once

        while True:
            report = push_once()
            if report.sent or report.retried:
                self.stdout.write(f"sent {report.sent}, retry later {report.retried}")
            if once:
                return
            if not (report.sent or report.retried):
                time.sleep(interval)
