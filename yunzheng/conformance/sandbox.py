"""Storage of sandbox uploads: what a company's *sandbox* credential sends to the exchange interface.

The exchange hands every batch of a sandbox credential here instead of to its own ingest (same
endpoint, same decoding, same validation, same answer), so that a company tests exactly what
production will see, while its test data never becomes supervision data: no exchange tables, no
upload statistics, no forwarding. Records go to the company's open test cycle (if any); every record
is kept, accepted (normalised) or rejected (as sent, with every field error), because the test sheet
shows the company each offending field. Personal data is protected as the exchange protects it
(ADR 0005): personal values are ``encrypt_field`` tokens, the driver's licence number and personal
key fields ``lookup_hash`` (deterministic, so grading can join orders to the base data); pages
decrypt and mask.

Like the exchange ingest, this is the audit trail itself (one ``SandboxBatch`` per request); the
hash-chained audit log is kept for control actions (campaigns and cycles, see services.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from yunzheng.accounts.models import CompanyCredential
from yunzheng.conformance.hints import fix_hint, json_safe
from yunzheng.conformance.models import SandboxBatch, SandboxRecord
from yunzheng.exchange import personal_data
from yunzheng.exchange.ingest import IngestResult, dt14_epoch, plan_for
from yunzheng.exchange.spec import (
    BatchResult,
    ErrorCode,
    FieldError,
    FieldKind,
    InterfaceSpec,
    RecordError,
    get_validator,
)
from yunzheng.exchange.spec.validation import BEIJING

Record = dict[str, Any]

_COORDINATES = ("Longitude", "Latitude")


# Plain SQL on the upload path: compiling the equivalent querysets costs more than running them.
_OPEN_CYCLE_SQL = "SELECT id FROM conformance_cycle WHERE company_id = %s AND status = 'open'"
_COUNT_ACCEPTED_SQL = "SELECT count(*) FROM conformance_sandboxrecord WHERE batch_id = %s AND accepted"


def open_cycle_id(company_id: int) -> int | None:
    """The company's open cycle, where its sandbox uploads go (None: stored outside any cycle)."""
    with connection.cursor() as cursor:
        cursor.execute(_OPEN_CYCLE_SQL, [company_id])
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _date8_epoch(v: int) -> int:
    y, md = divmod(v, 10000)
    m, d = divmod(md, 100)
    return int(datetime(y, m, d, tzinfo=BEIJING).timestamp())


def _int_or_none(v: Any) -> int | None:
    return v if type(v) is int else None


def _text(v: Any, limit: int) -> str:
    return json_safe(v[:limit]) if type(v) is str else ""


def _split_ownership(
    company_id: str, checked: BatchResult, records: Sequence[Any]
) -> tuple[list[tuple[int, Record]], list[RecordError]]:
    """Valid records of the uploading company, and the rejected ones (plus others' records, with
    ``CompanyId``/``company_mismatch``, as the exchange ingest answers)."""
    valid: list[tuple[int, Record]] = []
    rejected = list(checked.rejected)
    for idx, rec in checked.accepted:
        if rec["CompanyId"] == company_id:
            valid.append((idx, rec))
        else:
            rejected.append(RecordError(idx, [_mismatch(rec["CompanyId"], company_id)]))
    for err in rejected:
        raw = records[err.index] if err.index < len(records) else None
        theirs = raw.get("CompanyId") if type(raw) is dict else None
        if type(theirs) is str and theirs != company_id and all(e.field != "CompanyId" for e in err.errors):
            err.errors.append(_mismatch(theirs, company_id))
    rejected.sort(key=lambda r: r.index)
    return valid, rejected


def _mismatch(theirs: Any, ours: str) -> FieldError:
    return FieldError(
        "CompanyId",
        ErrorCode.COMPANY_MISMATCH,
        f"CompanyId {theirs!r} is not the uploading company's {ours!r}",
        theirs,
    )


def record_sandbox_batch(
    *,
    credential: CompanyCredential,
    interface: InterfaceSpec,
    records: Sequence[Any],
    wire_format: str = "json",
    request_id: str = "",
    checked: BatchResult | None = None,
    received_at: datetime | None = None,
) -> IngestResult:
    """Validate (unless ``checked`` is the validator's result already) and store one sandbox batch.

    Answers what the exchange ingest would answer (accepted / duplicates / rejected with per-field
    errors), so the HTTP response is the production one. ``received_at`` is for feeding recorded
    traffic in tests and the benchmark; uploads use the server's clock.
    """
    company = credential.company
    company_id = company.supervision_company_id
    if checked is None:
        checked = get_validator(interface).validate_batch(records)
    valid, rejected = _split_ownership(company_id, checked, records)
    received_at = received_at or timezone.now()
    cycle_id = open_cycle_id(company.pk)
    plan = plan_for(interface)
    code = interface.ipc_type_code
    time_kinds = dict(zip(plan.time_fields, plan.time_kinds, strict=True))

    def epoch_of(rec: Record) -> int | None:
        for name in plan.time_fields:
            v = rec.get(name)
            if type(v) is int:
                try:
                    return _date8_epoch(v) if time_kinds[name] is FieldKind.DATE else dt14_epoch(v)
                except (ValueError, OverflowError):
                    return None
        return None

    def version_of(rec: Record) -> str:
        for name in plan.time_fields:
            v = rec.get(name)
            if v is not None:
                return str(v)
        return ""

    sealer = personal_data.Sealer()
    personal = personal_data.for_interface(interface)
    personal_kinds = dict(personal.fields)

    def stored_record(rec: Record) -> Record:
        # As the exchange stores it (personal values as encrypt_field tokens), except that the
        # driver's licence number is its lookup_hash: grading joins orders to base data on it.
        out = sealer.seal(personal, rec) if personal.any else dict(rec)
        if "LicenseId" in personal_kinds and type(rec.get("LicenseId")) is str:
            out["LicenseId"] = sealer.hash(rec["LicenseId"])
        return json_safe(out)

    def stored_error(e: FieldError) -> dict[str, Any]:
        hint = fix_hint(interface, e.field, str(e.code), e.value, company_id=company_id)
        if e.field in personal_kinds:  # neither the value nor a message quoting it in plaintext
            value = sealer.token(e.value) if type(e.value) is str and e.value else json_safe(e.value)
            return {
                "field": e.field,
                "code": str(e.code),
                "message": e.code.description,
                "value": value,
                "hint": hint,
            }
        return {
            "field": e.field,
            "code": str(e.code),
            "message": json_safe(e.message),
            "value": json_safe(e.value),
            "hint": hint,
        }

    with transaction.atomic():
        batch = SandboxBatch.objects.create(
            company=company,
            credential=credential,
            cycle_id=cycle_id,
            interface=code,
            wire_format=wire_format,
            received=len(records),
            accepted=len(valid),  # corrected below if some were duplicates
            rejected=len(rejected),
            received_at=received_at,
            request_id=request_id[:64],
        )
        rows = [
            SandboxRecord(
                company_id=company.pk,
                cycle_id=cycle_id,
                batch_id=batch.pk,
                interface=code,
                position=idx,
                accepted=True,
                natural_key=f"{plan.stored_key(rec, sealer)}|{version_of(rec)}",
                event_epoch=epoch_of(rec),
                order_id=_text(rec.get("OrderId"), 64),
                license_id=sealer.hash(rec.get("LicenseId", "")),
                vehicle_no=_text(rec.get("VehicleNo"), 64),
                longitude=_int_or_none(rec.get("Longitude")),
                latitude=_int_or_none(rec.get("Latitude")),
                record=stored_record(rec),
            )
            for idx, rec in valid
        ]
        for err in rejected:
            raw = records[err.index] if err.index < len(records) else None
            rec = raw if type(raw) is dict else {}
            licence = rec.get("LicenseId")
            rows.append(
                SandboxRecord(
                    company_id=company.pk,
                    cycle_id=cycle_id,
                    batch_id=batch.pk,
                    interface=code,
                    position=err.index,
                    accepted=False,
                    event_epoch=None,
                    order_id=_text(rec.get("OrderId"), 64),
                    license_id=sealer.hash(licence) if type(licence) is str else "",
                    vehicle_no=_text(rec.get("VehicleNo"), 64),
                    longitude=_int_or_none(rec.get(_COORDINATES[0])),
                    latitude=_int_or_none(rec.get(_COORDINATES[1])),
                    record=json_safe(sealer.seal(personal, rec) if type(raw) is dict else {"_": raw}),
                    errors=[stored_error(e) for e in err.errors],
                )
            )
        if rows:
            SandboxRecord.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        if valid and cycle_id is not None:  # only records of a cycle are unique (per cycle)
            with connection.cursor() as cursor:
                cursor.execute(_COUNT_ACCEPTED_SQL, [batch.pk])
                inserted = int(cursor.fetchone()[0])
        else:
            inserted = len(valid)
        if inserted != len(valid):
            duplicates = len(valid) - inserted
            SandboxBatch.objects.filter(pk=batch.pk).update(accepted=inserted, duplicates=duplicates)
    return IngestResult(
        batch_id=batch.pk,
        interface=interface.type,
        received=len(records),
        accepted=inserted,
        duplicates=len(valid) - inserted,
        rejected=rejected,
    )
