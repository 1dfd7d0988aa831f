"""Reads for the elicense pages and APIs. Visibility is decided here: a holder sees only their own
licences (anyone else gets "not found", never "forbidden", so existence does not leak); staff see
what their region covers; the ministry index is open to every transport authority."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.accounts.scopes import staff_scope
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import lookup_hash
from yunzheng.core.errors import NotFound
from yunzheng.elicense.error_codes import ElicenseErrorCode as Code
from yunzheng.elicense.models import (
    ElectronicLicence,
    LicenceType,
    MinistryIndexEntry,
    ShareCode,
    SyncCheckRun,
    TrafficPassApplication,
)


def _licence_not_found() -> NotFound:
    return NotFound(Code.LICENCE_NOT_FOUND, _("No such licence."))


def licences_for_user(*, user: Any) -> QuerySet[ElectronicLicence]:
    """The user's own licences: held personally, by a company they act for, or issued to their
    (verified) ID number before they had an account."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ElectronicLicence.objects.none()
    condition = Q(holder_user=user) | Q(holder_company__memberships__user=user)
    if getattr(user, "is_real_name_verified", False) and user.id_number_hash:
        condition |= Q(holder_kind=ElectronicLicence.HolderKind.PERSON, holder_id_hash=user.id_number_hash)
    return ElectronicLicence.objects.filter(condition).distinct().order_by("licence_type", "-updated_at")


def licence_for_holder(*, user: Any, lid: str) -> ElectronicLicence:
    licence = licences_for_user(user=user).filter(lid=lid).first()
    if licence is None:
        raise _licence_not_found()
    return licence


def licence_for_staff(*, staff_user: Any, lid: str) -> ElectronicLicence:
    scope = staff_scope(staff_user)
    licence = ElectronicLicence.objects.filter(lid=lid, issuer_region__startswith=scope.region_prefix).first()
    if licence is None:
        raise _licence_not_found()
    return licence


def share_codes_for_licence(*, licence: ElectronicLicence) -> QuerySet[ShareCode]:
    return licence.share_codes.order_by("-created_at")


def share_code_state(share: ShareCode, *, now: dt.datetime) -> str:
    if share.used_at is not None:
        return "used"
    return "expired" if share.expires_at <= now else "open"


@dataclass(frozen=True)
class IndexQuery:
    lid: str = ""
    holder_id_number: str = ""
    province: str = ""
    licence_type: str = ""
    status: str = ""


def index_search(*, staff_user: Any, query: IndexQuery, limit: int = 100) -> QuerySet[MinistryIndexEntry]:
    """The ministry-level index, nationwide, for any government staff member (mutual recognition
    across regions). Searching by ID number is audited by the caller
    (``services.index_record_id_search``)."""
    staff_scope(staff_user)  # staff only
    entries = MinistryIndexEntry.objects.all()
    if query.lid:
        entries = entries.filter(lid=query.lid.strip())
    if query.holder_id_number:
        entries = entries.filter(holder_id_hash=lookup_hash(query.holder_id_number))
    if query.province:
        entries = entries.filter(issuer_province=query.province)
    if query.licence_type:
        entries = entries.filter(licence_type=query.licence_type)
    if query.status:
        entries = entries.filter(status=query.status)
    return entries.order_by("-updated_at")[:limit]


# --------------------------------------------------------------------------------------------
# Traffic passes
# --------------------------------------------------------------------------------------------


def applications_for_user(*, user: User) -> QuerySet[TrafficPassApplication]:
    return (
        TrafficPassApplication.objects.filter(applicant_user=user)
        .select_related("licence", "applicant_company")
        .order_by("-submitted_at")
    )


def application_for_user(*, user: User, application_id: int) -> TrafficPassApplication:
    application = applications_for_user(user=user).filter(pk=application_id).first()
    if application is None:
        raise NotFound(Code.TP_NOT_FOUND, _("No such application."))
    return application


def _staff_applications(staff_user: Any) -> QuerySet[TrafficPassApplication]:
    scope = staff_scope(staff_user)
    return TrafficPassApplication.objects.filter(region_code__startswith=scope.region_prefix).select_related(
        "licence", "applicant_company", "vehicle"
    )


def application_queue(
    *, staff_user: Any, status: str = TrafficPassApplication.Status.SUBMITTED, overdue_only: bool = False
) -> QuerySet[TrafficPassApplication]:
    """The staff queue, earliest due date first; `overdue_only` keeps those past their due date."""
    applications = _staff_applications(staff_user)
    if status and not overdue_only:  # only applications past the data review can be overdue
        applications = applications.filter(status=status)
    if overdue_only:
        applications = applications.filter(
            status=TrafficPassApplication.Status.DATA_APPROVED, due_date__lt=today_in_china()
        )
    return applications.order_by(F("due_date").asc(nulls_last=True), "submitted_at")


def application_for_staff(*, staff_user: Any, application_id: int) -> TrafficPassApplication:
    application = _staff_applications(staff_user).filter(pk=application_id).first()
    if application is None:
        raise NotFound(Code.TP_NOT_FOUND, _("No such application."))
    return application


def is_overdue(application: TrafficPassApplication) -> bool:
    """Past its decision date (which runs from the data review)."""
    return (
        application.status == TrafficPassApplication.Status.DATA_APPROVED
        and application.due_date is not None
        and application.due_date < today_in_china()
    )


# --------------------------------------------------------------------------------------------
# Consistency reports
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScopedSyncReport:
    run: SyncCheckRun
    counts: dict[str, int]
    mismatches: list[dict[str, Any]]
    provinces: list[dict[str, Any]]


def latest_sync_report(*, staff_user: Any) -> ScopedSyncReport | None:
    """The latest consistency check, limited to the provinces the staff member covers."""
    staff_scope(staff_user)
    run = SyncCheckRun.objects.order_by("-started_at").first()
    return None if run is None else scoped_sync_report(run=run, staff_user=staff_user)


def scoped_sync_report(*, run: SyncCheckRun, staff_user: Any) -> ScopedSyncReport:
    scope = staff_scope(staff_user)
    prefix = scope.region_prefix[:2]
    mismatches = [m for m in run.mismatches if str(m.get("province", "")).startswith(prefix)]
    counts = dict.fromkeys(run.counts, 0)
    for mismatch in mismatches:
        counts[mismatch["kind"]] = counts.get(mismatch["kind"], 0) + 1
    if not prefix:
        counts = dict(run.counts)  # the ministry sees the full counts, even beyond the stored sample
    # Rows with a licence_type are that type's rates in the province; without, every type together.
    provinces = [
        {
            **p,
            "licence_type_label": str(LicenceType(p["licence_type"]).label) if p.get("licence_type") else "",
        }
        for p in run.provinces
        if str(p.get("province", "")).startswith(prefix)
    ]
    return ScopedSyncReport(run=run, counts=counts, mismatches=mismatches, provinces=provinces)


def application_queue_counts(*, staff_user: Any) -> tuple[int, int]:
    """Workbench badge: traffic-pass applications waiting for review, and those past due."""
    waiting = application_queue(staff_user=staff_user)
    return waiting.count(), waiting.filter(due_date__lt=today_in_china()).count()


def licences_of_company(*, company: Any) -> list[tuple[str, int]]:
    """(licence type, how many) of a company's electronic licences, whatever their status."""
    rows = (
        ElectronicLicence.objects.filter(holder_company=company)
        .values_list("licence_type")
        .annotate(n=Count("pk"))
        .order_by("licence_type")
    )
    return [(kind, n) for kind, n in rows]
