"""Ministry pages for its two registers: the credit blacklist (list, add an entry with reason and
dates, lift it with a reason) and the qualified evaluation agencies (add, change the authorisation
period). Each posts a form and calls one service; the service checks that the user is ministry
staff (other staff see the page read-only, with no forms).
"""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.clock import today_in_china
from yunzheng.core.errors import DomainError
from yunzheng.core.forms import PostedAction, add_domain_error
from yunzheng.licensing import selectors, services
from yunzheng.licensing.models import Party
from yunzheng.licensing.register_forms import BlacklistEntryForm, BlacklistLiftForm, EvaluationAgencyForm


def _is_ministry(request: HttpRequest) -> bool:
    scope = selectors.scope_of(current_user(request))
    if scope is None or scope.department != "transport":
        raise Http404
    return selectors.staff_party(scope) == Party.MINISTRY


def _lift(_: None, user: Any, data: dict[str, Any]) -> object:
    entry = selectors.blacklist_entry(pk=data["entry_id"])
    if entry is None:
        raise Http404
    return services.blacklist_entry_lift(entry=entry, user=user, reason=data["reason"])


BLACKLIST_ACTIONS: dict[str, PostedAction] = {
    "add": PostedAction(
        BlacklistEntryForm,
        lambda _, user, data: services.blacklist_entry_record(
            company=data["credit_code"],
            user=user,
            reason=data["reason"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
        ),
        gettext_lazy("The entry was recorded."),
    ),
    "lift": PostedAction(BlacklistLiftForm, _lift, gettext_lazy("The entry was lifted.")),
}
"""The blacklist page's actions (``op=``, ``add`` when absent); each form is prefixed by its name."""


@staff_required
def staff_blacklist(request: HttpRequest) -> HttpResponse:
    is_ministry = _is_ministry(request)
    user = current_user(request)
    forms_shown: dict[str, django_forms.Form] = {
        "add": BlacklistEntryForm(prefix="add"),
        "lift": BlacklistLiftForm(prefix="lift"),
    }
    status = 200
    if request.method == "POST":
        name = request.POST.get("op") or "add"
        action = BLACKLIST_ACTIONS.get(name)
        if action is None:
            raise Http404
        form = action.bind(request.POST, prefix=name)
        forms_shown[name] = form
        if form.is_valid():
            try:
                done = action.call(None, user, form)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, done)
                return redirect("licensing:staff_blacklist")
        status = 422
    form, lift_form = forms_shown["add"], forms_shown["lift"]
    today = today_in_china()
    entries = selectors.blacklist_entries()
    return render(
        request,
        "licensing/staff_blacklist.html",
        {
            "entries": [{"e": e, "active": e.active_on(today)} for e in entries[:500]],
            "form": form,
            "lift_form": lift_form,
            "is_ministry": is_ministry,
        },
        status=status,
    )


@staff_required
def staff_agencies(request: HttpRequest) -> HttpResponse:
    is_ministry = _is_ministry(request)
    form = EvaluationAgencyForm()
    status = 200
    if request.method == "POST":
        form = EvaluationAgencyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.evaluation_agency_register(
                    user=current_user(request),
                    name=data["name"],
                    authorised_from=data["authorised_from"],
                    authorised_until=data["authorised_until"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("The register was updated."))
                return redirect("licensing:staff_agencies")
        status = 422
    today = today_in_china()
    return render(
        request,
        "licensing/staff_agencies.html",
        {
            "agencies": [
                {"a": a, "authorised": a.authorised_on(today)} for a in selectors.evaluation_agencies()
            ],
            "form": form,
            "is_ministry": is_ministry,
        },
        status=status,
    )
