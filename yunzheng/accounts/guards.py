"""Guards other apps put in front of their services and pages.

Until verified, a user can browse but not apply for any service:

    from yunzheng.accounts.guards import ensure_real_name_verified, real_name_required

    def case_apply(*, applicant: User, ...):      # a service (also behind APIs)
        ensure_real_name_verified(applicant)       # PermissionDenied, code "real_name.required"

    @real_name_required                            # a page: login, then real-name, then the view
    def apply_page(request): ...

Staff pages use `yunzheng.core.auth.staff_required` (password + verified TOTP device + a StaffProfile).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from yunzheng.accounts.error_codes import AccountsErrorCode
from yunzheng.core.errors import NotAuthenticated, PermissionDenied

View = TypeVar("View", bound=Callable[..., HttpResponse])


def ensure_real_name_verified(user: Any) -> None:
    """Raise unless `user` is logged in and real-name verified (for services and APIs)."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAuthenticated("not_authenticated", _("Please log in first."))
    if not getattr(user, "is_real_name_verified", False):
        raise PermissionDenied(
            AccountsErrorCode.REAL_NAME_REQUIRED,
            _("Complete real-name verification before applying for any service."),
        )


def real_name_required(view: View) -> View:
    """Page decorator: anonymous visitors go to the login page, unverified users to real-name
    verification (with a message and a way back), verified users through."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not getattr(request.user, "is_real_name_verified", False):
            messages.warning(request, _("Complete real-name verification before applying for any service."))
            target = reverse("accounts:realname")
            return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
