from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from yunzheng.alarms.periodic import alarms_tick


class Command(BaseCommand):
    help = "Evaluate the periodic alarm rules (stale feed, clustering) and escalate unacknowledged alarms."

    def handle(self, *args: Any, **options: Any) -> None:
        report = alarms_tick()
        self.stdout.write(f"opened {report.opened}, closed {report.closed}, escalated {report.escalated}")
