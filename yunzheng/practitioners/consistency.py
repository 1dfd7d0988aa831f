"""The office's registries in the registry/licence consistency check (elicense.consistency):
qualification certificates and credit vouchers, registered from PractitionersConfig.ready()."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

from yunzheng.elicense.consistency import RegistryRecord
from yunzheng.elicense.models import LicenceStatus, LicenceType
from yunzheng.practitioners.licences import CERTIFICATE_SOURCE, VOUCHER_SOURCE, voucher_valid_until
from yunzheng.practitioners.models import CreditAssessment, QualificationCertificate

_CERTIFICATE_STATUS = {
    QualificationCertificate.Status.VALID: LicenceStatus.VALID,
    QualificationCertificate.Status.EXPIRED: LicenceStatus.VALID,  # expiry is judged by the dates
    QualificationCertificate.Status.SUSPENDED: LicenceStatus.SUSPENDED,
    QualificationCertificate.Status.REVOKED: LicenceStatus.REVOKED,
    QualificationCertificate.Status.CANCELLED: LicenceStatus.REVOKED,
}


class QualificationCertificateAdapter:
    source_type = CERTIFICATE_SOURCE
    licence_type = LicenceType.PRACTITIONER_QUALIFICATION

    def iter_records(self) -> Iterator[RegistryRecord]:
        rows = QualificationCertificate.objects.order_by("pk").values_list(
            "pk", "region_code", "holder_id_hash", "valid_from", "valid_until", "status", "updated_at"
        )
        for pk, region, id_hash, valid_from, valid_until, status, updated_at in rows.iterator(
            chunk_size=5000
        ):
            yield RegistryRecord(
                source_id=str(pk),
                issuer_region=region,
                holder_id_hash=id_hash,
                valid_from=valid_from,
                valid_until=valid_until,
                status=_CERTIFICATE_STATUS[QualificationCertificate.Status(status)],
                updated_at=updated_at,
            )


class CreditVoucherAdapter:
    source_type = VOUCHER_SOURCE
    licence_type = LicenceType.CREDIT_VOUCHER

    def iter_records(self) -> Iterator[RegistryRecord]:
        assessments = CreditAssessment.objects.select_related("certificate").order_by("pk")
        for assessment in assessments.iterator(chunk_size=2000):
            certificate = assessment.certificate
            yield RegistryRecord(
                source_id=str(assessment.pk),
                issuer_region=certificate.region_code,
                holder_id_hash=certificate.holder_id_hash,
                valid_from=assessment.assessed_on,
                valid_until=max(voucher_valid_until(assessment), assessment.assessed_on),
                status=LicenceStatus.REVOKED if assessment.revoked_at else LicenceStatus.VALID,
                updated_at=assessment.revoked_at
                or timezone.make_aware(dt.datetime.combine(assessment.assessed_on, dt.time())),
            )
