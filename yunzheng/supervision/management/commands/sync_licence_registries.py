"""`manage.py sync_licence_registries`: refresh the licence history from the registries.

Reads the practitioners' qualification certificates (ride-hailing category) and the vehicle
transport certificates (ride-hailing scope) if those apps are installed, optionally the
companies' declared base data (`--baseinfo`), and the licensing app's operating licences (cities
where a company may operate). Each source is replaced as a whole (idempotent).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from yunzheng.supervision.models import LicenceKind, LicenceSource
from yunzheng.supervision.registries import adapter_for
from yunzheng.supervision.services import company_city_licences_sync, licence_registry_sync


class Command(BaseCommand):
    help = "Refresh the licence history from the registry apps (and optionally company base data)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--baseinfo", action="store_true", help="also import companies' declared certificates"
        )

    def handle(self, *args: Any, baseinfo: bool, **options: Any) -> None:
        pairs = [
            (LicenceKind.DRIVER, LicenceSource.PRACTITIONERS),
            (LicenceKind.VEHICLE, LicenceSource.ELICENSE),
        ]
        if baseinfo:
            pairs += [
                (LicenceKind.DRIVER, LicenceSource.BASEINFO),
                (LicenceKind.VEHICLE, LicenceSource.BASEINFO),
            ]
        for kind, source in pairs:
            adapter = adapter_for(kind=kind, source=source)
            if adapter is None or not adapter.available():
                self.stdout.write(f"{source}/{kind}: registry not installed, skipped")
                continue
            report = licence_registry_sync(kind=kind, source=source)
            self.stdout.write(
                f"{source}/{kind}: {report.rows} periods ({report.created} new, {report.updated} changed, "
                f"{report.removed} removed), {report.facts_reclassified} orders reclassified"
            )
        self.stdout.write(f"operating licences: {company_city_licences_sync()} cities recorded")
