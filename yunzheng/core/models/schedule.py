"""One row per periodic slot that has been enqueued (see core.scheduling)."""

from __future__ import annotations

from django.db import models


class ScheduledRun(models.Model):
    """The claim of one slot of one periodic job: the unique constraint makes two schedulers (or a
    restarted one) enqueue each slot once."""

    key = models.CharField(max_length=100)
    slot = models.DateTimeField()
    enqueued_at = models.DateTimeField(auto_now_add=True)
    task_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "slot"], name="core_scheduled_run_once")]
        indexes = [models.Index(fields=["key", "-slot"], name="core_scheduled_run_latest")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.slot.isoformat()}"
