"""The set-based SQL of the supervision analytics, for PostgreSQL and SQLite.

Private to this app: ``services`` (writes) and ``selectors`` (drill-down) call the builders here
so that the aggregates and the drill-down classify orders with the very same SQL.

Dialect differences are confined to :class:`Dialect`: JSON field access, parsing the exchange's
``YYYYMMDDhhmmss`` (Beijing time) integers, and the Beijing date of a timestamp. PostgreSQL keeps
timestamps as ``timestamptz``; Django stores them on SQLite as UTC text ``YYYY-MM-DD HH:MM:SS``,
which compares correctly as text.
"""

# The statements are f-strings of this module's constants (table names, interface codes, SQL
# fragments); every value arrives as a query parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from yunzheng.accounts.models import Company
from yunzheng.exchange.models import EventRecord
from yunzheng.exchange.spec import get_spec
from yunzheng.supervision.models import ActivityDaily, ComplianceDaily, LicenceInterval, OrderFact

# Bits of OrderFact.flags (implausible records, for the data-quality checks).
FLAG_ZERO_DURATION = 1  # DriveTime 0 or arrival at the departure time
FLAG_SUB_KM_PAID = 2  # paid trip shorter than 1 km
FLAG_EPOCH_TIME = 4  # a time before 2000 (typically 1970: a zero unix timestamp)
FLAG_OUT_OF_ORDER = 8  # match after departure, arrival before departure, payment before arrival

FLAGS = {
    "zero_duration": FLAG_ZERO_DURATION,
    "sub_km_paid": FLAG_SUB_KM_PAID,
    "epoch_time": FLAG_EPOCH_TIME,
    "out_of_order": FLAG_OUT_OF_ORDER,
}

_EARLIEST = 20000101000000  # YYYYMMDDhhmmss


def ipc(name: str) -> int:
    return get_spec().interface(name).ipc_type_code


@dataclass(frozen=True)
class Dialect:
    postgres: bool

    def field(self, name: str) -> str:
        """A payload field as a number (NULL when absent)."""
        if self.postgres:
            return f"(e.payload->>'{name}')::numeric"
        return f"json_extract(e.payload, '$.{name}')"

    def text_field(self, name: str) -> str:
        if self.postgres:
            return f"(e.payload->>'{name}')"
        return f"CAST(json_extract(e.payload, '$.{name}') AS TEXT)"

    def dt14(self, expr: str) -> str:
        """YYYYMMDDhhmmss (Beijing time, a number) -> timestamp."""
        if self.postgres:
            return (
                f"(to_timestamp(({expr})::bigint::text, 'YYYYMMDDHH24MISS')::timestamp "
                "AT TIME ZONE 'Asia/Shanghai')"
            )
        t = f"CAST(CAST({expr} AS INTEGER) AS TEXT)"
        return (
            f"strftime('%%Y-%%m-%%d %%H:%%M:%%S', substr({t},1,4)||'-'||substr({t},5,2)||'-'||substr({t},7,2)"
            f"||' '||substr({t},9,2)||':'||substr({t},11,2)||':'||substr({t},13,2), '-8 hours')"
        )

    def beijing_day(self, expr: str) -> str:
        if self.postgres:
            return f"(({expr}) AT TIME ZONE 'Asia/Shanghai')::date"
        return f"date({expr}, '+8 hours')"

    def company_region(self, alias: str = "c") -> str:
        if self.postgres:
            return f"NULLIF({alias}.region_code, '')::integer"
        return f"CAST(NULLIF({alias}.region_code, '') AS INTEGER)"


def dialect() -> Dialect:
    return Dialect(postgres=connection.vendor == "postgresql")


def _city(region: str) -> str:
    """City of a region code: counties -> their city; city codes stay; 0 when unknown."""
    return (
        f"(CASE WHEN {region} IS NULL THEN 0 WHEN {region} %% 10000 = 0 THEN {region} "
        f"ELSE {region} / 100 * 100 END)"
    )


def order_city(d: Dialect) -> str:
    """The order's city: its own region code (OnArea) unless that names only a province, then the
    company's registered region."""
    own, company = "e.region_code", d.company_region()
    return (
        f"(CASE WHEN {own} IS NOT NULL AND {own} %% 10000 <> 0 THEN {own} / 100 * 100 "
        f"ELSE {_city(company)} END)"
    )


# ---------------------------------------------------------------------------------------------
# extraction: exchange events -> OrderFact / ActivityDaily
# ---------------------------------------------------------------------------------------------


def _state(kind: str, alias: str, identifier: str, moment: str) -> str:
    """LEFT JOIN clause of the licence interval of ``identifier`` covering ``moment``."""
    iv = LicenceInterval._meta.db_table
    return (
        f"LEFT JOIN {iv} {alias} ON {alias}.kind = '{kind}' AND {alias}.identifier = {identifier} "
        f"AND {alias}.starts_at <= {moment} AND {moment} < {alias}.ends_at"
    )


def order_facts_insert(d: Dialect, *, region_filter: bool) -> str:
    """INSERT ... SELECT of the completed orders (operatePay) whose event time lies in [%s, %s),
    classified on the way in: the driver's and vehicle's licence state at the departure time.

    The latest pay record of an order wins. Parameters: start, end, [city_lo, city_hi].
    """
    ev, co, fact = EventRecord._meta.db_table, Company._meta.db_table, OrderFact._meta.db_table
    f = d.field
    where_region = "AND s.city_code BETWEEN %s AND %s" if region_filter else ""
    raw = f"""
        SELECT e.company_id, e.order_id, e.event_time, e.license_id, e.vehicle_no,
               COALESCE(e.region_code, {d.company_region()}, 0) AS region_code,
               {order_city(d)} AS city_code,
               {f("DepTime")} AS dep, {f("DestTime")} AS dest, {f("PayTime")} AS pay,
               {f("OrderMatchTime")} AS matched, {f("DriveTime")} AS drive_time,
               {f("DriveMile")} AS drive_mile, {f("FactPrice")} AS fact_price,
               {f("DepLongitude")} AS dep_lon, {f("DepLatitude")} AS dep_lat
        FROM {ev} e JOIN {co} c ON c.id = e.company_id
        WHERE e.interface = {ipc("operatePay")} AND e.event_time >= %s AND e.event_time < %s
    """
    if d.postgres:
        raw += " OFFSET 0"  # keep the JSON fields computed once (no pull-up into the outer query)
    flags = (
        f"(CASE WHEN drive_time = 0 OR dest = dep THEN {FLAG_ZERO_DURATION} ELSE 0 END)"
        f" + (CASE WHEN drive_mile < 1 AND fact_price > 0 THEN {FLAG_SUB_KM_PAID} ELSE 0 END)"
        f" + (CASE WHEN dep < {_EARLIEST} OR dest < {_EARLIEST} OR pay < {_EARLIEST} "
        f"OR matched < {_EARLIEST} THEN {FLAG_EPOCH_TIME} ELSE 0 END)"
        f" + (CASE WHEN dest < dep OR matched > dep OR pay < dest THEN {FLAG_OUT_OF_ORDER} ELSE 0 END)"
    )
    served = f"(CASE WHEN dep >= {_EARLIEST} AND dep <= dest THEN {d.dt14('dep')} ELSE event_time END)"
    plate = "UPPER(REPLACE(REPLACE(vehicle_no, '·', ''), ' ', ''))"
    return f"""
        INSERT INTO {fact} (company_id, order_id, region_code, city_code, day, served_at, completed_at,
                            license_id, vehicle_no, driver_state, vehicle_state, dep_lon, dep_lat, flags)
        SELECT s.company_id, s.order_id, s.region_code, s.city_code, s.day, s.served_at, s.completed_at,
               s.license_id, s.vehicle_no, COALESCE(d.state, 'unlicensed'), COALESCE(v.state, 'unlicensed'),
               s.dep_lon, s.dep_lat, s.flags
        FROM (
            SELECT company_id, order_id, region_code, city_code,
                   {d.beijing_day("event_time")} AS day, {served} AS served_at, event_time AS completed_at,
                   license_id, {plate} AS vehicle_no,
                   CAST(dep_lon AS INTEGER) AS dep_lon, CAST(dep_lat AS INTEGER) AS dep_lat,
                   {flags} AS flags,
                   ROW_NUMBER() OVER (PARTITION BY company_id, order_id ORDER BY event_time DESC) AS rn
            FROM ({raw}) r
        ) s
        {_state("driver", "d", "s.license_id", "s.served_at")}
        {_state("vehicle", "v", "s.vehicle_no", "s.served_at")}
        WHERE s.rn = 1 {where_region}
        ON CONFLICT (company_id, order_id) DO UPDATE SET
            region_code = excluded.region_code, city_code = excluded.city_code, day = excluded.day,
            served_at = excluded.served_at, completed_at = excluded.completed_at,
            license_id = excluded.license_id, vehicle_no = excluded.vehicle_no,
            driver_state = excluded.driver_state, vehicle_state = excluded.vehicle_state,
            dep_lon = excluded.dep_lon, dep_lat = excluded.dep_lat, flags = excluded.flags
        WHERE excluded.completed_at >= {fact}.completed_at
    """


def activity_insert(d: Dialect, *, region_filter: bool) -> str:
    """Cancellations by party and complaints per company, city and day in [%s, %s) (twice).

    Parameters: start, end, start, end, [city_lo, city_hi].
    """
    ev, co = EventRecord._meta.db_table, Company._meta.db_table
    fact, act = OrderFact._meta.db_table, ActivityDaily._meta.db_table
    m = ActivityDaily.Metric
    operator = d.text_field("Operator")
    where_region = "WHERE city_code BETWEEN %s AND %s" if region_filter else ""
    company_city = _city(d.company_region())
    return f"""
        INSERT INTO {act} (company_id, city_code, day, metric, count)
        SELECT company_id, city_code, day, metric, COUNT(*) FROM (
            SELECT e.company_id, {order_city(d)} AS city_code, {d.beijing_day("e.event_time")} AS day,
                   CASE {operator} WHEN '1' THEN '{m.CANCEL_PASSENGER}' WHEN '2' THEN '{m.CANCEL_DRIVER}'
                        WHEN '3' THEN '{m.CANCEL_PLATFORM}' ELSE '{m.CANCEL_OTHER}' END AS metric
            FROM {ev} e JOIN {co} c ON c.id = e.company_id
            WHERE e.interface = {ipc("orderCancel")} AND e.event_time >= %s AND e.event_time < %s
            UNION ALL
            SELECT e.company_id, COALESCE(f.city_code, {company_city}) AS city_code,
                   {d.beijing_day("e.event_time")} AS day, '{m.COMPLAINT}' AS metric
            FROM {ev} e JOIN {co} c ON c.id = e.company_id
            LEFT JOIN {fact} f ON f.company_id = e.company_id AND f.order_id = e.order_id
            WHERE e.interface = {ipc("ratedPassengerComplaint")} AND e.event_time >= %s AND e.event_time < %s
        ) a
        {where_region}
        GROUP BY company_id, city_code, day, metric
    """


# ---------------------------------------------------------------------------------------------
# classification and aggregation
# ---------------------------------------------------------------------------------------------

STATE_COLUMN = {"driver": "driver_state", "vehicle": "vehicle_state"}
IDENTIFIER_COLUMN = {"driver": "license_id", "vehicle": "vehicle_no"}


def reclassify_update(kind: str, identifiers: int) -> str:
    """UPDATE the stored licence state of the facts of ``identifiers`` (that many %s) where the
    current licence history says otherwise; RETURNING the days touched."""
    fact = OrderFact._meta.db_table
    state, ident = STATE_COLUMN[kind], IDENTIFIER_COLUMN[kind]
    placeholders = ", ".join(["%s"] * identifiers)
    return f"""
        UPDATE {fact} SET {state} = n.state
        FROM (
            SELECT f.id, COALESCE(i.state, 'unlicensed') AS state FROM {fact} f
            {_state(kind, "i", f"f.{ident}", "f.served_at")}
            WHERE f.{ident} IN ({placeholders})
        ) n
        WHERE {fact}.id = n.id AND {fact}.{state} <> n.state
        RETURNING {fact}.day
    """


def compliance_select(*, region_filter: bool) -> str:
    """The daily aggregates of the facts with day in [%s, %s) [and city in range]: one GROUP BY
    over the classified facts, in the order of the covering index ``supervision_fact_rollup``
    (PostgreSQL then streams an index-only scan into a sorted aggregation)."""
    fact = OrderFact._meta.db_table
    where_region = "AND city_code BETWEEN %s AND %s" if region_filter else ""
    return f"""
        SELECT company_id, city_code, day, driver_state, vehicle_state, COUNT(*)
        FROM {fact}
        WHERE day >= %s AND day < %s {where_region}
        GROUP BY day, city_code, company_id, driver_state, vehicle_state
    """


COMPLIANCE_COLUMNS = ("company_id", "city_code", "day", "driver_state", "vehicle_state", "orders")


def compliance_insert(*, region_filter: bool) -> str:
    """INSERT ... SELECT of ComplianceDaily (the portable path)."""
    table = ComplianceDaily._meta.db_table
    select = compliance_select(region_filter=region_filter)
    return f"INSERT INTO {table} ({', '.join(COMPLIANCE_COLUMNS)}) {select}"
