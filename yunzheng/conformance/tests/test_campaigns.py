"""Campaigns and cycles: the pass rule, one open cycle per company, official runs issuing the
test-passed document, who sees what, comparison, PDF, pages and API."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from typing import Any

import pytest
from django.test import Client

from yunzheng.accounts.models import User
from yunzheng.accounts.services import user_token_create
from yunzheng.accounts.tests.factories import staff, staff_client
from yunzheng.conformance import services
from yunzheng.conformance.models import Campaign, Cycle, SandboxRecord
from yunzheng.conformance.report_pdf import campaign_pdf
from yunzheng.conformance.sandbox import record_sandbox_batch
from yunzheng.conformance.traffic import TrafficPlan, connectivity_records, consistency_events, feed_cycle
from yunzheng.core.errors import Conflict, NotFound, PermissionDenied
from yunzheng.core.models import AuditEntry
from yunzheng.exchange.spec import get_spec
from yunzheng.exchange.spec.samples import valid_record

from .conftest import SMALL, Tenant, make_tenant

PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"  # poppler-utils


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF as poppler's pdftotext extracts it (an independent reader)."""
    done = subprocess.run([PDFTOTEXT, "-", "-"], input=pdf, capture_output=True, check=True)  # noqa: S603
    return done.stdout.decode()


pytestmark = pytest.mark.usefixtures("small_thresholds")


def _connectivity_cycle(tenant: Tenant, campaign: Campaign, user: User, *, good: bool = True) -> Cycle:
    cycle = services.cycle_open(campaign=campaign, kind=Cycle.Kind.CONNECTIVITY, user=user)
    for interface, records in connectivity_records(tenant.company_id).items():
        if not good and interface == "baseInfoVehicle":
            records = [{**records[0], "VIN": "LGXC16DF4Ｋ0123456"}]
        record_sandbox_batch(
            credential=tenant.sandbox, interface=get_spec().interface(interface), records=records
        )
    return services.cycle_close(cycle=cycle, user=user)


def _consistency_cycle(
    tenant: Tenant, campaign: Campaign, user: User, *, faults: frozenset[str] = frozenset()
) -> Cycle:
    cycle = services.cycle_open(campaign=campaign, kind=Cycle.Kind.CONSISTENCY, user=user)
    plan = TrafficPlan(company_id=tenant.company_id, faults=faults, **SMALL)
    feed_cycle(credential=tenant.sandbox, events=consistency_events(plan))
    return services.cycle_close(cycle=cycle, user=user)


def test_a_campaign_passes_when_the_latest_cycle_of_each_test_passed(tenant: Tenant) -> None:
    campaign = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    assert campaign.spec_version == "2016.1"
    assert _connectivity_cycle(tenant, campaign, tenant.user, good=False).status == Cycle.Status.FAILED
    assert _consistency_cycle(
        tenant, campaign, tenant.user, faults=frozenset({"implausible_fare"})
    ).status == (Cycle.Status.FAILED)
    assert _connectivity_cycle(tenant, campaign, tenant.user).status == Cycle.Status.PASSED
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.OPEN  # consistency has not passed yet
    assert _consistency_cycle(tenant, campaign, tenant.user).status == Cycle.Status.PASSED
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PASSED  # in four cycles, as the seeds tell
    assert list(campaign.cycles.values_list("number", flat=True)) == [1, 2, 3, 4]
    with pytest.raises(Conflict):
        services.cycle_open(campaign=campaign, kind=Cycle.Kind.CONNECTIVITY, user=tenant.user)
    assert AuditEntry.objects.filter(action="conformance.cycle.close").count() == 4

    client = tenant.client()
    failed_consistency = campaign.cycles.get(number=2)
    page = client.get(f"/conformance/cycles/{failed_consistency.pk}/").content.decode()
    assert 'data-testid="check-fare_plausible"' in page
    assert "每公里" in page  # the failing orders' examples, in Chinese
    compare = client.get(f"/conformance/campaigns/{campaign.pk}/compare/").content.decode()
    assert "运价合理" in compare  # the check titles, in Chinese by default
    assert compare.count('data-testid="compare-consistency"') == 1

    pdf = campaign_pdf(campaign)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert tenant.company.name in text
    assert tenant.company_id in text
    response = client.get(f"/conformance/campaigns/{campaign.pk}/report.pdf")
    assert response["Content-Type"] == "application/pdf"


def test_one_open_cycle_per_company_and_uploads_outside_cycles_are_kept_ungraded(tenant: Tenant) -> None:
    record = valid_record("orderCreate", seed=1, CompanyId=tenant.company_id)
    record_sandbox_batch(
        credential=tenant.sandbox, interface=get_spec().interface("orderCreate"), records=[record]
    )
    assert SandboxRecord.objects.get().cycle_id is None
    first = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    second = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    cycle = services.cycle_open(campaign=first, kind=Cycle.Kind.CONNECTIVITY, user=tenant.user)
    with pytest.raises(Conflict) as same:
        services.cycle_open(campaign=first, kind=Cycle.Kind.CONSISTENCY, user=tenant.user)
    assert same.value.code == "conformance.cycle_already_open"
    with pytest.raises(Conflict):
        services.cycle_open(campaign=second, kind=Cycle.Kind.CONSISTENCY, user=tenant.user)
    record_sandbox_batch(
        credential=tenant.sandbox, interface=get_spec().interface("orderCreate"), records=[record]
    )
    assert SandboxRecord.objects.filter(cycle=cycle).count() == 1
    services.campaign_end(campaign=first, user=tenant.user)
    cycle.refresh_from_db()
    assert cycle.status == Cycle.Status.ABORTED
    assert Campaign.objects.get(pk=first.pk).status == Campaign.Status.CLOSED
    services.cycle_open(campaign=second, kind=Cycle.Kind.CONSISTENCY, user=tenant.user)


def test_members_see_their_companies_campaigns_only(tenant: Tenant) -> None:
    other = make_tenant()
    mine = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    theirs = services.campaign_start_self_service(company_id=other.company.pk, user=other.user)
    with pytest.raises(NotFound):
        services.campaign_start_self_service(company_id=other.company.pk, user=tenant.user)
    with pytest.raises(PermissionDenied):
        services.cycle_open(campaign=theirs, kind=Cycle.Kind.CONNECTIVITY, user=tenant.user)
    client = tenant.client()
    assert client.get(f"/conformance/campaigns/{mine.pk}/").status_code == 200
    assert client.get(f"/conformance/campaigns/{theirs.pk}/").status_code == 404
    assert client.get(f"/conformance/campaigns/{theirs.pk}/report.pdf").status_code == 404
    home = client.get("/conformance/").content.decode()
    assert tenant.company.name in home
    assert other.company.name not in home
    token = user_token_create(user=tenant.user).token
    listed = Client().get("/api/v1/conformance/campaigns", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert [c["id"] for c in listed] == [mine.pk]
    denied = Client().get(f"/api/v1/conformance/campaigns/{theirs.pk}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert (denied.status_code, denied.json()["error"]["code"]) == (404, "conformance.campaign_not_found")


def test_staff_see_and_run_only_companies_of_their_region(
    tenant: Tenant, regulator: User, ministry: User
) -> None:
    beijing = make_tenant(region="110100")
    own = services.campaign_start_self_service(company_id=beijing.company.pk, user=beijing.user)
    with pytest.raises(PermissionDenied):  # only the ministry starts official tests
        services.campaign_start_official(company_id=beijing.company.pk, user=regulator, reference="2026-11")
    police = staff("police-1", department="public_security", level="province", region="330000")
    with pytest.raises(PermissionDenied):
        services.campaign_start_official(company_id=tenant.company.pk, user=police, reference="x")
    official = services.campaign_start_official(
        company_id=tenant.company.pk, user=ministry, reference="2026-11"
    )
    client = staff_client(regulator)
    assert client.get(f"/conformance/campaigns/{own.pk}/").status_code == 404
    page = client.get("/conformance/staff/").content.decode()
    assert tenant.company.name in page
    assert beijing.company.name not in page
    assert client.get(f"/conformance/campaigns/{official.pk}/").status_code == 200
    # the company sees the official run but cannot close its cycles
    cycle = services.cycle_open(campaign=official, kind=Cycle.Kind.CONNECTIVITY, user=regulator)
    with pytest.raises(PermissionDenied):
        services.cycle_close(cycle=cycle, user=tenant.user)
    assert tenant.client().get(f"/conformance/cycles/{cycle.pk}/").status_code == 200
    # a company cannot open its own cycle while the official one runs
    mine = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    with pytest.raises(Conflict) as running:
        services.cycle_open(campaign=mine, kind=Cycle.Kind.CONNECTIVITY, user=tenant.user)
    assert running.value.code == "conformance.official_cycle_running"


def test_an_official_cycle_aborts_the_companys_own_open_cycle(
    tenant: Tenant, regulator: User, ministry: User
) -> None:
    mine = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    own_cycle = services.cycle_open(campaign=mine, kind=Cycle.Kind.CONSISTENCY, user=tenant.user)
    official = services.campaign_start_official(company_id=tenant.company.pk, user=ministry, reference="R-1")
    services.cycle_open(campaign=official, kind=Cycle.Kind.CONNECTIVITY, user=regulator)
    own_cycle.refresh_from_db()
    assert own_cycle.status == Cycle.Status.ABORTED


def test_official_run_for_the_licensing_appointment_issues_the_test_passed_document(db: Any) -> None:
    from yunzheng.licensing import selectors as licensing_selectors
    from yunzheng.licensing import services as licensing
    from yunzheng.licensing.models import LicenceApplication, Step, TestBooking
    from yunzheng.licensing.tests.factories import advance_to, at, company_with_contact, officials

    now = at(2026, 5, 1, 12)
    who = officials()
    company, contact = company_with_contact()
    application = licensing.application_create(
        company=company, path="national", city_code="330100", user=contact, now=now
    )
    advance_to(application, Step.TEST_BOOKING, user=contact, who=who, now=now)
    licensing.test_slot_month_create(month=dt.date(2026, 5, 1), user=who.ministry, capacity=3)
    booking = licensing.test_booking_create(
        company_id=company.pk, month=dt.date(2026, 5, 1), user=contact, now=now
    )
    sandbox = services_sandbox_token(company)
    tenant = Tenant(company, contact, sandbox[0], sandbox[1], sandbox[0], sandbox[1])

    campaign = services.campaign_start_official(
        company_id=company.pk, user=who.ministry, booking_id=booking.pk, now=now
    )
    assert campaign.reference.endswith("2026-05")
    assert campaign.max_cycles == 4
    _connectivity_cycle(tenant, campaign, who.ministry)
    _consistency_cycle(tenant, campaign, who.ministry)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PASSED
    document = licensing_selectors.current_test_document(company)
    assert document is not None
    assert document.number == campaign.certificate_number
    assert (document.source, document.source_ref) == ("conformance", f"conformance-campaign-{campaign.pk}")
    assert campaign.certificate_valid_until == document.valid_until
    assert dt.date(2026, 11, 1) < document.valid_until - dt.timedelta(days=150)  # about six months ahead
    assert TestBooking.objects.get(pk=booking.pk).status == "passed"
    assert LicenceApplication.objects.get(pk=application.pk).step != Step.TEST_RUN
    pdf = campaign_pdf(campaign)
    assert document.number in pdf_text(pdf)


def services_sandbox_token(company: Any) -> tuple[Any, str]:
    from yunzheng.accounts.credentials import company_credential_create

    issued = company_credential_create(company=company, name="sandbox", environment="sandbox")
    return issued.credential, issued.token


def test_an_official_campaign_fails_when_its_cycles_are_used_up(
    tenant: Tenant, regulator: User, ministry: User, settings: Any
) -> None:
    settings.CONFORMANCE_OFFICIAL_MAX_CYCLES = 1
    official = services.campaign_start_official(company_id=tenant.company.pk, user=ministry, reference="R-2")
    _connectivity_cycle(tenant, official, regulator, good=False)
    official.refresh_from_db()
    assert (official.status, official.certificate_number) == (Campaign.Status.FAILED, "")


def test_pages_and_api_run_a_cycle(tenant: Tenant) -> None:
    token = user_token_create(user=tenant.user).token
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    created = api.post(
        "/api/v1/conformance/campaigns", {"company_id": tenant.company.pk}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    campaign_id = created.json()["id"]
    bad = api.post(
        f"/api/v1/conformance/campaigns/{campaign_id}/cycles", {"kind": "x"}, content_type="application/json"
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "conformance.field_invalid")
    opened = api.post(
        f"/api/v1/conformance/campaigns/{campaign_id}/cycles",
        {"kind": "connectivity"},
        content_type="application/json",
    ).json()
    bad_vin = valid_record("baseInfoVehicle", seed=1, CompanyId=tenant.company_id, VIN="LGXC16DF4Ｋ0123456")
    record_sandbox_batch(
        credential=tenant.sandbox, interface=get_spec().interface("baseInfoVehicle"), records=[bad_vin]
    )
    live = api.get(f"/api/v1/conformance/cycles/{opened['id']}/report").json()
    assert live["live"] is True
    assert live["summary"]["fail"] == 1
    page = tenant.client().get(f"/conformance/cycles/{opened['id']}/").content.decode()
    hint = page.split('data-testid="hint">', 1)[1].split("</div>", 1)[0]
    assert "VIN" in hint
    assert "10" in hint
    assert "Ｋ" in hint
    assert "K" in hint
    closed = tenant.client().post(f"/conformance/cycles/{opened['id']}/close/")
    assert closed.status_code == 302
    assert api.get(f"/api/v1/conformance/cycles/{opened['id']}/report").json()["status"] == "failed"


def test_staff_pages_run_an_official_test(tenant: Tenant, ministry: User) -> None:
    client = staff_client(ministry)
    assert client.get("/conformance/").status_code == 302  # staff land on their desk
    desk = client.get("/conformance/staff/")
    assert desk.status_code == 200
    assert f'data-testid="official-form-{tenant.company.pk}"' in desk.content.decode()
    # A company that is not a number is the form's error, said on the desk (no campaign starts).
    refused = client.post("/conformance/staff/official/", {"company_id": "x", "reference": "r"}, follow=True)
    assert refused.redirect_chain == [("/conformance/staff/", 302)]
    assert len(list(refused.context["messages"])) == 1
    assert not Campaign.objects.filter(kind=Campaign.Kind.OFFICIAL).exists()
    started = client.post(
        "/conformance/staff/official/", {"company_id": tenant.company.pk, "reference": "杭运测-01"}
    )
    campaign = Campaign.objects.get(kind=Campaign.Kind.OFFICIAL)
    assert started["Location"] == f"/conformance/campaigns/{campaign.pk}/"
    opened = client.post(f"/conformance/campaigns/{campaign.pk}/cycles/", {"kind": "connectivity"})
    cycle = Cycle.objects.get(campaign=campaign)
    assert opened["Location"] == f"/conformance/cycles/{cycle.pk}/"
    sheet = client.get(f"/conformance/cycles/{cycle.pk}/").content.decode()
    assert "连通性测试单" in sheet
    assert 'data-testid="close-cycle"' in sheet
    # the company sees the official cycle, without the button to close it
    company_view = tenant.client().get(f"/conformance/cycles/{cycle.pk}/").content.decode()
    assert "连通性测试单" in company_view
    assert 'data-testid="close-cycle"' not in company_view
    assert client.get(f"/conformance/staff/companies/{tenant.company.pk}/").status_code == 200
    assert client.get("/conformance/spec/").status_code == 200
    ended = client.post(f"/conformance/campaigns/{campaign.pk}/end/")
    assert ended.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.FAILED
