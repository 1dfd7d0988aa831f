"""`manage.py licensing_reminders`: due-date and expiry warnings of the licensing workflow.

Idempotent (each warning is keyed and sent once), so cron can run it as often as it likes, e.g.
hourly. It also fills in due dates that waited for a year's statutory calendar, and sends
applications whose test-passed document expired back to the test.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from yunzheng.licensing.services import reminders_send


class Command(BaseCommand):
    help = "Send licensing due-date and expiry reminders (safe to run repeatedly)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--within-days", type=int, default=30, help="warn this many days before an expiry"
        )

    def handle(self, *args: Any, within_days: int, **options: Any) -> None:
        counts = reminders_send(within_days=within_days)
        self.stdout.write(" ".join(f"{name}={value}" for name, value in counts.items()))
