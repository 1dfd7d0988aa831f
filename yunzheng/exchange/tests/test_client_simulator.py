"""The company-side client and the traffic simulator, against a live server on the test database."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from yunzheng.exchange.client import ExchangeClient, ExchangeError
from yunzheng.exchange.demo import simulate_over_http
from yunzheng.exchange.ingest.plans import plan_for
from yunzheng.exchange.models import EventRecord, IngestBatch, PositionRecord
from yunzheng.exchange.simulator import SimulationPlan, generate, run
from yunzheng.exchange.spec import get_spec, get_validator
from yunzheng.exchange.spec.datetimes import BEIJING, datetime14_to_datetime

from .conftest import make_uploader

pytestmark = pytest.mark.django_db(transaction=True)

SMALL: dict[str, Any] = {"drivers": 3, "orders": 8, "position_interval": 30}


def test_simulated_records_are_valid_and_orders_are_in_time_order() -> None:
    plan = SimulationPlan(company_id="3301YZCX0001", drivers=5, orders=30, seed=3, cancel_share=0.3)
    events = list(generate(plan))
    by_order: dict[str, dict[str, Any]] = defaultdict(dict)
    for interface, record in events:
        _, errors = get_validator(interface).validate(record)
        assert not errors, (interface, errors)
        if "OrderId" in record and not interface.startswith("position"):
            by_order[record["OrderId"]][interface] = record
    assert events[0][0] == "baseInfoCompany"
    kinds = {t for t, _ in events}
    assert {
        "operateLogin",
        "operateLogout",
        "positionVehicle",
        "positionDriver",
        "orderCancel",
        "operatePay",
    } <= kinds
    cancelled_by = {r["orderCancel"]["Operator"] for r in by_order.values() if "orderCancel" in r}
    assert cancelled_by >= {"1", "3"}
    completed = [r for r in by_order.values() if "operatePay" in r]
    assert completed
    now = datetime.now(BEIJING)
    for r in completed:
        stamps = [
            r["orderCreate"]["OrderTime"],
            r["orderMatch"]["DistributeTime"],
            r["operateDepart"]["DepTime"],
            r["operateArrive"]["DestTime"],
            r["operatePay"]["PayTime"],
        ]
        assert stamps == sorted(stamps)
        assert len(set(stamps)) == 5
        assert datetime14_to_datetime(stamps[-1]) <= now
        assert r["operatePay"]["FactPrice"] >= 11.0
    # the same seed and end give the same activity
    end = datetime.now(BEIJING).replace(microsecond=0) - timedelta(hours=1)
    first = list(generate(SimulationPlan(company_id="3301YZCX0001", drivers=2, orders=4, seed=9, end=end)))
    second = list(generate(SimulationPlan(company_id="3301YZCX0001", drivers=2, orders=4, seed=9, end=end)))
    assert first == second


@pytest.mark.parametrize("wire", ["json", "protobuf"])
def test_simulator_uploads_through_http(live_server: Any, wire: str) -> None:
    u = make_uploader()
    end = datetime.now(BEIJING).replace(microsecond=0)
    plan = SimulationPlan(company_id=u.company_id, seed=5, end=end, **SMALL)
    with ExchangeClient(
        live_server.url, u.token, u.company_id, wire=wire, batch_size=200, compress=True
    ) as client:
        report = run(plan, client, batch_size=300)
    total = sum(report.sent.values())
    assert report.rejected == []
    assert (report.accepted, report.duplicates) == (total, 0)
    assert PositionRecord.objects.count() == report.sent["positionVehicle"] + report.sent["positionDriver"]
    assert len(report.sent) == 32  # every interface
    assert EventRecord.objects.count() == sum(
        n for t, n in report.sent.items() if plan_for(get_spec().interface(t)).kind == "event"
    )
    # re-sending the same activity stores nothing new
    with ExchangeClient(live_server.url, u.token, u.company_id, wire=wire) as client:
        again = run(plan, client)
    assert (again.accepted, again.duplicates) == (0, total)


def test_faults_are_reported_back_by_index(live_server: Any) -> None:
    u = make_uploader()
    plan = SimulationPlan(company_id=u.company_id, seed=2, faults=frozenset({"swapped_lat_lon"}), **SMALL)
    with ExchangeClient(live_server.url, u.token, u.company_id, batch_size=50) as client:
        report = run(plan, client)
    assert report.rejected
    assert {(t, e[0]["code"]) for t, _, e in report.rejected} == {("positionVehicle", "coordinate_range")}
    sent_positions = [r for t, r in generate(plan) if t == "positionVehicle"]
    for _, index, errors in report.rejected:
        record = sent_positions[index]
        assert record["Longitude"] < record["Latitude"]  # really the swapped ones
        assert "swapped" in errors[0]["message"]


def test_simulate_platform_command(live_server: Any) -> None:
    u = make_uploader()
    out = StringIO()
    call_command(
        "simulate_platform",
        "--base-url",
        live_server.url,
        "--token",
        u.token,
        "--company-id",
        u.company_id,
        "--drivers",
        "2",
        "--orders",
        "3",
        "--position-interval",
        "60",
        "--wire",
        "protobuf",
        stdout=out,
    )
    assert "0 rejected" in out.getvalue()
    assert IngestBatch.objects.filter(company=u.company, wire_format="protobuf").exists()


def test_demo_simulation_over_an_in_process_server() -> None:
    u = make_uploader()
    sent = simulate_over_http(token=u.token, company_id=u.company_id, drivers=2, orders=3)
    assert sent > 0
    assert sum(IngestBatch.objects.values_list("accepted", flat=True)) == sent


class _Flaky(BaseHTTPRequestHandler):
    statuses: list[int] = []
    calls = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls += 1
        status = self.statuses.pop(0) if self.statuses else 200
        body: dict[str, Any] = (
            {"result": "ok", "batch_id": 1, "received": 1, "accepted": 1, "duplicates": 0, "rejected": []}
            if status == 200
            else {"error": {"code": "envelope_field" if status == 400 else "busy", "message": "m"}}
        )
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def flaky() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=False)
def test_client_retries_5xx_and_429_but_not_4xx(flaky: str) -> None:
    from yunzheng.exchange.spec.samples import valid_record

    sleeps: list[float] = []
    record = valid_record("orderCreate")
    _Flaky.statuses, _Flaky.calls = [503, 429], 0
    client = ExchangeClient(flaky, "yz_x_y", "3301YZCX0001", sleep=sleeps.append, backoff_seconds=0.1)
    report = client.send("orderCreate", [record])
    assert (report.accepted, report.retries, _Flaky.calls) == (1, 2, 3)
    assert len(sleeps) == 2
    assert sleeps[1] > sleeps[0] * 0.6

    _Flaky.statuses, _Flaky.calls = [400], 0
    with pytest.raises(ExchangeError) as refused:
        client.send("orderCreate", [record])
    assert (refused.value.status, refused.value.code, _Flaky.calls) == (400, "envelope_field", 1)

    _Flaky.statuses, _Flaky.calls = [503] * 10, 0
    client.max_retries = 2
    with pytest.raises(ExchangeError):
        client.send("orderCreate", [record])
    assert _Flaky.calls == 3
    client.close()

    dead = ExchangeClient("http://127.0.0.1:9", "t", "c", max_retries=1, sleep=lambda s: None, timeout=2)
    with pytest.raises(ExchangeError) as down:
        dead.send("orderCreate", [record])
    assert down.value.code == "connection_failed"


@pytest.mark.django_db(transaction=False)
def test_client_splits_batches_and_maps_indexes(flaky: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def fake_post(self: ExchangeClient, path: str, encoded: tuple[bytes, dict[str, str]]) -> tuple[dict, int]:
        records = json.loads(encoded[0])["orderCreate"]
        calls.append(len(records))
        return {"accepted": len(records) - 1, "duplicates": 0, "rejected": [{"index": 0, "errors": []}]}, 0

    monkeypatch.setattr(ExchangeClient, "_post_batch", fake_post)
    client = ExchangeClient(flaky, "t", "c", batch_size=4)
    report = client.send("orderCreate", [{"n": i} for i in range(10)])
    assert calls == [4, 4, 2]
    assert [r.index for r in report.rejected] == [0, 4, 8]
    assert report.accepted == 7
