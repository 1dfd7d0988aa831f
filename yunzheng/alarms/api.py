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
from yunzheng.alarms.dryrun import rule_dry_run
from yunzheng.alarms.error_codes import AlarmErrorCode as Code
from yunzheng.alarms.models import Alarm, AlarmRule
from yunzheng.core.auth import current_user
from yunzheng.core.clock import today_in_china
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


def _out(alarm: Alarm, *, company_view: bool) -> dict[str, Any]:
    name = "alarms:company_detail" if company_view else "alarms:detail"
    return {
        "id": alarm.pk,
        "kind": alarm.kind,
        "rule": alarm.rule.name,
        "severity": alarm.severity,
        "is_sos": alarm.is_sos,
        "state": alarm.state,
        "company": alarm.company.name if alarm.company else None,
        "company_id": alarm.company.supervision_company_id if alarm.company else None,
        "region_code": alarm.region_code,
        "vehicle_no": alarm.vehicle_no,
        "driver": alarm.driver_display,
        "order_id": alarm.order_id,
        "detail": alarm.detail,
        "opened_at": alarm.opened_at,
        "acknowledged_at": alarm.acknowledged_at,
        "closed_at": alarm.closed_at,
        "evidence_url": reverse(name, args=[alarm.pk]),
    }


@router.get("", response=list[AlarmOut], auth=user_auth, summary="Alarms the caller may see")
def list_alarms(request: HttpRequest, query: Query[AlarmQuery]) -> list[dict[str, Any]]:
    """`state` = open (not closed), unacknowledged, acknowledged, closed or all."""
    viewer = _viewer(request)
    if query.state not in selectors.STATE_FILTERS:
        raise ValidationFailed.single(
            field="state",
            code=Code.STATE_FILTER,
            message=f"state is one of {', '.join(selectors.STATE_FILTERS)}",
        )
    qs = selectors.alarms_for(viewer, state=query.state, severity=query.severity, kind=query.kind)
    return [_out(a, company_view=viewer.is_company) for a in qs[: max(1, min(query.limit, 1000))]]


class CountsOut(Schema):
    total: int
    unacknowledged: int
    sos: int
    by_severity: dict[str, int]


@router.get(
    "/counts",
    response=CountsOut,
    auth=user_auth,
    url_name="alarm_counts",
    summary="Open alarms by severity (the desk polls it)",
)
def counts(request: HttpRequest) -> dict[str, Any]:
    return selectors.desk_counts(_viewer(request)).as_dict()


class NoteIn(Schema):
    note: str = ""


class AssignIn(Schema):
    assignee: int
    note: str = ""


class AnswerIn(Schema):
    kind: str
    text: str


@router.post("/{alarm_id}/acknowledge", response=AlarmOut, auth=user_auth)
def acknowledge(request: HttpRequest, alarm_id: int, payload: NoteIn) -> dict[str, Any]:
    alarm = services.alarm_acknowledge(user=current_user(request), alarm_id=alarm_id, note=payload.note)
    return _out(alarm, company_view=False)


@router.post("/{alarm_id}/assign", response=AlarmOut, auth=user_auth)
def assign(request: HttpRequest, alarm_id: int, payload: AssignIn) -> dict[str, Any]:
    alarm = services.alarm_assign(
        user=current_user(request),
        alarm_id=alarm_id,
        assignee_id=payload.assignee,
        note=payload.note,
    )
    return _out(alarm, company_view=False)


@router.post("/{alarm_id}/close", response=AlarmOut, auth=user_auth)
def close(request: HttpRequest, alarm_id: int, payload: NoteIn) -> dict[str, Any]:
    alarm = services.alarm_close(user=current_user(request), alarm_id=alarm_id, note=payload.note)
    return _out(alarm, company_view=False)


@router.post("/{alarm_id}/answer", auth=user_auth, summary="A company's explanation or correction")
def answer(request: HttpRequest, alarm_id: int, payload: AnswerIn) -> dict[str, Any]:
    event = services.alarm_company_answer(
        user=current_user(request),
        alarm_id=alarm_id,
        kind=payload.kind,
        text=payload.text,
    )
    return {"id": event.pk, "kind": event.action, "created_at": event.created_at}


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


def _rule_out(rule: AlarmRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "region_code": rule.region_code,
        "kind": rule.kind,
        "severity": rule.severity,
        "schedule": rule.schedule,
        "params": rule.params,
        "enabled": rule.enabled,
        "version": rule.version,
        "updated_at": rule.updated_at,
    }


@router.get("/rules", response=list[RuleOut], auth=user_auth, summary="Alarm rules of the caller's region")
def list_rules(request: HttpRequest) -> list[dict[str, Any]]:
    return [_rule_out(r) for r in selectors.rules_for(current_user(request))]


@router.post("/rules", response={201: RuleOut}, auth=user_auth, summary="Create a rule (version 1)")
def create_rule(request: HttpRequest, payload: RuleIn) -> Status:
    fields = payload.dict()
    fields["enabled"] = bool(fields["enabled"])
    rule = services.rule_create(user=current_user(request), **fields)
    return Status(201, _rule_out(rule))


@router.put("/rules/{rule_id}", response=RuleOut, auth=user_auth, summary="Change a rule (a new version)")
def update_rule(request: HttpRequest, rule_id: int, payload: RuleIn) -> dict[str, Any]:
    rule = services.rule_update(user=current_user(request), rule_id=rule_id, **payload.dict())
    return _rule_out(rule)


@router.post("/rules/{rule_id}/enabled", response=RuleOut, auth=user_auth, summary="Switch a rule on or off")
def enable_rule(request: HttpRequest, rule_id: int, payload: EnableIn) -> dict[str, Any]:
    rule = services.rule_set_enabled(
        user=current_user(request),
        rule_id=rule_id,
        enabled=payload.enabled,
        note=payload.note,
    )
    return _rule_out(rule)


@router.post("/rules/{rule_id}/dry-run", auth=user_auth, summary="What the rule would have raised on a day")
def dry_run(request: HttpRequest, rule_id: int, payload: DryRunIn) -> dict[str, Any]:
    """Default day: yesterday (Beijing)."""
    rule = selectors.rule_for(current_user(request), rule_id)
    if rule is None:
        raise NotFound(Code.NOT_FOUND, "No such rule in your region.")
    day = payload.day or (today_in_china() - timedelta(days=1))
    result = rule_dry_run(
        kind=rule.kind,
        region_code=rule.region_code,
        params=rule.params,
        schedule=rule.schedule,
        severity=rule.severity,
        day=day,
    )
    return result.as_dict()
