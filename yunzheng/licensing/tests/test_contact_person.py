"""Issue #17 item 8: the contact-person rule. The designated contact is kept on record; a change
needs the legal representative's signed confirmation and is told to the authorities handling the
company's open applications; a company whose contact has left is not stuck (the legal
representative designates a new one)."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from yunzheng.accounts.models import ContactDesignation
from yunzheng.accounts.tests.factories import staff_client
from yunzheng.licensing import services
from yunzheng.licensing.models import Notification, Step
from yunzheng.licensing.tests.factories import advance_to, company_with_contact, officials, verified_user

pytestmark = pytest.mark.django_db


def _letter() -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (800, 600), (250, 250, 250)).save(buffer, format="PNG")
    return SimpleUploadedFile("授权委托书.png", buffer.getvalue(), content_type="image/png")


def test_the_legal_representative_designates_a_new_contact_and_the_authorities_are_told() -> None:
    now = timezone.now()
    company, departed = company_with_contact()
    assert company.legal_representative == "李明"
    who = officials()
    application = services.application_create(
        company=company, path="national", city_code="330100", user=departed, now=now
    )
    advance_to(application, Step.QUOTA_REVIEW, user=departed, who=who, now=now)
    successor = verified_user("13900009901", name="孙俪")
    legal_representative = verified_user("13900009902", name="李明")
    impostor = verified_user("13900009903", name="周星")
    url = f"/accounts/companies/{company.pk}/contact/"

    outsider = Client()
    outsider.force_login(impostor)
    assert outsider.get(url).status_code == 403

    # The contact has left: the legal representative (verified, not a member) designates a new one.
    client = Client()
    client.force_login(legal_representative)
    assert client.get(url).status_code == 200
    form = {"phone": "13900009901", "reason": "原联系人离职", "step": "confirm", "confirm": "on"}
    unsigned = client.post(url, form)
    assert unsigned.status_code == 200
    assert 'data-field="letter"' in unsigned.content.decode()
    company.refresh_from_db()
    assert company.contact_user == departed
    done = client.post(url, {**form, "letter": _letter()})
    assert done.status_code == 302
    company.refresh_from_db()
    assert company.contact_user == successor
    record = ContactDesignation.objects.get(company=company)
    assert (record.contact, record.previous_contact, record.designated_by, record.reason) == (
        successor,
        departed,
        legal_representative,
        "原联系人离职",
    )

    # The authority handling the open application (the city, whose turn it is) is told.
    notices = Notification.objects.filter(application=application, dedupe_key__startswith="contact-change:")
    assert set(notices.values_list("department", "level", "region_code")) == {("transport", "city", "330100")}
    assert "原联系人离职" in notices.get().text
    city = staff_client(who.city)
    case = city.get(f"/licensing/staff/applications/{application.pk}/").content.decode()
    assert 'data-testid="contact-letter"' in case
    letter = city.get(f"/licensing/applications/{application.pk}/contact-letters/{record.pk}/")
    assert letter.status_code == 200
    assert letter["Content-Type"] == "image/png"
    # The new contact acts for the company; a stranger cannot read the letter.
    member = Client()
    member.force_login(successor)
    assert member.get(f"/licensing/applications/{application.pk}/").status_code == 200
    stranger_company, stranger = company_with_contact()
    assert stranger_company.pk != company.pk
    other = Client()
    other.force_login(stranger)
    assert (
        other.get(f"/licensing/applications/{application.pk}/contact-letters/{record.pk}/").status_code == 404
    )


def test_a_company_without_open_applications_tells_no_authority() -> None:
    company, contact = company_with_contact()
    successor = verified_user("13900009911", name="孙俪")
    client = Client()
    client.force_login(contact)
    url = f"/accounts/companies/{company.pk}/contact/"
    form = {
        "phone": "13900009911",
        "reason": "岗位调整",
        "step": "confirm",
        "confirm": "on",
        "letter": _letter(),
    }
    assert client.post(url, form).status_code == 302
    company.refresh_from_db()
    assert company.contact_user == successor
    assert not Notification.objects.filter(dedupe_key__startswith="contact-change:").exists()
