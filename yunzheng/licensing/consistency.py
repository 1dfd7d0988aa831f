"""Operating licences in the registry/licence consistency check (elicense.consistency)."""

from __future__ import annotations

from collections.abc import Iterator

from yunzheng.elicense.consistency import RegistryRecord
from yunzheng.elicense.models import LicenceStatus, LicenceType
from yunzheng.licensing.models import OperatingLicence


class OperatingLicenceAdapter:
    source_type = "licensing.operating_licence"
    licence_type = LicenceType.RIDEHAIL_OPERATING_LICENCE

    def iter_records(self) -> Iterator[RegistryRecord]:
        for licence in OperatingLicence.objects.order_by("pk").iterator():
            yield RegistryRecord(
                source_id=str(licence.pk),
                issuer_region=licence.city_code,
                # licence_sync keys company holders by the company, not an ID-number hash.
                holder_id_hash="",
                valid_from=licence.valid_from,
                valid_until=licence.valid_until,
                status=LicenceStatus.VALID,  # the registry has no suspension or cancellation yet
                updated_at=licence.issued_at,
            )
