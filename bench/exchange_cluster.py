"""The exchange in log mode on one machine: 3 JetStream nodes, 2 ingest servers, 2 consumers.

    .venv/bin/python bench/exchange_cluster.py [--seconds 30] [--clients 4] [--batch 200] [--no-docs]

positionVehicle batches go to both ingest servers (gunicorn, ``EXCHANGE_LOG_URL`` set); two
``manage.py exchange_consume`` processes write PostgreSQL (its own database). Mid-run the stream's
leader node is SIGKILLed, and a little later one ingest server (its clients move to the other, as
behind a load balancer). Printed: acknowledged records, rows stored for them (must be equal:
0 lost; the unique keys make duplicates impossible, and rows are counted per acknowledged batch),
acknowledged records/s, p50/p99 of the acknowledgement and of the end-to-end lag (acknowledged ->
row visible in PostgreSQL). First, the raw JetStream publish-acknowledgement rate with 1 and 3
replicas on the same cluster (the figure of ADR 0008).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import _common
import msgspec

from yunzheng.exchange.log.cluster import LocalCluster
from yunzheng.exchange.spec.samples import valid_record
from yunzheng.exchange.spec.validation import BEIJING

DB = _common.database_name("exchange_cluster")


def distinct_ports(n: int) -> list[int]:
    """``n`` different free ports (from BENCH_PORTS when set)."""
    import socket

    low, high = 1024, 65535
    if os.environ.get("BENCH_PORTS"):
        lo, _sep, hi = os.environ["BENCH_PORTS"].partition("-")
        low, high = int(lo), int(hi or lo)
    found: list[int] = []
    for port in range(low, high + 1) if os.environ.get("BENCH_PORTS") else iter(lambda: 0, 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            got = int(s.getsockname()[1])
        if got not in found:
            found.append(got)
        if len(found) == n:
            return found
    raise RuntimeError("not enough free ports")


# ---------------------------------------------------------------------------------------------
# phase 1: raw publish-ack throughput
# ---------------------------------------------------------------------------------------------


async def publish_rate(urls: list[str], replicas: int, messages: int, size: int, inflight: int) -> float:
    import nats
    from nats.js import api

    nc = await nats.connect(servers=urls)
    js = nc.jetstream(timeout=10)
    name = f"RAW{replicas}"
    for _ in range(50):  # the meta leader may still be elected
        try:
            await js.add_stream(
                api.StreamConfig(name=name, subjects=[f"raw{replicas}.>"], num_replicas=replicas)
            )
            break
        except Exception:
            await asyncio.sleep(0.3)
    body = os.urandom(size)
    sem = asyncio.Semaphore(inflight)

    async def one(i: int) -> None:
        async with sem:
            await js.publish(f"raw{replicas}.x", body, headers={"Nats-Msg-Id": f"{i}"})

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(messages)))
    elapsed = time.perf_counter() - start
    await js.delete_stream(name)
    await nc.close()
    return messages / elapsed


async def stream_leader(urls: list[str], stream: str) -> str:
    import nats

    nc = await nats.connect(servers=urls)
    try:
        info = await nc.jetstream().stream_info(stream)
        return str(info.cluster.leader if info.cluster else "")
    finally:
        await nc.close()


# ---------------------------------------------------------------------------------------------
# phase 2: the exchange
# ---------------------------------------------------------------------------------------------


def create_company(env: dict[str, str]) -> tuple[str, str]:
    script = (
        "import django; django.setup()\n"
        "from yunzheng.accounts.models import Company\n"
        "from yunzheng.accounts.credentials import company_credential_create\n"
        "c = Company.objects.create(credit_code='91330106MA2H4K7Q1X', name='基准测试出行有限公司',\n"
        "    legal_representative='李明', supervision_company_id='3301YZBENCH01', region_code='330100')\n"
        "print(c.supervision_company_id, company_credential_create(company=c, name='bench').token)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=_common.REPO, env=env, check=True, capture_output=True, text=True
    )
    company_id, token = out.stdout.split()[-2:]
    return company_id, token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()

    ports = distinct_ports(8)
    cluster = LocalCluster(
        3, ports=[(ports[0], ports[1]), (ports[2], ports[3]), (ports[4], ports[5])]
    ).start()
    servers: list[subprocess.Popen[bytes]] = []
    consumers: list[subprocess.Popen[bytes]] = []
    try:
        r1 = asyncio.run(publish_rate(cluster.urls, 1, 3000, 20_000, 64))
        r3 = asyncio.run(publish_rate(cluster.urls, 3, 3000, 20_000, 64))
        print(f"JetStream publish-ack, 20 kB messages, 64 in flight: R1 {r1:,.0f}/s, R3 {r3:,.0f}/s")

        _common.recreate_database(DB)
        settings_dir = Path(tempfile.mkdtemp(prefix="yz-bench-"))
        _common.write_settings(settings_dir, "bench_cluster_settings")
        env = _common.bench_env(
            DB, settings_dir, "bench_cluster_settings", EXCHANGE_LOG_URL=",".join(cluster.urls)
        )
        _common.migrate(env)
        company_id, token = create_company(env)
        subprocess.run(
            [sys.executable, "manage.py", "exchange_log_setup"], cwd=_common.REPO, env=env, check=True
        )
        for port in ports[6:8]:
            servers.append(_common.start_gunicorn(env, port, workers=2, threads=4))
        for _ in range(2):
            consumers.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "exchange_consume"],
                    cwd=_common.REPO,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        result = run_load(args, company_id, token, ports[6:8], servers, cluster)
        result.update(drain_rate(args, env, company_id, token, ports[6], consumers))
    finally:
        for c in consumers:
            if c.poll() is None:
                os.killpg(c.pid, signal.SIGTERM)
        for s in servers:
            _common.stop_server(s)
        for c in consumers:
            try:
                c.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(c.pid, signal.SIGKILL)
        cluster.stop()
    report(args, r1, r3, result)


def drain_rate(
    args: argparse.Namespace,
    env: dict[str, str],
    company_id: str,
    token: str,
    port: int,
    consumers: list[subprocess.Popen[bytes]],
) -> dict[str, object]:
    """Consumer capacity: stop the consumers, let a backlog build up in the log, start two new
    consumers and time how fast they store it, from the first row stored to the last (records/s
    of 2 consumer processes, their start-up excluded)."""
    for c in consumers:
        os.killpg(c.pid, signal.SIGTERM)
    for c in consumers:
        c.wait(30)
    consumers.clear()
    template = valid_record("positionVehicle", seed=1, CompanyId=company_id)
    start_time = datetime.now(BEIJING).replace(microsecond=0) - timedelta(hours=2)
    times = [int((start_time + timedelta(seconds=i)).strftime("%Y%m%d%H%M%S")) for i in range(args.batch)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    batches = 60
    for b in range(batches):
        records = [dict(template, VehicleNo=f"沪D{b:05d}", PositionTime=t) for t in times]
        body = msgspec.json.encode(
            {"CompanyId": company_id, "Source": "0", "IPCType": "positionVehicle", "positionVehicle": records}
        )
        conn.request(
            "POST",
            "/exchange/v1/position/vehicle",
            body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
    backlog = batches * args.batch
    began = time.monotonic()
    for _ in range(2):
        consumers.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "exchange_consume"],
                cwd=_common.REPO,
                env=env,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
    deadline = began + 180
    stored = 0
    first_at = 0.0
    while time.monotonic() < deadline:
        stored = _common.execute(
            DB, "SELECT count(*) FROM exchange_positionrecord WHERE vehicle_no LIKE %s", ["沪D%"]
        )[0][0]
        if stored and not first_at:
            first_at = time.monotonic()  # the consumers are up (Django started, connected)
        if stored >= backlog:
            break
        time.sleep(0.05)
    elapsed = max(1e-3, time.monotonic() - first_at)
    return {"drain_records": stored, "drain_rate": stored / elapsed}


def run_load(
    args: argparse.Namespace,
    company_id: str,
    token: str,
    ports: list[int],
    servers: list[subprocess.Popen[bytes]],
    cluster: LocalCluster,
) -> dict[str, object]:
    import psycopg

    start_time = datetime.now(BEIJING).replace(microsecond=0) - timedelta(hours=1)
    template = valid_record("positionVehicle", seed=1, CompanyId=company_id)
    times = [int((start_time + timedelta(seconds=i)).strftime("%Y%m%d%H%M%S")) for i in range(args.batch)]
    acked: dict[str, float] = {}  # vehicle -> acknowledgement time (monotonic)
    ack_latency: list[float] = []
    refused = 0
    lock = threading.Lock()
    stop = threading.Event()
    dead: set[int] = set()

    def body(vehicle: str) -> bytes:
        records = [dict(template, VehicleNo=vehicle, PositionTime=t) for t in times]
        envelope = {"CompanyId": company_id, "Source": "0", "IPCType": "positionVehicle"}
        return msgspec.json.encode({**envelope, "positionVehicle": records})

    def client(n: int) -> None:
        nonlocal refused
        target = n % 2
        conn = http.client.HTTPConnection("127.0.0.1", ports[target], timeout=30)
        b = 0
        while not stop.is_set():
            if target in dead:  # the load balancer takes a dead server out
                target = 1 - target
                conn = http.client.HTTPConnection("127.0.0.1", ports[target], timeout=30)
            vehicle = f"浙{chr(0x41 + n)}{b:05d}"
            b += 1
            payload = body(vehicle)
            sent = time.monotonic()
            try:
                conn.request(
                    "POST",
                    "/exchange/v1/position/vehicle",
                    body=payload,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )
                response = conn.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", ports[target], timeout=30)
                with lock:
                    refused += 1
                continue
            now = time.monotonic()
            if response.status == 200 and msgspec.json.decode(answer)["accepted"] == args.batch:
                with lock:
                    acked[vehicle] = now
                    ack_latency.append(now - sent)
            else:
                with lock:
                    refused += 1

    visible: dict[str, float] = {}

    def watcher() -> None:
        last = 0
        with psycopg.connect(_common.database_url(DB), autocommit=True) as conn:
            while not stop.is_set() or len(visible) < len(acked):
                rows = conn.execute(
                    "SELECT batch_id, min(vehicle_no) FROM exchange_positionrecord WHERE batch_id > %s "
                    "GROUP BY batch_id",
                    [last],
                ).fetchall()
                now = time.monotonic()
                for batch_id, vehicle in rows:
                    visible.setdefault(vehicle, now)
                    last = max(last, batch_id)
                if stop.is_set() and now > drain_deadline:
                    return
                time.sleep(0.05)

    drain_deadline = float("inf")
    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    watch = threading.Thread(target=watcher)
    began = time.monotonic()
    for t in [*threads, watch]:
        t.start()
    killed_node = killed_server = ""
    while time.monotonic() - began < args.seconds:
        elapsed = time.monotonic() - began
        if not killed_node and elapsed > args.seconds * 0.35:
            leader = asyncio.run(stream_leader(cluster.urls, "YZX"))
            index = int(leader.rsplit("-", 1)[1])
            cluster.kill_node(index)
            killed_node = f"{leader} (stream leader) at {elapsed:.1f} s"
        if not killed_server and elapsed > args.seconds * 0.6:
            os.killpg(servers[1].pid, signal.SIGKILL)
            dead.add(1)
            killed_server = f"ingest server 2 at {elapsed:.1f} s"
        time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join(60)
    duration = time.monotonic() - began
    drain_deadline = time.monotonic() + 60
    watch.join(90)

    with psycopg.connect(_common.database_url(DB)) as conn:
        rows = conn.execute("SELECT vehicle_no, count(*) FROM exchange_positionrecord GROUP BY vehicle_no")
        per_vehicle: dict[str, int] = {str(v): int(n) for v, n in rows.fetchall()}
    acked_records = len(acked) * args.batch
    stored_for_acked = sum(min(per_vehicle.get(v, 0), args.batch) for v in acked)
    lost = sum(1 for v in acked if per_vehicle.get(v, 0) != args.batch)
    duplicated = sum(max(0, n - args.batch) for n in per_vehicle.values())
    unacked_stored = sum(n for v, n in per_vehicle.items() if v not in acked)
    lags = [visible[v] - t for v, t in acked.items() if v in visible]
    return {
        "duration": duration,
        "acked_records": acked_records,
        "stored_for_acked": stored_for_acked,
        "lost_batches": lost,
        "duplicated": duplicated,
        "unacked_stored": unacked_stored,
        "refused": refused,
        "rate": acked_records / duration,
        "ack_p50": _common.percentile(ack_latency, 0.5),
        "ack_p99": _common.percentile(ack_latency, 0.99),
        "lag_p50": _common.percentile(lags, 0.5),
        "lag_p99": _common.percentile(lags, 0.99),
        "killed_node": killed_node,
        "killed_server": killed_server,
    }


def report(args: argparse.Namespace, r1: float, r3: float, r: dict[str, object]) -> None:
    def ms(key: str) -> str:
        return f"{float(r[key]) * 1000:.0f} ms"  # type: ignore[arg-type]

    rows = [
        ("JetStream publish-ack, 20 kB, R1", f"{r1:,.0f} messages/s"),
        ("JetStream publish-ack, 20 kB, R3", f"{r3:,.0f} messages/s ({_common.ratio(r3, r1)} of R1)"),
        ("run", f"{r['duration']:.1f} s, {args.clients} clients, {args.batch} records per batch"),
        ("killed", f"{r['killed_node']}; {r['killed_server']}"),
        ("acknowledged records", f"{r['acked_records']:,}"),
        ("rows stored for them", f"{r['stored_for_acked']:,}"),
        ("lost (acknowledged, not stored)", f"{r['lost_batches']} batches"),
        ("duplicated rows", f"{r['duplicated']}"),
        ("refused or unanswered batches (503 / server killed)", f"{r['refused']}"),
        ("rows of unacknowledged batches (answer lost, publish landed)", f"{r['unacked_stored']:,}"),
        ("acknowledged records/s", f"{float(r['rate']):,.0f}"),  # type: ignore[arg-type]
        ("acknowledgement p50 / p99", f"{ms('ack_p50')} / {ms('ack_p99')}"),
        ("end-to-end lag p50 / p99 (ack -> row visible)", f"{ms('lag_p50')} / {ms('lag_p99')}"),
        (
            "consumer capacity: backlog stored by 2 fresh consumers",
            f"{r['drain_records']:,} records at {float(r['drain_rate']):,.0f} records/s",  # type: ignore[arg-type]
        ),
    ]
    text = (
        "## Exchange in log mode, with failures (`bench/exchange_cluster.py`)\n\n"
        "3 JetStream nodes (R3 stream), 2 ingest servers (gunicorn, 2 workers x 4 threads each), "
        "2 `exchange_consume` processes, PostgreSQL, all on this machine; positionVehicle load at "
        "both servers; the stream's leader node and one ingest server SIGKILLed mid-run.\n\n"
        + _common.table(["measure", "value"], rows)
        + f"\n\n{_common.machine_note()}. Every process (3 NATS nodes, 2 x 2 gunicorn workers, 2 "
        "consumers, PostgreSQL, the load generator) shares the same cores, so the rates are a floor, "
        "not a capacity figure; what the run proves is the equality of acknowledged and stored.\n"
    )
    print(text)
    if not args.no_docs:
        _common.write_docs_section("exchange_cluster.py", text)
    if r["lost_batches"] or r["duplicated"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
