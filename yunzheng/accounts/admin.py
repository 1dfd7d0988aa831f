"""Django admin for platform administrators: staff profiles and companies are editable; personal
data appears masked; identity records, tokens and codes are read-only (change them via services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yunzheng.accounts import services
from yunzheng.accounts.models import (
    Company,
    CompanyCredential,
    CompanyMembership,
    PolicyAcceptance,
    RealNameVerification,
    StaffCredentialToken,
    StaffProfile,
    User,
)
from yunzheng.core.audit import Actor
from yunzheng.core.crypto import mask_id_number, mask_name, mask_phone
from yunzheng.core.errors import DomainError


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """Only `is_active` is editable (to block an account); identity changes go through services."""

    list_display = ["id", "username", "kind", "masked_phone", "real_name_status", "is_active", "date_joined"]
    list_filter = ["kind", "real_name_status", "is_active"]
    search_fields = ["username"]
    readonly_fields = [
        "username",
        "kind",
        "masked_phone",
        "real_name_status",
        "masked_name",
        "masked_id_number",
    ]
    fields = [*readonly_fields, "is_active"]

    actions = ["issue_enrolment_link", "issue_password_reset_link"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _issue(self, request: HttpRequest, queryset: QuerySet[User], purpose: str, url_name: str) -> None:
        """One-time links (audited) shown once to the administrator, who hands them over."""
        for user in queryset:
            try:
                token = services.staff_credential_link_issue(
                    user=user, purpose=purpose, issued_by=Actor.for_user(request.user)
                )
            except DomainError as error:
                messages.error(request, f"{user.username}: {error.message}")
                continue
            link = request.build_absolute_uri(reverse(url_name, kwargs={"token": token}))
            messages.success(request, f"{user.username}: {link}")

    @admin.action(description=_("Issue a one-time authenticator enrolment link"))
    def issue_enrolment_link(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._issue(request, queryset, StaffCredentialToken.Purpose.ENROL, "accounts:staff_enrol")

    @admin.action(description=_("Issue a one-time password reset link"))
    def issue_password_reset_link(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._issue(
            request, queryset, StaffCredentialToken.Purpose.PASSWORD_RESET, "accounts:staff_password_reset"
        )

    @admin.display(description=_("mobile phone"))
    def masked_phone(self, obj: User) -> str:
        return mask_phone(obj.phone) if obj.phone else ""

    @admin.display(description=_("real name"))
    def masked_name(self, obj: User) -> str:
        return mask_name(obj.real_name) if obj.real_name else ""

    @admin.display(description=_("resident ID number"))
    def masked_id_number(self, obj: User) -> str:
        return mask_id_number(obj.id_number) if obj.id_number else ""


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "department", "level", "region_code", "unit_name"]
    list_filter = ["department", "level"]
    search_fields = ["user__username", "region_code", "unit_name"]
    raw_id_fields = ["user"]


class CompanyMembershipInline(admin.TabularInline):
    model = CompanyMembership
    extra = 0
    raw_id_fields = ["user", "added_by"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "credit_code", "supervision_company_id", "region_code", "created_at"]
    search_fields = ["name", "credit_code", "supervision_company_id"]
    # The contact person changes only through the audited service (company pages).
    readonly_fields = ["contact_user"]
    inlines = [CompanyMembershipInline]


@admin.register(CompanyCredential)
class CompanyCredentialAdmin(ReadOnlyAdmin):
    list_display = ["company", "name", "environment", "key_id", "created_at", "revoked_at", "last_used_at"]
    list_filter = ["environment"]
    search_fields = ["company__name", "key_id"]
    exclude = ["secret_hash"]


@admin.register(RealNameVerification)
class RealNameVerificationAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "status", "region_code", "submitted_at", "reviewed_at", "backend"]
    list_filter = ["status"]
    fields = readonly_fields = (
        "user",
        "status",
        "region_code",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "backend",
        "reason",
    )


@admin.register(PolicyAcceptance)
class PolicyAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ["user", "document", "version", "accepted_at"]
    list_filter = ["document", "version"]
