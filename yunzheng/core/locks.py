"""The one advisory lock: serialise writers that have no row to lock yet.

`advisory_xact_lock` holds a PostgreSQL transaction-level advisory lock until the surrounding
transaction ends (call it inside `transaction.atomic()`). On SQLite it does nothing: transactions
are IMMEDIATE (config.env), so the database's write lock already serialises writers.

Keys: either one fixed 64-bit number per purpose (`advisory_xact_lock(0x59554E5A48454E47)`), or a
32-bit namespace per purpose plus a hex digest naming the thing locked
(`advisory_xact_lock(0x534D5343, phone_hash)`: one lock per phone).
"""

from __future__ import annotations

from django.db import connection


def advisory_xact_lock(namespace: int, digest: str | None = None) -> None:
    """Wait for, then hold until the transaction ends, the lock `namespace` (a 64-bit key), or
    the lock `digest` (its first 8 hex digits) within the 32-bit `namespace`."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if digest is None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [namespace])
        else:
            # both halves into int4's signed range
            key = int(digest[:8], 16) - 2**31
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace - 2**31, key])
