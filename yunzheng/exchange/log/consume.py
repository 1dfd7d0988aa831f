"""The store consumer (``manage.py exchange_consume``): log -> database, then acknowledge.

Any number of consumer processes, on any host, pull from the one durable ``store`` consumer
(JetStream hands each message to one of them). Each message is written with the direct path's
``store_batch`` (COPY on PostgreSQL, ``ON CONFLICT DO NOTHING``) in one transaction, and acked
only after that transaction committed. A message redelivered after a lost ack (or a consumer
killed between commit and ack) finds its ``IngestBatch.log_msg_id`` and is acked without writing
again: exactly-once effects on at-least-once delivery. After the commit the records listeners
(``hooks``: alarms) are called, as on the direct path.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, close_old_connections
from nats.errors import TimeoutError as NatsTimeout

from yunzheng.accounts.models import Company
from yunzheng.exchange.ingest.service import notify_stored, store_batch
from yunzheng.exchange.log import messages, runtime
from yunzheng.exchange.log.settings import LogSettings, log_settings
from yunzheng.exchange.models import IngestBatch
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


def consume(
    *,
    durable: str | None = None,
    batch: int = 50,
    until_idle: bool = False,
    stop: threading.Event | None = None,
    wait: float = 1.0,
) -> ConsumeReport:
    """Pull, store and ack until ``stop`` is set (or, with ``until_idle``, until the consumer has
    nothing pending: an empty fetch alone may only mean that its leader is being elected)."""
    settings = log_settings()
    durable = durable or settings.store_consumer
    report = ConsumeReport()
    give_up = time.monotonic() + IDLE_GIVE_UP_SECONDS
    sub = runtime.run(_bind(settings, durable), timeout=settings.publish_timeout + 5)
    while stop is None or not stop.is_set():
        try:
            msgs = runtime.run(_fetch(sub, batch, wait), timeout=wait + settings.publish_timeout + 5)
            if not msgs and until_idle and runtime.run(_drained(sub), timeout=settings.publish_timeout + 1):
                break
        except (runtime.LogUnavailable, NatsTimeout) as exc:
            if until_idle and time.monotonic() > give_up:
                raise
            logger.warning("exchange consume: %s; retrying", exc)
            time.sleep(0.5 if until_idle else 1)
            continue
        if not msgs:
            if until_idle and time.monotonic() > give_up:
                raise runtime.LogUnavailable("the consumer still has pending messages it cannot fetch")
            close_old_connections()
            continue
        give_up = time.monotonic() + IDLE_GIVE_UP_SECONDS
        for msg in msgs:
            msg_id = (msg.headers or {}).get("Nats-Msg-Id") or f"seq-{msg.metadata.sequence.stream}"
            count, inserted, stored = store_message(msg.data, msg_id)
            # Acknowledged only now that the transaction committed; a lost ack means a redelivery,
            # which store_message recognises.
            try:
                runtime.run(
                    msg.ack_sync(timeout=settings.publish_timeout), timeout=settings.publish_timeout + 1
                )
            except (runtime.LogUnavailable, NatsTimeout) as exc:
                logger.warning("exchange consume: ack lost (%s); the redelivery will be skipped", exc)
            report.messages += 1
            report.records += count
            report.stored += inserted
            report.skipped += not stored
    return report
