"""Alarm rule engine throughput and SOS alarm latency.

    .venv/bin/python bench/alarm_engine.py [--vehicles 2000] [--positions 1000000] [--orders 100000]
                                           [--latency-uploads 200] [--no-latency] [--no-docs]

Part 1 - rule evaluation alone, one core, in memory (what the engine costs per record):
  synthetic positionVehicle records of ``--vehicles`` vehicles in 杭州 (every 5 s, some
  carrying passengers out of town, some with WarnStatus bits, some without breaks) and order
  records (orderMatch, operatePay with some unlicensed parties and odd fares), replayed in
  1,000-record batches through ``Engine.process`` with every built-in kind enabled (the two
  periodic kinds only keep state per record). The baseline in the same run is the engine with no
  rule at all (parsing the time and keeping each vehicle's state): the ratio is the rules' cost.
  Generation happens before timing.
Part 2 - latency on the real path (PostgreSQL database ``<BENCH_DB_PREFIX>_alarms``, recreated):
  SOS positions uploaded through the exchange HTTP view (Django test client, no socket); for each
  upload the time to the acknowledgement, the share spent evaluating alarms after the commit, and
  whether the alarm already exists when the response arrives.
Prints a table and rewrites its section of docs/benchmarks.md (unless --no-docs).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common

DB_NAME = _common.database_name("alarms")

HZ = 330100
SH = (121_470_000, 31_230_000)


def dt14(epoch: int) -> int:
    t = time.gmtime(epoch + 8 * 3600)
    return (
        (((t.tm_year * 100 + t.tm_mon) * 100 + t.tm_mday) * 100 + t.tm_hour) * 100 + t.tm_min
    ) * 100 + t.tm_sec


def positions(vehicles: int, total: int, start: int) -> list[list[dict[str, Any]]]:
    """Batches of 1,000 positions in time order: each vehicle reports every 5 seconds."""
    rng = random.Random(7)
    state: list[dict[str, Any]] = []
    for v in range(vehicles):
        kind = v % 50
        state.append(
            {
                "plate": f"浙A{v:05d}",
                "lon": rng.randint(120_050_000, 120_300_000),
                "lat": rng.randint(30_180_000, 30_340_000),
                "out": kind == 1,  # carries passengers in 上海
                "sos": kind == 2,
                "nonstop": kind == 3,
            }
        )
    out: list[dict[str, Any]] = []
    tick = 0
    stamps: dict[int, int] = {}
    while len(out) < total:
        epoch = start + tick * 5
        stamp = stamps.setdefault(epoch, dt14(epoch))
        for s in state:
            s["lon"] += rng.randint(-300, 300)
            s["lat"] += rng.randint(-300, 300)
            lon, lat = SH if s["out"] else (s["lon"], s["lat"])
            stopped = not s["nonstop"] and (tick // 60) % 6 == 5  # a 5-minute stop every 30 minutes
            out.append(
                {
                    "CompanyId": "BENCH",
                    "VehicleNo": s["plate"],
                    "VehicleRegionCode": HZ,
                    "PositionTime": stamp,
                    "Longitude": lon,
                    "Latitude": lat,
                    "Speed": 0 if stopped else 38,
                    "Direction": 90,
                    "WarnStatus": 1 if s["sos"] and tick % 120 < 12 else 0,
                    "BizStatus": 1 if tick % 10 < 6 else 3,
                    "OrderId": "X",
                    "Encrypt": 1,
                }
            )
        tick += 1
    out = out[:total]
    return [out[i : i + 1000] for i in range(0, len(out), 1000)]


def orders(total: int, start: int) -> tuple[list[list[dict[str, Any]]], list[list[dict[str, Any]]]]:
    rng = random.Random(11)
    matches, pays = [], []
    for n in range(total):
        t = start + n * 2
        driver = f"{'bad' if n % 40 == 0 else 'ok'}{n % 500:04d}"
        plate = f"浙A{n % 2000:05d}"
        matches.append(
            {
                "OrderId": f"O{n}",
                "Address": 330106 if n % 30 else 310101,
                "LicenseId": driver,
                "VehicleNo": plate,
                "DistributeTime": dt14(t),
                "_driver_display": "3301********0011",
            }
        )
        km = rng.uniform(2, 20)
        price = km * (2.5 if n % 50 else 12.0) + 8
        pays.append(
            {
                "OrderId": f"O{n}",
                "OnArea": 330106,
                "LicenseId": driver,
                "VehicleNo": plate,
                "DepTime": dt14(t + 300),
                "DriveMile": round(km, 2),
                "DriveTime": int(km / 30 * 3600),
                "FactPrice": round(price, 1),
            }
        )
    split = lambda rows: [rows[i : i + 1000] for i in range(0, len(rows), 1000)]  # noqa: E731
    return split(matches), split(pays)


class MemoryContext:
    """Registry answers from memory (the live path prefetches the same per batch)."""

    def __init__(self) -> None:
        from yunzheng.alarms.context import city_bounds

        self._bounds = city_bounds

    def licence_state(self, kind: str, identifier: str, epoch: int) -> str:
        return "unlicensed" if identifier.startswith("bad") else "valid"

    def city_licensed(self, company_pk: int, city: int, epoch: int) -> bool | None:
        return city == HZ

    def city_bounds(self, city: int) -> Any:
        return self._bounds(city)


def all_rules() -> list[Any]:
    from yunzheng.alarms.engine import compile_rule
    from yunzheng.alarms.kinds import PARAMS, Schedule, compile_schedule, default_params

    always = compile_schedule(Schedule())
    specs = []
    for i, kind in enumerate(PARAMS, start=1):
        params = default_params(kind)
        if kind == "warn_status":
            params = {"bits": [0], "auto_close": True}
        specs.append(
            compile_rule(
                id=i,
                version=1,
                kind=kind,
                severity="high",
                region_code="330100",
                schedule=always,
                params=params,
            )
        )
    return specs


def run_engine(
    specs: list[Any], batches: list[list[dict[str, Any]]], interface: str
) -> tuple[float, int, float]:
    from yunzheng.alarms.engine import OPEN, Engine

    engine = Engine(specs)
    ctx = MemoryContext()
    states: dict[str, dict[str, Any]] = {}
    signals: list[Any] = []
    count = 0
    started = time.process_time()  # CPU seconds of this process: the per-core figure
    wall = time.perf_counter()
    for batch in batches:
        engine.process(
            company_pk=1,
            company_region=HZ,
            interface=interface,
            records=batch,
            states=states,
            ctx=ctx,
            out=signals,
        )
        count += len(batch)
    elapsed = time.process_time() - started
    wall = time.perf_counter() - wall
    return count / elapsed, sum(1 for s in signals if s.action == OPEN), count / wall


def part_one(args: argparse.Namespace) -> dict[str, Any]:
    start = int(time.time()) - 6 * 3600
    pos = positions(args.vehicles, args.positions, start)
    matches, pays = orders(args.orders, start)
    specs = all_rules()
    results: dict[str, Any] = {}
    best = lambda f: max((f() for _ in range(args.repeat)), key=lambda r: r[0])  # noqa: E731
    results["positions_baseline"] = best(lambda: run_engine([], pos, "positionVehicle"))
    results["positions"] = best(lambda: run_engine(specs, pos, "positionVehicle"))
    results["matches"] = best(lambda: run_engine(specs, matches, "orderMatch"))
    results["pays"] = best(lambda: run_engine(specs, pays, "operatePay"))
    return results


def part_two(args: argparse.Namespace) -> dict[str, Any]:
    """SOS uploads through the HTTP view on PostgreSQL."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections

    assert connection.vendor == "postgresql", "part 2 measures PostgreSQL"
    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = ["*"]

    from yunzheng.accounts.tests.factories import staff
    from yunzheng.alarms import live
    from yunzheng.alarms.models import Alarm
    from yunzheng.alarms.services import rule_create
    from yunzheng.exchange import hooks
    from yunzheng.exchange.tests.conftest import make_uploader

    uploader = make_uploader()
    author = staff("bench-clerk", region="330100")
    staff("bench-police", department="public_security", region="330100")
    rule_create(
        user=author,
        name="SOS",
        region_code="330100",
        kind="warn_status",
        severity="critical",
        params={"bits": [0]},
        enabled=True,
    )
    live.forget_compiled_rules()
    spent: list[float] = []

    def timed(batch: Any) -> None:
        t = time.perf_counter()
        live.on_stored_batch(batch)
        spent.append(time.perf_counter() - t)

    hooks.register_records_listener("alarms", timed)
    ack, visible = [], 0
    now = int(time.time()) - 600
    for n in range(args.latency_uploads):
        plate = f"浙A{n % 97:05d}"
        records = [
            {
                "CompanyId": uploader.company_id,
                "VehicleNo": plate,
                "VehicleRegionCode": HZ,
                "PositionTime": dt14(now + n),
                "Longitude": 120_150_000 + i,
                "Latitude": 30_270_000,
                "Speed": 30,
                "Direction": 90,
                "WarnStatus": 1 if i == 99 and n % 2 == 0 else 0,
                "BizStatus": 1,
                "OrderId": "X",
                "Encrypt": 1,
            }
            for i in range(100)
        ]
        t = time.perf_counter()
        response = uploader.post_json("positionVehicle", records)
        ack.append(time.perf_counter() - t)
        assert response.status_code == 200, response.content
        if (
            n % 2 == 0
            and Alarm.objects.filter(vehicle_no=plate, is_sos=True).exclude(state="closed").exists()
        ):
            visible += 1
    hooks.register_records_listener("alarms", live.on_stored_batch)
    connections["default"].close()
    q = lambda xs, p: _common.percentile(xs, p) * 1000  # noqa: E731
    return {
        "uploads": len(ack),
        "ack_p50": q(ack, 0.5),
        "ack_p99": q(ack, 0.99),
        "eval_p50": q(spent, 0.5),
        "eval_p99": q(spent, 0.99),
        "sos_expected": (len(ack) + 1) // 2,
        "sos_visible": visible,
    }


def render(args: argparse.Namespace, one: dict[str, Any], two: dict[str, Any] | None) -> str:
    base = one["positions_baseline"][0]
    rows: list[list[object]] = [
        [
            "positionVehicle, no rule (baseline: time + state only)",
            f"{base:,.0f}",
            f"{one['positions_baseline'][2]:,.0f}",
            "1.00×",
            0,
        ],
        [
            "positionVehicle, all 8 kinds",
            f"{one['positions'][0]:,.0f}",
            f"{one['positions'][2]:,.0f}",
            _common.ratio(one["positions"][0], base),
            f"{one['positions'][1]:,}",
        ],
        [
            "orderMatch, all 8 kinds",
            f"{one['matches'][0]:,.0f}",
            f"{one['matches'][2]:,.0f}",
            "",
            f"{one['matches'][1]:,}",
        ],
        [
            "operatePay, all 8 kinds",
            f"{one['pays'][0]:,.0f}",
            f"{one['pays'][2]:,.0f}",
            "",
            f"{one['pays'][1]:,}",
        ],
    ]
    volume = f"{args.positions:,} positions of {args.vehicles:,} vehicles, {args.orders:,} orders"
    text = [
        "## Alarm rule engine (`bench/alarm_engine.py`)",
        "",
        f"{_common.machine_note()}. {volume}; best of {args.repeat}; rule evaluation alone (one "
        "thread), state and registry answers in memory. Per CPU second = the process's own CPU time (one "
        "core); per wall second suffers from the other engineers' load.",
        "",
        _common.table(
            [
                "stream",
                "records per CPU second",
                "records per wall second",
                "vs no-rule baseline",
                "incidents opened",
            ],
            rows,
        ),
    ]
    if two:
        text += [
            "",
            "SOS latency on the real path (PostgreSQL, exchange HTTP view via the Django test client, "
            f"100-position batches, {two['uploads']} uploads, every other one with bit 0 set):",
            "",
            _common.table(
                ["measure", "p50 ms", "p99 ms"],
                [
                    [
                        "upload to acknowledgement (validation, COPY commit, alarm evaluation)",
                        f"{two['ack_p50']:.1f}",
                        f"{two['ack_p99']:.1f}",
                    ],
                    [
                        "of which alarm evaluation after the commit (state lock, rules, alarm write)",
                        f"{two['eval_p50']:.1f}",
                        f"{two['eval_p99']:.1f}",
                    ],
                ],
            ),
            "",
            f"SOS alarms present when the acknowledgement arrived: {two['sos_visible']} of "
            f"{two['sos_expected']} (evaluation runs after the commit and before the answer).",
        ]
    return "\n".join(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vehicles", type=int, default=2000)
    parser.add_argument("--positions", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--latency-uploads", type=int, default=200)
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    if not args.no_latency:
        _common.recreate_database(DB_NAME)
    _common.setup_django(DB_NAME)
    one = part_one(args)
    two = None if args.no_latency else part_two(args)
    text = render(args, one, two)
    print(text)
    if not args.no_docs:
        _common.write_docs_section("alarm_engine.py", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
