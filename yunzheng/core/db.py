"""Database connection helpers shared by the hot paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, connection

_T = TypeVar("_T")


def read_checking_connection(read: Callable[[], _T]) -> _T:
    """Run ``read`` (an idempotent read, the request's first query) as the connection's health check.

    With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every request
    on a reused connection: a round trip per request, on the exchange's upload path a fixed cost
    of every batch (issue #16). Here the first real query is the check: it runs on the reused
    connection directly and, if it fails because that connection is no longer usable (the server
    restarted or dropped it), the connection is closed and ``read`` runs once more on a new one,
    which is what the health check would have achieved. Inside a transaction (nothing to retry
    safely) or without health checks, ``read`` simply runs.
    """
    db: Any = connection  # the health-check attributes are not in django-stubs
    if db.connection is None or db.in_atomic_block or not db.health_check_enabled or db.health_check_done:
        return read()
    db.health_check_done = True
    try:
        return read()
    except (InterfaceError, OperationalError):
        if connection.is_usable():
            raise
    connection.close()
    return read()
