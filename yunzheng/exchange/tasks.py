"""Periodic work of the exchange (core.scheduling)."""

from __future__ import annotations

from django_tasks import task

from yunzheng.core.scheduling import Periodic, run_command


@task()
def forward_exchange_due() -> str:
    """One round of forwarding to provincial and city platforms (retries are due by then)."""
    return run_command("forward_exchange", "--once")


SCHEDULE = [
    Periodic("exchange.forwarding", "* * * * *", forward_exchange_due, "records due for forwarding"),
]
