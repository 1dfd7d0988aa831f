"""`manage.py forward_exchange [--once]`: send the forwarding outbox to the subscribed platforms."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from yunzheng.exchange.forwarding import forward_once


class Command(BaseCommand):
    help = "Forward queued exchange records to provincial/city platforms (retries with backoff)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="send what is due now, then exit")
        parser.add_argument("--limit", type=int, default=100, help="rows per round")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between idle rounds")

    def handle(self, *args: Any, once: bool, limit: int, interval: float, **options: Any) -> None:
        while True:
            report = forward_once(limit=limit)
            if report.sent or report.retried or report.failed:
                self.stdout.write(f"sent {report.sent}, retry later {report.retried}, failed {report.failed}")
            if once:
                return
            if not (report.sent or report.retried or report.failed):
                time.sleep(interval)
