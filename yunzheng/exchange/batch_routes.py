"""Where a batch goes instead of the exchange's own storage, per credential environment.

The exchange stores production uploads. Uploads of other environments (the conformance sandbox)
are handed, after the same decoding and validation, to the route another app registers in its
``AppConfig.ready`` - so the exchange imports no code of those apps::

    from yunzheng.exchange.batch_routes import register_batch_route
    register_batch_route("sandbox", record_sandbox_batch)

A route answers what the exchange ingest would answer (an ``IngestResult``). An environment with
no route is refused rather than stored as supervision data.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    ) -> IngestResult: ...


_ROUTES: dict[str, BatchRoute] = {}


def register_batch_route(environment: str, route: BatchRoute) -> None:
    """Send the batches of credentials of ``environment`` to ``route`` (replaces: idempotent)."""
    _ROUTES[environment] = route


def batch_route_for(environment: str) -> BatchRoute | None:
    return _ROUTES.get(environment)
