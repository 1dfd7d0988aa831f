"""Listeners on stored exchange records: other apps react to uploads without the exchange knowing them.

The exchange calls :func:`notify_records` once per batch **after** its records are durably stored
(after the ingest transaction committed; in log mode, after the consumer wrote them), with the
valid records as the company sent them (personal data in clear: listeners must hash or mask it
before keeping anything). Apps register in their ``AppConfig.ready``:

    from yunzheng.exchange.hooks import register_records_listener
    register_records_listener("alarms", alarms.live.on_records)

A listener's failure never reaches the uploading company (its acknowledgement stands): it is
logged, and the next listeners still run. Listeners run synchronously, in registration order, so
keep them O(records) and short.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredBatch:
    """What a listener is told about one stored batch."""

    company_pk: int
    supervision_company_id: str
    company_region: str
    interface: str  # the spec's type, e.g. "positionVehicle"
    records: Sequence[dict[str, Any]]
    batch_id: int | None
    received_at: datetime


class RecordsListener(Protocol):
    def __call__(self, batch: StoredBatch) -> None: ...


_LISTENERS: dict[str, Callable[[StoredBatch], None]] = {}


def register_records_listener(name: str, listener: Callable[[StoredBatch], None]) -> None:
    """Register (or replace, by name: idempotent across repeated ``ready()`` calls) a listener."""
    _LISTENERS[name] = listener


def unregister_records_listener(name: str) -> None:
    _LISTENERS.pop(name, None)


def records_listeners() -> dict[str, Callable[[StoredBatch], None]]:
    return dict(_LISTENERS)


def notify_records(batch: StoredBatch) -> None:
    """Call every listener with one stored batch; errors are logged, never raised."""
    if not batch.records:
        return
    for name, listener in list(_LISTENERS.items()):
        try:
            listener(batch)
        except Exception:
            logger.exception("exchange records listener %s failed (batch %s)", name, batch.batch_id)
