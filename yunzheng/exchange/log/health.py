"""``/healthz`` details in log mode: is the log reachable, how far behind is each consumer."""

from __future__ import annotations

import logging
from typing import Any

from yunzheng.exchange.log.errors import LogUnavailable
from yunzheng.exchange.log.settings import enabled

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 2.0


def log_health() -> dict[str, Any] | None:
    """None without log mode; else {"status": "ok"|"unavailable", stream, consumers: {name: lag}}."""
    if not enabled():
        return None
    from yunzheng.exchange.log.lag import log_status

    try:
        # Load balancers probe often and give up after a few seconds: answer within 2 s.
        status = log_status(timeout=HEALTH_TIMEOUT_SECONDS)
    except LogUnavailable as exc:
        logger.warning("Health check: exchange log unavailable: %s", exc)
        return {"status": "unavailable"}
    return {
        "status": "ok",
        "stream": status.stream,
        "messages": status.messages,
        "last_sequence": status.last_sequence,
        "replicas": status.replicas,
        "consumers": {
            c.consumer: {
                "label": c.label,
                "pending": c.pending,
                "ack_pending": c.ack_pending,
                "exists": c.exists,
            }
            for c in status.consumers
        },
    }
