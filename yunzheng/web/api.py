"""Platform-level API: what this deployment is, and the statutory working-day calculator."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from yunzheng.core import workdays

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
