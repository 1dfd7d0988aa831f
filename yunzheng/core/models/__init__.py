from yunzheng.core.models.audit import AuditEntry
from yunzheng.core.models.calendar import StatutoryCalendarDay, StatutoryCalendarYear

__all__ = ["AuditEntry", "StatutoryCalendarDay", "StatutoryCalendarYear"]
