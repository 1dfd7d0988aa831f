"""Publishing a validated batch to the log; the batch is acknowledged only once JetStream has.

``js.publish`` returns when the stream's leader stored the message and a quorum of its replicas
(2 of 3 with R3) had it: that is the durable point that lets the ingest node answer the company.
Any failure or timeout -> ``LogUnavailable`` -> the view answers 503 with ``Retry-After``; parts
that did reach the log are de-duplicated when the company sends the batch again.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import NoStreamResponseError, ServiceUnavailableError

from yunzheng.accounts.models import CompanyCredential
from yunzheng.exchange import personal_data
from yunzheng.exchange.ingest.plans import Record, plan_for
from yunzheng.exchange.log import messages, runtime
from yunzheng.exchange.log.settings import LogSettings, log_settings
from yunzheng.exchange.spec import InterfaceSpec, RecordError

RETRY_PAUSE = 0.2


@dataclass(frozen=True)
class Published:
    first_sequence: int
    duplicates: int  # records in parts the log already had (a re-send)
    messages: int


def _parts(
    *,
    credential: CompanyCredential,
    interface: InterfaceSpec,
    received: int,
    valid: list[Record],
    rejected: list[RecordError],
    wire_format: str,
    request_id: str,
    received_at: datetime,
) -> list[tuple[str, bytes, str, int]]:
    """(subject, body, message id, record count) per county of the batch."""
    company = credential.company
    plan = plan_for(interface)
    fallback = company.region_code or ""
    by_region: dict[str, list[Record]] = {}
    field = plan.region_field
    for rec in valid:
        region = messages.region_of(rec.get(field) if field else None, fallback)
        by_region.setdefault(region, []).append(rec)
    if not by_region:  # every record rejected: the counters still go to the statistics
        by_region[messages.region_of(None, fallback)] = []
    seal = personal_data.for_interface(interface).any
    parts = []
    for i, (region, recs) in enumerate(sorted(by_region.items())):
        records_json = messages.encode_records(recs)
        batch = messages.LogBatch(
            company=company.pk,
            company_id=company.supervision_company_id,
            interface=interface.type,
            environment=credential.environment,
            wire_format=wire_format,
            received_at_us=int(received_at.timestamp() * 1_000_000),
            region=region,
            credential=credential.pk,
            request_id=request_id[:64],
            received=received if i == 0 else 0,
            rejected=[(r.index, [(e.field, str(e.code)) for e in r.errors]) for r in rejected]
            if i == 0
            else [],
        )
        msg_id = messages.message_id(batch, records_json)
        if seal and recs:
            batch.sealed = personal_data.seal_text(records_json.decode())
        else:
            batch.records = recs
        parts.append(
            (
                messages.subject(region, interface, company.supervision_company_id),
                messages.encode(batch),
                msg_id,
                len(recs),
            )
        )
    return parts


async def _publish_one(js: Any, subject: str, body: bytes, msg_id: str, deadline: float) -> Any:
    """Publish, retrying while the stream elects a new leader (a node died): the same message id
    makes a retry of a publish that did land a de-duplicated no-op."""
    loop = asyncio.get_running_loop()
    while True:
        remaining = deadline - loop.time()
        try:
            return await js.publish(
                subject, body, timeout=max(0.1, min(2.0, remaining)), headers={"Nats-Msg-Id": msg_id}
            )
        except (NoStreamResponseError, NoRespondersError, NatsTimeout, ServiceUnavailableError):
            if loop.time() + RETRY_PAUSE >= deadline:
                raise
            await asyncio.sleep(RETRY_PAUSE)


async def _publish(settings: LogSettings, parts: list[tuple[str, bytes, str, int]]) -> list[Any]:
    js = await runtime.jetstream(settings.servers, settings.publish_timeout)
    deadline = asyncio.get_running_loop().time() + settings.publish_timeout
    return await asyncio.gather(
        *(_publish_one(js, subj, body, msg_id, deadline) for subj, body, msg_id, _ in parts)
    )


def publish_batch(
    *,
    credential: CompanyCredential,
    interface: InterfaceSpec,
    received: int,
    valid: list[Record],
    rejected: list[RecordError],
    wire_format: str,
    request_id: str,
    received_at: datetime,
) -> Published:
    """Publish the batch (one message per county) and wait for every JetStream acknowledgement."""
    settings = log_settings()
    parts = _parts(
        credential=credential,
        interface=interface,
        received=received,
        valid=valid,
        rejected=rejected,
        wire_format=wire_format,
        request_id=request_id,
        received_at=received_at,
    )
    acks = runtime.run(_publish(settings, parts), timeout=settings.publish_timeout + 1)
    duplicates = sum(count for (_, _, _, count), ack in zip(parts, acks, strict=True) if ack.duplicate)
    return Published(first_sequence=min(a.seq for a in acks), duplicates=duplicates, messages=len(parts))


def publish_routed(
    *,
    credential: CompanyCredential,
    interface: InterfaceSpec,
    records: Sequence[Any],
    wire_format: str,
    request_id: str,
    received_at: datetime,
) -> Published:
    """Publish a batch of a routed environment (the sandbox) as received, for its route's consumer."""
    settings = log_settings()
    raw = messages.encode_records(list(records))
    batch = messages.RoutedBatch(
        credential=credential.pk,
        environment=credential.environment,
        interface=interface.type,
        wire_format=wire_format,
        received_at_us=int(received_at.timestamp() * 1_000_000),
        sealed=personal_data.seal_text(raw.decode()),
        request_id=request_id[:64],
    )
    digest = hashlib.sha256(f"{credential.pk}|{credential.environment}|{interface.type}|".encode())
    digest.update(raw)
    part = (
        messages.routed_subject(credential.environment, interface, credential.company.supervision_company_id),
        messages.encode(batch),
        digest.hexdigest(),
        len(records),
    )
    (ack,) = runtime.run(_publish(settings, [part]), timeout=settings.publish_timeout + 1)
    return Published(first_sequence=ack.seq, duplicates=len(records) if ack.duplicate else 0, messages=1)
