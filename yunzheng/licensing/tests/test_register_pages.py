"""Issue #17 items 5 and 6: the ministry keeps its registers through pages (forms calling the
services): the credit blacklist (list, add with reason and dates, lift) and the qualified
evaluation agencies (add, change the authorisation period)."""

from __future__ import annotations

import datetime as dt

import pytest

from yunzheng.accounts.tests.factories import staff_client
from yunzheng.core.clock import today_in_china
from yunzheng.licensing import services
from yunzheng.licensing.models import CreditBlacklistEntry, EvaluationAgency
from yunzheng.licensing.tests.factories import company_with_contact, officials

pytestmark = pytest.mark.django_db


def test_ministry_blacklist_page_adds_and_lifts_entries_and_others_only_read() -> None:
    company, _user = company_with_contact()
    who = officials()
    ministry = staff_client(who.ministry)
    today = today_in_china()
    page = ministry.get("/licensing/staff/blacklist/").content.decode()
    assert 'data-testid="blacklist-form"' in page
    # Bad input: unknown company, end before start, no reason → the form says which field.
    bad = ministry.post(
        "/licensing/staff/blacklist/",
        {"add-credit_code": "9" * 18, "add-reason": "", "add-starts_on": "2026-01-01"},
    )
    assert bad.status_code == 422
    assert 'data-field="credit_code"' in bad.content.decode()
    assert not CreditBlacklistEntry.objects.exists()
    backwards = ministry.post(
        "/licensing/staff/blacklist/",
        {
            "add-credit_code": company.credit_code,
            "add-reason": "严重失信",
            "add-starts_on": "2026-03-01",
            "add-ends_on": "2026-02-01",
        },
    )
    assert backwards.status_code == 422
    assert not CreditBlacklistEntry.objects.exists()
    added = ministry.post(
        "/licensing/staff/blacklist/",
        {
            "add-credit_code": company.credit_code,
            "add-reason": "严重失信：虚假材料",
            "add-starts_on": (today - dt.timedelta(days=1)).isoformat(),
        },
    )
    assert added.status_code == 302
    entry = CreditBlacklistEntry.objects.get()
    assert (entry.company_id, entry.recorded_by_id, entry.ends_on) == (company.pk, who.ministry.pk, None)
    assert services.active_blacklist_entry(company, on=today) == entry
    listed = ministry.get("/licensing/staff/blacklist/").content.decode()
    assert "严重失信：虚假材料" in listed
    assert company.name in listed

    # A city clerk sees the list but has no forms, and a post from it is refused by the service.
    city = staff_client(who.city)
    seen = city.get("/licensing/staff/blacklist/").content.decode()
    assert company.name in seen
    assert 'data-testid="blacklist-form"' not in seen
    refused = city.post(
        "/licensing/staff/blacklist/", {"op": "lift", "lift-entry_id": entry.pk, "lift-reason": "x"}
    )
    assert refused.status_code == 422
    entry.refresh_from_db()
    assert entry.lifted_at is None

    lifted = ministry.post(
        "/licensing/staff/blacklist/", {"op": "lift", "lift-entry_id": entry.pk, "lift-reason": "信用修复"}
    )
    assert lifted.status_code == 302
    entry.refresh_from_db()
    assert entry.lift_reason == "信用修复"
    assert entry.lifted_at is not None
    assert services.active_blacklist_entry(company, on=today) is None


def test_ministry_agency_register_page_sets_authorisation_dates() -> None:
    who = officials()
    ministry = staff_client(who.ministry)
    bad = ministry.post(
        "/licensing/staff/agencies/",
        {"name": "上海测评中心", "authorised_from": "2026-01-01", "authorised_until": "2025-01-01"},
    )
    assert bad.status_code == 422
    assert 'data-field="authorised_until"' in bad.content.decode()
    assert not EvaluationAgency.objects.exists()
    saved = ministry.post(
        "/licensing/staff/agencies/",
        {"name": "上海测评中心", "authorised_from": "2020-01-01", "authorised_until": "2021-12-31"},
    )
    assert saved.status_code == 302
    agency = EvaluationAgency.objects.get()
    assert (agency.authorised_from, agency.authorised_until) == (dt.date(2020, 1, 1), dt.date(2021, 12, 31))
    page = ministry.get("/licensing/staff/agencies/").content.decode()
    assert "上海测评中心" in page
    assert 'data-testid="agency-form"' in page
    # Renewing the authorisation changes the same row.
    ministry.post("/licensing/staff/agencies/", {"name": "上海测评中心", "authorised_from": "2020-01-01"})
    agency.refresh_from_db()
    assert agency.authorised_until is None
    assert EvaluationAgency.objects.count() == 1
    # The city reads the register without the form; a post is refused by the service.
    city = staff_client(who.city)
    assert 'data-testid="agency-form"' not in city.get("/licensing/staff/agencies/").content.decode()
    assert (
        city.post("/licensing/staff/agencies/", {"name": "X", "authorised_from": "2020-01-01"}).status_code
        == 422
    )
    assert not EvaluationAgency.objects.filter(name="X").exists()
