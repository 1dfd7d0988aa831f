"""Reads for the desk, the company view, the API and exports; visibility through ``access``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from yunzheng.accounts.models import StaffProfile, User
from yunzheng.alarms import access
from yunzheng.alarms.models import (
    SEVERITY_ORDER,
    Alarm,
    AlarmNotification,
    AlarmRule,
    AlarmRuleVersion,
    DutyRoster,
    Severity,
)

STATE_FILTERS = {
    "open": (Alarm.State.OPEN, Alarm.State.ACKNOWLEDGED),  # not closed: what the desk works on
    "unacknowledged": (Alarm.State.OPEN,),
    "acknowledged": (Alarm.State.ACKNOWLEDGED,),
    "closed": (Alarm.State.CLOSED,),
    "all": (Alarm.State.OPEN, Alarm.State.ACKNOWLEDGED, Alarm.State.CLOSED),
}


def alarms_for(
    viewer: access.AlarmViewer,
    *,
    state: str = "open",
    severity: str = "",
    kind: str = "",
    company_id: int | None = None,
) -> QuerySet[Alarm]:
    qs = viewer.alarms().filter(state__in=STATE_FILTERS.get(state, STATE_FILTERS["open"]))
    if severity:
        qs = qs.filter(severity=severity)
    if kind:
        qs = qs.filter(kind=kind)
    if company_id:
        qs = qs.filter(company_id=company_id)
    return qs.select_related("company", "rule", "assigned_to").order_by("-opened_at", "-id")


@dataclass
class DeskCounts:
    total: int
    unacknowledged: int
    sos: int
    by_severity: list[tuple[str, str, int]]  # (value, label, count), most severe first


def desk_counts(viewer: access.AlarmViewer) -> DeskCounts:
    open_qs = viewer.alarms().filter(state__in=STATE_FILTERS["open"])
    rows = dict(open_qs.values_list("severity").annotate(n=Count("id")).values_list("severity", "n"))
    unack = open_qs.filter(state=Alarm.State.OPEN).count()
    sos = open_qs.filter(is_sos=True).count()
    by = [
        (s.value, str(s.label), rows.get(s.value, 0))
        for s in sorted(Severity, key=lambda s: SEVERITY_ORDER[s])
    ]
    return DeskCounts(total=sum(rows.values()), unacknowledged=unack, sos=sos, by_severity=by)


def alarm_detail(viewer: access.AlarmViewer, alarm_id: int) -> Alarm | None:
    return (
        viewer.alarms()
        .select_related("company", "rule", "assigned_to", "acknowledged_by", "closed_by")
        .filter(pk=alarm_id)
        .first()
    )


def assignable_staff(alarm: Alarm) -> list[User]:
    ids = StaffProfile.objects.filter(
        access.staff_covering(alarm.region_code or "000000", (access.TRANSPORT,)), user__is_active=True
    ).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=ids).order_by("username"))


def unread_notifications(user: User, limit: int = 20) -> list[AlarmNotification]:
    return list(
        AlarmNotification.objects.filter(recipient=user, read_at__isnull=True).select_related("alarm")[:limit]
    )


def on_duty(user: User) -> bool:
    """Staff are on duty unless they said otherwise (see services.duty_set)."""
    found = DutyRoster.objects.filter(user=user).values_list("on_duty", flat=True).first()
    return True if found is None else bool(found)


def rules_for(user: User) -> QuerySet[AlarmRule]:
    scope = access.rule_scope_for(user)
    qs = AlarmRule.objects.all()
    if scope.region_prefix:
        qs = qs.filter(region_code__startswith=scope.region_prefix)
    return qs.order_by("region_code", "kind", "id")


def rule_for(user: User, rule_id: int) -> AlarmRule | None:
    return rules_for(user).filter(pk=rule_id).first()


def rule_versions(rule: AlarmRule) -> QuerySet[AlarmRuleVersion]:
    return rule.versions.select_related("created_by").order_by("-version")
