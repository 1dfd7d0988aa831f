"""The one place where the office talks to electronic licences (`yunzheng.elicense`).

Registry services call these inside their own transaction, so the electronic licence mirroring a
qualification certificate (licence type `practitioner_qualification`) or a credit assessment
(`credit_voucher`) commits or rolls back together with the registry change (elicense's
`licence_sync`, docs/adr/0011). The credit voucher a driver downloads is that licence, signed by
elicense (`licence_sign`, the `YZ1:` payload of `yunzheng.elicense.qr_payload`) and drawn by its
renderers; its QR link opens elicense's public verification page. No QR format is defined here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.core.audit import Actor
from yunzheng.core.errors import NotFound
from yunzheng.elicense import rendering
from yunzheng.elicense.models import ElectronicLicence, LicenceType
from yunzheng.elicense.services import licence_record_activation, licence_sign, licence_sync
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.models import CertificateCategory, CreditAssessment, QualificationCertificate

CERTIFICATE_SOURCE = "practitioners.certificate"
VOUCHER_SOURCE = "practitioners.credit_assessment"


# Short Chinese names for the QR essentials, whatever language the request is in.
_CATEGORY_NAMES = {
    CertificateCategory.CRUISING_TAXI: "巡游出租汽车驾驶员",
    CertificateCategory.RIDE_HAILING: "网络预约出租汽车驾驶员",
    CertificateCategory.PASSENGER: "道路旅客运输驾驶员",
    CertificateCategory.FREIGHT: "道路货物运输驾驶员",
}


def certificate_data_for(
    *,
    number: str,
    categories: Iterable[str],
    issuing_authority: str,
    first_issued_on: dt.date,
    service_unit: str,
    version: int,
) -> dict[str, Any]:
    """The licence details of a certificate (valid category codes in any order)."""
    return {
        "certificate_number": number,
        # Keyed by the enum's members, which are their str values: a code finds its name directly.
        "categories": [_CATEGORY_NAMES[code] for code in sorted(categories)],  # type: ignore[index]
        "issuing_authority": issuing_authority,
        "first_issued_on": first_issued_on.isoformat(),
        "service_unit": service_unit,
        "registry_version": version,
    }


def _certificate_data(certificate: QualificationCertificate) -> dict[str, Any]:
    return certificate_data_for(
        number=certificate.number,
        categories=[
            grant.category for grant in certificate.grants.all() if grant.status == grant.Status.VALID
        ],
        issuing_authority=certificate.issuing_authority,
        first_issued_on=certificate.first_issued_on,
        service_unit=certificate.service_unit,
        version=certificate.version,
    )


_IMPOSED_STATUS: dict[str, str] = {
    QualificationCertificate.Status.SUSPENDED: "suspended",
    QualificationCertificate.Status.REVOKED: "revoked",
    QualificationCertificate.Status.CANCELLED: "revoked",
}


def licence_status_for(certificate_status: str) -> str | None:
    """The licence status a certificate's registry status imposes (None: follow the event)."""
    return _IMPOSED_STATUS.get(certificate_status)


def certificate_licence_sync(
    *, certificate: QualificationCertificate, event: str, actor: Actor, reason: str, now: dt.datetime
) -> ElectronicLicence:
    """Create or update the electronic qualification certificate mirroring `certificate`.

    The registry decides: a suspended, revoked or cancelled certificate imposes that status on its
    licence whatever the event, so a later renewal or replacement never revives a revoked one."""
    status = licence_status_for(certificate.status)
    if certificate.status == QualificationCertificate.Status.CANCELLED:
        event, status = "cancel", None
    elif certificate.status == QualificationCertificate.Status.REVOKED and event not in ("revoke", "cancel"):
        event = "change"
    return licence_sync(
        source_type=CERTIFICATE_SOURCE,
        source_id=certificate.pk,
        licence_type=LicenceType.PRACTITIONER_QUALIFICATION,
        holder_name=certificate.holder_name,
        holder_user=certificate.holder,
        holder_id_number=certificate.holder_id_number,
        issuer_region=certificate.region_code,
        valid_from=certificate.valid_from,
        valid_until=certificate.valid_until,
        data=_certificate_data(certificate),
        event=event,
        status=status,
        actor=actor,
        reason=reason,
        now=now,
    )


def voucher_valid_until(assessment: CreditAssessment) -> dt.date:
    """A cycle's grade is the driver's standing for the following year."""
    return dt.date(assessment.cycle_year + 1, 12, 31)


def credit_voucher_sync(*, assessment: CreditAssessment, actor: Actor, now: dt.datetime) -> ElectronicLicence:
    """Create or update the electronic credit-assessment voucher of one assessment."""
    certificate = assessment.certificate
    return licence_sync(
        source_type=VOUCHER_SOURCE,
        source_id=assessment.pk,
        licence_type=LicenceType.CREDIT_VOUCHER,
        holder_name=certificate.holder_name,
        holder_user=certificate.holder,
        holder_id_number=certificate.holder_id_number,
        issuer_region=certificate.region_code,
        valid_from=assessment.assessed_on,
        valid_until=max(voucher_valid_until(assessment), assessment.assessed_on),
        data={
            "certificate_number": certificate.number,
            "grade": assessment.grade,
            "categories": _certificate_data(certificate)["categories"],
            "cycle_year": assessment.cycle_year,
            "authority": assessment.authority,
        },
        event="credit_evaluation",
        status="revoked" if assessment.revoked_at else None,
        actor=actor,
        reason=f"credit assessment {assessment.cycle_year}: {assessment.grade}",
        now=now,
    )


def voucher_licence(assessment: CreditAssessment) -> ElectronicLicence | None:
    return ElectronicLicence.objects.filter(source_type=VOUCHER_SOURCE, source_id=str(assessment.pk)).first()


def certificate_licence(certificate: QualificationCertificate) -> ElectronicLicence | None:
    return ElectronicLicence.objects.filter(
        source_type=CERTIFICATE_SOURCE, source_id=str(certificate.pk)
    ).first()


def voucher_document(
    *, assessment: CreditAssessment, kind: str, base_url: str, user: User, now: dt.datetime | None = None
) -> tuple[bytes, str]:
    """The voucher as a PNG picture or a PDF, with a freshly signed QR code whose link opens the
    public verification page. Raises elicense's Conflict when the voucher is no longer valid or the
    province has no signing key yet."""
    licence = voucher_licence(assessment)
    if licence is None:
        raise NotFound(Code.VOUCHER_NOT_FOUND, _("No such voucher."))
    signed = licence_sign(licence=licence, now=now)
    licence_record_activation(licence=licence, user=user, now=now)
    qr_text = signed.qr_text(base_url)
    if kind == "pdf":
        return rendering.licence_pdf(licence, signed, qr_text=qr_text), "application/pdf"
    return rendering.licence_png(licence, signed, qr_text=qr_text), "image/png"
