"""`manage.py check_elicense_sync`: compare every registry with the electronic licences, keep the
report (shown on the staff page and API) and print it. Exit status 1 when mismatches are found,
so a scheduler can alert on it."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yunzheng.core.audit import Actor
from yunzheng.elicense.consistency import KINDS, sync_check_run


class Command(BaseCommand):
    help = "Compare registries and electronic licences; report mismatches and per-province rates."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--fail-on-mismatch", action="store_true", help="exit 1 if anything mismatches")

    def handle(self, *args: Any, **options: Any) -> None:
        run = sync_check_run(actor=Actor.system("check_elicense_sync"))
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {"counts": run.counts, "provinces": run.provinces, "mismatches": run.mismatches},
                    ensure_ascii=False,
                    indent=2,
                )
            )
        else:
            self.stdout.write(
                "Mismatches: " + ", ".join(f"{kind} {run.counts.get(kind, 0)}" for kind in KINDS)
            )
            for province in run.provinces:
                self.stdout.write(
                    f"  {province['province']}: records {province['records']}, "
                    f"issuance {province['issuance_rate']}, activation {province['activation_rate']}, "
                    f"data compliance {province['compliance_rate']}"
                )
            for mismatch in run.mismatches[:50]:
                self.stdout.write(
                    f"  [{mismatch['kind']}] {mismatch['lid'] or '-'} "
                    f"{mismatch['source_type']}:{mismatch['source_id']} {mismatch['detail']}"
                )
        if options["fail_on_mismatch"] and any(run.counts.values()):
            raise CommandError("registry and licences disagree", returncode=1)
