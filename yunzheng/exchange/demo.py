"""Demo data for `make run`: real uploads from the traffic simulator, through the real HTTP interface.

Uses the demo company of the accounts app (loaded first; loaded here if missing). When that company
has uploaded nothing yet, a production credential is minted for the simulator, an in-process HTTP
server (wsgiref, 127.0.0.1, random port) serves Django, and the simulator uploads a small city's
activity (20 drivers, 60 orders) to it. That runs after the surrounding transaction commits:
`manage.py load_demo` wraps each loader in a transaction, and on SQLite the server thread could not
write while it is open. Idempotent: nothing is simulated again once the company has uploads.
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.handlers.wsgi import WSGIHandler
from django.db import transaction

from yunzheng.accounts.credentials import company_credential_create
from yunzheng.accounts.models import Company, CompanyCredential
from yunzheng.core.demodata import DemoLogin
from yunzheng.exchange.client import ExchangeClient
from yunzheng.exchange.models import IngestBatch
from yunzheng.exchange.simulator import SimulationPlan, run

logger = logging.getLogger(__name__)

DEMO_DRIVERS = 20
DEMO_ORDERS = 60


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def _demo_company() -> Company:
    from yunzheng.accounts import demo as accounts_demo

    company = Company.objects.filter(credit_code=accounts_demo.COMPANY_CREDIT_CODE).first()
    if company is None:
        accounts_demo.load_demo()
        company = Company.objects.get(credit_code=accounts_demo.COMPANY_CREDIT_CODE)
    return company


def simulate_over_http(*, token: str, company_id: str, drivers: int, orders: int, seed: int = 1) -> int:
    """Serve Django on 127.0.0.1 in a thread and run the simulator against it; records sent."""
    server: WSGIServer = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="exchange-demo-server", daemon=True)
    thread.start()
    try:
        base_url = f"http://127.0.0.1:{server.server_port}"
        plan = SimulationPlan(company_id=company_id, drivers=drivers, orders=orders, seed=seed)
        with ExchangeClient(base_url, token, company_id, batch_size=1000) as client:
            report = run(plan, client, batch_size=1000)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    return sum(report.sent.values())


def load_demo() -> list[DemoLogin]:
    company = _demo_company()
    if not IngestBatch.objects.filter(company=company).exists():
        issued = company_credential_create(
            company=company, name="demo simulator", environment=CompanyCredential.Environment.PRODUCTION
        )
        company_id = company.supervision_company_id

        def simulate() -> None:
            try:
                sent = simulate_over_http(
                    token=issued.token, company_id=company_id, drivers=DEMO_DRIVERS, orders=DEMO_ORDERS
                )
                logger.info("exchange demo: %s records uploaded by the simulator", sent)
            except Exception:  # the demo must not stop `make run`
                logger.exception("exchange demo: the simulation failed")

        transaction.on_commit(simulate)
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
