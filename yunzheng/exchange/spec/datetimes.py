"""Calendar values of the interface: YYYYMMDD / YYYYMMDDhhmmss integers in Beijing time, their
validity, conversions, and the accepted window of event times. Pure Python (no Django)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

#: Beijing time; China has used UTC+8 without daylight saving since 1992.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

#: Event times before this (YYYYMMDDhhmmss, Beijing time) are refused with ``time_too_early``.
EARLIEST_TIME14 = 20000101000000
#: Event times more than this after now are refused with ``time_in_future``.
FUTURE_TOLERANCE = timedelta(days=1)
# [latest acceptable event time as YYYYMMDDhhmmss]: a list so that the generated validators and
# the checkers read one shared value, refreshed once per batch (`refresh_time_window`).
_LATEST_TIME14 = [0]


def _as_datetime14(t: datetime) -> int:
    return (
        t.year * 10_000_000_000
        + t.month * 100_000_000
        + t.day * 1_000_000
        + t.hour * 10_000
        + t.minute * 100
        + t.second
    )


def refresh_time_window(now: datetime | None = None) -> int:
    """Set (and return) the latest acceptable event time: now + FUTURE_TOLERANCE, Beijing time."""
    latest = _as_datetime14(((now or datetime.now(BEIJING)) + FUTURE_TOLERANCE).astimezone(BEIJING))
    _LATEST_TIME14[0] = latest
    return latest


_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_valid_ymd(y: int, m: int, d: int) -> bool:
    if m < 1 or m > 12 or d < 1:
        return False
    if m == 2:
        leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
        return d <= (29 if leap else 28)
    return d <= _DAYS_IN_MONTH[m]


_DATE8_CACHE: dict[int, bool] = {}
_DATE8_CACHE_MAX = 4096


def is_valid_date8(v: int) -> bool:
    """YYYYMMDD as an 8-digit integer is a real calendar date (memoised: dates repeat a lot)."""
    ok = _DATE8_CACHE.get(v)
    if ok is None:
        y, md = divmod(v, 10000)
        m, d = divmod(md, 100)
        ok = _is_valid_ymd(y, m, d)
        if len(_DATE8_CACHE) >= _DATE8_CACHE_MAX:
            _DATE8_CACHE.clear()
        _DATE8_CACHE[v] = ok
    return ok


def is_valid_datetime14(v: int) -> bool:
    """YYYYMMDDhhmmss as a 14-digit integer is a real date and time of day."""
    date8, hms = divmod(v, 1_000_000)
    return hms < 240000 and hms % 10000 < 6000 and hms % 100 < 60 and is_valid_date8(date8)


def unixtime_to_datetime14(v: int) -> int:
    """Unix seconds -> YYYYMMDDhhmmss in Beijing time."""
    return _as_datetime14(datetime.fromtimestamp(v, BEIJING))


def datetime14_to_datetime(v: int) -> datetime:
    """YYYYMMDDhhmmss (Beijing time) -> aware datetime."""
    s = f"{v:014d}"
    return datetime(
        int(s[0:4]), int(s[4:6]), int(s[6:8]), int(s[8:10]), int(s[10:12]), int(s[12:14]), tzinfo=BEIJING
    )
