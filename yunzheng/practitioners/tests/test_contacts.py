"""联系我们 (#12 item 2): provincial business managers kept by the province's transport staff on
their own page (the permission table's `office.contact.maintain`), shown on drivers' homes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from yunzheng.accounts.models import StaffProfile, User
from yunzheng.core.errors import PermissionDenied, ValidationFailed
from yunzheng.core.models import AuditEntry
from yunzheng.practitioners.contacts import business_contact_add, contacts_for_public
from yunzheng.practitioners.models import BusinessContact

from .conftest import make_clerk, staff_login

pytestmark = pytest.mark.django_db


def _logged_in(user: User) -> Client:
    client = Client()
    staff_login(client, user)
    return client


@pytest.fixture
def zhejiang(db: Any) -> User:
    return make_clerk("zj-clerk", region="330000", level=StaffProfile.Level.PROVINCE)


def test_province_staff_add_and_remove_contacts_on_their_page(zhejiang: User) -> None:
    client = _logged_in(zhejiang)
    workbench = client.get("/workbench/").content.decode()
    assert 'href="/office/staff/contacts/"' in workbench
    page = client.get("/office/staff/contacts/").content.decode()
    # The province is chosen from a list: Zhejiang only, for Zhejiang's staff.
    assert '<option value="330000"' in page
    assert "浙江省" in page
    assert '<option value="150000"' not in page
    response = client.post(
        "/office/staff/contacts/",
        {
            "op": "add",
            "province_code": "330000",
            "name": "陈敏",
            "unit": "运输服务处",
            "phone": "0571-87800000",
        },
    )
    assert response.status_code == 302
    contact = BusinessContact.objects.get()
    assert (contact.province_code, contact.name, contact.phone) == ("330000", "陈敏", "0571-87800000")
    assert AuditEntry.objects.filter(action="office.contact.add").exists()
    assert "陈敏" in client.get("/office/staff/contacts/").content.decode()
    assert contacts_for_public(province_code="330000")[0]["name"] == "陈敏"

    # Another province is not in the list, and the service refuses it (not a 5xx).
    page = client.post(
        "/office/staff/contacts/",
        {"op": "add", "province_code": "150000", "name": "乌兰", "phone": "0471-6600000"},
    ).content.decode()
    assert "has-error" in page
    # A phone that is not a phone number is named on its field.
    page = client.post(
        "/office/staff/contacts/",
        {"op": "add", "province_code": "330000", "name": "周强", "phone": "call me"},
    ).content.decode()
    assert 'data-field="phone"' in page
    assert "has-error" in page
    assert BusinessContact.objects.count() == 1

    client.post("/office/staff/contacts/", {"op": "remove", "contact_id": str(contact.pk)})
    assert not BusinessContact.objects.exists()
    assert AuditEntry.objects.filter(action="office.contact.remove").exists()
    refused = client.post("/office/staff/contacts/", {"op": "remove", "contact_id": "x"}, follow=True)
    assert refused.redirect_chain == [("/office/staff/contacts/", 302)]
    assert [str(m) for m in refused.context["messages"]][-1] == "没有找到该联系人。"


def test_who_may_keep_contacts_follows_the_permission_table(zhejiang: User) -> None:
    city = make_clerk("hz-clerk", region="330100")
    police = make_clerk(
        "zj-police", region="330000", level=StaffProfile.Level.PROVINCE, department="public_security"
    )
    ministry = make_clerk("mot", region="", level=StaffProfile.Level.MINISTRY)
    for refused in (city, police):
        assert _logged_in(refused).get("/office/staff/contacts/").status_code == 403
        with pytest.raises(PermissionDenied):
            business_contact_add(staff_user=refused, province_code="330000", name="甲", phone="0571-1234567")
    with pytest.raises(PermissionDenied) as outside:
        business_contact_add(staff_user=zhejiang, province_code="150000", name="乙", phone="0471-1234567")
    assert outside.value.code == "staff.out_of_scope"
    with pytest.raises(ValidationFailed):
        business_contact_add(staff_user=ministry, province_code="330100", name="丙", phone="0571-1234567")
    business_contact_add(staff_user=ministry, province_code="150000", name="乌兰", phone="0471-6600000")
    page = _logged_in(ministry).get("/office/staff/contacts/").content.decode()
    assert '<option value="150000"' in page
    assert '<option value="330000"' in page
    assert "乌兰" in page
