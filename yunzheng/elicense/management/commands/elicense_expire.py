"""`manage.py elicense_expire`: mark licences past their last day as expired (run daily)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from yunzheng.elicense.services import licence_expire_due


class Command(BaseCommand):
    help = "Mark electronic licences whose validity has ended as expired."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{licence_expire_due()} licence(s) expired")
