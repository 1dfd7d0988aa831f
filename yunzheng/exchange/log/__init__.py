"""Log mode: the exchange on a replicated log (NATS JetStream), docs/adr/0008-exchange-log-jetstream.md.

Enabled by ``EXCHANGE_LOG_URL`` (comma-separated ``nats://host:port``). Ingest nodes validate and
publish (``publish``), acknowledging a batch only after JetStream did; ``manage.py
exchange_consume`` writes the database (``consume``); each provincial platform is a durable
consumer pushed over HTTP or pulled with a cursor (``provinces``); ``manage.py
exchange_log_setup`` creates the stream and consumers (``setup``); ``lag`` reports how far each
consumer is behind. Only ``settings`` and ``runtime.LogUnavailable`` are imported by the direct
path; nats-py is imported when log mode is on.
"""

from yunzheng.exchange.log.settings import enabled, log_settings

__all__ = ["enabled", "log_settings"]
