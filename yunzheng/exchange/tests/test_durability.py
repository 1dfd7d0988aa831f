"""Acknowledged means committed: SIGKILL the server in the middle of a load run, then every record
that got a 200 must be in the database (and every batch is there completely or not at all).

Runs against the suite's database vendor: on PostgreSQL gunicorn serves the test database itself;
on SQLite (whose test database lives in memory) it serves a migrated SQLite file made for the test.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from django.conf import settings
from django.db import connection

from yunzheng.exchange.spec.samples import valid_record
from yunzheng.exchange.spec.validation import BEIJING

from .conftest import make_uploader

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(settings.BASE_DIR)
PER_BATCH = 200
CLIENTS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url})
    return env


def _postgres_setup() -> tuple[str, str, str, Any]:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    url = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    u = make_uploader()

    def counts() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT vehicle_no, count(*) FROM exchange_positionrecord GROUP BY vehicle_no")
            return dict(cursor.fetchall())

    return url, u.company_id, u.token, counts


def _sqlite_setup(tmp_path: Path) -> tuple[str, str, str, Any]:
    path = tmp_path / "durability.sqlite3"
    url = f"sqlite:///{path}"
    env = _env(url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True
    )
    script = (
        "import django; django.setup()\n"
        "from yunzheng.exchange.tests.conftest import make_uploader\n"
        "u = make_uploader()\n"
        "print(u.company_id, u.token)\n"
    )
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", script], cwd=REPO, env=env, check=True, capture_output=True, text=True
    )
    company_id, token = out.stdout.split()[-2:]

    def counts() -> dict[str, int]:
        with sqlite3.connect(path) as db:
            rows = db.execute("SELECT vehicle_no, count(*) FROM exchange_positionrecord GROUP BY vehicle_no")
            return dict(rows.fetchall())

    return url, company_id, token, counts


def test_sigkill_mid_load_loses_no_acknowledged_record(tmp_path: Path) -> None:
    if connection.vendor == "postgresql":
        url, company_id, token, counts = _postgres_setup()
    else:
        url, company_id, token, counts = _sqlite_setup(tmp_path)
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "2",
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=_env(url),
        start_new_session=True,  # its own process group: master and workers die together
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                probe.request("GET", "/healthz")
                if probe.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            assert server.poll() is None, "gunicorn exited"
            time.sleep(0.2)

        start = datetime.now(BEIJING).replace(microsecond=0) - timedelta(hours=1)
        template = valid_record("positionVehicle", seed=1, CompanyId=company_id)
        acked: list[str] = []
        sent: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def body(vehicle: str) -> bytes:
            records = [
                dict(
                    template,
                    VehicleNo=vehicle,
                    PositionTime=int((start + timedelta(seconds=i)).strftime("%Y%m%d%H%M%S")),
                )
                for i in range(PER_BATCH)
            ]
            return msgspec.json.encode(
                {
                    "CompanyId": company_id,
                    "Source": "0",
                    "IPCType": "positionVehicle",
                    "positionVehicle": records,
                }
            )

        def client(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for b in range(5000):
                if stop.is_set():
                    return
                vehicle = f"浙A{'DFG'[n]}{b:05d}"
                with lock:
                    sent.append(vehicle)
                try:
                    conn.request(
                        "POST",
                        "/exchange/v1/position/vehicle",
                        body=body(vehicle),
                        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                    )
                    response = conn.getresponse()
                    answer = response.read()
                except (OSError, http.client.HTTPException):
                    return  # the server is gone
                if response.status == 200 and msgspec.json.decode(answer)["accepted"] == PER_BATCH:
                    with lock:
                        acked.append(vehicle)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        while len(acked) < 15:
            assert any(t.is_alive() for t in threads), "the clients stopped before the kill"
            time.sleep(0.02)
        os.killpg(server.pid, signal.SIGKILL)  # master and workers, mid-run
        killed_after = len(acked)
        stop.set()
        for t in threads:
            t.join(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)

    stored = counts()
    lost = [v for v in acked if stored.get(v) != PER_BATCH]
    partial = {v: n for v, n in stored.items() if n != PER_BATCH}
    unacknowledged = [v for v in sent if v not in acked]
    late = sum(1 for v in unacknowledged if v in stored)
    print(
        f"\ndurability ({connection.vendor}): {len(acked)} batches acknowledged ({killed_after} at the "
        f"kill), {len(unacknowledged)} in flight or unsent, {late} of those committed anyway; "
        f"{sum(stored.values())} rows in the database"
    )
    assert len(acked) >= 15
    assert lost == [], f"acknowledged but not (completely) stored: {lost}"
    assert partial == {}, f"batches stored partially: {partial}"
    assert set(stored) <= set(sent)
