"""Demo data for `make run`: the built-in alarm rules of 杭州 (and one of 浙江), switched on, and a
simulated hour of the demo platform with every kind of incident, so the desk is never empty.

The simulator (``incidents=INCIDENTS``, the same 20 drivers and vehicles as the exchange demo)
sends its records through ``ingest_batch`` - the real ingest path with its records listener - and
the periodic tick then finds the stale feed and the gathering. SOS alarms wait for staff, so they
stay on the desk. Idempotent: rules are found by name, and nothing is simulated again once the
demo company has alarms.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.utils import timezone

from yunzheng.accounts.models import Company, CompanyCredential, User
from yunzheng.alarms.models import Alarm, AlarmRule, RuleKind
from yunzheng.alarms.periodic import alarms_tick
from yunzheng.alarms.services import rule_create
from yunzheng.core.demodata import DemoLogin

#: (name, region, kind, severity, params) - the rule set a city starts from.
DEMO_RULES: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("一键报警（SOS）", "330100", RuleKind.WARN_STATUS, "critical", {"bits": [0], "auto_close": False}),
    ("终端超速/疲劳报警", "330100", RuleKind.WARN_STATUS, "medium", {"bits": [1, 2], "auto_close": True}),
    ("无证驾驶员或车辆接单", "330100", RuleKind.UNLICENSED_ORDER, "high", {}),
    ("异地载客超过 30 分钟", "330100", RuleKind.OUT_OF_CITY, "high", {"minutes": 30}),
    (
        "连续驾驶 4 小时未休息 20 分钟",
        "330100",
        RuleKind.CONTINUOUS_DRIVING,
        "medium",
        {"hours": 4, "break_minutes": 20},
    ),
    (
        "运价异常",
        "330100",
        RuleKind.FARE_BAND,
        "low",
        {"per_km_min": 1.0, "per_km_max": 8.0, "per_minute_max": 5.0},
    ),
    ("车辆定位中断 10 分钟", "330100", RuleKind.STALE_FEED, "low", {"minutes": 10}),
    (
        "车辆异常聚集",
        "330100",
        RuleKind.CLUSTERING,
        "medium",
        {"cell_m": 300, "vehicles": 20, "window_minutes": 5},
    ),
    ("平台在未许可城市经营", "330000", RuleKind.OUTSIDE_LICENSED_CITIES, "high", {}),
]


class _IngestClient:
    """The simulator's client, writing through ``ingest_batch`` (no HTTP server needed)."""

    def __init__(self, credential: CompanyCredential) -> None:
        self.credential = credential

    def send(self, interface: str, records: Sequence[dict[str, Any]]) -> Any:
        from yunzheng.exchange.ingest import ingest_batch
        from yunzheng.exchange.spec import get_spec

        return ingest_batch(
            credential=self.credential,
            interface=get_spec().interface(interface),
            records=records,
            wire_format="json",
        )


def _author(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        from yunzheng.accounts import demo as accounts_demo

        accounts_demo.load_demo()
        user = User.objects.get(username=username)
    return user


def load_demo() -> list[DemoLogin]:
    from yunzheng.accounts import demo as accounts_demo
    from yunzheng.accounts.credentials import company_credential_create
    from yunzheng.exchange import demo as exchange_demo
    from yunzheng.exchange.simulator import INCIDENTS, SimulationPlan, run

    for name, region, kind, severity, params in DEMO_RULES:
        if not AlarmRule.objects.filter(name=name, region_code=region).exists():
            author = _author("hz-transport" if region == "330100" else "zj-transport")
            rule_create(
                user=author,
                name=name,
                region_code=region,
                kind=kind,
                severity=severity,
                params=params,
                enabled=True,
                note="demo",
            )
    company = Company.objects.filter(credit_code=accounts_demo.COMPANY_CREDIT_CODE).first()
    if company is not None and not Alarm.objects.filter(company=company).exists():
        issued = company_credential_create(
            company=company, name="alarm demo", environment=CompanyCredential.Environment.PRODUCTION
        )
        plan = SimulationPlan(
            company_id=company.supervision_company_id,
            drivers=exchange_demo.DEMO_DRIVERS,
            orders=exchange_demo.DEMO_ORDERS,
            seed=1,
            incidents=INCIDENTS,
        )
        run(plan, _IngestClient(issued.credential), batch_size=1000)
        alarms_tick(now=timezone.now())
        # The supervision demo computed the compliance before these last hours arrived: take
        # today's orders in as the nightly job would (so a second `make run` changes nothing).
        from yunzheng.core.clock import today_in_china
        from yunzheng.supervision.services import order_facts_refresh

        today = today_in_china()
        for day in (today - timedelta(days=1), today):  # the hours may begin before midnight
            order_facts_refresh(day=day)
    return [
        DemoLogin(
            role="Alarm desk (SOS, unlicensed orders, out-of-town, fatigue, fares, stale feeds, gatherings)",
            how="log in as hz-transport (rules and desk) or hz-police (SOS alarms); "
            "periodic checks: manage.py alarms_tick (every minute)",
            where="/supervision/alarms/",
        ),
        DemoLogin(
            role="Company view of alarms (answer with an explanation or a correction)",
            how="log in as the demo company's contact person (the verified driver above)",
            where="/supervision/alarms/company/",
        ),
    ]
