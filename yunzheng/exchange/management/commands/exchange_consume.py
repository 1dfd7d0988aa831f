"""`manage.py exchange_consume [--until-idle]`: write the log's batches into the database.

Run several, on any host: they share the durable ``store`` consumer. Stops on SIGTERM/SIGINT
after the message in hand is stored and acknowledged.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yunzheng.exchange import log


class Command(BaseCommand):
    help = "Consume the exchange log into the database (ack after commit)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--until-idle", action="store_true", help="exit when the consumer is drained")
        parser.add_argument("--batch", type=int, default=50, help="messages per fetch")

    def handle(self, *args: Any, until_idle: bool, batch: int, **options: Any) -> None:
        if not log.enabled():
            raise CommandError("EXCHANGE_LOG_URL is not set: the exchange runs without a log.")
        from yunzheng.exchange.log.consume import consume

        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
        report = consume(batch=batch, until_idle=until_idle, stop=stop)
        self.stdout.write(
            f"messages {report.messages}, records {report.records}, new rows {report.stored}, "
            f"already stored {report.skipped}"
        )
