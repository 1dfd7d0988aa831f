"""What the benchmark scripts share: database set-up, a gunicorn server, timing and reporting.

Every script imports this module as ``_common`` (``bench/`` is on ``sys.path`` when a script runs).
Conventions it keeps in one place:

* databases live on ``postgres@127.0.0.1:5432`` (trust auth) and are named
  ``<BENCH_DB_PREFIX>_<suffix>`` (prefix ``yunzheng_bench`` unless the environment sets one, so
  people sharing a machine do not reset each other's databases);
* servers bind a free port on 127.0.0.1, taken from ``BENCH_PORTS`` (``18500-18599``) when set;
* a figure is reported next to a baseline measured in the same run, as a ratio, and each script
  rewrites only its own section of ``docs/benchmarks.md`` together with a note on the machine
  (CPUs, load average while measuring: on a shared machine the absolute numbers are pessimistic).
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PG_URL = "postgres://postgres@127.0.0.1:5432"
DOCS = REPO / "docs" / "benchmarks.md"
GUNICORN = Path(sys.executable).parent / "gunicorn"


# ---------------------------------------------------------------------------------------------
# databases
# ---------------------------------------------------------------------------------------------


def database_name(suffix: str) -> str:
    return f"{os.environ.get('BENCH_DB_PREFIX', 'yunzheng_bench')}_{suffix}"


def database_url(name: str) -> str:
    return f"{PG_URL}/{name}"


def recreate_database(name: str) -> str:
    """A fresh, empty database: created if missing, else its schema is dropped and recreated.

    Not DROP DATABASE: it waits for every backend of the cluster to acknowledge a barrier (so one
    stuck session elsewhere stalls it), and interrupted, it leaves an invalid database behind.
    """
    import psycopg

    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {name}")
            return name
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
    with psycopg.connect(database_url(name), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return name


def execute(name: str, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement on the bench database (autocommit); returns its rows, if any."""
    import psycopg

    with psycopg.connect(database_url(name), autocommit=True) as conn:
        cursor = conn.execute(sql, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def count_rows(name: str, table: str) -> int:
    rows = execute(name, f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
    return int(rows[0][0]) if rows else 0


# ---------------------------------------------------------------------------------------------
# Django in this process, or in subprocesses with production settings
# ---------------------------------------------------------------------------------------------


def setup_django(database: str, settings_module: str = "config.settings.test") -> None:
    """Django in the benchmark's own process, on the bench database."""
    os.environ["DATABASE_URL"] = database_url(database)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()


def bench_env(database: str, settings_dir: Path, settings_name: str, **extra: str) -> dict[str, str]:
    """Environment for subprocesses (manage.py, gunicorn): production settings, bench keys."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings_name,
            "PYTHONPATH": os.pathsep.join([str(settings_dir), str(REPO), env.get("PYTHONPATH", "")]),
            "DATABASE_URL": database_url(database),
            "SECRET_KEY": "bench-only-secret-key-" + "b" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "FIELD_ENCRYPTION_KEYS": '{"b1": "00112233445566778899aabbccddeeff"}',
            "FIELD_ENCRYPTION_ACTIVE_KEY_ID": "b1",
            "FIELD_HASH_KEY": "ffeeddccbbaa99887766554433221100",
            "SECURE_SSL_REDIRECT": "0",
            "SMS_BACKEND": "yunzheng.core.sms.LocmemSmsBackend",
        }
    )
    env.update(extra)
    return env


def write_settings(directory: Path, settings_name: str, extra_lines: Iterable[str] = ()) -> None:
    """A settings module: production settings (or ``BENCH_BASE_SETTINGS``), quiet logging, plus
    the knobs a benchmark turns (config/ stays untouched)."""
    base = os.environ.get("BENCH_BASE_SETTINGS", "config.settings.production")
    lines = [
        f"from {base} import *  # noqa: F403",
        "import os",
        *extra_lines,
        "LOGGING = {'version': 1, 'disable_existing_loggers': False,",
        "           'root': {'handlers': [], 'level': 'WARNING'}}",
    ]
    (directory / f"{settings_name}.py").write_text("\n".join(lines) + "\n", encoding="utf-8")


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True
    )


# ---------------------------------------------------------------------------------------------
# a gunicorn server
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    """A free port on 127.0.0.1: the first free one of ``BENCH_PORTS`` (``low-high``), else any."""
    ports = os.environ.get("BENCH_PORTS", "")
    candidates: Iterable[int] = [0]
    if ports:
        low, _sep, high = ports.partition("-")
        candidates = range(int(low), int(high or low) + 1)
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError(f"no free port in BENCH_PORTS={ports}")


def wait_for_port(port: int, *, timeout: float = 60, process: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f} s")


def start_gunicorn(
    env: dict[str, str],
    port: int,
    *,
    workers: int,
    threads: int,
    config: str | None = None,
    extra_args: Sequence[str] = (),
    quiet: bool = True,
    wsgi: str = "config.wsgi",
) -> subprocess.Popen[bytes]:
    """gunicorn ``config.wsgi`` (or another `wsgi` module that wraps it, e.g. to install a
    benchmark-only variant); ``config="config/gunicorn.py"`` adds the warm-up hooks of `make run`."""
    args = [str(GUNICORN), wsgi, "--bind", f"127.0.0.1:{port}"]
    if config and (REPO / config).exists():
        args += ["--config", config]
    args += ["--workers", str(workers), "--threads", str(threads), "--backlog", "4096", "--timeout", "120"]
    args += list(extra_args)
    server = subprocess.Popen(
        args,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL if quiet else None,
        stderr=subprocess.DEVNULL if quiet else None,
        start_new_session=True,
    )
    try:
        wait_for_port(port, process=server)
    except RuntimeError:
        stop_server(server)
        raise
    return server


def stop_server(server: subprocess.Popen[Any]) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (a gunicorn arbiter's workers)."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU time used so far by these processes (from /proc): a cost that, unlike
    wall-clock time, other work on a shared machine does not inflate."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def process_tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (a gunicorn arbiter and its workers), in MB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        return 0.0
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


# ---------------------------------------------------------------------------------------------
# timing and reporting
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """``count`` operations: per second of wall-clock time and per second of this process's CPU
    time (the per-core figure that stays meaningful when other work shares the machine)."""

    count: int
    wall_s: float
    cpu_s: float

    @property
    def per_s(self) -> float:
        return self.count / self.wall_s if self.wall_s else float("inf")

    @property
    def per_cpu_s(self) -> float:
        return self.count / self.cpu_s if self.cpu_s else float("inf")


def measure(operation: Callable[[], object], count: int) -> Rate:
    """Run ``operation`` ``count`` times; wall-clock and CPU time of the whole loop."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        operation()
    return Rate(count, time.perf_counter() - wall, time.process_time() - cpu)


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def ratio(value: float, baseline: float) -> str:
    """ "3.2×" — a figure against the baseline measured in the same run."""
    if not baseline:
        return "n/a"
    return f"{value / baseline:.2f}×" if value / baseline < 10 else f"{value / baseline:.0f}×"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table (also readable printed)."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_note() -> str:
    """What the numbers were measured on, for the docs: shared machines give pessimistic figures."""
    load = os.getloadavg()
    busy = load[1] > (os.cpu_count() or 1)
    return (
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} while measuring"
        # The benchmark's own processes raise the 1-minute figure; the 5-minute one above the
        # number of CPUs means other work shared the machine.
        + (" — the machine was busy, so absolute figures are pessimistic" if busy else "; a quiet machine")
    )


def write_docs_section(script: str, text: str) -> None:
    """Replace (or append) the section of docs/benchmarks.md that belongs to ``script``."""
    start, end = f"<!-- bench/{script}: start -->", f"<!-- bench/{script}: end -->"
    current = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    block = f"{start}\n{text.rstrip()}\n{end}"
    if start in current and end in current:
        before, _sep, rest = current.partition(start)
        _old, _sep, after = rest.partition(end)
        current = before + block + after
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    DOCS.write_text(current, encoding="utf-8")
    print(f"updated {DOCS.relative_to(REPO)}")
