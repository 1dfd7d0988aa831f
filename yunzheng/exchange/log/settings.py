"""The log's settings (``config/settings/base.py`` reads them from the environment)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


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
    servers = tuple(getattr(settings, "EXCHANGE_LOG_SERVERS", ()) or ())
    replicas = int(getattr(settings, "EXCHANGE_LOG_REPLICAS", 0) or 0)  # 0: the cluster size, max 3
    return LogSettings(
        servers=servers,
        stream=str(getattr(settings, "EXCHANGE_LOG_STREAM", "YZX")),
        replicas=replicas,
        publish_timeout=float(getattr(settings, "EXCHANGE_LOG_PUBLISH_TIMEOUT_SECONDS", 5)),
        max_age_seconds=int(getattr(settings, "EXCHANGE_LOG_MAX_AGE_SECONDS", 7 * 86400)),
        duplicate_window_seconds=int(getattr(settings, "EXCHANGE_LOG_DUPLICATE_WINDOW_SECONDS", 600)),
        store_consumer=str(getattr(settings, "EXCHANGE_LOG_STORE_CONSUMER", "store")),
    )


def enabled() -> bool:
    """Log mode is on when ``EXCHANGE_LOG_URL`` names at least one server."""
    return bool(getattr(settings, "EXCHANGE_LOG_SERVERS", ()))
