"""Writes of the conformance app: campaigns, cycles, grading, the test-passed document.

Rules (see docs/adr/0040-conformance-sandbox-and-grading.md):

* A campaign is self-service (started by a member of the company) or official (started by transport
  staff covering the company, usually for its licensing appointment).
* A cycle tests one thing: ``connectivity`` or ``consistency``. At most one cycle per company is
  open; sandbox uploads go to it. Opening an official cycle aborts an open self-service cycle of the
  company (the regulator's appointment has priority); a company cannot open a self-service cycle
  while an official one is open.
* Closing a cycle grades it and keeps the report forever. A campaign passes when, for each of the
  two tests, its latest ``required_passes`` graded cycles all passed (settings
  ``CONFORMANCE_REQUIRED_PASSES_SELF_SERVICE`` / ``..._OFFICIAL``, default 1: the seeds' "passed in
  four cycles" means it took four cycles, not that four passes are needed). An official campaign
  fails when ``max_cycles`` (``CONFORMANCE_OFFICIAL_MAX_CYCLES``, default 4) are used up without a
  pass, or when the regulator ends it.
* An official pass issues the test-passed document through licensing's
  ``test_passed_document_record`` (valid 6 months; licensing computes the date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.accounts.permissions import authorize
from yunzheng.conformance import selectors
from yunzheng.conformance.conf import THRESHOLD_SETTINGS, app_settings
from yunzheng.conformance.connectivity import connectivity_report
from yunzheng.conformance.error_codes import ConformanceErrorCode as Code
from yunzheng.conformance.grading import (
    QUALITY_CHECKS,
    QUALITY_MODES,
    VOLUME_BASES,
    Thresholds,
    grade_cycle,
)
from yunzheng.conformance.models import Campaign, Cycle
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yunzheng.exchange.spec import get_spec


def thresholds_from_settings() -> Thresholds:
    defaults = Thresholds().to_dict()
    return Thresholds.from_dict(
        {key: type(defaults[key])(getattr(app_settings, name)) for key, name in THRESHOLD_SETTINGS.items()}
    )


def thresholds_for_campaign(overrides: Mapping[str, Any] | None = None) -> Thresholds:
    """The settings' thresholds with a campaign's own ``overrides``, validated.

    yunzheng's own quality checks (``QUALITY_CHECKS``) have no published limits, so each campaign
    may set their numbers and their mode (graded, advisory, off); the documented volume rule may be
    read as paid orders (default) or all orders. Unknown names and out-of-range values are refused
    with the field named.
    """
    base = thresholds_from_settings().to_dict()
    for key, value in (overrides or {}).items():
        if key not in base or key == "examples":
            raise ValidationFailed.single(
                field=f"thresholds.{key}", code=Code.FIELD_INVALID, message=_("Unknown grading setting.")
            )
        if key == "volume_basis":
            if value not in VOLUME_BASES:
                raise ValidationFailed.single(
                    field="thresholds.volume_basis",
                    code=Code.FIELD_INVALID,
                    message=_("Count either paid orders or all orders."),
                )
            base[key] = value
        elif key == "quality_modes":
            modes = dict(value or {})
            for code, mode in modes.items():
                if code not in QUALITY_CHECKS or mode not in QUALITY_MODES:
                    raise ValidationFailed.single(
                        field=f"thresholds.quality_modes.{code}",
                        code=Code.FIELD_INVALID,
                        message=_("Only yunzheng's own quality checks can be graded, advisory or off."),
                    )
            base[key] = {**base[key], **modes}
        else:
            try:
                number = type(base[key])(value)
            except (TypeError, ValueError):
                number = None
            if number is None or number < 0 or (key in ("min_orders", "min_cancellations") and number < 1):
                raise ValidationFailed.single(
                    field=f"thresholds.{key}", code=Code.FIELD_INVALID, message=_("Enter a positive number.")
                )
            base[key] = number
    return Thresholds.from_dict(base)


def _actor(user: User | None) -> Actor:
    return Actor.for_user(user) if user is not None else Actor.system("conformance")


def _label(user: User | None) -> str:
    return _actor(user).label[:200] or "system"


# --------------------------------------------------------------------------------------------
# campaigns
# --------------------------------------------------------------------------------------------


def campaign_start_self_service(
    *,
    company_id: int,
    user: User,
    replay: bool = False,
    thresholds: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Campaign:
    """A member of the company starts testing itself in its sandbox.

    ``replay``: the company replays recorded traffic faster than real time, so upload lag is
    reported but not graded (never for official runs).
    """
    company = selectors.member_company(user=user, company_id=company_id)
    grading = thresholds_for_campaign(thresholds)
    now = now_or(now)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            company=company,
            kind=Campaign.Kind.SELF_SERVICE,
            spec_version=get_spec().version,
            required_passes=int(app_settings.CONFORMANCE_REQUIRED_PASSES_SELF_SERVICE),
            replay=replay,
            thresholds=grading.to_dict(),
            created_by=user,
            created_at=now,
        )
        record_audit(
            actor=_actor(user),
            action="conformance.campaign.start",
            target_type="conformance_campaign",
            target_id=campaign.pk,
            after={
                "company": company.pk,
                "kind": campaign.kind,
                "spec": campaign.spec_version,
                "replay": replay,
                "thresholds": grading.to_dict(),
            },
        )
    return campaign


def campaign_start_official(
    *,
    company_id: int,
    user: User,
    booking_id: int | None = None,
    reference: str = "",
    thresholds: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Campaign:
    """Transport staff start the official test of a company, for its licensing appointment
    (``booking_id``, an active TestBooking of the company) or with a free-text reference.
    Only the ministry runs official tests (`licensing.test.official_start`)."""
    authorize(user, "licensing.test.official_start")
    company = selectors.regulated_company(user=user, company_id=company_id)
    reference = (reference or "").strip()[:200]
    if booking_id is not None:
        booking = next((b for b in selectors.company_bookings(company) if b.pk == booking_id), None)
        if booking is None:
            raise NotFound(Code.BOOKING_NOT_FOUND, _("The company has no such active test appointment."))
        # The official run takes place in the month the company booked, not before or after.
        this_month = today_in_china(now).replace(day=1)
        if booking.slot_month.month != this_month:
            raise Conflict(
                Code.BOOKING_NOT_THIS_MONTH,
                _("The appointment is for %(month)s; the official test runs in that month.")
                % {"month": f"{booking.slot_month.month:%Y-%m}"},
            )
        reference = reference or _("Test appointment %(month)s") % {
            "month": f"{booking.slot_month.month:%Y-%m}"
        }
    elif not reference:
        raise ValidationFailed.single(
            field="reference",
            code=Code.FIELD_INVALID,
            message=_("Name the appointment or give a reference for the official test."),
        )
    grading = thresholds_for_campaign(thresholds)
    now = now_or(now)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            company=company,
            kind=Campaign.Kind.OFFICIAL,
            spec_version=get_spec().version,
            required_passes=int(app_settings.CONFORMANCE_REQUIRED_PASSES_OFFICIAL),
            max_cycles=int(app_settings.CONFORMANCE_OFFICIAL_MAX_CYCLES),
            thresholds=grading.to_dict(),
            booking_ref=booking_id,
            reference=reference,
            created_by=user,
            created_at=now,
        )
        record_audit(
            actor=_actor(user),
            action="conformance.campaign.start",
            target_type="conformance_campaign",
            target_id=campaign.pk,
            after={
                "company": company.pk,
                "kind": campaign.kind,
                "spec": campaign.spec_version,
                "booking": booking_id,
                "reference": reference,
                "thresholds": grading.to_dict(),
            },
        )
    return campaign


def _require_runner(user: User, campaign: Campaign) -> None:
    if not selectors.can_run(user, campaign):
        raise PermissionDenied(Code.NOT_ALLOWED, _("You cannot run this test campaign."))


def campaign_end(*, campaign: Campaign, user: User, now: dt.datetime | None = None) -> Campaign:
    """End a campaign that has not passed: a self-service one is closed; an official one fails.
    An open cycle of it is aborted."""
    _require_runner(user, campaign)
    now = now_or(now)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not locked.is_open:
            raise Conflict(Code.CAMPAIGN_NOT_OPEN, _("This campaign is already finished."))
        Cycle.objects.filter(campaign=locked, status=Cycle.Status.OPEN).update(
            status=Cycle.Status.ABORTED, closed_at=now, closed_by=_label(user)
        )
        before = locked.status
        locked.status = (
            Campaign.Status.FAILED if locked.kind == Campaign.Kind.OFFICIAL else Campaign.Status.CLOSED
        )
        locked.closed_at = now
        if locked.status == Campaign.Status.FAILED:
            locked.outcome_reason = _("Ended by %(who)s before the tests passed.") % {"who": _label(user)}
            _fail_booking(locked, user=user, now=now)
        locked.save(update_fields=["status", "closed_at", "outcome_reason"])
        record_audit(
            actor=_actor(user),
            action="conformance.campaign.end",
            target_type="conformance_campaign",
            target_id=locked.pk,
            before={"status": before},
            after={"status": locked.status},
        )
    return locked


# --------------------------------------------------------------------------------------------
# cycles
# --------------------------------------------------------------------------------------------


def cycle_open(*, campaign: Campaign, kind: str, user: User, now: dt.datetime | None = None) -> Cycle:
    """Open the next cycle of ``kind``; from now on the company's sandbox uploads go to it."""
    _require_runner(user, campaign)
    if kind not in Cycle.Kind.values:
        raise ValidationFailed.single(field="kind", code=Code.FIELD_INVALID, message=_("Choose a test."))
    now = now_or(now)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not locked.is_open:
            raise Conflict(Code.CAMPAIGN_NOT_OPEN, _("This campaign is already finished."))
        used = locked.cycles.exclude(status=Cycle.Status.ABORTED).count()
        if locked.max_cycles is not None and used >= locked.max_cycles:
            raise Conflict(Code.CYCLE_LIMIT_REACHED, _("All cycles of this campaign are used."))
        running = (
            Cycle.objects.select_for_update().filter(company=locked.company, status=Cycle.Status.OPEN).first()
        )
        if running is not None:
            official = locked.kind == Campaign.Kind.OFFICIAL
            if running.campaign_id == locked.pk or not official:
                code = (
                    Code.OFFICIAL_CYCLE_RUNNING
                    if running.campaign.kind == Campaign.Kind.OFFICIAL and running.campaign_id != locked.pk
                    else Code.CYCLE_ALREADY_OPEN
                )
                raise Conflict(code, _("A test cycle of this company is still open; close it first."))
            if running.campaign.kind == Campaign.Kind.OFFICIAL:
                raise Conflict(
                    Code.OFFICIAL_CYCLE_RUNNING, _("Another official test of this company is running.")
                )
            # The regulator's appointment has priority over the company's own testing.
            running.status = Cycle.Status.ABORTED
            running.closed_at = now
            running.closed_by = _label(user)
            running.save(update_fields=["status", "closed_at", "closed_by"])
        number = (locked.cycles.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        try:
            with transaction.atomic():
                cycle = Cycle.objects.create(
                    campaign=locked,
                    company=locked.company,
                    number=number,
                    kind=kind,
                    opened_at=now,
                    opened_by=_label(user),
                )
        except IntegrityError:
            raise Conflict(
                Code.CYCLE_ALREADY_OPEN, _("A test cycle of this company is still open.")
            ) from None
        record_audit(
            actor=_actor(user),
            action="conformance.cycle.open",
            target_type="conformance_cycle",
            target_id=cycle.pk,
            after={
                "campaign": locked.pk,
                "number": number,
                "kind": kind,
                "aborted": running.pk if running is not None else None,
            },
        )
    return cycle


def _grade(cycle: Cycle) -> dict[str, Any]:
    campaign = cycle.campaign
    if cycle.kind == Cycle.Kind.CONNECTIVITY:
        return connectivity_report(cycle.pk, company_id=campaign.company.supervision_company_id)
    return grade_cycle(cycle.pk, thresholds=Thresholds.from_dict(campaign.thresholds), replay=campaign.replay)


def campaign_passed(campaign: Campaign) -> bool:
    """Whether, for both tests, the latest ``required_passes`` graded cycles all passed."""
    needed = max(1, campaign.required_passes)
    for kind in Cycle.Kind.values:
        latest = list(
            campaign.cycles.filter(kind=kind, status__in=(Cycle.Status.PASSED, Cycle.Status.FAILED))
            .order_by("-number")
            .values_list("status", flat=True)[:needed]
        )
        if len(latest) < needed or any(status != Cycle.Status.PASSED for status in latest):
            return False
    return True


def cycle_close(*, cycle: Cycle, user: User, now: dt.datetime | None = None) -> Cycle:
    """Close a cycle, grade it and keep its report; then decide the campaign.

    Two steps: closing first (committed, so that later uploads no longer land in the cycle), then
    grading and the outcome in a second transaction.
    """
    campaign = cycle.campaign
    _require_runner(user, campaign)
    now = now_or(now)
    with transaction.atomic():
        locked = Cycle.objects.select_for_update().get(pk=cycle.pk)
        if locked.status != Cycle.Status.OPEN:
            raise Conflict(Code.CYCLE_NOT_OPEN, _("This cycle is not open."))
        locked.status = Cycle.Status.FAILED  # provisional until graded, and no longer "open"
        locked.closed_at = now
        locked.closed_by = _label(user)
        locked.save(update_fields=["status", "closed_at", "closed_by"])
    report = _grade(locked)
    company = campaign.company
    report["cycle"] = {
        "campaign": campaign.pk,
        "campaign_kind": campaign.kind,
        "number": locked.number,
        "kind": locked.kind,
        "company": company.name,
        "company_id": company.supervision_company_id,
        "opened_at": locked.opened_at.isoformat(),
        "closed_at": now.isoformat(),
        "graded_at": timezone.now().isoformat(),
    }
    with transaction.atomic():
        locked = Cycle.objects.select_for_update().get(pk=cycle.pk)
        locked.report = report
        locked.status = Cycle.Status.PASSED if report["passed"] else Cycle.Status.FAILED
        locked.save(update_fields=["report", "status"])
        record_audit(
            actor=_actor(user),
            action="conformance.cycle.close",
            target_type="conformance_cycle",
            target_id=locked.pk,
            after={
                "campaign": campaign.pk,
                "number": locked.number,
                "kind": locked.kind,
                "status": locked.status,
            },
        )
        _decide_campaign(campaign_id=campaign.pk, user=user, now=now)
    return locked


def _decide_campaign(*, campaign_id: int, user: User, now: dt.datetime) -> None:
    campaign = Campaign.objects.select_for_update().select_related("company").get(pk=campaign_id)
    if not campaign.is_open:
        return
    if campaign_passed(campaign):
        campaign.status = Campaign.Status.PASSED
        campaign.closed_at = now
        # Only a run for the licensing appointment issues the test-passed document; an official run
        # with a free-text reference is a supervisory check.
        if campaign.kind == Campaign.Kind.OFFICIAL and campaign.booking_ref:
            try:
                document = _issue_test_passed_document(campaign=campaign, user=user, now=now)
            except Conflict as refused:  # e.g. on the ministry's credit blacklist: no test pass
                campaign.status = Campaign.Status.FAILED
                campaign.outcome_reason = str(refused.message)
                _fail_booking(campaign, user=user, now=now)
            else:
                campaign.certificate_number = document.number
                campaign.certificate_valid_until = document.valid_until
    elif campaign.max_cycles is not None and campaign.cycles.exclude(status=Cycle.Status.ABORTED).count() >= (
        campaign.max_cycles
    ):
        campaign.status = Campaign.Status.FAILED
        campaign.closed_at = now
        campaign.outcome_reason = _failure_reason(campaign)
        _fail_booking(campaign, user=user, now=now)
    else:
        return
    campaign.save(
        update_fields=[
            "status",
            "closed_at",
            "certificate_number",
            "certificate_valid_until",
            "outcome_reason",
        ]
    )
    record_audit(
        actor=_actor(user),
        action="conformance.campaign.decide",
        target_type="conformance_campaign",
        target_id=campaign.pk,
        after={
            "status": campaign.status,
            "certificate": campaign.certificate_number,
            "reason": campaign.outcome_reason,
        },
    )


def _failure_reason(campaign: Campaign) -> str:
    failing = [
        str(Cycle.Kind(kind).label)
        for kind in Cycle.Kind.values
        if not campaign.cycles.filter(kind=kind, status=Cycle.Status.PASSED).exists()
    ]
    return _("All %(count)s cycles used without passing: %(tests)s.") % {
        "count": campaign.max_cycles,
        "tests": "、".join(failing),
    }


def _fail_booking(campaign: Campaign, *, user: User | None, now: dt.datetime) -> None:
    """A failed official run closes its licensing appointment as failed; the company books again."""
    if campaign.kind != Campaign.Kind.OFFICIAL or not campaign.booking_ref:
        return
    from yunzheng.licensing.services import test_booking_failed_by_official_run

    test_booking_failed_by_official_run(
        booking_id=campaign.booking_ref, reason=campaign.outcome_reason, actor=_actor(user), now=now
    )


def _issue_test_passed_document(*, campaign: Campaign, user: User, now: dt.datetime) -> Any:
    """The licensing workflow's test-passed document, recorded through licensing's service."""
    from yunzheng.licensing.services import test_passed_document_record

    return test_passed_document_record(
        company=campaign.company,
        issued_on=today_in_china(now),
        source="conformance",
        source_ref=f"conformance-campaign-{campaign.pk}",
        actor=_actor(user),
        recorded_by=user,
        now=now,
    )
