"""Adapters that feed the licence history from the registries of other apps (read-only).

The compliance rules only ever read ``LicencePeriod``; where the periods come from is decided
here. Each adapter reads one register and yields :class:`~yunzheng.supervision.imports.PeriodInput`
rows; ``services.licence_registry_sync`` stores them as the complete state of that source.

* ``practitioners`` - qualification certificates (从业资格证) with the ride-hailing driver
  category: identifier = the holder's ID number (= driving-licence number, the exchange's
  LicenseId), the certificate's validity, its status; a cancelled ride-hailing category
  cancels the period from ``cancelled_on``.
* ``elicense`` - vehicle transport certificates whose business scope is ride-hailing
  (``SUPERVISION_VEHICLE_SCOPE_KEYWORDS``, default 网络预约/网约): identifier = plate.
* ``baseinfo`` - what companies declare in ``baseInfoDriver`` (NetworkCarProofOn/Off) and
  ``baseInfoVehicle`` (TransDateStart/Stop) through the exchange: the interim source until the
  registries hold everything. Self-declared: leave it out of ``SUPERVISION_LICENCE_SOURCES`` once
  the registries are complete.

Registries record only the current status, not when it changed: for suspended/cancelled
certificates the adapters take the record's last update as the time of the change
(documented limit; a registry with a status history should feed it as separate periods).

Each adapter checks that its app is installed and its model present, so this module imports no
registry app at import time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Protocol

from django.apps import apps

from yunzheng.core.clock import CHINA
from yunzheng.supervision.conf import app_settings
from yunzheng.supervision.imports import PeriodInput
from yunzheng.supervision.licences import identifier_problem, licence_display, normalise_identifier
from yunzheng.supervision.models import LicenceKind, LicenceSource, PeriodStatus

logger = logging.getLogger(__name__)


class LicenceRegistryAdapter(Protocol):
    kind: str
    source: str

    def available(self) -> bool: ...

    def iter_periods(self) -> Iterator[PeriodInput]: ...


def _model(app_label: str, name: str) -> Any | None:
    if not apps.is_installed(f"yunzheng.{app_label}"):
        return None
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CHINA)


def _clean(kind: str, raw: str) -> str | None:
    identifier = normalise_identifier(kind, raw)
    if not identifier or identifier_problem(kind, identifier):
        return None
    return identifier


_HASH = re.compile(r"[0-9a-f]{64}")


_STATUS_MAP = {
    "valid": PeriodStatus.VALID,
    "expired": PeriodStatus.VALID,  # expiry follows from valid_until
    "suspended": PeriodStatus.SUSPENDED,
    "cancelled": PeriodStatus.CANCELLED,
    "revoked": PeriodStatus.REVOKED,
}


class PractitionersAdapter:
    kind = LicenceKind.DRIVER.value
    source = LicenceSource.PRACTITIONERS.value
    CATEGORY = "ride_hailing"

    def available(self) -> bool:
        return _model("practitioners", "QualificationCertificate") is not None and (
            _model("practitioners", "CertificateCategoryGrant") is not None
        )

    def iter_periods(self) -> Iterator[PeriodInput]:
        grant_model = _model("practitioners", "CertificateCategoryGrant")
        if grant_model is None:
            return
        grants = grant_model.objects.filter(category=self.CATEGORY).select_related("certificate")
        for grant in grants.iterator(chunk_size=2000):
            cert = grant.certificate
            # The registry keeps the same keyed hash of the ID number as the exchange's license_id.
            if not _HASH.fullmatch(cert.holder_id_hash or ""):
                logger.warning("supervision: certificate %s has no ID number hash", cert.number)
                continue
            status = _STATUS_MAP.get(cert.status, PeriodStatus.VALID)
            changed: datetime | None = cert.updated_at if status != PeriodStatus.VALID else None
            if status == PeriodStatus.VALID and grant.status == "cancelled":
                status = PeriodStatus.CANCELLED
                changed = _midnight(grant.cancelled_on) if grant.cancelled_on else cert.updated_at
            yield PeriodInput(
                kind=self.kind,
                identifier=cert.holder_id_hash,
                identifier_display=licence_display(self.kind, cert.holder_id_number or ""),
                certificate_no=cert.number,
                region_code=cert.region_code,
                valid_from=cert.valid_from,
                valid_until=cert.valid_until,
                status=str(status),
                status_changed_at=changed,
                source_ref=cert.number,
            )


class ElicenseVehicleAdapter:
    kind = LicenceKind.VEHICLE.value
    source = LicenceSource.ELICENSE.value

    def available(self) -> bool:
        return _model("elicense", "VehicleTransportCertificate") is not None

    def iter_periods(self) -> Iterator[PeriodInput]:
        model = _model("elicense", "VehicleTransportCertificate")
        if model is None:
            return
        keywords = tuple(app_settings.SUPERVISION_VEHICLE_SCOPE_KEYWORDS)
        for cert in model.objects.all().iterator(chunk_size=2000):
            if keywords and not any(k in cert.business_scope for k in keywords):
                continue
            identifier = _clean(self.kind, cert.plate_number)
            if identifier is None:
                continue
            status = _STATUS_MAP.get(cert.status, PeriodStatus.VALID)
            yield PeriodInput(
                kind=self.kind,
                identifier=identifier,
                identifier_display=identifier,
                certificate_no=cert.certificate_number,
                region_code=cert.issuing_region,
                valid_from=cert.valid_from,
                valid_until=cert.valid_until,
                status=str(status),
                status_changed_at=cert.updated_at if status != PeriodStatus.VALID else None,
                source_ref=cert.certificate_number,
            )


def _date8(value: Any) -> date | None:
    try:
        number = int(value)
        return date(number // 10000, number // 100 % 100, number % 100)
    except (TypeError, ValueError):
        return None


class BaseInfoAdapter:
    """Company-declared certificates from the exchange's current base information."""

    FIELDS = {
        LicenceKind.DRIVER.value: (
            "baseInfoDriver",
            "LicenseId",
            "CertificateNo",
            "NetworkCarProofOn",
            "NetworkCarProofOff",
        ),
        LicenceKind.VEHICLE.value: (
            "baseInfoVehicle",
            "VehicleNo",
            "Certificate",
            "TransDateStart",
            "TransDateStop",
        ),
    }

    source = LicenceSource.BASEINFO.value

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def available(self) -> bool:
        return _model("exchange", "BaseInfoCurrent") is not None

    def iter_periods(self) -> Iterator[PeriodInput]:
        from yunzheng.exchange.personal_data import mask_record
        from yunzheng.exchange.spec import get_spec

        model = _model("exchange", "BaseInfoCurrent")
        if model is None:
            return
        interface, ident_field, cert_field, on_field, off_field = self.FIELDS[self.kind]
        code = get_spec().interface(interface).ipc_type_code
        rows = model.objects.filter(interface=code, deleted=False).select_related("company")
        for row in rows.iterator(chunk_size=2000):
            payload = row.payload or {}
            start, until = _date8(payload.get(on_field)), _date8(payload.get(off_field))
            if start is None or until is None or until < start:
                continue
            if self.kind == LicenceKind.DRIVER:
                # The exchange keys drivers by the keyed hash of LicenseId (its natural key) and
                # keeps the value itself encrypted: show it masked.
                identifier: str | None = row.natural_key if _HASH.fullmatch(row.natural_key) else None
                display = str(mask_record(interface, payload).get(ident_field, ""))[:32]
            else:
                identifier = _clean(self.kind, str(payload.get(ident_field, "")))
                display = identifier or ""
            if identifier is None:
                continue
            certificate = payload.get(cert_field) or ""
            yield PeriodInput(
                kind=self.kind,
                identifier=identifier,
                identifier_display=display,
                certificate_no="" if self.kind == LicenceKind.DRIVER else str(certificate)[:64],
                region_code=str(row.region_code or "")[:6],
                valid_from=start,
                valid_until=until,
                status=PeriodStatus.VALID.value,
                status_changed_at=None,
                source_ref=f"{row.company.supervision_company_id}:{row.natural_key}"[:128],
            )


def adapter_for(*, kind: str, source: str) -> LicenceRegistryAdapter | None:
    if source == LicenceSource.BASEINFO:
        return BaseInfoAdapter(kind) if kind in LicenceKind.values else None
    for adapter in (PractitionersAdapter(), ElicenseVehicleAdapter()):
        if adapter.kind == kind and adapter.source == source:
            return adapter
    return None


def registry_status() -> list[dict[str, Any]]:
    """Which adapters exist and whether their registry is installed here (for reports)."""
    out = []
    for kind, source in (
        (LicenceKind.DRIVER.value, LicenceSource.PRACTITIONERS.value),
        (LicenceKind.VEHICLE.value, LicenceSource.ELICENSE.value),
        (LicenceKind.DRIVER.value, LicenceSource.BASEINFO.value),
        (LicenceKind.VEHICLE.value, LicenceSource.BASEINFO.value),
    ):
        adapter = adapter_for(kind=kind, source=source)
        out.append({"kind": kind, "source": source, "available": bool(adapter and adapter.available())})
    return out


@dataclass(frozen=True)
class OperatingLicenceInfo:
    company_id: int
    city_code: str
    number: str
    valid_from: date
    valid_until: date | None


def operating_licences() -> Iterator[OperatingLicenceInfo]:
    """The licensing app's operating licences (national and local), if that app is installed."""
    model = _model("licensing", "OperatingLicence")
    if model is None:
        return
    for lic in model.objects.all().iterator(chunk_size=2000):
        if not (len(lic.city_code or "") == 6 and lic.city_code.isdigit()):
            continue
        city = lic.city_code if lic.city_code.endswith("00") else lic.city_code[:4] + "00"
        yield OperatingLicenceInfo(lic.company_id, city, lic.number, lic.valid_from, lic.valid_until)
