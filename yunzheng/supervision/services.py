"""Every write of the supervision analytics: licence history, reference data, facts, compliance.

* Licence history: ``licence_registry_import`` (CSV), ``licence_registry_sync`` (an adapter of a
  registry app), both through ``licence_periods_store``, which keeps ``LicenceInterval`` in step
  in the same transaction.
* ``compliance_compute(month=...)``: the monthly (re)computation - extract the month's completed
  orders, cancellations and complaints from the exchange tables into this app's facts, then
  classify every order against the licence intervals at its time and store the daily aggregates.
  Idempotent (delete and rebuild the month, for a region if asked, in one transaction) and
  set-based: one INSERT ... SELECT per table (see ``sql.py``), never a Python loop over orders.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company
from yunzheng.accounts.permissions import authorize
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.errors import PermissionDenied, ValidationFailed
from yunzheng.core.locks import advisory_xact_lock
from yunzheng.supervision import sql
from yunzheng.supervision.conf import app_settings
from yunzheng.supervision.error_codes import SupervisionErrorCode as Code
from yunzheng.supervision.imports import FileError, PeriodInput, RowError, parse_csv
from yunzheng.supervision.licences import PeriodFacts, day_start, intervals_for
from yunzheng.supervision.models import (
    ActivityDaily,
    CompanyCityLicence,
    ComplianceDaily,
    ComplianceRun,
    LicenceInterval,
    LicenceKind,
    LicencePeriod,
    LicenceSource,
    OrderFact,
    PlatformProfile,
)
from yunzheng.supervision.regions import prefix_range

SYSTEM = Actor.system("supervision")
_CHUNK = 500
# Any fixed 64-bit number: the PostgreSQL advisory lock that serialises this app's batch writes.
_ANALYTICS_LOCK_KEY = 0x5355505256495345  # "SUPRVISE"


def _lock_analytics() -> None:
    """Serialise the batch writes of facts, intervals and aggregates (extraction, licence
    changes, monthly computation): each deletes and re-inserts a range, and two of them
    interleaving would clash on the same keys. SQLite's IMMEDIATE transactions serialise anyway."""
    advisory_xact_lock(_ANALYTICS_LOCK_KEY)


# ---------------------------------------------------------------------------------------------
# months
# ---------------------------------------------------------------------------------------------


def month_start(value: date | str) -> date:
    """``date`` or "YYYY-MM" -> the first day of that month; ValidationFailed otherwise."""
    if isinstance(value, date):
        return value.replace(day=1)
    match = re.fullmatch(r"(\d{4})-?(\d{2})", str(value).strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise ValidationFailed.single(
            field="month", code=Code.MONTH_INVALID, message=_("Give the month as YYYY-MM.")
        )
    return date(int(match.group(1)), int(match.group(2)), 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def _check_prefix(region_prefix: str) -> str:
    prefix = (region_prefix or "").strip()
    if prefix and not (prefix.isdigit() and len(prefix) in (2, 4, 6)):
        raise ValidationFailed.single(
            field="region_prefix",
            code=Code.REGION_INVALID,
            message=_("A region prefix has 2 (province), 4 (city) or 6 digits."),
        )
    return prefix


# ---------------------------------------------------------------------------------------------
# licence history
# ---------------------------------------------------------------------------------------------


def trusted_sources() -> tuple[str, ...]:
    """Sources whose periods count (SUPERVISION_LICENCE_SOURCES; default: all four)."""
    configured = app_settings.SUPERVISION_LICENCE_SOURCES
    values = tuple(configured) if configured else tuple(LicenceSource.values)
    unknown = set(values) - set(LicenceSource.values)
    if unknown:
        raise ValueError(f"SUPERVISION_LICENCE_SOURCES: unknown source(s) {sorted(unknown)}")
    return values


@dataclass
class StoreReport:
    kind: str
    source: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    intervals: int = 0
    facts_reclassified: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "intervals": self.intervals,
            "facts_reclassified": self.facts_reclassified,
            "errors": len(self.errors),
        }


_PERIOD_FIELDS = (
    "identifier",
    "identifier_display",
    "certificate_no",
    "region_code",
    "valid_until",
    "status",
    "status_changed_at",
)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def licence_periods_store(
    *,
    kind: str,
    source: str,
    periods: Sequence[PeriodInput],
    actor: Actor,
    complete: bool = False,
    errors: Sequence[RowError] = (),
    now: datetime | None = None,
) -> StoreReport:
    """Create or update the given periods of one source (key: source, kind, reference, start).

    ``complete=True`` means the input is the source's whole register: periods of that source and
    kind that are not in it are removed (a registry adapter's full sync). Idempotent: storing the
    same input again changes nothing. The affected identifiers' intervals are rebuilt in the same
    transaction; one audit entry per call.
    """
    if kind not in LicenceKind.values or source not in LicenceSource.values:
        raise ValidationFailed.single(
            field="kind", code=Code.KIND_INVALID, message=_("Unknown licence kind.")
        )
    now = now or timezone.now()
    report = StoreReport(kind=kind, source=source, rows=len(periods), errors=list(errors))
    wanted = {(p.source_ref, p.valid_from): p for p in periods}
    affected: set[str] = set()
    with transaction.atomic():
        _lock_analytics()
        existing: dict[tuple[str, date], LicencePeriod] = {}
        base = LicencePeriod.objects.filter(source=source, kind=kind)
        if complete:
            for row in base.iterator(chunk_size=5000):
                existing[(row.source_ref, row.valid_from)] = row
        else:
            refs = sorted({p.source_ref for p in periods})
            for chunk in _chunks(refs):
                for row in base.filter(source_ref__in=chunk):
                    existing[(row.source_ref, row.valid_from)] = row
        new_rows: list[LicencePeriod] = []
        changed_rows: list[LicencePeriod] = []
        for key, p in wanted.items():
            found = existing.get(key)
            if found is None:
                new_rows.append(
                    LicencePeriod(
                        kind=kind,
                        source=source,
                        source_ref=p.source_ref,
                        valid_from=p.valid_from,
                        created_at=now,
                        updated_at=now,
                        **{name: getattr(p, name) for name in _PERIOD_FIELDS},
                    )
                )
                affected.add(p.identifier)
                continue
            row = found
            if all(getattr(row, name) == getattr(p, name) for name in _PERIOD_FIELDS):
                report.unchanged += 1
                continue
            affected.update((row.identifier, p.identifier))
            for name in _PERIOD_FIELDS:
                setattr(row, name, getattr(p, name))
            row.updated_at = now
            changed_rows.append(row)
        LicencePeriod.objects.bulk_create(new_rows, batch_size=2000)
        LicencePeriod.objects.bulk_update(changed_rows, [*_PERIOD_FIELDS, "updated_at"], batch_size=2000)
        report.created, report.updated = len(new_rows), len(changed_rows)
        if complete:
            gone = [row for key, row in existing.items() if key not in wanted]
            for chunk in _chunks([row.pk for row in gone]):
                LicencePeriod.objects.filter(pk__in=chunk).delete()
            affected.update(row.identifier for row in gone)
            report.removed = len(gone)
        if affected:
            identifiers = sorted(affected)
            report.intervals = licence_intervals_rebuild(kind=kind, identifiers=identifiers)
            report.facts_reclassified = order_facts_reclassify(kind=kind, identifiers=identifiers)
        record_audit(
            actor=actor,
            action="supervision.licences.store",
            target_type="supervision.LicencePeriod",
            target_id=f"{source}/{kind}",
            after=report.as_dict(),
        )
    return report


def licence_registry_import(
    *, kind: str, data: bytes, actor: Actor, now: datetime | None = None
) -> StoreReport:
    """Import a registry export (CSV, see ``imports.py``): valid rows are stored (idempotently),
    every invalid row is reported with its line, field and rule. Raises ValidationFailed when
    the file as a whole cannot be read."""
    try:
        parsed = parse_csv(kind, data)
    except FileError as exc:
        raise ValidationFailed.single(field="file", code=exc.code, message=exc.message) from exc
    return licence_periods_store(
        kind=kind,
        source=LicenceSource.CSV,
        periods=[p for _line, p in parsed.periods],
        errors=parsed.errors,
        actor=actor,
        now=now,
    )


def licence_registry_sync(*, kind: str, source: str, actor: Actor = SYSTEM) -> StoreReport:
    """Replace the periods of ``source`` with what its registry holds now (a full sync)."""
    from yunzheng.supervision.registries import adapter_for

    adapter = adapter_for(kind=kind, source=source)
    if adapter is None or not adapter.available():
        raise ValidationFailed.single(
            field="source", code=Code.REGISTRY_UNAVAILABLE, message=_("That registry is not available here.")
        )
    return licence_periods_store(
        kind=kind, source=source, periods=list(adapter.iter_periods()), actor=actor, complete=True
    )


_INTERVAL_COLUMNS = ("kind", "identifier", "state", "starts_at", "ends_at")


def _insert_intervals(rows: list[tuple[str, str, str, datetime, datetime]]) -> None:
    """Bulk insert: binary COPY on PostgreSQL, executemany elsewhere (no ORM objects: the
    registries hold hundreds of thousands of identifiers)."""
    if not rows:
        return
    table = LicenceInterval._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(
                f"COPY {table} ({', '.join(_INTERVAL_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["varchar", "varchar", "varchar", "timestamptz", "timestamptz"])
                for row in rows:
                    copy.write_row(row)
            return
        adapt = connection.ops.adapt_datetimefield_value
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(_INTERVAL_COLUMNS)}) VALUES (%s, %s, %s, %s, %s)",  # noqa: S608
            [(k, i, s, adapt(a), adapt(b)) for k, i, s, a, b in rows],
        )


def licence_intervals_rebuild(*, kind: str, identifiers: Sequence[str] | None = None) -> int:
    """Recompute the state intervals of ``identifiers`` (all of ``kind`` when None) from the
    periods of the trusted sources. Returns the number of intervals written."""
    sources = trusted_sources()
    written = 0
    columns = ("identifier", "valid_from", "valid_until", "status", "status_changed_at")
    with transaction.atomic():
        _lock_analytics()
        if identifiers is None:
            LicenceInterval.objects.filter(kind=kind).delete()
            batches: Iterable[Sequence[str] | None] = [None]
        else:
            batches = list(_chunks(list(identifiers)))
        for chunk in batches:
            periods = LicencePeriod.objects.filter(kind=kind, source__in=sources)
            if chunk is not None:
                LicenceInterval.objects.filter(kind=kind, identifier__in=chunk).delete()
                periods = periods.filter(identifier__in=chunk)
            rows = periods.order_by("identifier").values_list(*columns).iterator(chunk_size=20000)
            buffer: list[tuple[str, str, str, datetime, datetime]] = []
            for identifier, group in itertools.groupby(rows, key=lambda row: row[0]):
                facts = [
                    PeriodFacts(start, until, status, changed) for _i, start, until, status, changed in group
                ]
                buffer.extend(
                    (kind, identifier, i.state, i.starts_at, i.ends_at) for i in intervals_for(facts)
                )
                if len(buffer) >= 20000:
                    _insert_intervals(buffer)
                    written += len(buffer)
                    buffer = []
            _insert_intervals(buffer)
            written += len(buffer)
        if identifiers is None and connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fresh statistics for the classification joins
                cursor.execute(f"ANALYZE {LicenceInterval._meta.db_table}")
    return written


# ---------------------------------------------------------------------------------------------
# reference data
# ---------------------------------------------------------------------------------------------


def platform_profile_set(
    *, company: Company, display_name: str = "", is_aggregator: bool = False, actor: Actor
) -> PlatformProfile:
    """Name a platform for the bulletin and mark it as an aggregator (聚合平台) or not."""
    with transaction.atomic():
        profile, _created = PlatformProfile.objects.get_or_create(company=company)
        before = {"display_name": profile.display_name, "is_aggregator": profile.is_aggregator}
        profile.display_name = display_name.strip()[:100]
        profile.is_aggregator = is_aggregator
        profile.save()
        record_audit(
            actor=actor,
            action="supervision.platform.set",
            target_type="accounts.Company",
            target_id=company.pk,
            before=before,
            after={"display_name": profile.display_name, "is_aggregator": is_aggregator},
        )
    return profile


def company_city_licence_set(
    *,
    company: Company,
    city_code: str,
    valid_from: date,
    valid_until: date | None = None,
    source: str = CompanyCityLicence.Source.ADMIN,
    source_ref: str = "",
    actor: Actor,
) -> CompanyCityLicence:
    """Record that ``company`` may operate in ``city_code`` (an operating licence there)."""
    if not (len(city_code) == 6 and city_code.isdigit() and city_code.endswith("00")):
        raise ValidationFailed.single(
            field="city_code", code=Code.REGION_INVALID, message=_("A city code has 6 digits ending in 00.")
        )
    with transaction.atomic():
        row, _created = CompanyCityLicence.objects.update_or_create(
            company=company,
            city_code=city_code,
            source=source,
            source_ref=source_ref,
            defaults={"valid_from": valid_from, "valid_until": valid_until},
        )
        record_audit(
            actor=actor,
            action="supervision.city_licence.set",
            target_type="accounts.Company",
            target_id=company.pk,
            after={
                "city_code": city_code,
                "valid_from": valid_from,
                "valid_until": valid_until,
                "source": source,
            },
        )
    return row


def company_city_licences_sync(*, actor: Actor = SYSTEM) -> int:
    """Mirror the licensing app's operating licences (if that app is installed) into
    ``CompanyCityLicence``; returns how many are now recorded from that source."""
    from yunzheng.supervision.registries import operating_licences

    found = list(operating_licences())
    with transaction.atomic():
        keep: set[tuple[int, str, str]] = set()
        for item in found:
            CompanyCityLicence.objects.update_or_create(
                company_id=item.company_id,
                city_code=item.city_code,
                source=CompanyCityLicence.Source.LICENSING,
                source_ref=item.number,
                defaults={"valid_from": item.valid_from, "valid_until": item.valid_until},
            )
            keep.add((item.company_id, item.city_code, item.number))
        stale = [
            row.pk
            for row in CompanyCityLicence.objects.filter(source=CompanyCityLicence.Source.LICENSING)
            if (row.company_id, row.city_code, row.source_ref) not in keep
        ]
        CompanyCityLicence.objects.filter(pk__in=stale).delete()
        record_audit(
            actor=actor,
            action="supervision.city_licence.sync",
            target_type="supervision.CompanyCityLicence",
            after={"licences": len(found), "removed": len(stale)},
        )
    return len(found)


# ---------------------------------------------------------------------------------------------
# facts and compliance
# ---------------------------------------------------------------------------------------------

_WORK_MEM = re.compile(r"\d{1,6}(kB|MB|GB)")


def _tune_session() -> None:
    """PostgreSQL: enough memory for the hash joins and aggregation of a month (transaction only)."""
    if connection.vendor != "postgresql":
        return
    work_mem = str(app_settings.SUPERVISION_COMPUTE_WORK_MEM)
    if not _WORK_MEM.fullmatch(work_mem):
        raise ValueError("SUPERVISION_COMPUTE_WORK_MEM must look like 256MB")
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{work_mem}'")


def _range_params(region_prefix: str) -> list[int]:
    bounds = prefix_range(region_prefix)
    return list(bounds) if bounds else []


def order_facts_refresh(
    *, month: date | str | None = None, day: date | None = None, region_prefix: str = ""
) -> int:
    """Rebuild this app's facts of ``month`` (or of one ``day``) from the exchange tables:
    completed orders (``OrderFact``) and cancellations/complaints (``ActivityDaily``). Returns the
    number of orders of that period.

    Reads the period's ``operatePay``, ``orderCancel`` and ``ratedPassengerComplaint`` records
    (production data only: sandbox uploads never reach the exchange's tables). Run it for
    yesterday every night and ``compliance_compute(..., refresh_facts=False)`` needs no scan of
    the exchange tables at all.
    """
    if day is not None:
        first, last = day, day + timedelta(days=1)
    elif month is not None:
        first = month_start(month)
        last = next_month(first)
    else:
        raise ValueError("give a month or a day")
    prefix = _check_prefix(region_prefix)
    start, end = day_start(first), day_start(last)
    dialect = sql.dialect()
    ranged = _range_params(prefix)
    with transaction.atomic():
        _lock_analytics()
        _tune_session()
        facts = OrderFact.objects.filter(day__gte=first, day__lt=last)
        activity = ActivityDaily.objects.filter(day__gte=first, day__lt=last)
        if ranged:
            facts = facts.filter(city_code__range=ranged)
            activity = activity.filter(city_code__range=ranged)
        # No cascades or signals on these tables: Django issues one plain DELETE ... WHERE.
        facts.delete()
        activity.delete()
        with connection.cursor() as cursor:
            cursor.execute(sql.order_facts_insert(dialect, region_filter=bool(ranged)), [start, end, *ranged])
            cursor.execute(
                sql.activity_insert(dialect, region_filter=bool(ranged)), [start, end, start, end, *ranged]
            )
        _aggregate(first, last, ranged)
        return facts.count()


def _aggregate(first: date, last: date, ranged: list[int]) -> int:
    """Rebuild ComplianceDaily of the days [first, last) (in the city range) from the facts."""
    daily = ComplianceDaily.objects.filter(day__gte=first, day__lt=last)
    if ranged:
        daily = daily.filter(city_code__range=ranged)
    daily.delete()
    params: list[Any] = [first, last, *ranged]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(sql.compliance_insert(region_filter=bool(ranged)), params)
            return int(daily.aggregate(total=Sum("orders"))["total"] or 0)
        # PostgreSQL runs INSERT ... SELECT without parallel workers; a plain SELECT may use them.
        # The result is small (companies x cities x days x states), written back with COPY.
        cursor.execute(sql.compliance_select(region_filter=bool(ranged)), params)
        rows = cursor.fetchall()
        raw = cursor.cursor
        table = ComplianceDaily._meta.db_table
        with raw.copy(
            f"COPY {table} ({', '.join(sql.COMPLIANCE_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int8", "int4", "date", "varchar", "varchar", "int4"])
            for row in rows:
                copy.write_row(row)
    return sum(int(row[5]) for row in rows)


def _day_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days merged into [first, last) ranges."""
    out: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if out and out[-1][1] == day:
            out[-1] = (out[-1][0], day + timedelta(days=1))
        else:
            out.append((day, day + timedelta(days=1)))
    return out


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def order_facts_reclassify(*, kind: str, identifiers: Sequence[str]) -> int:
    """Bring the stored licence state of the facts of ``identifiers`` in line with their
    (just rebuilt) intervals, then the daily aggregates of the days that changed. Returns the
    number of facts whose state changed. Called by ``licence_periods_store``."""
    touched: set[date] = set()
    changed = 0
    with transaction.atomic():
        _lock_analytics()
        with connection.cursor() as cursor:
            for chunk in _chunks(list(identifiers)):
                cursor.execute(sql.reclassify_update(kind, len(chunk)), list(chunk))
                days = [_as_date(row[0]) for row in cursor.fetchall()]
                changed += len(days)
                touched.update(days)
        for first, last in _day_ranges(touched):
            _aggregate(first, last, [])
    return changed


@dataclass(frozen=True)
class ComputeResult:
    month: date
    region_prefix: str
    orders: int
    facts_ms: int
    compute_ms: int
    run_id: int


def compliance_compute(
    *,
    month: date | str,
    region_prefix: str = "",
    refresh_facts: bool = True,
    actor: Actor = SYSTEM,
    user: Any = None,
) -> ComputeResult:
    """(Re)compute the compliance of every completed order of ``month`` (in ``region_prefix``).

    ``user``: the staff member asking, checked against the permission table
    (`supervision.compute`); the prefix defaults to, and must stay within, their region. The
    scheduler and commands pass none and act as ``actor`` (the system).

    One transaction: re-extract the month's facts from the exchange tables, classifying every
    order against the licence intervals at its departure time (unless ``refresh_facts=False``:
    the facts were extracted night by night and are kept classified when licences change), then
    delete the month's ``ComplianceDaily`` rows and insert them again with one GROUP BY over the
    facts. Readers see the old month until the commit.
    """
    first = month_start(month)
    if user is not None:
        scope = authorize(user, "supervision.compute")
        region_prefix = region_prefix or scope.region_prefix
        if not region_prefix.startswith(scope.region_prefix):
            raise PermissionDenied(Code.OUT_OF_SCOPE, _("That region is outside your scope."))
        actor = Actor.for_user(user)
    prefix = _check_prefix(region_prefix)
    ranged = _range_params(prefix)
    with transaction.atomic():
        _lock_analytics()
        _tune_session()
        started = time.perf_counter()
        if refresh_facts:
            order_facts_refresh(month=first, region_prefix=prefix)
        facts_done = time.perf_counter()
        orders = _aggregate(first, next_month(first), ranged)
        done = time.perf_counter()
        run = ComplianceRun.objects.create(
            month=first,
            region_prefix=prefix,
            refreshed_facts=refresh_facts,
            orders=orders,
            facts_ms=int((facts_done - started) * 1000),
            compute_ms=int((done - facts_done) * 1000),
            finished_at=timezone.now(),
            actor_label=actor.label[:100],
        )
        record_audit(
            actor=actor,
            action="supervision.compliance.compute",
            target_type="supervision.ComplianceRun",
            target_id=run.pk,
            after={"month": first.isoformat()[:7], "region_prefix": prefix, "orders": orders},
        )
    return ComputeResult(
        month=first,
        region_prefix=prefix,
        orders=orders,
        facts_ms=run.facts_ms,
        compute_ms=run.compute_ms,
        run_id=run.pk,
    )


def export_record(*, actor: Actor, dataset: str, fmt: str, rows: int, filters: dict[str, Any]) -> None:
    """Audit a download of analytics data (who took which table, filtered how, how many rows)."""
    record_audit(
        actor=actor,
        action="supervision.export",
        target_type="supervision.dataset",
        target_id=dataset,
        after={"format": fmt, "rows": rows, "filters": filters},
    )


def days_of(month: date) -> list[date]:
    end = next_month(month)
    return [month + timedelta(days=i) for i in range((end - month).days)]
