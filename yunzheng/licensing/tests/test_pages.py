"""The pages each party sees: task list, queues, whole-case view, files, quotas, expiries, demo."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from yunzheng.accounts.tests.factories import staff_client
from yunzheng.core.models import AuditEntry
from yunzheng.licensing import services
from yunzheng.licensing.models import LicenceApplication, OperatingLicence, Step
from yunzheng.licensing.tests.factories import advance_to, company_with_contact, officials, pdf_upload

pytestmark = pytest.mark.django_db


def _member_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_company_task_list_shows_next_step_waiting_party_due_date_and_contact_warning() -> None:
    company, user = company_with_contact()
    client = _member_client(user)
    response = client.post(
        f"/licensing/companies/{company.pk}/apply/", {"path": "national", "city_code": "330100"}
    )
    application = LicenceApplication.objects.get(company=company)
    assert response.status_code == 302
    assert response["Location"] == f"/licensing/applications/{application.pk}/"
    page = client.get(f"/licensing/applications/{application.pk}/").content.decode()
    assert 'data-testid="contact-box"' in page
    assert f"/accounts/companies/{company.pk}/contact/" in page  # the audited change, not a copy of it
    assert "附件2" in page or "Annex 2" in page
    upload = client.post(
        f"/licensing/applications/{application.pk}/materials/", {"kind": "annex2", "file": pdf_upload()}
    )
    assert upload.status_code == 302
    not_pdf = client.post(
        f"/licensing/applications/{application.pk}/materials/",
        {
            "kind": "annex3",
            "file": pdf_upload().__class__("x.pdf", b"%PDF-1.4 truncated", content_type="application/pdf"),
        },
        follow=True,
    )
    assert "PDF" in not_pdf.content.decode()
    assert application.materials.count() == 1
    home = client.get("/licensing/").content.decode()
    assert 'data-testid="task-list"' in home
    assert f"#{application.pk}" in home


def test_queues_whole_case_view_and_permissions_per_department() -> None:
    now = dt.datetime.now(tz=dt.UTC)
    company, user = company_with_contact()
    stranger_company, stranger = company_with_contact()
    who = officials()
    application = services.application_create(company=company, path="national", city_code="330100", user=user)
    advance_to(application, Step.QUOTA_REVIEW, user=user, who=who, now=now)
    city = staff_client(who.city)
    desk = city.get("/licensing/staff/").content.decode()
    assert f"/licensing/staff/applications/{application.pk}/" in desk
    assert 'data-testid="queue"' in desk
    case = city.get(f"/licensing/staff/applications/{application.pk}/").content.decode()
    assert 'data-testid="letter-form"' in case
    material = application.materials.first()
    assert material is not None
    assert city.get(f"/licensing/materials/{material.pk}/file/").status_code == 200
    # Other parties: a stranger company, another region, a department before distribution → 404.
    assert _member_client(stranger).get(f"/licensing/applications/{application.pk}/").status_code == 404
    assert _member_client(stranger).get(f"/licensing/materials/{material.pk}/file/").status_code == 404
    from yunzheng.accounts.tests.factories import staff

    jiangsu = staff_client(staff("js-transport", department="transport", level="province", region="320000"))
    assert jiangsu.get(f"/licensing/staff/applications/{application.pk}/").status_code == 404
    pboc = staff_client(who.departments["pboc"])
    assert pboc.get(f"/licensing/staff/applications/{application.pk}/").status_code == 404
    # The province sees the whole case; the ministry's queue is empty until the letter is sent.
    province_desk = staff_client(who.province).get("/licensing/staff/").content.decode()
    assert 'data-testid="all-cases"' in province_desk
    assert f"#{application.pk}" in province_desk
    ministry = staff_client(who.ministry)
    assert (
        f"/licensing/staff/applications/{application.pk}/"
        not in ministry.get("/licensing/staff/").content.decode().split('data-testid="all-cases"')[0]
    )
    city.post(
        f"/licensing/applications/{application.pk}/act/",
        {"action": "send_letter", "letter_number": "杭运函1号", "letter_date": now.date().isoformat()},
    )
    application.refresh_from_db()
    assert application.step == Step.MINISTRY_REPLY
    queue = ministry.get("/licensing/staff/").content.decode().split('data-testid="all-cases"')[0]
    assert f"/licensing/staff/applications/{application.pk}/" in queue
    # Anonymous visitors go to the login page; a public user cannot open the staff desk.
    assert Client().get("/licensing/").status_code == 302
    assert stranger_company.pk != company.pk


def test_quota_expiry_and_slot_pages_for_staff() -> None:
    who = officials()
    province = staff_client(who.province)
    response = province.post(
        "/licensing/staff/quotas/",
        {
            "city_code": "330300",
            "accepting": "no",
            "notice_number": "温交〔2025〕18号",
            "notice_title": "暂停",
        },
        follow=True,
    )
    assert "温交〔2025〕18号" in response.content.decode()
    assert province.get("/licensing/staff/expiries/?days=90").status_code == 200
    ministry = staff_client(who.ministry)
    ministry.post("/licensing/staff/slots/", {"month": "2026-12-01", "capacity": "20"})
    page = ministry.get("/licensing/staff/slots/").content.decode()
    assert "2026-12" in page


def test_reminders_command_is_idempotent() -> None:
    out = StringIO()
    call_command("licensing_reminders", stdout=out)
    call_command("licensing_reminders", stdout=out)
    assert "stages=0" in out.getvalue()


def test_demo_loads_twice() -> None:
    from yunzheng.accounts import demo as accounts_demo
    from yunzheng.licensing import demo as licensing_demo

    accounts_demo.load_demo()
    licensing_demo.load_demo()
    first = (LicenceApplication.objects.count(), OperatingLicence.objects.count(), AuditEntry.objects.count())
    licensing_demo.load_demo()
    assert (
        LicenceApplication.objects.count(),
        OperatingLicence.objects.count(),
        AuditEntry.objects.count(),
    ) == first
    assert first[0] == 5
    steps = dict(LicenceApplication.objects.values_list("company__credit_code", "step"))
    assert sorted(steps.values()) == sorted(step for _code, _city, step in licensing_demo.APPLICATIONS)
    assert steps[accounts_demo.COMPANY_CREDIT_CODE] == Step.CAPABILITY_REVIEW
    # One platform went the whole way: its licence is granted and entered in the registry, with the
    # five departments' opinions, the determination and the evaluations behind it.
    granted = LicenceApplication.objects.get(step=Step.GRANTED)
    assert granted.company.credit_code == accounts_demo.LICENSED_PLATFORM.credit_code
    licence = OperatingLicence.objects.get(application=granted)
    assert (licence.kind, licence.status, licence.city_code) == ("national", "valid", "330100")
    assert granted.capability_decided_on is not None
    assert granted.company.security_evaluations.count() == 3
    actions = list(granted.transitions.values_list("action", flat=True))
    assert actions[-3:] == ["approve_capability", "submit_evaluations", "grant"]
    from yunzheng.elicense.models import ElectronicLicence

    electronic = ElectronicLicence.objects.get(
        source_type="licensing.operating_licence", source_id=str(licence.pk)
    )
    assert electronic.status == "valid"


def test_quota_form_offers_named_cities_of_the_staff_region_and_refuses_a_code_not_listed() -> None:
    """#12: cities are chosen from the GB/T 2260 list, never typed."""
    from yunzheng.licensing.models import CityQuota

    who = officials()
    province = staff_client(who.province)
    page = province.get("/licensing/staff/quotas/").content.decode()
    assert '<select name="city_code"' in page
    assert '<option value="330300">温州市</option>' in page
    assert 'label="浙江省"' in page  # grouped by province
    assert "南京市" not in page  # another province's city is not offered to Zhejiang's staff
    city_page = staff_client(who.city).get("/licensing/staff/quotas/").content.decode()
    assert '<option value="330100" selected>杭州市</option>' in city_page
    assert "温州市" not in city_page
    for code in ("330399", "320100", "abc"):  # not a city / another province / not a code
        refused = province.post(
            "/licensing/staff/quotas/",
            {"city_code": code, "accepting": "no", "notice_number": "温交〔2025〕18号"},
        )
        assert refused.status_code == 400
        assert refused.context["form"].errors["city_code"] == ["请从列表中选择城市。"]
        assert "请从列表中选择城市。" in refused.content.decode()
    assert not CityQuota.objects.exists()
    # A service's refusal also comes back on the field it names.
    no_notice = province.post("/licensing/staff/quotas/", {"city_code": "330300", "accepting": "no"})
    assert no_notice.status_code == 400
    assert no_notice.context["form"].errors["notice_number"]


def test_company_apply_form_offers_named_cities_and_refuses_a_typed_code() -> None:
    company, user = company_with_contact()
    client = _member_client(user)
    home = client.get("/licensing/").content.decode()
    assert '<option value="330100" selected>杭州市</option>' in home
    assert '<option value="110100">北京市</option>' in home
    response = client.post(
        f"/licensing/companies/{company.pk}/apply/", {"path": "national", "city_code": "339900"}, follow=True
    )
    assert "请从列表中选择城市。" in response.content.decode()
    assert not LicenceApplication.objects.filter(company=company).exists()
