"""Helpers shared by the accounts services: time, limits, locks, audit actors."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.utils import timezone

from yunzheng.core.ratelimit import seconds_until, window_limit

__all__ = [
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
