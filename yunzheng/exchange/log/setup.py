"""Creating or updating the stream and the durable consumers (``manage.py exchange_log_setup``).

Idempotent: run it at every deployment. Consumers:

* ``store`` (``EXCHANGE_LOG_STORE_CONSUMER``): every subject; ``manage.py exchange_consume``
  processes share it (a work queue over the stream), writing the database;
* ``route-<environment>``: batches of routed environments (the conformance sandbox), handed to
  the route by ``exchange_consume`` too;
* ``province-<id>``: one per active forwarding subscriber, filtered to its region, created
  delivering new messages only (a new province does not receive the whole retention period).
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import api
from nats.js.errors import NotFoundError

from yunzheng.exchange.batch_routes import batch_route_environments
from yunzheng.exchange.log import messages, runtime
from yunzheng.exchange.log.settings import LogSettings, log_settings
from yunzheng.exchange.models import ForwardingSubscriber


def province_consumer(subscriber_id: int) -> str:
    return f"province-{subscriber_id}"


def route_consumer(environment: str) -> str:
    return f"route-{environment}"


@dataclass(frozen=True)
class SetupReport:
    stream: str
    created: bool
    replicas: int
    consumers: list[str]


def _stream_config(settings: LogSettings, replicas: int) -> api.StreamConfig:
    return api.StreamConfig(
        name=settings.stream,
        subjects=[f"{messages.SUBJECT_ROOT}.>", f"{messages.ROUTED_ROOT}.>"],
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        num_replicas=replicas,
        max_age=float(settings.max_age_seconds),
        duplicate_window=float(settings.duplicate_window_seconds),
        discard=api.DiscardPolicy.OLD,
    )


def _consumer_config(name: str, filter_subject: str, *, new_only: bool) -> api.ConsumerConfig:
    return api.ConsumerConfig(
        name=name,
        durable_name=name,
        filter_subject=filter_subject,
        deliver_policy=api.DeliverPolicy.NEW if new_only else api.DeliverPolicy.ALL,
        ack_policy=api.AckPolicy.EXPLICIT,
        ack_wait=60.0,
        max_deliver=-1,
        max_ack_pending=2000,
    )


async def _setup(
    settings: LogSettings, replicas: int | None, provinces: list[tuple[int, str]]
) -> SetupReport:
    nc, js = await runtime.runtime().client(settings.servers, settings.publish_timeout)
    if replicas is None:
        # The cluster's size as the client sees it (configured and discovered servers), max 3.
        replicas = min(3, max(1, len({uri.netloc for uri in nc.servers})))
    config = _stream_config(settings, replicas)
    try:
        await js.stream_info(settings.stream)
        await js.update_stream(config)
        created = False
    except NotFoundError:
        await js.add_stream(config)
        created = True
    wanted = [(settings.store_consumer, f"{messages.SUBJECT_ROOT}.>", False)]
    wanted += [
        (route_consumer(env), messages.routed_filter(env), False) for env in batch_route_environments()
    ]
    wanted += [(province_consumer(pk), messages.region_filter(prefix), True) for pk, prefix in provinces]
    names = []
    for name, filter_subject, new_only in wanted:
        try:
            info = await js.consumer_info(settings.stream, name)
            if info.config.filter_subject != filter_subject:
                # A subscriber's region changed: the filter of a durable cannot be edited on 2.9.
                await js.delete_consumer(settings.stream, name)
                await js.add_consumer(settings.stream, _consumer_config(name, filter_subject, new_only=True))
        except NotFoundError:
            await js.add_consumer(settings.stream, _consumer_config(name, filter_subject, new_only=new_only))
        names.append(name)
    return SetupReport(stream=settings.stream, created=created, replicas=replicas, consumers=names)


def log_setup(*, replicas: int | None = None) -> SetupReport:
    """Create or update the stream and every consumer; safe to run twice."""
    settings = log_settings()
    provinces = list(
        ForwardingSubscriber.objects.filter(active=True).order_by("pk").values_list("pk", "region_prefix")
    )
    return runtime.run(_setup(settings, replicas or settings.replicas or None, provinces), timeout=30)
