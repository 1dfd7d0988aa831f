"""The staff workbench is built from the permission table (#12 item 2): every queue names the
action it needs, and `core.portal` shows it exactly to the accounts the table allows."""

from __future__ import annotations

from typing import Any

import pytest

from yunzheng.accounts.models import StaffProfile
from yunzheng.accounts.permissions import allowed, permission
from yunzheng.accounts.tests.factories import staff, staff_client
from yunzheng.core import portal

pytestmark = pytest.mark.django_db

REGION_OF_LEVEL = {"ministry": "", "province": "330000", "city": "330100"}


def _everyone() -> list[Any]:
    return [
        staff(f"{department}-{level}", department=department, level=level, region=REGION_OF_LEVEL[level])
        for department in StaffProfile.Department.values
        for level in StaffProfile.Level.values
    ]


def test_every_queue_and_page_follows_the_permission_table() -> None:
    seen_queues: set[str] = set()
    for user in _everyone():
        queues = portal.staff_queues(user)
        for queue in queues:
            permission(queue.action)  # LookupError for an action missing from the table
            assert allowed(user, queue.action), (user.username, queue.key)
            assert queue.count >= 0
            seen_queues.add(queue.key)
        for page in portal.staff_pages(user):
            assert not page.action or allowed(user, page.action), (user.username, page.key)
        # Conversely: an account the table allows to review real names sees that queue.
        keys = {q.key for q in queues}
        assert ("accounts.realname" in keys) == allowed(user, "realname.review"), user.username
        assert ("elicense.traffic_passes" in keys) == allowed(user, "traffic_pass.review"), user.username
        pages = {p.key for p in portal.staff_pages(user)}
        assert ("practitioners.contacts" in pages) == allowed(user, "office.contact.maintain"), user.username
    assert {"accounts.realname", "practitioners.cases", "licensing.steps", "alarms.desk"} <= seen_queues


def test_a_queue_without_an_action_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    user = staff("clerk")
    module = portal._portal_modules()[0]
    monkeypatch.setattr(
        module,
        "staff_queues",
        lambda user: [portal.WorkQueue(key="x.y", title="x", url="/", count=0)],
        raising=False,
    )
    with pytest.raises(ValueError, match="names no permission action"):
        portal.staff_queues(user)


def test_the_workbench_page_shows_counts_and_overdue_per_queue() -> None:
    police = staff("sz-police", department="public_security", level="province", region="330000")
    page = staff_client(police).get("/workbench/").content.decode()
    assert 'data-queue="accounts.realname"' in page
    assert 'data-queue="licensing.department_reviews"' in page
    assert 'data-queue="practitioners.cases"' not in page  # the office is the transport authority's
    assert "page-practitioners.contacts" not in page
    clerk = staff("zj-clerk", level="province", region="330000")
    page = staff_client(clerk).get("/workbench/").content.decode()
    assert 'data-queue="practitioners.cases"' in page
    assert 'data-testid="page-practitioners.contacts"' in page
