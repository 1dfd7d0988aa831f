"""JSON API of the alarms, mounted by config/api.py at /api/v1/supervision/alarms.

Who sees what is ``access.viewer_for``: transport staff of the region, public security (SOS only),
a company's members (their own alarms). Rules are written by transport staff of the region.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Schema, Status

from yunzheng.accounts.auth import user_auth
from yunzheng.alarms import access, selectors, services
from yunzheng.alarms.dryrun import DryRunResult, rule_dry_run
from yunzheng.alarms.engine import Signal
from yunzheng.alarms.error_codes import AlarmErrorCode as Code
from yunzheng.alarms.models import Alarm, AlarmEvent, AlarmRule
from yunzheng.core.auth import current_user
from yunzheng.core.clock import CHINA, today_in_china
from yunzheng.core.errors import NotFound, ValidationFailed

router = Router(tags=["alarms"])


def _viewer(request: HttpRequest) -> access.AlarmViewer:
    return access.viewer_for(current_user(request))


class AlarmQuery(Schema):
    state: str = "open"
    severity: str = ""
    kind: str = ""
    limit: int = 200


class AlarmOut(Schema):
    id: int
    kind: str
    rule: str
    severity: str
    is_sos: bool
    state: str
    company: str | None
    company_id: str | None
    region_code: str
    vehicle_no: str
    driver: str
    order_id: str
    detail: str
    opened_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    evidence_url: str

    @staticmethod
    def resolve_rule(alarm: Alarm) -> str:
        return alarm.rule.name

    @staticmethod
    def resolve_company(alarm: Alarm) -> str | None:
        return alarm.company.name if alarm.company else None

    @staticmethod
    def resolve_company_id(alarm: Alarm) -> str | None:
        return alarm.company.supervision_company_id if alarm.company else None

    @staticmethod
    def resolve_driver(alarm: Alarm) -> str:
        return alarm.driver_display

    @staticmethod
    def resolve_evidence_url(alarm: Alarm, context: dict[str, Any]) -> str:
        # Staff see the evidence on the desk's alarm page, a company's members on theirs
        # (`access.viewer_for` tells them apart by the staff profile in the same way).
        staff = access.staff_profile_of(current_user(context["request"])) is not None
        return reverse("alarms:detail" if staff else "alarms:company_detail", args=[alarm.pk])


@router.get("", response=list[AlarmOut], auth=user_auth, summary="Alarms the caller may see")
def list_alarms(request: HttpRequest, query: Query[AlarmQuery]) -> list[Alarm]:
    """`state` = open (not closed), unacknowledged, acknowledged, closed or all."""
    viewer = _viewer(request)
    if query.state not in selectors.STATE_FILTERS:
        raise ValidationFailed.single(
            field="state",
            code=Code.STATE_FILTER,
            message=f"state is one of {', '.join(selectors.STATE_FILTERS)}",
        )
    qs = selectors.alarms_for(viewer, state=query.state, severity=query.severity, kind=query.kind)
    return list(qs[: max(1, min(query.limit, 1000))])


class CountsOut(Schema):
    total: int
    unacknowledged: int
    sos: int
    by_severity: dict[str, int]

    @staticmethod
    def resolve_by_severity(counts: selectors.DeskCounts) -> dict[str, int]:
        return {value: count for value, _label, count in counts.by_severity}


@router.get(
    "/counts",
    response=CountsOut,
    auth=user_auth,
    url_name="alarm_counts",
    summary="Open alarms by severity (the desk polls it)",
)
def counts(request: HttpRequest) -> selectors.DeskCounts:
    return selectors.desk_counts(_viewer(request))


class NoteIn(Schema):
    note: str = ""


class AssignIn(Schema):
    assignee: int
    note: str = ""


class AnswerIn(Schema):
    kind: str
    text: str


@router.post("/{alarm_id}/acknowledge", response=AlarmOut, auth=user_auth)
def acknowledge(request: HttpRequest, alarm_id: int, payload: NoteIn) -> Alarm:
    return services.alarm_acknowledge(user=current_user(request), alarm_id=alarm_id, note=payload.note)


@router.post("/{alarm_id}/assign", response=AlarmOut, auth=user_auth)
def assign(request: HttpRequest, alarm_id: int, payload: AssignIn) -> Alarm:
    return services.alarm_assign(
        user=current_user(request),
        alarm_id=alarm_id,
        assignee_id=payload.assignee,
        note=payload.note,
    )


@router.post("/{alarm_id}/close", response=AlarmOut, auth=user_auth)
def close(request: HttpRequest, alarm_id: int, payload: NoteIn) -> Alarm:
    return services.alarm_close(user=current_user(request), alarm_id=alarm_id, note=payload.note)


class AnswerOut(Schema):
    id: int
    kind: str
    created_at: datetime

    @staticmethod
    def resolve_kind(event: AlarmEvent) -> str:
        return event.action


@router.post(
    "/{alarm_id}/answer", response=AnswerOut, auth=user_auth, summary="A company's explanation or correction"
)
def answer(request: HttpRequest, alarm_id: int, payload: AnswerIn) -> AlarmEvent:
    return services.alarm_company_answer(
        user=current_user(request),
        alarm_id=alarm_id,
        kind=payload.kind,
        text=payload.text,
    )


# --- rules ------------------------------------------------------------------------------------


class RuleIn(Schema):
    name: str
    region_code: str = ""
    kind: str
    severity: str = "medium"
    schedule: dict[str, Any] = {}
    params: dict[str, Any] = {}
    enabled: bool | None = None  # create: off unless true; update: unchanged unless given
    note: str = ""


class RuleOut(Schema):
    id: int
    name: str
    region_code: str
    kind: str
    severity: str
    schedule: dict[str, Any]
    params: dict[str, Any]
    enabled: bool
    version: int
    updated_at: datetime


class EnableIn(Schema):
    enabled: bool
    note: str = ""


class DryRunIn(Schema):
    day: date | None = None


@router.get("/rules", response=list[RuleOut], auth=user_auth, summary="Alarm rules of the caller's region")
def list_rules(request: HttpRequest) -> list[AlarmRule]:
    return list(selectors.rules_for(current_user(request)))


@router.post("/rules", response={201: RuleOut}, auth=user_auth, summary="Create a rule (version 1)")
def create_rule(request: HttpRequest, payload: RuleIn) -> Status:
    fields = payload.dict()
    fields["enabled"] = bool(fields["enabled"])
    rule = services.rule_create(user=current_user(request), **fields)
    return Status(201, rule)


@router.put("/rules/{rule_id}", response=RuleOut, auth=user_auth, summary="Change a rule (a new version)")
def update_rule(request: HttpRequest, rule_id: int, payload: RuleIn) -> AlarmRule:
    return services.rule_update(user=current_user(request), rule_id=rule_id, **payload.dict())


@router.post("/rules/{rule_id}/enabled", response=RuleOut, auth=user_auth, summary="Switch a rule on or off")
def enable_rule(request: HttpRequest, rule_id: int, payload: EnableIn) -> AlarmRule:
    return services.rule_set_enabled(
        user=current_user(request),
        rule_id=rule_id,
        enabled=payload.enabled,
        note=payload.note,
    )


class WouldOpenOut(Schema):
    subject: str
    company: int
    vehicle_no: str
    driver: str
    order_id: str
    at: str
    detail: str

    @staticmethod
    def resolve_company(signal: Signal) -> int:
        return signal.company_pk

    @staticmethod
    def resolve_driver(signal: Signal) -> str:
        return signal.driver_display

    @staticmethod
    def resolve_at(signal: Signal) -> str:
        return datetime.fromtimestamp(signal.at, CHINA).isoformat()


class DryRunOut(Schema):
    day: date
    records: int
    truncated: bool
    would_open: list[WouldOpenOut]


@router.post(
    "/rules/{rule_id}/dry-run",
    response=DryRunOut,
    auth=user_auth,
    summary="What the rule would have raised on a day",
)
def dry_run(request: HttpRequest, rule_id: int, payload: DryRunIn) -> DryRunResult:
    """Default day: yesterday (Beijing)."""
    rule = selectors.rule_for(current_user(request), rule_id)
    if rule is None:
        raise NotFound(Code.NOT_FOUND, "No such rule in your region.")
    day = payload.day or (today_in_china() - timedelta(days=1))
    return rule_dry_run(
        kind=rule.kind,
        region_code=rule.region_code,
        params=rule.params,
        schedule=rule.schedule,
        severity=rule.severity,
        day=day,
    )
