"""Operating licences in the registry/licence consistency check (elicense.consistency)."""

from __future__ import annotations

from collections.abc import Iterator

from yunzheng.core.crypto import lookup_hash
from yunzheng.elicense.consistency import RegistryRecord
from yunzheng.elicense.models import LicenceStatus, LicenceType
from yunzheng.licensing.models import CapabilityDetermination, OperatingLicence


class OperatingLicenceAdapter:
    source_type = "licensing.operating_licence"
    licence_type = LicenceType.RIDEHAIL_OPERATING_LICENCE
    _status = {
        OperatingLicence.Status.VALID: LicenceStatus.VALID,
        OperatingLicence.Status.SUSPENDED: LicenceStatus.SUSPENDED,
        OperatingLicence.Status.REVOKED: LicenceStatus.REVOKED,
        OperatingLicence.Status.CANCELLED: LicenceStatus.REVOKED,
    }

    def iter_records(self) -> Iterator[RegistryRecord]:
        for licence in OperatingLicence.objects.select_related("company").order_by("pk").iterator():
            yield RegistryRecord(
                source_id=str(licence.pk),
                issuer_region=licence.city_code,
                holder_id_hash=lookup_hash(licence.company.credit_code),
                valid_from=licence.valid_from,
                valid_until=licence.valid_until,
                status=self._status[OperatingLicence.Status(licence.status)],
                updated_at=licence.updated_at or licence.issued_at,
            )


class CapabilityDeterminationAdapter:
    """Online-service-capability determinations (issue #17 item 7) and their electronic licences."""

    source_type = "licensing.capability_determination"
    licence_type = LicenceType.RIDEHAIL_CAPABILITY_DETERMINATION

    def iter_records(self) -> Iterator[RegistryRecord]:
        for determination in CapabilityDetermination.objects.order_by("pk").iterator():
            yield RegistryRecord(
                source_id=str(determination.pk),
                issuer_region=determination.province_code,
                holder_id_hash="",  # a company holder, keyed by the company
                valid_from=determination.decided_on,
                valid_until=determination.valid_until,
                status=LicenceStatus.VALID,
                updated_at=determination.issued_at,
            )
