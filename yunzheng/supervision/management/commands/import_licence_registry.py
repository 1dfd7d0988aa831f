"""`manage.py import_licence_registry --kind driver|vehicle file.csv`: load a registry export.

Valid rows are stored (idempotently: importing the same file again changes nothing), every
invalid row is printed with its line, column and rule, and the command exits with status 1 when
any row was refused. Columns: see yunzheng/supervision/imports.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yunzheng.core.audit import Actor
from yunzheng.core.errors import DomainError
from yunzheng.supervision.imports import FileError, parse_csv
from yunzheng.supervision.services import licence_registry_import


class Command(BaseCommand):
    help = "Import drivers' or vehicles' ride-hailing certificates (validity periods) from a CSV file."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--kind", required=True, choices=["driver", "vehicle"])
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="validate only, store nothing")

    def handle(self, *args: Any, kind: str, file: Path, dry_run: bool, **options: Any) -> None:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        if dry_run:
            try:
                parsed = parse_csv(kind, data)
            except FileError as exc:
                raise CommandError(f"{exc.code}: {exc.message}") from exc
            errors = parsed.errors
            self.stdout.write(
                f"{len(parsed.periods)} valid rows, {len(errors)} errors (dry run, nothing stored)"
            )
        else:
            try:
                report = licence_registry_import(
                    kind=kind, data=data, actor=Actor.system(f"import {file.name}")
                )
            except DomainError as exc:
                raise CommandError(f"{exc.code}: {exc.message}") from exc
            errors = report.errors
            self.stdout.write(
                f"{report.rows} valid rows: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged; {report.intervals} intervals rebuilt, "
                f"{report.facts_reclassified} orders reclassified; {len(errors)} rows refused"
            )
        for error in errors:
            self.stderr.write(f"line {error.line}: {error.field}: {error.code}: {error.message}")
        if errors:
            raise SystemExit(1)
