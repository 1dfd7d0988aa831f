"""The store consumer (``manage.py exchange_consume``): log -> database, then acknowledge.

Any number of consumer processes, on any host, pull from the one durable ``store`` consumer
(JetStream hands each message to one of them). Each message is written with the direct path's
``store_batch`` (COPY on PostgreSQL, ``ON CONFLICT DO NOTHING``) in one transaction, and acked
only after that transaction committed. A message redelivered after a lost ack (or a consumer
killed between commit and ack) finds its ``IngestBatch.log_msg_id`` and is acked without writing
again: exactly-once effects on at-least-once delivery. After the commit the records listeners
(``hooks``: alarms) are called, as on the direct path.

The same processes hand routed batches (the conformance sandbox: ``batch_routes``) to their
route, once each (``LogReceipt``, written in the route's transaction).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, close_old_connections, connection, transaction
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import NotFoundError

from yunzheng.accounts.models import Company, CompanyCredential
from yunzheng.exchange.batch_routes import batch_route_environments, batch_route_for
from yunzheng.exchange.ingest.service import notify_stored, store_batch
from yunzheng.exchange.log import messages, runtime
from yunzheng.exchange.log.settings import LogSettings, log_settings
from yunzheng.exchange.log.setup import route_consumer
from yunzheng.exchange.models import IngestBatch, LogReceipt
from yunzheng.exchange.spec import ErrorCode, FieldError, RecordError, get_spec

logger = logging.getLogger(__name__)


@dataclass
class ConsumeReport:
    messages: int = 0
    records: int = 0
    stored: int = 0  # new rows
    skipped: int = 0  # messages already stored (redeliveries)


async def _bind(settings: LogSettings, durable: str) -> Any:
    js = await runtime.jetstream(settings.servers, settings.publish_timeout)
    return await js.pull_subscribe_bind(durable=durable, stream=settings.stream)


async def _ack_all(msgs: list[Any], timeout: float) -> None:
    if msgs:
        await asyncio.gather(*(msg.ack_sync(timeout=timeout) for msg in msgs))


async def _drained(sub: Any) -> bool:
    info = await sub.consumer_info()
    return not (info.num_pending or info.num_ack_pending)


async def _fetch(sub: Any, batch: int, wait: float) -> list[Any]:
    try:
        return list(await sub.fetch(batch, timeout=wait))
    except NatsTimeout:
        return []


IDLE_GIVE_UP_SECONDS = 30.0

_companies: dict[int, Company] = {}


def _company(pk: int) -> Company:
    company = _companies.get(pk)
    if company is None:
        company = _companies[pk] = Company.objects.get(pk=pk)
    return company


def store_message(data: bytes, msg_id: str) -> tuple[int, int, bool]:
    """Store one log message; returns (records, new rows, stored now). Idempotent on msg_id."""
    batch = messages.decode(data)
    if IngestBatch.objects.filter(log_msg_id=msg_id).exists():
        return len(batch.records), 0, False
    company = _company(batch.company)
    interface = get_spec().interface(batch.interface)
    records = batch.open_records()
    rejected = [
        RecordError(index, [FieldError(f, ErrorCode(c), c) for f, c in errors])
        for index, errors in batch.rejected
    ]
    received_at = datetime.fromtimestamp(batch.received_at_us / 1_000_000, UTC)
    try:
        batch_id, inserted = store_batch(
            company=company,
            credential_id=batch.credential,
            environment=batch.environment,
            interface=interface,
            received=batch.received or len(records),
            valid=records,
            rejected=rejected,
            wire_format=batch.wire_format,
            request_id=batch.request_id,
            received_at=received_at,
            forward=False,  # provinces are consumers of the log (provinces.py), not an outbox
            log_msg_id=msg_id,
        )
    except IntegrityError:
        if IngestBatch.objects.filter(log_msg_id=msg_id).exists():  # a concurrent redelivery won
            return len(records), 0, False
        raise
    notify_stored(
        company=company, interface=interface, valid=records, batch_id=batch_id, received_at=received_at
    )
    return len(records), inserted, True


def route_message(data: bytes, msg_id: str, consumer: str) -> tuple[int, bool]:
    """Hand one routed message (a sandbox batch) to its route, once; returns (records, handled now)."""
    routed = messages.decode_routed(data)
    route = batch_route_for(routed.environment)
    if route is None:
        raise ImproperlyConfigured(f"no batch route registered for {routed.environment!r}")
    credential = CompanyCredential.objects.select_related("company").filter(pk=routed.credential).first()
    if credential is None:  # deleted since: its test data has nowhere to go
        logger.warning("exchange consume: credential %s of message %s is gone", routed.credential, msg_id)
        return 0, False
    records = routed.open_records()
    try:
        with transaction.atomic():
            LogReceipt.objects.create(msg_id=msg_id, consumer=consumer)
            route(
                credential=credential,
                interface=get_spec().interface(routed.interface),
                records=records,
                wire_format=routed.wire_format,
                request_id=routed.request_id,
                checked=None,
                received_at=datetime.fromtimestamp(routed.received_at_us / 1_000_000, UTC),
            )
    except IntegrityError:
        if LogReceipt.objects.filter(msg_id=msg_id).exists():
            return len(records), False
        raise
    return len(records), True


def _handle(consumer: str, store: bool, msg: Any, report: ConsumeReport) -> None:
    msg_id = (msg.headers or {}).get("Nats-Msg-Id") or f"seq-{msg.metadata.sequence.stream}"
    if store:
        count, inserted, stored = store_message(msg.data, msg_id)
    else:
        count, stored = route_message(msg.data, msg_id, consumer)
        inserted = count if stored else 0
    report.messages += 1
    report.records += count
    report.stored += inserted
    report.skipped += not stored


def consume(
    *,
    durable: str | None = None,
    batch: int = 50,
    until_idle: bool = False,
    stop: threading.Event | None = None,
    wait: float = 1.0,
) -> ConsumeReport:
    """Pull, store (or hand to a route) and ack until ``stop`` is set - or, with ``until_idle``,
    until every consumer has nothing pending (an empty fetch alone may only mean that a leader is
    being elected). Consumes ``durable`` only if given, else the store consumer and every
    registered route's consumer."""
    settings = log_settings()
    names = [durable] if durable else [settings.store_consumer]
    if not durable:
        names += [route_consumer(env) for env in batch_route_environments()]
    report = ConsumeReport()
    give_up = time.monotonic() + IDLE_GIVE_UP_SECONDS
    subs: list[tuple[str, bool, Any]] = []
    for name in names:
        try:
            subs.append(
                (
                    name,
                    name == settings.store_consumer,
                    runtime.run(_bind(settings, name), timeout=settings.publish_timeout + 5),
                )
            )
        except NotFoundError:
            logger.warning("exchange consume: no consumer %s; run exchange_log_setup", name)
    if not subs:
        raise ImproperlyConfigured("no log consumer to consume: run exchange_log_setup")
    each_wait = wait / len(subs)
    while stop is None or not stop.is_set():
        got = 0
        idle = True
        for name, store, sub in subs:
            try:
                msgs = runtime.run(
                    _fetch(sub, batch, each_wait), timeout=each_wait + settings.publish_timeout + 5
                )
                if not msgs and until_idle:
                    idle = idle and runtime.run(_drained(sub), timeout=settings.publish_timeout + 1)
            except (runtime.LogUnavailable, NatsTimeout) as exc:
                if until_idle and time.monotonic() > give_up:
                    raise
                logger.warning("exchange consume: %s; retrying", exc)
                idle = False
                time.sleep(0.5 if until_idle else 1)
                continue
            for msg in msgs:
                _handle(name, store, msg, report)  # one transaction per message, committed here
            # Acknowledged only now that their transactions committed, all at once (one round
            # trip, not one per message); a lost ack means a redelivery, which the message id
            # recognises.
            try:
                runtime.run(_ack_all(msgs, settings.publish_timeout), timeout=settings.publish_timeout + 1)
            except (runtime.LogUnavailable, NatsTimeout) as exc:
                logger.warning("exchange consume: ack lost (%s); the redeliveries will be skipped", exc)
            got += len(msgs)
        if got:
            give_up = time.monotonic() + IDLE_GIVE_UP_SECONDS
            continue
        if until_idle:
            if idle:
                break
            if time.monotonic() > give_up:
                raise runtime.LogUnavailable("a consumer still has pending messages it cannot fetch")
        if not connection.in_atomic_block:  # a long-running loop: drop stale connections
            close_old_connections()
    return report
