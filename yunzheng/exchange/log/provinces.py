"""Provincial/city platforms as consumers of the log (replacing the outbox table in log mode).

Each active ``ForwardingSubscriber`` is a durable JetStream consumer ``province-<id>`` filtered to
its region (``messages.region_filter``), created by ``exchange_log_setup``. Two ways to receive:

* push: ``manage.py exchange_province_push`` fetches from each province's consumer, POSTs the
  JSON envelope (as companies send it, as the outbox sent it) and acks on 2xx; on failure the
  message is nak'ed with the outbox's exponential backoff, so JetStream redelivers it later -
  a province that was down receives everything it missed, from its consumer's position;
* pull: ``GET /exchange/v1/feed?cursor=...`` (the subscriber's bearer token): a page of messages
  from a cursor - ``now``, a stream sequence, or ``time:<ISO 8601>`` - and the cursor to send
  next, so a platform that keeps its own cursor catches up at its pace.

Delivery is at least once (subscribers are idempotent on the spec's natural keys, as before).
"""

from __future__ import annotations

import contextlib
import hmac
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nats.errors import TimeoutError as NatsTimeout
from nats.js import api
from nats.js.errors import NotFoundError

from yunzheng.core.logging import mask_personal_data
from yunzheng.exchange import forwarding
from yunzheng.exchange.log import messages, runtime
from yunzheng.exchange.log.settings import LogSettings, log_settings
from yunzheng.exchange.log.setup import log_setup, province_consumer
from yunzheng.exchange.models import ForwardingSubscriber
from yunzheng.exchange.spec import get_spec

logger = logging.getLogger(__name__)

MAX_PAGE = 500


def _envelope(batch: messages.LogBatch) -> str:
    return forwarding.envelope_json(
        batch.company_id, get_spec().interface(batch.interface), batch.open_records()
    )


def _wanted(sub: ForwardingSubscriber, batch: messages.LogBatch) -> bool:
    return bool(batch.records or batch.sealed) and (not sub.interfaces or batch.interface in sub.interfaces)


# ---------------------------------------------------------------------------------------------
# push
# ---------------------------------------------------------------------------------------------


async def _fetch(settings: LogSettings, name: str, batch: int, wait: float) -> list[Any]:
    js = await runtime.jetstream(settings.servers, settings.publish_timeout)
    sub = await js.pull_subscribe_bind(durable=name, stream=settings.stream)
    try:
        return list(await sub.fetch(batch, timeout=wait))
    except NatsTimeout:
        return []
    finally:
        await sub.unsubscribe()


def push_once(*, batch: int = 50, wait: float = 0.5) -> forwarding.ForwardReport:
    """One round over every active subscriber: fetch, POST, ack (or nak with backoff)."""
    settings = log_settings()
    report = forwarding.ForwardReport()
    for sub in ForwardingSubscriber.objects.filter(active=True).order_by("pk"):
        try:
            msgs = runtime.run(_fetch(settings, province_consumer(sub.pk), batch, wait), timeout=wait + 10)
        except NotFoundError:
            # A subscriber added since the last exchange_log_setup: its consumer starts now.
            logger.warning("exchange: creating the log consumer of subscriber %s", sub.pk)
            log_setup()
            continue
        for msg in msgs:
            decoded = messages.decode(msg.data)
            error = None
            if _wanted(sub, decoded):
                error = forwarding.post_envelope(
                    url=sub.url,
                    token=sub.token or "",
                    envelope=_envelope(decoded),
                    batch_ref=f"log-{msg.metadata.sequence.stream}",
                )
            if error is None:
                runtime.run(msg.ack_sync(timeout=5), timeout=6)
                report.sent += 1
            else:
                delay = forwarding.backoff_seconds(msg.metadata.num_delivered)
                logger.warning(
                    "exchange: province %s: %s (retry in %.0f s)", sub.pk, mask_personal_data(error), delay
                )
                runtime.run(msg.nak(delay=delay), timeout=6)
                report.retried += 1
    return report


# ---------------------------------------------------------------------------------------------
# pull with a cursor
# ---------------------------------------------------------------------------------------------


class BadCursor(ValueError):
    pass


@dataclass
class FeedPage:
    cursor: int  # the sequence to ask from next time
    messages: list[dict[str, Any]] = field(default_factory=list)


def subscriber_for_token(token: str) -> ForwardingSubscriber | None:
    """The active subscriber whose bearer token this is (compared in constant time)."""
    if not token:
        return None
    for sub in ForwardingSubscriber.objects.filter(active=True, token__isnull=False):
        if sub.token and hmac.compare_digest(sub.token.encode(), token.encode()):
            return sub
    return None


def parse_cursor(raw: str) -> tuple[str, Any]:
    raw = (raw or "now").strip()
    if raw == "now":
        return "now", None
    if raw.isdigit() and int(raw) > 0:
        return "seq", int(raw)
    if raw.startswith("time:"):
        try:
            when = datetime.fromisoformat(raw[5:])
        except ValueError as exc:
            raise BadCursor(str(exc)) from exc
        return "time", when if when.tzinfo else when.replace(tzinfo=UTC)
    raise BadCursor("cursor must be 'now', a sequence number (>= 1) or 'time:<ISO 8601>'")


async def _page(
    settings: LogSettings, prefix: str, kind: str, value: Any, limit: int
) -> tuple[int, list[Any]]:
    js = await runtime.jetstream(settings.servers, settings.publish_timeout)
    info = await js.stream_info(settings.stream)
    if kind == "now":
        return info.state.last_seq + 1, []
    config = api.ConsumerConfig(
        ack_policy=api.AckPolicy.NONE,
        inactive_threshold=10.0,
        mem_storage=True,
        num_replicas=1,
    )
    if kind == "seq":
        config.deliver_policy = api.DeliverPolicy.BY_START_SEQUENCE
        config.opt_start_seq = value
    else:
        config.deliver_policy = api.DeliverPolicy.BY_START_TIME
        config.opt_start_time = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    sub = await js.pull_subscribe(messages.region_filter(prefix), stream=settings.stream, config=config)
    msgs: list[Any] = []
    try:
        pending = (await sub.consumer_info()).num_pending
        if pending:
            with contextlib.suppress(NatsTimeout):
                msgs = list(await sub.fetch(min(limit, pending), timeout=2))
    finally:
        await sub.unsubscribe()
    if msgs:
        return msgs[-1].metadata.sequence.stream + 1, msgs
    return max(info.state.last_seq + 1, value if kind == "seq" else 0), []


def feed_page(*, subscriber: ForwardingSubscriber, cursor: str, limit: int = 100) -> FeedPage:
    """Messages of the subscriber's region from ``cursor`` (see module doc), oldest first."""
    kind, value = parse_cursor(cursor)
    settings = log_settings()
    limit = max(1, min(MAX_PAGE, limit))
    next_cursor, msgs = runtime.run(
        _page(settings, subscriber.region_prefix, kind, value, limit), timeout=settings.publish_timeout + 5
    )
    page = FeedPage(cursor=next_cursor)
    for msg in msgs:
        decoded = messages.decode(msg.data)
        if not _wanted(subscriber, decoded):
            continue
        page.messages.append(
            {
                "sequence": msg.metadata.sequence.stream,
                "time": msg.metadata.timestamp.isoformat() if msg.metadata.timestamp else None,
                "region": decoded.region,
                "envelope": msgspec_json(_envelope(decoded)),
            }
        )
    return page


def msgspec_json(text: str) -> Any:
    import msgspec

    return msgspec.json.decode(text)
