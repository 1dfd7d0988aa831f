"""Connectivity test: the sheet of 32 interfaces, every offending field with a concrete fix hint."""

from __future__ import annotations

from typing import Any

from django.utils import translation

from yunzheng.conformance import services
from yunzheng.conformance.connectivity import connectivity_report
from yunzheng.conformance.hints import display_value, fix_hint
from yunzheng.conformance.models import Cycle
from yunzheng.conformance.sandbox import record_sandbox_batch
from yunzheng.conformance.texts import hint_text
from yunzheng.conformance.traffic import connectivity_records
from yunzheng.core.crypto import encrypt_field
from yunzheng.exchange.spec import get_spec
from yunzheng.exchange.spec.samples import OMIT, invalid_cases, valid_record

from .conftest import Tenant


def _open_connectivity(tenant: Tenant) -> Cycle:
    campaign = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    return services.cycle_open(campaign=campaign, kind=Cycle.Kind.CONNECTIVITY, user=tenant.user)


def _send(tenant: Tenant, interface: str, records: list[Any]) -> Any:
    return record_sandbox_batch(
        credential=tenant.sandbox, interface=get_spec().interface(interface), records=records
    )


def test_one_valid_record_per_interface_passes_the_sheet(tenant: Tenant) -> None:
    cycle = _open_connectivity(tenant)
    for interface, records in connectivity_records(tenant.company_id).items():
        result = _send(tenant, interface, records)
        assert (result.accepted, result.rejected) == (1, []), (interface, result.to_dict())
    closed = services.cycle_close(cycle=cycle, user=tenant.user)
    report = closed.report
    assert report is not None
    assert closed.status == Cycle.Status.PASSED
    assert report["summary"] == {"interfaces": 32, "pass": 32, "fail": 0, "not_received": 0}
    assert [row["type"] for row in report["interfaces"]][:2] == ["baseInfoCompany", "baseInfoCompanyStat"]


def test_every_rule_of_every_field_is_reported_with_a_fix_hint(tenant: Tenant) -> None:
    """One record per labelled bad value (samples.invalid_cases) of every field of all 32 interfaces."""
    cycle = _open_connectivity(tenant)
    expected: dict[str, set[tuple[str, str]]] = {}
    for interface in get_spec().interfaces:
        records = []
        for case in invalid_cases(interface):
            record = valid_record(interface, seed=1, CompanyId=tenant.company_id)
            if case.value is OMIT:
                record.pop(case.field, None)
            else:
                record[case.field] = case.value
            records.append(record)
            expected.setdefault(interface, set()).add((case.field, str(case.code)))
        result = _send(tenant, interface, records)
        assert result.accepted == 0
        assert len(result.rejected) == len(records)
    report = connectivity_report(cycle.pk, company_id=tenant.company_id)
    assert report["summary"]["fail"] == 32
    for row in report["interfaces"]:
        found = {(p["field"], p["code"]) for p in row["problems"]}
        assert expected[row["type"]] <= found, (row["type"], expected[row["type"]] - found)
        for problem in row["problems"]:
            for example in problem["examples"]:
                assert example["hint"]["code"] != "rule", (row["type"], problem)
                for language in ("zh-hans", "en"):
                    with translation.override(language):
                        text = hint_text(example["hint"])
                    assert text, (row["type"], problem["field"])
                    assert "%(" not in text, (row["type"], problem["field"], text)


def test_hints_say_exactly_what_to_change() -> None:
    spec = get_spec()
    vehicle, driver, position = (
        spec.interface(t) for t in ("baseInfoVehicle", "baseInfoDriver", "positionVehicle")
    )
    with translation.override("en"):
        assert hint_text(fix_hint(vehicle, "VIN", "halfwidth", "LGXC16DF4Ｋ0123456")) == (
            "Only half-width characters in VIN: position 10: use half-width 'K' instead of 'Ｋ'.".replace(
                "'", ""
            )
        )
        assert "YYYYMMDD, a real calendar date" in hint_text(
            fix_hint(vehicle, "CertifyDateA", "date", 20190230)
        )
        enum = hint_text(fix_hint(vehicle, "FixState", "enum", "9"))
        assert enum.startswith("FixState must be one of: 0 (")
        assert "1 (" in enum
        assert "swapped" in hint_text(fix_hint(position, "Longitude", "coordinate_range", 30_274_085))
        assert "send 120000000" in hint_text(fix_hint(position, "Longitude", "coordinate_range", 120))
        assert "did you mean CompanyId?" in hint_text(fix_hint(position, "companyId", "unknown_field", "x"))
        assert "unix seconds" in hint_text(fix_hint(position, "PositionTime", "datetime", 1_700_000_000_000))
        assert "exactly 6 digits" in hint_text(fix_hint(position, "VehicleRegionCode", "fixed_length", 3301))
    with translation.override("zh-hans"):
        assert "半角" in hint_text(fix_hint(vehicle, "VIN", "halfwidth", "ＬGXC16DF4K0123456"))
    # personal data is stored encrypted and shown masked; the hint's position still says what to fix
    token = encrypt_field("33010619850612123X")
    assert display_value(token, driver, "LicenseId") == '"3301**********123X"'


def test_a_good_record_after_a_bad_one_does_not_heal_the_cycle(tenant: Tenant) -> None:
    cycle = _open_connectivity(tenant)
    bad = valid_record("orderCreate", seed=1, CompanyId=tenant.company_id, DepartTime=20260230120000)
    _send(tenant, "orderCreate", [bad])
    _send(tenant, "orderCreate", [valid_record("orderCreate", seed=2, CompanyId=tenant.company_id)])
    report = connectivity_report(cycle.pk, company_id=tenant.company_id)
    row = next(r for r in report["interfaces"] if r["type"] == "orderCreate")
    assert (row["status"], row["received"], row["accepted"], row["rejected"]) == ("fail", 2, 1, 1)
    assert row["problems"][0]["field"] == "DepartTime"
    assert row["problems"][0]["examples"][0]["value"] == "20260230120000"
    untouched = next(r for r in report["interfaces"] if r["type"] == "operatePay")
    assert untouched["status"] == "not_received"


def test_another_companys_id_is_reported_as_such(tenant: Tenant) -> None:
    cycle = _open_connectivity(tenant)
    result = _send(tenant, "orderCancel", [valid_record("orderCancel", seed=1, CompanyId="3301OTHER001")])
    assert result.rejected[0].codes == [("CompanyId", "company_mismatch")]
    report = connectivity_report(cycle.pk, company_id=tenant.company_id)
    problem = next(r for r in report["interfaces"] if r["type"] == "orderCancel")["problems"][0]
    assert problem["examples"][0]["hint"] == {
        "code": "company_mismatch",
        "params": {"company_id": tenant.company_id},
    }


def test_duplicates_in_a_cycle_are_stored_once(tenant: Tenant) -> None:
    _open_connectivity(tenant)
    record = valid_record("orderMatch", seed=4, CompanyId=tenant.company_id)
    first = _send(tenant, "orderMatch", [record, dict(record)])
    again = _send(tenant, "orderMatch", [record])
    assert (first.accepted, first.duplicates, again.accepted, again.duplicates) == (1, 1, 0, 1)
