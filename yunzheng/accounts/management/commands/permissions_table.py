"""`manage.py permissions_table [--write]`: print the staff permission table (Markdown), or write
it to docs/permissions.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from yunzheng.accounts.permissions import markdown_table

DOC = "docs/permissions.md"


class Command(BaseCommand):
    help = "Print the staff permission table, or write it to docs/permissions.md (--write)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", action="store_true", help=f"write {DOC}")

    def handle(self, *args: Any, **options: Any) -> None:
        text = markdown_table()
        if options["write"]:
            path = Path(settings.BASE_DIR) / DOC
            path.write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {path}")
        else:
            self.stdout.write(text, ending="")
