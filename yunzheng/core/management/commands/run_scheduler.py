"""`manage.py run_scheduler`: enqueue the periodic jobs (core.scheduling) when they are due.

Runs beside `manage.py db_worker`, which executes them. Safe to run on several hosts at once: a
slot is claimed in the database before it is enqueued.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from yunzheng.core.scheduling import enqueue_due, schedule


class Command(BaseCommand):
    help = "Enqueue the platform's periodic jobs on time (run db_worker beside it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="enqueue what is due now, then exit")
        parser.add_argument("--interval", type=float, default=20.0, help="seconds between checks")
        parser.add_argument("--list", action="store_true", help="print the schedule and exit")

    def handle(self, *args: Any, once: bool, interval: float, list: bool, **options: Any) -> None:
        now = timezone.now()
        if list:
            for job in schedule():
                self.stdout.write(
                    f"{job.key:32} {job.cron:14} next {job.next_slot(now):%Y-%m-%d %H:%M}  {job.summary}"
                )
            return
        # A fresh start does not replay slots missed long ago: at most the last ten minutes.
        since = now - dt.timedelta(minutes=10)
        while True:
            for item in enqueue_due(now=timezone.now(), since=since):
                self.stdout.write(
                    f"enqueued {item.key} for {item.slot:%Y-%m-%d %H:%M} ({item.task_result_id})"
                )
            if once:
                return
            time.sleep(interval)
