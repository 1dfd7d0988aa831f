"""Log mode on a real 3-node JetStream cluster (nats-server on loopback, free ports per worker).

The HTTP answer comes from the ingest view, the rows from ``exchange_consume`` run in the test's
thread (so it writes inside the test's transaction), the provinces from a real HTTP receiver.
"""

from __future__ import annotations

import http.server
import os
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import msgspec
import pytest
from django.core.management import call_command

from yunzheng.accounts.tests.factories import staff, staff_client
from yunzheng.exchange import forwarding, hooks
from yunzheng.exchange.log import runtime
from yunzheng.exchange.log.cluster import LocalCluster, free_port, use_fresh_stream
from yunzheng.exchange.log.consume import consume, store_message
from yunzheng.exchange.log.lag import log_status
from yunzheng.exchange.log.provinces import push_once
from yunzheng.exchange.log.settings import log_settings
from yunzheng.exchange.log.setup import log_setup, province_consumer
from yunzheng.exchange.models import EventRecord, IngestBatch, PositionRecord, UploadStat
from yunzheng.exchange.spec.samples import valid_record
from yunzheng.exchange.spec.validation import BEIJING

from .conftest import Uploader

NOW = datetime.now(BEIJING).replace(microsecond=0)


def _positions(uploader: Uploader, vehicle: str, n: int, *, region: int = 330106) -> list[dict[str, Any]]:
    start = NOW - timedelta(hours=1)
    template = valid_record("positionVehicle", seed=1, CompanyId=uploader.company_id)
    return [
        dict(
            template,
            VehicleNo=vehicle,
            VehicleRegionCode=region,
            PositionTime=int((start + timedelta(seconds=i)).strftime("%Y%m%d%H%M%S")),
        )
        for i in range(n)
    ]


def _stored(vehicle: str) -> int:
    return PositionRecord.objects.filter(vehicle_no=vehicle).count()


@pytest.mark.django_db
def test_an_acknowledged_batch_is_in_the_database_after_the_consumer_ran(
    uploader: Uploader, log_mode: LocalCluster
) -> None:
    seen: list[hooks.StoredBatch] = []
    hooks.register_records_listener("test", seen.append)
    try:
        answer = uploader.post_json("positionVehicle", [*_positions(uploader, "浙A10001", 20), {"bad": 1}])
        assert answer.status_code == 200
        body = answer.json()
        assert (body["result"], body["accepted"], body["duplicates"]) == ("partial", 20, 0)
        assert body["rejected"][0]["index"] == 20
        order = valid_record("orderCreate", seed=3, CompanyId=uploader.company_id)
        assert uploader.post_json("orderCreate", [order]).json()["accepted"] == 1
        # Acknowledged, not yet stored: the ingest node wrote nothing.
        assert _stored("浙A10001") == 0

        call_command("exchange_consume", "--until-idle")
    finally:
        hooks.unregister_records_listener("test")
    assert _stored("浙A10001") == 20
    assert EventRecord.objects.filter(order_id=order["OrderId"]).count() == 1
    stat = UploadStat.objects.get(company=uploader.company, interface=0x4002)
    assert (stat.received, stat.accepted, stat.rejected) == (21, 20, 1)
    assert [b.interface for b in seen] == ["positionVehicle", "orderCreate"]
    assert len(seen[0].records) == 20
    # The log holds no personal data in clear: orderCreate carries none here, but an interface
    # with personal fields travels sealed (see messages.LogBatch.sealed).
    lag = {c.consumer: c.behind for c in log_status().consumers}
    assert lag == {"store": 0, "route-sandbox": 0}
    health = uploader.client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["exchange_log"]["consumers"]["store"] == {
        "label": "database",
        "pending": 0,
        "ack_pending": 0,
        "exists": True,
    }
    assert health["exchange_log"]["replicas"] == 3


@pytest.mark.django_db
def test_a_resent_batch_is_stored_once(uploader: Uploader, log_mode: LocalCluster) -> None:
    records = _positions(uploader, "浙A10002", 30)
    first = uploader.post_json("positionVehicle", records).json()
    again = uploader.post_json("positionVehicle", records).json()
    assert (first["accepted"], first["duplicates"]) == (30, 0)
    assert (again["accepted"], again["duplicates"]) == (0, 30)  # de-duplicated by the log
    assert again["batch_id"] == first["batch_id"]
    consume(until_idle=True)
    assert _stored("浙A10002") == 30
    assert IngestBatch.objects.filter(company=uploader.company).count() == 1

    # A redelivered message (a consumer killed between commit and ack) stores nothing more.
    async def first_message() -> Any:
        js = await runtime.jetstream(log_settings().servers, 3)
        return await js.get_msg(log_settings().stream, first["batch_id"])

    raw = runtime.run(first_message(), timeout=5)
    assert store_message(raw.data, raw.headers["Nats-Msg-Id"]) == (30, 0, False)
    assert _stored("浙A10002") == 30


@pytest.mark.django_db
def test_with_the_log_down_the_upload_answers_503_with_retry_after(uploader: Uploader, settings: Any) -> None:
    settings.EXCHANGE_LOG_SERVERS = [f"nats://127.0.0.1:{free_port()}"]  # nothing listens
    settings.EXCHANGE_LOG_PUBLISH_TIMEOUT_SECONDS = 1
    answer = uploader.post_json("positionVehicle", _positions(uploader, "浙A10003", 5))
    assert answer.status_code == 503
    assert answer["Retry-After"] == "5"
    assert answer.json()["error"]["code"] == "log_unavailable"
    assert IngestBatch.objects.count() == 0
    health = uploader.client.get("/healthz")
    assert health.status_code == 200  # the database answers; the log's state is a detail
    assert health.json()["status"] == "degraded"
    assert health.json()["exchange_log"] == {"status": "unavailable"}


class _Receiver:
    """A provincial platform: records the envelopes POSTed to it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.envelopes: list[dict[str, Any]] = []
        received = self.envelopes

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(msgspec.json.decode(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.django_db
def test_a_stopped_province_catches_up_from_its_cursor(
    uploader: Uploader, log_mode: LocalCluster, settings: Any
) -> None:
    settings.EXCHANGE_FORWARD_BACKOFF_SECONDS = 0.05
    port = free_port()
    zhejiang = forwarding.forwarding_subscriber_create(
        name="浙江", region_prefix="33", url=f"http://127.0.0.1:{port}/in", token="zj-secret"
    )
    forwarding.forwarding_subscriber_create(
        name="江苏", region_prefix="32", url=f"http://127.0.0.1:{free_port()}/in", token="js-secret"
    )
    log_setup()
    start = uploader.post_json("positionVehicle", _positions(uploader, "浙A10004", 3)).json()["batch_id"]
    uploader.post_json("positionVehicle", _positions(uploader, "苏A10004", 2, region=320106))
    # The platform is down: nothing is delivered, everything is kept for it.
    report = push_once(wait=0.2)
    assert report.sent == 0
    assert report.retried >= 1
    uploader.post_json("positionVehicle", _positions(uploader, "浙A10005", 4))
    lag = {c.consumer: c.behind for c in log_status().consumers}
    assert lag[province_consumer(zhejiang.pk)] == 2
    # ... and the regulators see it, per province, on the exchange's staff page.
    page = staff_client(staff("hz-transport-log", level="city", region="330100")).get("/exchange/staff/")
    lag_table = page.content.decode().split('data-testid="log-lag"')[1].split("</section>")[0]
    assert "浙江 (33)" in lag_table
    assert f"<small>province-{zhejiang.pk}</small>" in lag_table

    receiver = _Receiver(port)  # back up: it receives what it missed, its region only
    try:
        deadline = time.monotonic() + 10
        while sum(len(e["positionVehicle"]) for e in receiver.envelopes) < 7:
            assert time.monotonic() < deadline, receiver.envelopes
            push_once(wait=0.2)
    finally:
        receiver.close()
    vehicles = sorted({r["VehicleNo"] for e in receiver.envelopes for r in e["positionVehicle"]})
    assert vehicles == ["浙A10004", "浙A10005"]
    assert {c.consumer: c.behind for c in log_status().consumers}[province_consumer(zhejiang.pk)] == 0

    # Pull with a cursor: from a sequence, from a time, from now; region filtered; authenticated.
    zj = "Bearer zj-secret"
    page = uploader.client.get("/exchange/v1/feed", {"cursor": str(start)}, HTTP_AUTHORIZATION=zj).json()
    got = [r["VehicleNo"] for m in page["messages"] for r in m["envelope"]["positionVehicle"]]
    assert sorted(set(got)) == ["浙A10004", "浙A10005"]
    assert len(got) == 7
    assert (
        uploader.client.get("/exchange/v1/feed", {"cursor": page["cursor"]}, HTTP_AUTHORIZATION=zj).json()[
            "messages"
        ]
        == []
    )
    since = (NOW - timedelta(minutes=5)).isoformat()
    by_time = uploader.client.get(
        "/exchange/v1/feed", {"cursor": f"time:{since}"}, HTTP_AUTHORIZATION=zj
    ).json()
    assert len(by_time["messages"]) == 2
    now = uploader.client.get("/exchange/v1/feed", {"cursor": "now"}, HTTP_AUTHORIZATION=zj).json()
    assert (now["cursor"], now["messages"]) == (page["cursor"], [])
    bad = uploader.client.get("/exchange/v1/feed", {"cursor": "yesterday"}, HTTP_AUTHORIZATION=zj)
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "feed.bad_cursor")
    assert uploader.client.get("/exchange/v1/feed", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


@pytest.mark.django_db
def test_killing_one_of_three_nodes_during_uploads_loses_nothing(uploader: Uploader, settings: Any) -> None:
    cluster = LocalCluster(3).start()
    try:
        use_fresh_stream(settings, cluster.urls)

        async def leader() -> str:
            js = await runtime.jetstream(cluster.urls, 3)
            info = await js.stream_info(log_settings().stream)
            return str(info.cluster.leader if info.cluster else "")

        acked: list[str] = []
        refused = 0
        for b in range(40):
            if b == 10:  # the stream's leader dies mid-run
                killed = int(runtime.run(leader(), timeout=5).rsplit("-", 1)[1])
                cluster.kill_node(killed)
            vehicle = f"浙A2{b:04d}"
            answer = uploader.post_json("positionVehicle", _positions(uploader, vehicle, 25))
            if answer.status_code == 200:
                acked.append(vehicle)
            else:
                assert answer.status_code == 503, answer.content
                refused += 1
        assert len(acked) >= 30, f"only {len(acked)} acknowledged, {refused} refused"
        assert runtime.run(leader(), timeout=5) not in ("", f"yz-{killed}")  # a new leader took over
        consume(until_idle=True)
        stored = {v: _stored(v) for v in acked}
        assert stored == dict.fromkeys(acked, 25)  # nothing acknowledged is lost, nothing twice
        # A refused batch may still have reached the log (the answer was lost, not the publish):
        # it is then stored once, and a re-send would be de-duplicated.
        assert PositionRecord.objects.count() <= 25 * 40
    finally:
        runtime.close(cluster.urls)
        cluster.stop()


def test_no_nats_import_without_log_mode() -> None:
    """The direct path (make run) never loads nats-py."""
    import subprocess
    import sys

    code = (
        "import django, sys; django.setup(); import yunzheng.exchange.views, yunzheng.exchange.ingest; "
        "print('nats' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env.pop("EXCHANGE_LOG_URL", None)
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "False"


@pytest.mark.django_db
def test_log_setup_runs_twice_and_keeps_consumer_positions(
    uploader: Uploader, log_mode: LocalCluster
) -> None:
    import io

    uploader.post_json("positionVehicle", _positions(uploader, "浙A10006", 3))
    out = io.StringIO()
    call_command("exchange_log_setup", stdout=out)
    call_command("exchange_log_setup", stdout=out)
    assert out.getvalue().count("stream YZX updated (replicas 3); consumers: store, route-sandbox") == 2
    assert {c.consumer: c.behind for c in log_status().consumers} == {"store": 1, "route-sandbox": 0}
    assert consume(until_idle=True).messages == 1
