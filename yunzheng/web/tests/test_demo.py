"""`manage.py load_demo` (what `make run` loads): the whole demo on the test database, twice.

Slow (it uploads three months of four platforms through the real HTTP interface, about a minute
on a quiet machine), but it is the only test of what a new user sees first, so it runs in
`make test`. Transactional: the exchange demo serves Django in a thread after the commit.
"""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db.models import Model
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunzheng.accounts import demo as accounts_demo
from yunzheng.accounts.models import Company, CompanyCredential, User
from yunzheng.alarms.models import Alarm, AlarmRule
from yunzheng.core.clock import today_in_china
from yunzheng.elicense.models import ElectronicLicence, TrafficPassApplication, VehicleTransportCertificate
from yunzheng.exchange.models import BaseInfoCurrent, EventRecord, IngestBatch, PositionRecord
from yunzheng.licensing.models import LicenceApplication
from yunzheng.practitioners.models import CaseState, QualificationCertificate, ServiceCase
from yunzheng.supervision import selectors
from yunzheng.supervision.models import ComplianceDaily, LicencePeriod, OrderFact
from yunzheng.supervision.services import previous_month

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _data_migrations_rows() -> None:
    """Earlier transactional tests flush the rows data migrations seed (Tianjin's traffic-pass
    types), which a fresh `make run` has: seed them again with the migration's own function.
    (serialized_rollback would do it too, but collides with the content types a flush re-creates.)"""
    migration = importlib.import_module("yunzheng.elicense.migrations.0003_traffic_pass_types_task_materials")
    migration.seed_tianjin_types(django_apps, None)


COUNTED: tuple[type[Model], ...] = (
    User,
    Company,
    CompanyCredential,
    IngestBatch,
    EventRecord,
    PositionRecord,
    BaseInfoCurrent,
    OrderFact,
    ComplianceDaily,
    LicencePeriod,
    QualificationCertificate,
    ServiceCase,
    LicenceApplication,
    ElectronicLicence,
    VehicleTransportCertificate,
    TrafficPassApplication,
    AlarmRule,
    Alarm,
)


def _counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in COUNTED}


def _staff_client(username: str) -> Client:
    """The demo's printed login: username, the demo password, then a TOTP code."""
    user = User.objects.get(username=username)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    client = Client()
    response = client.post(
        "/accounts/staff/login/", {"username": username, "password": accounts_demo.STAFF_PASSWORD}
    )
    assert response.status_code == 302
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    assert client.post("/accounts/staff/otp/", {"token": f"{token:06d}"}).status_code == 302
    return client


def test_the_demo_looks_like_a_working_platform_and_loads_twice() -> None:
    out = StringIO()
    call_command("load_demo", stdout=out)
    printed = out.getvalue()
    assert "demo logins" in printed
    assert printed.count("  • ") >= 33

    # Four platforms uploaded three months through the interface (no rejects but the deliberate ones).
    uploaders = set(IngestBatch.objects.values_list("company__supervision_company_id", flat=True))
    assert {p.company_id for p in accounts_demo.PLATFORMS} <= uploaders
    assert EventRecord.objects.count() > 10_000
    assert PositionRecord.objects.count() > 10_000

    scope = selectors.national_scope()
    last_month = previous_month(today_in_china().replace(day=1))
    platforms = selectors.group_rates(scope=scope, month=last_month, by="platform")
    assert len([p for p in platforms if p.orders >= 100 and p.both_ok > 0]) >= 3
    assert len({round(p.rate or 0, 3) for p in platforms}) >= 3  # varied rates
    cities = selectors.group_rates(scope=scope, month=last_month, by="city")
    assert {c.key for c in cities if c.orders > 0} >= {330100, 330200}
    assert selectors.platform_ranking(scope=scope, month=last_month, aggregators=True)  # 浙里打车
    daily = selectors.daily_rates(scope=scope, month=last_month)
    assert all(d.orders > 0 for d in daily)
    # 云途出行 licensed two in five more drivers last month: it rises.
    risers = selectors.movers(scope=scope, month=last_month, min_orders=100).risers
    assert "云途出行" in [m.label for m in risers]

    quality = {row.company_id: row for row in selectors.quality_report(scope=scope)}
    assert all(quality[p.company_id].received > 0 for p in accounts_demo.PLATFORMS)
    assert "rejects" in quality["330203YCCX0001"].issues()  # swapped coordinates
    assert "implausible" in quality["330104QJYC0001"].issues()  # zero-duration trips
    assert quality["330104QJYC0001"].silent_cities == [330200]
    assert selectors.bulletin(scope=scope, month=last_month) is not None

    # Regulators see it on their pages.
    province = _staff_client("zj-transport")
    for url in (
        f"/supervision/?month={last_month:%Y-%m}",
        "/supervision/quality/",
        f"/supervision/bulletin/{last_month:%Y-%m}/",
    ):
        response = province.get(url)
        assert response.status_code == 200, url
    assert "云途出行" in province.get(f"/supervision/?month={last_month:%Y-%m}").content.decode()

    # The office queue has a case in every state; licensing applications stand at four steps.
    assert set(ServiceCase.objects.values_list("state", flat=True)) == set(CaseState.values)
    assert LicenceApplication.objects.values("step").distinct().count() >= 4
    # Licences, credit vouchers and passes.
    kinds = set(ElectronicLicence.objects.values_list("licence_type", flat=True))
    assert {"practitioner_qualification", "credit_voucher", "traffic_pass"} <= kinds
    assert TrafficPassApplication.objects.values("status").distinct().count() >= 2

    first = _counts()
    second_out = StringIO()
    call_command("load_demo", stdout=second_out)
    assert _counts() == first
    assert "demo logins" in second_out.getvalue()
    assert selectors.group_rates(scope=scope, month=last_month, by="platform") == platforms
