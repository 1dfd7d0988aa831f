"""Settings of the exchange and their defaults (the one place they are declared).

Uploads (views.py):
    EXCHANGE_MAX_BODY_BYTES             largest request body (after decompression)
    EXCHANGE_MAX_RECORDS                most records in one batch
Storage (partitions.py):
    EXCHANGE_PARTITION_PAST_MONTHS / _FUTURE_MONTHS  monthly partitions created around today
Forwarding to the province (forwarding.py):
    EXCHANGE_SUBSCRIBER_CACHE_SECONDS   how long the list of subscribers is cached per process
    EXCHANGE_FORWARD_BACKOFF_SECONDS / _MAX_SECONDS  first and longest wait before a retry
    EXCHANGE_FORWARD_TIMEOUT_SECONDS    HTTP timeout of one delivery (a lease is three of them)
    EXCHANGE_FORWARD_MAX_ATTEMPTS       deliveries before a message is given up
Log mode (log/settings.py; EXCHANGE_LOG_SERVERS comes from EXCHANGE_LOG_URL):
    EXCHANGE_LOG_SERVERS                NATS servers; empty: direct mode
    EXCHANGE_LOG_STREAM                 the JetStream stream
    EXCHANGE_LOG_REPLICAS               stream replicas (0: the cluster size, at most 3)
    EXCHANGE_LOG_PUBLISH_TIMEOUT_SECONDS  wait for the log's acknowledgement
    EXCHANGE_LOG_MAX_AGE_SECONDS        how long the log keeps messages
    EXCHANGE_LOG_DUPLICATE_WINDOW_SECONDS  the log's de-duplication window
    EXCHANGE_LOG_STORE_CONSUMER         the durable consumer that stores batches
"""

from __future__ import annotations

from yunzheng.core.appsettings import AppSettings

app_settings = AppSettings(
    EXCHANGE_MAX_BODY_BYTES=16 * 1024 * 1024,
    EXCHANGE_MAX_RECORDS=10_000,
    EXCHANGE_PARTITION_PAST_MONTHS=36,
    EXCHANGE_PARTITION_FUTURE_MONTHS=2,
    EXCHANGE_SUBSCRIBER_CACHE_SECONDS=5,
    EXCHANGE_FORWARD_BACKOFF_SECONDS=10,
    EXCHANGE_FORWARD_BACKOFF_MAX_SECONDS=3600,
    EXCHANGE_FORWARD_TIMEOUT_SECONDS=10,
    EXCHANGE_FORWARD_MAX_ATTEMPTS=20,
    EXCHANGE_LOG_SERVERS=(),
    EXCHANGE_LOG_STREAM="YZX",
    EXCHANGE_LOG_REPLICAS=0,
    EXCHANGE_LOG_PUBLISH_TIMEOUT_SECONDS=5,
    EXCHANGE_LOG_MAX_AGE_SECONDS=7 * 86400,
    EXCHANGE_LOG_DUPLICATE_WINDOW_SECONDS=600,
    EXCHANGE_LOG_STORE_CONSUMER="store",
)
