"""Helpers shared by the accounts services: time, limits, locks, audit actors."""

from __future__ import annotations

import datetime as dt
import math

from django.utils import timezone

from yunzheng.core.ratelimit import seconds_until, window_limit

__all__ = [
    "minutes_from_seconds",
    "now_or_current",
    "seconds_until",
    "window_limit",
]


def now_or_current(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def minutes_from_seconds(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))
