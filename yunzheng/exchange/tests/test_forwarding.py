"""Forwarding to provincial/city platforms through the durable outbox, against a real HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from yunzheng.core.models import AuditEntry
from yunzheng.exchange.forwarding import backoff_seconds, forward_once, forwarding_subscriber_create
from yunzheng.exchange.models import ForwardingOutbox
from yunzheng.exchange.spec.samples import valid_record

from .conftest import Uploader


class Subscriber:
    """A provincial platform: fails the first `fail_first` requests with 503, then accepts."""

    def __init__(self, fail_first: int = 1) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.fail_first = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.headers.append(dict(self.headers))
                if outer.fail_first > 0:
                    outer.fail_first -= 1
                    self.send_response(503)
                    self.end_headers()
                    self.wfile.write(b"busy")
                    return
                outer.received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"result": "ok"}')

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/exchange/v1/order/create"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def province() -> Iterator[Subscriber]:
    sub = Subscriber(fail_first=1)
    yield sub
    sub.close()


@pytest.mark.django_db
def test_records_reach_the_platform_of_their_region_after_a_retry(
    uploader: Uploader, province: Subscriber
) -> None:
    zhejiang = forwarding_subscriber_create(
        name="浙江省平台", region_prefix="33", url=province.url, token="zj-secret"
    )
    forwarding_subscriber_create(name="广东省平台", region_prefix="44", url="http://127.0.0.1:9/never")
    assert AuditEntry.objects.filter(action="exchange.subscriber.create").count() == 2

    hangzhou = valid_record("orderCreate", seed=1, CompanyId=uploader.company_id, Address=330106)
    beijing = valid_record("orderCreate", seed=2, CompanyId=uploader.company_id, Address=110101)
    answer = uploader.post_json("orderCreate", [hangzhou, beijing]).json()
    assert answer["accepted"] == 2

    row = ForwardingOutbox.objects.get()  # Guangdong covers neither record; Beijing has no subscriber
    assert (row.subscriber_id, row.record_count, row.status, row.batch_id) == (
        zhejiang.pk,
        1,
        "pending",
        answer["batch_id"],
    )

    first = forward_once()
    assert (first.sent, first.retried) == (0, 1)
    row.refresh_from_db()
    assert (row.status, row.attempts, "503" in row.last_error) == ("pending", 1, True)
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=backoff_seconds(1) - 2)
    assert forward_once().sent == 0  # not due yet

    second = forward_once(now=row.next_attempt_at + timedelta(seconds=1))
    assert second.sent == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
    assert province.received == [
        {"CompanyId": uploader.company_id, "Source": "0", "IPCType": "orderCreate", "orderCreate": [hangzhou]}
    ]
    assert province.headers[-1]["Authorization"] == "Bearer zj-secret"
    assert forward_once(now=timezone.now() + timedelta(days=1)).sent == 0


@pytest.mark.django_db
def test_records_without_a_region_field_use_the_company_region(
    uploader: Uploader, province: Subscriber
) -> None:
    province.fail_first = 0
    forwarding_subscriber_create(name="杭州市平台", region_prefix="3301", url=province.url)
    rating = valid_record("ratedPassenger", seed=1, CompanyId=uploader.company_id)  # no region field
    assert uploader.post_json("ratedPassenger", [rating]).json()["accepted"] == 1
    assert forward_once().sent == 1
    assert province.received[0]["ratedPassenger"] == [rating]


@pytest.mark.django_db
def test_sandbox_uploads_are_not_forwarded_and_failures_give_up(settings: Any, province: Subscriber) -> None:
    from .conftest import make_uploader

    sandbox = make_uploader(environment="sandbox")
    forwarding_subscriber_create(name="全国", region_prefix="", url=province.url)
    sandbox.post_json("orderCreate", [valid_record("orderCreate", seed=1, CompanyId=sandbox.company_id)])
    assert not ForwardingOutbox.objects.exists()

    live = make_uploader(phone="13900000002", company_id="3301YZCX0002", body="91330106MA2H4K7Q2")
    live.post_json("orderCreate", [valid_record("orderCreate", seed=1, CompanyId=live.company_id)])
    settings.EXCHANGE_FORWARD_MAX_ATTEMPTS = 2
    province.fail_first = 5
    forward_once()
    row = ForwardingOutbox.objects.get()
    forward_once(now=row.next_attempt_at + timedelta(hours=2))
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2)


@pytest.mark.django_db
def test_management_commands(uploader: Uploader, province: Subscriber) -> None:
    from io import StringIO

    from django.core.management import call_command

    province.fail_first = 0
    out = StringIO()
    call_command("forwarding_subscriber", "add", "浙江省平台", "33", province.url, "--token", "t", stdout=out)
    call_command("forwarding_subscriber", "list", stdout=out)
    assert "浙江省平台\t33" in out.getvalue()
    uploader.post_json("orderCreate", [valid_record("orderCreate", seed=1, CompanyId=uploader.company_id)])
    call_command("forward_exchange", "--once", stdout=out)
    assert "sent 1" in out.getvalue()
    assert len(province.received) == 1
    sub_id = ForwardingOutbox.objects.get().subscriber_id
    call_command("forwarding_subscriber", "deactivate", str(sub_id), stdout=out)
    uploader.post_json("orderCreate", [valid_record("orderCreate", seed=2, CompanyId=uploader.company_id)])
    assert ForwardingOutbox.objects.count() == 1  # an inactive subscriber gets nothing new
    assert AuditEntry.objects.filter(action="exchange.subscriber.deactivate").exists()
