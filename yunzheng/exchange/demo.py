"""Demo data for `make run`: three months of four platforms in 杭州 and 宁波, uploaded by the traffic
simulator through the real HTTP interface with each company's own production credential.

The platforms are the accounts demo's (``accounts.demo.PLATFORMS``). For each one that has
uploaded nothing yet, a production credential is minted, an in-process HTTP server (wsgiref,
127.0.0.1, random port) serves Django, and the simulator uploads each of the platform's cities
(:data:`OPERATIONS`): base information once, then every day since the first day of the month three
months ago - log-ins, orders (about :attr:`Operation.orders` a day), matches, cancellations, trips
with positions every five minutes, payments, ratings, complaints, carpools - and the records of
every other interface. Event times are back-dated: the interface accepts any event time after
2000-01-01 and up to a day ahead (``spec/datetimes.py``), so history is uploaded exactly as a
platform re-sends missed days. The exchange stamps each batch with its real receipt time, so the
data-quality page shows the demo's history as a large upload lag on the day `make run` loaded it.

Two platforms carry deliberate defects the regulators' pages should find: 钱江约车 sends some trips
of zero duration, 甬城出行 swaps latitude and longitude in every tenth position (rejected).

That runs after the surrounding transaction commits (`manage.py load_demo` wraps each loader in
one, and on SQLite the server thread could not write while it is open). Idempotent: a platform
with uploads is not simulated again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.handlers.wsgi import WSGIHandler
from django.db import transaction

from yunzheng.accounts.credentials import company_credential_create
from yunzheng.accounts.models import Company, CompanyCredential
from yunzheng.core.clock import today_in_china
from yunzheng.core.demodata import DemoLogin
from yunzheng.exchange.client import ExchangeClient
from yunzheng.exchange.models import IngestBatch
from yunzheng.exchange.simulator import RunReport, SimulationPlan, run
from yunzheng.exchange.spec.datetimes import BEIJING

logger = logging.getLogger(__name__)

# The demo company's Hangzhou drivers, shared with the alarms demo (same seed, same people).
DEMO_DRIVERS = 20
DEMO_ORDERS = 60
#: Months of history before the current one.
HISTORY_MONTHS = 3
POSITION_INTERVAL = 300  # seconds: tens of thousands of positions, not millions


@dataclass(frozen=True)
class Operation:
    """One platform's service in one city: who, where, how big, which defects."""

    company_id: str
    city: int
    drivers: int
    orders: int  # a day, on average
    seed: int
    faults: frozenset[str] = frozenset()
    hours_before_now: int = 0  # the history ends this long before now


OPERATIONS = (
    # 云途出行: its Hangzhou history ends three hours ago; the alarms demo adds the last hours.
    Operation("330106YUNTU0001", 330100, DEMO_DRIVERS, 14, seed=1, hours_before_now=3),
    Operation("330106YUNTU0001", 330200, 8, 6, seed=2),
    Operation("330104QJYC0001", 330100, 12, 10, seed=3, faults=frozenset({"zero_duration_trip"})),
    Operation("330203YCCX0001", 330200, 10, 9, seed=4, faults=frozenset({"swapped_lat_lon"})),
    Operation("330108ZLDC0001", 330100, 6, 5, seed=5),
    Operation("330108ZLDC0001", 330200, 4, 3, seed=6),
)


def history_start(today: Any = None) -> Any:
    """The first day of the demo's history: the first of the month HISTORY_MONTHS months ago."""
    first = (today or today_in_china()).replace(day=1)
    for _n in range(HISTORY_MONTHS):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def plan_for(operation: Operation, *, now: datetime | None = None) -> SimulationPlan:
    now = (now or datetime.now(BEIJING)).astimezone(BEIJING).replace(microsecond=0)
    end = now - timedelta(hours=operation.hours_before_now)
    days = (end.date() - history_start(now.date())).days + 1
    return SimulationPlan(
        company_id=operation.company_id,
        city=operation.city,
        drivers=operation.drivers,
        orders=operation.orders,
        seed=operation.seed,
        faults=operation.faults,
        position_interval=POSITION_INTERVAL,
        days=days,
        end=end,
    )


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class _InProcessServer:
    """Django served by wsgiref on 127.0.0.1 (random port) in a thread, for the simulator."""

    def __enter__(self) -> str:
        self.server: WSGIServer = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=_QuietHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="exchange-demo", daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_port}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def _send(base_url: str, token: str, plan: SimulationPlan) -> RunReport:
    with ExchangeClient(base_url, token, plan.company_id, batch_size=1000) as client:
        return run(plan, client, batch_size=1000)


def simulate_over_http(*, token: str, company_id: str, drivers: int, orders: int, seed: int = 1) -> int:
    """Serve Django on 127.0.0.1 in a thread and run the simulator against it; records sent."""
    plan = SimulationPlan(company_id=company_id, drivers=drivers, orders=orders, seed=seed)
    with _InProcessServer() as base_url:
        report = _send(base_url, token, plan)
    return sum(report.sent.values())


def upload_history(uploads: list[tuple[str, SimulationPlan]]) -> dict[str, int]:
    """Send each (token, plan) through the HTTP interface; records sent and rejected."""
    totals = {"sent": 0, "accepted": 0, "rejected": 0}
    with _InProcessServer() as base_url:
        for token, plan in uploads:
            report = _send(base_url, token, plan)
            totals["sent"] += sum(report.sent.values())
            totals["accepted"] += report.accepted
            totals["rejected"] += len(report.rejected)
    return totals


def _companies() -> dict[str, Company]:
    from yunzheng.accounts import demo as accounts_demo

    codes = [p.credit_code for p in accounts_demo.PLATFORMS]
    found = {c.supervision_company_id: c for c in Company.objects.filter(credit_code__in=codes)}
    if len(found) < len(codes):
        accounts_demo.load_demo()
        found = {c.supervision_company_id: c for c in Company.objects.filter(credit_code__in=codes)}
    return found


def load_demo() -> list[DemoLogin]:
    companies = _companies()
    uploads: list[tuple[str, SimulationPlan]] = []
    tokens: dict[str, str] = {}
    for operation in OPERATIONS:
        company = companies[operation.company_id]
        if IngestBatch.objects.filter(company=company).exists():
            continue
        if operation.company_id not in tokens:
            issued = company_credential_create(
                company=company, name="demo simulator", environment=CompanyCredential.Environment.PRODUCTION
            )
            tokens[operation.company_id] = issued.token
        uploads.append((tokens[operation.company_id], plan_for(operation)))

    if uploads:

        def simulate() -> None:
            try:
                totals = upload_history(uploads)
                logger.info(
                    "exchange demo: %(sent)s records uploaded by the simulator "
                    "(%(accepted)s accepted, %(rejected)s rejected on purpose)",
                    totals,
                )
            except Exception:  # the demo must not stop `make run`
                logger.exception("exchange demo: the simulation failed")

        transaction.on_commit(simulate)
    company = companies[OPERATIONS[0].company_id]
    return [
        DemoLogin(
            role="Regulators: supervision data exchange (uploads, vehicles, drivers, order stories)",
            how="log in as city or province staff (e.g. hz-transport, see above)",
            where="/exchange/staff/",
        ),
        DemoLogin(
            role=f"Upload interface for {company.name} (CompanyId {company.supervision_company_id})",
            how=(
                "POST JSON or protobuf with Authorization: Bearer <token>; mint a token with "
                f"`manage.py create_company_credential {company.credit_code}`, then try "
                "`manage.py simulate_platform --base-url … --token … --company-id "
                f"{company.supervision_company_id}`"
            ),
            where="/exchange/v1/position/vehicle",
        ),
    ]
