"""`manage.py load_demo`: load (idempotently) every app's demo data and print the demo logins."""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from yunzheng.core.demodata import DemoLogin


class Command(BaseCommand):
    help = "Load demo data for every app (safe to run repeatedly) and print the demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, base_url: str, **options: Any) -> None:
        logins: list[DemoLogin] = []
        for app_config in apps.get_app_configs():
            if not app_config.name.startswith("yunzheng."):
                continue
            try:
                module = importlib.import_module(f"{app_config.name}.demo")
            except ModuleNotFoundError as missing:
                if missing.name != f"{app_config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                logins.extend(module.load_demo())
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"yunzheng is ready at {base_url}/  — demo logins:"))
        for login in logins:
            self.stdout.write(f"  • {login.role}: {login.how}  ({base_url}{login.where})")
        self.stdout.write("")
