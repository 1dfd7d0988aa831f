"""Today in China: the one way to get the calendar day that rules and deadlines count in.

Licence validity, deadlines, queues and reports use calendar days in China Standard Time (UTC+8,
no daylight saving since 1991), whatever the server's or the request's time zone. `now` can be
injected (services take it so tests can move time).

The offline verifier (`elicense/verifier.py`) keeps its own `china_date`: it runs without Django
and without this package.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils import timezone

CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")


def now_or(now: dt.datetime | None) -> dt.datetime:
    """`now` when given (tests inject it), else the current time."""
    return now or timezone.now()


def today_in_china(now: dt.datetime | None = None) -> dt.date:
    """The calendar day in China at `now` (default: the current time)."""
    return now_or(now).astimezone(CHINA).date()
