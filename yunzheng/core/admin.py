from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from yunzheng.core.models import AuditEntry, StatutoryCalendarDay, StatutoryCalendarYear


class StatutoryCalendarDayInline(admin.TabularInline):
    model = StatutoryCalendarDay
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StatutoryCalendarYear)
class StatutoryCalendarYearAdmin(admin.ModelAdmin):
    """Read-only: years are entered and confirmed (maker-checker) on the staff page /calendar/."""

    list_display = ["year", "notice", "confirmed_at", "updated_at"]
    inlines = [StatutoryCalendarDayInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ["id", "created_at", "actor_kind", "actor_label", "action", "target_type", "target_id"]
    list_filter = ["actor_kind", "action"]
    search_fields = ["action", "target_type", "target_id", "request_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
