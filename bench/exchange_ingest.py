"""End-to-end benchmark of the exchange ingest: HTTP -> validation -> PostgreSQL commit -> ack.

    .venv/bin/python bench/exchange_ingest.py [--positions 600000] [--clients 6] [--no-docs]

What it does (all traffic on 127.0.0.1, bounded to a few minutes; helpers in bench/_common.py):

1. creates the PostgreSQL database ``<BENCH_DB_PREFIX>_exchange`` (or empties its schema;
   postgres@127.0.0.1:5432, trust auth), migrates it, creates a company and a production credential;
2. generates every request body BEFORE timing (unique records, so nothing is a duplicate);
3. starts gunicorn (``config.wsgi``, production settings from environment variables, 2 workers x
   3 threads) and drives it from client threads over keep-alive connections, for:
   positionVehicle batches as JSON (1,000 and 5,000 records per request) and as protobuf, plain
   (compared with JSON, which is sent plain) and gzipped, a mixed order/operation stream (JSON),
   and the naive baseline (one ORM insert per record after the same validation:
   ``bench/_naive_ingest.py``, installed by the naive server's WSGI module) with a smaller volume;
4. measures, in the same run, the storage limit of each table written (positions, and the event
   rows of the mixed stream): binary COPY of the very rows the bulk run stored (read back from the
   table) straight into the same table, commit per ``--batch`` rows, from 2 processes x
   ``--clients``/2 connections, no HTTP, no validation, the best of 3 runs;
5. reports validated-and-committed records per second, p50/p99 acknowledgement latency per
   request, the server's peak memory (sum of the gunicorn processes' VmRSS), checks that the
   rows in the database equal the acknowledged records, and gives each bulk run as a ratio of
   its table's COPY limit and protobuf as a ratio of JSON;
6. prints a table and rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import platform
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _common

REPO = _common.REPO
DB_NAME = _common.database_name("exchange")
SETTINGS = "yz_bench_settings"


NAIVE_WSGI = "yz_ingest_naive_wsgi"


def bench_env(settings_dir: Path) -> dict[str, str]:
    return _common.bench_env(DB_NAME, settings_dir, SETTINGS)


def write_settings(directory: Path) -> None:
    """Production settings (config/ stays untouched) and the naive baseline's WSGI module: the
    product's application with bench/_naive_ingest.py's writers installed."""
    _common.write_settings(directory, SETTINGS)
    (directory / f"{NAIVE_WSGI}.py").write_text(
        '"""config.wsgi storing with the naive writers (the benchmark baseline; bench only)."""\n'
        "import sys\n\n"
        "from config.wsgi import application  # noqa: F401 (sets Django up)\n\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "import _naive_ingest  # noqa: E402\n\n"
        "_naive_ingest.install()\n",
        encoding="utf-8",
    )


def recreate_database() -> None:
    _common.recreate_database(DB_NAME)


def migrate(env: dict[str, str]) -> None:
    _common.migrate(env)


def create_company(env: dict[str, str]) -> tuple[str, str]:
    """A company and a production credential, created in a subprocess with the bench settings."""
    script = (
        "import django; django.setup()\n"
        "from yunzheng.accounts.models import Company\n"
        "from yunzheng.accounts.credentials import company_credential_create\n"
        "c = Company.objects.create(credit_code='91330106MA2H4K7Q1X', name='基准测试出行有限公司',\n"
        "    legal_representative='李明', supervision_company_id='3301YZBENCH01', region_code='330100')\n"
        "print(c.supervision_company_id, company_credential_create(company=c, name='bench').token)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, check=True, capture_output=True, text=True
    )
    company_id, token = out.stdout.split()[-2:]
    return company_id, token


def count_rows(table: str) -> int:
    return _common.count_rows(DB_NAME, table)


def truncate(*tables: str) -> None:
    _common.execute(DB_NAME, f"TRUNCATE {', '.join(tables)}")
    _common.execute(DB_NAME, "CHECKPOINT")


# ---------------------------------------------------------------------------------------------
# the storage limit: binary COPY of equivalent rows, no HTTP, no validation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Storage:
    """A table the ingest writes, with the product's own COPY column order and types."""

    key: str  # "positions" | "events": which bulk runs this limit is the ceiling of
    table: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    what: str


def storages() -> dict[str, Storage]:
    from yunzheng.exchange.ingest import rows

    return {
        "positions": Storage(
            "positions",
            "exchange_positionrecord",
            rows.POSITION_COLUMNS,
            tuple(rows._POSITION_PG_TYPES),
            "position rows",
        ),
        "events": Storage(
            "events",
            "exchange_eventrecord",
            rows.EVENT_COLUMNS,
            tuple(rows._EVENT_PG_TYPES),
            "order/operation rows (JSON payload, two indexes)",
        ),
    }


def _copy_worker(storage: Storage, rows: list[tuple], batch: int, connections: int, out: Any) -> None:
    """One process: ``connections`` threads, each COPYing its share, commit per ``batch`` rows."""
    import msgspec
    import psycopg
    from psycopg.types.json import set_json_dumps

    statement = f"COPY {storage.table} ({', '.join(storage.columns)}) FROM STDIN (FORMAT BINARY)"
    shares = [rows[i::connections] for i in range(connections)]

    def copy_share(share: list[tuple]) -> None:
        with psycopg.connect(_common.database_url(DB_NAME)) as conn:
            set_json_dumps(msgspec.json.Encoder().encode, context=conn)  # as the product's writers do
            for start in range(0, len(share), batch):
                with conn.cursor() as cursor, cursor.copy(statement) as copy:
                    copy.set_types(list(storage.types))
                    for row in share[start : start + batch]:
                        copy.write_row(row)
                conn.commit()

    threads = [threading.Thread(target=copy_share, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(len(rows))


def copy_limit(storage: Storage, limit_rows: int, batch: int, clients: int, *, repeats: int = 3) -> RunResult:
    """Rows/s of binary COPY into the storage's table from 2 processes (``clients`` connections in
    all), using rows a bulk run stored: read them back, empty the table, COPY them in again; the
    best of ``repeats`` runs (a short COPY meets the shared disk's moods: the ceiling is the best
    the storage did, which makes every ratio to it conservative)."""
    import multiprocessing

    import psycopg

    with psycopg.connect(_common.database_url(DB_NAME)) as conn:
        rows = conn.execute(
            f"SELECT {', '.join(storage.columns)} FROM {storage.table} LIMIT %s",  # noqa: S608
            [limit_rows],
        ).fetchall()
    processes = 2
    context = multiprocessing.get_context("fork")
    per_process = [rows[i::processes] for i in range(processes)]
    best = float("inf")
    copied = 0
    for _ in range(repeats):
        truncate(storage.table)
        out = context.SimpleQueue()
        workers = [
            context.Process(
                target=_copy_worker, args=(storage, share, batch, max(1, clients // processes), out)
            )
            for share in per_process
        ]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        best = min(best, time.perf_counter() - started)
        copied = sum(out.get() for _ in workers)
    result = RunResult(
        name=(
            f"storage limit, {storage.what}: binary COPY of the same rows, commit per {batch}, "
            f"{clients} connections, best of {repeats}"
        ),
        records=len(rows),
        acknowledged=copied,
        seconds=best,
        storage=storage.key,
    )
    result.committed = count_rows(storage.table)
    return result


# ---------------------------------------------------------------------------------------------
# request bodies (generated before timing)
# ---------------------------------------------------------------------------------------------


def _dt14(t: datetime) -> int:
    return int(t.strftime("%Y%m%d%H%M%S"))


def position_batches(
    company_id: str, total: int, batch: int, *, fleet: int = 2000, seed: int = 1
) -> list[list[dict]]:
    from yunzheng.exchange.spec.samples import valid_record
    from yunzheng.exchange.spec.validation import BEIJING

    now = datetime.now(BEIJING).replace(microsecond=0)
    steps = (total + fleet - 1) // fleet
    start = now - timedelta(seconds=5 * steps + 60)
    times = [_dt14(start + timedelta(seconds=5 * k)) for k in range(steps)]
    templates = []
    for v in range(fleet):
        rec = valid_record("positionVehicle", seed=seed * 100_000 + v, now=now, CompanyId=company_id)
        rec["VehicleNo"] = f"浙A{'DF'[v % 2]}{seed % 10}{v:04d}"
        templates.append(rec)
    rng = random.Random(seed)
    records = []
    for n in range(total):
        rec = dict(templates[n % fleet])
        rec["PositionTime"] = times[n // fleet]
        rec["Longitude"] += rng.randrange(-500, 500)
        rec["Latitude"] += rng.randrange(-500, 500)
        rec["Speed"] = rng.randrange(0, 80)
        rec["Direction"] = rng.randrange(0, 360)
        records.append(rec)
    return [records[i : i + batch] for i in range(0, total, batch)]


MIXED_INTERFACES = ("orderCreate", "orderMatch", "operateDepart", "operateArrive", "operatePay")


def mixed_batches(company_id: str, orders: int, batch: int, *, seed: int = 2) -> list[tuple[str, list[dict]]]:
    """Orders through create -> match -> depart -> arrive -> pay, plus driver log-ins/log-outs."""
    from yunzheng.exchange.spec.samples import valid_record
    from yunzheng.exchange.spec.validation import BEIJING

    now = datetime.now(BEIJING).replace(microsecond=0)
    templates = {t: valid_record(t, seed=seed, now=now, CompanyId=company_id) for t in MIXED_INTERFACES}
    templates["operateLogin"] = valid_record("operateLogin", seed=seed, now=now, CompanyId=company_id)
    per_interface: dict[str, list[dict]] = {t: [] for t in (*MIXED_INTERFACES, "operateLogin")}
    for n in range(orders):
        order_id = f"BENCH{seed:02d}{n:09d}"
        t0 = now - timedelta(seconds=3600 + (n % 3000))
        stamps = {
            "orderCreate": {"OrderTime": _dt14(t0), "DepartTime": _dt14(t0)},
            "orderMatch": {"DistributeTime": _dt14(t0 + timedelta(seconds=20))},
            "operateDepart": {"DepTime": _dt14(t0 + timedelta(seconds=300))},
            "operateArrive": {"DestTime": _dt14(t0 + timedelta(seconds=1500))},
            "operatePay": {
                "DepTime": _dt14(t0 + timedelta(seconds=300)),
                "DestTime": _dt14(t0 + timedelta(seconds=1500)),
                "PayTime": _dt14(t0 + timedelta(seconds=1560)),
                "BookDepTime": _dt14(t0),
                "OrderMatchTime": _dt14(t0 + timedelta(seconds=20)),
            },
        }
        for t in MIXED_INTERFACES:
            rec = dict(templates[t])
            rec["OrderId"] = order_id
            rec.update(stamps[t])
            per_interface[t].append(rec)
        if n % 10 == 0:
            rec = dict(templates["operateLogin"])
            rec["LicenseId"] = f"3301061985{seed:02d}{n:06d}"
            rec["LoginTime"] = _dt14(t0 - timedelta(seconds=n))
            per_interface["operateLogin"].append(rec)
    out: list[tuple[str, list[dict]]] = []
    chunks = {
        t: [recs[i : i + batch] for i in range(0, len(recs), batch)] for t, recs in per_interface.items()
    }
    while any(chunks.values()):
        for t in per_interface:
            if chunks[t]:
                out.append((t, chunks[t].pop(0)))
    return out


@dataclass
class Body:
    path: str
    data: bytes
    content_type: str
    records: int
    encoding: str = ""


def json_bodies(company_id: str, batches: list[tuple[str, list[dict]]]) -> list[Body]:
    import msgspec

    from yunzheng.exchange.spec import get_spec

    spec = get_spec()
    out = []
    for iface, recs in batches:
        data = msgspec.json.encode({"CompanyId": company_id, "Source": "0", "IPCType": iface, iface: recs})
        out.append(
            Body("/exchange/v1" + spec.interface(iface).http_path, data, "application/json", len(recs))
        )
    return out


def protobuf_bodies(company_id: str, batches: list[tuple[str, list[dict]]], *, compress: bool) -> list[Body]:
    from yunzheng.exchange.spec import get_spec
    from yunzheng.exchange.spec.protobuf import encode_otipc

    spec = get_spec()
    out = []
    for iface, recs in batches:
        data = encode_otipc(company_id, iface, recs)
        if compress:
            data = gzip.compress(data, compresslevel=1)
        out.append(
            Body(
                "/exchange/v1" + spec.interface(iface).http_path,
                data,
                "application/x-protobuf",
                len(recs),
                "gzip" if compress else "",
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# server
# ---------------------------------------------------------------------------------------------


class Server:
    """gunicorn as `make run` starts it (``_common.start_gunicorn`` with config/gunicorn.py: warm-up,
    frozen heap), gthread workers with keep-alive, and the peak memory of its processes."""

    def __init__(self, env: dict[str, str], *, workers: int, threads: int, wsgi: str = "config.wsgi") -> None:
        self.port = _common.free_port()
        self.proc = _common.start_gunicorn(
            env,
            self.port,
            workers=workers,
            threads=threads,
            config="config/gunicorn.py",
            extra_args=["--worker-class", "gthread", "--keep-alive", "30", "--log-level", "warning"],
            quiet=False,
            wsgi=wsgi,
        )
        self.peak_rss_mb = 0.0
        self._stop = threading.Event()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _wait_ready(self) -> None:
        """Until /healthz answers (the port opens before the workers have warmed up)."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited during start-up")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_rss_mb = max(self.peak_rss_mb, _common.process_tree_rss_mb(self.proc.pid))
            time.sleep(0.25)

    def stop(self) -> None:
        self._stop.set()
        _common.stop_server(self.proc)


# ---------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    name: str
    records: int = 0
    acknowledged: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    committed: int = 0
    bytes_sent: int = 0
    server_cpu: float = 0.0  # CPU seconds of the gunicorn processes during the run
    storage: str = "positions"  # the table written: its COPY limit is this run's ceiling

    @property
    def per_second(self) -> float:
        return self.acknowledged / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        return _common.percentile(self.latencies, p / 100) * 1000 if self.latencies else 0.0


def drive(server: Server, token: str, bodies: list[Body], clients: int, name: str) -> RunResult:
    import msgspec

    result = RunResult(name=name, records=sum(b.records for b in bodies))
    work: queue.SimpleQueue[Body | None] = queue.SimpleQueue()
    for b in bodies:
        work.put(b)
    for _ in range(clients):
        work.put(None)
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        acked = dups = rejected = errors = sent = 0
        lat: list[float] = []
        while (body := work.get()) is not None:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": body.content_type}
            if body.encoding:
                headers["Content-Encoding"] = body.encoding
            t0 = time.perf_counter()
            try:
                conn.request("POST", body.path, body=body.data, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
                continue
            lat.append(time.perf_counter() - t0)
            sent += len(body.data)
            if response.status != 200:
                errors += 1
                continue
            answer = msgspec.json.decode(payload)
            acked += answer["accepted"]
            dups += answer["duplicates"]
            rejected += len(answer["rejected"])
        conn.close()
        with lock:
            result.acknowledged += acked
            result.duplicates += dups
            result.rejected += rejected
            result.errors += errors
            result.latencies.extend(lat)
            result.bytes_sent += sent

    server.peak_rss_mb = 0.0
    threads = [threading.Thread(target=client) for _ in range(clients)]
    pids = [server.proc.pid, *_common.child_pids(server.proc.pid)]
    cpu0 = _common.cpu_seconds(pids)
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - t0
    result.server_cpu = _common.cpu_seconds(pids) - cpu0
    result.peak_rss_mb = server.peak_rss_mb
    return result


def merged(parts: list[RunResult]) -> RunResult:
    """One result for a run made in parts (records, seconds and latencies added up)."""
    out = RunResult(name=parts[0].name, storage=parts[0].storage)
    for p in parts:
        out.records += p.records
        out.acknowledged += p.acknowledged
        out.duplicates += p.duplicates
        out.rejected += p.rejected
        out.errors += p.errors
        out.seconds += p.seconds
        out.latencies.extend(p.latencies)
        out.peak_rss_mb = max(out.peak_rss_mb, p.peak_rss_mb)
        out.committed += p.committed
        out.bytes_sent += p.bytes_sent
        out.server_cpu += p.server_cpu
    return out


def warm_up(server: Server, token: str, bodies: list[Body], clients: int) -> None:
    """A few requests per worker thread so that imports and connections are not timed."""
    drive(server, token, bodies, clients, "warm-up")


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def table(results: list[RunResult], limits: dict[str, float] | None = None) -> str:
    """One row per run; "of its COPY limit" against the storage limit of the table it wrote."""
    lines = [
        "| run | records | committed/s | of its COPY limit | p50 ack ms | p99 ack ms "
        "| server CPU µs/record | server RSS MB | committed = acked |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        ok = "yes" if r.committed == r.acknowledged and r.errors == 0 and r.rejected == 0 else "NO"
        limit = (limits or {}).get(r.storage, 0.0)
        share = f"{r.per_second / limit:.0%}" if limit else "—"
        latency = (f"{r.pct(50):.1f}", f"{r.pct(99):.1f}") if r.latencies else ("—", "—")
        cpu = f"{r.server_cpu / r.acknowledged * 1e6:.1f}" if r.server_cpu and r.acknowledged else "—"
        lines.append(
            f"| {r.name} | {r.acknowledged:,} | {r.per_second:,.0f} | {share} | {latency[0]} "
            f"| {latency[1]} | {cpu} | {r.peak_rss_mb:,.0f} "
            f"| {ok} ({r.committed:,} rows; {r.errors} errors, {r.duplicates} dup) |"
        )
    return "\n".join(lines)


def update_docs(text: str) -> None:
    _common.write_docs_section("exchange_ingest.py", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--positions", type=int, default=600_000)
    parser.add_argument("--protobuf-positions", type=int, default=600_000)
    parser.add_argument("--orders", type=int, default=40_000, help="orders in the mixed stream (x5 records)")
    parser.add_argument("--naive-positions", type=int, default=20_000)
    parser.add_argument("--naive-orders", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--large-batch", type=int, default=5000)
    parser.add_argument("--large-positions", type=int, default=250_000)
    parser.add_argument("--copy-rows", type=int, default=200_000, help="rows for the COPY-limit run")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="yz-bench-"))
    write_settings(tmp)
    env = bench_env(tmp)
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    sys.path.insert(0, str(tmp))

    print(f"preparing database {DB_NAME} ...", flush=True)
    recreate_database()
    migrate(env)
    company_id, token = create_company(env)
    import django

    django.setup()  # in this process too: the storage descriptions come from the product's modules
    stores = storages()

    print("generating request bodies ...", flush=True)
    warm = json_bodies(
        company_id, [("positionVehicle", b) for b in position_batches(company_id, 8000, 500, seed=9)]
    )
    pos_json = json_bodies(
        company_id,
        [("positionVehicle", b) for b in position_batches(company_id, args.positions, args.batch, seed=1)],
    )
    pos_large = json_bodies(
        company_id,
        [
            ("positionVehicle", b)
            for b in position_batches(company_id, args.large_positions, args.large_batch, seed=6)
        ],
    )
    pos_pb_plain, pos_pb = (
        protobuf_bodies(
            company_id,
            [
                ("positionVehicle", b)
                for b in position_batches(company_id, args.protobuf_positions, args.batch, seed=seed)
            ],
            compress=compress,
        )
        for seed, compress in ((7, False), (2, True))
    )
    mixed = json_bodies(company_id, mixed_batches(company_id, args.orders, args.batch, seed=3))
    naive_pos = json_bodies(
        company_id,
        [
            ("positionVehicle", b)
            for b in position_batches(company_id, args.naive_positions, args.batch, seed=4)
        ],
    )
    naive_mixed = json_bodies(company_id, mixed_batches(company_id, args.naive_orders, args.batch, seed=5))
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)

    results: list[RunResult] = []
    positions, events = stores["positions"], stores["events"]

    server = Server(env, workers=args.workers, threads=args.threads)
    try:
        warm_up(server, token, warm, args.clients)
        # JSON and protobuf alternate in halves (J P Pz J P Pz), so that a slower minute of the
        # shared machine does not fall on one of them only; their figures are over both halves.
        pair = (
            (f"positionVehicle JSON, bulk (COPY), batches of {args.batch}", pos_json),
            (f"positionVehicle protobuf, bulk (COPY), batches of {args.batch}", pos_pb_plain),
            (f"positionVehicle protobuf+gzip, bulk (COPY), batches of {args.batch}", pos_pb),
        )
        halves: dict[str, list[RunResult]] = {name: [] for name, _ in pair}
        for half in range(2):
            for name, bodies in pair:
                part = bodies[half * len(bodies) // 2 : (half + 1) * len(bodies) // 2]
                truncate(positions.table)
                r = drive(server, token, part, args.clients, name)
                r.committed = count_rows(positions.table)
                halves[name].append(r)
        for name, _ in pair:
            results.append(merged(halves[name]))
            print(table([results[-1]]).splitlines()[-1], flush=True)
        for name, bodies, store in (
            (f"positionVehicle JSON, bulk (COPY), batches of {args.large_batch}", pos_large, positions),
            (f"mixed orders/operations JSON, bulk (COPY), batches of {args.batch}", mixed, events),
        ):
            truncate(store.table)  # every run starts from the same (empty) table
            r = drive(server, token, bodies, args.clients, name)
            r.committed = count_rows(store.table)
            r.storage = store.key
            results.append(r)
            print(table([r]).splitlines()[-1], flush=True)
    finally:
        server.stop()

    # Each table's ceiling, from the rows its bulk run stored: event rows carry a JSON payload
    # (parsed into jsonb by the server) and two indexes, so they cost PostgreSQL more than positions.
    limits = [copy_limit(store, args.copy_rows, args.batch, args.clients) for store in (positions, events)]
    for limit in limits:
        print(table([limit]).splitlines()[-1], flush=True)

    server = Server(env, workers=args.workers, threads=args.threads, wsgi=NAIVE_WSGI)
    try:
        warm_up(server, token, warm[:4], args.clients)
        for name, bodies, store in (
            (
                f"positionVehicle JSON, naive (ORM insert per record), batches of {args.batch}",
                naive_pos,
                positions,
            ),
            (f"mixed orders/operations JSON, naive, batches of {args.batch}", naive_mixed, events),
        ):
            before = count_rows(store.table)
            r = drive(server, token, bodies, args.clients, name)
            r.committed = count_rows(store.table) - before
            r.storage = store.key
            results.append(r)
            print(table([r]).splitlines()[-1], flush=True)
    finally:
        server.stop()

    total = time.perf_counter() - started
    json_run, plain_run, protobuf_run, large_run, mixed_run, naive_run, naive_mixed_run = results
    rates = {limit.storage: limit.per_second for limit in limits}
    limit_rate, event_rate = rates["positions"], rates["events"]
    cpu = platform.processor() or platform.machine()

    def cpu_per_record(run: RunResult) -> float:
        return run.server_cpu / max(1, run.acknowledged)

    def against_json(run: RunResult) -> str:
        return (
            f"{_common.ratio(run.per_second, json_run.per_second)} in records/s (p50 {run.pct(50):.0f} ms, "
            f"p99 {run.pct(99):.0f} ms), {_common.ratio(cpu_per_record(json_run), cpu_per_record(run))} "
            "in server CPU per record (JSON's over protobuf's: above 1 means protobuf costs less)"
        )

    summary = (
        "## Exchange ingest (`bench/exchange_ingest.py`)\n\n"
        f"End to end over HTTP on 127.0.0.1: gunicorn ({args.workers} workers x {args.threads} threads, "
        "production settings, started with config/gunicorn.py as `make run` does: warm-up, frozen "
        "start-up heap) -> JSON/protobuf decode -> spec validation -> PostgreSQL "
        f"{_pg_version()} commit (synchronous_commit on) -> acknowledgement; {args.clients} client "
        f"threads on the same machine ({cpu}; {_common.machine_note()}). Every request body was "
        "generated before timing; all records are unique; each run starts from an empty table; the "
        "JSON and protobuf runs of the same size alternate in halves (JSON, protobuf, protobuf+gzip, "
        "and again). *committed = acked* compares the rows in the database with the records the "
        "server acknowledged. Each table's storage limit is measured in the "
        "same run: binary COPY of the rows its bulk run stored, read back and copied again into the "
        f"emptied table, commit per {args.batch}, {args.clients} connections from 2 processes, the best "
        "of 3 runs; each "
        "run is given as a share of the limit of the table it writes (positions, or the order/"
        "operation events of the mixed stream).\n\n" + table([*limits, *results], rates) + "\n\n"
        f"**Bulk path (positions, JSON, batches of {args.batch}) = {json_run.per_second / limit_rate:.0%} "
        f"of the COPY limit measured in the same run** ({json_run.per_second:,.0f} vs "
        f"{limit_rate:,.0f} records/s; p50 {json_run.pct(50):.0f} ms, p99 {json_run.pct(99):.0f} ms). "
        f"Batches of {args.large_batch}: {large_run.per_second / limit_rate:.0%}. **Protobuf vs JSON** "
        f"(both sent plain): {against_json(plain_run)}. Protobuf+gzip vs JSON: "
        f"{against_json(protobuf_run)}. "
        "Bulk vs naive on positions: "
        f"{_common.ratio(json_run.per_second, naive_run.per_second)}; mixed stream bulk vs naive: "
        f"{_common.ratio(mixed_run.per_second, naive_mixed_run.per_second)}. **Mixed order/operation "
        f"stream = {mixed_run.per_second / event_rate:.0%} of its own COPY limit** "
        f"({mixed_run.per_second:,.0f} vs {event_rate:,.0f} records/s; p50 {mixed_run.pct(50):.0f} ms, "
        f"p99 {mixed_run.pct(99):.0f} ms); event rows' limit = {event_rate / limit_rate:.0%} of the "
        "positions'. "
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {total:.0f} s.\n\n"
        "The ratio to the COPY limit is the figure to compare between runs: the server, the database "
        "and the load generator share the 2 cores, and on a busy machine every absolute number drops. "
        "Series of runs, and the code before issue #16 measured beside today's: "
        "docs/adr/0004-exchange-ingest-storage.md.\n"
    )
    print()
    print(summary)
    if not args.no_docs:
        update_docs(summary)
    failed = any(r.committed != r.acknowledged or r.errors or r.rejected for r in results)
    return 1 if failed else 0


def _pg_version() -> str:
    import psycopg

    with psycopg.connect(_common.database_url("postgres")) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]).split()[0] if row else "?"


if __name__ == "__main__":
    sys.exit(main())
