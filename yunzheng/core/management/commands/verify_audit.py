"""`manage.py verify_audit [--checkpoints PATH]`: recompute the audit hash chain and check it
against the signed checkpoints (the exported file when given, else the database's copies); exit 1
if anything was tampered with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yunzheng.core.audit import verify_chain
from yunzheng.core.audit_anchor import export_path, load_export, verify_checkpoints
from yunzheng.core.models import AuditEntry


class Command(BaseCommand):
    help = "Verify the audit log's hash chain and report every altered, removed or inserted entry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoints",
            default="",
            help="the exported checkpoint file (default: settings.AUDIT_CHECKPOINT_EXPORT, if set)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = [f"entry {p.entry_id}: {p.problem}" for p in verify_chain()]
        path = export_path(options["checkpoints"] or None)
        if path is not None and Path(path).exists():
            records = load_export(Path(path))
            problems += verify_checkpoints(records)
            checked = f", {len(records)} signed checkpoint(s) from {path}"
        else:
            problems += verify_checkpoints()
            checked = ", checkpoints in the database (no export file given)"
        total = AuditEntry.objects.count()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"audit chain broken: {len(problems)} problem(s) in {total} entries")
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {total} entries verified{checked}"))
