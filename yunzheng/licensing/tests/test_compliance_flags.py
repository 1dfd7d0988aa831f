"""Issue #17 item 5: a level-3 evaluation lapsing after the licence was granted raises a compliance
flag on the company for the city transport authority and the police (not only a reminder); filing a
new valid evaluation clears it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from yunzheng.accounts.tests.factories import staff, staff_client
from yunzheng.licensing import services
from yunzheng.licensing.models import ComplianceFlag, Notification
from yunzheng.licensing.tests.factories import at, national_licence, pdf_upload

pytestmark = pytest.mark.django_db
D = dt.date


def test_a_lapsed_level3_evaluation_flags_the_company_until_a_new_one_is_filed() -> None:
    granted = at(2026, 3, 2)
    company, user, _who, licence = national_licence(now=granted)
    level3 = company.security_evaluations.get(kind="level3")
    assert level3.valid_until == D(2027, 2, 20)  # issued 2026-02-20, valid 12 months (inclusive)
    # Before the lapse: a reminder only, no flag.
    services.reminders_send(now=at(2027, 2, 20))
    assert not ComplianceFlag.objects.exists()

    result = services.reminders_send(now=at(2027, 2, 21))
    assert result["flags"] == 1
    flag = ComplianceFlag.objects.get()
    assert (flag.company_id, flag.kind, flag.lapsed_evaluation_id) == (company.pk, "level3_lapsed", level3.pk)
    assert "2027-02-20" in flag.detail
    # Once per lapse: the next run raises nothing new.
    assert services.reminders_send(now=at(2027, 2, 22))["flags"] == 0
    # The city's transport authority and police are told on their dashboards.
    offices = set(
        Notification.objects.filter(dedupe_key__startswith=f"flag-raise:{flag.pk}:").values_list(
            "department", "level", "region_code"
        )
    )
    assert offices == {
        ("transport", "city", licence.city_code),
        ("public_security", "city", licence.city_code),
    }

    # Both see the flag on their staff page; a city elsewhere does not; the company sees it too.
    city_transport = staff_client(
        staff("hz-transport-flag", department="transport", level="city", region="330100")
    )
    police = staff_client(
        staff("hz-police-flag", department="public_security", level="city", region="330100")
    )
    ningbo = staff_client(staff("nb-transport-flag", department="transport", level="city", region="330200"))
    for client in (city_transport, police):
        page = client.get("/licensing/staff/").content.decode()
        assert 'data-testid="compliance-flag"' in page
        assert company.name in page
    assert 'data-testid="compliance-flag"' not in ningbo.get("/licensing/staff/").content.decode()
    member = Client()
    member.force_login(user)
    assert 'data-testid="company-flag"' in member.get("/licensing/").content.decode()

    # An evaluation of another kind does not clear it; a new valid level-3 one does.
    services.security_evaluation_record(
        company=company, kind="app_security", agency="浙江省信息安全测评中心", report_number="R-app-2",
        issued_on=D(2027, 2, 21), upload=pdf_upload(), user=user, now=at(2027, 2, 22),
    )  # fmt: skip
    assert ComplianceFlag.objects.filter(cleared_at__isnull=True).count() == 1
    renewed = services.security_evaluation_record(
        company=company, kind="level3", agency="浙江省信息安全测评中心", report_number="R-L3-2027",
        issued_on=D(2027, 2, 22), upload=pdf_upload(), user=user, filing_number="33010013001-27001",
        now=at(2027, 2, 23),
    )  # fmt: skip
    flag.refresh_from_db()
    assert flag.cleared_at is not None
    assert flag.cleared_by_evaluation_id == renewed.pk
    assert 'data-testid="compliance-flag"' not in police.get("/licensing/staff/").content.decode()
    assert Notification.objects.filter(dedupe_key__startswith=f"flag-clear:{flag.pk}:").count() == 2
    assert services.reminders_send(now=at(2027, 2, 24))["flags"] == 0


def test_no_flag_without_a_valid_licence() -> None:
    company, _user, _who, licence = national_licence(now=at(2026, 3, 2))
    # After the licence itself has ended there is nothing to flag.
    assert (
        services.reminders_send(
            now=dt.datetime.combine(
                licence.valid_until + dt.timedelta(days=1), dt.time(10), tzinfo=at(2026, 1, 1).tzinfo
            )
        )["flags"]
        == 0
    )
    assert not ComplianceFlag.objects.filter(company=company).exists()
