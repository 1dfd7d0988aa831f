"""Demo data for `make run`: licences for the simulated platform's drivers and vehicles, computed rates.

The exchange demo uploads a simulated day of the demo company (20 drivers, 60 orders) through the
real interface before this loader runs. Here the licence registry learns about those drivers and
vehicles - from the company's base information (``BaseInfoCurrent``), or, when the simulation has
not run, from the simulator's deterministic plan - with some deliberately unlicensed, one driver's
certificate cancelled yesterday and one vehicle's expired three days ago; the demo company is
licensed in 杭州 (where it operates) and 宁波 (where it sends nothing); then the current month's
compliance is computed. Idempotent: the same periods are stored again (no change) and the month is
recomputed.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from yunzheng.accounts.models import Company
from yunzheng.core.audit import Actor
from yunzheng.core.clock import CHINA, today_in_china
from yunzheng.core.demodata import DemoLogin
from yunzheng.exchange.models import BaseInfoCurrent
from yunzheng.exchange.spec import get_spec
from yunzheng.supervision.imports import PeriodInput
from yunzheng.supervision.licences import (
    identifier_problem,
    licence_display,
    licence_key,
    normalise_identifier,
)
from yunzheng.supervision.models import CompanyCityLicence, LicenceKind, LicenceSource, PeriodStatus
from yunzheng.supervision.services import (
    company_city_licence_set,
    compliance_compute,
    licence_periods_store,
    platform_profile_set,
    previous_month,
)

DEMO = Actor.system("demo")


def _identifiers(company: Company) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(key, display) of the demo company's drivers and vehicles: its uploaded base information
    (drivers keyed by the exchange's hash of LicenseId), else the simulator's plan."""
    from yunzheng.exchange.personal_data import mask_record

    spec = get_spec()
    drivers = sorted(
        (key, str(mask_record("baseInfoDriver", payload).get("LicenseId", "")))
        for key, payload in BaseInfoCurrent.objects.filter(
            company=company, interface=spec.interface("baseInfoDriver").ipc_type_code, deleted=False
        ).values_list("natural_key", "payload")
    )
    vehicles = sorted(
        (plate, plate)
        for plate in (
            normalise_identifier(LicenceKind.VEHICLE, str(p.get("VehicleNo", "")))
            for p in BaseInfoCurrent.objects.filter(
                company=company, interface=spec.interface("baseInfoVehicle").ipc_type_code, deleted=False
            ).values_list("payload", flat=True)
        )
        if not identifier_problem(LicenceKind.VEHICLE, plate)
    )
    if not drivers:
        from yunzheng.exchange import demo as exchange_demo
        from yunzheng.exchange.simulator import SimulationPlan, generate

        plan = SimulationPlan(
            company_id=company.supervision_company_id,
            drivers=exchange_demo.DEMO_DRIVERS,
            orders=0,
            seed=1,
        )
        for interface, record in generate(plan):
            if interface == "baseInfoDriver":
                number = normalise_identifier(LicenceKind.DRIVER, str(record["LicenseId"]))
                drivers.append(
                    (licence_key(LicenceKind.DRIVER, number), licence_display(LicenceKind.DRIVER, number))
                )
            elif interface == "baseInfoVehicle":
                plate = normalise_identifier(LicenceKind.VEHICLE, str(record["VehicleNo"]))
                vehicles.append((plate, plate))
    return drivers, vehicles


def _periods(kind: str, identifiers: list[tuple[str, str]], today: date) -> list[PeriodInput]:
    out = []
    yesterday_noon = datetime.combine(today - timedelta(days=1), time(12), tzinfo=CHINA)
    for n, (key, display) in enumerate(identifiers):
        if n % 5 == 4:
            continue  # deliberately unlicensed
        status, changed, until = PeriodStatus.VALID, None, date(today.year + 3, 12, 31)
        if kind == LicenceKind.DRIVER and n == 1:
            status, changed = PeriodStatus.CANCELLED, yesterday_noon
        if kind == LicenceKind.VEHICLE and n == 2:
            until = today - timedelta(days=3)
        out.append(
            PeriodInput(
                kind=kind,
                identifier=key,
                identifier_display=display,
                certificate_no=f"DEMO-{kind[0].upper()}{n:04d}",
                region_code="330100",
                valid_from=date(today.year - 3, 1, 1),
                valid_until=until,
                status=str(status),
                status_changed_at=changed,
                source_ref=f"DEMO-{kind[0].upper()}{n:04d}",
            )
        )
    return out


def load_demo() -> list[DemoLogin]:
    from yunzheng.accounts import demo as accounts_demo

    company = Company.objects.filter(credit_code=accounts_demo.COMPANY_CREDIT_CODE).first()
    if company is None:
        accounts_demo.load_demo()
        company = Company.objects.get(credit_code=accounts_demo.COMPANY_CREDIT_CODE)
    today = today_in_china()
    drivers, vehicles = _identifiers(company)
    for kind, identifiers in ((LicenceKind.DRIVER, drivers), (LicenceKind.VEHICLE, vehicles)):
        licence_periods_store(
            kind=kind,
            source=LicenceSource.CSV,
            periods=_periods(kind, identifiers, today),
            actor=DEMO,
        )
    platform_profile_set(company=company, display_name="云途出行", is_aggregator=False, actor=DEMO)
    for city in ("330100", "330200"):
        if not CompanyCityLicence.objects.filter(company=company, city_code=city).exists():
            company_city_licence_set(
                company=company, city_code=city, valid_from=date(today.year - 1, 1, 1), actor=DEMO
            )
    month = today.replace(day=1)
    compliance_compute(month=previous_month(month), actor=DEMO)
    compliance_compute(month=month, actor=DEMO)
    return [
        DemoLogin(
            role="Regulators: compliance dashboard, non-compliant orders, data quality, monthly bulletin",
            how="log in as city or province transport staff (hz-transport / zj-transport, see above)",
            where="/supervision/",
        ),
        DemoLogin(
            role="Licence registry import (drivers' and vehicles' ride-hailing certificates)",
            how="manage.py import_licence_registry --kind driver|vehicle file.csv; nightly: "
            "manage.py compute_compliance --yesterday",
            where=f"/supervision/bulletin/{month:%Y-%m}/",
        ),
    ]
