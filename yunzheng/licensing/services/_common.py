"""Shared helpers of the licensing services: settings, actors, input checks, notifications,
stage deadlines and `_move`, the one place that changes an application's step.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from yunzheng.accounts.guards import ensure_real_name_verified
from yunzheng.accounts.models import Company, StaffProfile, User
from yunzheng.accounts.permissions import authorize
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.errors import (
    Conflict,
    PermissionDenied,
    ValidationFailed,
)
from yunzheng.core.sms import send_sms_on_commit
from yunzheng.licensing import deadlines, selectors
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import (
    TERMINAL_STEPS,
    LicenceApplication,
    LicencePath,
    Notification,
    Party,
    Stage,
    StageTransition,
    Step,
)
from yunzheng.licensing.workflow import (
    ACTION_LABELS,
    RESPONSIBLE,
    STEPS_NEEDING_TEST_DOCUMENT,
    SYSTEM,
    Action,
    find_transition,
)

#: The transport authorities' parties: their steps are `licensing.step.act` in the permission table.
TRANSPORT_PARTIES = frozenset({Party.CITY_TRANSPORT, Party.PROVINCE_TRANSPORT, Party.MINISTRY})


def _actor(user: User | None) -> Actor:
    return Actor.for_user(user) if user is not None else Actor.system("licensing")


def history_label(user: User | None) -> str:
    """How the case history names who acted: staff by their office and username, an applicant by
    masked name (never the internal `user#N` of the audit log)."""
    if user is None:
        return str(_("System"))
    profile = getattr(user, "staff_profile", None) if user.is_government_staff else None
    if profile is not None:
        return f"{profile.unit_name or profile.get_department_display()} · {user.username}"
    return user.get_short_name() or str(_("Applicant"))


def _text(value: str, *, field: str, limit: int, label: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        raise ValidationFailed.single(
            field=field,
            code=Code.FIELD_REQUIRED,
            message=_("%(label)s is required (at most %(limit)s characters).")
            % {"label": label, "limit": limit},
        )
    return value


def _not_future(day: dt.date, *, field: str, today: dt.date) -> dt.date:
    if day > today:
        raise ValidationFailed.single(
            field=field, code=Code.FIELD_REQUIRED, message=_("The date cannot be in the future.")
        )
    return day


# --------------------------------------------------------------------------------------------
# Notifications: dashboard lines for every party, SMS to the company's contact person
# --------------------------------------------------------------------------------------------


def _office(party: str, application: LicenceApplication) -> tuple[str, str, str]:
    """(department, level, region) of the staff office that acts as `party` for the application."""
    Dept, Level = StaffProfile.Department, StaffProfile.Level
    if party == Party.CITY_TRANSPORT:
        return Dept.TRANSPORT, Level.CITY, application.city_code
    if party == Party.PROVINCE_TRANSPORT:
        return Dept.TRANSPORT, Level.PROVINCE, application.province_code
    if party == Party.MINISTRY:
        return Dept.TRANSPORT, Level.MINISTRY, ""
    return party, Level.PROVINCE, application.province_code


def _link(application: LicenceApplication, party: str) -> str:
    if party == Party.COMPANY:
        return f"/licensing/applications/{application.pk}/"
    return f"/licensing/staff/applications/{application.pk}/"


def notify(
    *,
    party: str,
    application: LicenceApplication | None,
    text: str,
    company: Company | None = None,
    link: str = "",
    dedupe_key: str | None = None,
    now: dt.datetime | None = None,
) -> Notification | None:
    """Put a line on the party's dashboard (and SMS the company's contact person). With a
    dedupe_key, a second call with the same key does nothing (reminders run from cron)."""
    now = now_or(now)
    if dedupe_key and Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    fields: dict[str, Any] = {
        "application": application,
        "text": text,
        "created_at": now,
        "dedupe_key": dedupe_key,
        "link": link or (_link(application, party) if application else ""),
    }
    if party == Party.COMPANY:
        company = company or (application.company if application else None)
        if company is None:
            raise ValueError("a company notification needs a company")
        notification = Notification.objects.create(recipient_company=company, **fields)
        contact = company.contact_user
        if contact is not None and contact.phone:
            send_sms_on_commit(
                phone=contact.phone,
                text=_("[Road Transport Administration] %(text)s") % {"text": text},
                template="licensing_notice",
                params={"application": application.pk if application else None},
            )
        return notification
    if application is None:
        raise ValueError("a staff notification needs an application")
    department, level, region = _office(party, application)
    return Notification.objects.create(department=department, level=level, region_code=region, **fields)


# --------------------------------------------------------------------------------------------
# Deadlines of stages
# --------------------------------------------------------------------------------------------


def _due(application: LicenceApplication, step: str, start: dt.date) -> tuple[dt.date | None, bool, str]:
    """(due date, provisional, rule) for a step whose clock starts on `start`
    (deadlines.STEP_DEADLINES); None when the step has no deadline. Provisional: counted on
    weekdays only across a year whose statutory holidays are not known yet."""
    deadline = deadlines.STEP_DEADLINES.get(step)
    if deadline is None:
        return None, False, ""
    if deadline.kind == "working_days":
        due = deadlines.working_days_counted(start, deadline.length())
        return due.date, due.provisional, deadline.rule()
    if deadline.kind == "calendar_days":
        return start + dt.timedelta(days=deadline.length()), False, deadline.rule()
    if deadline.kind == "booked_month":
        booking = selectors.active_booking(application)
        return (deadlines.month_end(booking.slot_month.month) if booking else None), False, deadline.rule()
    if application.path != LicencePath.NATIONAL:
        return None, False, ""  # the local path has no test of its own
    document = selectors.current_test_document(application.company)
    return (document.valid_until if document else None), False, deadline.rule()


def _open_stage(application: LicenceApplication, step: str, *, now: dt.datetime, start: dt.date) -> Stage:
    due_on, provisional, rule = _due(application, step, start)
    return Stage.objects.create(
        application=application,
        kind=step,
        responsible=RESPONSIBLE[step],
        opened_at=now,
        clock_start=start,
        due_on=due_on,
        due_provisional=provisional,
        due_rule=rule,
    )


# --------------------------------------------------------------------------------------------
# The one place that moves an application
# --------------------------------------------------------------------------------------------


def _lock(application: LicenceApplication) -> LicenceApplication:
    return (
        LicenceApplication.objects.select_for_update(of=("self",))
        .select_related("company", "company__contact_user")
        .get(pk=application.pk)
    )


def _role(user: User | None, application: LicenceApplication) -> str:
    if user is None:
        return SYSTEM
    role = selectors.role_of(user, application)
    if role is None:
        raise PermissionDenied(Code.NOT_YOUR_TURN, _("You have no part in this application."))
    if role == Party.COMPANY:
        ensure_real_name_verified(user)
    elif role in TRANSPORT_PARTIES:
        # The generic staff steps: the permission table decides (role_of has matched the region).
        authorize(user, "licensing.step.act", region_code=application.city_code)
    return role


def _require_test_document(application: LicenceApplication, *, today: dt.date) -> None:
    """Steps after the test must finish while the test-passed document is valid."""
    document = selectors.current_test_document(application.company)
    if document is None:
        raise Conflict(Code.TEST_DOCUMENT_MISSING, _("The company has no test-passed document."))
    if not deadlines.is_valid_on(document.valid_until, today):
        raise Conflict(
            Code.TEST_DOCUMENT_EXPIRED,
            _(
                "The test-passed document %(number)s expired on %(date)s: the company must book and pass "
                "the connectivity and consistency tests again."
            )
            % {"number": document.number, "date": document.valid_until.isoformat()},
        )


def _move(
    application: LicenceApplication,
    *,
    action: Action,
    user: User | None,
    now: dt.datetime,
    reason: str = "",
    facts: dict[str, Any] | None = None,
    clock_start: dt.date | None = None,
    role: str | None = None,
) -> Stage | None:
    """Apply one transition of the table to a locked application; returns the new open stage."""
    role = role or _role(user, application)
    transition = find_transition(path=application.path, step=application.step, action=action)
    if transition is None:
        raise Conflict(
            Code.TRANSITION_NOT_ALLOWED,
            _("This cannot be done while the application is at the step “%(step)s”.")
            % {"step": Step(application.step).label},
        )
    if role not in transition.roles:
        raise PermissionDenied(Code.NOT_YOUR_TURN, _("Another party acts at this step."))
    reason = (reason or "").strip()
    if transition.reason_required and not reason:
        raise ValidationFailed.single(field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason."))
    today = today_in_china(now)
    if (
        application.path == LicencePath.NATIONAL
        and application.step in STEPS_NEEDING_TEST_DOCUMENT
        and action not in (Action.RETEST, Action.WITHDRAW)
        and transition.target != Step.REJECTED
    ):
        _require_test_document(application, today=today)
    from_step = application.step
    new_stage: Stage | None = None
    current = selectors.open_stage(application)
    if not transition.is_self_loop:
        if current is not None:
            current.status = Stage.Status.DONE if action != Action.WITHDRAW else Stage.Status.CANCELLED
            current.completed_at = now
            current.outcome = action
            current.save(update_fields=["status", "completed_at", "outcome"])
        application.step = transition.target
        application.updated_at = now
        application.save()
        if transition.target not in TERMINAL_STEPS:
            new_stage = _open_stage(application, transition.target, now=now, start=clock_start or today)
    else:
        application.updated_at = now
        application.save(update_fields=["updated_at"])
        new_stage = current
    StageTransition.objects.create(
        application=application,
        from_step=from_step,
        to_step=application.step,
        action=action,
        actor=user,
        actor_label=history_label(user),
        reason=reason,
        at=now,
    )
    record_audit(
        actor=_actor(user),
        action=f"licensing.application.{action}",
        target_type="licence_application",
        target_id=application.pk,
        before={"step": from_step},
        after={"step": application.step, "role": role, **(facts or {})},
        reason=reason,
    )
    if not transition.is_self_loop:
        _announce(application, action=action, stage=new_stage, reason=reason, now=now)
    return new_stage


def _announce(
    application: LicenceApplication, *, action: str, stage: Stage | None, reason: str, now: dt.datetime
) -> None:
    """Tell the company what happened, and the office whose turn it is now."""
    with translation.override(settings.LANGUAGE_CODE):
        what = str(ACTION_LABELS.get(action, action))
        if stage is None:
            text = _("Licence application #%(id)s: %(what)s.") % {"id": application.pk, "what": what}
        else:
            due = stage.due_on.isoformat() if stage.due_on else _("no fixed date")
            text = _("Licence application #%(id)s: %(what)s. Next: %(step)s (%(party)s), due %(due)s.") % {
                "id": application.pk,
                "what": what,
                "step": Step(stage.kind).label,
                "party": Party(stage.responsible).label,
                "due": due,
            }
        if reason:
            text += " " + _("Reason: %(reason)s") % {"reason": reason}
        notify(party=Party.COMPANY, application=application, text=text, now=now)
        if stage is not None and stage.responsible != Party.COMPANY:
            notify(party=stage.responsible, application=application, text=text, now=now)
