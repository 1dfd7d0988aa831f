"""manage.py registry_import KIND FILE [--dry-run] | KIND --template OUT.csv

Prints exactly one JSON object: {"kind", "rows", "created", "updated", "unchanged", "rejected"}.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yunzheng.core.audit import Actor
from yunzheng.core.errors import DomainError
from yunzheng.registries.importing import KIND_NAMES, import_kind, registry_import, template_csv


class Command(BaseCommand):
    help = "Import a registry file (.csv UTF-8 or .xlsx) from a province's system; prints a JSON report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=KIND_NAMES)
        parser.add_argument("file", nargs="?", help="the .csv or .xlsx file to import")
        parser.add_argument("--dry-run", action="store_true", help="validate and report without writing")
        parser.add_argument("--template", metavar="OUT.csv", help="write an empty template and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        kind = import_kind(options["kind"])
        if options["template"]:
            Path(options["template"]).write_bytes(template_csv(kind))
            return
        if not options["file"]:
            raise CommandError("give FILE to import, or --template OUT.csv")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            report = registry_import(
                kind=kind.name,
                content=path.read_bytes(),
                actor=Actor.system("registry_import command"),
                dry_run=options["dry_run"],
            )
        except DomainError as error:
            detail = error.details[0] if error.details else None
            raise CommandError(
                json.dumps(
                    {
                        "error": {
                            "code": error.code,
                            "message": str(detail.message if detail else error.message),
                        }
                    },
                    ensure_ascii=False,
                )
            ) from None
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
