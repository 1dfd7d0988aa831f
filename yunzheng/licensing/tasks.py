"""Periodic work of platform licensing (core.scheduling)."""

from __future__ import annotations

from django_tasks import task

from yunzheng.core.scheduling import Periodic, run_command


@task()
def licensing_reminders() -> str:
    return run_command("licensing_reminders")


SCHEDULE = [
    Periodic("licensing.reminders", "5 * * * *", licensing_reminders, "due-date and expiry reminders"),
]
