"""The periodic comparison of registries and electronic licences (manage.py check_elicense_sync).

Each registry registers a `RegistryAdapter` (in its AppConfig.ready) that lists its records as
`RegistryRecord`s in the licence vocabulary. The check reports mismatches by kind:

- authenticity: a licence row whose keyed content hash no longer matches (changed outside
  `licence_sync`), or a ministry index entry that disagrees with its licence;
- completeness: a registry record that should have a licence but has none, or a licence whose
  registry record no longer exists;
- validity: status, dates or holder differ between registry and licence;
- timeliness: the registry changed more than ELICENSE_SYNC_TIMELINESS_MINUTES (default 5) before
  the licence caught up (or it still has not);

and, per issuing province, the issuance rate (records with a licence), the activation rate
(licences the holder viewed or downloaded) and the data-compliance rate (licences whose data is
complete and well-formed for their type).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import lookup_hash
from yunzheng.elicense import qr_payload
from yunzheng.elicense.conf import app_settings
from yunzheng.elicense.models import (
    ElectronicLicence,
    LicenceStatus,
    LicenceType,
    SyncCheckRun,
    TrafficPassApplication,
    TrafficPassType,
    VehicleTransportCertificate,
)
from yunzheng.elicense.services import licence_content_hash

AUTHENTICITY = "authenticity"
COMPLETENESS = "completeness"
VALIDITY = "validity"
TIMELINESS = "timeliness"
KINDS = (AUTHENTICITY, COMPLETENESS, VALIDITY, TIMELINESS)


@dataclass(frozen=True)
class RegistryRecord:
    """One registry record as the licence should mirror it."""

    source_id: str
    issuer_region: str
    holder_id_hash: str  # lookup_hash of the holder's ID number / credit code ("" if unknown)
    valid_from: dt.date
    valid_until: dt.date
    status: str  # in the licence vocabulary: valid / suspended / revoked / expired
    updated_at: dt.datetime


class RegistryAdapter(Protocol):
    """What a registry provides to the consistency check."""

    @property
    def source_type(self) -> str:
        """The `source_type` the registry passes to licence_sync."""
        ...

    @property
    def licence_type(self) -> str: ...

    def iter_records(self) -> Iterable[RegistryRecord]:
        """Every record that should have an electronic licence (issued at least once)."""
        ...


_ADAPTERS: dict[str, RegistryAdapter] = {}


def register_registry_adapter(adapter: RegistryAdapter) -> None:
    """Call from your AppConfig.ready(). Registering the same source type again replaces it."""
    _ADAPTERS[adapter.source_type] = adapter


def registry_adapters() -> list[RegistryAdapter]:
    return list(_ADAPTERS.values())


# --------------------------------------------------------------------------------------------
# Data compliance per licence type
# --------------------------------------------------------------------------------------------

REQUIRED_DATA: dict[str, tuple[str, ...]] = {
    LicenceType.PRACTITIONER_QUALIFICATION: ("certificate_number", "categories"),
    LicenceType.CREDIT_VOUCHER: ("grade",),
    LicenceType.RIDEHAIL_OPERATING_LICENCE: ("certificate_number", "scope"),
    LicenceType.VEHICLE_TRANSPORT_CERTIFICATE: ("certificate_number", "plate", "plate_colour", "scope"),
    LicenceType.TRAFFIC_PASS: ("plate", "pass_type", "sections", "times"),
    LicenceType.RIDEHAIL_CAPABILITY_DETERMINATION: ("certificate_number",),
}


def licence_data_problems(licence: ElectronicLicence) -> list[str]:
    """Why a licence's data is not compliant (empty list: compliant)."""
    problems = [
        f"missing {key}" for key in REQUIRED_DATA.get(licence.licence_type, ()) if not licence.data.get(key)
    ]
    if not licence.holder_id_hash:
        problems.append("missing holder ID")
    if len(licence.issuer_region) != 6 or not licence.issuer_region.isdigit():
        problems.append("bad issuer region")
    if licence.valid_from > licence.valid_until:
        problems.append("validity reversed")
    if (
        licence.licence_type == LicenceType.TRAFFIC_PASS
        and not TrafficPassType.objects.filter(
            region_code=licence.issuer_region, code=licence.data.get("pass_type_code") or ""
        ).exists()
    ):
        problems.append("unknown pass type")
    return problems


# --------------------------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------------------------


@dataclass
class Mismatch:
    kind: str
    province: str
    source_type: str
    source_id: str
    lid: str
    detail: str


@dataclass
class ProvinceRates:
    province: str
    licence_type: str = ""  # "" = every type together
    records: int = 0
    issued: int = 0
    licences: int = 0
    activated: int = 0
    compliant: int = 0

    def as_json(self) -> dict[str, Any]:
        def rate(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            **asdict(self),
            "issuance_rate": rate(self.issued, self.records),
            "activation_rate": rate(self.activated, self.licences),
            "compliance_rate": rate(self.compliant, self.licences),
        }


@dataclass
class SyncReport:
    started_at: dt.datetime
    mismatches: list[Mismatch] = field(default_factory=list)
    provinces: dict[str, ProvinceRates] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(m.kind for m in self.mismatches)
        return {kind: counted.get(kind, 0) for kind in KINDS}

    by_type: dict[tuple[str, str], ProvinceRates] = field(default_factory=dict)

    def rates(self, province: str) -> ProvinceRates:
        return self.provinces.setdefault(province, ProvinceRates(province=province))

    def type_rates(self, province: str, licence_type: str) -> ProvinceRates:
        """Issuance, activation and data-compliance rates of one licence type in one province."""
        key = (province, licence_type)
        return self.by_type.setdefault(key, ProvinceRates(province=province, licence_type=licence_type))


def _expected_status(record: RegistryRecord, today: dt.date) -> str:
    if record.status == LicenceStatus.VALID and record.valid_until < today:
        return LicenceStatus.EXPIRED
    return record.status


def _compare(
    report: SyncReport,
    record: RegistryRecord,
    licence: ElectronicLicence,
    *,
    source_type: str,
    now: dt.datetime,
    today: dt.date,
) -> None:
    def add(kind: str, detail: str) -> None:
        report.mismatches.append(
            Mismatch(kind, licence.issuer_province, source_type, record.source_id, licence.lid, detail)
        )

    differences = []
    live_status = (
        LicenceStatus.EXPIRED
        if licence.status == LicenceStatus.VALID and licence.valid_until < today
        else licence.status
    )
    if _expected_status(record, today) != live_status:
        differences.append(f"status {record.status} vs {licence.status}")
    if (record.valid_from, record.valid_until) != (licence.valid_from, licence.valid_until):
        differences.append("validity dates differ")
    if record.issuer_region != licence.issuer_region:
        differences.append("issuer differs")
    if record.holder_id_hash and record.holder_id_hash != licence.holder_id_hash:
        differences.append("holder differs")
    if differences:
        add(VALIDITY, "; ".join(differences))
    allowed = dt.timedelta(minutes=int(app_settings.ELICENSE_SYNC_TIMELINESS_MINUTES))
    caught_up = licence.source_updated_at >= record.updated_at
    lag = (licence.synced_at if caught_up else now) - record.updated_at
    if lag > allowed:
        state = "updated" if caught_up else "still not updated"
        add(TIMELINESS, f"licence {state} {int(lag.total_seconds() // 60)} min after the registry changed")


def _check_licence_rows(report: SyncReport, licences: Iterable[ElectronicLicence]) -> None:
    for licence in licences:
        compliant = not licence_data_problems(licence)
        for rates in (
            report.rates(licence.issuer_province),
            report.type_rates(licence.issuer_province, licence.licence_type),
        ):
            rates.licences += 1
            rates.activated += licence.activated_at is not None
            rates.compliant += compliant
        problems = []
        if licence.content_hash != licence_content_hash(licence):
            problems.append("licence content does not match its hash")
        entry = getattr(licence, "index_entry", None)
        if entry is None:
            problems.append("missing from the ministry index")
        elif (entry.status, entry.version, entry.content_hash) != (
            licence.status,
            licence.version,
            licence.content_hash,
        ):
            problems.append("ministry index disagrees")
        if problems:
            report.mismatches.append(
                Mismatch(
                    AUTHENTICITY,
                    licence.issuer_province,
                    licence.source_type,
                    licence.source_id,
                    licence.lid,
                    "; ".join(problems),
                )
            )


def sync_check(*, now: dt.datetime | None = None) -> SyncReport:
    """Compare every registered registry with the licences; read-only (see sync_check_run)."""
    now = now or timezone.now()
    today = today_in_china(now)
    report = SyncReport(started_at=now)
    licences = list(ElectronicLicence.objects.select_related("index_entry"))
    _check_licence_rows(report, licences)
    by_source = {(licence.source_type, licence.source_id): licence for licence in licences}
    for adapter in registry_adapters():
        seen: set[str] = set()
        for record in adapter.iter_records():
            seen.add(record.source_id)
            province = qr_payload.province_of(record.issuer_region)
            rates = report.rates(province)
            type_rates = report.type_rates(province, adapter.licence_type)
            rates.records += 1
            type_rates.records += 1
            licence = by_source.get((adapter.source_type, record.source_id))
            if licence is None:
                report.mismatches.append(
                    Mismatch(
                        COMPLETENESS,
                        province,
                        adapter.source_type,
                        record.source_id,
                        "",
                        "no electronic licence",
                    )
                )
                continue
            rates.issued += 1
            type_rates.issued += 1
            _compare(report, record, licence, source_type=adapter.source_type, now=now, today=today)
        for (source_type, source_id), licence in by_source.items():
            if source_type == adapter.source_type and source_id not in seen:
                report.mismatches.append(
                    Mismatch(
                        COMPLETENESS,
                        licence.issuer_province,
                        source_type,
                        source_id,
                        licence.lid,
                        "licence without a registry record",
                    )
                )
    return report


def sync_check_run(*, actor: Actor, now: dt.datetime | None = None) -> SyncCheckRun:
    """Run the check and keep its findings (the staff page and API show the latest run)."""
    report = sync_check(now=now)
    limit = int(app_settings.ELICENSE_SYNC_REPORT_LIMIT)
    with transaction.atomic():
        run = SyncCheckRun.objects.create(
            started_at=report.started_at,
            finished_at=timezone.now(),
            triggered_by=actor.label,
            counts=report.counts,
            mismatches=[asdict(m) for m in report.mismatches[:limit]],
            provinces=[report.provinces[p].as_json() for p in sorted(report.provinces)]
            + [report.by_type[key].as_json() for key in sorted(report.by_type)],
        )
        record_audit(
            actor=actor,
            action="elicense.sync_check",
            target_type="sync_check_run",
            target_id=run.pk,
            after=report.counts,
        )
    return run


# --------------------------------------------------------------------------------------------
# The adapters of this app's own registries
# --------------------------------------------------------------------------------------------


class VehicleCertificateAdapter:
    source_type = "elicense.vehicle_certificate"
    licence_type = LicenceType.VEHICLE_TRANSPORT_CERTIFICATE
    _status = {
        VehicleTransportCertificate.Status.VALID: LicenceStatus.VALID,
        VehicleTransportCertificate.Status.SUSPENDED: LicenceStatus.SUSPENDED,
        VehicleTransportCertificate.Status.CANCELLED: LicenceStatus.REVOKED,
    }

    def iter_records(self) -> Iterator[RegistryRecord]:
        for certificate in VehicleTransportCertificate.objects.order_by("pk").iterator():
            yield RegistryRecord(
                source_id=str(certificate.pk),
                issuer_region=certificate.issuing_region,
                holder_id_hash=certificate.owner_id_hash,
                valid_from=certificate.valid_from,
                valid_until=certificate.valid_until,
                status=self._status[VehicleTransportCertificate.Status(certificate.status)],
                updated_at=certificate.updated_at,
            )


class TrafficPassAdapter:
    source_type = "elicense.traffic_pass"
    licence_type = LicenceType.TRAFFIC_PASS

    def iter_records(self) -> Iterator[RegistryRecord]:
        approved = TrafficPassApplication.objects.filter(
            status__in=[TrafficPassApplication.Status.APPROVED, TrafficPassApplication.Status.REVOKED]
        ).select_related("applicant_user", "applicant_company")
        for application in approved.order_by("pk").iterator():
            company = application.applicant_company
            holder_id = company.credit_code if company is not None else application.applicant_user.id_number
            yield RegistryRecord(
                source_id=str(application.pk),
                issuer_region=application.region_code,
                holder_id_hash=lookup_hash(holder_id) if holder_id else "",
                valid_from=application.valid_from,
                valid_until=application.valid_until,
                status=(
                    LicenceStatus.VALID
                    if application.status == TrafficPassApplication.Status.APPROVED
                    else LicenceStatus.REVOKED
                ),
                updated_at=application.updated_at,
            )
