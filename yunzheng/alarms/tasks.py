"""Periodic work of alarms (core.scheduling): the rules that need a clock, and escalation."""

from __future__ import annotations

from django_tasks import task

from yunzheng.core.scheduling import Periodic, run_command


@task()
def alarms_tick() -> str:
    return run_command("alarms_tick")


SCHEDULE = [
    Periodic("alarms.tick", "* * * * *", alarms_tick, "stale feeds, clustering, escalation"),
]
