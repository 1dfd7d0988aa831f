"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest


def statutory_calendar(request: HttpRequest) -> dict[str, int | None]:
    """`missing_calendar_year`: from 1 November, staff see that next year's calendar is missing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from yunzheng.web.calendar_pages import calendar_warning

    return {"missing_calendar_year": calendar_warning(user)}
