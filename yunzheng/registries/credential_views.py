"""Staff page of the registry-feed credentials of provincial systems (`yzr_<key id>_<secret>`):
list the region's credentials, issue one (the token is shown once, on the answer to the POST, and
never stored), revoke one after a confirmation page. The services (accounts.credentials) check
`registry.credential.manage` and the region and write the audit entries."""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from yunzheng.accounts.credentials import (
    registry_credential_issue,
    registry_credential_revoke,
    registry_credentials_for,
)
from yunzheng.accounts.models import RegistryCredential
from yunzheng.accounts.permissions import authorize
from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.errors import DomainError, NotFound
from yunzheng.core.forms import PostedAction, add_domain_error
from yunzheng.core.regions import Region, cities, provinces
from yunzheng.registries.forms import CredentialIssueForm, CredentialRevokeForm

MANAGE = "registry.credential.manage"


def credential_regions(prefix: str) -> list[Region]:
    """The regions a staff member of `prefix` may issue for: their province(s) and its cities
    (a municipality once, under its province-level code), from the GB/T 2260 list."""
    listed: dict[str, Region] = {}
    for province in provinces(prefix):
        listed[province.code] = province
        for city in cities(province.code[:2], municipalities_as_province=True):
            listed.setdefault(city.code, city)
    return [r for code, r in sorted(listed.items()) if code.startswith(prefix)]


def _region_labels(regions: list[Region]) -> dict[str, str]:
    return {r.code: r.label for r in regions}


def _rows(credentials: list[RegistryCredential], labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "credential": c,
            "region": labels.get(c.region_code, c.region_code),
        }
        for c in credentials
    ]


ACTIONS: dict[str, PostedAction] = {
    "issue": PostedAction(
        CredentialIssueForm,
        lambda _, user, data: (
            registry_credential_issue(user=user, name=data["name"], region_code=data["region_code"]).token
        ),
    ),
}
"""The list page's actions (``action=``); issuing answers with the token, shown once."""


@never_cache  # the answer to an issue holds the token: no cache may keep it
@staff_required
@require_http_methods(["GET", "POST"])
def credentials(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    scope = authorize(user, MANAGE)  # PermissionDenied (403) for anyone else
    regions = credential_regions(scope.region_prefix)
    form: django_forms.Form = CredentialIssueForm(regions=regions)
    token = ""
    status = 200
    if request.method == "POST":
        chosen = ACTIONS.get(request.POST.get("action", ""))
        if chosen is None:
            return HttpResponseBadRequest(_("Unknown action."))
        form = chosen.bind(request.POST, regions=regions)
        if form.is_valid():
            try:
                token = str(chosen.run(None, user, form.cleaned_data))
            except DomainError as error:
                add_domain_error(form, error)
        if token:
            form = CredentialIssueForm(regions=regions)
        else:
            status = 422
    labels = _region_labels(regions)
    return render(
        request,
        "registries/credentials.html",
        {
            "rows": _rows(registry_credentials_for(user), labels),
            "form": form,
            "token": token,
        },
        status=status,
    )


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def credential_revoke(request: HttpRequest, key_id: str) -> HttpResponse:
    """Revoking is final: a confirmation page, then the service."""
    user = current_user(request)
    scope = authorize(user, MANAGE)
    credential = next((c for c in registry_credentials_for(user) if c.key_id == key_id), None)
    if credential is None:
        raise NotFound("credential.not_found", _("No such credential."))
    form = CredentialRevokeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and credential.revoked_at is None and form.is_valid():
        try:
            registry_credential_revoke(user=user, key_id=credential.key_id)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("The credential is revoked; its token is refused from now on."))
            return redirect("registries:credentials")
    labels = _region_labels(credential_regions(scope.region_prefix))
    return render(
        request,
        "registries/credential_revoke.html",
        {"credential": credential, "region": labels.get(credential.region_code, credential.region_code),
         "form": form},
        status=422 if form.errors else 200,
    )  # fmt: skip
