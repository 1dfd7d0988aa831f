"""Bulk feed of qualification certificates from the provinces' systems (registry_import).

Idempotent by the certificate number: a row whose record is already identical is `unchanged`, a
row that differs updates the certificate (new version, audited, its electronic licence follows in
the same transaction), a new number is created with its electronic licence. Rows are validated one
by one; a bad row is rejected with field, code and message and the good rows are kept.

New certificates are written in bulk (certificates, category grants, then elicense's
`licences_issue_bulk`), with one audit entry per batch; updates go through the per-record path
with per-record audit, because each is a registry event of its own (suspension, revocation, ...).
A revoked certificate is final: no import revives it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from stdnum.cn import ric

from yunzheng.accounts.models import User
from yunzheng.core import bulk_import
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.bulk_import import ImportReport, RowInvalid
from yunzheng.core.bulk_insert import insert_rows
from yunzheng.core.crypto import encrypt_field, lookup_hash
from yunzheng.core.errors import ValidationFailed
from yunzheng.core.ids import _EARLIEST_BIRTH_DATE as EARLIEST_BIRTH_DATE
from yunzheng.core.ids import region_code_exists, validate_resident_id
from yunzheng.elicense.bulk import NewLicence, licences_issue_bulk
from yunzheng.elicense.models import LicenceType
from yunzheng.practitioners import licences
from yunzheng.practitioners.models import (
    CertificateCategory,
    CertificateCategoryGrant,
    QualificationCertificate,
)

KIND = "qualification-certificates"
COLUMNS = (
    "certificate_number",
    "id_number",
    "name",
    "categories",
    "issuing_authority",
    "region_code",
    "first_issued_on",
    "valid_from",
    "valid_until",
    "service_unit",
    "status",
)
STATUSES = ("valid", "suspended", "revoked", "cancelled")
# The enum's `.values` builds a new list on every access; a row checks against this set.
CATEGORIES = frozenset(CertificateCategory.values)
BATCH_SIZE = 2000
Status = QualificationCertificate.Status


@dataclass(frozen=True)
class CertificateRow:
    row: int
    number: str
    id_number: str
    id_hash: str
    name: str
    categories: tuple[str, ...]
    issuing_authority: str
    region_code: str
    first_issued_on: dt.date
    valid_from: dt.date
    valid_until: dt.date
    service_unit: str
    status: str


@functools.lru_cache(maxsize=4096)
def _region_exists(code: str) -> bool:
    return region_code_exists(code)


@functools.lru_cache(maxsize=65536)
def _region_problem(region_and_year: str, language: str | None) -> tuple[str, str] | None:
    """Whether an ID number's region code was assigned in its birth year (stdnum's table), by the
    first 10 characters, so that each region and year is looked up once per import."""
    body = region_and_year + "0101000"
    try:
        validate_resident_id(body + ric.calc_check_digit(body + "0"))
    except ValidationFailed as error:
        detail = error.details[0] if error.details else None
        return (detail.code, detail.message) if detail else (error.code, str(error.message))
    return None


def _full_check_problem(number: str) -> RowInvalid:
    try:
        validate_resident_id(number)
    except ValidationFailed as error:
        detail = error.details[0] if error.details else None
        code = detail.code if detail else error.code
        return RowInvalid("id_number", code, detail.message if detail else error.message)
    return RowInvalid(
        "id_number", "id_number.format", _("An ID number is 17 digits followed by a digit or X.")
    )


def _resident_id(raw: str) -> str:
    """validate_resident_id (python-stdnum checksum, region, birth date) with the region lookup
    cached: the same answers at a fraction of the cost on a 100,000-row file."""
    number = raw.strip().upper()
    shaped = len(number) == 18 and number.isascii() and number[:17].isdigit()
    if not shaped or not (number[17].isdigit() or number[17] == "X"):
        raise _full_check_problem(raw)
    if ric.calc_check_digit(number) != number[-1]:
        raise RowInvalid(
            "id_number",
            "id_number.checksum",
            _("The ID number's check character does not match; please check each digit."),
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth = None
    if birth is None or not EARLIEST_BIRTH_DATE <= birth <= dt.date.today():
        raise _full_check_problem(number)  # the full check words the birth-date error
    problem = _region_problem(number[:10], translation.get_language())
    if problem is not None:
        raise RowInvalid("id_number", problem[0], problem[1])
    return number


def _parse(row_number: int, row: Mapping[str, str], hashes: dict[str, str]) -> CertificateRow:
    values = dict(row)
    number = bulk_import.text(values, "certificate_number", max_length=32)
    if not number.isascii() or not number.replace("-", "").isalnum():
        raise RowInvalid(
            "certificate_number",
            "certificate.number_format",
            _("A certificate number has letters, digits and hyphens only."),
        )
    raw_id = bulk_import.text(values, "id_number", max_length=18)
    id_number = _resident_id(raw_id)
    id_hash = hashes.get(id_number)
    if id_hash is None:
        id_hash = hashes[id_number] = lookup_hash(id_number)
    name = bulk_import.text(values, "name", max_length=50)
    categories = tuple(
        sorted({part.strip() for part in (values.get("categories") or "").split("|") if part.strip()})
    )
    if not categories:
        raise RowInvalid("categories", "import.required", _("This column is required."))
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise RowInvalid(
            "categories",
            "certificate.category_unknown",
            _("Unknown category %(value)s; use %(allowed)s.")
            % {"value": unknown[0][:40], "allowed": "|".join(CertificateCategory.values)},
        )
    authority = bulk_import.text(values, "issuing_authority", max_length=100)
    region_code = bulk_import.text(values, "region_code", max_length=6)
    if not _region_exists(region_code):
        raise RowInvalid(
            "region_code",
            "region.unknown",
            _("%(value)s is not a GB/T 2260 region code.") % {"value": region_code},
        )
    first_issued_on = bulk_import.required_date(values, "first_issued_on")
    valid_from = bulk_import.required_date(values, "valid_from")
    valid_until = bulk_import.required_date(values, "valid_until")
    if valid_until < valid_from:
        raise RowInvalid(
            "valid_until", "validity.ends_before_start", _("The validity cannot end before it starts.")
        )
    if first_issued_on > valid_from:
        raise RowInvalid(
            "first_issued_on",
            "validity.first_issue_after_start",
            _("A certificate is first issued on or before the start of its current validity."),
        )
    return CertificateRow(
        row=row_number,
        number=number,
        id_number=id_number,
        id_hash=id_hash,
        name=name,
        categories=categories,
        issuing_authority=authority,
        region_code=region_code,
        first_issued_on=first_issued_on,
        valid_from=valid_from,
        valid_until=valid_until,
        service_unit=bulk_import.text(values, "service_unit", required=False, max_length=200),
        status=bulk_import.choice(values, "status", STATUSES),
    )


def _record_of(certificate: QualificationCertificate, categories: Iterable[str]) -> tuple[Any, ...]:
    return (
        certificate.holder_name,
        tuple(sorted(categories)),
        certificate.issuing_authority,
        certificate.region_code,
        certificate.first_issued_on,
        certificate.valid_from,
        certificate.valid_until,
        certificate.service_unit,
        certificate.status,
    )


def _record_of_row(parsed: CertificateRow) -> tuple[Any, ...]:
    return (
        parsed.name,
        parsed.categories,
        parsed.issuing_authority,
        parsed.region_code,
        parsed.first_issued_on,
        parsed.valid_from,
        parsed.valid_until,
        parsed.service_unit,
        parsed.status,
    )


def certificates_import(
    *,
    rows: Iterable[Mapping[str, str]],
    actor: Actor,
    dry_run: bool = False,
    region_prefix: str = "",
    now: dt.datetime | None = None,
) -> ImportReport:
    """Validate and write qualification-certificate rows (see the module docstring).
    `region_prefix`: the importing authority's scope ("" nationwide, "33" a province, "3301" a
    city); rows of other regions are rejected."""
    now = now or timezone.now()
    report = ImportReport(kind=KIND)
    # Validation (checksums, hashing) of the next batch runs in a second thread while this one
    # writes the current batch: the database's work and ours overlap instead of taking turns. The
    # writes stay on this thread's connection, in its transactions.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="registry-import") as parser:
        batches = _parsed_batches(rows, report, region_prefix, translation.get_language())
        upcoming = parser.submit(next, batches, None)
        while (batch := upcoming.result()) is not None:
            upcoming = parser.submit(next, batches, None)
            _write_batch(batch, report=report, actor=actor, dry_run=dry_run, now=now)
    report.rejected.sort(key=lambda problem: problem.row)
    bulk_import.record_import(report, actor=actor, dry_run=dry_run)
    return report


def _parsed_batches(
    rows: Iterable[Mapping[str, str]], report: ImportReport, region_prefix: str, language: str | None
) -> Iterator[list[CertificateRow]]:
    """Batches of valid rows; rejected rows go to the report (field, code, message)."""
    translation.activate(language or settings.LANGUAGE_CODE)  # messages in the caller's language
    batch: list[CertificateRow] = []
    hashes: dict[str, str] = {}
    seen: dict[str, str] = {}
    for index, row in enumerate(rows, start=1):
        report.rows += 1
        try:
            parsed = _parse(index, row, hashes)
            if not parsed.region_code.startswith(region_prefix):
                raise RowInvalid(
                    "region_code", "region.out_of_scope", _("This region is outside your authority.")
                )
            owner = seen.get(parsed.number)
            if owner is not None:
                code = (
                    "certificate.duplicate_row" if owner == parsed.id_hash else "certificate.owned_by_other"
                )
                raise RowInvalid(
                    "certificate_number", code, _("This certificate number appears earlier in the file.")
                )
            seen[parsed.number] = parsed.id_hash
        except RowInvalid as problem:
            report.reject(index, problem.field, problem.code, problem.message)
            continue
        batch.append(parsed)
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_batch(
    batch: list[CertificateRow], *, report: ImportReport, actor: Actor, dry_run: bool, now: dt.datetime
) -> None:
    with transaction.atomic():
        existing_query = QualificationCertificate.objects.filter(number__any=[p.number for p in batch])
        if not dry_run:
            existing_query = existing_query.select_for_update()
        existing = {certificate.number: certificate for certificate in existing_query}
        grants: dict[int, list[str]] = {}
        for grant in CertificateCategoryGrant.objects.filter(
            certificate__in=list(existing.values()), status=CertificateCategoryGrant.Status.VALID
        ).values_list("certificate_id", "category"):
            grants.setdefault(grant[0], []).append(grant[1])
        holders = dict(
            User.objects.filter(
                id_number_hash__any=list({p.id_hash for p in batch}), real_name_verified_at__isnull=False
            ).values_list("id_number_hash", "pk")
        )
        new_rows: list[CertificateRow] = []
        for parsed in batch:
            current = existing.get(parsed.number)
            if current is None:
                new_rows.append(parsed)
                continue
            if current.holder_id_hash != parsed.id_hash:
                report.reject(
                    parsed.row,
                    "certificate_number",
                    "certificate.owned_by_other",
                    _("This certificate number is registered to another person."),
                )
                continue
            if _record_of(current, grants.get(current.pk, [])) == _record_of_row(parsed):
                report.unchanged += 1
                continue
            if current.status == Status.REVOKED:
                report.reject(
                    parsed.row,
                    "status",
                    "certificate.revoked_final",
                    _("This certificate was revoked; a revoked certificate cannot be changed or revived."),
                )
                continue
            if not dry_run:
                _update(current, parsed, grants.get(current.pk, []), holders, actor=actor, now=now)
            report.updated += 1
        report.created += len(new_rows)
        if not dry_run and new_rows:
            _create(new_rows, holders, actor=actor, now=now)


def _create(rows: list[CertificateRow], holders: dict[str, int], *, actor: Actor, now: dt.datetime) -> None:
    # The holder's name and ID number are encrypted once; the certificate and its electronic
    # licence store the same tokens.
    sealed = [(encrypt_field(parsed.name), encrypt_field(parsed.id_number)) for parsed in rows]
    ids = insert_rows(
        QualificationCertificate,
        [
            {
                "number": parsed.number,
                "holder_name": name,
                "holder_id_number": id_number,
                "holder_id_hash": parsed.id_hash,
                "holder_address": None,
                "holder_id": holders.get(parsed.id_hash),
                "issuing_authority": parsed.issuing_authority,
                "region_code": parsed.region_code,
                "first_issued_on": parsed.first_issued_on,
                "valid_from": parsed.valid_from,
                "valid_until": parsed.valid_until,
                "service_unit": parsed.service_unit,
                "service_unit_phone": "",
                "status": parsed.status,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for parsed, (name, id_number) in zip(rows, sealed, strict=True)
        ],
    )
    insert_rows(
        CertificateCategoryGrant,
        [
            {
                "certificate_id": certificate_id,
                "category": category,
                "status": CertificateCategoryGrant.Status.VALID,
                "granted_on": parsed.first_issued_on,
                "cancelled_on": None,
            }
            for certificate_id, parsed in zip(ids, rows, strict=True)
            for category in parsed.categories
        ],
    )
    licences_issue_bulk(
        items=[
            NewLicence(
                source_type=licences.CERTIFICATE_SOURCE,
                source_id=str(certificate_id),
                licence_type=LicenceType.PRACTITIONER_QUALIFICATION,
                holder_name=parsed.name,
                issuer_region=parsed.region_code,
                valid_from=parsed.valid_from,
                valid_until=parsed.valid_until,
                data=licences.certificate_data_for(
                    number=parsed.number,
                    categories=parsed.categories,
                    issuing_authority=parsed.issuing_authority,
                    first_issued_on=parsed.first_issued_on,
                    service_unit=parsed.service_unit,
                    version=1,
                ),
                holder_user_id=holders.get(parsed.id_hash),
                holder_id_number=parsed.id_number,
                holder_id_hash=parsed.id_hash,
                status=licences.licence_status_for(parsed.status),
                sealed_holder_name=name,
                sealed_holder_id_number=id_number,
            )
            for certificate_id, parsed, (name, id_number) in zip(ids, rows, sealed, strict=True)
        ],
        actor=actor,
        reason="registry import",
        now=now,
    )


_EVENT_FOR_STATUS = {
    Status.SUSPENDED: "suspend",
    Status.REVOKED: "revoke",
    Status.CANCELLED: "cancel",
}


def _update(
    certificate: QualificationCertificate,
    parsed: CertificateRow,
    current_categories: list[str],
    holders: dict[str, int],
    *,
    actor: Actor,
    now: dt.datetime,
) -> None:
    before = {
        "status": certificate.status,
        "valid_from": certificate.valid_from,
        "valid_until": certificate.valid_until,
        "categories": sorted(current_categories),
        "issuing_authority": certificate.issuing_authority,
        "service_unit": certificate.service_unit,
        "version": certificate.version,
    }
    old_status = certificate.status
    certificate.holder_name = parsed.name
    certificate.issuing_authority = parsed.issuing_authority
    certificate.region_code = parsed.region_code
    certificate.first_issued_on = parsed.first_issued_on
    certificate.valid_from = parsed.valid_from
    certificate.valid_until = parsed.valid_until
    certificate.service_unit = parsed.service_unit
    certificate.status = parsed.status
    if certificate.holder_id is None and parsed.id_hash in holders:
        certificate.holder_id = holders[parsed.id_hash]
    certificate.version += 1
    certificate.save()
    if set(current_categories) != set(parsed.categories):
        grants = {grant.category: grant for grant in certificate.grants.all()}
        for category, grant in grants.items():
            if category not in parsed.categories and grant.status == grant.Status.VALID:
                grant.status, grant.cancelled_on = grant.Status.CANCELLED, now.date()
                grant.save(update_fields=["status", "cancelled_on"])
        for category in parsed.categories:
            existing = grants.get(category)
            if existing is None:
                CertificateCategoryGrant.objects.create(
                    certificate=certificate, category=category, granted_on=parsed.valid_from
                )
            elif existing.status != existing.Status.VALID:
                existing.status, existing.cancelled_on = existing.Status.VALID, None
                existing.save(update_fields=["status", "cancelled_on"])
    if parsed.status != old_status:
        event = _EVENT_FOR_STATUS.get(Status(parsed.status), "reinstate")
    else:
        event = "change"
    record_audit(
        actor=actor,
        action="office.certificate.import_update",
        target_type="qualification_certificate",
        target_id=certificate.pk,
        before=before,
        after={
            "status": certificate.status,
            "valid_from": certificate.valid_from,
            "valid_until": certificate.valid_until,
            "categories": list(parsed.categories),
            "issuing_authority": certificate.issuing_authority,
            "service_unit": certificate.service_unit,
            "version": certificate.version,
        },
        reason="registry import",
    )
    licences.certificate_licence_sync(
        certificate=certificate, event=event, actor=actor, reason="registry import", now=now
    )
