"""Every write of the licensing app.

(Services about the platform's connectivity *tests* are named test_…; they are not pytest tests,
hence the PT028 exemption below.)

Each service runs in one transaction, is audited (core.audit.record_audit), takes keyword-only
arguments and raises DomainErrors with the codes in error_codes.py. `now` can be injected (tests
shift time that way). The transition table is workflow.TRANSITIONS; `_move` is the one place that
changes an application's step, closes and opens Stage rows, writes the history and notifies.

Settings (read with defaults):
    LICENSING_CITY_LETTER_WORKING_DAYS = 10        city reviews quota materials, sends the letter
    LICENSING_MINISTRY_ACCOUNT_WORKING_DAYS = 5    ministry opens the test / VPN account
    LICENSING_CITY_FORWARD_WORKING_DAYS = 5        city window passes capability materials on
    LICENSING_DEPARTMENT_REVIEW_WORKING_DAYS = 10  each of the five departments answers
    LICENSING_DECISION_WORKING_DAYS = 20           the licence decision
    LICENSING_LICENCE_VALID_YEARS = 4              default validity of an operating licence
    LICENSING_SLOT_CAPACITY = 20                   default test slots per month
    LICENSING_SLOT_OPEN_DAY = 1, LICENSING_SLOT_OPEN_HOUR = 12   bookings open at noon on the 1st
    LICENSING_BOOKING_STRATEGY = "counter"         or "row_lock" (see test_booking_create)
    LICENSING_BOOKING_LOCK_TIMEOUT_MS = 5000       PostgreSQL lock_timeout inside a booking
"""

# ruff: noqa: PT028
from __future__ import annotations

import calendar
import datetime as dt
import logging
import random
import time
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yunzheng.accounts.guards import ensure_real_name_verified
from yunzheng.accounts.models import Company, StaffProfile, User
from yunzheng.accounts.scopes import region_name
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.errors import (
    Conflict,
    DomainError,
    ErrorDetail,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from yunzheng.core.ids import region_code_exists
from yunzheng.core.models import AuditEntry
from yunzheng.core.sms import send_sms_on_commit
from yunzheng.core.workdays import WorkingCalendar
from yunzheng.licensing import deadlines, files, selectors
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import (
    REVIEW_DEPARTMENTS,
    TERMINAL_STEPS,
    CityQuota,
    DepartmentReview,
    LicenceApplication,
    LicencePath,
    Material,
    Notification,
    OperatingLicence,
    Party,
    SecurityEvaluation,
    Stage,
    StageTransition,
    Step,
    TestBooking,
    TestPassedDocument,
    TestSlotMonth,
)
from yunzheng.licensing.workflow import (
    ACTION_LABELS,
    RESPONSIBLE,
    STEPS_NEEDING_TEST_DOCUMENT,
    SYSTEM,
    Action,
    find_transition,
)

logger = logging.getLogger(__name__)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
QUOTA_MATERIAL_KINDS = (
    Material.Kind.ANNEX_2,
    Material.Kind.ANNEX_3,
    Material.Kind.ANNEX_4,
    Material.Kind.CLOUD_PROOF,
)


class ServiceBusy(DomainError):
    """The database stayed locked through every retry: the client should try again shortly."""

    status_code = 503


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _actor(user: User | None) -> Actor:
    return Actor.for_user(user) if user is not None else Actor.system("licensing")


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
    now = _now(now)
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


def notification_mark_read(*, user: User, notification_id: int, now: dt.datetime | None = None) -> None:
    visible = {n.pk for n in selectors.notifications_for_user(user, limit=500)}
    if notification_id not in visible:
        raise NotFound(Code.FILE_NOT_FOUND, _("No such notification."))
    Notification.objects.filter(pk=notification_id, read_at__isnull=True).update(read_at=_now(now))


# --------------------------------------------------------------------------------------------
# Deadlines of stages
# --------------------------------------------------------------------------------------------


def _month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _due(application: LicenceApplication, step: str, start: dt.date) -> tuple[dt.date | None, str]:
    """(due date, rule) for a step whose clock starts on `start`; None when there is no deadline
    or the statutory calendar of its year is not known yet."""
    cal = WorkingCalendar()

    def working(days: int) -> dt.date | None:
        return deadlines.or_unknown(lambda: deadlines.working_days_due(start, days, calendar_=cal))

    if step == Step.QUOTA_REVIEW:
        days = _setting("LICENSING_CITY_LETTER_WORKING_DAYS", 10)
        return working(days), f"working_days:{days}"
    if step == Step.MINISTRY_REPLY:
        return working(
            deadlines.MINISTRY_REPLY_WORKING_DAYS
        ), f"working_days:{deadlines.MINISTRY_REPLY_WORKING_DAYS}"
    if step in (Step.TEST_ACCOUNT, Step.VPN_ACCOUNT):
        days = _setting("LICENSING_MINISTRY_ACCOUNT_WORKING_DAYS", 5)
        return working(days), f"working_days:{days}"
    if step == Step.TEST_RUN:
        booking = selectors.active_booking(application)
        return (_month_end(booking.slot_month.month) if booking else None), "booked_month"
    if step == Step.CAPABILITY_INTAKE:
        days = _setting("LICENSING_CITY_FORWARD_WORKING_DAYS", 5)
        return working(days), f"working_days:{days}"
    if step == Step.CAPABILITY_REVIEW:
        return working(deadlines.CAPABILITY_REVIEW_WORKING_DAYS), (
            f"working_days:{deadlines.CAPABILITY_REVIEW_WORKING_DAYS}"
        )
    if step == Step.CAPABILITY_REVISION:
        return deadlines.revision_due(start), f"calendar_days:{deadlines.REVISION_CALENDAR_DAYS}"
    if step in (Step.CAPABILITY_MATERIALS, Step.EVALUATIONS):
        document = selectors.current_test_document(application.company)
        return (document.valid_until if document else None), "test_document"
    if step == Step.LICENCE_DECISION:
        days = _setting("LICENSING_DECISION_WORKING_DAYS", 20)
        return working(days), f"working_days:{days}"
    return None, ""


def _open_stage(application: LicenceApplication, step: str, *, now: dt.datetime, start: dt.date) -> Stage:
    due_on, rule = _due(application, step, start)
    return Stage.objects.create(
        application=application,
        kind=step,
        responsible=RESPONSIBLE[step],
        opened_at=now,
        clock_start=start,
        due_on=due_on,
        due_rule=rule,
    )


def stage_deadlines_refresh() -> int:
    """Fill in due dates left unknown because a year's calendar was missing (after staff enter
    it). Returns how many stages got a date."""
    filled = 0
    for stage in Stage.objects.filter(status=Stage.Status.OPEN, due_on__isnull=True).exclude(due_rule=""):
        if not stage.due_rule.startswith("working_days:"):
            continue
        days = int(stage.due_rule.split(":", 1)[1]) + stage.extended_days
        start = stage.clock_start
        due = deadlines.or_unknown(lambda start=start, days=days: deadlines.working_days_due(start, days))  # type: ignore[misc]
        if due is not None:
            Stage.objects.filter(pk=stage.pk).update(due_on=due)
            filled += 1
    return filled


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
    today = selectors.today(now)
    if (
        application.step in STEPS_NEEDING_TEST_DOCUMENT
        and action not in (Action.RETEST, Action.WITHDRAW)
        and transition.target != Step.REJECTED
    ):
        _require_test_document(application, today=today)
    from_step = application.step
    new_stage: Stage | None = None
    current = selectors.open_stage(application)
    if transition.opens_stage:
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
        actor_label=_actor(user).label,
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
    if transition.opens_stage:
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


# --------------------------------------------------------------------------------------------
# City quotas
# --------------------------------------------------------------------------------------------


def _require_city_code(city_code: str, *, field: str = "city_code") -> str:
    city_code = (city_code or "").strip()
    if not (
        len(city_code) == 6
        and city_code.isdigit()
        and city_code.endswith("00")
        and not city_code.endswith("0000")
        and region_code_exists(city_code)
    ):
        raise ValidationFailed.single(
            field=field,
            code=Code.CITY_INVALID,
            message=_("Enter the GB/T 2260 code of a city (six digits ending in 00, e.g. 330100)."),
        )
    return city_code


def city_quota_set(
    *,
    city_code: str,
    accepting: bool,
    user: User,
    notice_number: str = "",
    notice_title: str = "",
    notice_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> CityQuota:
    """The city (or its province's) transport authority records whether the city accepts new
    platforms; stopping needs the notice that stopped it."""
    now = _now(now)
    city_code = _require_city_code(city_code)
    scope = selectors.scope_of(user)
    if (
        scope is None
        or scope.department != StaffProfile.Department.TRANSPORT
        or scope.level == StaffProfile.Level.MINISTRY
        or not scope.covers(city_code)
    ):
        raise PermissionDenied(
            Code.NOT_YOUR_TURN, _("Only the city's transport authority can change its quota.")
        )
    notice_number, notice_title = notice_number.strip()[:100], notice_title.strip()[:200]
    if not accepting and not notice_number:
        raise ValidationFailed.single(
            field="notice_number",
            code=Code.QUOTA_NOTICE_REQUIRED,
            message=_("Give the number of the notice that stops new platforms."),
        )
    with transaction.atomic():
        quota = CityQuota.objects.select_for_update().filter(city_code=city_code).first()
        before = (
            {"accepting": quota.accepting, "notice_number": quota.notice_number}
            if quota is not None
            else None
        )
        if quota is None:
            quota = CityQuota(city_code=city_code)
        quota.accepting = accepting
        quota.notice_number = notice_number
        quota.notice_title = notice_title
        quota.notice_date = notice_date
        quota.updated_at = now
        quota.updated_by = user
        quota.save()
        record_audit(
            actor=_actor(user),
            action="licensing.city_quota.set",
            target_type="city_quota",
            target_id=city_code,
            before=before,
            after={
                "accepting": accepting,
                "notice_number": notice_number,
                "notice_title": notice_title,
                "notice_date": notice_date,
            },
        )
    return quota


def _require_city_accepting(city_code: str) -> None:
    quota = CityQuota.objects.filter(city_code=city_code).first()
    if quota is not None and not quota.accepting:
        raise Conflict(
            Code.QUOTA_CITY_CLOSED,
            _("%(city)s does not accept new ride-hailing platforms (notice %(number)s %(title)s, %(date)s).")
            % {
                "city": region_name(city_code) or city_code,
                "number": quota.notice_number,
                "title": quota.notice_title,
                "date": quota.notice_date.isoformat() if quota.notice_date else "",
            },
            details=[
                ErrorDetail(
                    field="city_code",
                    code=Code.QUOTA_CITY_CLOSED,
                    message=quota.notice_title or quota.notice_number,
                    params={
                        "notice_number": quota.notice_number,
                        "notice_title": quota.notice_title,
                        "notice_date": quota.notice_date.isoformat() if quota.notice_date else None,
                    },
                )
            ],
        )


# --------------------------------------------------------------------------------------------
# Applications: quota stage
# --------------------------------------------------------------------------------------------


def application_create(
    *, company: Company, path: str, city_code: str, user: User, now: dt.datetime | None = None
) -> LicenceApplication:
    """A company member opens an application in a city that accepts new platforms."""
    now = _now(now)
    ensure_real_name_verified(user)
    selectors.require_member(user=user, company=company)
    if path not in LicencePath.values:
        raise ValidationFailed.single(field="path", code=Code.FIELD_REQUIRED, message=_("Choose a path."))
    city_code = _require_city_code(city_code)
    _require_city_accepting(city_code)
    today = selectors.today(now)
    if (
        path == LicencePath.LOCAL
        and not OperatingLicence.objects.filter(
            company=company, kind=OperatingLicence.Kind.NATIONAL, valid_until__gte=today
        ).exists()
    ):
        raise Conflict(
            Code.APPLICATION_NATIONAL_LICENCE_REQUIRED,
            _(
                "A local licence needs a valid operating licence with the online service "
                "capability determination."
            ),
        )
    try:
        with transaction.atomic():
            application = LicenceApplication.objects.create(
                company=company,
                path=path,
                city_code=city_code,
                province_code=city_code[:2] + "0000",
                step=Step.QUOTA_MATERIALS,
                created_at=now,
                created_by=user,
                updated_at=now,
            )
            _open_stage(application, Step.QUOTA_MATERIALS, now=now, start=today)
            StageTransition.objects.create(
                application=application,
                from_step="",
                to_step=Step.QUOTA_MATERIALS,
                action="create",
                actor=user,
                actor_label=_actor(user).label,
                at=now,
            )
            record_audit(
                actor=_actor(user),
                action="licensing.application.create",
                target_type="licence_application",
                target_id=application.pk,
                after={"company": company.pk, "path": path, "city_code": city_code},
            )
    except IntegrityError:
        raise Conflict(
            Code.APPLICATION_ALREADY_OPEN, _("The company already has an open application for this city.")
        ) from None
    return application


_UPLOADERS: dict[str, tuple[str, tuple[str, ...]]] = {
    Material.Kind.ANNEX_2: (Party.COMPANY, (Step.QUOTA_MATERIALS,)),
    Material.Kind.ANNEX_3: (Party.COMPANY, (Step.QUOTA_MATERIALS,)),
    Material.Kind.ANNEX_4: (Party.COMPANY, (Step.QUOTA_MATERIALS,)),
    Material.Kind.CLOUD_PROOF: (Party.COMPANY, (Step.QUOTA_MATERIALS,)),
    Material.Kind.CAPABILITY: (Party.COMPANY, (Step.CAPABILITY_MATERIALS, Step.CAPABILITY_REVISION)),
    Material.Kind.WORK_LETTER: (Party.CITY_TRANSPORT, (Step.QUOTA_REVIEW,)),
    Material.Kind.MINISTRY_REPLY: (Party.MINISTRY, (Step.MINISTRY_REPLY,)),
}


def material_upload(
    *, application: LicenceApplication, kind: str, upload: Any, user: User, now: dt.datetime | None = None
) -> Material:
    """Attach a document (PDF, or an image for proofs) to the application at the right step."""
    now = _now(now)
    if kind not in _UPLOADERS:
        raise ValidationFailed.single(field="kind", code=Code.FIELD_REQUIRED, message=_("Unknown material."))
    party, steps = _UPLOADERS[kind]
    application = LicenceApplication.objects.select_related("company").get(pk=application.pk)  # fresh step
    role = _role(user, application)
    if role != party or application.step not in steps:
        raise PermissionDenied(Code.NOT_YOUR_TURN, _("This material cannot be added now."))
    checked = files.check_document(upload, field="file")
    stored = files.store(checked, folder="licensing/materials")
    with transaction.atomic():
        material = Material.objects.create(
            application=application,
            kind=kind,
            stored_name=stored,
            original_name=checked.original_name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=user,
            uploaded_at=now,
        )
        record_audit(
            actor=_actor(user),
            action="licensing.material.upload",
            target_type="licence_application",
            target_id=application.pk,
            after={"material": material.pk, "kind": kind, "sha256": checked.sha256, "size": checked.size},
        )
    return material


def quota_materials_submit(
    *, application: LicenceApplication, user: User, now: dt.datetime | None = None
) -> LicenceApplication:
    now = _now(now)
    with transaction.atomic():
        locked = _lock(application)
        present = set(locked.materials.values_list("kind", flat=True))
        missing = [kind for kind in QUOTA_MATERIAL_KINDS if kind not in present]
        if missing:
            raise ValidationFailed(
                Code.MATERIALS_MISSING,
                _("Upload every required material first."),
                details=[
                    ErrorDetail(
                        field=kind, code=Code.MATERIALS_MISSING, message=str(Material.Kind(kind).label)
                    )
                    for kind in missing
                ],
            )
        _require_city_accepting(locked.city_code)
        _move(locked, action=Action.SUBMIT_QUOTA, user=user, now=now)
    return locked


def quota_return(
    *, application: LicenceApplication, user: User, reason: str, now: dt.datetime | None = None
) -> None:
    now = _now(now)
    with transaction.atomic():
        _move(_lock(application), action=Action.RETURN_QUOTA, user=user, now=now, reason=reason)


def work_letter_send(
    *,
    application: LicenceApplication,
    user: User,
    letter_number: str,
    letter_date: dt.date,
    now: dt.datetime | None = None,
) -> LicenceApplication:
    """The city clerk records the work contact letter to the ministry; the ministry's 15 working
    days run from the letter's date."""
    now = _now(now)
    letter_number = _text(letter_number, field="letter_number", limit=100, label=_("Letter number"))
    letter_date = _not_future(letter_date, field="letter_date", today=selectors.today(now))
    with transaction.atomic():
        locked = _lock(application)
        locked.letter_number, locked.letter_date = letter_number, letter_date
        _move(
            locked,
            action=Action.SEND_LETTER,
            user=user,
            now=now,
            clock_start=letter_date,
            facts={"letter_number": letter_number, "letter_date": letter_date},
        )
    return locked


def ministry_reply_record(
    *,
    application: LicenceApplication,
    user: User,
    reply_number: str,
    reply_date: dt.date,
    now: dt.datetime | None = None,
) -> LicenceApplication:
    now = _now(now)
    reply_number = _text(reply_number, field="reply_number", limit=100, label=_("Reply number"))
    reply_date = _not_future(reply_date, field="reply_date", today=selectors.today(now))
    with transaction.atomic():
        locked = _lock(application)
        locked.ministry_reply_number, locked.ministry_reply_date = reply_number, reply_date
        _move(
            locked,
            action=Action.MINISTRY_REPLY,
            user=user,
            now=now,
            facts={"reply_number": reply_number, "reply_date": reply_date},
        )
    return locked


def ministry_refuse(
    *, application: LicenceApplication, user: User, reason: str, now: dt.datetime | None = None
) -> None:
    now = _now(now)
    with transaction.atomic():
        _move(_lock(application), action=Action.MINISTRY_REFUSE, user=user, now=now, reason=reason)


def company_info_complete(
    *,
    application: LicenceApplication,
    user: User,
    platform_name: str,
    app_name: str,
    server_location: str,
    now: dt.datetime | None = None,
) -> LicenceApplication:
    now = _now(now)
    platform_name = _text(platform_name, field="platform_name", limit=100, label=_("Platform name"))
    app_name = _text(app_name, field="app_name", limit=100, label=_("App name"))
    server_location = _text(server_location, field="server_location", limit=200, label=_("Server location"))
    with transaction.atomic():
        locked = _lock(application)
        locked.platform_name, locked.app_name, locked.server_location = (
            platform_name,
            app_name,
            server_location,
        )
        _move(
            locked,
            action=Action.COMPLETE_INFO,
            user=user,
            now=now,
            facts={"platform_name": platform_name, "app_name": app_name, "server_location": server_location},
        )
    return locked


def test_account_open(
    *, application: LicenceApplication, user: User, account: str, now: dt.datetime | None = None
) -> LicenceApplication:
    now = _now(now)
    account = _text(account, field="account", limit=100, label=_("Account"))
    with transaction.atomic():
        locked = _lock(application)
        locked.test_account = account
        _move(locked, action=Action.OPEN_TEST_ACCOUNT, user=user, now=now, facts={"test_account": account})
    return locked


def vpn_account_open(
    *, application: LicenceApplication, user: User, account: str, now: dt.datetime | None = None
) -> LicenceApplication:
    now = _now(now)
    account = _text(account, field="account", limit=100, label=_("Account"))
    with transaction.atomic():
        locked = _lock(application)
        locked.vpn_account = account
        _move(locked, action=Action.OPEN_VPN_ACCOUNT, user=user, now=now, facts={"vpn_account": account})
    return locked


# --------------------------------------------------------------------------------------------
# Test appointments
# --------------------------------------------------------------------------------------------


def _require_ministry(user: User) -> None:
    scope = selectors.scope_of(user)
    if scope is None or selectors.staff_party(scope) != Party.MINISTRY:
        raise PermissionDenied(Code.NOT_YOUR_TURN, _("Only the ministry manages test appointments."))


def default_opens_at(month: dt.date) -> dt.datetime:
    """Noon (Asia/Shanghai) on the configured day of the month (the seed: noon on the 1st)."""
    day = _setting("LICENSING_SLOT_OPEN_DAY", 1)
    hour = _setting("LICENSING_SLOT_OPEN_HOUR", 12)
    return dt.datetime(month.year, month.month, day, hour, 0, tzinfo=SHANGHAI)


def test_slot_month_create(
    *,
    month: dt.date,
    user: User | None,
    capacity: int | None = None,
    opens_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> TestSlotMonth:
    """The ministry opens a month of test appointments (user None: operator scripts, demo)."""
    now = _now(now)
    if user is not None:
        _require_ministry(user)
    month = month.replace(day=1)
    capacity = _setting("LICENSING_SLOT_CAPACITY", 20) if capacity is None else capacity
    if capacity < 1 or capacity > 10_000:
        raise ValidationFailed.single(
            field="capacity", code=Code.SLOTS_INVALID, message=_("Between 1 and 10000 slots.")
        )
    try:
        with transaction.atomic():
            slot = TestSlotMonth.objects.create(
                month=month, capacity=capacity, opens_at=opens_at or default_opens_at(month), created_at=now
            )
            record_audit(
                actor=_actor(user),
                action="licensing.slot_month.create",
                target_type="test_slot_month",
                target_id=slot.pk,
                after={"month": f"{month:%Y-%m}", "capacity": capacity, "opens_at": slot.opens_at},
            )
    except IntegrityError:
        raise Conflict(Code.BOOKING_MONTH_EXISTS, _("This month already has test appointments.")) from None
    return slot


def test_slot_month_add_capacity(
    *, slot_month: TestSlotMonth, extra: int, reason: str, user: User, now: dt.datetime | None = None
) -> TestSlotMonth:
    """Regulators open extra slots (audited, with a reason)."""
    _require_ministry(user)
    if extra < 1 or extra > 1000:
        raise ValidationFailed.single(
            field="extra", code=Code.SLOTS_INVALID, message=_("Between 1 and 1000 slots.")
        )
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.single(field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason."))
    with transaction.atomic():
        TestSlotMonth.objects.filter(pk=slot_month.pk).update(extra_capacity=F("extra_capacity") + extra)
        slot_month.refresh_from_db()
        record_audit(
            actor=_actor(user),
            action="licensing.slot_month.add_capacity",
            target_type="test_slot_month",
            target_id=slot_month.pk,
            after={"extra": extra, "total": slot_month.total},
            reason=reason,
        )
    return slot_month


def _booking_error(code: Code) -> Conflict:
    messages = {
        Code.BOOKING_FULL: _("All test appointments of this month are taken. Try another month."),
        Code.BOOKING_ALREADY_BOOKED: _("The company already has a booking in this month (one per month)."),
    }
    return Conflict(code, messages[code])


def _booking_transaction(
    *, slot: TestSlotMonth, company: Company, application: LicenceApplication, user: User, now: dt.datetime
) -> TestBooking:
    """The critical section: take a slot atomically, insert the booking, move the application."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            timeout = _setting("LICENSING_BOOKING_LOCK_TIMEOUT_MS", 5000)
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = {int(timeout)}")
        if getattr(settings, "LICENSING_BOOKING_STRATEGY", "counter") == "row_lock":
            # Lock the month's row, count, then insert: correct, but every request queues on it.
            locked = TestSlotMonth.objects.select_for_update().get(pk=slot.pk)
            if locked.booked >= locked.total:
                raise _booking_error(Code.BOOKING_FULL)
            TestSlotMonth.objects.filter(pk=slot.pk).update(booked=F("booked") + 1)
        else:
            # One conditional UPDATE: the row lock is held only from here to COMMIT, and a waiter
            # re-checks the condition on the committed row (PostgreSQL READ COMMITTED), so
            # `booked` can never pass capacity; the CHECK constraint guards it as well.
            taken = TestSlotMonth.objects.filter(
                pk=slot.pk, booked__lt=F("capacity") + F("extra_capacity")
            ).update(booked=F("booked") + 1)
            if not taken:
                raise _booking_error(Code.BOOKING_FULL)
        try:
            with transaction.atomic():
                booking = TestBooking.objects.create(
                    company=company, slot_month=slot, application=application, created_at=now, booked_by=user
                )
        except IntegrityError:
            raise _booking_error(Code.BOOKING_ALREADY_BOOKED) from None
        locked_application = _lock(application)
        if locked_application.step != Step.TEST_BOOKING:
            raise Conflict(Code.BOOKING_NOT_ELIGIBLE, _("The application is not waiting for a test booking."))
        _move(
            locked_application,
            action=Action.BOOK_TEST,
            user=user,
            now=now,
            role=Party.COMPANY,
            facts={"booking": booking.pk, "month": f"{slot.month:%Y-%m}"},
        )
    return booking


def test_booking_create(
    *, company_id: int, month: dt.date, user: User, now: dt.datetime | None = None
) -> TestBooking:
    """Book the connectivity and consistency test of company `company_id` in `month`.

    First come, first served, one booking per company per month, never more bookings than slots.
    At an opening thousands of requests arrive within a second, nearly all of them too late, so
    the order of the checks matters: first the month's state (one small query, no lock: not open
    yet, over, full), then membership, an existing booking and eligibility, and only then the tiny
    critical section (`_booking_transaction`). Lock timeouts (PostgreSQL) and SQLite's "locked"
    errors are retried with jitter, then answered 503 `booking.busy`, never 500.
    """
    now = _now(now)
    ensure_real_name_verified(user)
    # SQLite's shared-cache test database answers "table is locked" at once instead of waiting,
    # so it gets more (short) retries; PostgreSQL waits on the row lock up to lock_timeout.
    attempts = 60 if connection.vendor == "sqlite" else 3
    for attempt in range(attempts):
        try:
            return _booking_attempt(company_id=company_id, month=month.replace(day=1), user=user, now=now)
        except OperationalError as error:
            logger.info("booking attempt %s hit a lock: %s", attempt + 1, error)
            time.sleep(random.uniform(0.005, 0.02) * min(attempt + 1, 5))  # noqa: S311  (jitter, not crypto)
    raise ServiceBusy(Code.BOOKING_BUSY, _("Too many requests at once; please try again in a moment."))


# The hot path's first read, in plain SQL: compiling the equivalent queryset costs about as much
# as running it, and at an opening this query answers nearly every request on its own.
_SLOT_STATE_SQL = (
    "SELECT id, opens_at, capacity + extra_capacity, booked FROM licensing_testslotmonth WHERE month = %s"
)


def _slot_state(month: dt.date) -> tuple[int, dt.datetime, int, int] | None:
    with connection.cursor() as cursor:
        cursor.execute(_SLOT_STATE_SQL, [month])
        row = cursor.fetchone()
    if row is None:
        return None
    opens_at = row[1]
    if isinstance(opens_at, str):  # SQLite returns text
        opens_at = dt.datetime.fromisoformat(opens_at)
    if timezone.is_naive(opens_at):
        opens_at = timezone.make_aware(opens_at, dt.UTC)
    return int(row[0]), opens_at, int(row[2]), int(row[3])


def _booking_attempt(*, company_id: int, month: dt.date, user: User, now: dt.datetime) -> TestBooking:
    state = _slot_state(month)
    if state is None:
        raise NotFound(Code.BOOKING_MONTH_NOT_FOUND, _("No test appointments are offered in this month."))
    slot_id, opens_at, total, booked = state
    if now < opens_at:
        raise Conflict(
            Code.BOOKING_NOT_OPEN,
            _("Booking for %(month)s opens at %(opens)s.")
            % {"month": f"{month:%Y-%m}", "opens": timezone.localtime(opens_at).strftime("%Y-%m-%d %H:%M")},
            details=[
                ErrorDetail(
                    field="month",
                    code=Code.BOOKING_NOT_OPEN,
                    message="opens_at",
                    params={"opens_at": opens_at.isoformat()},
                )
            ],
        )
    if _month_end(month) < selectors.today(now):
        raise Conflict(Code.BOOKING_MONTH_PAST, _("This month is over."))
    if booked >= total:
        raise _booking_error(Code.BOOKING_FULL)
    company = Company.objects.filter(pk=company_id, memberships__user_id=user.pk).first()
    if company is None:
        raise PermissionDenied(Code.NOT_A_MEMBER, _("You do not act for this company."))
    if (
        TestBooking.objects.filter(company=company, slot_month_id=slot_id)
        .exclude(status=TestBooking.Status.CANCELLED)
        .exists()
    ):
        raise _booking_error(Code.BOOKING_ALREADY_BOOKED)
    application = LicenceApplication.objects.filter(company=company, step=Step.TEST_BOOKING).first()
    if application is None:
        raise Conflict(
            Code.BOOKING_NOT_ELIGIBLE,
            _(
                "The company has no application waiting for a test "
                "(the ministry opens the VPN account first)."
            ),
        )
    slot = TestSlotMonth.objects.get(pk=slot_id)
    return _booking_transaction(slot=slot, company=company, application=application, user=user, now=now)


def test_booking_cancel(*, booking: TestBooking, user: User, now: dt.datetime | None = None) -> TestBooking:
    """The company gives a booked slot back (before the test): the slot is free again."""
    now = _now(now)
    selectors.require_member(user=user, company=booking.company)
    with transaction.atomic():
        locked = TestBooking.objects.select_for_update().get(pk=booking.pk)
        if locked.status != TestBooking.Status.BOOKED:
            raise Conflict(Code.BOOKING_NOT_FOUND, _("Only an active booking can be cancelled."))
        locked.status = TestBooking.Status.CANCELLED
        locked.result_at = now
        locked.save(update_fields=["status", "result_at"])
        TestSlotMonth.objects.filter(pk=locked.slot_month_id, booked__gt=0).update(booked=F("booked") - 1)
        if locked.application_id:
            application = _lock(locked.application)  # type: ignore[arg-type]
            if application.step == Step.TEST_RUN:
                # Back to booking: the table has no such move for the company, so it is recorded
                # as a failed (not taken) test by the system.
                _move(
                    application,
                    action=Action.TEST_FAILED,
                    user=user,
                    now=now,
                    role=SYSTEM,
                    reason="cancelled",
                )
        record_audit(
            actor=_actor(user),
            action="licensing.booking.cancel",
            target_type="test_booking",
            target_id=locked.pk,
        )
    return locked


# --------------------------------------------------------------------------------------------
# Test results and the test-passed document
# --------------------------------------------------------------------------------------------


def _document_number(company: Company, issued_on: dt.date) -> str:
    base = f"CT{issued_on:%Y%m%d}{company.pk:06d}"
    count = TestPassedDocument.objects.filter(number__startswith=base).count()
    return f"{base}{count + 1:02d}"


def test_passed_document_record(
    *,
    company: Company,
    issued_on: dt.date,
    source: str,
    source_ref: str,
    actor: Actor,
    number: str = "",
    recorded_by: User | None = None,
    now: dt.datetime | None = None,
) -> TestPassedDocument:
    """Record a test-passed document (valid 6 months). Called by ministry staff (source "manual",
    from the official result) and later by the conformance app (source "conformance", its run id).
    Applications of the company waiting at the test move on; the active booking becomes "passed"."""
    now = _now(now)
    if source not in TestPassedDocument.Source.values:
        raise ValidationFailed.single(field="source", code=Code.FIELD_REQUIRED, message=_("Unknown source."))
    issued_on = _not_future(issued_on, field="issued_on", today=selectors.today(now))
    with transaction.atomic():
        document = TestPassedDocument.objects.create(
            company=company,
            number=(number.strip()[:64] or _document_number(company, issued_on)),
            issued_on=issued_on,
            valid_until=deadlines.test_document_valid_until(issued_on),
            source=source,
            source_ref=source_ref[:100],
            recorded_by=actor.label[:200],
            recorded_at=now,
        )
        record_audit(
            actor=actor,
            action="licensing.test_document.record",
            target_type="company",
            target_id=company.pk,
            after={
                "number": document.number,
                "issued_on": issued_on,
                "valid_until": document.valid_until,
                "source": source,
                "source_ref": source_ref,
            },
        )
        TestBooking.objects.filter(company=company, status=TestBooking.Status.BOOKED).update(
            status=TestBooking.Status.PASSED, result_at=now
        )
        for application in LicenceApplication.objects.filter(company=company, step=Step.TEST_RUN):
            locked = _lock(application)
            action = (
                Action.TEST_PASSED_RESUME
                if locked.path == LicencePath.NATIONAL and locked.capability_decided_on is not None
                else Action.TEST_PASSED
            )
            # The document moves the application on (role "system"); the history names who recorded it.
            _move(
                locked,
                action=action,
                user=recorded_by,
                now=now,
                role=SYSTEM,
                facts={"document": document.number},
            )
    return document


def test_result_record(
    *,
    application: LicenceApplication,
    user: User,
    passed: bool,
    issued_on: dt.date | None = None,
    document_number: str = "",
    reason: str = "",
    now: dt.datetime | None = None,
) -> TestPassedDocument | None:
    """Ministry staff record the official result of the tests of an application at the test step.
    Passed: the test-passed document is recorded. Failed: the booking stays used (it frees no slot)
    and the company must book again, in a later month."""
    now = _now(now)
    application = LicenceApplication.objects.select_related("company").get(pk=application.pk)  # fresh step
    if _role(user, application) != Party.MINISTRY or application.step != Step.TEST_RUN:
        raise PermissionDenied(
            Code.NOT_YOUR_TURN, _("Only the ministry records test results, at the test step.")
        )
    if passed:
        return test_passed_document_record(
            company=application.company,
            issued_on=issued_on or selectors.today(now),
            source=TestPassedDocument.Source.MANUAL,
            source_ref="",
            actor=_actor(user),
            number=document_number,
            recorded_by=user,
            now=now,
        )
    with transaction.atomic():
        locked = _lock(application)
        TestBooking.objects.filter(application=locked, status=TestBooking.Status.BOOKED).update(
            status=TestBooking.Status.FAILED, result_at=now
        )
        _move(locked, action=Action.TEST_FAILED, user=user, now=now, reason=reason or _("Tests failed"))
    return None


def application_retest(
    *, application: LicenceApplication, user: User | None, now: dt.datetime | None = None
) -> LicenceApplication:
    """Send an application back to the test after its test-passed document expired (the company,
    or the reminders command with user None)."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock(application)
        document = selectors.current_test_document(locked.company)
        if document is not None and deadlines.is_valid_on(document.valid_until, selectors.today(now)):
            raise Conflict(Code.TEST_DOCUMENT_STILL_VALID, _("The test-passed document is still valid."))
        _move(
            locked,
            action=Action.RETEST,
            user=user,
            now=now,
            role=None if user is not None else SYSTEM,
            reason=_("The test-passed document expired"),
        )
    return locked


# --------------------------------------------------------------------------------------------
# Online service capability (线上服务能力认定)
# --------------------------------------------------------------------------------------------


def capability_submit(*, application: LicenceApplication, user: User, now: dt.datetime | None = None) -> None:
    now = _now(now)
    with transaction.atomic():
        locked = _lock(application)
        if not locked.materials.filter(kind=Material.Kind.CAPABILITY).exists():
            raise ValidationFailed.single(
                field="capability",
                code=Code.MATERIALS_MISSING,
                message=_("Upload the online service capability materials first."),
            )
        _move(locked, action=Action.SUBMIT_CAPABILITY, user=user, now=now)


def capability_forward(
    *, application: LicenceApplication, user: User, now: dt.datetime | None = None
) -> None:
    """The city window passes the materials to the province: the 20-working-day clock starts."""
    now = _now(now)
    with transaction.atomic():
        _move(_lock(application), action=Action.FORWARD_TO_PROVINCE, user=user, now=now)


def _review_stage(application: LicenceApplication) -> Stage:
    stage = selectors.open_stage(application)
    if stage is None or stage.kind != Step.CAPABILITY_REVIEW:
        raise Conflict(Code.TRANSITION_NOT_ALLOWED, _("The application is not under capability review."))
    return stage


def capability_distribute(
    *, application: LicenceApplication, user: User, now: dt.datetime | None = None
) -> Stage:
    """The province's transport department sends the materials to the other five departments."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock(application)
        stage = _review_stage(locked)
        if stage.department_reviews.exists():
            raise Conflict(Code.ALREADY_DISTRIBUTED, _("The materials were already distributed."))
        _move(locked, action=Action.DISTRIBUTE, user=user, now=now)
        days = _setting("LICENSING_DEPARTMENT_REVIEW_WORKING_DAYS", 10)
        due = deadlines.or_unknown(lambda: deadlines.working_days_due(selectors.today(now), days))
        if due is not None and stage.due_on is not None:
            due = min(due, stage.due_on)
        DepartmentReview.objects.bulk_create(
            [
                DepartmentReview(
                    stage=stage,
                    department=department,
                    region_code=locked.province_code,
                    requested_at=now,
                    due_on=due or stage.due_on,
                )
                for department in REVIEW_DEPARTMENTS
            ]
        )
        with translation.override(settings.LANGUAGE_CODE):
            text = _(
                "Licence application #%(id)s (%(company)s): please review the online service capability "
                "materials and give your opinion by %(due)s."
            ) % {"id": locked.pk, "company": locked.company.name, "due": (due or stage.due_on or "-")}
            for department in REVIEW_DEPARTMENTS:
                notify(party=department, application=locked, text=text, now=now)
    return stage


def department_review_submit(
    *,
    application: LicenceApplication,
    user: User,
    recommendation: str,
    comments: str,
    now: dt.datetime | None = None,
) -> DepartmentReview:
    """One of the five departments gives its comments and recommendation (each once per round)."""
    now = _now(now)
    if recommendation not in DepartmentReview.Recommendation.values:
        raise ValidationFailed.single(
            field="recommendation", code=Code.RECOMMENDATION_INVALID, message=_("Choose a recommendation.")
        )
    comments = _text(comments, field="comments", limit=4000, label=_("Comments"))
    with transaction.atomic():
        locked = _lock(application)
        role = _role(user, locked)
        stage = _review_stage(locked)
        review = DepartmentReview.objects.select_for_update().filter(stage=stage, department=role).first()
        if review is None:
            raise Conflict(Code.NOT_DISTRIBUTED, _("The materials have not been sent to your department."))
        if review.reviewed_at is not None:
            raise Conflict(Code.ALREADY_REVIEWED, _("Your department has already given its opinion."))
        review.recommendation, review.comments = recommendation, comments
        review.reviewer, review.reviewed_at = user, now
        review.save()
        _move(
            locked,
            action=Action.DEPARTMENT_REVIEW,
            user=user,
            now=now,
            role=role,
            facts={"department": role, "recommendation": recommendation},
        )
        if not stage.department_reviews.filter(reviewed_at__isnull=True).exists():
            with translation.override(settings.LANGUAGE_CODE):
                notify(
                    party=Party.PROVINCE_TRANSPORT,
                    application=locked,
                    text=_("Licence application #%(id)s: all five departments have answered; please decide.")
                    % {"id": locked.pk},
                    now=now,
                )
    return review


def capability_extend(
    *, application: LicenceApplication, user: User, reason: str, now: dt.datetime | None = None
) -> Stage:
    """Extend the review once by 10 working days, with a recorded reason; a second time → Conflict."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock(application)
        stage = _review_stage(locked)
        if stage.extended_days:
            raise Conflict(Code.ALREADY_EXTENDED, _("The review period can be extended only once."))
        reason = reason.strip()
        _move(locked, action=Action.EXTEND, user=user, now=now, reason=reason)
        stage.extended_days = deadlines.CAPABILITY_EXTENSION_WORKING_DAYS
        stage.extension_reason = reason
        stage.extended_at = now
        stage.due_on = deadlines.or_unknown(
            lambda: deadlines.capability_review_due(stage.clock_start, extended=True)
        )
        stage.save(update_fields=["extended_days", "extension_reason", "extended_at", "due_on"])
        with translation.override(settings.LANGUAGE_CODE):
            notify(
                party=Party.COMPANY,
                application=locked,
                text=_(
                    "Licence application #%(id)s: the capability review was extended to %(due)s. "
                    "Reason: %(reason)s"
                )
                % {"id": locked.pk, "due": stage.due_on or "-", "reason": reason},
                now=now,
            )
    return stage


def capability_decide(
    *,
    application: LicenceApplication,
    user: User,
    decision: str,
    reason: str = "",
    decision_number: str = "",
    missing_reason: str = "",
    now: dt.datetime | None = None,
) -> LicenceApplication:
    """The province's transport department decides: approve, revise (one week to resubmit, then
    the clock restarts) or reject. It decides once all five departments have answered; deciding
    without an opinion needs `missing_reason` (recorded, e.g. a department that did not answer
    by its due date)."""
    now = _now(now)
    action = {
        "approve": Action.APPROVE_CAPABILITY,
        "revise": Action.REVISE_CAPABILITY,
        "reject": Action.REJECT_CAPABILITY,
    }.get(decision)
    if action is None:
        raise ValidationFailed.single(
            field="decision", code=Code.FIELD_REQUIRED, message=_("Choose a decision.")
        )
    with transaction.atomic():
        locked = _lock(application)
        stage = _review_stage(locked)
        reviews = list(stage.department_reviews.all())
        if not reviews:
            raise Conflict(Code.NOT_DISTRIBUTED, _("Distribute the materials to the five departments first."))
        missing = [r.department for r in reviews if r.reviewed_at is None]
        missing_reason = missing_reason.strip()
        if missing and not missing_reason:
            raise Conflict(
                Code.REVIEWS_MISSING,
                _(
                    "Not every department has answered: %(departments)s. "
                    "Wait, or record why you decide without them."
                )
                % {"departments": "、".join(str(Party(d).label) for d in missing)},
                details=[
                    ErrorDetail(
                        field="missing_reason", code=Code.REVIEWS_MISSING, message=str(Party(d).label)
                    )
                    for d in missing
                ],
            )
        facts: dict[str, Any] = {"decision": decision, "missing": missing}
        if missing:
            facts["missing_reason"] = missing_reason
        if action == Action.APPROVE_CAPABILITY:
            locked.capability_decided_on = selectors.today(now)
            locked.capability_decision_number = decision_number.strip()[:100]
            facts["decision_number"] = locked.capability_decision_number
        base_reason = reason.strip()
        if action != Action.APPROVE_CAPABILITY and not base_reason:
            raise ValidationFailed.single(
                field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason.")
            )
        full_reason = base_reason
        if missing:
            note = _("Decided without the opinion of: %(departments)s, because: %(reason)s") % {
                "departments": "、".join(str(Party(d).label) for d in missing),
                "reason": missing_reason,
            }
            full_reason = f"{base_reason} {note}".strip()
        _move(locked, action=action, user=user, now=now, reason=full_reason, facts=facts)
    return locked


def capability_resubmit(
    *, application: LicenceApplication, user: User, now: dt.datetime | None = None
) -> Stage | None:
    """The company resubmits revised materials within the week; the 20-day clock restarts today."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock(application)
        stage = selectors.open_stage(locked)
        if stage is None or stage.kind != Step.CAPABILITY_REVISION:
            raise Conflict(Code.TRANSITION_NOT_ALLOWED, _("No revision was requested."))
        if not locked.materials.filter(
            kind=Material.Kind.CAPABILITY, uploaded_at__gte=stage.opened_at
        ).exists():
            raise ValidationFailed.single(
                field="capability",
                code=Code.MATERIALS_MISSING,
                message=_("Upload the revised materials first."),
            )
        return _move(locked, action=Action.RESUBMIT_CAPABILITY, user=user, now=now)


def capability_revision_lapse(
    *, application: LicenceApplication, user: User, reason: str, now: dt.datetime | None = None
) -> None:
    """Close an application whose company did not resubmit within the week."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock(application)
        stage = selectors.open_stage(locked)
        if (
            stage is None
            or stage.kind != Step.CAPABILITY_REVISION
            or stage.due_on is None
            or (selectors.today(now) <= stage.due_on)
        ):
            raise Conflict(Code.REVISION_NOT_OVERDUE, _("The company still has time to resubmit."))
        _move(locked, action=Action.LAPSE_REVISION, user=user, now=now, reason=reason)


# --------------------------------------------------------------------------------------------
# Security evaluations (三项测评)
# --------------------------------------------------------------------------------------------


def security_evaluation_record(
    *,
    company: Company,
    kind: str,
    agency: str,
    report_number: str,
    issued_on: dt.date,
    upload: Any,
    user: User,
    valid_until: dt.date | None = None,
    now: dt.datetime | None = None,
) -> SecurityEvaluation:
    """A company member records an evaluation with its agency and PDF report. Level-3 protection is
    valid 12 months from issue (the report may state an earlier end); the two assessments are done
    once and have no end unless the report states one (then `valid_until`)."""
    now = _now(now)
    ensure_real_name_verified(user)
    selectors.require_member(user=user, company=company)
    if kind not in SecurityEvaluation.Kind.values:
        raise ValidationFailed.single(
            field="kind", code=Code.EVALUATION_INVALID, message=_("Unknown evaluation.")
        )
    agency = _text(agency, field="agency", limit=200, label=_("Evaluating agency"))
    report_number = _text(report_number, field="report_number", limit=100, label=_("Report number"))
    issued_on = _not_future(issued_on, field="issued_on", today=selectors.today(now))
    if kind == SecurityEvaluation.Kind.LEVEL3:
        yearly = deadlines.level3_valid_until(issued_on)
        valid_until = min(valid_until, yearly) if valid_until else yearly
    if valid_until is not None and valid_until <= issued_on:
        raise ValidationFailed.single(
            field="valid_until",
            code=Code.EVALUATION_INVALID,
            message=_("The end must be after the issue date."),
        )
    checked = files.check_document(upload, field="report", allow_images=False)
    stored = files.store(checked, folder="licensing/evaluations")
    with transaction.atomic():
        evaluation = SecurityEvaluation.objects.create(
            company=company,
            kind=kind,
            agency=agency,
            report_number=report_number,
            issued_on=issued_on,
            valid_until=valid_until,
            stored_name=stored,
            original_name=checked.original_name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            recorded_by=user,
            recorded_at=now,
        )
        record_audit(
            actor=_actor(user),
            action="licensing.evaluation.record",
            target_type="company",
            target_id=company.pk,
            after={
                "evaluation": evaluation.pk,
                "kind": kind,
                "agency": agency,
                "report_number": report_number,
                "issued_on": issued_on,
                "valid_until": valid_until,
                "sha256": checked.sha256,
            },
        )
    return evaluation


def evaluations_require_valid(*, company: Company, on: dt.date) -> None:
    """Conflict `evaluation.missing` / `evaluation.expired` naming each missing or expired one."""
    statuses = selectors.evaluation_statuses(company, on=on)
    missing = [s for s in statuses if s.evaluation is None]
    expired = [s for s in statuses if s.evaluation is not None and not s.valid]
    if missing:
        raise Conflict(
            Code.EVALUATION_MISSING,
            _("Evaluations missing: %(kinds)s.") % {"kinds": "、".join(s.label for s in missing)},
            details=[
                ErrorDetail(field=s.kind, code=Code.EVALUATION_MISSING, message=s.label) for s in missing
            ]
            + [ErrorDetail(field=s.kind, code=Code.EVALUATION_EXPIRED, message=s.label) for s in expired],
        )
    if expired:
        raise Conflict(
            Code.EVALUATION_EXPIRED,
            _("Evaluations expired: %(kinds)s.") % {"kinds": "、".join(s.label for s in expired)},
            details=[
                ErrorDetail(
                    field=s.kind,
                    code=Code.EVALUATION_EXPIRED,
                    message=s.label,
                    params={
                        "valid_until": s.evaluation.valid_until.isoformat()
                        if s.evaluation and s.evaluation.valid_until
                        else None
                    },
                )
                for s in expired
            ],
        )


def evaluations_submit(
    *, application: LicenceApplication, user: User, now: dt.datetime | None = None
) -> None:
    now = _now(now)
    with transaction.atomic():
        locked = _lock(application)
        evaluations_require_valid(company=locked.company, on=selectors.today(now))
        _move(locked, action=Action.SUBMIT_EVALUATIONS, user=user, now=now)


# --------------------------------------------------------------------------------------------
# Decision and licence
# --------------------------------------------------------------------------------------------


def _licence_number(city_code: str, year: int) -> str:
    prefix = f"{city_code}WY{year}"
    count = OperatingLicence.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{count + 1:05d}"


def licence_grant(
    *,
    application: LicenceApplication,
    user: User,
    scope: str,
    area: str,
    valid_years: int | None = None,
    now: dt.datetime | None = None,
) -> OperatingLicence:
    """The city transport authority grants the operating licence (national path) or the local
    licence (地牌). Refused while an evaluation is missing or expired, or the test-passed document
    has expired. The electronic licence is created in the same transaction (elicense)."""
    now = _now(now)
    today = selectors.today(now)
    scope = _text(scope, field="scope", limit=200, label=_("Business scope"))
    area = _text(area, field="area", limit=200, label=_("Operating area"))
    years = valid_years if valid_years is not None else _setting("LICENSING_LICENCE_VALID_YEARS", 4)
    if not 1 <= years <= 10:
        raise ValidationFailed.single(
            field="valid_years", code=Code.LICENCE_INVALID, message=_("1 to 10 years.")
        )
    with transaction.atomic():
        locked = _lock(application)
        evaluations_require_valid(company=locked.company, on=today)
        valid_until = deadlines.add_months(today, 12 * years) - dt.timedelta(days=1)
        licence = OperatingLicence.objects.create(
            number=_licence_number(locked.city_code, today.year),
            company=locked.company,
            application=locked,
            kind=OperatingLicence.Kind.NATIONAL
            if locked.path == LicencePath.NATIONAL
            else OperatingLicence.Kind.LOCAL,
            scope=scope,
            area=area,
            city_code=locked.city_code,
            valid_from=today,
            valid_until=valid_until,
            issued_by=user,
            issued_at=now,
        )
        _move(
            locked,
            action=Action.GRANT,
            user=user,
            now=now,
            facts={"licence": licence.number, "valid_until": valid_until, "kind": licence.kind},
        )
        licence.electronic_licence_id = _sync_electronic_licence(licence, actor=_actor(user), now=now)
        licence.save(update_fields=["electronic_licence_id"])
    return licence


def _sync_electronic_licence(licence: OperatingLicence, *, actor: Actor, now: dt.datetime) -> str:
    """Mirror the licence in the electronic-licence registry (elicense.licence_sync, same
    transaction: both commit or neither)."""
    from yunzheng.elicense.models import LicenceType
    from yunzheng.elicense.services import licence_sync

    electronic = licence_sync(
        source_type="licensing.operating_licence",
        source_id=licence.pk,
        licence_type=LicenceType.RIDEHAIL_OPERATING_LICENCE,
        holder_name=licence.company.name,
        holder_company=licence.company,
        issuer_region=licence.city_code,
        valid_from=licence.valid_from,
        valid_until=licence.valid_until,
        data={
            "certificate_number": licence.number,
            "scope": licence.scope[:40],
            "area": licence.area,
            "kind": licence.kind,
            "credit_code": licence.company.credit_code,
        },
        event="issue",
        actor=actor,
        now=now,
    )
    return str(electronic.lid)


def licence_refuse(
    *, application: LicenceApplication, user: User, reason: str, now: dt.datetime | None = None
) -> None:
    now = _now(now)
    with transaction.atomic():
        _move(_lock(application), action=Action.REFUSE, user=user, now=now, reason=reason)


def application_withdraw(
    *, application: LicenceApplication, user: User, reason: str, now: dt.datetime | None = None
) -> None:
    now = _now(now)
    with transaction.atomic():
        _move(_lock(application), action=Action.WITHDRAW, user=user, now=now, reason=reason)


# --------------------------------------------------------------------------------------------
# Reminders (manage.py licensing_reminders, from cron): idempotent through Notification.dedupe_key
# --------------------------------------------------------------------------------------------


def _stage_reminders(today: dt.date, now: dt.datetime) -> int:
    sent = 0
    tomorrow = today + dt.timedelta(days=1)
    for stage in Stage.objects.filter(
        status=Stage.Status.OPEN, due_on__isnull=False, due_on__lte=tomorrow
    ).select_related("application", "application__company", "application__company__contact_user"):
        application = stage.application
        overdue = stage.due_on is not None and stage.due_on < today
        key = f"stage-{'overdue' if overdue else 'due'}:{stage.pk}:{stage.due_on}"
        text = (
            _("Licence application #%(id)s: the step “%(step)s” is overdue (due %(due)s).")
            if overdue
            else _("Licence application #%(id)s: the step “%(step)s” is due %(due)s.")
        ) % {"id": application.pk, "step": Step(stage.kind).label, "due": stage.due_on}
        parties: Iterable[str] = {Party.COMPANY, stage.responsible}
        if overdue and stage.responsible != Party.COMPANY:
            parties = {Party.COMPANY, stage.responsible, Party.PROVINCE_TRANSPORT}  # escalate
        for party in sorted(parties):
            if notify(party=party, application=application, text=text, dedupe_key=f"{key}:{party}", now=now):
                sent += 1
    return sent


def _test_document_reminders(today: dt.date, now: dt.datetime, *, within_days: int) -> int:
    sent = 0
    limit = today + dt.timedelta(days=within_days)
    for document in TestPassedDocument.objects.filter(
        valid_until__gte=today, valid_until__lte=limit
    ).select_related("company", "company__contact_user"):
        if document != selectors.current_test_document(document.company):
            continue
        text = _(
            "The test-passed document %(number)s expires on %(date)s. "
            "Finish the remaining stages before then, "
            "or the tests must be taken again."
        ) % {"number": document.number, "date": document.valid_until}
        if notify(
            party=Party.COMPANY,
            application=None,
            company=document.company,
            text=text,
            link="/licensing/",
            dedupe_key=f"testdoc-expiring:{document.pk}",
            now=now,
        ):
            sent += 1
    return sent


def _evaluation_reminders(today: dt.date, now: dt.datetime, *, within_days: int) -> int:
    sent = 0
    limit = today + dt.timedelta(days=within_days)
    for evaluation in SecurityEvaluation.objects.filter(
        valid_until__isnull=False, valid_until__gte=today, valid_until__lte=limit
    ).select_related("company", "company__contact_user"):
        text = _("The evaluation “%(kind)s” (report %(number)s) expires on %(date)s; renew it in time.") % {
            "kind": evaluation.get_kind_display(),
            "number": evaluation.report_number,
            "date": evaluation.valid_until,
        }
        if notify(
            party=Party.COMPANY,
            application=None,
            company=evaluation.company,
            text=text,
            link=f"/licensing/companies/{evaluation.company_id}/evaluations/",
            dedupe_key=f"evaluation-expiring:{evaluation.pk}",
            now=now,
        ):
            sent += 1
    return sent


def _expired_test_documents(today: dt.date, now: dt.datetime) -> int:
    moved = 0
    for application in LicenceApplication.objects.filter(step__in=STEPS_NEEDING_TEST_DOCUMENT).select_related(
        "company"
    ):
        document = selectors.current_test_document(application.company)
        if document is not None and deadlines.is_valid_on(document.valid_until, today):
            continue
        application_retest(application=application, user=None, now=now)
        moved += 1
    return moved


def reminders_send(*, now: dt.datetime | None = None, within_days: int = 30) -> dict[str, int]:
    """Due-date and expiry warnings (each once), unknown due dates filled in, and applications
    whose test-passed document expired sent back to the test."""
    now = _now(now)
    today = selectors.today(now)
    with translation.override(settings.LANGUAGE_CODE):
        filled = stage_deadlines_refresh()
        with transaction.atomic():
            stages = _stage_reminders(today, now)
            documents = _test_document_reminders(today, now, within_days=within_days)
            evaluations = _evaluation_reminders(today, now, within_days=within_days)
        retests = _expired_test_documents(today, now)
    if stages or documents or evaluations or retests:
        record_audit(
            actor=Actor(kind=AuditEntry.ActorKind.SYSTEM, label="licensing_reminders"),
            action="licensing.reminders.send",
            target_type="licensing",
            after={"stages": stages, "documents": documents, "evaluations": evaluations, "retests": retests},
        )
    return {
        "filled": filled,
        "stages": stages,
        "documents": documents,
        "evaluations": evaluations,
        "retests": retests,
    }
