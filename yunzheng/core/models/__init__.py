from yunzheng.core.models.audit import AuditCheckpoint, AuditEntry
from yunzheng.core.models.calendar import StatutoryCalendarDay, StatutoryCalendarYear

__all__ = ["AuditCheckpoint", "AuditEntry", "StatutoryCalendarDay", "StatutoryCalendarYear"]
