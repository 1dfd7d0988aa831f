"""Ingest service: validate a batch, check ownership, store it durably and idempotently.

``ingest_batch`` is the one write path of the exchange interface (the HTTP view, the tests and
the benchmark's baseline all go through it). A batch is validated as a whole by the spec engine;
valid records are written in one transaction that commits before the caller answers, so an
acknowledgement always means "committed". Storage strategy (``EXCHANGE_INGEST_STRATEGY``):

* ``bulk`` (default): on PostgreSQL binary COPY into a temporary staging table, then one
  ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` into the partitioned target (its row count
  tells new records from duplicates); elsewhere one ``executemany`` of
  ``INSERT ... ON CONFLICT DO NOTHING``.
* ``naive``: one ORM ``create()`` per record (in a savepoint, an IntegrityError = duplicate). It
  exists as the benchmark's baseline only.

Idempotency key: (company, interface, natural key, version) - version is UpdateTime for base
information and the event time otherwise (see models.py).

Personal data (``personal_data.py``, ADR 0005): after validation, every row builder stores
personal key fields and the ``license_id`` columns as ``lookup_hash`` and personal values of the
stored JSON as ``encrypt_field`` tokens; nothing personal is written in plaintext.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import msgspec
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from psycopg import errors as psycopg_errors
from psycopg.types.json import set_json_dumps

from yunzheng.accounts.models import Company, CompanyCredential
from yunzheng.exchange import forwarding, personal_data
from yunzheng.exchange.models import (
    BaseInfoCurrent,
    BaseInfoRecord,
    EventRecord,
    IngestBatch,
    PositionRecord,
)
from yunzheng.exchange.partitions import ensure_partitions
from yunzheng.exchange.spec import ErrorCode, FieldError, FieldKind, InterfaceSpec, RecordError, get_validator
from yunzheng.exchange.spec.validation import BEIJING

Record = dict[str, Any]

BULK = "bulk"
NAIVE = "naive"

#: The time that versions an event record (first field present wins). Base information uses
#: UpdateTime, positions PositionTime.
EVENT_TIME_FIELDS: dict[str, tuple[str, ...]] = {
    "orderCreate": ("OrderTime",),
    "orderMatch": ("DistributeTime",),
    "orderCancel": ("CancelTime",),
    "operateLogin": ("LoginTime",),
    "operateLogout": ("LogoutTime",),
    "operateDepart": ("DepTime",),
    "operateArrive": ("DestTime",),
    "operatePay": ("PayTime", "DestTime"),
    "ratedPassenger": ("EvaluateTime",),
    "ratedPassengerComplaint": ("ComplaintTime",),
    "ratedDriverPunish": ("PunishTime",),
    "ratedDriver": ("TestDate",),
    "shareRoute": ("RouteCreateTime",),
    "shareOrder": ("OrderEnsureTime",),
    "sharePay": ("PayTime", "DestTime"),
}


@dataclass
class IngestResult:
    batch_id: int | None
    interface: str
    received: int
    accepted: int
    duplicates: int
    rejected: list[RecordError] = field(default_factory=list)

    @property
    def result(self) -> str:
        if not self.rejected:
            return "ok"
        return "partial" if self.accepted + self.duplicates else "rejected"

    def to_dict(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "batch_id": self.batch_id,
            "interface": self.interface,
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [
                {
                    "index": r.index,
                    "errors": [
                        {"field": e.field, "code": str(e.code), "message": e.message} for e in r.errors
                    ],
                }
                for r in self.rejected
            ],
        }


# ---------------------------------------------------------------------------------------------
# time helpers: YYYYMMDDhhmmss / YYYYMMDD (Beijing time) -> unix seconds, memoised per day
# ---------------------------------------------------------------------------------------------

_DAY_EPOCH: dict[int, int] = {}


def _day_epoch(date8: int) -> int:
    e = _DAY_EPOCH.get(date8)
    if e is None:
        y, md = divmod(date8, 10000)
        m, d = divmod(md, 100)
        e = calendar.timegm((y, m, d, 0, 0, 0)) - 8 * 3600
        if len(_DAY_EPOCH) > 20000:
            _DAY_EPOCH.clear()
        _DAY_EPOCH[date8] = e
    return e


def dt14_epoch(v: int) -> int:
    """YYYYMMDDhhmmss in Beijing time -> unix seconds (the validator guarantees a real time)."""
    d8, hms = divmod(v, 1_000_000)
    h, ms = divmod(hms, 10_000)
    mi, s = divmod(ms, 100)
    return _day_epoch(d8) + h * 3600 + mi * 60 + s


def _epoch_of(value: int, kind: FieldKind) -> int:
    return _day_epoch(value) if kind is FieldKind.DATE else dt14_epoch(value)


def _month_of(value: int, kind: FieldKind) -> int:
    return value // 100 if kind is FieldKind.DATE else value // 100_000_000


def _aware(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _event_epochs(plan: _Plan, records: list[Record]) -> tuple[list[int], set[int]]:
    """Event times of the records as unix seconds, and the months (YYYYMM) they fall in.

    Memoised per batch: the records of one batch share a handful of distinct times.
    """
    memo: dict[int, int] = {}
    epochs: list[int] = []
    append = epochs.append
    if len(plan.time_fields) == 1:
        name = plan.time_fields[0]
        kind = plan.time_kinds[0]
        for rec in records:
            v = rec[name]
            e = memo.get(v)
            if e is None:
                e = memo[v] = _epoch_of(v, kind)
            append(e)
        return epochs, {_month_of(v, kind) for v in memo}
    months: set[int] = set()
    for rec in records:
        v, kind = plan.event_time_value(rec)
        e = memo.get(v)
        if e is None:
            e = memo[v] = _epoch_of(v, kind)
            months.add(_month_of(v, kind))
        append(e)
    return epochs, months


# ---------------------------------------------------------------------------------------------
# per-interface plans
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    interface: InterfaceSpec
    kind: str  # "position" | "event" | "baseinfo"
    time_fields: tuple[str, ...]
    time_kinds: tuple[FieldKind, ...]
    key_fields: tuple[str, ...]  # natural key without CompanyId
    region_field: str | None
    # Personal data (personal_data.py): stored as lookup_hash in the natural key, as tokens in
    # the stored JSON record.
    personal: personal_data.InterfacePersonalData | None = None

    def event_time_value(self, rec: Record) -> tuple[int, FieldKind]:
        for name, kind in zip(self.time_fields, self.time_kinds, strict=True):
            v = rec.get(name)
            if v is not None:
                return v, kind
        raise KeyError(self.time_fields[0])  # pragma: no cover - required fields guarantee one

    def natural_key(self, rec: Record) -> str:
        if not self.key_fields:
            return str(rec["CompanyId"])
        if len(self.key_fields) == 1:
            return str(rec[self.key_fields[0]])
        return "|".join(str(rec[f]).replace("\\", "\\\\").replace("|", "\\|") for f in self.key_fields)

    def stored_key(self, rec: Record, sealer: personal_data.Sealer) -> str:
        """The natural key as stored: personal key fields (LicenseId, PassengerPhone) hashed."""
        hashed = self.personal.key_fields if self.personal else ()
        if not hashed:
            return self.natural_key(rec)
        return self.natural_key({**rec, **{f: sealer.hash(rec[f]) for f in hashed}})

    def stored_record(self, rec: Record, sealer: personal_data.Sealer) -> Record:
        """The record as stored in JSON: personal values as encrypt_field tokens."""
        return sealer.seal(self.personal, rec) if self.personal and self.personal.any else rec


_PLANS: dict[str, _Plan] = {}


def plan_for(interface: InterfaceSpec) -> _Plan:
    plan = _PLANS.get(interface.type)
    if plan is None:
        times: tuple[str, ...]
        if interface.category == "position":
            kind, times = "position", ("PositionTime",)
        elif interface.version_field:
            kind, times = "baseinfo", (interface.version_field,)
        else:
            kind, times = "event", EVENT_TIME_FIELDS[interface.type]
        region = next((f.name for f in interface.fields if f.region_code), None)
        plan = _Plan(
            interface=interface,
            kind=kind,
            time_fields=times,
            time_kinds=tuple(
                FieldKind.DATE if interface.field_map[t].kind is FieldKind.DATE else FieldKind.DATETIME
                for t in times
            ),
            key_fields=tuple(f for f in interface.natural_key if f != "CompanyId"),
            region_field=region,
            personal=personal_data.for_interface(interface.type),
        )
        _PLANS[interface.type] = plan
    return plan


# ---------------------------------------------------------------------------------------------
# the service
# ---------------------------------------------------------------------------------------------


def ingest_strategy() -> str:
    strategy = str(getattr(settings, "EXCHANGE_INGEST_STRATEGY", BULK))
    if strategy not in (BULK, NAIVE):
        raise ValueError(f"EXCHANGE_INGEST_STRATEGY must be 'bulk' or 'naive', not {strategy!r}")
    return strategy


def check_ownership(
    company_id: str, accepted: list[tuple[int, Record]], rejected: list[RecordError], records: Sequence[Any]
) -> tuple[list[Record], list[RecordError]]:
    """Split valid records into ours and others' (rejected with ``CompanyId``/``company_mismatch``)."""
    if all(rec["CompanyId"] == company_id for _, rec in accepted):
        valid = [rec for _, rec in accepted]
    else:
        valid = []
        for idx, rec in accepted:
            if rec["CompanyId"] == company_id:
                valid.append(rec)
            else:
                rejected.append(RecordError(idx, [_mismatch(rec["CompanyId"], company_id)]))
        rejected.sort(key=lambda r: r.index)
    for err in rejected:
        raw = records[err.index] if err.index < len(records) else None
        theirs = raw.get("CompanyId") if type(raw) is dict else None
        if type(theirs) is str and theirs != company_id and all(e.field != "CompanyId" for e in err.errors):
            err.errors.append(_mismatch(theirs, company_id))
    return valid, rejected


def _mismatch(theirs: Any, ours: str) -> FieldError:
    return FieldError(
        "CompanyId",
        ErrorCode.COMPANY_MISMATCH,
        f"CompanyId {theirs!r} is not the uploading company's {ours!r}",
        theirs,
    )


def ingest_batch(
    *,
    credential: CompanyCredential,
    interface: InterfaceSpec,
    records: Sequence[Any],
    wire_format: str,
    request_id: str = "",
    strategy: str | None = None,
) -> IngestResult:
    """Validate, check ownership and store one batch; returns what the company is told.

    The envelope (CompanyId of the credential's company, IPCType) must already be checked.
    Commits before returning. Valid records are stored even when others are rejected.
    """
    company = credential.company
    company_id = company.supervision_company_id
    checked = get_validator(interface).validate_batch(records)
    if credential.environment == CompanyCredential.Environment.SANDBOX:
        # Sandbox uploads are graded by the conformance tests, never stored as supervision data:
        # same decoding and validation, same answer, but no exchange tables, statistics or
        # forwarding (docs/adr/0040-conformance-sandbox-and-grading.md). Imported here: the
        # conformance app builds on the exchange, not the other way round.
        from yunzheng.conformance.sandbox import record_sandbox_batch

        return record_sandbox_batch(
            credential=credential,
            interface=interface,
            records=records,
            wire_format=wire_format,
            request_id=request_id,
            checked=checked,
        )
    valid, rejected = check_ownership(company_id, checked.accepted, checked.rejected, records)
    plan = plan_for(interface)
    strategy = strategy or ingest_strategy()
    received_at = timezone.now()
    received_epoch = int(received_at.timestamp())

    epochs, months = _event_epochs(plan, valid)
    if plan.kind != "baseinfo" and valid:
        table = PositionRecord._meta.db_table if plan.kind == "position" else EventRecord._meta.db_table
        ensure_partitions(table, months)
    lags = [received_epoch - e for e in epochs]

    def write() -> tuple[int, int]:
        with transaction.atomic():
            batch = IngestBatch.objects.create(
                company=company,
                credential=credential,
                environment=credential.environment,
                interface=interface.ipc_type_code,
                wire_format=wire_format,
                received=len(records),
                rejected=len(rejected),
                received_at=received_at,
                request_id=request_id[:64],
            )
            inserted = 0
            if valid:
                writer = _WRITERS[(plan.kind, strategy)]
                inserted = writer(plan, company, valid, epochs, received_at, batch.pk)
                IngestBatch.objects.filter(pk=batch.pk).update(
                    accepted=inserted, duplicates=len(valid) - inserted
                )
                if credential.environment == CompanyCredential.Environment.PRODUCTION:
                    forwarding.enqueue(
                        company=company,
                        interface=interface,
                        region_field=plan.region_field,
                        records=valid,
                        batch_id=batch.pk,
                        now=received_at,
                    )
            _upsert_stats(
                company_id=company.pk,
                interface=interface.ipc_type_code,
                environment=credential.environment,
                received_at=received_at,
                received=len(records),
                accepted=inserted,
                duplicates=len(valid) - inserted,
                rejected=rejected,
                lags=lags,
            )
        return batch.pk, inserted

    batch_id, inserted = _with_retry(write)
    return IngestResult(
        batch_id=batch_id,
        interface=interface.type,
        received=len(records),
        accepted=inserted,
        duplicates=len(valid) - inserted,
        rejected=rejected,
    )


_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


def _with_retry(write: Callable[[], tuple[int, int]], attempts: int = 3) -> tuple[int, int]:
    """Run the ingest transaction, again if PostgreSQL chose it as a deadlock victim.

    Two concurrent batches that insert overlapping natural keys in different orders can deadlock
    on the unique index; the loser's transaction is rolled back whole, so running it again is safe
    (and idempotent). Outside an outer transaction only: inside one, the error must propagate.
    """
    for attempt in range(attempts):
        try:
            return write()
        except (OperationalError, psycopg_errors.OperationalError) as exc:
            state = getattr(exc, "sqlstate", None) or getattr(exc.__cause__, "sqlstate", None)
            if state not in _RETRYABLE_SQLSTATES or attempt == attempts - 1 or connection.in_atomic_block:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------------------------
# row builders
# ---------------------------------------------------------------------------------------------

POSITION_COLUMNS = (
    "company_id",
    "interface",
    "vehicle_no",
    "license_id",
    "position_time",
    "longitude",
    "latitude",
    "speed",
    "direction",
    "elevation",
    "mileage",
    "encrypt",
    "warn_status",
    "veh_status",
    "biz_status",
    "order_id",
    "region_code",
    "reserved",
    "received_at",
    "batch_id",
)
_POSITION_PG_TYPES = [
    "int8",
    "int2",
    "text",
    "text",
    "timestamptz",
    "int8",
    "int8",
    "int8",
    "int4",
    "int4",
    "float8",
    "int8",
    "int8",
    "int8",
    "int8",
    "text",
    "int4",
    "text",
    "timestamptz",
    "int8",
]

EVENT_COLUMNS = (
    "company_id",
    "interface",
    "natural_key",
    "event_time",
    "order_id",
    "license_id",
    "vehicle_no",
    "region_code",
    "payload",
    "received_at",
    "batch_id",
)
_EVENT_PG_TYPES = [
    "int8",
    "int2",
    "text",
    "timestamptz",
    "text",
    "text",
    "text",
    "int4",
    "jsonb",
    "timestamptz",
    "int8",
]


def _position_rows(
    plan: _Plan, company: Company, records: list[Record], times: list[Any], received: Any, batch_id: int
) -> list[tuple]:
    """Rows in POSITION_COLUMNS order; ``times``/``received`` already in the driver's form.

    positionDriver's LicenseId (an ID number) is stored as its lookup_hash; positionVehicle
    carries no personal data and takes no extra step.
    """
    cid = company.pk
    code = plan.interface.ipc_type_code
    region = plan.region_field or ""
    driver = plan.interface.type == "positionDriver"
    licence = personal_data.Sealer().hash
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for rec, when in zip(records, times, strict=True):
        g = rec.get
        append(
            (
                cid,
                code,
                rec["VehicleNo"],
                licence(rec["LicenseId"]) if driver else "",
                when,
                rec["Longitude"],
                rec["Latitude"],
                g("Speed"),
                g("Direction"),
                g("Elevation"),
                g("Mileage"),
                g("Encrypt"),
                g("WarnStatus"),
                g("VehStatus"),
                g("BizStatus"),
                rec["OrderId"],
                rec[region],
                g("Reserved") or "",
                received,
                batch_id,
            )
        )
    return rows


_encode_json = msgspec.json.Encoder().encode


def _event_rows(
    plan: _Plan,
    company: Company,
    records: list[Record],
    times: list[Any],
    received: Any,
    batch_id: int,
    *,
    payload_as_text: bool,
) -> list[tuple]:
    """Rows in EVENT_COLUMNS order: natural key and license_id with personal values hashed, the
    record (payload) with personal values as tokens."""
    cid = company.pk
    code = plan.interface.ipc_type_code
    region = plan.region_field
    sealer = personal_data.Sealer()
    key = plan.stored_key
    stored = plan.stored_record
    licence = sealer.hash
    return [
        (
            cid,
            code,
            key(rec, sealer),
            when,
            rec.get("OrderId", ""),
            licence(rec.get("LicenseId", "")),
            rec.get("VehicleNo", ""),
            rec.get(region) if region else None,
            _encode_json(stored(rec, sealer)).decode() if payload_as_text else stored(rec, sealer),
            received,
            batch_id,
        )
        for rec, when in zip(records, times, strict=True)
    ]


def _datetimes(epochs: list[int]) -> list[datetime]:
    memo: dict[int, datetime] = {}
    out = []
    for e in epochs:
        d = memo.get(e)
        if d is None:
            d = memo[e] = _aware(e)
        out.append(d)
    return out


def _adapted_datetimes(epochs: list[int]) -> list[Any]:
    adapt = connection.ops.adapt_datetimefield_value
    memo: dict[int, Any] = {}
    out = []
    for e in epochs:
        d = memo.get(e)
        if d is None:
            d = memo[e] = adapt(_aware(e))
        out.append(d)
    return out


# ---------------------------------------------------------------------------------------------
# bulk writers
# ---------------------------------------------------------------------------------------------


def _pg_copy_rows(
    cursor: Any, table: str, columns: Sequence[str], types: list[str], rows: list[tuple]
) -> None:
    raw = cursor.cursor  # the psycopg cursor under Django's wrapper
    set_json_dumps(_encode_json, context=raw)  # jsonb payloads: msgspec, not the stdlib json
    with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        write = copy.write_row
        for row in rows:
            write(row)


def _pg_copy_insert(
    *, target: str, stage: str, columns: Sequence[str], types: list[str], rows: list[tuple]
) -> int:
    """PostgreSQL: binary COPY straight into the partitioned table, in a savepoint.

    Duplicates are rare (a company re-sending after a lost acknowledgement), so the fast path
    assumes none: if the COPY hits a unique violation, the savepoint is rolled back and the batch
    goes through a temporary staging table and ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``,
    whose row count tells new records from duplicates.
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _pg_copy_rows(cursor, target, columns, types, rows)
        return len(rows)
    except (IntegrityError, psycopg_errors.UniqueViolation):
        pass
    cols = ", ".join(columns)
    stage_cols = ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ({stage_cols}) ON COMMIT DELETE ROWS")
        cursor.execute(f"TRUNCATE {stage}")  # rows of an earlier batch in the same outer transaction
        _pg_copy_rows(cursor, stage, columns, types, rows)
        cursor.execute(  # table and column names are constants of this module
            f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT DO NOTHING"  # noqa: S608
        )
        inserted: int = cursor.rowcount
    return inserted


def _executemany_insert(*, target: str, columns: Sequence[str], rows: list[tuple]) -> int:
    """Portable path (SQLite): one executemany of INSERT ... ON CONFLICT DO NOTHING."""
    placeholders = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {target} ({', '.join(columns)}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",  # noqa: S608
            rows,
        )
        inserted: int = cursor.rowcount
    return inserted


def _write_positions_bulk(
    plan: _Plan,
    company: Company,
    records: list[Record],
    epochs: list[int],
    received_at: datetime,
    batch_id: int,
) -> int:
    target = PositionRecord._meta.db_table
    if connection.vendor == "postgresql":
        rows = _position_rows(plan, company, records, _datetimes(epochs), received_at, batch_id)
        return _pg_copy_insert(
            target=target,
            stage="yz_stage_position",
            columns=POSITION_COLUMNS,
            types=_POSITION_PG_TYPES,
            rows=rows,
        )
    received = connection.ops.adapt_datetimefield_value(received_at)
    rows = _position_rows(plan, company, records, _adapted_datetimes(epochs), received, batch_id)
    return _executemany_insert(target=target, columns=POSITION_COLUMNS, rows=rows)


def _write_events_bulk(
    plan: _Plan,
    company: Company,
    records: list[Record],
    epochs: list[int],
    received_at: datetime,
    batch_id: int,
) -> int:
    target = EventRecord._meta.db_table
    if connection.vendor == "postgresql":
        rows = _event_rows(
            plan, company, records, _datetimes(epochs), received_at, batch_id, payload_as_text=False
        )
        return _pg_copy_insert(
            target=target, stage="yz_stage_event", columns=EVENT_COLUMNS, types=_EVENT_PG_TYPES, rows=rows
        )
    received = connection.ops.adapt_datetimefield_value(received_at)
    rows = _event_rows(
        plan, company, records, _adapted_datetimes(epochs), received, batch_id, payload_as_text=True
    )
    return _executemany_insert(target=target, columns=EVENT_COLUMNS, rows=rows)


_BASEINFO_HISTORY_SQL = (
    "INSERT INTO exchange_baseinforecord "
    "(company_id, interface, natural_key, flag, update_time, region_code, payload, received_at, batch_id) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)
# An older UpdateTime never overwrites a newer one; an equal one is a re-send (no change).
_BASEINFO_CURRENT_SQL = (
    "INSERT INTO exchange_baseinfocurrent "
    "(company_id, interface, natural_key, flag, deleted, update_time, region_code, payload, "
    "received_at, batch_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (company_id, interface, natural_key) DO UPDATE SET "
    "flag = excluded.flag, deleted = excluded.deleted, update_time = excluded.update_time, "
    "region_code = excluded.region_code, payload = excluded.payload, "
    "received_at = excluded.received_at, batch_id = excluded.batch_id "
    "WHERE excluded.update_time > exchange_baseinfocurrent.update_time"
)


def _write_baseinfo_bulk(
    plan: _Plan,
    company: Company,
    records: list[Record],
    epochs: list[int],
    received_at: datetime,
    batch_id: int,
) -> int:
    """History rows (ON CONFLICT DO NOTHING) and the current version per natural key.

    Base information is low-volume (a company has thousands of vehicles, not millions), so the
    portable executemany path serves both databases.
    """
    ops = connection.ops
    code = plan.interface.ipc_type_code
    region = plan.region_field
    received = ops.adapt_datetimefield_value(received_at)
    sealer = personal_data.Sealer()
    history = []
    latest: dict[str, tuple[int, tuple]] = {}
    for rec, epoch in zip(records, epochs, strict=True):
        key = plan.stored_key(rec, sealer)
        when = ops.adapt_datetimefield_value(_aware(epoch))
        payload = _encode_json(plan.stored_record(rec, sealer)).decode()
        reg = rec.get(region) if region else None
        flag = rec["Flag"]
        history.append((company.pk, code, key, flag, when, reg, payload, received, batch_id))
        prev = latest.get(key)
        if prev is None or epoch >= prev[0]:  # within a batch, the last of equal versions wins
            latest[key] = (
                epoch,
                (company.pk, code, key, flag, flag == 3, when, reg, payload, received, batch_id),
            )
    with connection.cursor() as cursor:
        cursor.executemany(_BASEINFO_HISTORY_SQL, history)
        inserted: int = cursor.rowcount
        cursor.executemany(_BASEINFO_CURRENT_SQL, [row for _, row in sorted(latest.values())])
    return inserted


# ---------------------------------------------------------------------------------------------
# naive writers (benchmark baseline): one ORM insert per record
# ---------------------------------------------------------------------------------------------


def _naive_create(model: type, fields: dict[str, Any]) -> bool:
    try:
        with transaction.atomic():
            model.objects.create(**fields)  # type: ignore[attr-defined]
    except IntegrityError:
        return False
    return True


def _write_positions_naive(
    plan: _Plan,
    company: Company,
    records: list[Record],
    epochs: list[int],
    received_at: datetime,
    batch_id: int,
) -> int:
    rows = _position_rows(plan, company, records, _datetimes(epochs), received_at, batch_id)
    inserted = 0
    for row in rows:
        inserted += _naive_create(PositionRecord, dict(zip(POSITION_COLUMNS, row, strict=True)))
    return inserted


def _write_events_naive(
    plan: _Plan,
    company: Company,
    records: list[Record],
    epochs: list[int],
    received_at: datetime,
    batch_id: int,
) -> int:
    rows = _event_rows(
        plan, company, records, _datetimes(epochs), received_at, batch_id, payload_as_text=False
    )
    inserted = 0
    for row in rows:
        inserted += _naive_create(EventRecord, dict(zip(EVENT_COLUMNS, row, strict=True)))
    return inserted


def _write_baseinfo_naive(
    plan: _Plan,
    company: Company,
    records: list[Record],
    epochs: list[int],
    received_at: datetime,
    batch_id: int,
) -> int:
    inserted = 0
    code = plan.interface.ipc_type_code
    sealer = personal_data.Sealer()
    for rec, epoch in zip(records, epochs, strict=True):
        key = plan.stored_key(rec, sealer)
        common = {
            "company": company,
            "interface": code,
            "natural_key": key,
            "flag": rec["Flag"],
            "update_time": _aware(epoch),
            "region_code": rec.get(plan.region_field) if plan.region_field else None,
            "payload": plan.stored_record(rec, sealer),
            "received_at": received_at,
            "batch_id": batch_id,
        }
        if not _naive_create(BaseInfoRecord, common):
            continue
        inserted += 1
        current = BaseInfoCurrent.objects.filter(company=company, interface=code, natural_key=key).first()
        if current is None:
            BaseInfoCurrent.objects.create(deleted=rec["Flag"] == 3, **common)
        elif current.update_time < common["update_time"]:
            for name, value in common.items():
                setattr(current, name, value)
            current.deleted = rec["Flag"] == 3
            current.save()
    return inserted


_Writer = Callable[[_Plan, Company, list[Record], list[int], datetime, int], int]
_WRITERS: dict[tuple[str, str], _Writer] = {
    ("position", BULK): _write_positions_bulk,
    ("event", BULK): _write_events_bulk,
    ("baseinfo", BULK): _write_baseinfo_bulk,
    ("position", NAIVE): _write_positions_naive,
    ("event", NAIVE): _write_events_naive,
    ("baseinfo", NAIVE): _write_baseinfo_naive,
}


# ---------------------------------------------------------------------------------------------
# statistics: one upsert per batch (plus one per rejected field/rule)
# ---------------------------------------------------------------------------------------------

_UPLOAD_STAT_SQL = (
    "INSERT INTO exchange_uploadstat (company_id, interface, environment, day, batches, received, "
    "accepted, duplicates, rejected, last_received_at, lag_count, lag_sum_seconds, lag_max_seconds) "
    "VALUES (%s, %s, %s, %s, 1, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (company_id, interface, environment, day) DO UPDATE SET "
    "batches = exchange_uploadstat.batches + 1, "
    "received = exchange_uploadstat.received + excluded.received, "
    "accepted = exchange_uploadstat.accepted + excluded.accepted, "
    "duplicates = exchange_uploadstat.duplicates + excluded.duplicates, "
    "rejected = exchange_uploadstat.rejected + excluded.rejected, "
    "last_received_at = CASE WHEN excluded.last_received_at > exchange_uploadstat.last_received_at "
    "THEN excluded.last_received_at ELSE exchange_uploadstat.last_received_at END, "
    "lag_count = exchange_uploadstat.lag_count + excluded.lag_count, "
    "lag_sum_seconds = exchange_uploadstat.lag_sum_seconds + excluded.lag_sum_seconds, "
    "lag_max_seconds = CASE WHEN excluded.lag_max_seconds > exchange_uploadstat.lag_max_seconds "
    "THEN excluded.lag_max_seconds ELSE exchange_uploadstat.lag_max_seconds END"
)
_REJECT_STAT_SQL = (
    "INSERT INTO exchange_rejectstat (company_id, interface, environment, day, field, code, count) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (company_id, interface, environment, day, field, code) DO UPDATE SET "
    "count = exchange_rejectstat.count + excluded.count"
)


def _upsert_stats(
    *,
    company_id: int,
    interface: int,
    environment: str,
    received_at: datetime,
    received: int,
    accepted: int,
    duplicates: int,
    rejected: list[RecordError],
    lags: list[int],
) -> None:
    ops = connection.ops
    day: date = received_at.astimezone(BEIJING).date()
    day_param = ops.adapt_datefield_value(day)
    by_rule = Counter((e.field[:64], str(e.code)) for r in rejected for e in r.errors)
    with connection.cursor() as cursor:
        if by_rule:
            # Sorted, so that concurrent batches lock the same rows in the same order.
            cursor.executemany(
                _REJECT_STAT_SQL,
                [
                    (company_id, interface, environment, day_param, f, c, n)
                    for (f, c), n in sorted(by_rule.items())
                ],
            )
        # Last statement of the transaction: the row lock on the day's counter is held only
        # until the commit that follows.
        cursor.execute(
            _UPLOAD_STAT_SQL,
            [
                company_id,
                interface,
                environment,
                day_param,
                received,
                accepted,
                duplicates,
                len(rejected),
                ops.adapt_datetimefield_value(received_at),
                len(lags),
                sum(lags),
                max(lags, default=0),
            ],
        )
