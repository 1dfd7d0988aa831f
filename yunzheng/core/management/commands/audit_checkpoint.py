"""`manage.py audit_checkpoint [--export PATH]`: sign the audit chain head and append the
checkpoint (one JSON line) to PATH or settings.AUDIT_CHECKPOINT_EXPORT. Run it at a regular
interval (cron / systemd timer); see README "Audit checkpoints"."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from yunzheng.core.audit_anchor import audit_checkpoint_create, export_path


class Command(BaseCommand):
    help = "Sign the current head of the audit chain and export the checkpoint outside the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--export", default="", help="a JSON-lines file, or a directory for it")

    def handle(self, *args: Any, **options: Any) -> None:
        record = audit_checkpoint_create(export_to=options["export"] or None)
        if record is None:
            self.stdout.write("nothing new to checkpoint")
            return
        where = export_path(options["export"] or None)
        self.stdout.write(
            self.style.SUCCESS(
                f"checkpoint at entry {record.entry_id} ({record.entry_hash[:16]}…)"
                + (f", appended to {where}" if where else ", kept in the database only")
            )
        )
