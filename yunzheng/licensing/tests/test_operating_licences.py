"""The operating-licence registry (issue #13 item 1): issue, change, renew, suspend, reinstate,
revoke and cancel, each audited with a history row; the electronic licence and the ministry index
follow in the same transaction; revocation is final; a city maintains its own licences."""

from __future__ import annotations

import datetime as dt

import pytest

from yunzheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from yunzheng.core.models import AuditEntry
from yunzheng.elicense.consistency import sync_check
from yunzheng.elicense.models import ElectronicLicence, MinistryIndexEntry
from yunzheng.licensing import services
from yunzheng.licensing.models import OperatingLicence
from yunzheng.licensing.tests.factories import Officials, at, company_with_contact, officials, staff

pytestmark = pytest.mark.django_db
D = dt.date


def _issue(who: Officials, *, city: str = "330100", number: str = "") -> OperatingLicence:
    company, _user = company_with_contact()
    return services.operating_licence_issue(
        company=company,
        kind=OperatingLicence.Kind.NATIONAL,
        scope="网络预约出租汽车客运",
        area="杭州市",
        city_code=city,
        valid_from=D(2026, 1, 1),
        valid_until=D(2029, 12, 31),
        staff=who.city,
        number=number,
        now=at(2026, 1, 5),
    )


def _electronic(licence: OperatingLicence) -> ElectronicLicence:
    licence.refresh_from_db()
    return ElectronicLicence.objects.get(lid=licence.electronic_licence_id)


def test_lifecycle_reaches_the_electronic_licence_and_the_index() -> None:
    who = officials()
    licence = _issue(who, number="330100WY202600099")
    electronic = _electronic(licence)
    assert (electronic.status, electronic.data["certificate_number"]) == ("valid", "330100WY202600099")

    services.operating_licence_change(
        number=licence.number, staff=who.city, scope="网约车客运（含合乘）", reason="经营范围变更"
    )
    assert _electronic(licence).data["scope"] == "网约车客运（含合乘）"
    # A change that changes nothing is a no-op: no new version.
    again = services.operating_licence_change(
        number=licence.number, staff=who.city, scope="网约车客运（含合乘）", reason="重复提交"
    )
    assert again.version == 2

    services.operating_licence_renew(number=licence.number, staff=who.city, valid_until=D(2033, 12, 31))
    assert _electronic(licence).valid_until == D(2033, 12, 31)

    services.operating_licence_suspend(number=licence.number, staff=who.city, reason="停业整顿")
    assert _electronic(licence).status == "suspended"
    # Renewing a suspended licence keeps it suspended (the registry decides, not the event).
    services.operating_licence_renew(number=licence.number, staff=who.city, valid_until=D(2034, 12, 31))
    assert _electronic(licence).status == "suspended"
    services.operating_licence_reinstate(number=licence.number, staff=who.city, reason="整改完成")
    assert _electronic(licence).status == "valid"

    licence.refresh_from_db()
    assert licence.version == 6
    assert list(licence.events.values_list("kind", flat=True)) == [
        "issue", "change", "renew", "suspend", "renew", "reinstate",
    ]  # fmt: skip
    assert AuditEntry.objects.filter(
        action="licensing.operating_licence.suspend", target_id=str(licence.pk)
    ).exists()
    index = MinistryIndexEntry.objects.get(licence=_electronic(licence))
    assert (index.status, index.version) == ("valid", _electronic(licence).version)


def test_revocation_is_final_and_renewal_is_refused() -> None:
    who = officials()
    licence = _issue(who)
    services.operating_licence_revoke(number=licence.number, staff=who.city, reason="以欺骗手段取得许可")
    electronic = _electronic(licence)
    assert electronic.status == "revoked"
    assert MinistryIndexEntry.objects.get(licence=electronic).status == "revoked"
    for attempt in (
        lambda: services.operating_licence_renew(
            number=licence.number, staff=who.city, valid_until=D(2035, 1, 1)
        ),
        lambda: services.operating_licence_reinstate(number=licence.number, staff=who.city, reason="申诉"),
        lambda: services.operating_licence_change(
            number=licence.number, staff=who.city, area="宁波市", reason="x"
        ),
    ):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "licence.revoked_final"
    licence.refresh_from_db()
    assert (licence.status, licence.valid_until) == ("revoked", D(2029, 12, 31))
    assert _electronic(licence).status == "revoked"
    # The periodic check agrees with the registry, and the licence's data is compliant.
    report = sync_check()
    assert report.counts["validity"] == 0
    rates = report.by_type[("330000", "ridehail_operating_licence")].as_json()
    assert (rates["records"], rates["issuance_rate"], rates["compliance_rate"]) == (1, 1.0, 1.0)


def test_cancel_then_nothing_revives() -> None:
    who = officials()
    licence = _issue(who)
    services.operating_licence_cancel(number=licence.number, staff=who.city, reason="企业申请注销")
    assert _electronic(licence).status == "revoked"
    with pytest.raises(Conflict):
        services.operating_licence_suspend(number=licence.number, staff=who.city, reason="x")


def test_bad_input_is_refused_with_field_and_code() -> None:
    who = officials()
    licence = _issue(who)
    with pytest.raises(ValidationFailed) as no_reason:
        services.operating_licence_suspend(number=licence.number, staff=who.city, reason=" ")
    assert no_reason.value.details[0].field == "reason"
    with pytest.raises(ValidationFailed) as shorter:
        services.operating_licence_renew(number=licence.number, staff=who.city, valid_until=D(2029, 1, 1))
    assert shorter.value.details[0].field == "valid_until"
    with pytest.raises(Conflict) as twice:
        _issue(who, number=licence.number)
    assert twice.value.code == "licence.exists"


def test_only_the_city_authority_maintains_its_licences() -> None:
    who = officials()
    licence = _issue(who)
    ningbo = staff("city-ningbo", department="transport", level="city", region="330200")
    for outsider, code in (
        (ningbo, "staff.out_of_scope"),
        (who.province, "staff.out_of_scope"),  # a province sees its cities' licences, the city decides
        (who.ministry, "staff.action_not_allowed"),
        (who.departments["public_security"], "staff.action_not_allowed"),
    ):
        with pytest.raises(PermissionDenied) as refused:
            services.operating_licence_suspend(number=licence.number, staff=outsider, reason="越权")
        assert refused.value.code == code
    licence.refresh_from_db()
    assert licence.status == "valid"
