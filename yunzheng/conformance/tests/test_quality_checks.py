"""Issue #17 item 15: yunzheng's own quality checks are configurable per campaign and marked apart
from the documented 750/200 rule, whose reading (paid orders or all orders) is configurable.

Cycles are fed through the sandbox storage and closed through the services, as in
test_consistency_checks.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from yunzheng.conformance import services
from yunzheng.conformance.grading import CHECK_SOURCES, DEFAULT_VOLUME_BASIS, QUALITY_CHECKS
from yunzheng.conformance.models import Campaign, Cycle
from yunzheng.conformance.traffic import TrafficPlan, consistency_events, feed_cycle
from yunzheng.core.errors import ValidationFailed

from .conftest import SMALL, Tenant

pytestmark = pytest.mark.usefixtures("small_thresholds")


def _report(tenant: Tenant, campaign: Campaign, plan: TrafficPlan) -> tuple[Cycle, dict[str, Any]]:
    cycle = services.cycle_open(campaign=campaign, kind=Cycle.Kind.CONSISTENCY, user=tenant.user)
    feed_cycle(credential=tenant.sandbox, events=consistency_events(plan))
    cycle = services.cycle_close(cycle=cycle, user=tenant.user)
    assert cycle.report is not None
    return cycle, cycle.report


def _check(report: dict[str, Any], code: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["code"] == code)


def test_the_six_unsourced_checks_are_marked_as_yunzhengs_own() -> None:
    # sub-kilometre paid trips, trips under 60 s, fare per km and speed, upload lag, position distance
    assert set(QUALITY_CHECKS) == {
        "sub_kilometre_paid",
        "zero_duration",
        "fare_plausible",
        "upload_lag",
        "positions_agree",
    }
    assert CHECK_SOURCES["volume"] == "documented"
    assert DEFAULT_VOLUME_BASIS == "paid"


def test_report_marks_sources_and_the_volume_reading(tenant: Tenant) -> None:
    campaign = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    _cycle, report = _report(tenant, campaign, TrafficPlan(company_id=tenant.company_id, **SMALL))
    assert _check(report, "volume")["source"] == "documented"
    assert all(_check(report, code)["source"] == "yunzheng" for code in QUALITY_CHECKS)
    assert report["volume_rule"]["basis"] == report["volume_rule"]["default_basis"] == "paid"
    assert report["volume_rule"]["counted_orders"] == report["info"]["completed"]


def test_a_campaign_sets_a_quality_threshold_and_the_check_follows(tenant: Tenant) -> None:
    plan = TrafficPlan(company_id=tenant.company_id, faults=frozenset({"sub_kilometre_paid"}), **SMALL)
    strict = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    _cycle, report = _report(tenant, strict, plan)
    assert _check(report, "sub_kilometre_paid")["status"] == "fail"
    assert report["passed"] is False

    # the faulty trips are 0.6 km: a campaign with a 0.5 km limit lets them through
    lenient = services.campaign_start_self_service(
        company_id=tenant.company.pk, user=tenant.user, thresholds={"min_paid_km": 0.5}
    )
    assert lenient.thresholds["min_paid_km"] == 0.5
    _cycle, report = _report(tenant, lenient, plan)
    assert _check(report, "sub_kilometre_paid")["status"] == "pass"


def test_advisory_quality_check_is_reported_but_does_not_fail_the_cycle(tenant: Tenant) -> None:
    campaign = services.campaign_start_self_service(
        company_id=tenant.company.pk,
        user=tenant.user,
        thresholds={"quality_modes": {"fare_plausible": "advisory", "zero_duration": "off"}},
    )
    plan = TrafficPlan(
        company_id=tenant.company_id, faults=frozenset({"implausible_fare", "zero_duration"}), **SMALL
    )
    cycle, report = _report(tenant, campaign, plan)
    fare = _check(report, "fare_plausible")
    assert (fare["status"], fare["counts"], fare["mode"]) == ("fail", False, "advisory")
    assert fare["failed"] > 0
    zero = _check(report, "zero_duration")
    assert (zero["status"], zero["checked"]) == ("off", 0)
    assert report["passed"] is True
    assert cycle.status == Cycle.Status.PASSED


def test_volume_rule_reading_all_orders_counts_cancelled_ones(tenant: Tenant, settings: Any) -> None:
    plan = TrafficPlan(company_id=tenant.company_id, **SMALL)
    settings.CONFORMANCE_MIN_ORDERS = 30  # about 15 completed of 40 orders
    paid = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    _cycle, report = _report(tenant, paid, plan)
    assert _check(report, "volume")["status"] == "fail"
    all_orders = services.campaign_start_self_service(
        company_id=tenant.company.pk, user=tenant.user, thresholds={"volume_basis": "all"}
    )
    _cycle, report = _report(tenant, all_orders, plan)
    assert report["volume_rule"]["basis"] == "all"
    assert report["volume_rule"]["counted_orders"] == report["info"]["orders"]
    assert _check(report, "volume")["status"] == "pass"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"volume_basis": "some"}, "thresholds.volume_basis"),
        ({"quality_modes": {"volume": "off"}}, "thresholds.quality_modes.volume"),
        ({"quality_modes": {"upload_lag": "maybe"}}, "thresholds.quality_modes.upload_lag"),
        ({"min_paid_km": "abc"}, "thresholds.min_paid_km"),
        ({"min_orders": 0}, "thresholds.min_orders"),
        ({"colour": 1}, "thresholds.colour"),
    ],
)
def test_bad_campaign_settings_are_refused_with_the_field(
    tenant: Tenant, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.campaign_start_self_service(
            company_id=tenant.company.pk, user=tenant.user, thresholds=overrides
        )
    assert caught.value.details[0].field == field


def test_report_page_says_which_checks_are_yunzhengs_defaults(tenant: Tenant) -> None:
    campaign = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    cycle, _ = _report(tenant, campaign, TrafficPlan(company_id=tenant.company_id, **SMALL))
    page = tenant.client().get(f"/conformance/cycles/{cycle.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="quality-note"' in html
    assert "并非法定要求" in html  # the page says the limits are yunzheng's defaults
    assert 'data-testid="volume-rule"' in html
