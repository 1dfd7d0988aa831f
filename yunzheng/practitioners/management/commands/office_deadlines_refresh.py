"""`manage.py office_deadlines_refresh`: fill in case deadlines that were unknown because their
year's statutory holidays had not been entered yet. Run it after staff enter a new calendar year."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from yunzheng.practitioners.services import case_deadlines_refresh


class Command(BaseCommand):
    help = "Compute the deadlines of One-Network Office cases whose calendar year is now known."

    def handle(self, *args: Any, **options: Any) -> None:
        updated = case_deadlines_refresh()
        self.stdout.write(f"{updated} case(s) got their due date.")
