"""Periodic work of electronic licences (core.scheduling)."""

from __future__ import annotations

from django_tasks import task

from yunzheng.core.scheduling import Periodic, run_command
from yunzheng.elicense.services import licence_expire_due


@task()
def elicense_expire() -> str:
    return f"{licence_expire_due()} licence(s) expired"


@task()
def elicense_sync_check() -> str:
    return run_command("check_elicense_sync")


SCHEDULE = [
    Periodic("elicense.expire", "20 0 * * *", elicense_expire, "licences past their validity"),
    Periodic("elicense.sync_check", "30 3 * * *", elicense_sync_check, "registries against licences"),
]
