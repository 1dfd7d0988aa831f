"""Platform-level API: what this deployment is, and the statutory working-day calculator."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from yunzheng.accounts.auth import user_auth
from yunzheng.core import workdays
from yunzheng.core.auth import current_staff
from yunzheng.core.clock import today_in_china

router = Router(tags=["platform"])


class PlatformPart(Schema):
    key: str
    name: str


class PlatformInfo(Schema):
    name: str
    api_version: str
    parts: list[PlatformPart]


@router.get("/info", response=PlatformInfo, auth=None, summary="Platform name and parts")
def platform_info(request: HttpRequest) -> PlatformInfo:
    from yunzheng.web.parts import platform_parts

    return PlatformInfo(
        name=_("Road Transport Administration Platform"),
        api_version="1",
        parts=[PlatformPart(key=p.key, name=str(p.name)) for p in platform_parts()],
    )


class WorkingDaysQuery(Schema):
    start: dt.date
    days: int = Field(ge=0, le=366, description="Working days to add (the start day never counts)")


class WorkingDaysAnswer(Schema):
    start: dt.date
    days: int
    due: dt.date
    start_is_working_day: bool


@router.get(
    "/workdays/add",
    response=WorkingDaysAnswer,
    auth=None,
    summary="Statutory deadline: the n-th working day after a date",
)
def add_working_days(request: HttpRequest, query: Query[WorkingDaysQuery]) -> WorkingDaysAnswer:
    calendar = workdays.WorkingCalendar()
    return WorkingDaysAnswer(
        start=query.start,
        days=query.days,
        due=calendar.add_working_days(query.start, query.days),
        start_is_working_day=calendar.is_working_day(query.start),
    )


# --------------------------------------------------------------------------------------------
# The statutory calendar (maker-checker; core.calendar_years)
# --------------------------------------------------------------------------------------------


class HolidayRangeIn(Schema):
    start: dt.date
    end: dt.date
    name: str = Field(max_length=50)


class AdjustedWorkdayIn(Schema):
    date: dt.date
    name: str = Field(max_length=50)


class CalendarYearIn(Schema):
    year: int = Field(ge=2004, le=2100)
    notice: str = Field(max_length=200)
    holidays: list[HolidayRangeIn] = Field(max_length=40)
    workdays: list[AdjustedWorkdayIn] = Field(default_factory=list, max_length=20)


class CalendarDayOut(Schema):
    date: dt.date
    kind: str
    name: str


class CalendarYearOut(Schema):
    year: int
    state: str  # library | confirmed | draft | missing
    notice: str
    confirmed_at: dt.datetime | None
    days: list[CalendarDayOut]


class CalendarConfirmOut(Schema):
    year: int
    recomputed_due_dates: dict[str, int]


def _calendar_staff(request: HttpRequest) -> Any:
    from yunzheng.web.calendar_pages import require_calendar_maintainer

    user = current_staff(request)
    require_calendar_maintainer(user)
    return user


def _calendar_out(year: int, state: str) -> CalendarYearOut:
    from yunzheng.core.calendar_years import calendar_year_entry

    entry = calendar_year_entry(year)
    return CalendarYearOut(
        year=year,
        state=state,
        notice=entry.notice if entry else "",
        confirmed_at=entry.confirmed_at if entry else None,
        days=[CalendarDayOut(date=d.date, kind=d.kind, name=d.name) for d in entry.days.all()]
        if entry
        else [],
    )


@router.get("/calendar/years", response=list[CalendarYearOut], auth=None, summary="Statutory calendar years")
def calendar_years_list(request: HttpRequest) -> list[CalendarYearOut]:

    from yunzheng.core.calendar_years import calendar_years_overview

    return [_calendar_out(row["year"], row["state"]) for row in calendar_years_overview(today_in_china())]


@router.post(
    "/calendar/years",
    response={201: CalendarYearOut},
    auth=user_auth,
    summary="Enter a year's State Council notice (counts after a second person confirms)",
)
def calendar_year_enter(request: HttpRequest, payload: CalendarYearIn) -> Status:
    from yunzheng.core import calendar_years

    user = _calendar_staff(request)
    calendar_years.calendar_year_enter(
        year=payload.year,
        notice=payload.notice,
        holidays=[
            calendar_years.HolidayRange(start=h.start, end=h.end, name=h.name) for h in payload.holidays
        ],
        workdays=[calendar_years.AdjustedWorkday(date=w.date, name=w.name) for w in payload.workdays],
        user=user,
    )
    return Status(201, _calendar_out(payload.year, "draft"))


@router.post(
    "/calendar/years/{year}/confirm",
    response=CalendarConfirmOut,
    auth=user_auth,
    summary="Confirm an entered year (a different person); recomputes provisional due dates",
)
def calendar_year_confirm(request: HttpRequest, year: int) -> CalendarConfirmOut:
    from yunzheng.core import calendar_years

    user = _calendar_staff(request)
    return CalendarConfirmOut(
        year=year, recomputed_due_dates=calendar_years.calendar_year_confirm(year=year, user=user)
    )
