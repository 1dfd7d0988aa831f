"""The simulator's incident switches produce every kind of alarm; the demo loads them once."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from yunzheng.accounts.models import Company
from yunzheng.alarms import demo
from yunzheng.alarms.models import Alarm, AlarmRule, RuleKind
from yunzheng.core.audit import Actor
from yunzheng.exchange.simulator import INCIDENTS, SimulationPlan
from yunzheng.supervision.services import company_city_licence_set


def test_demo_rules_and_simulated_incidents_fill_the_desk(db: Any) -> None:
    from yunzheng.accounts import demo as accounts_demo

    accounts_demo.load_demo()
    company = Company.objects.get(credit_code=accounts_demo.COMPANY_CREDIT_CODE)
    company_city_licence_set(
        company=company, city_code="330100", valid_from=date(2025, 1, 1), actor=Actor.system("t")
    )
    demo.load_demo()
    kinds = set(Alarm.objects.values_list("kind", flat=True))
    assert kinds == set(RuleKind.values), set(RuleKind.values) - kinds
    sos = Alarm.objects.get(is_sos=True)
    assert sos.state == "open"
    assert sos.severity == "critical"
    assert Alarm.objects.filter(kind="continuous_driving", vehicle_no__endswith="X0002").exists()
    assert Alarm.objects.filter(kind="stale_feed", vehicle_no__endswith="X0003").exists()
    assert Alarm.objects.get(kind="outside_licensed_cities").region_code == "330302"
    alarms, rules = Alarm.objects.count(), AlarmRule.objects.count()
    demo.load_demo()  # idempotent
    assert (Alarm.objects.count(), AlarmRule.objects.count()) == (alarms, rules)


def test_unknown_incident_switch_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown incidents"):
        SimulationPlan(company_id="X", incidents=frozenset({"meteor"}))
    assert "sos" in INCIDENTS


@pytest.mark.django_db(transaction=True)
def test_simulate_platform_command_with_incidents(live_server: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    from yunzheng.alarms.tests.helpers import rule
    from yunzheng.exchange.tests.conftest import make_uploader

    u = make_uploader()
    rule("warn_status", params={"bits": [0], "auto_close": False}, severity="critical")
    rule("fare_band", params={"per_km_max": 8.0})
    out = StringIO()
    args = ["--base-url", live_server.url, "--token", u.token, "--company-id", u.company_id]
    args += ["--drivers", "3", "--orders", "6", "--position-interval", "30", "--incident", "sos"]
    call_command("simulate_platform", *args, "--incident", "fare_spike", stdout=out)
    assert "0 rejected" in out.getvalue()
    assert set(Alarm.objects.values_list("kind", flat=True)) == {"warn_status", "fare_band"}
    assert Alarm.objects.get(kind="warn_status").is_sos
