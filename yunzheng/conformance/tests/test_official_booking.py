"""Issue #17 item 1: the access test follows the appointment.

An official run needs that month's booking; a failed official run closes the booking as failed and
returns the company to booking by itself (the next month open to it); after the allowed cycles the
campaign fails with the reason. Through the services and the staff pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from yunzheng.accounts.tests.factories import staff_client
from yunzheng.conformance import services
from yunzheng.conformance.models import Campaign, Cycle
from yunzheng.core.errors import Conflict
from yunzheng.licensing import services as licensing
from yunzheng.licensing.models import LicenceApplication, Notification, Step, TestBooking
from yunzheng.licensing.tests.factories import Officials, advance_to, at, company_with_contact, officials

from .conftest import Tenant
from .test_campaigns import _connectivity_cycle, services_sandbox_token

pytestmark = pytest.mark.django_db


def _booked(month: dt.date, now: dt.datetime) -> tuple[Tenant, Officials, LicenceApplication, TestBooking]:
    who = officials()
    company, contact = company_with_contact()
    application = licensing.application_create(
        company=company, path="national", city_code="330100", user=contact, now=now
    )
    advance_to(application, Step.TEST_BOOKING, user=contact, who=who, now=now)
    licensing.test_slot_month_create(month=month, user=who.ministry, capacity=3)
    booking = licensing.test_booking_create(company_id=company.pk, month=month, user=contact, now=now)
    sandbox = services_sandbox_token(company)
    tenant = Tenant(company, contact, sandbox[0], sandbox[1], sandbox[0], sandbox[1])
    return tenant, who, application, booking


def test_the_official_run_needs_that_months_booking() -> None:
    tenant, who, _application, booking = _booked(dt.date(2026, 5, 1), at(2026, 5, 2))
    for wrong in (at(2026, 4, 28), at(2026, 6, 2)):
        with pytest.raises(Conflict) as caught:
            services.campaign_start_official(
                company_id=tenant.company.pk, user=who.ministry, booking_id=booking.pk, now=wrong
            )
        assert caught.value.code == "conformance.booking_not_this_month"
    campaign = services.campaign_start_official(
        company_id=tenant.company.pk, user=who.ministry, booking_id=booking.pk, now=at(2026, 5, 12)
    )
    assert campaign.booking_ref == booking.pk


def test_a_failed_official_run_returns_the_company_to_booking(settings: Any) -> None:
    settings.CONFORMANCE_OFFICIAL_MAX_CYCLES = 1
    tenant, who, application, booking = _booked(dt.date(2026, 5, 1), at(2026, 5, 2))
    campaign = services.campaign_start_official(
        company_id=tenant.company.pk, user=who.ministry, booking_id=booking.pk, now=at(2026, 5, 12)
    )
    application.refresh_from_db()
    assert application.step == Step.TEST_RUN
    _connectivity_cycle(tenant, campaign, who.ministry, good=False)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.FAILED
    assert "1" in campaign.outcome_reason
    assert str(Cycle.Kind.CONNECTIVITY.label) in campaign.outcome_reason
    booking.refresh_from_db()
    assert booking.status == TestBooking.Status.FAILED
    application.refresh_from_db()
    assert application.step == Step.TEST_BOOKING  # back to booking, no clerk needed
    last = application.transitions.order_by("-pk").first()
    assert last is not None
    assert last.action == "test_failed"
    assert Notification.objects.filter(
        application=application, text__contains=campaign.outcome_reason
    ).exists()
    # the failed booking keeps its slot: not this month again, but next month is open to it
    with pytest.raises(Conflict):
        licensing.test_booking_create(
            company_id=tenant.company.pk, month=dt.date(2026, 5, 1), user=tenant.user, now=at(2026, 5, 13)
        )
    licensing.test_slot_month_create(month=dt.date(2026, 6, 1), user=who.ministry, capacity=3)
    again = licensing.test_booking_create(
        company_id=tenant.company.pk, month=dt.date(2026, 6, 1), user=tenant.user, now=at(2026, 6, 2)
    )
    assert again.status == TestBooking.Status.BOOKED


def test_ending_an_official_run_fails_its_booking_with_the_reason_on_the_page() -> None:
    now = dt.datetime.now(tz=dt.UTC)
    month = now.date().replace(day=1)
    tenant, who, application, booking = _booked(month, now)
    client = staff_client(who.ministry)
    started = client.post(
        "/conformance/staff/official/", {"company_id": tenant.company.pk, "booking_id": booking.pk}
    )
    campaign = Campaign.objects.get(booking_ref=booking.pk)
    assert started["Location"] == f"/conformance/campaigns/{campaign.pk}/"
    client.post(f"/conformance/campaigns/{campaign.pk}/end/")
    page = client.get(f"/conformance/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="outcome-reason"' in page
    booking.refresh_from_db()
    assert booking.status == TestBooking.Status.FAILED
    application.refresh_from_db()
    assert application.step == Step.TEST_BOOKING
