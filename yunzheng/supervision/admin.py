"""Django admin: platform profiles (display name, aggregator flag) and the cities where a company
may operate are edited here, through the services (audited); the licence history is read-only
(it changes through imports and registry syncs only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from yunzheng.core.audit import Actor
from yunzheng.supervision.models import CompanyCityLicence, LicencePeriod, PlatformProfile
from yunzheng.supervision.services import company_city_licence_set, platform_profile_set


@admin.register(PlatformProfile)
class PlatformProfileAdmin(admin.ModelAdmin):
    list_display = ["company", "display_name", "is_aggregator", "updated_at"]
    list_filter = ["is_aggregator"]
    search_fields = ["display_name", "company__name", "company__supervision_company_id"]
    autocomplete_fields = ["company"]

    def save_model(self, request: HttpRequest, obj: PlatformProfile, form: Any, change: bool) -> None:
        saved = platform_profile_set(
            company=obj.company,
            display_name=obj.display_name,
            is_aggregator=obj.is_aggregator,
            actor=Actor.for_user(request.user),
        )
        obj.pk = saved.pk


@admin.register(CompanyCityLicence)
class CompanyCityLicenceAdmin(admin.ModelAdmin):
    list_display = ["company", "city_code", "valid_from", "valid_until", "source", "source_ref"]
    list_filter = ["source"]
    search_fields = ["company__name", "company__supervision_company_id", "city_code"]
    autocomplete_fields = ["company"]

    def save_model(self, request: HttpRequest, obj: CompanyCityLicence, form: Any, change: bool) -> None:
        saved = company_city_licence_set(
            company=obj.company,
            city_code=obj.city_code,
            valid_from=obj.valid_from,
            valid_until=obj.valid_until,
            source=obj.source,
            source_ref=obj.source_ref,
            actor=Actor.for_user(request.user),
        )
        obj.pk = saved.pk


@admin.register(LicencePeriod)
class LicencePeriodAdmin(admin.ModelAdmin):
    list_display = [
        "kind",
        "identifier_display",
        "certificate_no",
        "valid_from",
        "valid_until",
        "status",
        "source",
    ]
    list_filter = ["kind", "status", "source"]
    search_fields = ["certificate_no", "identifier_display"]
    exclude = ["identifier"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
