"""The periodic work is scheduled in code, enqueued once per slot, and run by the real worker."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from yunzheng.core.clock import CHINA as BEIJING
from yunzheng.core.models import ScheduledRun
from yunzheng.core.scheduling import enqueue_due, schedule

pytestmark = pytest.mark.django_db


def test_the_periodic_work_is_registered() -> None:
    jobs = {job.key: job for job in schedule()}
    # The jobs the README used to leave to cron.
    assert {
        "office.deadlines_refresh",
        "licensing.reminders",
        "elicense.expire",
        "elicense.sync_check",
        "supervision.compliance",
        "supervision.registries",
        "exchange.forwarding",
        "accounts.purge",
        "alarms.tick",
    } <= set(jobs)
    now = dt.datetime(2026, 12, 4, 12, 0, tzinfo=BEIJING)
    assert jobs["supervision.compliance"].next_slot(now) == dt.datetime(2026, 12, 5, 2, 0, tzinfo=BEIJING)
    assert jobs["office.deadlines_refresh"].latest_slot(now) == dt.datetime(
        2026, 12, 4, 0, 10, tzinfo=BEIJING
    )
    out = StringIO()
    call_command("run_scheduler", "--list", stdout=out)
    assert "supervision.compliance" in out.getvalue()


# The worker commits and closes connections as it would in production: no test transaction around it.
@pytest.mark.django_db(transaction=True)
def test_a_slot_is_enqueued_once_and_the_worker_runs_it(settings: Any, tmp_path: Path) -> None:
    settings.AUDIT_CHECKPOINT_EXPORT = str(tmp_path / "checkpoints.jsonl")
    now = dt.datetime(2026, 12, 4, 0, 10, 30, tzinfo=BEIJING)
    since = now - dt.timedelta(minutes=1)
    first = enqueue_due(now=now, since=since)
    keys = {item.key for item in first}
    assert "office.deadlines_refresh" in keys  # its daily slot is 00:10
    assert "supervision.compliance" not in keys  # 02:00 yesterday is before `since`
    assert enqueue_due(now=now, since=since) == []  # a second scheduler finds the slots claimed
    assert ScheduledRun.objects.filter(key="office.deadlines_refresh").count() == 1

    run = ScheduledRun.objects.get(key="office.deadlines_refresh")
    assert DBTaskResult.objects.get(id=run.task_result_id).status == "READY"
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())
    result = DBTaskResult.objects.get(id=run.task_result_id)
    assert result.status == "SUCCESSFUL", result.exception_class_path
    assert result.return_value == "0 case(s) got their due date."
    statuses = set(
        DBTaskResult.objects.filter(id__in=[i.task_result_id for i in first]).values_list("status", flat=True)
    )
    assert statuses == {"SUCCESSFUL"}
