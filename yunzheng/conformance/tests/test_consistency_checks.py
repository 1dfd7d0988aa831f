"""Consistency grading: a clean campaign passes every check; each fault fails exactly its check.

The cycles are fed through the sandbox storage (validation included) as a live uploader would
send them, without HTTP (the full passing campaign over HTTP is in test_http_campaign.py), and
closed through the service, which grades and keeps the report.
"""

from __future__ import annotations

from typing import Any

import pytest

from yunzheng.conformance import services
from yunzheng.conformance.grading import CHECK_CODES, Grader, Thresholds, distance_m
from yunzheng.conformance.models import Campaign, Cycle
from yunzheng.conformance.traffic import FAULTS, TrafficPlan, TrafficSummary, consistency_events, feed_cycle

from .conftest import SMALL, Tenant

pytestmark = pytest.mark.usefixtures("small_thresholds")


def _graded_cycle(tenant: Tenant, plan: TrafficPlan, **feed: Any) -> tuple[Cycle, dict[str, Any]]:
    campaign = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    cycle = services.cycle_open(campaign=campaign, kind=Cycle.Kind.CONSISTENCY, user=tenant.user)
    feed_cycle(credential=tenant.sandbox, events=consistency_events(plan), **feed)
    cycle = services.cycle_close(cycle=cycle, user=tenant.user)
    assert cycle.report is not None
    return cycle, cycle.report


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {check["code"]: check["status"] for check in report["checks"]}


def test_clean_traffic_passes_every_check(tenant: Tenant) -> None:
    cycle, report = _graded_cycle(tenant, TrafficPlan(company_id=tenant.company_id, **SMALL))
    assert _statuses(report) == dict.fromkeys(CHECK_CODES, "pass")
    assert cycle.status == Cycle.Status.PASSED
    info = report["info"]
    assert info["completed"] >= 10
    assert info["cancelled"] >= 10
    assert all(info["cancelled_by"][party] for party in ("1", "2", "3"))
    checked = {check["code"]: check["checked"] for check in report["checks"]}
    # every check looked at something (a pass over nothing would prove nothing)
    assert all(checked[code] > 0 for code in CHECK_CODES), checked
    assert checked["positions_agree"] == info["completed"]


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_fails_exactly_its_check(tenant: Tenant, fault: str) -> None:
    plan = TrafficPlan(company_id=tenant.company_id, faults=frozenset({fault}), **SMALL)
    _cycle, report = _graded_cycle(tenant, plan, late_upload=fault == "late_upload")
    statuses = _statuses(report)
    expected = FAULTS[fault].check
    assert statuses[expected] == "fail", report
    assert [code for code, status in statuses.items() if status == "fail"] == [expected]
    check = next(c for c in report["checks"] if c["code"] == expected)
    assert 0 < check["failed"] <= check["checked"]
    assert check["examples"]
    assert all(example["reason"] for example in check["examples"])


def test_failing_examples_name_the_order_and_mask_licences(tenant: Tenant) -> None:
    summary = TrafficSummary()
    plan = TrafficPlan(company_id=tenant.company_id, faults=frozenset({"unknown_driver"}), **SMALL)
    events = consistency_events(plan, summary)
    campaign = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    cycle = services.cycle_open(campaign=campaign, kind=Cycle.Kind.CONSISTENCY, user=tenant.user)
    feed_cycle(credential=tenant.sandbox, events=events)
    report = services.cycle_close(cycle=cycle, user=tenant.user).report
    assert report is not None
    check = next(c for c in report["checks"] if c["code"] == "unknown_driver")
    assert check["failed"] == len(summary.affected["unknown_driver"])
    example = check["examples"][0]
    assert example["params"]["order_id"] in summary.affected["unknown_driver"]
    # licence numbers are ID numbers: the sandbox keeps keyed hashes, the report a short reference
    assert example["params"]["licence"].startswith("#")
    fakes = {
        r["LicenseId"]
        for t, r in events
        if t == "orderMatch" and r["OrderId"] in summary.affected["unknown_driver"]
    }
    assert not any(fake in str(report) for fake in fakes)


def test_replay_campaigns_report_lag_without_grading_it(tenant: Tenant) -> None:
    campaign = services.campaign_start_self_service(
        company_id=tenant.company.pk, user=tenant.user, replay=True
    )
    cycle = services.cycle_open(campaign=campaign, kind=Cycle.Kind.CONSISTENCY, user=tenant.user)
    plan = TrafficPlan(company_id=tenant.company_id, **SMALL)
    feed_cycle(credential=tenant.sandbox, events=consistency_events(plan), late_upload=True)
    report = services.cycle_close(cycle=cycle, user=tenant.user).report
    assert report is not None
    lag = next(c for c in report["checks"] if c["code"] == "upload_lag")
    assert (lag["status"], lag["failed"] > 0) == ("not_graded", True)
    assert report["passed"] is True


def test_thresholds_are_kept_with_the_campaign(tenant: Tenant, settings: Any) -> None:
    settings.CONFORMANCE_POSITION_TOLERANCE_METERS = 123
    campaign = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    settings.CONFORMANCE_POSITION_TOLERANCE_METERS = 999
    assert Campaign.objects.get(pk=campaign.pk).thresholds["position_tolerance_meters"] == 123
    assert Thresholds.from_dict(campaign.thresholds).min_orders == 10


def test_simulator_faults_of_the_exchange_are_caught() -> None:
    """The exchange simulator's own switches, graded without storage: what each one fails."""

    def failing(simulator_fault: str) -> set[str]:
        grader = Grader(Thresholds(min_orders=1, min_cancellations=1))
        plan = TrafficPlan(company_id="3301YZCX0001", simulator_faults=frozenset({simulator_fault}), **SMALL)
        _feed_grader(grader, consistency_events(plan))
        return {c["code"] for c in grader.report()["checks"] if c["status"] == "fail"} - {"volume"}

    assert failing("swapped_lat_lon") == {"swapped_lat_lon"}
    # arriving at the departure time also puts the arrival where the vehicle was not
    assert failing("zero_duration_trip") == {"zero_duration", "positions_agree"}
    # unix seconds are allowed for PositionTime by the spec and normalised: nothing to fail
    assert failing("unix_epoch_time") == set()
    # the simulator's unknown driver appears in the match only, so ids differ as well
    assert "unknown_driver" in failing("unknown_driver")


def _feed_grader(grader: Grader, events: list[Any]) -> None:
    from yunzheng.conformance.grading import dt14_epoch
    from yunzheng.conformance.traffic import event_epoch
    from yunzheng.exchange.spec import get_spec, get_validator

    spec = get_spec()
    for interface, record in events:
        iface = spec.interface(interface)
        out, _errors = get_validator(iface).validate(record)
        if out is None:
            grader.add_rejected(iface.ipc_type_code, record)
        elif interface.startswith("position"):
            when = dt14_epoch(out["PositionTime"])
            grader.add_position(
                iface.ipc_type_code, out["VehicleNo"], when, out["Longitude"], out["Latitude"], when + 5
            )
        else:
            epoch = event_epoch(interface, out)
            grader.add_record(iface.ipc_type_code, out, epoch, (epoch or 0) + 5)


def test_distance_is_metres() -> None:
    # 0.01 degree of latitude is about 1.1 km anywhere
    assert 1100 < distance_m(120_000_000, 30_000_000, 120_000_000, 30_010_000) < 1110
