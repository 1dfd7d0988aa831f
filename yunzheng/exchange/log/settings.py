"""The log's settings (``config/settings/base.py`` reads them from the environment)."""

from __future__ import annotations

from dataclasses import dataclass

from yunzheng.exchange.conf import app_settings


@dataclass(frozen=True)
class LogSettings:
    servers: tuple[str, ...]
    stream: str
    replicas: int
    publish_timeout: float
    max_age_seconds: int
    duplicate_window_seconds: int
    store_consumer: str


def log_settings() -> LogSettings:
    servers = tuple(app_settings.EXCHANGE_LOG_SERVERS or ())
    replicas = int(app_settings.EXCHANGE_LOG_REPLICAS or 0)  # 0: the cluster size, max 3
    return LogSettings(
        servers=servers,
        stream=str(app_settings.EXCHANGE_LOG_STREAM),
        replicas=replicas,
        publish_timeout=float(app_settings.EXCHANGE_LOG_PUBLISH_TIMEOUT_SECONDS),
        max_age_seconds=int(app_settings.EXCHANGE_LOG_MAX_AGE_SECONDS),
        duplicate_window_seconds=int(app_settings.EXCHANGE_LOG_DUPLICATE_WINDOW_SECONDS),
        store_consumer=str(app_settings.EXCHANGE_LOG_STORE_CONSUMER),
    )


def enabled() -> bool:
    """Log mode is on when ``EXCHANGE_LOG_URL`` names at least one server."""
    return bool(app_settings.EXCHANGE_LOG_SERVERS)
