"""The periodic registry/licence check covers every registry (qualification certificates, credit
vouchers, vehicle certificates, operating licences, passes), with issuance, activation and
data-compliance rates per province for every licence type, on the page and in the API."""

from __future__ import annotations

from pathlib import Path

import pytest

from yunzheng.elicense.consistency import registry_adapters, sync_check
from yunzheng.elicense.models import ElectronicLicence, LicenceType
from yunzheng.elicense.tests.conftest import holder, make_staff, resident_id, staff_client, truck

__all__ = ["holder", "truck"]  # fixtures shared with the elicense tests
from yunzheng.practitioners.registry_import import COLUMNS
from yunzheng.registries.tests.test_import import cert_row, run, write_csv

pytestmark = pytest.mark.django_db


def test_every_registry_takes_part_in_the_check() -> None:
    covered = {adapter.licence_type for adapter in registry_adapters()}
    assert covered == set(LicenceType.values)


def test_rates_per_province_and_licence_type(tmp_path: Path, truck) -> None:
    rows = [cert_row(f"330100202400{i:03d}", resident_id("330102")) for i in range(4)]
    run("qualification-certificates", str(write_csv(tmp_path / "c.csv", COLUMNS, rows, bom=False)))
    report = sync_check()
    zhejiang = report.by_type[("330000", LicenceType.PRACTITIONER_QUALIFICATION)].as_json()
    assert (zhejiang["records"], zhejiang["issuance_rate"], zhejiang["compliance_rate"]) == (4, 1.0, 1.0)
    assert zhejiang["activation_rate"] == 0.0
    tianjin = report.by_type[("120000", LicenceType.VEHICLE_TRANSPORT_CERTIFICATE)].as_json()
    assert tianjin["issuance_rate"] == 1.0
    assert report.counts == {"authenticity": 0, "completeness": 0, "validity": 0, "timeliness": 0}

    # A certificate whose licence went missing lowers its type's issuance rate and is reported.
    ElectronicLicence.objects.filter(data__certificate_number="330100202400000").delete()
    report = sync_check()
    certificates = report.by_type[("330000", LicenceType.PRACTITIONER_QUALIFICATION)].as_json()
    assert certificates["issuance_rate"] == 0.75
    assert report.counts["completeness"] == 1

    staff = staff_client(make_staff("330000"))
    assert staff.post("/api/v1/elicense/sync-check").status_code == 200
    body = staff.get("/api/v1/elicense/sync-report").json()
    types = {(p["province"], p["licence_type"]): p for p in body["provinces"]}
    assert types[("330000", "practitioner_qualification")]["issuance_rate"] == 0.75
    assert ("120000", "vehicle_transport_certificate") not in types  # another province's staff
    page = staff.get("/elicense/staff/sync/").content.decode()
    assert 'data-type="practitioner_qualification"' in page
