"""The statutory calendar never stops a service: a traffic pass applied for, and its data review
passed, on 2026-12-28, whose 7-working-day decision date falls in 2027 (holidays not yet
published), is accepted with a provisional date that is recomputed, and audited, when staff
enter and confirm 2027."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from yunzheng.core import calendar_years
from yunzheng.core.errors import PermissionDenied, ValidationFailed
from yunzheng.core.models import AuditEntry
from yunzheng.core.workdays import CalendarYearUnknown, is_working_day
from yunzheng.elicense.models import PassType
from yunzheng.elicense.tests.conftest import make_staff, staff_client, user_client
from yunzheng.elicense.traffic_passes import PassRequest, traffic_pass_apply, traffic_pass_data_review

D = dt.date
CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")
NOTICE = "国务院办公厅关于2027年部分节假日安排的通知（测试）"
HOLIDAYS = [
    calendar_years.HolidayRange(start=D(2027, 1, 1), end=D(2027, 1, 3), name="元旦"),
    calendar_years.HolidayRange(start=D(2027, 2, 6), end=D(2027, 2, 13), name="春节"),
]
WORKDAYS = [calendar_years.AdjustedWorkday(date=D(2027, 2, 14), name="春节")]


def _apply_on_28_december(holder, police):
    application = traffic_pass_apply(
        user=holder,
        request=PassRequest(
            plate_number="津A12345",
            pass_type=PassType.TRUCK_NIGHT,
            road_sections=["外环线"],
            time_windows=["22:00-06:00"],
            valid_from=D(2026, 12, 28),
            valid_until=D(2027, 1, 20),
            vehicle_task="freight",
            no_alternative_route=True,
        ),
        now=dt.datetime(2026, 12, 28, 9, 30, tzinfo=CHINA),
    )
    # the decision's working days run from the data review (Tianjin procedure)
    return traffic_pass_data_review(
        application=application, staff_user=police, now=dt.datetime(2026, 12, 28, 10, 0, tzinfo=CHINA)
    )


def test_pass_in_unknown_year_is_provisional_then_recomputed_on_confirmation(holder, truck, tianjin_staff):
    with pytest.raises(CalendarYearUnknown):
        is_working_day(D(2027, 1, 4))  # the library stops at 2026
    application = _apply_on_28_december(holder, tianjin_staff)
    assert application.status == "data_approved"
    # Weekdays only: Dec 29, 30, 31, Jan 1, 4, 5, 6.
    assert (application.due_date, application.due_date_provisional) == (D(2027, 1, 6), True)

    # Marked in the API and on the applicant's page.
    body = user_client(holder).get(f"/api/v1/elicense/traffic-passes/{application.pk}").json()
    assert body["due_date"] == "2027-01-06"
    assert body["due_date_provisional"] is True
    page = user_client(holder).get(f"/elicense/passes/{application.pk}/").content.decode()
    assert 'data-testid="due-provisional"' in page

    maker, checker = make_staff(), make_staff()
    calendar_years.calendar_year_enter(
        year=2027, notice=NOTICE, holidays=HOLIDAYS, workdays=WORKDAYS, user=maker
    )
    # A draft changes nothing.
    application.refresh_from_db()
    assert application.due_date_provisional
    with pytest.raises(PermissionDenied) as same:
        calendar_years.calendar_year_confirm(year=2027, user=maker)
    assert same.value.code == "calendar.same_person"

    recomputed = calendar_years.calendar_year_confirm(year=2027, user=checker)
    assert recomputed["yunzheng.elicense.traffic_passes.traffic_pass_due_dates_recompute"] == 1
    application.refresh_from_db()
    # Jan 1 is a holiday now: Dec 29, 30, 31, Jan 4, 5, 6, 7.
    assert (application.due_date, application.due_date_provisional) == (D(2027, 1, 7), False)
    entry = AuditEntry.objects.get(action="elicense.traffic_pass.due_date_recomputed")
    assert entry.target_id == application.reference
    assert entry.before == {"due_date": "2027-01-06", "due_date_provisional": True}
    assert entry.after == {"due_date": "2027-01-07", "due_date_provisional": False}
    confirmed = AuditEntry.objects.get(action="calendar.year.confirmed")
    assert confirmed.actor_id == str(checker.pk)
    assert not is_working_day(D(2027, 1, 1))
    assert is_working_day(D(2027, 2, 14))  # an adjusted Sunday

    body = user_client(holder).get(f"/api/v1/elicense/traffic-passes/{application.pk}").json()
    assert (body["due_date"], body["due_date_provisional"]) == ("2027-01-07", False)


def test_notice_validation_names_field_and_rule(db):
    maker = make_staff()
    with pytest.raises(ValidationFailed) as info:
        calendar_years.calendar_year_enter(
            year=2027,
            notice=NOTICE,
            holidays=[
                calendar_years.HolidayRange(start=D(2027, 1, 3), end=D(2027, 1, 1), name="元旦"),
                calendar_years.HolidayRange(start=D(2028, 1, 1), end=D(2028, 1, 1), name="元旦"),
            ],
            workdays=[calendar_years.AdjustedWorkday(date=D(2027, 2, 15), name="春节")],
            user=maker,
        )
    codes = {(d.field, d.code) for d in info.value.details}
    assert codes == {
        ("holidays[1]", "calendar.range_reversed"),
        ("holidays[2]", "calendar.outside_year"),
        ("workdays[1]", "calendar.workday_not_weekend"),
    }


def test_preview_marks_every_month(db):
    days = calendar_years.validate_schedule(year=2027, holidays=HOLIDAYS, workdays=WORKDAYS)
    months = calendar_years.month_preview(2027, days)
    assert [m.month for m in months] == list(range(1, 13))
    february = {day.date: day for week in months[1].weeks for day in week if day}
    assert (february[D(2027, 2, 8)].kind, february[D(2027, 2, 8)].working) == ("holiday", False)
    assert (february[D(2027, 2, 14)].kind, february[D(2027, 2, 14)].working) == ("workday", True)
    # 20 weekdays in February 2027, minus 5 festival weekdays, plus the adjusted Sunday.
    assert months[1].working_days == 16


def test_staff_pages_enter_preview_and_confirm(holder, truck):
    maker, checker = make_staff(), make_staff()
    form = {
        "year": "2027",
        "notice": NOTICE,
        "holidays": "2027-01-01..2027-01-03 元旦\n2027-02-06 至 2027-02-13 春节\n",
        "workdays": "2027-02-14 春节",
    }
    client = staff_client(maker)
    # From 1 November the staff pages warn that next year is missing (today is 2026-12-04 or later).
    listing = client.get("/calendar/").content.decode()
    assert 'data-testid="calendar-missing-banner"' in listing
    preview = client.post("/calendar/enter/", {**form, "preview": "1"}).content.decode()
    assert 'data-testid="calendar-preview"' in preview
    assert 'data-date="2027-02-14" data-working="1"' in preview
    bad = client.post("/calendar/enter/", {**form, "workdays": "2027-02-15 春节", "save": "1"})
    assert bad.status_code == 200
    assert "2027-02-15" in bad.content.decode()  # the error names the date
    assert not calendar_years.StatutoryCalendarYear.objects.filter(year=2027).exists()
    saved = client.post("/calendar/enter/", {**form, "save": "1"})
    assert saved.status_code == 302
    own = client.get("/calendar/2027/").content.decode()
    assert 'data-testid="calendar-confirm"' not in own  # the maker cannot confirm
    client.post("/calendar/2027/confirm/", {"confirm": "1"})
    assert not calendar_years.StatutoryCalendarYear.objects.get(year=2027).confirmed_at

    other = staff_client(checker)
    assert 'data-testid="calendar-confirm"' in other.get("/calendar/2027/").content.decode()
    other.post("/calendar/2027/confirm/", {"confirm": "1"})
    assert calendar_years.StatutoryCalendarYear.objects.get(year=2027).confirmed_by_id == checker.pk
    assert 'data-testid="calendar-missing-banner"' not in other.get("/calendar/").content.decode()


def test_calendar_api_maker_checker(db):
    maker, checker = make_staff(), make_staff()
    url = "/api/v1/platform/calendar/years"
    payload = {
        "year": 2027,
        "notice": NOTICE,
        "holidays": [{"start": "2027-01-01", "end": "2027-01-03", "name": "元旦"}],
        "workdays": [],
    }
    created = staff_client(maker).post(
        "/api/v1/platform/calendar/years", payload, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["state"] == "draft"
    refused = staff_client(maker).post("/api/v1/platform/calendar/years/2027/confirm")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "calendar.same_person"
    done = staff_client(checker).post("/api/v1/platform/calendar/years/2027/confirm")
    assert done.status_code == 200, done.content
    years = {row["year"]: row["state"] for row in staff_client(checker).get(url).json()}
    assert years[2027] == "confirmed"
    city = make_staff("120100", level="city")
    denied = staff_client(city).post(
        "/api/v1/platform/calendar/years", payload, content_type="application/json"
    )
    assert denied.status_code == 403
