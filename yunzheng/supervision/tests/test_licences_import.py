"""The licence history: CSV import (validation, idempotency), state intervals, registry adapters."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from yunzheng.core.crypto import lookup_hash
from yunzheng.exchange.spec.validation import BEIJING
from yunzheng.supervision.licences import OPEN_END, PeriodFacts, intervals_for, state_at
from yunzheng.supervision.models import LicenceInterval, LicencePeriod
from yunzheng.supervision.registries import registry_status

from .builders import D1, DC, VE, import_csv


def _bj(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


def test_state_rules() -> None:
    renewed = [
        PeriodFacts(date(2020, 1, 1), date(2023, 12, 31), "valid", None),
        PeriodFacts(date(2024, 3, 1), date(2027, 12, 31), "valid", None),
    ]
    assert state_at(renewed, _bj(2019, 12, 31, 23, 59)) == "unlicensed"
    assert state_at(renewed, _bj(2023, 12, 31, 23, 59)) == "valid"
    assert state_at(renewed, _bj(2024, 1, 15)) == "expired"  # the gap between two certificates
    assert state_at(renewed, _bj(2024, 3, 1)) == "valid"
    assert [i.state for i in intervals_for(renewed)] == ["valid", "expired", "valid", "expired"]
    assert intervals_for(renewed)[-1].ends_at == OPEN_END
    suspended_then_new = [
        PeriodFacts(date(2020, 1, 1), date(2027, 12, 31), "suspended", _bj(2025, 5, 1, 8)),
        PeriodFacts(date(2025, 6, 1), date(2027, 12, 31), "valid", None),
    ]
    assert state_at(suspended_then_new, _bj(2025, 5, 1, 7, 59)) == "valid"
    assert state_at(suspended_then_new, _bj(2025, 5, 20)) == "suspended"
    assert state_at(suspended_then_new, _bj(2025, 6, 1)) == "valid"
    revoked_and_cancelled = [
        PeriodFacts(date(2020, 1, 1), date(2027, 12, 31), "cancelled", _bj(2025, 1, 1)),
        PeriodFacts(date(2021, 1, 1), date(2027, 12, 31), "revoked", _bj(2025, 2, 1)),
    ]
    assert state_at(revoked_and_cancelled, _bj(2025, 1, 15)) == "valid"  # the second still runs
    assert state_at(revoked_and_cancelled, _bj(2025, 3, 1)) == "revoked"  # revoked beats cancelled
    single = intervals_for(
        [PeriodFacts(date(2020, 1, 1), date(2027, 12, 31), "cancelled", _bj(2025, 1, 1, 12))]
    )
    assert [(i.state, i.starts_at.astimezone(UTC).hour) for i in single] == [("valid", 16), ("cancelled", 4)]


@pytest.mark.django_db
def test_csv_import_reports_rows_and_is_idempotent() -> None:
    lines = [
        "licence_id,certificate_no,region_code,valid_from,valid_until,status,status_changed_at",
        f"{D1},QC1,330100,2025-01-01,2028-12-31,valid,",
        f"{D1[:-1]}0,QC2,330100,2025-01-01,2028-12-31,valid,",  # wrong check character (unless 0)
        f"{DC},QC3,330100,2025-01-01,2028-12-31,cancelled,",  # no time of the cancellation
        f"{DC},QC4,3301,20250101,2024-12-31,bogus,",
        f"{DC},QC5,330100,2025/01/01,2028-12-31,注销,2026-10-10 12:00",
    ]
    report = import_csv("driver", lines)
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    problems = {(e.line, e.field, e.code) for e in report.errors}
    if D1[-1] != "0":
        assert (3, "identifier", "invalid") in problems
    assert (4, "status_changed_at", "required") in problems
    assert {(5, "region_code", "invalid"), (5, "valid_until", "order"), (5, "status", "enum")} <= problems
    cancelled = LicencePeriod.objects.get(source_ref="QC5")
    assert cancelled.status == "cancelled"
    assert cancelled.status_changed_at == _bj(2026, 10, 10, 12)
    assert LicenceInterval.objects.filter(identifier=lookup_hash(DC)).count() == 2
    assert (
        cancelled.identifier_display == DC[:4] + "**********" + DC[-4:]
    )  # the number itself is never stored
    again = import_csv("driver", lines)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert LicencePeriod.objects.count() == 2
    # A later export says the certificate was extended: the period is updated, not duplicated.
    extended = import_csv("driver", [lines[0], f"{D1},QC1,330100,2025-01-01,2030-12-31,valid,"])
    assert (extended.created, extended.updated) == (0, 1)
    assert LicencePeriod.objects.get(source_ref="QC1").valid_until == date(2030, 12, 31)


@pytest.mark.django_db
def test_import_command(tmp_path: Path) -> None:
    good = tmp_path / "vehicles.csv"
    good.write_text(f"车牌号,有效期起,有效期止\n{VE},2024-10-16,2026-10-15\n", encoding="gb18030")
    out = io.StringIO()
    call_command("import_licence_registry", "--kind", "vehicle", str(good), stdout=out)
    assert "1 created" in out.getvalue()
    call_command("import_licence_registry", "--kind", "vehicle", str(good), stdout=out)
    assert "1 unchanged" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("车牌号,有效期起,有效期止\nXYZ,2024-10-16,2026-10-15\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command(
            "import_licence_registry", "--kind", "vehicle", str(bad), stdout=io.StringIO(), stderr=err
        )
    assert "line 2: identifier: invalid" in err.getvalue()


@pytest.mark.django_db
def test_registry_adapters_read_the_registries() -> None:
    from yunzheng.core.audit import Actor
    from yunzheng.elicense.vehicles import vehicle_certificate_cancel, vehicle_certificate_issue
    from yunzheng.practitioners.services import certificate_register

    status = {(s["kind"], s["source"]): s["available"] for s in registry_status()}
    assert status[("driver", "practitioners")]
    assert status[("vehicle", "elicense")]
    actor = Actor.system("test")
    certificate_register(
        number="330100202500001",
        holder_name="王师傅",
        holder_id_number=D1,
        categories=["ride_hailing"],
        issuing_authority="杭州市交通运输局",
        region_code="330100",
        first_issued_on=date(2025, 1, 1),
        valid_from=date(2025, 1, 1),
        valid_until=date(2030, 12, 31),
        actor=actor,
    )
    certificate_register(
        number="330100202500002",
        holder_name="李师傅",
        holder_id_number=DC,
        categories=["freight"],  # not a ride-hailing driver
        issuing_authority="杭州市交通运输局",
        region_code="330100",
        first_issued_on=date(2025, 1, 1),
        valid_from=date(2025, 1, 1),
        valid_until=date(2030, 12, 31),
        actor=actor,
    )
    ride = vehicle_certificate_issue(
        certificate_number="330106WY000001",
        plate_number=VE,
        plate_colour="green",
        business_scope="网络预约出租汽车客运",
        issuing_region="330106",
        valid_from=date(2025, 1, 1),
        valid_until=date(2029, 12, 31),
        owner_name="杭州甲出行科技有限公司",
        actor=actor,
    )
    vehicle_certificate_issue(
        certificate_number="330106HY000002",
        plate_number="浙A88888",
        plate_colour="yellow",
        business_scope="道路普通货物运输",
        issuing_region="330106",
        valid_from=date(2025, 1, 1),
        valid_until=date(2029, 12, 31),
        owner_name="某物流公司",
        actor=actor,
    )
    out = io.StringIO()
    call_command("sync_licence_registries", stdout=out)
    assert "practitioners/driver: 1 periods" in out.getvalue()
    assert "elicense/vehicle: 1 periods" in out.getvalue()
    driver = LicencePeriod.objects.get(source="practitioners")
    assert (driver.identifier, driver.valid_until, driver.status) == (
        lookup_hash(D1),
        date(2030, 12, 31),
        "valid",
    )
    vehicle = LicencePeriod.objects.get(source="elicense")
    assert (vehicle.identifier, vehicle.status) == (VE, "valid")
    vehicle_certificate_cancel(certificate=ride, reason="车辆报废", actor=actor)
    call_command("sync_licence_registries", stdout=io.StringIO())
    vehicle.refresh_from_db()
    assert vehicle.status == "cancelled"
    assert vehicle.status_changed_at is not None
    assert LicenceInterval.objects.filter(identifier=VE, state="cancelled").exists()
