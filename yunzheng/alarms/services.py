"""Every write of the alarms app: rules (versioned, audited), incidents, staff and company actions.

Rules: each change writes a new ``AlarmRuleVersion`` and an audit entry. Incidents are opened and
closed by the engine through :func:`alarm_signals_apply` (recorded as ``AlarmEvent``s; not in the
hash-chained audit log, which serialises every append and would put a global lock on the ingest
path - see ADR 0008); every human action (acknowledge, assign, close, note, company answer) is
audited as well as recorded on the alarm.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts.models import StaffProfile, User
from yunzheng.accounts.permissions import authorize
from yunzheng.alarms import access
from yunzheng.alarms.conf import app_settings
from yunzheng.alarms.engine import CLOSE, ENDED, EVIDENCE, OPEN, Signal
from yunzheng.alarms.error_codes import AlarmErrorCode as Code
from yunzheng.alarms.kinds import validate_params, validate_schedule
from yunzheng.alarms.live import forget_compiled_rules
from yunzheng.alarms.models import (
    Alarm,
    AlarmEvent,
    AlarmNotification,
    AlarmRule,
    AlarmRuleVersion,
    DutyRoster,
    EngineState,
    RuleKind,
    Severity,
)
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.errors import Conflict, PermissionDenied, ValidationFailed

MAX_EVIDENCE = 20
MAX_TRACK = 300
_REGION = re.compile(r"\d{6}")
HIGH_SEVERITIES = (Severity.CRITICAL, Severity.HIGH)


def _rule_snapshot(rule: AlarmRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "region_code": rule.region_code,
        "kind": rule.kind,
        "severity": rule.severity,
        "schedule": rule.schedule,
        "params": rule.params,
        "enabled": rule.enabled,
        "version": rule.version,
    }


def _clean_rule_fields(
    *, user: User, name: str, region_code: str, kind: str, severity: str, schedule: Any, params: Any
) -> dict[str, Any]:
    scope = access.rule_scope_for(user)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.single(
            field="name", code=Code.NAME_REQUIRED, message=_("Give the rule a name.")
        )
    region_code = (region_code or "").strip()
    if region_code and not _REGION.fullmatch(region_code):
        raise ValidationFailed.single(
            field="region_code",
            code=Code.REGION_INVALID,
            message=_("The region is a 6-digit GB/T 2260 code."),
        )
    if not region_code and scope.region_prefix:
        region_code = scope.region_code
    if (region_code and not scope.covers(region_code)) or (not region_code and scope.region_prefix):
        raise ValidationFailed.single(
            field="region_code", code=Code.REGION_INVALID, message=_("The region is outside your own region.")
        )
    if kind not in RuleKind.values:
        raise ValidationFailed.single(field="kind", code=Code.KIND_UNKNOWN, message=_("Unknown rule kind."))
    if severity not in Severity.values:
        raise ValidationFailed.single(
            field="severity",
            code=Code.SEVERITY_INVALID,
            message=_("Severity is critical, high, medium or low."),
        )
    return {
        "name": name[:100],
        "region_code": region_code,
        "kind": kind,
        "severity": severity,
        "schedule": validate_schedule(schedule),
        "params": validate_params(kind, params),
    }


def _write_version(rule: AlarmRule, *, user: User | None, note: str, now: datetime) -> None:
    # Every rule write passes here: this process's engine recompiles at its next batch (now and
    # after the commit, so a batch in between cannot keep the old rules for the recheck period).
    forget_compiled_rules()
    transaction.on_commit(forget_compiled_rules)
    AlarmRuleVersion.objects.create(
        rule=rule,
        version=rule.version,
        name=rule.name,
        region_code=rule.region_code,
        kind=rule.kind,
        severity=rule.severity,
        schedule=rule.schedule,
        params=rule.params,
        enabled=rule.enabled,
        note=note[:200],
        created_at=now,
        created_by=user,
    )


@transaction.atomic
def rule_create(
    *,
    user: User,
    name: str,
    region_code: str,
    kind: str,
    severity: str,
    schedule: Any = None,
    params: Any = None,
    enabled: bool = False,
    note: str = "",
    now: datetime | None = None,
) -> AlarmRule:
    """A new rule (version 1) of the staff member's region; disabled unless asked otherwise."""
    now = now or timezone.now()
    fields = _clean_rule_fields(
        user=user,
        name=name,
        region_code=region_code,
        kind=kind,
        severity=severity,
        schedule=schedule,
        params=params,
    )
    rule = AlarmRule.objects.create(
        **fields, enabled=enabled, version=1, created_at=now, updated_at=now, updated_by=user
    )
    _write_version(rule, user=user, note=note, now=now)
    record_audit(
        actor=Actor.for_user(user),
        action="alarms.rule_create",
        target_type="alarms.rule",
        target_id=rule.pk,
        after=_rule_snapshot(rule),
        reason=note,
    )
    return rule


def _rule_for_update(*, user: User, rule_id: int) -> AlarmRule:
    scope = access.rule_scope_for(user)
    rule = AlarmRule.objects.select_for_update().filter(pk=rule_id).first()
    if (
        rule is None
        or (rule.region_code and not scope.covers(rule.region_code))
        or (not rule.region_code and scope.region_prefix)
    ):
        raise PermissionDenied(Code.OUT_OF_SCOPE, _("This rule is not of your region."))
    return rule


@transaction.atomic
def rule_update(
    *,
    user: User,
    rule_id: int,
    name: str,
    region_code: str,
    kind: str,
    severity: str,
    schedule: Any = None,
    params: Any = None,
    enabled: bool | None = None,
    note: str = "",
    now: datetime | None = None,
) -> AlarmRule:
    """A new version of a rule (the kind may not change: incidents and state belong to it)."""
    now = now or timezone.now()
    rule = _rule_for_update(user=user, rule_id=rule_id)
    if kind != rule.kind:
        raise ValidationFailed.single(
            field="kind",
            code=Code.KIND_UNKNOWN,
            message=_("A rule's kind cannot change; create another rule."),
        )
    before = _rule_snapshot(rule)
    fields = _clean_rule_fields(
        user=user,
        name=name,
        region_code=region_code,
        kind=kind,
        severity=severity,
        schedule=schedule,
        params=params,
    )
    for key, value in fields.items():
        setattr(rule, key, value)
    if enabled is not None:
        rule.enabled = enabled
    rule.version += 1
    rule.updated_at = now
    rule.updated_by = user
    rule.save()
    _write_version(rule, user=user, note=note, now=now)
    record_audit(
        actor=Actor.for_user(user),
        action="alarms.rule_update",
        target_type="alarms.rule",
        target_id=rule.pk,
        before=before,
        after=_rule_snapshot(rule),
        reason=note,
    )
    return rule


@transaction.atomic
def rule_set_enabled(
    *, user: User, rule_id: int, enabled: bool, note: str = "", now: datetime | None = None
) -> AlarmRule:
    now = now or timezone.now()
    rule = _rule_for_update(user=user, rule_id=rule_id)
    if rule.enabled == enabled:
        return rule
    before = _rule_snapshot(rule)
    rule.enabled = enabled
    rule.version += 1
    rule.updated_at = now
    rule.updated_by = user
    rule.save()
    _write_version(rule, user=user, note=note, now=now)
    record_audit(
        actor=Actor.for_user(user),
        action="alarms.rule_enable" if enabled else "alarms.rule_disable",
        target_type="alarms.rule",
        target_id=rule.pk,
        before=before,
        after=_rule_snapshot(rule),
        reason=note,
    )
    return rule


# ---------------------------------------------------------------------------------------------
# incidents from the engine
# ---------------------------------------------------------------------------------------------


def _aware(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _append(alarm: Alarm, signal: Signal) -> None:
    if signal.record is not None:
        if len(alarm.evidence) >= MAX_EVIDENCE:
            # Keep the first records (what opened it) and the latest ones.
            alarm.evidence = alarm.evidence[:5] + alarm.evidence[-(MAX_EVIDENCE - 6) :]
        alarm.evidence.append(signal.record)
    if signal.point is not None:
        alarm.track.append(list(signal.point))
        if len(alarm.track) > MAX_TRACK:
            alarm.track = alarm.track[-MAX_TRACK:]
    alarm.last_evidence_at = _aware(signal.at)


def alarm_signals_apply(*, signals: Sequence[Signal], now: datetime) -> list[Alarm]:
    """Open, extend and close incidents as the engine says; returns the alarms opened.

    Runs inside the caller's transaction (with the subjects' state rows locked), so the state
    that says "open" and the open alarm are written together.
    """
    opened: list[Alarm] = []
    wanted = {(s.rule.id, s.subject) for s in signals if s.action != OPEN}
    current: dict[tuple[int, str], Alarm] = {}
    if wanted:
        q = Q()
        for rule_id, subject in wanted:
            q |= Q(rule_id=rule_id, subject=subject)
        for found in Alarm.objects.filter(q).exclude(state=Alarm.State.CLOSED):
            current[(found.rule_id, found.subject)] = found
    dirty: dict[int, Alarm] = {}
    events: list[AlarmEvent] = []
    for s in signals:
        key = (s.rule.id, s.subject)
        alarm = current.get(key)
        if s.action == OPEN:
            if alarm is not None:  # still open (e.g. an SOS waiting for staff): new evidence
                _append(alarm, s)
                alarm.condition_ended_at = None
                dirty[alarm.pk] = alarm
                continue
            alarm = Alarm(
                rule_id=s.rule.id,
                rule_version=s.rule.version,
                kind=s.rule.kind,
                severity=s.rule.severity,
                is_sos=s.rule.is_sos,
                subject=s.subject,
                company_id=s.company_pk or None,
                region_code=f"{s.region:06d}" if s.region else "",
                vehicle_no=s.vehicle_no[:32],
                driver_hash=s.driver_hash,
                driver_display=s.driver_display[:32],
                order_id=s.order_id[:64],
                detail=s.detail[:300],
                opened_at=_aware(s.at),
                raised_at=now,
                evidence=[],
                track=[],
            )
            _append(alarm, s)
            alarm.save()
            current[key] = alarm
            opened.append(alarm)
            events.append(
                AlarmEvent(
                    alarm=alarm,
                    action=AlarmEvent.Action.OPENED,
                    actor_label="engine",
                    note=alarm.detail,
                    created_at=now,
                )
            )
        elif alarm is None:
            continue  # closed by staff meanwhile: nothing to extend or close
        elif s.action == EVIDENCE:
            _append(alarm, s)
            dirty[alarm.pk] = alarm
        elif s.action == CLOSE:
            alarm.state = Alarm.State.CLOSED
            alarm.condition_ended_at = alarm.closed_at = _aware(s.at)
            alarm.close_note = _("The condition ended.")
            alarm.save()
            dirty.pop(alarm.pk, None)
            del current[key]
            events.append(
                AlarmEvent(
                    alarm=alarm, action=AlarmEvent.Action.AUTO_CLOSED, actor_label="engine", created_at=now
                )
            )
        elif s.action == ENDED:
            alarm.condition_ended_at = _aware(s.at)
            dirty[alarm.pk] = alarm
            events.append(
                AlarmEvent(
                    alarm=alarm,
                    action=AlarmEvent.Action.CONDITION_ENDED,
                    actor_label="engine",
                    created_at=now,
                )
            )
    if dirty:
        Alarm.objects.bulk_update(
            list(dirty.values()), ["evidence", "track", "last_evidence_at", "condition_ended_at"]
        )
    if events:
        AlarmEvent.objects.bulk_create(events)
    for alarm in opened:
        _notify_on_duty(alarm, now=now)
    return opened


def _recipients(region_code: str, departments: tuple[str, ...], *, on_duty_only: bool) -> list[int]:
    profiles = StaffProfile.objects.filter(
        access.staff_covering(region_code, departments), user__is_active=True
    )
    # The city's own office first; the province and ministry only when the city has nobody.
    by_level: dict[str, list[int]] = {}
    for user_id, level, department in profiles.values_list("user_id", "level", "department"):
        by_level.setdefault(f"{department}:{level}", []).append(user_id)
    chosen: list[int] = []
    for department in departments:
        for level in ("city", "province", "ministry"):
            ids = by_level.get(f"{department}:{level}")
            if ids:
                chosen.extend(ids)
                break
    if on_duty_only and chosen:
        rosters = dict(DutyRoster.objects.filter(user_id__in=chosen).values_list("user_id", "on_duty"))
        on_duty = [uid for uid in chosen if rosters.get(uid, True)]
        chosen = on_duty or chosen  # nobody on duty: everyone of the office hears of it
    return chosen


def _notice_text(alarm: Alarm) -> str:
    label = RuleKind(alarm.kind).label if alarm.kind in RuleKind.values else alarm.kind
    severity = Severity(alarm.severity).label
    who = alarm.vehicle_no or alarm.driver_display or alarm.subject
    return f"[{severity}] {label}: {who} {alarm.detail}"[:300]


def _notify_on_duty(alarm: Alarm, *, now: datetime) -> None:
    departments: tuple[str, ...] = (access.TRANSPORT, access.POLICE) if alarm.is_sos else (access.TRANSPORT,)
    if not alarm.region_code:
        return
    users = _recipients(alarm.region_code, departments, on_duty_only=True)
    text = _notice_text(alarm)
    AlarmNotification.objects.bulk_create(
        [AlarmNotification(recipient_id=uid, alarm=alarm, text=text, created_at=now) for uid in users]
    )


# ---------------------------------------------------------------------------------------------
# staff and company actions
# ---------------------------------------------------------------------------------------------

#: The permission table's action of the staff's alarm handling (acknowledge, assign, close, note).
HANDLE = "alarm.handle"


def _alarm_for(user: User, alarm_id: int, *, handle: bool) -> tuple[Alarm, access.AlarmViewer]:
    if handle:
        authorize(user, HANDLE)  # department and level first; the alarm's region below
    viewer = access.viewer_for(user)
    alarm = Alarm.objects.select_for_update().filter(pk=alarm_id).first()
    if alarm is None or not viewer.may_see(alarm):
        raise PermissionDenied(Code.NOT_FOUND, _("No such alarm in your region."))
    if handle:
        # An alarm with no region is seen by the ministry only (may_see): the table's region rule
        # then has nothing to compare, as for a queue.
        authorize(user, HANDLE, region_code=alarm.region_code or None)
    if handle and not viewer.may_handle(alarm):
        raise PermissionDenied(Code.DEPARTMENT, _("You may not handle this alarm."))
    return alarm, viewer


def _event(alarm: Alarm, action: str, user: User, note: str, now: datetime) -> None:
    AlarmEvent.objects.create(
        alarm=alarm,
        action=action,
        actor=user,
        actor_label=Actor.for_user(user).label,
        note=note,
        created_at=now,
    )


def _audit(user: User, action: str, alarm: Alarm, before: str, note: str) -> None:
    record_audit(
        actor=Actor.for_user(user),
        action=f"alarms.{action}",
        target_type="alarms.alarm",
        target_id=alarm.pk,
        before={"state": before},
        after={"state": alarm.state},
        reason=note[:500],
    )


@transaction.atomic
def alarm_acknowledge(*, user: User, alarm_id: int, note: str = "", now: datetime | None = None) -> Alarm:
    now = now or timezone.now()
    alarm, _viewer = _alarm_for(user, alarm_id, handle=True)
    if alarm.state != Alarm.State.OPEN:
        raise Conflict(Code.STATE, _("Only an open alarm can be acknowledged."))
    before = alarm.state
    alarm.state = Alarm.State.ACKNOWLEDGED
    alarm.acknowledged_at = now
    alarm.acknowledged_by = user
    alarm.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
    _event(alarm, AlarmEvent.Action.ACKNOWLEDGED, user, note, now)
    _audit(user, "acknowledge", alarm, before, note)
    return alarm


@transaction.atomic
def alarm_assign(
    *, user: User, alarm_id: int, assignee_id: int, note: str = "", now: datetime | None = None
) -> Alarm:
    now = now or timezone.now()
    alarm, viewer = _alarm_for(user, alarm_id, handle=True)
    if not viewer.is_transport:
        raise PermissionDenied(Code.DEPARTMENT, _("Only the transport authority assigns alarms."))
    if alarm.state == Alarm.State.CLOSED:
        raise Conflict(Code.STATE, _("The alarm is closed."))
    ok = StaffProfile.objects.filter(
        access.staff_covering(alarm.region_code or "000000", (access.TRANSPORT,)),
        user_id=assignee_id,
        user__is_active=True,
    ).exists()
    if not ok:
        raise ValidationFailed.single(
            field="assignee",
            code=Code.ASSIGNEE_INVALID,
            message=_("Assign to transport staff of the alarm's region."),
        )
    before = alarm.state
    alarm.assigned_to_id = assignee_id
    if alarm.state == Alarm.State.OPEN:
        alarm.state = Alarm.State.ACKNOWLEDGED
        alarm.acknowledged_at = now
        alarm.acknowledged_by = user
    alarm.save(update_fields=["assigned_to", "state", "acknowledged_at", "acknowledged_by"])
    _event(alarm, AlarmEvent.Action.ASSIGNED, user, note or f"user#{assignee_id}", now)
    AlarmNotification.objects.create(
        recipient_id=assignee_id,
        alarm=alarm,
        text=_("Assigned to you: ") + _notice_text(alarm),
        created_at=now,
    )
    _audit(user, "assign", alarm, before, note)
    return alarm


@transaction.atomic
def alarm_close(*, user: User, alarm_id: int, note: str, now: datetime | None = None) -> Alarm:
    now = now or timezone.now()
    alarm, viewer = _alarm_for(user, alarm_id, handle=True)
    if not viewer.is_transport:
        raise PermissionDenied(Code.DEPARTMENT, _("Only the transport authority closes alarms."))
    note = (note or "").strip()
    if not note:
        raise ValidationFailed.single(
            field="note", code=Code.NOTE_REQUIRED, message=_("Say how the alarm was handled.")
        )
    if alarm.state == Alarm.State.CLOSED:
        raise Conflict(Code.STATE, _("The alarm is already closed."))
    before = alarm.state
    alarm.state = Alarm.State.CLOSED
    alarm.closed_at = now
    alarm.closed_by = user
    alarm.close_note = note[:500]
    if alarm.acknowledged_at is None:
        alarm.acknowledged_at, alarm.acknowledged_by = now, user
    alarm.save(
        update_fields=["state", "closed_at", "closed_by", "close_note", "acknowledged_at", "acknowledged_by"]
    )
    _event(alarm, AlarmEvent.Action.CLOSED, user, note, now)
    _audit(user, "close", alarm, before, note)
    # The engine's memory of the incident ends too, so the next occurrence opens a new alarm.
    state = EngineState.objects.select_for_update().filter(key=alarm.subject).first()
    if state is not None:
        sub = (state.data.get("r") or {}).get(str(alarm.rule_id))
        if sub and sub.get("o"):
            sub["o"] = 0
            state.save(update_fields=["data"])
    return alarm


@transaction.atomic
def alarm_note(*, user: User, alarm_id: int, note: str, now: datetime | None = None) -> Alarm:
    now = now or timezone.now()
    alarm, _viewer = _alarm_for(user, alarm_id, handle=True)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed.single(field="note", code=Code.NOTE_REQUIRED, message=_("Write a note."))
    _event(alarm, AlarmEvent.Action.NOTE, user, note, now)
    _audit(user, "note", alarm, alarm.state, note)
    return alarm


@transaction.atomic
def alarm_company_answer(
    *, user: User, alarm_id: int, kind: str, text: str, now: datetime | None = None
) -> AlarmEvent:
    """A platform's explanation or correction, on the alarm's record; staff are told."""
    now = now or timezone.now()
    viewer = access.viewer_for(user)
    found = Alarm.objects.select_for_update().filter(pk=alarm_id).first()
    if found is None or not viewer.is_company or found.company_id not in viewer.company_ids:
        raise PermissionDenied(Code.NOT_FOUND, _("No such alarm about your company."))
    alarm = found
    if kind not in (AlarmEvent.Action.EXPLANATION, AlarmEvent.Action.CORRECTION):
        raise ValidationFailed.single(
            field="kind", code=Code.ANSWER_KIND, message=_("An answer is an explanation or a correction.")
        )
    text = (text or "").strip()
    if not text:
        raise ValidationFailed.single(field="text", code=Code.NOTE_REQUIRED, message=_("Write the answer."))
    event = AlarmEvent.objects.create(
        alarm=alarm,
        action=kind,
        actor=user,
        actor_label=Actor.for_user(user).label,
        note=text[:2000],
        created_at=now,
    )
    users = _recipients(alarm.region_code or "000000", (access.TRANSPORT,), on_duty_only=False)
    if alarm.assigned_to_id:
        users = [alarm.assigned_to_id]
    AlarmNotification.objects.bulk_create(
        [
            AlarmNotification(
                recipient_id=uid,
                alarm=alarm,
                text=_("The company answered: ") + _notice_text(alarm),
                created_at=now,
            )
            for uid in users
        ]
    )
    record_audit(
        actor=Actor.for_user(user),
        action=f"alarms.company_{kind}",
        target_type="alarms.alarm",
        target_id=alarm.pk,
        reason=text[:500],
    )
    return event


def alarms_escalate(*, now: datetime | None = None) -> list[Alarm]:
    """High-severity alarms unacknowledged for ALARMS_ESCALATE_MINUTES: tell the province (and the
    whole city office, on duty or not); each alarm escalates once."""
    now = now or timezone.now()
    minutes = int(app_settings.ALARMS_ESCALATE_MINUTES)
    escalated: list[Alarm] = []
    with transaction.atomic():
        due = Alarm.objects.select_for_update(skip_locked=True).filter(
            state=Alarm.State.OPEN,
            severity__in=HIGH_SEVERITIES,
            escalated_at__isnull=True,
            raised_at__lte=now - timedelta(minutes=minutes),
        )
        for alarm in due:
            alarm.escalated_at = now
            alarm.save(update_fields=["escalated_at"])
            AlarmEvent.objects.create(
                alarm=alarm,
                action=AlarmEvent.Action.ESCALATED,
                actor_label="escalation",
                note=_("Not acknowledged within %(minutes)d minutes.") % {"minutes": minutes},
                created_at=now,
            )
            region = alarm.region_code or "000000"
            departments = (access.TRANSPORT, access.POLICE) if alarm.is_sos else (access.TRANSPORT,)
            city_staff = _recipients(region, departments, on_duty_only=False)
            province = list(
                StaffProfile.objects.filter(
                    department__in=departments,
                    level="province",
                    region_code=region[:2] + "0000",
                    user__is_active=True,
                ).values_list("user_id", flat=True)
            )
            text = _("Escalated, not acknowledged: ") + _notice_text(alarm)
            AlarmNotification.objects.bulk_create(
                [
                    AlarmNotification(recipient_id=uid, alarm=alarm, text=text[:300], created_at=now)
                    for uid in dict.fromkeys(city_staff + province)
                ]
            )
            escalated.append(alarm)
    return escalated


@transaction.atomic
def duty_set(*, user: User, on_duty: bool, now: datetime | None = None) -> None:
    access.viewer_for(user)
    now = now or timezone.now()
    DutyRoster.objects.update_or_create(user=user, defaults={"on_duty": on_duty, "updated_at": now})
    record_audit(
        actor=Actor.for_user(user),
        action="alarms.duty_on" if on_duty else "alarms.duty_off",
        target_type="alarms.duty",
        target_id=user.pk,
    )


def alarms_export_record(*, user: User, fmt: str, state: str, rows: int) -> None:
    """Record that ``user`` exported ``rows`` alarms (an export of personal-data-bearing lists is
    audited like any read of a case)."""
    record_audit(
        actor=Actor.for_user(user),
        action="alarms.export",
        target_type="alarms.alarm",
        after={"format": fmt, "state": state, "rows": rows},
    )


def notifications_mark_read(*, user: User, now: datetime | None = None) -> int:
    return AlarmNotification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
