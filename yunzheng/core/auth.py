"""Who is calling: the one staff check for pages and APIs, and "the current user or an answer".

Staff (government users) pass only with a password AND a verified second factor: django-otp's
`OTPMiddleware` gives `request.user.is_verified()`, true once a TOTP code was checked in this
session. A bearer token never counts as staff (tokens are issued by SMS login, which has no second
factor). The user model says who is staff through `is_government_staff` (core imports no domain app,
so it asks the model rather than looking up the staff profile itself).

    from yunzheng.core.auth import ApiRequest, current_user, staff_auth, staff_required

    @router.post("/passes/{pk}/approve", auth=staff_auth)
    def approve(request: ApiRequest, pk: int): ...   # request.auth is the staff User

    @staff_required                                   # anonymous or no second factor: login page
    def queue(request): ...                           # logged in, not staff: 403

    user = current_user(request)                      # the User, or 401 (NotAuthenticated)

Answers: anonymous → 401 `not_authenticated` (pages: the login page); a logged-in user who is not
staff → 403 `staff.required`; staff without the second factor (or with a bearer token) → 403
`staff.second_factor_required` (pages: the staff login page).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _
from ninja.security import SessionAuth

from yunzheng.core.conf import app_settings
from yunzheng.core.errors import DomainError, NotAuthenticated, PermissionDenied

if TYPE_CHECKING:
    # Resolved by the django-stubs plugin to settings.AUTH_USER_MODEL (no import of the app).
    from django.contrib.auth.models import _User

STAFF_REQUIRED = "staff.required"
SECOND_FACTOR_REQUIRED = "staff.second_factor_required"
NOT_AUTHENTICATED = "not_authenticated"

View = TypeVar("View", bound=Callable[..., HttpResponse])


class ApiRequest(HttpRequest):
    """The request a ninja operation behind `staff_auth` or `user_auth` receives (for typing)."""

    auth: _User


def is_verified(user: Any) -> bool:
    """Whether this session passed the second factor (django-otp), never by a bearer token."""
    check = getattr(user, "is_verified", None)
    return bool(check is not None and check())


def staff_denial(request: HttpRequest) -> DomainError | None:
    """Why `request` may not act as staff (None: it may)."""
    user = request.user
    if not user.is_authenticated:
        return NotAuthenticated(NOT_AUTHENTICATED, _("Please log in first."))
    if not getattr(user, "is_government_staff", False):
        return PermissionDenied(STAFF_REQUIRED, _("This is for government staff only."))
    if getattr(request, "user_token", None) is not None or not is_verified(user):
        return PermissionDenied(SECOND_FACTOR_REQUIRED, _("Log in as staff with your authenticator first."))
    return None


def is_verified_staff(request: HttpRequest) -> bool:
    return staff_denial(request) is None


class StaffAuth(SessionAuth):
    """django-ninja auth for staff operations: the session (with ninja's CSRF check) of a staff
    member with a verified second factor. Anonymous → 401; anyone else → 403 with a code."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        denial = staff_denial(request)
        if isinstance(denial, NotAuthenticated):
            return None  # ninja answers 401
        if denial is not None:
            raise denial
        return request.user


staff_auth = StaffAuth()


def staff_required(view: View) -> View:
    """Page decorator for staff: anonymous visitors and staff without their second factor go to the
    staff login page; a logged-in user who is not staff gets 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        denial = staff_denial(request)
        if denial is not None and denial.code in (NOT_AUTHENTICATED, SECOND_FACTOR_REQUIRED):
            return redirect_to_login(request.get_full_path(), login_url=resolve_url(settings.STAFF_LOGIN_URL))
        if denial is not None:
            raise DjangoPermissionDenied(denial.message)
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current_user(request: HttpRequest) -> _User:
    """The logged-in user (API: `request.auth`, which a bearer token sets; pages: the session user),
    or the answer why not: NotAuthenticated (401; pages: the login page, see
    `core.middleware.DomainErrorPageMiddleware`), or, for staff who have not passed their second
    factor in this session, PermissionDenied `staff.second_factor_required` (403): a staff account
    is never "just a user" with its password alone."""
    user = getattr(request, "auth", None) or request.user
    if user is None or not isinstance(user, _user_model()) or not user.is_authenticated:
        raise NotAuthenticated(NOT_AUTHENTICATED, _("Please log in first."))
    if getattr(user, "is_government_staff", False):
        denial = staff_denial(request)
        if denial is not None:
            raise denial
    return user


def current_staff(request: HttpRequest) -> _User:
    """The staff member acting (verified second factor), or the answer why not (401/403)."""
    denial = staff_denial(request)
    if denial is not None:
        raise denial
    return current_user(request)


def _user_model() -> type[_User]:
    from django.contrib.auth import get_user_model

    return get_user_model()


# --------------------------------------------------------------------------------------------
# Staff session lifetime
# --------------------------------------------------------------------------------------------

SESSION_STARTED = "staff_session_started"
SESSION_LAST_SEEN = "staff_session_last_seen"


class StaffSessionMiddleware:
    """Staff sessions end after `STAFF_SESSION_IDLE_SECONDS` (30 min) without a request and
    `STAFF_SESSION_MAX_SECONDS` (12 h) after login, whatever the activity; the next request then
    finds itself logged out (pages: the staff login page; API: 401). Audited as
    `staff.session.expired`. Public users keep Django's usual session lifetime."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and getattr(user, "is_government_staff", False):
            self._check(request, user)
        return self.get_response(request)

    def _check(self, request: HttpRequest, user: Any) -> None:
        from django.contrib.auth import logout

        from yunzheng.core.audit import Actor, record_audit

        now = time.time()
        idle = int(app_settings.STAFF_SESSION_IDLE_SECONDS)
        longest = int(app_settings.STAFF_SESSION_MAX_SECONDS)
        session = request.session
        started = float(session.get(SESSION_STARTED, now))
        last_seen = float(session.get(SESSION_LAST_SEEN, now))
        reason = "idle" if now - last_seen > idle else ("max_age" if now - started > longest else "")
        if reason:
            record_audit(
                actor=Actor.for_user(user),
                action="staff.session.expired",
                target_type="user",
                target_id=user.pk,
                after={"reason": reason},
            )
            logout(request)
            return
        session[SESSION_STARTED] = started
        session[SESSION_LAST_SEEN] = now
        session.set_expiry(idle)  # the cookie dies with the idle limit too
