"""Where a batch goes instead of the exchange's own storage, per credential environment.

The exchange stores production uploads. Uploads of other environments (the conformance sandbox)
are handed, after the same decoding and validation, to the route another app registers in its
``AppConfig.ready`` - so the exchange imports no code of those apps::

    from yunzheng.exchange.batch_routes import register_batch_route
    register_batch_route("sandbox", record_sandbox_batch)

A route answers what the exchange ingest would answer (an ``IngestResult``). An environment with
no route is refused rather than stored as supervision data.

In log mode (``EXCHANGE_LOG_URL``) such batches go through the log as well: the ingest node
publishes the batch as received to ``yzr.<environment>....`` and answers once the log has it;
``exchange_consume`` then calls the route (durable consumer ``route-<environment>``), with
``checked=None`` (the route validates again: same spec, same result) and the receipt time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from yunzheng.accounts.models import CompanyCredential
    from yunzheng.exchange.ingest.result import IngestResult
    from yunzheng.exchange.spec import BatchResult, InterfaceSpec


class BatchRoute(Protocol):
    def __call__(
        self,
        *,
        credential: CompanyCredential,
        interface: InterfaceSpec,
        records: Sequence[Any],
        wire_format: str = ...,
        request_id: str = ...,
        checked: BatchResult | None = ...,
        received_at: datetime | None = ...,
    ) -> IngestResult: ...


_ROUTES: dict[str, BatchRoute] = {}


def register_batch_route(environment: str, route: BatchRoute) -> None:
    """Send the batches of credentials of ``environment`` to ``route`` (replaces: idempotent)."""
    _ROUTES[environment] = route


def batch_route_for(environment: str) -> BatchRoute | None:
    return _ROUTES.get(environment)


def batch_route_environments() -> list[str]:
    return sorted(_ROUTES)
