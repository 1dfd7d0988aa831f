from yunzheng.core.models.audit import AuditCheckpoint, AuditEntry
from yunzheng.core.models.calendar import StatutoryCalendarDay, StatutoryCalendarYear
from yunzheng.core.models.schedule import ScheduledRun

__all__ = ["AuditCheckpoint", "AuditEntry", "ScheduledRun", "StatutoryCalendarDay", "StatutoryCalendarYear"]
