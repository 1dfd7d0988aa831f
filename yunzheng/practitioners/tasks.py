"""Periodic work of the One-Network Office (core.scheduling)."""

from __future__ import annotations

from django_tasks import task

from yunzheng.core.scheduling import Periodic
from yunzheng.practitioners.services import case_deadlines_refresh


@task()
def office_deadlines_refresh() -> str:
    return f"{case_deadlines_refresh()} case(s) got their due date."


SCHEDULE = [
    Periodic(
        "office.deadlines_refresh",
        "10 0 * * *",
        office_deadlines_refresh,
        "due dates of cases whose calendar year became known",
    ),
]
