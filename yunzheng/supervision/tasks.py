"""Periodic work of supervision analytics (core.scheduling)."""

from __future__ import annotations

from django_tasks import task

from yunzheng.core.scheduling import Periodic, run_command


@task()
def compute_compliance_yesterday() -> str:
    return run_command("compute_compliance", "--yesterday")


@task()
def sync_licence_registries() -> str:
    return run_command("sync_licence_registries")


SCHEDULE = [
    Periodic("supervision.registries", "40 1 * * *", sync_licence_registries, "licence history"),
    Periodic("supervision.compliance", "0 2 * * *", compute_compliance_yesterday, "yesterday's rates"),
]
