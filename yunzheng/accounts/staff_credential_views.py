"""Staff credential pages: enrol an authenticator or reset a password with an administrator's
one-time link, and change one's password. No command line is needed for any of them."""

from __future__ import annotations

import base64

import segno
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from yunzheng.accounts import selectors, services
from yunzheng.accounts.auth import client_ip
from yunzheng.accounts.forms import (
    CurrentPasswordForm,
    NewPasswordForm,
    OtpForm,
    PasswordChangeForm,
)
from yunzheng.core.auth import current_staff, staff_required
from yunzheng.core.errors import DomainError, NotFound
from yunzheng.core.forms import add_domain_error

ENROL_DEVICE = "accounts_staff_enrol_device"


def _link_or_404(token: str, purpose: str) -> None:
    try:
        services.staff_credential_link_find(token=token, purpose=purpose)
    except NotFound as error:
        raise Http404(error.message) from None


@never_cache
@require_http_methods(["GET", "POST"])
def staff_enrol(request: HttpRequest, token: str) -> HttpResponse:
    """Step 1: the account's password; step 2: scan the QR code and enter the first code."""
    _link_or_404(token, "enrol")
    device_id = request.session.get(ENROL_DEVICE)
    device = selectors.unconfirmed_device(device_id=device_id) if device_id else None
    password_form = CurrentPasswordForm(request.POST if request.POST.get("step") == "password" else None)
    code_form = OtpForm(request.POST if request.POST.get("step") == "code" else None)
    if request.method == "POST" and request.POST.get("step") == "password" and password_form.is_valid():
        try:
            device = services.staff_enrolment_start(
                request=request,
                token=token,
                password=password_form.cleaned_data["password"],
                client_ip=client_ip(request),
            )
        except DomainError as error:
            add_domain_error(password_form, error)
        else:
            request.session[ENROL_DEVICE] = device.pk
            return redirect("accounts:staff_enrol", token=token)
    if request.method == "POST" and request.POST.get("step") == "code" and device and code_form.is_valid():
        try:
            services.staff_enrolment_finish(
                token=token,
                device_id=device.pk,
                code=code_form.cleaned_data["token"],
                client_ip=client_ip(request),
            )
        except DomainError as error:
            add_domain_error(code_form, error)
        else:
            request.session.pop(ENROL_DEVICE, None)
            messages.success(request, _("Your authenticator is set up. Log in with it now."))
            return redirect("accounts:staff_login")
    context = {"password_form": password_form, "code_form": code_form, "device": device}
    if device is not None:
        context["qr_svg"] = segno.make(device.config_url, error="m").svg_inline(scale=5)
        context["secret"] = base64.b32encode(device.bin_key).decode("ascii")
    return render(request, "accounts/staff_enrol.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def staff_password_reset(request: HttpRequest, token: str) -> HttpResponse:
    _link_or_404(token, "password_reset")
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_password_reset(
                token=token,
                new_password=form.cleaned_data["new_password1"],
                repeat=form.cleaned_data["new_password2"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Your password is set. Log in with it now."))
            return redirect("accounts:staff_login")
    return render(request, "accounts/staff_password.html", {"form": form, "title": _("Set a new password")})


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def staff_password_change(request: HttpRequest) -> HttpResponse:
    user = current_staff(request)
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_password_change(
                user=user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
                repeat=form.cleaned_data["new_password2"],
                client_ip=client_ip(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password was changed."))
            return redirect("accounts:staff_home")
    return render(request, "accounts/staff_password.html", {"form": form, "title": _("Change your password")})


@staff_required
def staff_permissions(request: HttpRequest) -> HttpResponse:
    """The permission table, for administrators (`permissions.view`)."""
    from yunzheng.accounts.models import StaffProfile
    from yunzheng.accounts.permissions import PERMISSIONS, REGION_RULES, authorize

    try:
        authorize(current_staff(request), "permissions.view")
    except DomainError as error:
        raise DjangoPermissionDenied(error.message) from None
    columns = [(d, lv) for d in StaffProfile.Department for lv in StaffProfile.Level]
    rows = [
        {
            "permission": p,
            "region_rule": REGION_RULES[p.region],
            "cells": [d.value in p.departments and lv.value in p.levels for d, lv in columns],
        }
        for p in PERMISSIONS
    ]
    return render(request, "accounts/staff_permissions.html", {"rows": rows, "columns": columns})
