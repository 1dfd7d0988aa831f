"""The platform's periodic work, scheduled in code (ADR 0070).

Each app may declare, in its `tasks.py`, a list `SCHEDULE` of `Periodic(key, cron, task)`: a
django-tasks `Task` (thin: it calls a service or the matching management command) and when it is
due, as a cron expression in Beijing time. `manage.py run_scheduler` enqueues each job when its
time comes, into the database task queue (django-tasks-db: PostgreSQL and SQLite), and
`manage.py db_worker` runs what is queued. A slot is claimed by a row with a unique (job, slot)
key before it is enqueued, so two schedulers, or a restarted one, never enqueue a slot twice; a
scheduler that was down catches up with the latest missed slot only.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from dataclasses import dataclass
from typing import Any

from cronsim import CronSim
from django.apps import apps
from django.db import IntegrityError, transaction

from yunzheng.core.clock import CHINA

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    key: str  # stable name of the job, e.g. "office.deadlines_refresh"
    cron: str  # five fields, Beijing time
    task: Any  # a django-tasks Task
    summary: str = ""

    def latest_slot(self, now: dt.datetime) -> dt.datetime:
        """The latest time at or before `now` when this job was due (aware, Beijing time)."""
        local = now.astimezone(CHINA).replace(second=0, microsecond=0)
        # cronsim iterates forwards: start a period back (at most a week for these schedules).
        previous = None
        for slot in CronSim(self.cron, local - dt.timedelta(days=8)):
            if slot > local:
                break
            previous = slot
        if previous is None:
            raise ValueError(f"{self.key}: no slot of {self.cron!r} in the last eight days")
        return previous

    def next_slot(self, now: dt.datetime) -> dt.datetime:
        return next(CronSim(self.cron, now.astimezone(CHINA).replace(second=0, microsecond=0)))


def schedule() -> list[Periodic]:
    """Every periodic job declared by the apps' `tasks.py`, sorted by key."""
    jobs: list[Periodic] = []
    for app_config in apps.get_app_configs():
        if not app_config.name.startswith("yunzheng."):
            continue
        try:
            module = importlib.import_module(f"{app_config.name}.tasks")
        except ModuleNotFoundError as missing:
            if missing.name != f"{app_config.name}.tasks":
                raise
            continue
        jobs.extend(getattr(module, "SCHEDULE", []))
    keys = [job.key for job in jobs]
    duplicates = {key for key in keys if keys.count(key) > 1}
    if duplicates:
        raise ValueError(f"periodic jobs declared twice: {sorted(duplicates)}")
    return sorted(jobs, key=lambda job: job.key)


@dataclass(frozen=True)
class Enqueued:
    key: str
    slot: dt.datetime
    task_result_id: str


def enqueue_due(*, now: dt.datetime, since: dt.datetime | None = None) -> list[Enqueued]:
    """Enqueue every job whose latest slot is due and not yet claimed.

    `since`: slots at or before it are not caught up (a fresh scheduler passes its start time
    minus one period of grace, so that a restart does not replay a whole day of jobs)."""
    from yunzheng.core.models import ScheduledRun

    enqueued = []
    for job in schedule():
        slot = job.latest_slot(now)
        if since is not None and slot <= since:
            continue
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(key=job.key, slot=slot)
                result = job.task.enqueue()
                run.task_result_id = str(result.id)
                run.save(update_fields=["task_result_id"])
        except IntegrityError:
            continue  # another scheduler claimed this slot
        logger.info("Enqueued %s for %s (task %s)", job.key, slot.isoformat(), result.id)
        enqueued.append(Enqueued(key=job.key, slot=slot, task_result_id=str(result.id)))
    return enqueued


def run_command(name: str, *args: str) -> str:
    """For tasks whose work is exactly an operator's command (the same code path cron used):
    run it and return what it printed, which django-tasks keeps as the task's result."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue().strip()
