"""The one time-window rate limiter: "at most `limit` events in any `window`".

The events are rows the caller keeps anyway (SMS codes sent, verification attempts, failed
logins), so the limit survives restarts and holds across worker processes without a cache:

    free_at = window_limit(SmsCode.objects.filter(client_ip=ip), window=HOUR, limit=20, now=now)
    if free_at is not None:
        raise RateLimited(code, message, retry_after_seconds=seconds_until(free_at, now))

Serialise concurrent callers for one key (`core.locks.advisory_xact_lock`) inside the same
transaction, or two requests can both take the last slot.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any


def window_limit(
    queryset: Any, *, window: dt.timedelta, limit: int, now: dt.datetime, field: str = "created_at"
) -> dt.datetime | None:
    """None while fewer than `limit` rows of `queryset` have `field` within `window` before `now`;
    otherwise the moment the oldest of the newest `limit` rows leaves the window (when the next
    event is allowed)."""
    if limit <= 0:
        return now + window
    recent = list(
        queryset.filter(**{f"{field}__gt": now - window})
        .order_by(f"-{field}")
        .values_list(field, flat=True)[:limit]
    )
    if len(recent) < limit:
        return None
    moment: dt.datetime = recent[-1] + window
    return moment


def seconds_until(moment: dt.datetime, now: dt.datetime) -> int:
    """Whole seconds to wait (at least 1), for Retry-After and messages."""
    return max(1, math.ceil((moment - now).total_seconds()))


def lockout_until(
    queryset: Any,
    *,
    threshold: int,
    base: dt.timedelta,
    longest: dt.timedelta,
    window: dt.timedelta,
    now: dt.datetime,
    field: str = "created_at",
) -> dt.datetime | None:
    """A lockout that grows: once `threshold` failures (rows of `queryset`) fall within `window`,
    the key is locked for `base` after the latest failure, doubling with each failure beyond the
    threshold (capped at `longest`). None when not locked at `now`."""
    moments = list(queryset.filter(**{f"{field}__gt": now - window}).values_list(field, flat=True))
    if len(moments) < threshold:
        return None
    extra = len(moments) - threshold
    length = min(longest, base * (2 ** min(extra, 30)))
    until: dt.datetime = max(moments) + length
    return until if until > now else None
