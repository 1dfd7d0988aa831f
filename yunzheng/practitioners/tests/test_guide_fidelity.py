"""Issue #17 items 9-11: the One-Network Office services as the guides list them.

9  - renewal, replacement and information change collect the licence class (准驾车型) and the
     reason; information change covers the guide's editable fields (licence class, unit phone,
     reason, address, contact, phone);
10 - material lists per province, maintained by provincial staff, the national list by default;
     the wizard shows the province's list;
11 - the credit-assessment form prefills the service company from the certificate's service unit.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from yunzheng.accounts.models import StaffProfile, User
from yunzheng.core.crypto import is_field_token
from yunzheng.core.errors import PermissionDenied, ValidationFailed
from yunzheng.core.models import AuditEntry
from yunzheng.practitioners import catalogue, services
from yunzheng.practitioners.models import CaseType, MaterialKind, QualificationCertificate

from .conftest import DRIVER_ID, draft, make_clerk, png_bytes, register

M = MaterialKind


def _approve(case: Any, clerk: User) -> None:
    services.case_submit(case=case, applicant=case.applicant)
    services.case_accept(case=case, staff=clerk)
    services.case_approve(case=case, staff=clerk)


def _fields(error: ValidationFailed) -> dict[str, str]:
    return {detail.field: detail.code for detail in error.details}


# --- item 9 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("C1", "C1"),
        ("c1", "C1"),
        ("Ａ２Ｄ", "A2D"),
        ("D、A2", "A2D"),
        ("B2 E", "B2E"),
        ("X9", None),
        ("C1C1", None),
    ],
)
def test_licence_classes_are_normalised(raw: str, expected: str | None) -> None:
    assert catalogue.normalise_licence_class(raw) == expected


@pytest.mark.parametrize("case_type", [CaseType.RENEWAL, CaseType.REPLACEMENT])
def test_renewal_and_replacement_need_licence_class_and_reason(
    driver: User, certificate: QualificationCertificate, case_type: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        draft(driver, certificate, case_type, details={}, materials=False)
    fields = _fields(caught.value)
    assert fields["licence_class"] == "case.field_required"
    assert ("reason" if case_type == CaseType.RENEWAL else "replacement_reason") in fields
    with pytest.raises(ValidationFailed) as caught:
        draft(
            driver,
            certificate,
            case_type,
            details={"licence_class": "Z7", "reason": "到期", "replacement_reason": "lost"},
            materials=False,
        )
    assert _fields(caught.value) == {"licence_class": "case.licence_class_invalid"}


def test_renewal_records_the_licence_class_on_the_certificate(
    driver: User, certificate: QualificationCertificate, clerk: User, signing_keys: None
) -> None:
    case = draft(driver, certificate, CaseType.RENEWAL, details={"licence_class": "a2", "reason": "到期换证"})
    assert case.details == {"licence_class": "A2", "reason": "到期换证"}
    _approve(case, clerk)
    certificate.refresh_from_db()
    assert certificate.licence_class == "A2"


def test_information_change_covers_every_editable_field_of_the_guide(
    driver: User, certificate: QualificationCertificate, clerk: User, signing_keys: None
) -> None:
    details = {
        "licence_class": "B2",
        "unit_phone": "0571-86001234",
        "new_address": "浙江省杭州市滨江区江南大道1号",
        "new_contact_name": "王芳",
        "new_contact_phone": "13800001111",
        "reason": "信息有变",
    }
    case = draft(driver, certificate, CaseType.CHANGE_INFO, details=details)
    stored = case.details
    assert is_field_token(stored["new_contact_phone"])  # personal data encrypted in the case
    assert "13800001111" not in str(stored)
    _approve(case, clerk)
    certificate.refresh_from_db()
    assert certificate.licence_class == "B2"
    assert certificate.service_unit_phone == "0571-86001234"
    assert certificate.holder_address == "浙江省杭州市滨江区江南大道1号"
    assert certificate.contact_name == "王芳"
    assert certificate.contact_phone == "13800001111"
    update = AuditEntry.objects.filter(action="office.certificate.update").order_by("-pk").first()
    assert update is not None
    assert "13800001111" not in str(update.after)  # masked in the audit log


def test_information_change_refuses_bad_values_and_nothing_to_change(
    driver: User, certificate: QualificationCertificate
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        draft(
            driver,
            certificate,
            CaseType.CHANGE_INFO,
            details={"unit_phone": "电话", "new_contact_phone": "12345", "licence_class": "Q", "reason": "x"},
            materials=False,
        )
    assert _fields(caught.value) == {
        "unit_phone": "case.phone_invalid",
        "new_contact_phone": "phone.format",
        "licence_class": "case.licence_class_invalid",
    }
    with pytest.raises(ValidationFailed) as caught:
        draft(driver, certificate, CaseType.CHANGE_INFO, details={"reason": "x"}, materials=False)
    assert _fields(caught.value) == {"new_address": "case.nothing_changes"}


def test_information_change_page_offers_the_guides_fields(
    driver: User, certificate: QualificationCertificate
) -> None:
    client = Client()
    client.force_login(driver)
    client.post("/office/services/change-info/", {"agree": "on"})
    response = client.post("/office/services/change-info/certificate/", {"certificate": certificate.pk})
    info = client.get(response["Location"]).content.decode()
    for name in (
        "licence_class",
        "unit_phone",
        "new_address",
        "new_contact_name",
        "new_contact_phone",
        "reason",
    ):
        assert f'name="{name}"' in info, name
    posted = client.post(
        response["Location"],
        {
            "phone": "13900000001",
            "contact_name": "张伟",
            "address": "浙江省杭州市西湖区1号",
            "licence_class": "C1",
            "new_contact_phone": "13800002222",
            "reason": "换手机号",
        },
    )
    assert posted.status_code == 302, posted.content.decode()[:2000]
    case = certificate.cases.get()
    assert case.details["licence_class"] == "C1"
    assert is_field_token(case.details["new_contact_phone"])


# --- item 10 -------------------------------------------------------------------------------------


def test_provincial_staff_maintain_their_provinces_list_and_the_wizard_shows_it(
    driver: User, certificate: QualificationCertificate
) -> None:
    national, _optional, source = catalogue.material_lists(CaseType.RENEWAL, "330100")
    assert source == "national"
    assert national == [M.PHOTO_2INCH, M.DRIVING_LICENCE, M.CERT_INFO_PAGE, M.VIOLATION_PAGE]
    zhejiang = make_clerk("zj-province", region="330000", level=StaffProfile.Level.PROVINCE)
    services.province_material_list_set(
        staff_user=zhejiang,
        province_code="330000",
        case_type=CaseType.RENEWAL,
        required=[M.PHOTO_2INCH, M.DRIVING_LICENCE],
        optional=[M.VIOLATION_PAGE],
    )
    assert catalogue.material_lists(CaseType.RENEWAL, "330100") == (
        [M.PHOTO_2INCH, M.DRIVING_LICENCE],
        [M.VIOLATION_PAGE],
        "330000",
    )
    assert catalogue.material_lists(CaseType.RENEWAL, "150100")[2] == "national"  # other provinces
    case = draft(driver, certificate, CaseType.RENEWAL, materials=False)
    assert services.required_materials_for(case) == [M.PHOTO_2INCH, M.DRIVING_LICENCE]
    for kind in services.required_materials_for(case):
        services.case_material_upload(case=case, applicant=driver, kind=kind, upload=png_bytes())
    assert services.case_submit(case=case, applicant=driver).state == "submitted"
    client = Client()
    client.force_login(driver)
    other = register(DRIVER_ID, number="3301002015009999")
    client.post("/office/services/renewal/", {"agree": "on"})
    response = client.post("/office/services/renewal/certificate/", {"certificate": other.pk})
    assert response.status_code == 302
    new_case = other.cases.get()
    page = client.get(f"/office/cases/{new_case.pk}/materials/").content.decode()
    assert 'data-testid="material-driving_licence"' in page
    assert 'data-testid="material-cert_info_page"' not in page  # the province dropped it
    # back to the national list
    services.province_material_list_reset(
        staff_user=zhejiang, province_code="330000", case_type=CaseType.RENEWAL
    )
    assert catalogue.material_lists(CaseType.RENEWAL, "330100")[2] == "national"


def test_only_the_provinces_own_staff_maintain_its_lists(db: Any) -> None:
    city = make_clerk("hz-city", region="330100")
    other_province = make_clerk("nm-province", region="150000", level=StaffProfile.Level.PROVINCE)
    for staff in (city, other_province):
        with pytest.raises(PermissionDenied):
            services.province_material_list_set(
                staff_user=staff, province_code="330000", case_type=CaseType.RENEWAL, required=[M.PHOTO_2INCH]
            )
    zhejiang = make_clerk("zj-province-2", region="330000", level=StaffProfile.Level.PROVINCE)
    with pytest.raises(ValidationFailed) as caught:
        services.province_material_list_set(
            staff_user=zhejiang, province_code="330000", case_type=CaseType.RENEWAL, required=["selfie"]
        )
    assert caught.value.details[0].field == "required"


# --- item 11 -------------------------------------------------------------------------------------


def test_credit_assessment_form_prefills_the_service_company(
    driver: User, certificate: QualificationCertificate
) -> None:
    client = Client()
    client.force_login(driver)
    client.post("/office/services/credit-assessment/", {"agree": "on"})
    response = client.post("/office/services/credit-assessment/certificate/", {"certificate": certificate.pk})
    page = client.get(response["Location"]).content.decode()
    assert 'name="service_company"' in page
    assert f'value="{certificate.service_unit}"' in page


def test_provincial_staff_page_sets_and_resets_a_list(db: Any) -> None:
    from .conftest import staff_login

    zhejiang = make_clerk("zj-province-page", region="330000", level=StaffProfile.Level.PROVINCE)
    client = Client()
    staff_login(client, zhejiang)
    page = client.get("/office/staff/materials/").content.decode()
    assert 'data-testid="materials-renewal"' in page
    saved = client.post(
        "/office/staff/materials/",
        {
            "case_type": "renewal",
            "required": ["photo_2inch", "driving_licence"],
            "optional": ["violation_page"],
        },
    )
    assert saved.status_code == 302
    assert catalogue.material_lists(CaseType.RENEWAL, "330100")[0] == ["photo_2inch", "driving_licence"]
    client.post("/office/staff/materials/", {"case_type": "renewal", "action": "reset"})
    assert catalogue.material_lists(CaseType.RENEWAL, "330100")[2] == "national"
    city = make_clerk("hz-city-page", region="330100")
    other = Client()
    staff_login(other, city)
    other.post("/office/staff/materials/", {"case_type": "renewal", "required": ["photo_2inch"]})
    assert catalogue.material_lists(CaseType.RENEWAL, "330100")[2] == "national"  # a city cannot
