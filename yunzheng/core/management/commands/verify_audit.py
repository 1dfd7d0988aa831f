"""`manage.py verify_audit`: recompute the audit hash chain; exit 1 if anything was tampered with."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yunzheng.core.audit import verify_chain
from yunzheng.core.models import AuditEntry


class Command(BaseCommand):
    help = "Verify the audit log's hash chain and report every altered, removed or inserted entry."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = list(verify_chain())
        total = AuditEntry.objects.count()
        if problems:
            for problem in problems:
                self.stderr.write(f"entry {problem.entry_id}: {problem.problem}")
            raise CommandError(f"audit chain broken: {len(problems)} problem(s) in {total} entries")
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {total} entries verified"))
