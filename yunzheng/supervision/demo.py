"""Demo data for `make run`: the licence registry of the demo platforms' drivers and vehicles, the
cities they are licensed in, and the compliance of every month of the exchange demo's history.

The exchange demo uploads three months of four platforms in 杭州 and 宁波 through the real
interface before this loader runs. Here the licence registry learns about their drivers and
vehicles - from each company's uploaded base information (``BaseInfoCurrent``), or, when the
simulation has not run, from the simulator's deterministic plans - with a different story per
platform, so that rates, rankings and movers differ:

* 云途出行: three in five of its drivers licensed, until last month two more in five got their
  certificate (its rate rises); one driver's certificate cancelled yesterday, one vehicle's
  expired three days ago;
* 钱江约车: a quarter of its drivers' certificates ended on the last day of last month (it falls);
* 甬城出行: nearly everyone licensed;
* 浙里打车 (an aggregator, ranked separately): a third of its drivers never licensed.

Then ``compliance_compute`` (the nightly job's service) computes every month of the history and
the current one. Idempotent: the same periods are stored again (no change), the months recomputed.
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
    next_month,
    platform_profile_set,
    previous_month,
)

DEMO = Actor.system("demo")
Identifier = tuple[str, str]  # (key, display)

#: CompanyId -> (story, cities it is licensed in); 钱江约车 is licensed in 宁波 but sends nothing there.
STORIES = {
    "330106YUNTU0001": ("rising", ("330100", "330200")),
    "330104QJYC0001": ("falling", ("330100", "330200")),
    "330203YCCX0001": ("steady", ("330200",)),
    "330108ZLDC0001": ("aggregator", ("330100", "330200")),
}


def _uploaded(company: Company) -> tuple[list[Identifier], list[Identifier]]:
    """(key, display) of the company's drivers (keyed by the exchange's hash of LicenseId) and
    vehicles, from its uploaded base information."""
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
    return drivers, vehicles


def _planned(company_id: str) -> tuple[list[Identifier], list[Identifier]]:
    """The same, from the exchange demo's simulation plans (base information only: cheap)."""
    from yunzheng.exchange import demo as exchange_demo
    from yunzheng.exchange.simulator import base_information

    drivers: list[Identifier] = []
    vehicles: list[Identifier] = []
    for operation in exchange_demo.OPERATIONS:
        if operation.company_id != company_id:
            continue
        for interface, record in base_information(exchange_demo.plan_for(operation)):
            if interface == "baseInfoDriver":
                number = normalise_identifier(LicenceKind.DRIVER, str(record["LicenseId"]))
                drivers.append(
                    (licence_key(LicenceKind.DRIVER, number), licence_display(LicenceKind.DRIVER, number))
                )
            elif interface == "baseInfoVehicle":
                plate = normalise_identifier(LicenceKind.VEHICLE, str(record["VehicleNo"]))
                vehicles.append((plate, plate))
    return sorted(drivers), sorted(vehicles)


def _driver_terms(story: str, n: int, today: date) -> tuple[date, date, str] | None:
    """(valid from, valid until, status) of driver n's certificate, or None: never licensed."""
    this_month = today.replace(day=1)
    since, until, status = date(today.year - 3, 1, 1), date(today.year + 3, 12, 31), str(PeriodStatus.VALID)
    if story == "rising":
        if n % 5 == 4:
            return None
        if n % 5 in (2, 3):
            since = previous_month(this_month)  # licensed only since last month
        if n == 1:
            status = str(PeriodStatus.CANCELLED)
    elif story == "falling":
        if n % 4 == 3:
            until = this_month - timedelta(days=1)  # ended on the last day of last month
        if n % 6 == 5:
            return None
    elif story == "steady":
        if n % 10 == 9:
            return None
    elif n % 3 == 2:  # the aggregator
        return None
    return since, until, status


def _periods(
    company_id: str,
    story: str,
    drivers: list[Identifier],
    vehicles: list[Identifier],
    today: date,
    region: str,
) -> list[PeriodInput]:
    out = []
    yesterday_noon = datetime.combine(today - timedelta(days=1), time(12), tzinfo=CHINA)
    prefix = company_id[6:10]
    for kind, identifiers in ((LicenceKind.DRIVER, drivers), (LicenceKind.VEHICLE, vehicles)):
        for n, (key, display) in enumerate(identifiers):
            if kind == LicenceKind.DRIVER:
                terms = _driver_terms(story, n, today)
            else:  # vehicles: one in nine unlicensed; 云途's third expired three days ago
                terms = None if n % 9 == 8 else (date(today.year - 3, 1, 1), date(today.year + 3, 12, 31), "")
                if terms and story == "rising" and n == 2:
                    terms = (terms[0], today - timedelta(days=3), "")
            if terms is None:
                continue
            since, until, status = terms
            cancelled = status == PeriodStatus.CANCELLED
            number = f"DEMO-{prefix}-{kind[0].upper()}{n:04d}"
            out.append(
                PeriodInput(
                    kind=kind,
                    identifier=key,
                    identifier_display=display,
                    certificate_no=number,
                    region_code=region,
                    valid_from=since,
                    valid_until=until,
                    status=status or str(PeriodStatus.VALID),
                    status_changed_at=yesterday_noon if cancelled else None,
                    source_ref=number,
                )
            )
    return out


def _months(today: date) -> list[date]:
    from yunzheng.exchange import demo as exchange_demo

    month, months = exchange_demo.history_start(today), []
    while month <= today:
        months.append(month)
        month = next_month(month)
    return months


def load_demo() -> list[DemoLogin]:
    from yunzheng.accounts import demo as accounts_demo

    today = today_in_china()
    platforms = {p.company_id: p for p in accounts_demo.PLATFORMS}
    companies = {
        c.supervision_company_id: c for c in Company.objects.filter(supervision_company_id__in=platforms)
    }
    if len(companies) < len(platforms):
        accounts_demo.load_demo()
        companies = {
            c.supervision_company_id: c for c in Company.objects.filter(supervision_company_id__in=platforms)
        }
    for company_id, (story, cities) in STORIES.items():
        company, platform = companies[company_id], platforms[company_id]
        drivers, vehicles = _uploaded(company)
        if not drivers:
            drivers, vehicles = _planned(company_id)
        periods = _periods(company_id, story, drivers, vehicles, today, cities[0])
        for kind in (LicenceKind.DRIVER, LicenceKind.VEHICLE):
            licence_periods_store(
                kind=kind,
                source=LicenceSource.CSV,
                periods=[p for p in periods if p.kind == kind],
                actor=DEMO,
            )
        platform_profile_set(
            company=company, display_name=platform.display_name, is_aggregator=platform.aggregator, actor=DEMO
        )
        for city in cities:
            if not CompanyCityLicence.objects.filter(company=company, city_code=city).exists():
                company_city_licence_set(
                    company=company, city_code=city, valid_from=date(today.year - 1, 1, 1), actor=DEMO
                )
    for month in _months(today):
        compliance_compute(month=month, actor=DEMO)
    month = today.replace(day=1)
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
            where=f"/supervision/bulletin/{previous_month(month):%Y-%m}/",
        ),
    ]
