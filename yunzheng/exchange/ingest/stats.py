"""Upload statistics: one upsert per batch (plus one per rejected field/rule)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from django.db import connection

from yunzheng.exchange.spec import RecordError
from yunzheng.exchange.spec.validation import BEIJING

_UPLOAD_STAT_SQL = (
    "INSERT INTO exchange_uploadstat (company_id, interface, environment, day, batches, received, "
    "accepted, duplicates, rejected, last_received_at, lag_count, lag_sum_seconds, lag_max_seconds) "
    "VALUES (%s, %s, %s, %s, 1, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (company_id, interface, environment, day) DO UPDATE SET "
    "batches = exchange_uploadstat.batches + 1, "
    "received = exchange_uploadstat.received + excluded.received, "
    "accepted = exchange_uploadstat.accepted + excluded.accepted, "
    "duplicates = exchange_uploadstat.duplicates + excluded.duplicates, "
    "rejected = exchange_uploadstat.rejected + excluded.rejected, "
    "last_received_at = CASE WHEN excluded.last_received_at > exchange_uploadstat.last_received_at "
    "THEN excluded.last_received_at ELSE exchange_uploadstat.last_received_at END, "
    "lag_count = exchange_uploadstat.lag_count + excluded.lag_count, "
    "lag_sum_seconds = exchange_uploadstat.lag_sum_seconds + excluded.lag_sum_seconds, "
    "lag_max_seconds = CASE WHEN excluded.lag_max_seconds > exchange_uploadstat.lag_max_seconds "
    "THEN excluded.lag_max_seconds ELSE exchange_uploadstat.lag_max_seconds END"
)
_REJECT_STAT_SQL = (
    "INSERT INTO exchange_rejectstat (company_id, interface, environment, day, field, code, count) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (company_id, interface, environment, day, field, code) DO UPDATE SET "
    "count = exchange_rejectstat.count + excluded.count"
)


def _upsert_stats(
    *,
    company_id: int,
    interface: int,
    environment: str,
    received_at: datetime,
    received: int,
    accepted: int,
    duplicates: int,
    rejected: list[RecordError],
    lags: list[int],
) -> None:
    ops = connection.ops
    day: date = received_at.astimezone(BEIJING).date()
    day_param = ops.adapt_datefield_value(day)
    by_rule = Counter((e.field[:64], str(e.code)) for r in rejected for e in r.errors)
    with connection.cursor() as cursor:
        if by_rule:
            # Sorted, so that concurrent batches lock the same rows in the same order.
            cursor.executemany(
                _REJECT_STAT_SQL,
                [
                    (company_id, interface, environment, day_param, f, c, n)
                    for (f, c), n in sorted(by_rule.items())
                ],
            )
        # Last statement of the transaction: the row lock on the day's counter is held only
        # until the commit that follows.
        cursor.execute(
            _UPLOAD_STAT_SQL,
            [
                company_id,
                interface,
                environment,
                day_param,
                received,
                accepted,
                duplicates,
                len(rejected),
                ops.adapt_datetimefield_value(received_at),
                len(lags),
                sum(lags),
                max(lags, default=0),
            ],
        )
