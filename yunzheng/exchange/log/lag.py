"""How far behind each consumer of the log is (exchange staff pages, ``/healthz`` details)."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js.errors import NotFoundError

from yunzheng.exchange.batch_routes import batch_route_environments
from yunzheng.exchange.log import runtime
from yunzheng.exchange.log.settings import LogSettings, log_settings
from yunzheng.exchange.log.setup import province_consumer, route_consumer
from yunzheng.exchange.models import ForwardingSubscriber


@dataclass(frozen=True)
class ConsumerLag:
    consumer: str
    label: str
    pending: int  # messages not yet delivered
    ack_pending: int  # delivered, not yet acknowledged
    redelivered: int
    exists: bool = True

    @property
    def behind(self) -> int:
        return self.pending + self.ack_pending


@dataclass(frozen=True)
class LogStatus:
    stream: str
    messages: int
    last_sequence: int
    replicas: int
    consumers: list[ConsumerLag]


async def _status(settings: LogSettings, wanted: list[tuple[str, str]]) -> LogStatus:
    js = await runtime.jetstream(settings.servers, settings.publish_timeout)
    info = await js.stream_info(settings.stream)
    lags = []
    for name, label in wanted:
        try:
            c = await js.consumer_info(settings.stream, name)
        except NotFoundError:
            lags.append(ConsumerLag(name, label, 0, 0, 0, exists=False))
            continue
        lags.append(
            ConsumerLag(name, label, c.num_pending or 0, c.num_ack_pending or 0, c.num_redelivered or 0)
        )
    return LogStatus(
        stream=settings.stream,
        messages=info.state.messages,
        last_sequence=info.state.last_seq,
        replicas=info.config.num_replicas or 1,
        consumers=lags,
    )


def log_status(*, timeout: float | None = None) -> LogStatus:
    """The stream and every consumer's lag: the store consumer, each route's, one per province."""
    settings = log_settings()
    wanted = [(settings.store_consumer, "database")]
    wanted += [(route_consumer(env), env) for env in batch_route_environments()]
    wanted += [
        (province_consumer(pk), f"{name} ({prefix or '*'})")
        for pk, name, prefix in ForwardingSubscriber.objects.filter(active=True)
        .order_by("pk")
        .values_list("pk", "name", "region_prefix")
    ]
    return runtime.run(_status(settings, wanted), timeout=timeout or settings.publish_timeout + 2)
