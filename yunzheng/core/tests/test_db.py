"""core.db.read_checking_connection: the first query of a request is the connection's health check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import OperationalError, connection

from yunzheng.core.db import read_checking_connection

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side connection loss")


def _new_request() -> None:
    """What Django does at the start of a request with CONN_HEALTH_CHECKS on a reused connection."""
    db: Any = connection  # the health-check attributes are not in django-stubs
    db.close_if_unusable_or_obsolete()
    assert db.health_check_enabled
    assert not db.health_check_done


def _answer(value: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s + 0", [value])
        return int(cursor.fetchone()[0])


def _kill_backend() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_is_replaced_and_the_read_runs_again() -> None:
    _kill_backend()
    _new_request()
    calls = []

    def read() -> int:
        calls.append(1)
        return _answer(41)

    assert read_checking_connection(read) == 41
    assert len(calls) == 2  # once on the dead connection, once on the new one


@pytest.mark.django_db(transaction=True)
def test_a_healthy_connection_costs_no_extra_query(tmp_path: Path) -> None:
    connection.ensure_connection()
    _new_request()
    trace = tmp_path / "libpq.trace"
    with trace.open("w") as out:
        connection.connection.pgconn.trace(out.fileno())  # what the client sends, as sent
        try:
            assert read_checking_connection(lambda: _answer(41)) == 41
            assert _answer(42) == 42  # later queries of the request: no check either
        finally:
            connection.connection.pgconn.untrace()
    fields = [line.split("\t") for line in trace.read_text().splitlines()]
    queries = [f[4] for f in fields if len(f) > 4 and f[1] == "F" and f[3] == "Query"]
    assert len(queries) == 2
    assert "41" in queries[0]  # no SELECT 1 before it
    assert "42" in queries[1]


@pytest.mark.django_db(transaction=True)
def test_an_error_of_the_query_itself_is_not_retried() -> None:
    connection.ensure_connection()
    _new_request()
    calls = []

    def slow() -> None:
        calls.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 1")
            try:
                cursor.execute("SELECT pg_sleep(1)")
            finally:
                cursor.execute("SET statement_timeout = 0")

    with pytest.raises(OperationalError):
        read_checking_connection(slow)
    assert calls == [1]
