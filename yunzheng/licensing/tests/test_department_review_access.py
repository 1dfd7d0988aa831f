"""`licensing.case.department_review` (issue #14, docs/permissions.md): the five reviewing
departments of the case's province see a licensing case's materials only while their own review is
open — not before the materials reach them, not after they answered, not for another province —
and only the materials under review, not the company's other data. Through the services, the
pages and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from yunzheng.accounts.tests.factories import staff, staff_client
from yunzheng.core.errors import Conflict, NotFound, PermissionDenied
from yunzheng.licensing import selectors, services
from yunzheng.licensing.models import LicenceApplication, Material, Step, TestSlotMonth
from yunzheng.licensing.tests.factories import (
    advance_to,
    company_with_contact,
    officials,
    pdf_upload,
    record_evaluations,
)

pytestmark = pytest.mark.django_db
NOW = timezone.now()  # the page acts "now": the test-passed document must still be valid


def _case_at_capability_review(*, distribute: bool = True) -> tuple[Any, Any, Any, LicenceApplication]:
    company, user = company_with_contact()
    who = officials()
    application = services.application_create(
        company=company, path="national", city_code="330100", user=user, now=NOW
    )
    advance_to(application, Step.TEST_BOOKING, user=user, who=who, now=NOW)
    month = NOW.date().replace(day=1)
    if not TestSlotMonth.objects.filter(month=month).exists():
        services.test_slot_month_create(
            month=month, user=who.ministry, capacity=50, opens_at=NOW - dt.timedelta(hours=1)
        )
    services.test_booking_create(company_id=company.pk, month=month, user=user, now=NOW)
    application.refresh_from_db()
    services.test_result_record(
        application=application, user=who.ministry, passed=True, issued_on=NOW.date(), now=NOW
    )
    application.refresh_from_db()
    services.material_upload(
        application=application, kind="capability", upload=pdf_upload("capability.pdf"), user=user, now=NOW
    )
    services.capability_submit(application=application, user=user, now=NOW)
    services.capability_forward(application=application, user=who.city, now=NOW)
    if distribute:
        services.capability_distribute(application=application, user=who.province, now=NOW)
    application.refresh_from_db()
    return company, user, who, application


def _sees(user: Any, application: LicenceApplication) -> bool:
    try:
        selectors.application_for_user(user=user, application_id=application.pk)
    except NotFound:
        return False
    return True


def test_services_open_the_case_only_while_the_review_is_open() -> None:
    _company, _user, who, application = _case_at_capability_review(distribute=False)
    tax = who.departments["tax"]
    assert not _sees(tax, application)  # not yet distributed
    services.capability_distribute(application=application, user=who.province, now=NOW)
    assert all(_sees(official, application) for official in who.departments.values())

    # Another province's tax office, the city police, the ministry-level central bank: refused.
    jiangsu_tax = staff("js-tax", department="tax", level="province", region="320000")
    hz_police = staff("hz-police-dr", department="public_security", level="city", region="330100")
    pboc_hq = staff("pboc-hq", department="pboc", level="ministry", region="")
    for outsider, code in (
        (jiangsu_tax, "staff.out_of_scope"),
        (hz_police, "staff.action_not_allowed"),
        (pboc_hq, "staff.action_not_allowed"),
    ):
        assert not _sees(outsider, application)
        with pytest.raises(PermissionDenied) as refused:
            services.department_review_submit(
                application=application, user=outsider, recommendation="approve", comments="同意", now=NOW
            )
        assert refused.value.code == code

    services.department_review_submit(
        application=application, user=tax, recommendation="approve", comments="无欠税", now=NOW
    )
    assert not _sees(tax, application)  # answered: the case is closed to it
    assert _sees(who.departments["pboc"], application)  # the others still review
    with pytest.raises(Conflict):
        services.department_review_submit(
            application=application, user=tax, recommendation="reject", comments="再议", now=NOW
        )


def test_pages_show_the_materials_under_review_and_nothing_else_of_the_company() -> None:
    company, user, who, application = _case_at_capability_review()
    record_evaluations(company, user, issued_on=NOW.date(), now=NOW)
    capability = application.materials.get(kind=Material.Kind.CAPABILITY)
    annex = application.materials.filter(kind=Material.Kind.ANNEX_2).first()
    assert annex is not None
    evaluation = company.security_evaluations.first()
    police = staff_client(who.departments["public_security"])
    page = police.get(f"/licensing/staff/applications/{application.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="contact-box"' not in html  # the contact person's name and phone
    assert f"/licensing/materials/{capability.pk}/file/" in html
    assert f"/licensing/materials/{annex.pk}/file/" not in html  # the quota-stage materials
    assert police.get(f"/licensing/materials/{capability.pk}/file/").status_code == 200
    assert police.get(f"/licensing/materials/{annex.pk}/file/").status_code == 404
    assert police.get(f"/licensing/evaluations/{evaluation.pk}/file/").status_code == 404
    assert police.get(f"/licensing/companies/{company.pk}/evaluations/").status_code in (302, 403, 404)

    # Another company's case, not under this department's review: nothing.
    _other_company, _other_user, _who2, other = _case_at_capability_review(distribute=False)
    other_material = other.materials.get(kind=Material.Kind.CAPABILITY)
    assert police.get(f"/licensing/staff/applications/{other.pk}/").status_code == 404
    assert police.get(f"/licensing/materials/{other_material.pk}/file/").status_code == 404

    # It answers through the page; back on its queue, the case is closed to it.
    answered = police.post(
        f"/licensing/applications/{application.pk}/act/",
        {"action": "department_review", "recommendation": "approve", "comments": "无违法记录"},
    )
    assert answered.status_code == 302
    assert answered["Location"] == "/licensing/staff/"
    assert (
        application.stages.get(kind=Step.CAPABILITY_REVIEW)
        .department_reviews.get(department="public_security")
        .reviewed_at
    )
    assert police.get(f"/licensing/staff/applications/{application.pk}/").status_code == 404
    assert police.get(f"/licensing/materials/{capability.pk}/file/").status_code == 404
    again = police.post(
        f"/licensing/applications/{application.pk}/act/",
        {"action": "department_review", "recommendation": "reject", "comments": "再议"},
    )
    assert again.status_code == 404


def test_the_api_answers_only_while_the_review_is_open() -> None:
    _company, _user, who, application = _case_at_capability_review()
    cyberspace = who.departments["cyberspace"]
    client = staff_client(cyberspace)
    url = f"/api/v1/licensing/applications/{application.pk}"
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response.json()["step"] == Step.CAPABILITY_REVIEW
    assert response.json()["test_document_valid_until"] is None  # the company's own document
    services.department_review_submit(
        application=application, user=cyberspace, recommendation="approve", comments="同意", now=NOW
    )
    assert client.get(url).status_code == 404
    outsider = staff_client(staff("ah-cyber", department="cyberspace", level="province", region="340000"))
    assert outsider.get(url).status_code == 404
    assert Client().get(url).status_code == 401
