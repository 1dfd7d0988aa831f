"""Services of the office: applying, the case lifecycle with stored deadlines, the registry, SMS,
audit, and who may do what."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from yunzheng.accounts.models import StaffProfile, User
from yunzheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yunzheng.core.models import AuditEntry, StatutoryCalendarDay, StatutoryCalendarYear
from yunzheng.core.sms import read_outbox
from yunzheng.elicense.models import ElectronicLicence
from yunzheng.practitioners import licences, selectors, services
from yunzheng.practitioners.models import (
    CaseMaterial,
    CaseState,
    CaseTransition,
    CaseType,
    CertificateCategory,
    CertificateCategoryGrant,
    CreditAssessment,
    MaterialKind,
    QualificationCertificate,
    ServiceCase,
)

from .conftest import DRIVER_ID, OTHER_ID, at, draft, make_clerk, png_bytes, register, submitted

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------------------------
# Association and eligibility
# --------------------------------------------------------------------------------------------


def test_certificates_are_associated_by_id_number_after_verification(
    driver: User, certificate: QualificationCertificate, other_driver: User
) -> None:
    assert certificate.holder_id is None
    assert services.certificates_associate_for_user(user=driver) == 1
    certificate.refresh_from_db()
    assert certificate.holder_id == driver.pk
    assert services.certificates_associate_for_user(user=driver) == 0  # idempotent, nothing to do
    assert list(selectors.certificates_for_user(user=other_driver)) == []
    assert (
        AuditEntry.objects.filter(
            action="office.certificate.associate", target_id=str(certificate.pk)
        ).count()
        == 1
    )


def test_unverified_user_cannot_apply(unverified: User, certificate: QualificationCertificate) -> None:
    with pytest.raises(PermissionDenied) as denied:
        services.case_draft_create(
            applicant=unverified, case_type=CaseType.RENEWAL, certificate_id=certificate.pk, agreed=True
        )
    assert denied.value.code == "real_name.required"
    assert selectors.certificates_for_user(user=unverified).count() == 0


def test_instructions_must_be_agreed(driver: User, certificate: QualificationCertificate) -> None:
    with pytest.raises(ValidationFailed) as failed:
        services.case_draft_create(
            applicant=driver, case_type=CaseType.RENEWAL, certificate_id=certificate.pk, agreed=False
        )
    assert failed.value.details[0].code == "case.instructions_not_agreed"


def test_another_holders_certificate_is_not_found(driver: User, other_driver: User) -> None:
    theirs = register(OTHER_ID, number="3301002018004321", name="李娜")
    with pytest.raises(NotFound):
        services.case_draft_create(
            applicant=driver, case_type=CaseType.RENEWAL, certificate_id=theirs.pk, agreed=True
        )


def test_only_certificates_within_validity_and_not_in_a_case(
    driver: User, certificate: QualificationCertificate
) -> None:
    expired = register(DRIVER_ID, number="3301002009000001", valid_until=dt.date(2025, 1, 1))
    with pytest.raises(ValidationFailed):  # the constraint valid_from <= valid_until still holds
        register(DRIVER_ID, number="x", valid_until=dt.date(2020, 1, 1))
    with pytest.raises(Conflict) as not_eligible:
        services.case_draft_create(
            applicant=driver, case_type=CaseType.RENEWAL, certificate_id=expired.pk, agreed=True
        )
    assert not_eligible.value.code == "case.certificate_not_eligible"
    # Information verification may concern an expired certificate (its dates may be what is wrong).
    services.case_draft_create(
        applicant=driver, case_type=CaseType.INFO_VERIFICATION, certificate_id=expired.pk, agreed=True
    )
    submitted(driver, certificate)
    with pytest.raises(Conflict) as busy:
        services.case_draft_create(
            applicant=driver, case_type=CaseType.CANCELLATION, certificate_id=certificate.pk, agreed=True
        )
    assert busy.value.code == "case.certificate_busy"
    choices = {
        c.certificate.number: c
        for c in selectors.certificate_choices(user=driver, case_type=CaseType.RENEWAL, today=dt.date.today())
    }
    assert not choices[certificate.number].eligible
    assert not choices[expired.number].eligible


def test_draft_is_resumed_for_the_same_service_and_certificate(
    driver: User, certificate: QualificationCertificate
) -> None:
    first = services.case_draft_create(
        applicant=driver, case_type=CaseType.RENEWAL, certificate_id=certificate.pk, agreed=True
    )
    again = services.case_draft_create(
        applicant=driver, case_type=CaseType.RENEWAL, certificate_id=certificate.pk, agreed=True
    )
    assert first.pk == again.pk
    info = services.personal_info(first)
    assert info.name == "张伟"
    assert info.phone == "13900000001"
    assert info.address.startswith("浙江省杭州市")


# --------------------------------------------------------------------------------------------
# Forms and materials
# --------------------------------------------------------------------------------------------


def test_form_reports_every_problem_and_keeps_the_verified_name(
    driver: User, certificate: QualificationCertificate
) -> None:
    case = services.case_draft_create(
        applicant=driver, case_type=CaseType.CHANGE_UNIT, certificate_id=certificate.pk, agreed=True
    )
    with pytest.raises(ValidationFailed) as failed:
        services.case_form_save(
            case=case,
            applicant=driver,
            phone="12345",
            address="",
            contact_name="张伟",
            details={"new_unit": ""},
        )
    fields = {d.field for d in failed.value.details}
    assert {"phone", "address", "new_unit", "unit_phone", "reason"} <= fields
    saved = services.case_form_save(
        case=case,
        applicant=driver,
        phone="13900000009",
        address="浙江省杭州市滨江区1号",
        contact_name="张伟",
        details={"new_unit": "新公司", "unit_phone": "0571-1234567", "reason": "换单位", "name": "冒名"},
    )
    info = services.personal_info(saved)
    assert info.name == "张伟"
    assert info.phone == "13900000009"
    assert "name" not in saved.details
    # Personal data is stored encrypted.
    with connection.cursor() as cursor:
        cursor.execute("SELECT personal_data FROM practitioners_servicecase WHERE id = %s", [case.pk])
        raw = cursor.fetchone()[0]
    assert raw.startswith("sm4gcm:")
    assert "13900000009" not in raw


def test_credit_assessment_service_company_may_be_empty(
    driver: User, certificate: QualificationCertificate
) -> None:
    case = draft(driver, certificate, CaseType.CREDIT_ASSESSMENT)
    assert case.details["service_company"] == ""
    assert case.details["cycle_year"] == dt.date.today().year - 1


def test_cancellation_materials_depend_on_the_categories(
    driver: User, certificate: QualificationCertificate
) -> None:
    case = services.case_draft_create(
        applicant=driver, case_type=CaseType.CANCELLATION, certificate_id=certificate.pk, agreed=True
    )
    partial = services.case_form_save(
        case=case, applicant=driver, phone="13900000001", address="杭州", contact_name="张伟",
        details={"categories": [CertificateCategory.RIDE_HAILING]},
    )  # fmt: skip
    assert services.required_materials_for(partial) == [
        "id_front", "id_back", "white_photo_2inch", "cert_info_page", "violation_page"
    ]  # fmt: skip
    everything = services.case_form_save(
        case=case, applicant=driver, phone="13900000001", address="杭州", contact_name="张伟",
        details={"categories": [CertificateCategory.RIDE_HAILING, CertificateCategory.CRUISING_TAXI]},
    )  # fmt: skip
    assert services.required_materials_for(everything) == ["id_front", "id_back", "white_photo_2inch"]
    with pytest.raises(ValidationFailed) as failed:
        services.case_form_save(
            case=case, applicant=driver, phone="13900000001", address="杭州", contact_name="张伟",
            details={"categories": [CertificateCategory.FREIGHT]},
        )  # fmt: skip
    assert failed.value.details[0].code == "case.category_not_held"


def test_uploads_are_checked_by_content(
    driver: User, certificate: QualificationCertificate, private_media: Any
) -> None:
    case = draft(driver, certificate, materials=False)
    fake_png = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"
    with pytest.raises(ValidationFailed) as failed:
        services.case_material_upload(case=case, applicant=driver, kind="photo_2inch", upload=fake_png)
    assert failed.value.details[0].code == "upload.unsupported_type"
    with pytest.raises(ValidationFailed) as too_large:
        services.case_material_upload(
            case=case, applicant=driver, kind="photo_2inch", upload=b"\x89PNG" + b"0" * (10 * 1024 * 1024)
        )
    assert too_large.value.details[0].code == "upload.too_large"
    with pytest.raises(ValidationFailed) as wrong_kind:
        services.case_material_upload(
            case=case, applicant=driver, kind="employment_contract", upload=png_bytes()
        )
    assert wrong_kind.value.details[0].code == "material.kind_not_allowed"
    assert not CaseMaterial.objects.exists()
    assert not any(p.is_file() for p in private_media.rglob("*"))  # nothing left behind

    first = services.case_material_upload(case=case, applicant=driver, kind="photo_2inch", upload=png_bytes())
    second = services.case_material_upload(
        case=case, applicant=driver, kind="photo_2inch", upload=png_bytes((1, 2, 3))
    )
    first.refresh_from_db()
    assert first.replaced_at is not None
    assert second.replaced_at is None
    stored = (private_media / second.storage_name).read_bytes()
    assert stored.startswith(b"sm4gcm:")  # encrypted at rest, never the PNG itself
    assert services.material_bytes(material=second)[:8] == b"\x89PNG\r\n\x1a\n"


def test_incomplete_draft_cannot_be_submitted(driver: User, certificate: QualificationCertificate) -> None:
    case = draft(driver, certificate, materials=False)
    with pytest.raises(ValidationFailed) as failed:
        services.case_submit(case=case, applicant=driver)
    missing = next(d for d in failed.value.details if d.code == "case.materials_missing")
    assert missing.params["missing"] == ["photo_2inch", "driving_licence", "cert_info_page", "violation_page"]


# --------------------------------------------------------------------------------------------
# The lifecycle
# --------------------------------------------------------------------------------------------


def test_renewal_lifecycle_with_deadlines_registry_sms_and_audit(
    driver: User, certificate: QualificationCertificate, clerk: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        case = submitted(driver, certificate, now=at(2026, 9, 30))
    assert case.number == "ZJ-2026-000001"
    assert case.state == CaseState.SUBMITTED
    assert case.accept_due_on == dt.date(2026, 10, 9) == case.due_on  # across National Day

    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_accept(case=case, staff=clerk, now=at(2026, 10, 8))
    assert case.decide_due_on == dt.date(2026, 10, 12) == case.due_on

    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_return_for_supplement(
            case=case, staff=clerk, reason="照片不清晰", now=at(2026, 10, 9)
        )
    assert case.state == CaseState.RETURNED
    assert case.due_on is None
    services.case_material_upload(
        case=case, applicant=driver, kind="photo_2inch", upload=png_bytes((9, 9, 9)), now=at(2026, 10, 13)
    )
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_supplement(case=case, applicant=driver, now=at(2026, 10, 13))
    assert case.state == CaseState.ACCEPTED
    assert case.paused_working_days == 3  # Sat 10 (worked), Mon 12, Tue 13
    assert case.decide_due_on == dt.date(2026, 10, 15) == case.due_on

    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_approve(case=case, staff=clerk, now=at(2026, 10, 14))
    assert case.state == CaseState.APPROVED
    assert case.due_on is None
    certificate.refresh_from_db()
    assert certificate.valid_from == dt.date(2026, 10, 14)
    assert certificate.valid_until == dt.date(2032, 10, 13)
    assert certificate.version == 2
    licence = licences.certificate_licence(certificate)
    assert licence is not None
    assert licence.valid_until == dt.date(2032, 10, 13)
    assert licence.version == 2

    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_complete(case=case, staff=clerk, note="EMS 1234567890", now=at(2026, 10, 15))
    assert case.state == CaseState.COMPLETED
    assert case.completion_note == "EMS 1234567890"

    steps = list(CaseTransition.objects.filter(case=case).values_list("from_state", "to_state", "actor_role"))
    assert steps == [
        ("draft", "submitted", "applicant"),
        ("submitted", "accepted", "staff"),
        ("accepted", "returned", "staff"),
        ("returned", "accepted", "applicant"),
        ("accepted", "approved", "staff"),
        ("approved", "completed", "staff"),
    ]
    audited = list(
        AuditEntry.objects.filter(
            target_type="office_case",
            target_id=str(case.pk),
            action__regex=r"office\.case\.(submit|accept|return|supplement|approve|complete)$",
        )
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert audited == [
        f"office.case.{a}" for a in ("submit", "accept", "return", "supplement", "approve", "complete")
    ]
    texts = [m.text for m in read_outbox(phone="13900000001") if "ZJ-2026-000001" in m.text]
    assert len(texts) == 6  # one SMS per transition
    assert "照片不清晰" in texts[2]


def test_withdraw_before_acceptance_only(
    driver: User, certificate: QualificationCertificate, clerk: User
) -> None:
    case = submitted(driver, certificate)
    withdrawn = services.case_withdraw(case=case, applicant=driver)
    assert withdrawn.state == CaseState.WITHDRAWN
    assert withdrawn.due_on is None
    # The certificate is free again.
    again = submitted(driver, certificate, CaseType.REPLACEMENT)
    services.case_accept(case=again, staff=clerk)
    with pytest.raises(Conflict) as refused:
        services.case_withdraw(case=again, applicant=driver)
    assert refused.value.code == "case.withdraw_after_acceptance"
    services.case_return_for_supplement(case=again, staff=clerk, reason="补材料")
    with pytest.raises(Conflict) as still_refused:
        services.case_withdraw(case=again, applicant=driver)
    assert still_refused.value.code == "case.withdraw_after_acceptance"


def test_negative_outcomes_need_a_reason(
    driver: User, certificate: QualificationCertificate, clerk: User
) -> None:
    case = submitted(driver, certificate)
    with pytest.raises(ValidationFailed) as no_reason:
        services.case_reject(case=case, staff=clerk, reason="   ")
    assert no_reason.value.details[0].code == "case.reason_required"
    services.case_accept(case=case, staff=clerk)
    with pytest.raises(ValidationFailed):
        services.case_return_for_supplement(case=case, staff=clerk, reason="")
    rejected = services.case_reject(case=case, staff=clerk, reason="违法记录未处理完毕")
    assert rejected.state == CaseState.REJECTED
    assert rejected.outcome_reason == "违法记录未处理完毕"
    with pytest.raises(Conflict) as final:
        services.case_approve(case=case, staff=clerk)
    assert final.value.code == "case.transition_not_allowed"


def test_applicant_cannot_act_as_staff_and_others_cannot_touch_the_case(
    driver: User, other_driver: User, certificate: QualificationCertificate, clerk: User
) -> None:
    case = submitted(driver, certificate)
    with pytest.raises(NotFound):
        services.case_withdraw(case=case, applicant=other_driver)
    with pytest.raises(NotFound):
        selectors.case_for_applicant(user=other_driver, case_id=case.pk)
    with pytest.raises(PermissionDenied):
        services.case_accept(case=case, staff=driver)  # not staff at all
    with pytest.raises(NotFound):
        services.case_material_upload(
            case=case, applicant=other_driver, kind="photo_2inch", upload=png_bytes()
        )


def test_clerks_see_and_act_only_within_their_region_and_department(
    driver: User, certificate: QualificationCertificate, clerk: User
) -> None:
    case = submitted(driver, certificate)
    ningbo = make_clerk("nb-clerk", region="330200")
    province = make_clerk("zj-clerk", region="330000", level=StaffProfile.Level.PROVINCE)
    inner_mongolia = make_clerk("nm-clerk", region="150000", level=StaffProfile.Level.PROVINCE)
    police = make_clerk("hz-police", region="330100", department=StaffProfile.Department.PUBLIC_SECURITY)

    assert selectors.case_for_staff(staff_user=clerk, case_id=case.pk) == case
    assert selectors.case_for_staff(staff_user=province, case_id=case.pk) == case
    for outsider in (ningbo, inner_mongolia):
        with pytest.raises(NotFound):
            selectors.case_for_staff(staff_user=outsider, case_id=case.pk)
        assert not selectors.staff_queue(staff_user=outsider, filters=selectors.QueueFilter()).exists()
        with pytest.raises(PermissionDenied) as denied:
            services.case_accept(case=case, staff=outsider)
        assert denied.value.code == "staff.out_of_scope"
    with pytest.raises(PermissionDenied) as wrong_department:
        selectors.staff_queue(staff_user=police, filters=selectors.QueueFilter())
    assert wrong_department.value.code == "staff.action_not_allowed"
    with pytest.raises(PermissionDenied):
        services.case_accept(case=case, staff=police)
    # Materials: the applicant and clerks in scope only.
    material = case.materials.first()
    assert material is not None
    assert selectors.material_for_viewer(user=driver, case_id=case.pk, material_id=material.pk)[1] is False
    assert selectors.material_for_viewer(user=clerk, case_id=case.pk, material_id=material.pk)[1] is True
    for outsider in (ningbo, police):
        with pytest.raises(NotFound):
            selectors.material_for_viewer(user=outsider, case_id=case.pk, material_id=material.pk)


def test_queue_filters_use_stored_due_dates(driver: User, other_driver: User, clerk: User) -> None:
    mine = register(DRIVER_ID, number="3301002015001234")
    theirs = register(OTHER_ID, number="3301002018004321", name="李娜")
    old = submitted(driver, mine, now=at(2026, 11, 16))  # due Wed 18 Nov
    new = submitted(other_driver, theirs, now=at(2026, 11, 19))  # due Mon 23 Nov
    today = dt.date(2026, 11, 18)
    queue = selectors.staff_queue(staff_user=clerk, filters=selectors.QueueFilter(), today=today)
    assert list(queue) == [old, new]  # earliest due first
    due_today = selectors.staff_queue(
        staff_user=clerk, filters=selectors.QueueFilter(due_today=True), today=today
    )
    assert list(due_today) == [old]
    overdue = selectors.staff_queue(
        staff_user=clerk, filters=selectors.QueueFilter(overdue=True), today=dt.date(2026, 11, 20)
    )
    assert list(overdue) == [old]
    assert selectors.staff_queue_counts(staff_user=clerk, today=dt.date(2026, 11, 20)) == {
        "overdue": 1,
        "due_today": 0,
    }
    by_type = selectors.staff_queue(
        staff_user=clerk, filters=selectors.QueueFilter(case_type=CaseType.CREDIT_ASSESSMENT), today=today
    )
    assert not by_type.exists()


def test_submission_before_an_unknown_year_gets_a_provisional_due_date(
    driver: User, certificate: QualificationCertificate
) -> None:
    case = submitted(driver, certificate, now=at(2026, 12, 30))
    assert case.state == CaseState.SUBMITTED
    # Thu 31 Dec, then Fri 1 Jan 2027 counted as a weekday: 2027's holidays are not known yet.
    assert case.due_on == case.accept_due_on == dt.date(2027, 1, 1)
    assert case.due_provisional is True
    assert services.case_deadlines_refresh() == 0  # still provisional, still the same date
    # Entered and confirmed (maker-checker, core.calendar_years): only a confirmed year counts.
    year = StatutoryCalendarYear.objects.create(year=2027, notice="test notice", confirmed_at=timezone.now())
    StatutoryCalendarDay.objects.create(
        calendar_year=year, date=dt.date(2027, 1, 1), kind="holiday", name="元旦"
    )
    out = io.StringIO()
    call_command("office_deadlines_refresh", stdout=out)
    assert out.getvalue().startswith("1 case(s)")
    case.refresh_from_db()
    assert case.due_on == case.accept_due_on == dt.date(2027, 1, 4)
    assert case.due_provisional is False
    entry = AuditEntry.objects.get(action="office.case.deadline_recomputed", target_id=str(case.pk))
    assert entry.before == {"due_on": "2027-01-01", "due_provisional": True}
    assert entry.after == {"due_on": "2027-01-04", "due_provisional": False}


# --------------------------------------------------------------------------------------------
# Approval applies to the registry
# --------------------------------------------------------------------------------------------


def _approve(case: ServiceCase, clerk: User, **kwargs: Any) -> ServiceCase:
    services.case_accept(case=case, staff=clerk)
    return services.case_approve(case=case, staff=clerk, **kwargs)


def test_credit_assessment_records_the_grade_and_a_voucher(
    driver: User, certificate: QualificationCertificate, clerk: User
) -> None:
    case = submitted(driver, certificate, CaseType.CREDIT_ASSESSMENT)
    services.case_accept(case=case, staff=clerk)
    with pytest.raises(ValidationFailed) as no_grade:
        services.case_approve(case=case, staff=clerk)
    assert no_grade.value.details[0].code == "case.grade_required"
    done = services.case_approve(case=case, staff=clerk, grade="AA")
    assert done.state == CaseState.COMPLETED  # no new certificate: completed at once
    assessment = CreditAssessment.objects.get(certificate=certificate)
    assert (assessment.cycle_year, assessment.grade, assessment.case_id) == (
        dt.date.today().year - 1,
        "AA",
        case.pk,
    )
    voucher = licences.voucher_licence(assessment)
    assert voucher is not None
    assert voucher.licence_type == "credit_voucher"
    assert voucher.status == "valid"
    assert voucher.data["grade"] == "AA"
    # The same cycle cannot be applied for twice.
    with pytest.raises(ValidationFailed) as twice:
        draft(driver, certificate, CaseType.CREDIT_ASSESSMENT)
    assert twice.value.details[0].code == "case.cycle_already_assessed"


def test_change_of_unit_and_information(
    driver: User, certificate: QualificationCertificate, clerk: User
) -> None:
    _approve(submitted(driver, certificate, CaseType.CHANGE_UNIT), clerk)
    certificate.refresh_from_db()
    assert certificate.service_unit == "杭州曹操出行科技有限公司"
    assert certificate.service_unit_phone == "0571-85001111"
    services.case_complete(case=ServiceCase.objects.get(case_type=CaseType.CHANGE_UNIT), staff=clerk)
    _approve(submitted(driver, certificate, CaseType.CHANGE_INFO), clerk)
    certificate.refresh_from_db()
    assert certificate.holder_address == "浙江省杭州市滨江区江南大道1号"
    entry = AuditEntry.objects.filter(action="office.certificate.update").order_by("-id").first()
    assert entry is not None
    assert entry.after is not None
    assert entry.after["holder_address"] == "***"


def test_partial_and_full_cancellation(
    driver: User, certificate: QualificationCertificate, clerk: User
) -> None:
    _approve(submitted(driver, certificate, CaseType.CANCELLATION), clerk)
    grants = dict(certificate.grants.values_list("category", "status"))
    assert grants == {"cruising_taxi": "valid", "ride_hailing": "cancelled"}
    certificate.refresh_from_db()
    assert certificate.status == QualificationCertificate.Status.VALID
    case = draft(driver, certificate, CaseType.CANCELLATION, details={"categories": ["cruising_taxi"]})
    _approve(services.case_submit(case=case, applicant=driver), clerk)
    certificate.refresh_from_db()
    assert certificate.status == QualificationCertificate.Status.CANCELLED
    assert not certificate.grants.filter(status=CertificateCategoryGrant.Status.VALID).exists()
    licence = licences.certificate_licence(certificate)
    assert licence is not None
    assert licence.status == "revoked"


def test_information_verification_answer_corrects_the_registry(
    driver: User, certificate: QualificationCertificate, clerk: User
) -> None:
    case = submitted(driver, certificate, CaseType.INFO_VERIFICATION, now=at(2026, 9, 30))
    assert case.due_on == dt.date(2026, 10, 9)  # 2 working days to answer
    with pytest.raises(Conflict):
        services.case_accept(case=case, staff=clerk)  # answered, not accepted
    with pytest.raises(ValidationFailed):
        services.case_answer_verification(case=case, staff=clerk, answer="", corrections={})
    with pytest.raises(ValidationFailed):
        services.case_answer_verification(
            case=case, staff=clerk, answer="已核实", corrections={"first_issued_on": "2014-13-40"}
        )
    # Answering is a registry decision (registry.maintain): ministry staff handle cases, not this.
    ministry = make_clerk("ministry-clerk", region="", level=StaffProfile.Level.MINISTRY)
    assert selectors.case_for_staff(staff_user=ministry, case_id=case.pk) == case
    with pytest.raises(PermissionDenied) as refused:
        services.case_answer_verification(case=case, staff=ministry, answer="已核实", corrections={})
    assert refused.value.code == "staff.action_not_allowed"
    done = services.case_answer_verification(
        case=case,
        staff=clerk,
        answer="经核查，初领日期录入有误，已更正。",
        corrections={"first_issued_on": "2014-04-20"},
    )
    assert done.state == CaseState.COMPLETED
    assert done.outcome_reason.startswith("经核查")
    certificate.refresh_from_db()
    assert certificate.first_issued_on == dt.date(2014, 4, 20)
    entry = AuditEntry.objects.get(action="office.certificate.update", target_id=str(certificate.pk))
    assert entry.before == {"first_issued_on": "2015-04-20"}
    assert entry.after is not None
    assert entry.after["first_issued_on"] == "2014-04-20"
    assert done.details["corrected"] == {"first_issued_on": "2014-04-20"}


def test_electronic_licence_follows_the_registry_in_the_same_transaction(
    driver: User, certificate: QualificationCertificate, clerk: User
) -> None:
    licence = licences.certificate_licence(certificate)
    assert licence is not None
    assert licence.version == 1
    assert licence.data["certificate_number"] == certificate.number
    assert ElectronicLicence.objects.filter(source_type=licences.CERTIFICATE_SOURCE).count() == 1


def test_a_lost_certificate_s_replacement_does_not_ask_for_its_pages(
    driver: User, certificate: QualificationCertificate
) -> None:
    """#12 item 4: nobody can photograph the pages of a certificate they lost."""
    pages = {MaterialKind.CERT_INFO_PAGE, MaterialKind.VIOLATION_PAGE}
    lost = draft(
        driver,
        certificate,
        CaseType.REPLACEMENT,
        details={"replacement_reason": "lost", "licence_class": "C1"},
    )
    assert not pages & set(services.required_materials_for(lost))
    assert not pages & set(services.allowed_materials_for(lost))
    services.case_draft_discard(case=lost, applicant=driver)
    damaged = draft(
        driver,
        certificate,
        CaseType.REPLACEMENT,
        details={"replacement_reason": "damaged", "licence_class": "C1"},
    )
    assert pages <= set(services.required_materials_for(damaged))
