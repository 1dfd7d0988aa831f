"""The registry/licence consistency check: each mismatch kind is detected, rates per province."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from yunzheng.core.models import AuditEntry
from yunzheng.elicense.consistency import sync_check
from yunzheng.elicense.models import ElectronicLicence, MinistryIndexEntry, VehicleTransportCertificate
from yunzheng.elicense.tests.conftest import SYSTEM, make_staff, staff_client, today, user_client
from yunzheng.elicense.tests.test_traffic_passes import request
from yunzheng.elicense.traffic_passes import (
    traffic_pass_apply,
    traffic_pass_approve,
    traffic_pass_data_review,
)
from yunzheng.elicense.vehicles import vehicle_certificate_annual_inspection


def kinds(report) -> dict[str, int]:
    return {kind: count for kind, count in report.counts.items() if count}


def test_consistent_registries_have_no_mismatches_and_full_issuance(keys, holder, truck, tianjin_staff):
    application = traffic_pass_apply(user=holder, request=request())
    traffic_pass_data_review(application=application, staff_user=tianjin_staff)
    traffic_pass_approve(application=application, staff_user=tianjin_staff)
    vehicle_certificate_annual_inspection(certificate=truck, inspected_on=today(), actor=SYSTEM)
    report = sync_check()
    assert kinds(report) == {}
    tianjin = report.provinces["120000"]
    assert (tianjin.records, tianjin.issued, tianjin.licences) == (2, 2, 2)
    rates = tianjin.as_json()
    assert rates["issuance_rate"] == 1.0
    assert rates["activation_rate"] == 0.0
    assert rates["compliance_rate"] == 1.0
    # The holder opens the pass: activated.
    traffic_pass = ElectronicLicence.objects.get(source_type="elicense.traffic_pass")
    assert user_client(holder).get(f"/elicense/licences/{traffic_pass.lid}/").status_code == 200
    assert sync_check().provinces["120000"].as_json()["activation_rate"] == 0.5


def test_each_kind_of_mismatch_is_found(keys, holder, truck):
    licence = ElectronicLicence.objects.get(
        source_type="elicense.vehicle_certificate", source_id=str(truck.pk)
    )
    # authenticity: a row changed behind licence_sync's back (a later expiry, written directly)
    ElectronicLicence.objects.filter(pk=licence.pk).update(
        valid_until=licence.valid_until + dt.timedelta(days=900)
    )
    report = sync_check()
    found = {(m.kind, m.lid) for m in report.mismatches}
    assert ("authenticity", licence.lid) in found
    assert ("validity", licence.lid) in found  # the registry's dates differ too
    # completeness: a registry record without a licence (written without the service)
    now = timezone.now()
    orphan_record = VehicleTransportCertificate.objects.create(
        certificate_number="X1",
        plate_number="津B54321",
        plate_colour="yellow",
        owner_name="某人",
        business_scope="货运",
        issuing_region="120100",
        valid_from=today(),
        valid_until=today() + dt.timedelta(days=9),
        created_at=now,
        updated_at=now,
    )
    # timeliness: the registry changed 10 minutes ago and the licence has not caught up
    VehicleTransportCertificate.objects.filter(pk=truck.pk).update(updated_at=now - dt.timedelta(minutes=10))
    ElectronicLicence.objects.filter(pk=licence.pk).update(source_updated_at=now - dt.timedelta(minutes=20))
    report = sync_check(now=now)
    by_kind: dict[str, set[str]] = {}
    for mismatch in report.mismatches:
        by_kind.setdefault(mismatch.kind, set()).add(mismatch.source_id)
    assert str(orphan_record.pk) in by_kind["completeness"]
    assert str(truck.pk) in by_kind["timeliness"]
    assert report.provinces["120000"].as_json()["issuance_rate"] == 0.5


def test_index_disagreement_is_an_authenticity_mismatch(keys, holder, truck):
    MinistryIndexEntry.objects.update(status="revoked")
    assert kinds(sync_check()) == {"authenticity": 1}


def test_data_compliance_rate(keys, holder):
    from yunzheng.elicense.tests.conftest import sync_licence

    sync_licence(holder, source_id="ok")
    sync_licence(
        holder, source_id="incomplete", data={"categories": ["网约车驾驶员"]}
    )  # no certificate number
    zhejiang = sync_check().provinces["330000"].as_json()
    assert zhejiang["licences"] == 2
    assert zhejiang["compliance_rate"] == 0.5
    assert zhejiang["records"] == 0
    assert zhejiang["issuance_rate"] is None  # no adapter for test.registry


def test_command_and_staff_report(keys, holder, truck):
    out = StringIO()
    call_command("check_elicense_sync", stdout=out)
    assert "Mismatches: authenticity 0, completeness 0, validity 0, timeliness 0" in out.getvalue()
    ElectronicLicence.objects.update(status="suspended")
    with pytest.raises(CommandError):
        call_command("check_elicense_sync", "--fail-on-mismatch", "--json", stdout=StringIO())
    tianjin, zhejiang = staff_client(make_staff("120000")), staff_client(make_staff("330000"))
    report = tianjin.get("/api/v1/elicense/sync-report").json()
    assert report["counts"]["authenticity"] == 1
    assert report["counts"]["validity"] == 1
    # The province's rates over every type, then per licence type.
    assert [(p["province"], p["licence_type"]) for p in report["provinces"]] == [
        ("120000", ""),
        ("120000", "vehicle_transport_certificate"),
    ]
    assert zhejiang.get("/api/v1/elicense/sync-report").json()["counts"]["validity"] == 0  # not its province
    page = tianjin.get("/elicense/staff/sync/")
    assert page.status_code == 200
    assert "真实性" in page.content.decode()
    assert tianjin.post("/elicense/staff/sync/").status_code == 302
    ran = tianjin.post("/api/v1/elicense/sync-check").json()
    assert ran["run_id"] > report["run_id"]


def test_ministry_index_is_queryable_by_any_province(keys, holder, truck):
    zhejiang = staff_client(make_staff("330000"))
    searches = AuditEntry.objects.filter(action="elicense.index.search_by_id").count()
    entries = zhejiang.get("/api/v1/elicense/index", {"holder_id_number": holder.id_number}).json()
    assert [e["issuer_province"] for e in entries] == ["120000"]
    indexed = MinistryIndexEntry.objects.get(issuer_province="120000")
    assert (entries[0]["id"], entries[0]["type"]) == (indexed.lid, indexed.licence_type)
    assert AuditEntry.objects.filter(action="elicense.index.search_by_id").count() == searches + 1
    assert json.dumps(entries).find(holder.id_number) == -1
    assert zhejiang.get("/api/v1/elicense/index", {"province": "330000"}).json() == []
    assert user_client(holder).get("/api/v1/elicense/index").status_code == 403
