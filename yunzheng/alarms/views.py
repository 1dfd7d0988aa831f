"""The alarm desk (staff), the rules pages (transport staff) and the company view (platforms).

Like api.py: validate (forms), call a selector or a service, render. Visibility is decided by
``access.viewer_for`` for every page; personal data appears masked only.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yunzheng.alarms import access, exports, selectors, services
from yunzheng.alarms.dryrun import rule_dry_run
from yunzheng.alarms.error_codes import AlarmErrorCode
from yunzheng.alarms.forms import AnswerForm, AssignForm, DutyForm, NoteForm, RuleEnabledForm, RuleForm
from yunzheng.alarms.kinds import default_params
from yunzheng.alarms.models import Alarm, AlarmEvent, RuleKind, Severity
from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.clock import CHINA, today_in_china
from yunzheng.core.errors import DomainError
from yunzheng.core.forms import PostedAction, add_domain_error, message_domain_error, posted_action
from yunzheng.core.http import file_response


def _viewer(request: HttpRequest) -> access.AlarmViewer:
    try:
        return access.viewer_for(current_user(request))
    except DomainError as exc:
        raise DjangoPermissionDenied(exc.message) from exc


def _track(alarm: Alarm) -> dict[str, Any]:
    points = [[p[0] / 1e6, p[1] / 1e6] for p in alarm.track]
    for item in alarm.evidence:
        if "Longitude" in item and "Latitude" in item and not alarm.track:
            points.append([item["Longitude"] / 1e6, item["Latitude"] / 1e6])
    return {"points": points, "label": alarm.vehicle_no or alarm.subject}


def _evidence(alarm: Alarm) -> list[dict[str, Any]]:
    """The evidence records as shown: coordinates (the interface's integer micro-degrees) in
    degrees, e.g. 120.153576°; other fields as they came."""
    rows = []
    for item in alarm.evidence:
        fields = []
        for key, value in item.items():
            if key == "interface":
                continue
            if key.endswith(("Longitude", "Latitude")) and isinstance(value, int):
                value = f"{value / 1e6:.6f}°"
            fields.append((key, value))
        rows.append({"interface": item.get("interface", ""), "fields": fields})
    return rows


@staff_required
@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    state = request.GET.get("state", "open")
    severity = request.GET.get("severity", "")
    kind = request.GET.get("kind", "")
    alarms = selectors.alarms_for(viewer, state=state, severity=severity, kind=kind)[:300]
    return render(
        request,
        "alarms/desk.html",
        {
            "viewer": viewer,
            "scope": viewer.scope,
            "counts": selectors.desk_counts(viewer),
            "alarms": alarms,
            "state": state,
            "severity": severity,
            "kind": kind,
            "severities": Severity.choices,
            "kinds": RuleKind.choices,
            "on_duty": selectors.on_duty(current_user(request)),
            "notifications": selectors.unread_notifications(current_user(request)),
        },
    )


@staff_required
@require_GET
def detail(request: HttpRequest, alarm_id: int) -> HttpResponse:
    viewer = _viewer(request)
    alarm = selectors.alarm_detail(viewer, alarm_id)
    if alarm is None:
        raise Http404(_("No such alarm in your region."))
    return render(
        request,
        "alarms/detail.html",
        {
            "alarm": alarm,
            "viewer": viewer,
            "events": alarm.events.select_related("actor"),
            "track": _track(alarm),
            "evidence": _evidence(alarm),
            "staff": selectors.assignable_staff(alarm) if viewer.is_transport else [],
            "may_handle": viewer.may_handle(alarm),
        },
    )


ALARM_ACTIONS: dict[str, PostedAction] = {
    "acknowledge": PostedAction(
        NoteForm,
        lambda alarm_id, user, data: services.alarm_acknowledge(
            user=user, alarm_id=alarm_id, note=data["note"]
        ),
        gettext_lazy("Acknowledged."),
    ),
    "assign": PostedAction(
        AssignForm,
        lambda alarm_id, user, data: services.alarm_assign(
            user=user, alarm_id=alarm_id, assignee_id=data["assignee"] or 0, note=data["note"]
        ),
        gettext_lazy("Assigned."),
    ),
    "close": PostedAction(
        NoteForm,
        lambda alarm_id, user, data: services.alarm_close(user=user, alarm_id=alarm_id, note=data["note"]),
        gettext_lazy("Closed."),
    ),
    "note": PostedAction(
        NoteForm,
        lambda alarm_id, user, data: services.alarm_note(user=user, alarm_id=alarm_id, note=data["note"]),
        gettext_lazy("Note added."),
    ),
}
"""Each action the alarm page posts (``action=``): its form and its one service."""


@staff_required
@require_POST
def act(request: HttpRequest, alarm_id: int) -> HttpResponse:
    try:
        done = posted_action(ALARM_ACTIONS, request.POST).perform(
            request.POST, alarm_id, current_user(request), code=AlarmErrorCode.ACTION_INVALID
        )
    except DomainError as exc:
        message_domain_error(request, exc)
    else:
        messages.success(request, done)
    return HttpResponseRedirect(reverse("alarms:detail", args=[alarm_id]))


@staff_required
@require_POST
def duty(request: HttpRequest) -> HttpResponse:
    form = DutyForm(request.POST)
    form.is_valid()  # every field is optional: the form only normalises them
    try:
        if form.cleaned_data["on_duty"] is not None:
            services.duty_set(user=current_user(request), on_duty=form.cleaned_data["on_duty"] == "1")
        if form.cleaned_data["read"]:
            services.notifications_mark_read(user=current_user(request))
    except DomainError as exc:
        message_domain_error(request, exc)
    return HttpResponseRedirect(reverse("alarms:desk"))


@staff_required
@require_GET
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    viewer = _viewer(request)
    state = request.GET.get("state", "open")
    alarms = list(selectors.alarms_for(viewer, state=state)[:20000])
    services.alarms_export_record(user=current_user(request), fmt=fmt, state=state, rows=len(alarms))
    stamp = timezone.now().astimezone(CHINA).strftime("%Y%m%d-%H%M")
    filename = f"alarms-{stamp}.{fmt}"
    if fmt == "csv":
        return file_response(
            exports.alarms_csv(alarms), content_type="text/csv; charset=utf-8", filename=filename
        )
    return file_response(
        exports.alarms_xlsx(alarms),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=filename,
    )


# --- rules --------------------------------------------------------------------------------------


def _rules_user(request: HttpRequest) -> None:
    try:
        access.rule_scope_for(current_user(request))
    except DomainError as exc:
        raise DjangoPermissionDenied(exc.message) from exc


@staff_required
@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    _rules_user(request)
    return render(request, "alarms/rules.html", {"rules": selectors.rules_for(current_user(request))})


@staff_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    _rules_user(request)
    user = current_user(request)
    rule = selectors.rule_for(user, rule_id) if rule_id else None
    if rule_id and rule is None:
        raise Http404(_("No such rule in your region."))
    dry_run = None
    regions = {
        "region_prefix": access.rule_scope_for(user).region_prefix,
        "current_region": rule.region_code if rule else "",
    }
    if request.method == "POST":
        form = RuleForm(request.POST, **regions)
        if form.is_valid():
            data = form.cleaned_data
            fields = {
                "name": data["name"],
                "region_code": data["region_code"] or "",
                "kind": data["kind"],
                "severity": data["severity"],
                "schedule": data["schedule"],
                "params": data["params"],
                "note": data["note"],
            }
            try:
                if request.POST.get("dry_run"):
                    day = today_in_china() - timedelta(days=1)
                    dry_run = rule_dry_run(
                        kind=fields["kind"],
                        region_code=fields["region_code"],
                        params=fields["params"],
                        schedule=fields["schedule"],
                        severity=fields["severity"],
                        day=day,
                    )
                else:
                    if rule is None:
                        rule = services.rule_create(user=user, **fields)
                    else:
                        rule = services.rule_update(user=user, rule_id=rule.pk, **fields)
                    messages.success(request, _("Saved as version %(v)d.") % {"v": rule.version})
                    return HttpResponseRedirect(reverse("alarms:rule_edit", args=[rule.pk]))
            except DomainError as exc:
                add_domain_error(form, exc)
    elif rule is not None:
        form = RuleForm(
            **regions,
            initial={
                "name": rule.name,
                "region_code": rule.region_code,
                "kind": rule.kind,
                "severity": rule.severity,
                "params": rule.params,
                "schedule": rule.schedule,
            },
        )
    else:
        kind = request.GET.get("kind") or RuleKind.WARN_STATUS
        kind = kind if kind in RuleKind.values else RuleKind.WARN_STATUS
        scope = access.rule_scope_for(user)
        form = RuleForm(
            **regions,
            initial={
                "kind": kind,
                "params": default_params(kind),
                "schedule": {},
                "region_code": scope.region_code,
            },
        )
    return render(
        request,
        "alarms/rule_edit.html",
        {
            "form": form,
            "rule": rule,
            "versions": selectors.rule_versions(rule) if rule else [],
            "dry_run": dry_run,
            "kind_defaults": [
                (value, label, json.dumps(default_params(value))) for value, label in RuleKind.choices
            ],
        },
    )


@staff_required
@require_POST
def rule_enabled(request: HttpRequest, rule_id: int) -> HttpResponse:
    form = RuleEnabledForm(request.POST)
    form.is_valid()  # every field is optional: the form only normalises them
    try:
        services.rule_set_enabled(
            user=current_user(request),
            rule_id=rule_id,
            enabled=form.cleaned_data["enabled"],
            note=form.cleaned_data["note"],
        )
    except DomainError as exc:
        message_domain_error(request, exc)
    return HttpResponseRedirect(reverse("alarms:rule_edit", args=[rule_id]))


# --- company view ------------------------------------------------------------------------------


@login_required
@require_GET
def company_list(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    if not viewer.is_company:
        return HttpResponseRedirect(reverse("alarms:desk"))
    state = request.GET.get("state", "open")
    alarms = selectors.alarms_for(viewer, state=state)[:300]
    return render(request, "alarms/company_list.html", {"alarms": alarms, "state": state})


@login_required
@require_http_methods(["GET", "POST"])
def company_detail(request: HttpRequest, alarm_id: int) -> HttpResponse:
    viewer = _viewer(request)
    if not viewer.is_company:
        raise DjangoPermissionDenied
    alarm = selectors.alarm_detail(viewer, alarm_id)
    if alarm is None:
        raise Http404(_("No such alarm about your company."))
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.alarm_company_answer(
                user=current_user(request),
                alarm_id=alarm.pk,
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
            )
            messages.success(request, _("Your answer is on record."))
            return HttpResponseRedirect(reverse("alarms:company_detail", args=[alarm.pk]))
        except DomainError as exc:
            add_domain_error(form, exc)
    return render(
        request,
        "alarms/company_detail.html",
        {
            "alarm": alarm,
            "events": alarm.events.select_related("actor"),
            "form": form,
            "track": _track(alarm),
            "evidence": _evidence(alarm),
            "answer_actions": (AlarmEvent.Action.EXPLANATION, AlarmEvent.Action.CORRECTION),
        },
    )
