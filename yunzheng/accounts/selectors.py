"""Reads of the accounts app, with visibility checked here: a user sees only their own
verifications and companies, staff only what their scope covers."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunzheng.accounts.error_codes import AccountsErrorCode as Code
from yunzheng.accounts.models import Company, CompanyCredential, CompanyMembership, RealNameVerification, User
from yunzheng.accounts.ocr import IdCardFields
from yunzheng.accounts.permissions import authorize
from yunzheng.core.clock import today_in_china
from yunzheng.core.errors import NotFound


def _not_found() -> NotFound:
    return NotFound(Code.REAL_NAME_NOT_FOUND, _("No such real-name verification."))


def realname_verification_for_user(*, user: User, verification_id: int) -> RealNameVerification:
    """One of the user's own verifications; another user's is "not found", never "forbidden"."""
    verification = RealNameVerification.objects.filter(pk=verification_id, user=user).first()
    if verification is None:
        raise _not_found()
    return verification


def realname_latest_for_user(*, user: User) -> RealNameVerification | None:
    """The latest submitted (non-draft) verification, for the status page."""
    return (
        RealNameVerification.objects.filter(user=user)
        .exclude(status=RealNameVerification.Status.DRAFT)
        .order_by("-submitted_at", "-pk")
        .first()
    )


def realname_draft_for_user(*, user: User) -> RealNameVerification | None:
    """The user's latest draft whose photo has been read, so that leaving the confirm step and
    coming back keeps the recognised fields instead of asking for a new photo."""
    return (
        RealNameVerification.objects.filter(user=user, status=RealNameVerification.Status.DRAFT)
        .order_by("-pk")
        .first()
    )


def realname_prefill(verification: RealNameVerification) -> IdCardFields:
    return IdCardFields.from_json(verification.prefill)


def _reviewable(staff_user: User) -> QuerySet[RealNameVerification]:
    scope = authorize(staff_user, "realname.review")
    return (
        RealNameVerification.objects.exclude(status=RealNameVerification.Status.DRAFT)
        .filter(region_code__startswith=scope.region_prefix)
        .select_related("user", "reviewed_by")
    )


def realname_review_queue(
    *, staff_user: User, status: str = RealNameVerification.Status.PENDING
) -> QuerySet[RealNameVerification]:
    """Submissions in the reviewer's region, oldest first (first come, first served)."""
    return _reviewable(staff_user).filter(status=status).order_by("submitted_at", "pk")


def realname_verification_for_staff(*, staff_user: User, verification_id: int) -> RealNameVerification:
    """One submission, if the reviewer's scope covers its region; "not found" otherwise."""
    verification = _reviewable(staff_user).filter(pk=verification_id).first()
    if verification is None:
        raise _not_found()
    return verification


def companies_for_user(*, user: User) -> QuerySet[Company]:
    return Company.objects.filter(memberships__user=user).select_related("contact_user").distinct()


def company_for_member(*, user: User, company_id: int) -> Company:
    company = companies_for_user(user=user).filter(pk=company_id).first()
    if company is None:
        raise NotFound(Code.COMPANY_NOT_FOUND, _("No such company."))
    return company


def company_credentials(*, company: Company) -> QuerySet[CompanyCredential]:
    return company.credentials.select_related("created_by").order_by("revoked_at", "-created_at")


def company_members(*, company: Company) -> QuerySet[CompanyMembership]:
    return company.memberships.select_related("user").order_by("created_at")


def realname_review_counts(*, staff_user: User) -> tuple[int, int]:
    """Workbench badge: submissions waiting, and those waiting longer than one working day
    (the promise the applicant is shown). PermissionDenied for departments that do not review."""
    from yunzheng.core.workdays import WorkingCalendar

    pending = realname_review_queue(staff_user=staff_user)
    # The latest submission day that is already overdue today: one working day after it is past.
    calendar, day = WorkingCalendar(), today_in_china()
    while calendar.add_working_days(day, 1) >= today_in_china():
        day -= dt.timedelta(days=1)
    overdue = pending.filter(submitted_at__date__lte=day).count()
    return pending.count(), overdue


def department_unit_name(*, department: str, region_code: str) -> str:
    """The name of the unit (e.g. 天津市公安交通管理局) where staff of `department` sit for the
    region of `region_code` — its city's, or else its province's (a municipality is both) — as the
    staff accounts record it; "" when no such account names its unit."""
    from yunzheng.accounts.models import StaffProfile

    candidates = [region_code, region_code[:4] + "00", region_code[:2] + "0000"]
    rows = (
        StaffProfile.objects.filter(department=department, region_code__in=candidates, user__is_active=True)
        .exclude(unit_name="")
        .values_list("region_code", "unit_name")
    )
    names = dict(rows)
    return next((names[code] for code in candidates if code in names), "")


def company_with_contact(*, company_id: int) -> Company | None:
    return Company.objects.select_related("contact_user").filter(pk=company_id).first()


def active_staff_user(*, user_id: int) -> User | None:
    """A staff account that may log in (the one half-way through the staff login)."""
    return User.objects.filter(pk=user_id, is_active=True, kind=User.Kind.STAFF).first()


def has_confirmed_device(*, user: User) -> bool:
    """Whether the account has an enrolled (confirmed) authenticator."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def unconfirmed_device(*, device_id: int) -> TOTPDevice | None:
    """The authenticator being enrolled (not yet confirmed by its first code)."""
    return TOTPDevice.objects.filter(pk=device_id, confirmed=False).first()
