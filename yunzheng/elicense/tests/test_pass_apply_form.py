"""The traffic-pass application form (#12): its defaults follow the chosen pass type, and it names
the authority that reviews it from the staff accounts, not from the template."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from yunzheng.accounts.models import StaffProfile, User
from yunzheng.accounts.services import staff_user_create
from yunzheng.core.errors import ValidationFailed
from yunzheng.elicense.tests.conftest import SYSTEM, make_staff, today, user_client
from yunzheng.elicense.traffic_pass_types import pass_type_of, traffic_pass_type_save


def _value(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page
    )
    return match.group(1) if match else ""


def test_defaults_follow_the_pass_type(holder: User, tianjin_staff: User) -> None:
    traffic_pass_type_save(
        staff_user=tianjin_staff,
        region_code="120000",
        code="hazmat",
        name="危险货物运输车辆通行证",
        max_validity_days=30,
        decision_working_days=5,
        default_time_windows=["09:00-11:00", "14:00-16:00"],
        default_vehicle_task="freight",
        sort_order=2,
    )
    client = user_client(holder)
    first = client.get("/elicense/passes/apply/").content.decode()
    # Each option carries its type's defaults for the static script.
    assert re.search(
        r'<option value="truck_night" data-validity-days="180" data-decision-days="7" '
        r'data-time-windows="22:00-06:00" data-vehicle-task="freight">货车夜间通行证</option>',
        first,
    ), first
    assert (
        'data-validity-days="30" data-decision-days="5" data-time-windows="09:00-11:00,14:00-16:00"' in first
    )
    assert "/static/elicense/pass_apply.js" in first
    assert "<script>" not in first  # the page CSP forbids inline scripts
    # The server renders the chosen type's defaults (the first type, or ?pass_type=).
    assert _value(first, "time_windows") == "09:00-16:00"  # truck_day, Tianjin's first type
    assert _value(first, "valid_until") == (today() + dt.timedelta(days=89)).isoformat()
    hazmat = client.get("/elicense/passes/apply/?pass_type=hazmat").content.decode()
    assert _value(hazmat, "valid_until") == (today() + dt.timedelta(days=29)).isoformat()
    assert _value(hazmat, "time_windows") == "09:00-11:00,14:00-16:00"
    assert 'data-hint="validity-days">30<' in hazmat
    assert 'data-hint="decision-days">5<' in hazmat
    night = client.get("/elicense/passes/apply/?pass_type=truck_night").content.decode()
    assert _value(night, "valid_until") == (today() + dt.timedelta(days=179)).isoformat()
    assert _value(night, "time_windows") == "22:00-06:00"
    assert '<option value="truck_night" selected data-validity-days="180"' in night
    # The vehicle task the type is for is proposed too: muck carriers serve construction sites.
    assert re.search(r'<option value="freight" selected>', night)
    muck = client.get("/elicense/passes/apply/?pass_type=muck").content.decode()
    assert 'data-vehicle-task="construction"' in muck
    assert re.search(r'<option value="construction" selected>', muck)


def test_a_pass_type_proposes_only_a_task_of_the_procedure(tianjin_staff: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        traffic_pass_type_save(
            staff_user=tianjin_staff,
            region_code="120000",
            code="muck",
            name="渣土运输车辆通行证",
            default_vehicle_task="racing",
        )
    assert refused.value.details[0].field == "default_vehicle_task"
    assert pass_type_of("120000", "muck").default_vehicle_task == "construction"  # type: ignore[union-attr]


def test_a_pass_type_proposes_only_valid_time_windows(tianjin_staff: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        traffic_pass_type_save(
            staff_user=tianjin_staff,
            region_code="120000",
            code="muck",
            name="渣土运输车辆通行证",
            default_time_windows=["22:00-22:00"],
        )
    assert refused.value.details[0].field == "default_time_windows"
    assert pass_type_of("120000", "muck").default_time_windows == ""  # type: ignore[union-attr]


def test_the_form_names_the_reviewing_authority_from_the_staff_accounts(holder: User, db: Any) -> None:
    client = user_client(holder)
    # No traffic police account names its unit yet: the form says whose it is by region.
    page = client.get("/elicense/passes/apply/").content.decode()
    assert re.search(r'data-testid="pass-authority">[^<]*<strong>天津市的公安交通管理部门</strong>', page), (
        page
    )
    make_staff("120000", department=StaffProfile.Department.TRANSPORT)  # not the reviewing department
    staff_user_create(
        username="tj-traffic-police",
        password="a-long-staff-password",
        department=StaffProfile.Department.PUBLIC_SECURITY,
        level=StaffProfile.Level.PROVINCE,
        region_code="120000",
        unit_name="天津市公安交通管理局",
        created_by=SYSTEM,
    )
    page = client.get("/elicense/passes/apply/").content.decode()
    assert "<strong>天津市公安交通管理局</strong>" in page
    staff_user_create(
        username="hz-traffic-police",
        password="a-long-staff-password",
        department=StaffProfile.Department.PUBLIC_SECURITY,
        level=StaffProfile.Level.CITY,
        region_code="330100",
        unit_name="杭州市公安局交通警察支队",
        created_by=SYSTEM,
    )
    assert "杭州市公安局交通警察支队" not in client.get("/elicense/passes/apply/").content.decode()
