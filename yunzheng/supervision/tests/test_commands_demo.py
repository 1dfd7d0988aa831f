"""The nightly command and the demo loader."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import call_command

from yunzheng.supervision import selectors
from yunzheng.supervision.demo import load_demo
from yunzheng.supervision.models import ComplianceDaily, LicencePeriod, OrderFact

from .builders import Month

pytestmark = pytest.mark.django_db


def test_nightly_extraction_command(month: Month) -> None:
    OrderFact.objects.filter(day="2026-10-15").delete()
    ComplianceDaily.objects.filter(day="2026-10-15").delete()
    out = io.StringIO()
    call_command("compute_compliance", "--day", "2026-10-15", stdout=out)
    assert "2026-10-15: 3 completed orders" in out.getvalue()
    day = selectors.group_rates(scope=selectors.national_scope(), month=date(2026, 10, 1), by="day")
    assert {r.key.isoformat(): (r.orders, r.both_ok) for r in day}["2026-10-15"] == (3, 2)
    call_command("compute_compliance", "--month", "2026-10", "--region", "3302", "--no-refresh", stdout=out)
    assert "2026-10 3302: 10 orders" in out.getvalue()


def test_demo_loads_twice() -> None:
    first = load_demo()
    periods = LicencePeriod.objects.count()
    assert periods > 0
    assert any(login.where == "/supervision/" for login in first)
    load_demo()
    assert LicencePeriod.objects.count() == periods
    assert LicencePeriod.objects.filter(status="cancelled").count() == 1
