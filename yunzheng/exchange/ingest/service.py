"""The ingest service: validate a batch, check ownership, store it durably, tell listeners.

``ingest_batch`` is the one write path of the exchange interface (the HTTP view, the tests and
the benchmark all go through it). Three routes:

* another environment's registered route (``batch_routes``: the conformance sandbox);
* log mode (``EXCHANGE_LOG_URL`` set): the accepted records are published to JetStream and the
  batch is acknowledged once the log acknowledged them (``yunzheng.exchange.log``); the log
  consumer later calls :func:`store_batch`;
* direct: :func:`store_batch` writes in one transaction that commits before the caller answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from psycopg import errors as psycopg_errors

from yunzheng.accounts.models import Company, CompanyCredential
from yunzheng.exchange import forwarding, hooks
from yunzheng.exchange.batch_routes import batch_route_for
from yunzheng.exchange.ingest.plans import Record, _event_epochs, plan_for
from yunzheng.exchange.ingest.result import IngestResult, check_ownership
from yunzheng.exchange.ingest.stats import _upsert_stats
from yunzheng.exchange.ingest.writers import WRITERS, DuplicatesFound, copy_mode
from yunzheng.exchange.log.settings import enabled as log_enabled
from yunzheng.exchange.models import EventRecord, IngestBatch, PositionRecord
from yunzheng.exchange.partitions import ensure_partitions
from yunzheng.exchange.spec import BatchResult, InterfaceSpec, RecordError, get_validator


def ingest_batch(
    *,
    credential: CompanyCredential,
    interface: InterfaceSpec,
    records: Sequence[Any],
    wire_format: str,
    request_id: str = "",
    validated: bool = False,
) -> IngestResult:
    """Validate, check ownership and store one batch; returns what the company is told.

    The envelope (CompanyId of the credential's company, IPCType) must already be checked.
    Returns only once the valid records are durable (committed, or acknowledged by the log);
    valid records are kept even when others are rejected. ``validated``: the caller already
    found every record valid and normalised (the JSON fast path, ``spec.fastjson``). In log mode raises
    ``yunzheng.exchange.log.LogUnavailable`` when the log did not acknowledge them.
    """
    company = credential.company
    checked = (
        BatchResult(accepted=list(enumerate(records)))
        if validated
        else get_validator(interface).validate_batch(records)
    )
    route = batch_route_for(credential.environment)
    if route is not None and log_enabled():
        # Log mode: the route's app is a consumer of the log too (``exchange_consume``); the
        # company is answered as production is, once the log acknowledged the batch.
        from yunzheng.exchange.log.publish import publish_routed

        valid, rejected = check_ownership(
            company.supervision_company_id, checked.accepted, checked.rejected, records
        )
        published = publish_routed(
            credential=credential,
            interface=interface,
            records=records,
            wire_format=wire_format,
            request_id=request_id,
            received_at=timezone.now(),
        )
        duplicates = len(valid) if published.duplicates else 0
        return IngestResult(
            batch_id=published.first_sequence,
            interface=interface.type,
            received=len(records),
            accepted=len(valid) - duplicates,
            duplicates=duplicates,
            rejected=rejected,
        )
    if route is not None:
        return route(
            credential=credential,
            interface=interface,
            records=records,
            wire_format=wire_format,
            request_id=request_id,
            checked=checked,
        )
    if credential.environment != CompanyCredential.Environment.PRODUCTION:
        # Never store test data as supervision data because a route is missing.
        raise ImproperlyConfigured(f"no batch route registered for {credential.environment!r} credentials")
    valid, rejected = check_ownership(
        company.supervision_company_id, checked.accepted, checked.rejected, records
    )
    received_at = timezone.now()

    if log_enabled():
        from yunzheng.exchange.log.publish import publish_batch  # imports nats-py: log mode only

        published = publish_batch(
            credential=credential,
            interface=interface,
            received=len(records),
            valid=valid,
            rejected=rejected,
            wire_format=wire_format,
            request_id=request_id,
            received_at=received_at,
        )
        # batch_id is the log's sequence number of the batch's first message in log mode.
        return IngestResult(
            batch_id=published.first_sequence,
            interface=interface.type,
            received=len(records),
            accepted=len(valid) - published.duplicates,
            duplicates=published.duplicates,
            rejected=rejected,
        )

    batch_id, inserted = store_batch(
        company=company,
        credential_id=credential.pk,
        environment=credential.environment,
        interface=interface,
        received=len(records),
        valid=valid,
        rejected=rejected,
        wire_format=wire_format,
        request_id=request_id,
        received_at=received_at,
    )
    notify_stored(
        company=company, interface=interface, valid=valid, batch_id=batch_id, received_at=received_at
    )
    return IngestResult(
        batch_id=batch_id,
        interface=interface.type,
        received=len(records),
        accepted=inserted,
        duplicates=len(valid) - inserted,
        rejected=rejected,
    )


def store_batch(
    *,
    company: Company,
    credential_id: int | None,
    environment: str,
    interface: InterfaceSpec,
    received: int,
    valid: list[Record],
    rejected: list[RecordError],
    wire_format: str,
    request_id: str,
    received_at: datetime,
    forward: bool = True,
    log_msg_id: str | None = None,
) -> tuple[int, int]:
    """Store validated records of one batch in one transaction (committed on return): the batch
    row, the records (idempotent on their natural key and version), the forwarding outbox
    (``forward``; production only) and the day's statistics. Returns (batch id, new records).

    Called by :func:`ingest_batch` (direct mode) and by the log consumer (log mode, with the
    message's ``log_msg_id``: unique, so a redelivered message is never stored twice).
    """
    plan = plan_for(interface)
    received_epoch = int(received_at.timestamp())

    epochs, months = _event_epochs(plan, valid)
    if plan.kind != "baseinfo" and valid:
        table = PositionRecord._meta.db_table if plan.kind == "position" else EventRecord._meta.db_table
        ensure_partitions(table, months)
    lags = [received_epoch - e for e in epochs]

    def write(staging: bool) -> tuple[int, int]:
        with transaction.atomic():
            # Counted as if every valid record is new (the usual case): one UPDATE fewer per
            # batch; corrected below when the writer found duplicates.
            batch_id = _insert_batch(
                company_id=company.pk,
                credential_id=credential_id,
                environment=environment,
                interface=interface.ipc_type_code,
                wire_format=wire_format,
                received=received,
                accepted=len(valid),
                rejected=len(rejected),
                received_at=received_at,
                request_id=request_id[:64],
                log_msg_id=log_msg_id,
            )
            inserted = 0
            if valid:
                writer = WRITERS[plan.kind]
                with copy_mode(staging=staging):
                    inserted = writer(plan, company, valid, epochs, received_at, batch_id)
                if inserted != len(valid):
                    IngestBatch.objects.filter(pk=batch_id).update(
                        accepted=inserted, duplicates=len(valid) - inserted
                    )
                if forward and environment == CompanyCredential.Environment.PRODUCTION:
                    forwarding.enqueue(
                        company=company,
                        interface=interface,
                        region_field=plan.region_field,
                        records=valid,
                        batch_id=batch_id,
                        now=received_at,
                    )
            _upsert_stats(
                company_id=company.pk,
                interface=interface.ipc_type_code,
                environment=environment,
                received_at=received_at,
                received=received,
                accepted=inserted,
                duplicates=len(valid) - inserted,
                rejected=rejected,
                lags=lags,
            )
        return batch_id, inserted

    return _with_retry(write)


def notify_stored(
    *,
    company: Company,
    interface: InterfaceSpec,
    valid: list[Record],
    batch_id: int | None,
    received_at: datetime,
) -> None:
    """Tell the records listeners (``hooks``) about records that are now durable."""
    if valid:
        # After the commit: listeners (alarms) see only durable records; none can fail the upload.
        hooks.notify_records(
            hooks.StoredBatch(
                company_pk=company.pk,
                supervision_company_id=company.supervision_company_id,
                company_region=company.region_code or "",
                interface=interface.type,
                records=valid,
                batch_id=batch_id,
                received_at=received_at,
            )
        )


_BATCH_COLUMNS = (
    "company_id",
    "credential_id",
    "environment",
    "interface",
    "wire_format",
    "received",
    "accepted",
    "duplicates",
    "rejected",
    "received_at",
    "request_id",
    "log_msg_id",
)
_BATCH_SQL = (
    f"INSERT INTO {IngestBatch._meta.db_table} ({', '.join(_BATCH_COLUMNS)}) "  # noqa: S608 - constants
    f"VALUES ({', '.join(['%s'] * len(_BATCH_COLUMNS))}) RETURNING id"
)


def _insert_batch(*, received_at: datetime, **values: Any) -> int:
    """The ``IngestBatch`` row in one statement (no model instance: this runs once per upload)."""
    values["duplicates"] = 0
    values["received_at"] = connection.ops.adapt_datetimefield_value(received_at)
    with connection.cursor() as cursor:
        cursor.execute(_BATCH_SQL, [values[c] for c in _BATCH_COLUMNS])
        row = cursor.fetchone()
    return int(row[0])


_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


def _with_retry(write: Callable[[bool], tuple[int, int]], attempts: int = 3) -> tuple[int, int]:
    """Run the ingest transaction, again if PostgreSQL chose it as a deadlock victim, and once more
    through the staging table if its direct COPY met an already stored record.

    Two concurrent batches that insert overlapping natural keys in different orders can deadlock
    on the unique index; the loser's transaction is rolled back whole, so running it again is safe
    (and idempotent). Outside an outer transaction only: inside one, the error must propagate
    (and there the writers COPY in a savepoint instead, see ``writers.copy_mode``).
    """
    staging = False
    deadlocks = 0
    while True:
        try:
            return write(staging)
        except DuplicatesFound:
            if staging:  # pragma: no cover - the staging path never raises it
                raise
            staging = True  # the transaction was rolled back whole; again, separating duplicates
        except (OperationalError, psycopg_errors.OperationalError) as exc:
            state = getattr(exc, "sqlstate", None) or getattr(exc.__cause__, "sqlstate", None)
            deadlocks += 1
            if state not in _RETRYABLE_SQLSTATES or deadlocks == attempts or connection.in_atomic_block:
                raise
