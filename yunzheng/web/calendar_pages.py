"""Staff pages for the statutory calendar: enter a year's State Council notice, preview it month by
month, and have a second person confirm it (services in core.calendar_years)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yunzheng.accounts.scopes import staff_scope
from yunzheng.core import calendar_years
from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.clock import today_in_china
from yunzheng.core.errors import DomainError, PermissionDenied
from yunzheng.core.forms import add_domain_error, message_domain_error
from yunzheng.core.workdays import missing_next_year

_LINE_DATES = re.compile(
    r"^\s*(\d{4}-\d{1,2}-\d{1,2})\s*(?:(?:\.\.|至|~|—|-{2})\s*(\d{4}-\d{1,2}-\d{1,2}))?\s*(.*)$"
)


def may_maintain_calendar(user: Any) -> bool:
    """Transport staff of the ministry or a province keep the national calendar (the permission
    table's `calendar.maintain`)."""
    from yunzheng.accounts.permissions import allowed

    return allowed(user, "calendar.maintain")


def require_calendar_maintainer(user: Any) -> None:
    """PermissionDenied with the table's code (`staff.action_not_allowed`) unless `calendar.maintain`."""
    from yunzheng.accounts.permissions import authorize

    authorize(user, "calendar.maintain")


def calendar_warning(user: Any, today: dt.date | None = None) -> int | None:
    """The year whose calendar is missing, for staff workbenches from 1 November; else None."""
    try:
        staff_scope(user)
    except PermissionDenied:
        return None
    return missing_next_year(today or today_in_china())


def _parse_date(text: str, line_number: int) -> dt.date:
    try:
        return dt.date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))
    except ValueError:
        raise forms.ValidationError(
            _("Line %(line)s: %(text)s is not a date (YYYY-MM-DD).") % {"line": line_number, "text": text}
        ) from None


class CalendarYearForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2004, max_value=2100)
    notice = forms.CharField(
        label=gettext_lazy("State Council notice"),
        max_length=200,
        help_text=gettext_lazy("e.g. 国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕…号）"),
    )
    holidays = forms.CharField(
        label=gettext_lazy("Holidays"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "One festival per line: first day, last day, name — e.g. 2027-02-06..2027-02-13 春节"
        ),
    )
    workdays = forms.CharField(
        label=gettext_lazy("Adjusted working days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("One weekend day that is worked per line: date, name — e.g. 2027-02-14 春节"),
    )

    def clean_holidays(self) -> list[calendar_years.HolidayRange]:
        ranges = []
        for number, line in enumerate(self.cleaned_data["holidays"].splitlines(), start=1):
            if not line.strip():
                continue
            match = _LINE_DATES.match(line)
            if match is None:
                raise forms.ValidationError(
                    _("Line %(line)s: write first day, last day and name.") % {"line": number}
                )
            start = _parse_date(match.group(1), number)
            end = _parse_date(match.group(2), number) if match.group(2) else start
            ranges.append(calendar_years.HolidayRange(start=start, end=end, name=match.group(3).strip()))
        return ranges

    def clean_workdays(self) -> list[calendar_years.AdjustedWorkday]:
        days = []
        for number, line in enumerate(self.cleaned_data["workdays"].splitlines(), start=1):
            if not line.strip():
                continue
            match = _LINE_DATES.match(line)
            if match is None or match.group(2):
                raise forms.ValidationError(_("Line %(line)s: write one date and a name.") % {"line": number})
            days.append(
                calendar_years.AdjustedWorkday(
                    date=_parse_date(match.group(1), number), name=match.group(3).strip()
                )
            )
        return days


@staff_required
def calendar_years_page(request: HttpRequest) -> HttpResponse:
    today = today_in_china()
    return render(
        request,
        "web/calendar_years.html",
        {
            "years": calendar_years.calendar_years_overview(today),
            "may_maintain": may_maintain_calendar(current_user(request)),
            "missing_year": missing_next_year(today),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def calendar_year_enter_page(request: HttpRequest) -> HttpResponse:
    if not may_maintain_calendar(current_user(request)):
        raise DjangoPermissionDenied
    initial = {"year": request.GET.get("year") or today_in_china().year + 1}
    form = CalendarYearForm(request.POST or None, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            days = calendar_years.validate_schedule(
                year=data["year"], holidays=data["holidays"], workdays=data["workdays"]
            )
            if "save" in request.POST:
                calendar_years.calendar_year_enter(
                    year=data["year"],
                    notice=data["notice"],
                    holidays=data["holidays"],
                    workdays=data["workdays"],
                    user=current_user(request),
                )
                messages.success(
                    request, _("Saved. A second person must now confirm the calendar before it counts.")
                )
                return redirect("web:calendar_year", year=data["year"])
            preview = calendar_years.month_preview(data["year"], days)
        except DomainError as error:
            add_domain_error(form, error)
    return render(request, "web/calendar_enter.html", {"form": form, "preview": preview})


@staff_required
def calendar_year_page(request: HttpRequest, year: int) -> HttpResponse:
    entry = calendar_years.calendar_year_entry(year)
    if entry is None:
        return redirect("web:calendar_years")
    return render(
        request,
        "web/calendar_year.html",
        {
            "entry": entry,
            "preview": calendar_years.month_preview(year, calendar_years.stored_days(entry)),
            "may_confirm": may_maintain_calendar(current_user(request))
            and entry.confirmed_at is None
            and entry.entered_by_id != current_user(request).pk,
            "may_discard": may_maintain_calendar(current_user(request)) and entry.confirmed_at is None,
        },
    )


@staff_required
@require_POST
def calendar_year_confirm_page(request: HttpRequest, year: int) -> HttpResponse:
    try:
        require_calendar_maintainer(current_user(request))
        if "discard" in request.POST:
            calendar_years.calendar_year_discard(year=year, user=current_user(request))
            messages.success(request, _("The entry was discarded."))
            return redirect("web:calendar_years")
        recomputed = calendar_years.calendar_year_confirm(year=year, user=current_user(request))
    except DomainError as error:
        message_domain_error(request, error)
    else:
        messages.success(
            request,
            _("The calendar of %(year)s is confirmed; %(count)s provisional due dates were recomputed.")
            % {"year": year, "count": sum(recomputed.values())},
        )
    return redirect("web:calendar_year", year=year)
