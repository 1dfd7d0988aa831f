"""Periodic work of accounts (core.scheduling)."""

from __future__ import annotations

from django_tasks import task

from yunzheng.core.scheduling import Periodic, run_command


@task()
def purge_accounts_data() -> str:
    return run_command("purge_accounts_data")


SCHEDULE = [
    Periodic("accounts.purge", "50 3 * * *", purge_accounts_data, "expired SMS codes, abandoned drafts"),
]
