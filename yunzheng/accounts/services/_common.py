"""Helpers shared by the accounts services: time, limits, locks, audit actors."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db import connection
from django.utils import timezone

from yunzheng.core.ratelimit import seconds_until, window_limit

__all__ = [
    "lock_key",
    "minutes_from_seconds",
    "now_or_current",
    "seconds_until",
    "setting_int",
    "window_limit",
]


def setting_int(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def now_or_current(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def minutes_from_seconds(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def lock_key(namespace: int, hex_digest: str) -> None:
    """Serialise writers for one key (e.g. one phone) until the transaction ends.

    PostgreSQL: an advisory lock (there may be no row yet to SELECT ... FOR UPDATE). SQLite runs
    transactions IMMEDIATE (config.env), so the database write lock already serialises them.
    """
    if connection.vendor == "postgresql":
        key = int(hex_digest[:8], 16) - 2**31  # into int4's signed range
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace - 2**31, key])
