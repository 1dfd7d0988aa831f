"""Helpers shared by the accounts services: time, limits, locks, audit actors."""

from __future__ import annotations

import math

from yunzheng.core.ratelimit import seconds_until, window_limit

__all__ = [
    "minutes_from_seconds",
    "seconds_until",
    "window_limit",
]


def minutes_from_seconds(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))
