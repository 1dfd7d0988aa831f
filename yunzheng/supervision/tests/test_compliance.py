"""Compliance rates from a month of uploads whose expected values are known exactly.

Company A (杭州): 40 completed orders in October 2026 -
30 by licensed drivers in licensed vehicles, 5 by a driver who never held a certificate,
3 in a vehicle whose certificate ran until 15 October (one on its last evening: compliant; two
after: expired), 2 by a driver whose certificate was cancelled on 10 October (both after).
Company B (宁波): 10 orders, 2 in an unlicensed vehicle. G (杭州): an aggregator, 4 orders.
September: A 10/10 compliant, B 5/10.
"""

from __future__ import annotations

from datetime import date

import pytest

from yunzheng.core.models import AuditEntry
from yunzheng.supervision import selectors
from yunzheng.supervision.models import ComplianceDaily, ComplianceRun, OrderFact
from yunzheng.supervision.selectors import AnalyticsScope, national_scope
from yunzheng.supervision.services import compliance_compute

from .builders import DC, DX, VE, Month

OCT, SEP = date(2026, 10, 1), date(2026, 9, 1)
ZJ = AnalyticsScope(region_prefix="33", label="浙江省")
HZ = AnalyticsScope(region_prefix="3301", label="杭州市")
NB = AnalyticsScope(region_prefix="3302", label="宁波市")

pytestmark = pytest.mark.django_db


def _by_label(rows: list[selectors.RateRow]) -> dict[str, selectors.RateRow]:
    return {r.label: r for r in rows}


def test_platform_rates_are_exact(month: Month) -> None:
    rows = _by_label(selectors.group_rates(scope=national_scope(), month=OCT, by="platform"))
    a = rows["甲出行"]
    assert (a.orders, a.both_ok, a.driver_ok, a.vehicle_ok) == (40, 31, 33, 38)
    assert a.rate == 31 / 40
    assert a.driver_rate == 33 / 40
    assert a.vehicle_rate == 38 / 40
    assert a.driver_reasons == {"unlicensed": 5, "cancelled": 2}
    assert a.vehicle_reasons == {"expired": 2}
    b = rows["乙出行"]
    assert (b.orders, b.both_ok, b.driver_ok, b.vehicle_ok) == (10, 8, 10, 8)
    assert b.vehicle_reasons == {"unlicensed": 2}
    g = rows["丙聚合"]
    assert (g.orders, g.both_ok, g.is_aggregator) == (4, 4, True)


def test_city_and_province_rates(month: Month) -> None:
    cities = {r.key: r for r in selectors.group_rates(scope=national_scope(), month=OCT, by="city")}
    assert set(cities) == {330100, 330200}
    assert (cities[330100].orders, cities[330100].both_ok) == (44, 35)
    assert (cities[330200].orders, cities[330200].both_ok) == (10, 8)
    assert "杭州" in cities[330100].label
    provinces = selectors.group_rates(scope=national_scope(), month=OCT, by="province")
    assert [(p.key, p.orders, p.both_ok) for p in provinces] == [(330000, 54, 43)]
    total = selectors.month_total(scope=ZJ, month=OCT)
    assert total.rate == 43 / 54


def test_daily_rates_follow_the_licence_history(month: Month) -> None:
    a_pk = month.a.company.pk
    days = {
        r.key: r for r in selectors.group_rates(scope=national_scope(), month=OCT, by="day", company_id=a_pk)
    }
    # 15 Oct: the regular order, the unlicensed driver at 14:00, the expiring vehicle at 23:30
    # (still valid until the end of the day, Beijing time).
    assert (days[date(2026, 10, 15)].orders, days[date(2026, 10, 15)].both_ok) == (3, 2)
    # 16 Oct 00:30 Beijing (15 Oct 16:30 UTC): the vehicle's certificate has expired.
    assert (days[date(2026, 10, 16)].orders, days[date(2026, 10, 16)].both_ok) == (2, 1)
    assert days[date(2026, 10, 16)].vehicle_reasons == {"expired": 1}
    # 20 Oct: regular, cancelled-licence driver.
    assert (days[date(2026, 10, 20)].orders, days[date(2026, 10, 20)].both_ok) == (2, 1)
    assert days[date(2026, 10, 20)].driver_reasons == {"cancelled": 1}
    series = selectors.daily_rates(scope=HZ, month=OCT)
    assert len(series) == 31
    assert series[-1].orders == 0
    assert series[-1].rate is None


def test_ranking_excludes_aggregators_and_movers(month: Month) -> None:
    ranking = selectors.platform_ranking(scope=national_scope(), month=OCT)
    assert [(r.rank, r.label, r.orders) for r in ranking] == [(1, "甲出行", 40), (2, "乙出行", 10)]
    aggregators = selectors.platform_ranking(scope=national_scope(), month=OCT, aggregators=True)
    assert [(r.rank, r.label) for r in aggregators] == [(1, "丙聚合")]
    moved = selectors.movers(scope=national_scope(), month=OCT)
    assert [(m.label, round(m.change_points, 6)) for m in moved.risers] == [("乙出行", 30.0)]
    assert [(m.label, round(m.change_points, 6)) for m in moved.fallers] == [("甲出行", -22.5)]
    assert selectors.movers(scope=national_scope(), month=OCT, min_orders=11).risers == []
    cities = selectors.movers(scope=national_scope(), month=OCT, by="city")
    assert [m.key for m in cities.risers] == [330200]
    assert [m.key for m in cities.fallers] == [330100]


def test_scopes_see_only_their_cities(month: Month) -> None:
    assert [r.label for r in selectors.group_rates(scope=HZ, month=OCT)] == ["甲出行", "丙聚合"]
    assert [r.label for r in selectors.group_rates(scope=NB, month=OCT)] == ["乙出行"]
    assert selectors.month_total(scope=NB, month=OCT).orders == 10
    assert selectors.noncompliant_orders(scope=NB, month=OCT).total == 2
    hz = selectors.noncompliant_orders(scope=HZ, month=OCT)
    assert hz.total == 9
    assert all(row.city_code == 330100 for row in hz.rows)


def test_drill_down_names_each_reason(month: Month) -> None:
    page = selectors.noncompliant_orders(scope=national_scope(), month=OCT, company_id=month.a.company.pk)
    assert page.total == 9
    by_order = {row.order_id: row for row in page.rows}
    assert by_order["A261003DX"].driver_state == "unlicensed"
    assert by_order["A261003DX"].reasons == ["无证驾驶员"] or by_order["A261003DX"].reasons == [
        "Unlicensed driver"
    ]
    assert by_order["A261020DC"].driver_state == "cancelled"
    assert by_order["A261016VE"].vehicle_state == "expired"
    assert "A261015VE" not in by_order
    assert DX not in str(page.rows)  # licence numbers are masked
    assert by_order["A261003DX"].driver == DX[:4] + "**********" + DX[-4:]
    expired = selectors.noncompliant_orders(scope=national_scope(), month=OCT, reason="vehicle:expired")
    assert {r.order_id for r in expired.rows} == {"A261016VE", "A261025VE"}
    assert {r.vehicle_no for r in expired.rows} == {VE}
    cancelled = selectors.noncompliant_orders(scope=national_scope(), month=OCT, reason="driver:cancelled")
    assert cancelled.total == 2
    assert DC not in {r.driver for r in cancelled.rows}
    one_day = selectors.noncompliant_orders(scope=national_scope(), month=OCT, day=date(2026, 10, 12))
    assert {r.order_id for r in one_day.rows} == {"A261012DX", "A261012DC"}
    paged = selectors.noncompliant_orders(scope=national_scope(), month=OCT, limit=4, offset=8)
    assert paged.total == 11
    assert len(paged.rows) == 3


def test_compute_is_idempotent_and_audited(month: Month) -> None:
    before = list(
        ComplianceDaily.objects.order_by(
            "company_id", "city_code", "day", "driver_state", "vehicle_state"
        ).values_list("company_id", "city_code", "day", "driver_state", "vehicle_state", "orders")
    )
    facts = OrderFact.objects.count()
    result = compliance_compute(month="2026-10")
    assert result.orders == 54
    after = list(
        ComplianceDaily.objects.order_by(
            "company_id", "city_code", "day", "driver_state", "vehicle_state"
        ).values_list("company_id", "city_code", "day", "driver_state", "vehicle_state", "orders")
    )
    assert after == before
    assert OrderFact.objects.count() == facts == 54 + 20
    assert ComplianceRun.objects.filter(month=OCT).count() == 2
    assert AuditEntry.objects.filter(action="supervision.compliance.compute").count() == 3


def test_region_recompute_leaves_other_cities_alone(month: Month) -> None:
    ningbo = list(
        ComplianceDaily.objects.filter(city_code=330200)
        .values_list("day", "orders")
        .order_by("day", "orders")
    )
    result = compliance_compute(month="2026-10", region_prefix="3301", refresh_facts=False)
    assert result.orders == 44
    assert (
        list(
            ComplianceDaily.objects.filter(city_code=330200)
            .values_list("day", "orders")
            .order_by("day", "orders")
        )
        == ningbo
    )
    assert selectors.month_total(scope=ZJ, month=OCT).orders == 54


def test_licence_changes_reclassify_the_orders_at_once(month: Month) -> None:
    from .builders import import_csv

    # The registry learns that DX did hold a certificate since September: his five orders comply,
    # in the facts and in the daily aggregates, as soon as the import commits.
    report = import_csv(
        "driver", ["licence_id,certificate_no,valid_from,valid_until", f"{DX},QC0099,2026-09-01,2029-08-31"]
    )
    assert report.facts_reclassified == 5
    a = _by_label(selectors.group_rates(scope=national_scope(), month=OCT))["甲出行"]
    assert (a.orders, a.both_ok, a.driver_ok) == (40, 36, 38)
    compliance_compute(month="2026-10", refresh_facts=True)  # a full recomputation agrees
    a = _by_label(selectors.group_rates(scope=national_scope(), month=OCT))["甲出行"]
    assert (a.orders, a.both_ok, a.driver_ok) == (40, 36, 38)


def test_september_and_cancellations(month: Month) -> None:
    sep = _by_label(selectors.group_rates(scope=national_scope(), month=SEP))
    assert (sep["甲出行"].orders, sep["甲出行"].both_ok) == (10, 10)
    assert (sep["乙出行"].orders, sep["乙出行"].both_ok) == (10, 5)
    activity = selectors.activity_series(scope=national_scope(), month=OCT)
    assert activity.total("cancel_passenger") == 2
    assert activity.total("cancel_driver") == 2
    assert activity.total("cancel_platform") == 1
    assert activity.total("complaint") == 1
    assert activity.by_metric["cancel_passenger"][0] == 2  # 1 October
    hz = selectors.activity_series(scope=HZ, month=OCT)
    assert hz.total("cancel_driver") == 1  # 宁波's driver cancellation is not 杭州's
