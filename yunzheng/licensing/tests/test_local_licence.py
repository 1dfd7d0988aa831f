"""Issue #17 items 4 and 7: the online-service-capability determination is a document (number,
date, validity; PDF and electronic licence), and a second city (地牌) builds on it: no work contact
letter, ministry reply, test accounts or access test again; the local review, the local evaluations
where the city requires them, and the local licence. End to end through the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from yunzheng.accounts.tests.factories import staff, staff_client
from yunzheng.core.errors import Conflict
from yunzheng.elicense.models import ElectronicLicence
from yunzheng.licensing import services
from yunzheng.licensing.models import (
    CapabilityDetermination,
    LicenceApplication,
    OperatingLicence,
    Step,
    TestBooking,
    TestPassedDocument,
)
from yunzheng.licensing.tests.factories import at, national_licence, pdf_upload

pytestmark = pytest.mark.django_db

NATIONAL_ONLY_ACTIONS = {
    "send_letter",
    "ministry_reply",
    "complete_info",
    "open_test_account",
    "open_vpn_account",
    "book_test",
    "test_passed",
    "submit_capability",
    "approve_capability",
}


def test_the_approval_issues_the_determination_document_with_pdf_and_electronic_licence() -> None:
    company, user, _who, _licence = national_licence(now=at(2026, 3, 2))
    determination = CapabilityDetermination.objects.get(company=company)
    assert determination.number == "浙交认〔2026〕1号"
    assert (determination.decided_on, determination.valid_until) == (dt.date(2026, 3, 2), dt.date(2030, 3, 1))
    assert determination.application.capability_decision_number == determination.number
    electronic = ElectronicLicence.objects.get(lid=determination.electronic_licence_id)
    assert electronic.licence_type == "ridehail_capability_determination"
    assert electronic.data["certificate_number"] == determination.number
    assert electronic.holder_company_id == company.pk
    member = Client()
    member.force_login(user)
    response = member.get(f"/licensing/determinations/{determination.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    page = member.get(f"/licensing/applications/{determination.application_id}/").content.decode()
    assert determination.number in page
    assert 'data-testid="determination-default"' in page  # the validity is labelled as our default
    stranger = Client()
    stranger.force_login(staff("js-city-det", department="transport", level="city", region="320100"))
    assert stranger.get(f"/licensing/determinations/{determination.pk}/pdf/").status_code in (302, 404)


def test_a_second_city_builds_on_the_national_result_through_the_pages() -> None:
    now = timezone.now()
    company, user, _who, national = national_licence(now=now)
    determination = CapabilityDetermination.objects.get(company=company)
    bookings, documents = TestBooking.objects.count(), TestPassedDocument.objects.count()
    member = Client()
    member.force_login(user)
    ningbo = staff_client(staff("nb-city-local", department="transport", level="city", region="330200"))

    created = member.post(
        f"/licensing/companies/{company.pk}/apply/", {"path": "local", "city_code": "330200"}
    )
    local = LicenceApplication.objects.get(company=company, city_code="330200")
    assert created["Location"] == f"/licensing/applications/{local.pk}/"
    assert (local.path, local.determination_id, local.determination_number) == (
        "local",
        determination.pk,
        determination.number,
    )
    page = member.get(f"/licensing/applications/{local.pk}/").content.decode()
    assert 'data-testid="builds-on"' in page
    assert determination.number in page

    for kind in ("annex2", "annex3", "annex4", "cloud_proof"):
        member.post(f"/licensing/applications/{local.pk}/materials/", {"kind": kind, "file": pdf_upload()})
    member.post(f"/licensing/applications/{local.pk}/act/", {"action": "submit_quota"})
    local.refresh_from_db()
    assert local.step == Step.LOCAL_REVIEW  # not the work contact letter
    assert local.stages.get(status="open").responsible == "city_transport"

    # The second city reviews: returning needs reasons; the company resubmits; the city accepts.
    review = ningbo.get(f"/licensing/staff/applications/{local.pk}/").content.decode()
    assert 'data-testid="local-review-form"' in review
    ningbo.post(f"/licensing/applications/{local.pk}/local-review/", {"decision": "return", "reason": ""})
    local.refresh_from_db()
    assert local.step == Step.LOCAL_REVIEW
    ningbo.post(
        f"/licensing/applications/{local.pk}/local-review/",
        {"decision": "return", "reason": "缺少本地服务机构证明"},
    )
    local.refresh_from_db()
    assert local.step == Step.QUOTA_MATERIALS
    member.post(f"/licensing/applications/{local.pk}/act/", {"action": "submit_quota"})
    ningbo.post(f"/licensing/applications/{local.pk}/local-review/", {"decision": "accept"})
    local.refresh_from_db()
    assert local.step == Step.EVALUATIONS  # Ningbo requires the evaluations (the default)

    member.post(f"/licensing/applications/{local.pk}/act/", {"action": "submit_evaluations"})
    local.refresh_from_db()
    assert local.step == Step.LICENCE_DECISION
    ningbo.post(
        f"/licensing/applications/{local.pk}/act/",
        {"action": "grant", "scope": "网络预约出租汽车客运", "area": "宁波市", "valid_years": "4"},
    )
    local.refresh_from_db()
    assert local.step == Step.GRANTED
    licence = OperatingLicence.objects.get(application=local)
    assert (licence.kind, licence.city_code) == ("local", "330200")
    assert licence.number != national.number
    assert licence.electronic_licence_id
    # Nothing of the national path was repeated.
    assert not NATIONAL_ONLY_ACTIONS & set(local.transitions.values_list("action", flat=True))
    assert (TestBooking.objects.count(), TestPassedDocument.objects.count()) == (bookings, documents)
    assert not (local.letter_number)
    assert not (local.ministry_reply_number)
    assert not (local.test_account)
    assert not (local.vpn_account)


def test_a_city_without_local_evaluations_goes_straight_to_the_decision() -> None:
    now = at(2026, 3, 2)
    company, user, _who, _national = national_licence(now=now)
    city = staff("nb-city-noeval", department="transport", level="city", region="330200")
    services.city_quota_set(
        city_code="330200", accepting=True, local_evaluations_required=False, user=city, now=now
    )
    local = services.application_create(company=company, path="local", city_code="330200", user=user, now=now)
    for kind in ("annex2", "annex3", "annex4", "cloud_proof"):
        services.material_upload(application=local, kind=kind, upload=pdf_upload(), user=user, now=now)
    services.quota_materials_submit(application=local, user=user, now=now)
    services.local_review(application=local, user=city, decision="accept", now=now)
    local.refresh_from_db()
    assert local.step == Step.LICENCE_DECISION


def test_a_local_application_needs_a_valid_determination(settings) -> None:
    settings.LICENSING_DETERMINATION_VALID_YEARS = 1
    now = at(2026, 3, 2)
    company, user, _who, _national = national_licence(now=now)
    determination = CapabilityDetermination.objects.get(company=company)
    assert determination.valid_until == dt.date(2027, 3, 1)
    # Valid the day before it ends, refused the day after (the national licence is still valid).
    later = at(2027, 3, 2)
    with pytest.raises(Conflict) as expired:
        services.application_create(company=company, path="local", city_code="330200", user=user, now=later)
    assert expired.value.code == "determination.expired"
    assert not LicenceApplication.objects.filter(city_code="330200").exists()
    # Lapsing during the local case blocks the grant too.
    local = services.application_create(
        company=company, path="local", city_code="330200", user=user, now=at(2027, 2, 1)
    )
    assert local.determination_number == determination.number
    city = staff("nb-city-expired", department="transport", level="city", region="330200")
    services.city_quota_set(
        city_code="330200", accepting=True, local_evaluations_required=False, user=city, now=at(2027, 2, 1)
    )
    for kind in ("annex2", "annex3", "annex4", "cloud_proof"):
        services.material_upload(
            application=local, kind=kind, upload=pdf_upload(), user=user, now=at(2027, 2, 1)
        )
    services.quota_materials_submit(application=local, user=user, now=at(2027, 2, 1))
    services.local_review(application=local, user=city, decision="accept", now=at(2027, 2, 1))
    with pytest.raises(Conflict) as at_grant:
        services.licence_grant(application=local, user=city, scope="网约车", area="宁波市", now=later)
    assert at_grant.value.code == "determination.expired"
