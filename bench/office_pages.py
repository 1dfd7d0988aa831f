"""Benchmark of the One-Network Office pages with 100,000 cases in PostgreSQL.

    .venv/bin/python bench/office_pages.py [--cases 100000] [--repeat 30] [--no-docs]

What it does (bounded to about two minutes):

1. drops and recreates the PostgreSQL database ``yunzheng_bench_office`` (postgres@127.0.0.1:5432,
   trust auth) and migrates it;
2. bulk-loads the data (``bulk_create`` for users, COPY for the rest) — NOT through the services
   (100,000 audited transitions would take far longer and measure the audit log, not the pages):
   20,000 verified drivers, 50,000 certificates in 10 cities of two provinces (浙江 330000,
   内蒙古 150000), and 100,000 cases (two per certificate: an earlier finished one and a later
   one in any state, with stored due dates spread around today, so some are overdue and some due
   today), each with its submission transition; one "heavy" driver has 200 cases; then VACUUM ANALYZE;
3. logs in a city clerk (杭州 330100), a province clerk (浙江 330000) and a ministry clerk
   (nationwide) with a verified TOTP device in the session, and the drivers;
4. requests each page through Django's test client (the whole stack below HTTP: middleware,
   sessions, OTP, views, queries, templates) — a warm-up, then ``--repeat`` timed requests — and
   reports p50/p95 milliseconds and the number of SQL queries per request;
5. prints a table, the query plan of the city queue, and rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

import _common

REPO = _common.REPO
DB_NAME = _common.database_name("office")
PG_URL = _common.PG_URL

CERTIFICATE_COLUMNS = [
    "number",
    "holder_name",
    "holder_id_number",
    "holder_id_hash",
    "issuing_authority",
    "region_code",
    "first_issued_on",
    "valid_from",
    "valid_until",
    "service_unit",
    "service_unit_phone",
    "status",
    "version",
    "created_at",
    "updated_at",
]
CASE_COLUMNS = [
    "number",
    "case_type",
    "applicant_id",
    "certificate_id",
    "region_code",
    "province_code",
    "city_code",
    "state",
    "agreed_at",
    "personal_data",
    "details",
    "delivery_method",
    "created_at",
    "updated_at",
    "submitted_at",
    "accepted_at",
    "accept_due_on",
    "decide_due_on",
    "due_on",
    "paused_working_days",
    "outcome_reason",
    "completion_note",
]
CITIES = ["330100", "330200", "330300", "330400", "330500", "150100", "150200", "150300", "150400", "150500"]


def recreate_database() -> None:
    _common.recreate_database(DB_NAME)


def setup_django() -> None:
    _common.setup_django(DB_NAME)
    from django.conf import settings

    settings.SMS_BACKEND = "yunzheng.core.sms.LocmemSmsBackend"
    settings.ALLOWED_HOSTS = ["*"]


def _id_number(serial: int) -> str:
    from stdnum.cn import ric

    base = f"330106{1960 + serial % 40:04d}{1 + serial % 12:02d}{1 + serial % 28:02d}{serial % 1000:03d}"
    return base + ric.calc_check_digit(base + "0")


@dataclass
class Loaded:
    heavy_user_id: int
    typical_user_id: int
    seconds: float
    counts: dict[str, int]


def _copy(table: str, columns: list[str], rows: Any) -> None:
    """Binary-free COPY FROM STDIN through psycopg 3 (the fastest way in; see ARCHITECTURE.md)."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(total_cases: int) -> Loaded:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from yunzheng.accounts.models import User
    from yunzheng.core.crypto import encrypt_field, lookup_hash
    from yunzheng.practitioners.models import (
        CaseState,
        CaseTransition,
        CaseType,
        QualificationCertificate,
        ServiceCase,
    )

    started = time.perf_counter()
    rng = random.Random(20261121)
    now = timezone.now()
    today = timezone.localdate()
    certificates_total = total_cases // 2
    users_total = min(20_000, certificates_total)

    # Encrypted columns: one valid token per column, reused for every row (each row of a real
    # database has its own nonce; decrypting costs the same). Pages decrypt what they show.
    name_token, id_token = encrypt_field("测试驾驶员"), encrypt_field(_id_number(1))
    personal_token = encrypt_field(
        '{"name": "测试驾驶员", "phone": "13900000000", "address": "测试地址", "contact_name": "测试驾驶员", '
        '"delivery": {"method": "", "recipient": "", "phone": "", "address": ""}}'
    )
    unusable_password = make_password(None)  # one hash for all: hashing 20,000 times measures nothing
    id_hashes = [lookup_hash(_id_number(serial)) for serial in range(users_total)]
    User.objects.bulk_create(
        [
            User(
                username=f"bench{serial}",
                kind=User.Kind.PUBLIC,
                phone=f"139{serial:08d}",
                phone_hash=lookup_hash(f"139{serial:08d}"),
                real_name_status=User.RealNameStatus.VERIFIED,
                real_name="测试驾驶员",
                id_number=_id_number(serial),
                id_number_hash=id_hashes[serial],
                real_name_verified_at=now,
                password=unusable_password,
            )
            for serial in range(users_total)
        ],
        batch_size=2000,
    )
    user_ids = list(
        User.objects.filter(username__startswith="bench").order_by("pk").values_list("pk", flat=True)
    )
    heavy_user_id, typical_user_id = user_ids[0], user_ids[1]

    with transaction.atomic():
        owners: list[int] = []
        certificate_rows = []
        for serial in range(certificates_total):
            # The heavy driver holds 100 certificates (200 cases); everyone else round-robin.
            owner_index = 0 if serial < 100 else 1 + serial % (users_total - 1)
            owners.append(user_ids[owner_index])
            region = CITIES[serial % len(CITIES)]
            certificate_rows.append(
                (
                    f"{region}{serial:010d}",
                    name_token,
                    id_token,
                    id_hashes[owner_index],
                    "测试交通运输局",
                    region,
                    dt.date(2015, 1, 1),
                    dt.date(2021, 1, 1),
                    dt.date(2027, 12, 31),
                    "测试出租汽车有限公司",
                    "",
                    "valid",
                    1,
                    now,
                    now,
                )
            )
        _copy(
            QualificationCertificate._meta.db_table,
            CERTIFICATE_COLUMNS,
            certificate_rows,
        )
        certificates = list(QualificationCertificate.objects.order_by("pk").values_list("pk", "region_code"))
        _copy(
            "practitioners_certificatecategorygrant",
            ["certificate_id", "category", "status", "granted_on"],
            ((pk, "cruising_taxi", "valid", dt.date(2015, 1, 1)) for pk, _region in certificates),
        )

        finished_states = [CaseState.COMPLETED, CaseState.REJECTED, CaseState.WITHDRAWN]
        later_states = [
            (CaseState.SUBMITTED, 25),
            (CaseState.ACCEPTED, 25),
            (CaseState.RETURNED, 5),
            (CaseState.APPROVED, 5),
            (CaseState.COMPLETED, 30),
            (CaseState.REJECTED, 5),
            (CaseState.WITHDRAWN, 5),
        ]
        population = [state for state, weight in later_states for _ in range(weight)]
        types = list(CaseType.values)

        def case_rows() -> Any:
            sequence = 0
            for index, (certificate_id, region) in enumerate(certificates):
                for turn in (0, 1):
                    sequence += 1
                    state = rng.choice(finished_states) if turn == 0 else rng.choice(population)
                    days_ago = rng.randint(1, 400) if turn == 0 else rng.randint(0, 20)
                    submitted_at = now - dt.timedelta(days=days_ago, minutes=rng.randint(0, 1439))
                    clock = state in (CaseState.SUBMITTED, CaseState.ACCEPTED)
                    accepted = state not in (CaseState.SUBMITTED, CaseState.WITHDRAWN)
                    yield (
                        f"{'ZJ' if region.startswith('33') else 'NM'}-2026-{sequence:07d}",
                        rng.choice(types),
                        owners[index],
                        certificate_id,
                        region,
                        region[:2] + "0000",
                        region[:4] + "00",
                        state,
                        submitted_at,
                        personal_token,
                        "{}",
                        "",
                        submitted_at,
                        submitted_at,
                        submitted_at,
                        submitted_at + dt.timedelta(days=1) if accepted else None,
                        (submitted_at + dt.timedelta(days=2)).date(),
                        (submitted_at + dt.timedelta(days=5)).date() if accepted else None,
                        today + dt.timedelta(days=rng.randint(-6, 6)) if clock else None,
                        0,
                        "材料不全" if state == CaseState.REJECTED else "",
                        "",
                    )

        _copy(
            ServiceCase._meta.db_table,
            CASE_COLUMNS,
            case_rows(),
        )
        # Read first: the connection cannot run a query while it is in COPY.
        submissions = list(ServiceCase.objects.values_list("pk", "submitted_at"))
        _copy(
            CaseTransition._meta.db_table,
            ["case_id", "action", "from_state", "to_state", "actor_role", "reason", "at"],
            ((pk, "submit", "draft", "submitted", "applicant", "", at) for pk, at in submissions),
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # autocommit here; also sets the visibility map
    counts = {
        "users": User.objects.count(),
        "certificates": QualificationCertificate.objects.count(),
        "cases": ServiceCase.objects.count(),
        "transitions": CaseTransition.objects.count(),
    }
    return Loaded(heavy_user_id, typical_user_id, time.perf_counter() - started, counts)


def staff_client(username: str, level: str, region: str) -> Any:
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from yunzheng.accounts.models import StaffProfile, User

    user = User(username=username, kind=User.Kind.STAFF)
    user.set_unusable_password()
    user.save()
    StaffProfile.objects.create(user=user, department="transport", level=level, region_code=region)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id  # as django_otp.login() does after a good code
    session.save()
    return client


def public_client(user_id: int) -> Any:
    from django.test import Client

    from yunzheng.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(pk=user_id))
    return client


@dataclass
class Result:
    name: str
    url: str
    p50: float
    p95: float
    queries: int
    rows: str


def measure(name: str, client: Any, url: str, repeat: int) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up (and first-visit work such as certificate association)
    assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    body = response.content.decode()
    rows = str(body.count('data-testid="queue-row-') or len(re.findall(r'data-testid="case-\d+"', body)))
    if response["Content-Type"].startswith("application/json"):
        rows = str(len(response.json().get("items", [])))
    return Result(name, url, statistics.median(timings), p95, len(queries), rows)


def queue_plan() -> str:
    from django.db import connection
    from django.utils import timezone

    from yunzheng.practitioners.models import ServiceCase
    from yunzheng.practitioners.selectors import ACTIONABLE_STATES

    query = (
        ServiceCase.objects.exclude(state="draft")
        .filter(city_code="330100", state__in=ACTIONABLE_STATES, due_on__lt=timezone.localdate())
        .select_related("certificate")
        .order_by("due_on", "submitted_at", "pk")[:50]
    )
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF, SUMMARY ON) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def write_docs(section: str) -> None:
    _common.write_docs_section("office_pages.py", section)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    print(f"preparing database {DB_NAME} ...", flush=True)
    recreate_database()
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(f"bulk-loading {args.cases:,} cases (COPY / bulk_create, not through the services) ...", flush=True)
    loaded = load(args.cases)
    print(f"  loaded in {loaded.seconds:.1f} s: {loaded.counts}", flush=True)

    city = staff_client("bench-hz", "city", "330100")
    province = staff_client("bench-zj", "province", "330000")
    ministry = staff_client("bench-mot", "ministry", "")
    heavy, typical = public_client(loaded.heavy_user_id), public_client(loaded.typical_user_id)
    scenarios = [
        ("Staff queue, city (waiting, by due date)", city, "/office/staff/"),
        ("Staff queue, city, overdue", city, "/office/staff/?overdue=1"),
        ("Staff queue, city, due today", city, "/office/staff/?due_today=1"),
        ("Staff queue, city, all states, renewals", city, "/office/staff/?state=all&type=renewal"),
        ("Staff queue, city, page 100 of all", city, "/office/staff/?state=all&page=100"),
        ("Staff queue, province (waiting)", province, "/office/staff/"),
        ("Staff queue, province, overdue", province, "/office/staff/?overdue=1"),
        ("Staff queue, ministry (waiting, nationwide)", ministry, "/office/staff/"),
        ("My Office, typical driver", typical, "/office/mine/"),
        ("My Office, driver with 200 cases", heavy, "/office/mine/"),
        ("My Office, 200 cases, page 5", heavy, "/office/mine/?page=5"),
        ("API /api/v1/office/cases, 200 cases", heavy, "/api/v1/office/cases"),
    ]
    results = []
    for name, client, url in scenarios:
        result = measure(name, client, url, args.repeat)
        results.append(result)
        print(
            f"  {name:<46} p50 {result.p50:7.1f} ms  p95 {result.p95:7.1f} ms  {result.queries:2d} queries",
            flush=True,
        )
    plan = queue_plan()
    elapsed = time.perf_counter() - started
    load_average = " / ".join(f"{value:.1f}" for value in os.getloadavg())

    header = "| page | URL | p50 ms | p95 ms | SQL queries | rows shown |\n|---|---|---:|---:|---:|---:|\n"
    table = header + "".join(
        f"| {r.name} | `{r.url}` | {r.p50:.1f} | {r.p95:.1f} | {r.queries} | {r.rows} |\n" for r in results
    )
    print()
    print(table)
    print("Plan of the city overdue queue (first page):")
    print(plan)
    counts = loaded.counts
    section = "\n".join(
        [
            "## One-Network Office pages (`bench/office_pages.py`)",
            "",
            f"{counts['cases']:,} cases ({counts['certificates']:,} certificates, "
            f"{counts['users']:,} drivers, {counts['transitions']:,} transitions) in PostgreSQL, "
            "bulk-loaded with COPY and `bulk_create` (not through "
            f"the services) in {loaded.seconds:.0f} s. Each page was requested {args.repeat} times after a "
            "warm-up through Django's test client (middleware, session, OTP, view, queries and template; no "
            "network). Clerks: 杭州 city (sees ~10,000 cases), 浙江 province (~50,000), ministry (all). "
            f"Run on {platform.machine()} with {os.cpu_count()} CPUs, {dt.date.today().isoformat()}, total "
            f"{elapsed:.0f} s; load average at the end {load_average} (other work shared the machine, so "
            "absolute times are pessimistic; query counts and plans are exact).",
            "",
            table,
            "The default queue and its overdue / due-today filters read the partial indexes "
            "`(city_code | province_code, due_on, submitted_at, id) WHERE state IN (submitted, accepted, "
            "approved)` in queue order, so the first page stops after 50 index entries; other state filters "
            "use `(scope, state, due_on)`. Pages of 50 with `select_related`, encrypted columns a row does "
            "not show are deferred, and no working-day calendar is computed per row (due dates are stored). "
            "Plan of the city overdue queue:",
            "",
            "```",
            plan,
            "```",
            "",
        ]
    )
    if not args.no_docs:
        write_docs(section)
    print(f"done in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
