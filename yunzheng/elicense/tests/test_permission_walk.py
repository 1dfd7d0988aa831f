"""Done means (issue #14): the whole permission table walked. For every action, one account of
every department and level tries it, and exactly the allowed ones succeed — here through
`authorize` (the one function every staff service calls), plus a few licence and queue pages;
every action end to end through its API and its page in
web/tests/test_permission_walk_end_to_end.py. The generated docs/permissions.md must match the
table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from yunzheng.accounts.models import StaffProfile, User
from yunzheng.accounts.permissions import (
    ACTION_NOT_ALLOWED,
    NATIONWIDE,
    OUT_OF_SCOPE,
    PERMISSIONS,
    SAME_CITY,
    SAME_REGION,
    authorize,
    markdown_table,
)
from yunzheng.core.errors import PermissionDenied
from yunzheng.elicense.tests.conftest import make_staff, staff_client, sync_licence

pytestmark = pytest.mark.django_db

REGION_OF_LEVEL = {"ministry": "", "province": "330000", "city": "330100"}


@pytest.fixture
def everyone(db: Any) -> dict[tuple[str, str], User]:
    """One account of every department at every level, all in Zhejiang/Hangzhou."""
    return {
        (department, level): make_staff(REGION_OF_LEVEL[level], level=level, department=department)
        for department in StaffProfile.Department.values
        for level in StaffProfile.Level.values
    }


def _item_region(rule: str, level: str) -> str | None:
    if rule == NATIONWIDE:
        return None
    if rule == SAME_REGION:
        return REGION_OF_LEVEL[level] or "330000"
    return "330106"  # a district of Hangzhou: inside every Zhejiang account's region


def test_docs_permissions_md_is_generated_from_the_table() -> None:
    doc = Path(settings.BASE_DIR) / "docs" / "permissions.md"
    assert doc.read_text(encoding="utf-8") == markdown_table(), "run `manage.py permissions_table --write`"


def test_every_action_allows_exactly_its_departments_and_levels(
    everyone: dict[tuple[str, str], User],
) -> None:
    outcomes = []
    for permission in PERMISSIONS:
        for (department, level), user in everyone.items():
            expected = department in permission.departments and level in permission.levels
            if permission.region == SAME_CITY and level == "province":
                expected = False  # province-level police review passes only in municipalities
            region = _item_region(permission.region, level)
            code = ""
            try:
                authorize(user, permission.action, region_code=region)
            except PermissionDenied as refused:
                code = refused.code
            assert code in ("", ACTION_NOT_ALLOWED, OUT_OF_SCOPE)
            outcomes.append((permission.action, department, level, expected, code == ""))
    wrong = [o for o in outcomes if o[3] != o[4]]
    assert not wrong, wrong
    assert len(outcomes) == len(PERMISSIONS) * 18


def test_the_region_rule_refuses_items_elsewhere(everyone: dict[tuple[str, str], User]) -> None:
    for permission in PERMISSIONS:
        if permission.region == NATIONWIDE:
            continue
        for (department, level), user in everyone.items():
            if department in permission.departments and level in permission.levels and level != "ministry":
                with pytest.raises(PermissionDenied) as refused:
                    authorize(user, permission.action, region_code="110101")  # Beijing
                assert refused.value.code == OUT_OF_SCOPE


def test_traffic_police_of_a_municipality_review_at_province_level(
    everyone: dict[tuple[str, str], User],
) -> None:
    tianjin_police = make_staff("120000", level="province", department="public_security")
    assert authorize(tianjin_police, "traffic_pass.review", region_code="120101")
    with pytest.raises(PermissionDenied):
        authorize(everyone[("public_security", "province")], "traffic_pass.review", region_code="330106")
    assert authorize(everyone[("public_security", "city")], "traffic_pass.review", region_code="330106")


def test_licence_status_through_the_api(
    everyone: dict[tuple[str, str], User], keys: Any, holder: User
) -> None:
    """Only the transport department of the issuing region (city, province) suspends licences; not
    tax, central bank, telecoms, cyberspace, police, nor the ministry."""
    licence = sync_licence(holder)  # issued in Hangzhou (330100)
    succeeded = set()
    for (department, level), user in everyone.items():
        client = staff_client(user)
        response = client.post(
            f"/api/v1/elicense/staff/licences/{licence.lid}/suspend",
            {"reason": "核查"},
            content_type="application/json",
        )
        if response.status_code == 200:
            succeeded.add((department, level))
            back = client.post(
                f"/api/v1/elicense/staff/licences/{licence.lid}/reinstate",
                {"reason": "核查完毕"},
                content_type="application/json",
            )
            assert back.status_code == 200
        else:
            assert response.status_code in (403, 404), response.content
    assert succeeded == {("transport", "city"), ("transport", "province")}


def test_realname_queue_and_permission_page(everyone: dict[tuple[str, str], User]) -> None:
    queue_ok = set()
    table_ok = set()
    for key, user in everyone.items():
        client = staff_client(user)
        if client.get("/accounts/staff/real-name/").status_code == 200:
            queue_ok.add(key)
        page = client.get("/accounts/staff/permissions/")
        if page.status_code == 200:
            table_ok.add(key)
            assert 'data-testid="permission-traffic_pass.review"' in page.content.decode()
        else:
            assert page.status_code == 403
    departments = {"transport", "public_security"}
    assert queue_ok == {k for k in everyone if k[0] in departments}
    assert table_ok == {("transport", "ministry"), ("transport", "province")}


def test_licence_full_view_page(everyone: dict[tuple[str, str], User], keys: Any, holder: User) -> None:
    """`elicense.licence.view` through the staff licence page: transport and police of every level
    (region covers Hangzhou) see it; the other four departments are refused; so is Jiangsu's."""
    licence = sync_licence(holder)
    succeeded = set()
    for key, user in everyone.items():
        response = staff_client(user).get(f"/elicense/staff/licences/{licence.lid}/")
        if response.status_code == 200:
            succeeded.add(key)
        else:
            assert response.status_code in (403, 404)
    assert succeeded == {(d, lv) for d in ("transport", "public_security") for lv in REGION_OF_LEVEL}
    elsewhere = make_staff("320100", level="city", department="transport")
    assert staff_client(elsewhere).get(f"/elicense/staff/licences/{licence.lid}/").status_code == 404


def test_supervision_compute_through_the_api(everyone: dict[tuple[str, str], User]) -> None:
    """`supervision.compute`: transport of every level recomputes a month; no other department."""
    succeeded = set()
    for key, user in everyone.items():
        response = staff_client(user).post(
            "/api/v1/supervision/compute", {"month": "2026-10"}, content_type="application/json"
        )
        if response.status_code == 200:
            succeeded.add(key)
        else:
            assert response.status_code in (403, 404), response.content
    assert succeeded == {("transport", lv) for lv in REGION_OF_LEVEL}
