"""The application workflow through the real services: stages, deadlines, history, blocks."""

from __future__ import annotations

import datetime as dt

import pytest

from yunzheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from yunzheng.core.models import AuditEntry
from yunzheng.elicense.models import ElectronicLicence
from yunzheng.licensing import services
from yunzheng.licensing.models import (
    CityQuota,
    DepartmentReview,
    LicenceApplication,
    Notification,
    OperatingLicence,
    Party,
    Stage,
    Step,
    TestBooking,
    TestSlotMonth,
)
from yunzheng.licensing.tests.factories import (
    advance_to,
    at,
    company_with_contact,
    officials,
    pdf_upload,
    record_evaluations,
)

pytestmark = pytest.mark.django_db
D = dt.date


def _application_at_test_booking(now: dt.datetime):
    company, user = company_with_contact()
    who = officials()
    application = services.application_create(
        company=company, path="national", city_code="330100", user=user, now=now
    )
    advance_to(application, Step.TEST_BOOKING, user=user, who=who, now=now)
    return company, user, who, application


def _pass_test(application: LicenceApplication, *, user, who, now: dt.datetime) -> None:
    month = now.date().replace(day=1)
    if not TestSlotMonth.objects.filter(month=month).exists():
        services.test_slot_month_create(
            month=month, user=who.ministry, capacity=5, opens_at=now - dt.timedelta(hours=1)
        )
    services.test_booking_create(company_id=application.company.pk, month=month, user=user, now=now)
    application.refresh_from_db()
    assert application.step == Step.TEST_RUN
    services.test_result_record(
        application=application, user=who.ministry, passed=True, issued_on=now.date(), now=now
    )
    application.refresh_from_db()


def test_ministry_reply_stage_is_due_fifteen_working_days_after_the_letter() -> None:
    company, user = company_with_contact()
    who = officials()
    now = at(2026, 9, 18)
    application = services.application_create(
        company=company, path="national", city_code="330100", user=user, now=now
    )
    advance_to(application, Step.MINISTRY_REPLY, user=user, who=who, now=now)
    stage = application.stages.get(status="open")
    assert (stage.kind, stage.responsible, stage.clock_start, stage.due_on) == (
        Step.MINISTRY_REPLY,
        Party.MINISTRY,
        D(2026, 9, 18),
        D(2026, 10, 15),
    )
    # The city's stage before it is closed with its outcome; the history says who did what.
    quota_review = application.stages.get(kind=Step.QUOTA_REVIEW)
    assert quota_review.status == "done"
    assert quota_review.outcome == "send_letter"
    actions = list(application.transitions.values_list("action", flat=True))
    assert actions == ["create", "submit_quota", "send_letter"]
    assert AuditEntry.objects.filter(
        action="licensing.application.send_letter", target_id=str(application.pk)
    ).exists()


def test_full_national_path_with_extension_and_revision_restart() -> None:
    start = at(2026, 2, 2)
    company, user, who, application = _application_at_test_booking(start)
    _pass_test(application, user=user, who=who, now=start)
    assert application.step == Step.CAPABILITY_MATERIALS
    services.material_upload(
        application=application, kind="capability", upload=pdf_upload(), user=user, now=start
    )
    services.capability_submit(application=application, user=user, now=start)
    received = at(2026, 2, 9)
    services.capability_forward(application=application, user=who.city, now=received)
    stage = application.stages.get(status="open")
    assert (stage.kind, stage.responsible, stage.due_on) == (
        Step.CAPABILITY_REVIEW,
        Party.PROVINCE_TRANSPORT,
        D(2026, 3, 13),
    )

    # Only the province's transport department distributes and decides; departments answer once.
    with pytest.raises(PermissionDenied):
        services.capability_distribute(application=application, user=who.city, now=received)
    services.capability_distribute(application=application, user=who.province, now=received)
    assert DepartmentReview.objects.filter(stage=stage).count() == 5
    with pytest.raises(Conflict) as missing:
        services.capability_decide(
            application=application, user=who.province, decision="approve", now=received
        )
    assert missing.value.code == "review.opinions_missing"
    for department, official in who.departments.items():
        services.department_review_submit(
            application=application,
            user=official,
            recommendation="revise" if department == "tax" else "approve",
            comments=f"{department} 意见",
            now=received,
        )
    with pytest.raises(Conflict) as again:
        services.department_review_submit(
            application=application,
            user=who.departments["tax"],
            recommendation="approve",
            comments="x",
            now=received,
        )
    assert again.value.code == "review.already_answered"

    # One extension of 10 working days with a reason; a second one is refused.
    with pytest.raises(ValidationFailed):
        services.capability_extend(application=application, user=who.province, reason=" ", now=received)
    services.capability_extend(
        application=application, user=who.province, reason="需补充核查", now=at(2026, 3, 2)
    )
    stage.refresh_from_db()
    assert (stage.due_on, stage.extended_days, stage.extension_reason) == (D(2026, 3, 27), 10, "需补充核查")
    with pytest.raises(Conflict) as twice:
        services.capability_extend(
            application=application, user=who.province, reason="再次", now=at(2026, 3, 3)
        )
    assert twice.value.code == "review.already_extended"

    # "Revise": one week to resubmit, then a fresh 20 working days from the resubmission.
    services.capability_decide(
        application=application,
        user=who.province,
        decision="revise",
        reason="税务材料不全",
        now=at(2026, 3, 10),
    )
    revision = application.stages.get(status="open")
    assert (revision.kind, revision.responsible, revision.due_on) == (
        Step.CAPABILITY_REVISION,
        Party.COMPANY,
        D(2026, 3, 17),
    )
    with pytest.raises(ValidationFailed):  # nothing new uploaded yet
        services.capability_resubmit(application=application, user=user, now=at(2026, 3, 16))
    services.material_upload(
        application=application, kind="capability", upload=pdf_upload(), user=user, now=at(2026, 3, 16)
    )
    restarted = services.capability_resubmit(application=application, user=user, now=at(2026, 3, 16))
    assert restarted is not None
    assert (restarted.kind, restarted.clock_start, restarted.due_on, restarted.extended_days) == (
        Step.CAPABILITY_REVIEW,
        D(2026, 3, 16),
        D(2026, 4, 14),
        0,
    )
    services.capability_distribute(application=application, user=who.province, now=at(2026, 3, 17))
    for official in list(who.departments.values())[:4]:
        services.department_review_submit(
            application=application,
            user=official,
            recommendation="approve",
            comments="同意",
            now=at(2026, 3, 18),
        )
    # Deciding without the fifth opinion needs a recorded reason.
    services.capability_decide(
        application=application,
        user=who.province,
        decision="approve",
        decision_number="浙交认〔2026〕3号",
        missing_reason="网信办逾期未反馈",
        now=at(2026, 4, 14),
    )
    application.refresh_from_db()
    assert application.step == Step.EVALUATIONS
    assert application.capability_decided_on == D(2026, 4, 14)
    assert "网信办逾期未反馈" in application.transitions.get(action="approve_capability").reason

    # The three evaluations, then the licence (and its electronic licence).
    record_evaluations(company, user, issued_on=D(2026, 4, 1), now=at(2026, 4, 15))
    services.evaluations_submit(application=application, user=user, now=at(2026, 4, 15))
    decision = application.stages.get(status="open")
    assert (decision.kind, decision.responsible) == (Step.LICENCE_DECISION, Party.CITY_TRANSPORT)
    licence = services.licence_grant(
        application=application,
        user=who.city,
        scope="网络预约出租汽车客运",
        area="杭州市",
        now=at(2026, 4, 20),
    )
    application.refresh_from_db()
    assert application.step == Step.GRANTED
    assert not application.stages.filter(status="open").exists()
    assert licence.kind == OperatingLicence.Kind.NATIONAL
    assert (licence.valid_from, licence.valid_until) == (D(2026, 4, 20), D(2030, 4, 19))
    assert licence.number.startswith("330100WY2026")
    electronic = ElectronicLicence.objects.get(lid=licence.electronic_licence_id)
    assert electronic.holder_company_id == company.pk
    assert electronic.data["certificate_number"] == licence.number
    # The grant went through the operating-licence registry: status, version 1, an issue event.
    assert (licence.status, licence.version) == (OperatingLicence.Status.VALID, 1)
    assert list(licence.events.values_list("kind", flat=True)) == ["issue"]
    # Every step change reached the company's dashboard.
    assert Notification.objects.filter(recipient_company=company).count() >= 10


def test_evaluation_missing_or_expired_blocks_the_licence() -> None:
    now = at(2026, 3, 2)
    company, user, who, application = _application_at_test_booking(now)
    services.application_withdraw(application=application, user=user, reason="改走地牌", now=now)
    # Local path: needs a national licence first.
    with pytest.raises(Conflict) as needs:
        services.application_create(company=company, path="local", city_code="330200", user=user, now=now)
    assert needs.value.code == "application.national_licence_required"
    application = services.application_create(
        company=company, path="national", city_code="330100", user=user, now=now
    )
    advance_to(application, Step.TEST_BOOKING, user=user, who=who, now=now)
    _pass_test(application, user=user, who=who, now=now)
    services.material_upload(
        application=application, kind="capability", upload=pdf_upload(), user=user, now=now
    )
    services.capability_submit(application=application, user=user, now=now)
    services.capability_forward(application=application, user=who.city, now=now)
    services.capability_distribute(application=application, user=who.province, now=now)
    for official in who.departments.values():
        services.department_review_submit(
            application=application, user=official, recommendation="approve", comments="同意", now=now
        )
    services.capability_decide(application=application, user=who.province, decision="approve", now=now)

    with pytest.raises(Conflict) as missing:
        services.evaluations_submit(application=application, user=user, now=now)
    assert missing.value.code == "evaluation.missing"
    assert {d.field for d in missing.value.details} == {"level3", "network_protection", "app_security"}

    # Level-3 issued 2025-03-01 ends 2026-03-01: expired by 2026-03-02; the other two never expire.
    record_evaluations(company, user, issued_on=D(2025, 3, 1), now=now)
    with pytest.raises(Conflict) as expired:
        services.evaluations_submit(application=application, user=user, now=now)
    assert expired.value.code == "evaluation.expired"
    assert [d.field for d in expired.value.details] == ["level3"]

    services.security_evaluation_record(
        company=company, kind="level3", agency="浙江省信息安全测评中心", report_number="R-2026",
        issued_on=D(2026, 2, 27), upload=pdf_upload(), user=user, filing_number="33010013001-26002", now=now,
    )  # fmt: skip
    services.evaluations_submit(application=application, user=user, now=now)
    # Expiring between presentation and decision still blocks the grant.
    later = at(2027, 2, 28)
    with pytest.raises(Conflict) as at_grant:
        services.licence_grant(
            application=application, user=who.city, scope="网约车", area="杭州市", now=later
        )
    assert at_grant.value.code == "evaluation.expired"
    assert not OperatingLicence.objects.exists()


def test_expired_test_document_sends_the_application_back_to_the_test() -> None:
    now = at(2026, 3, 2)
    company, user, who, application = _application_at_test_booking(now)
    _pass_test(application, user=user, who=who, now=now)
    document = company.test_passed_documents.get()
    assert (document.issued_on, document.valid_until, document.source) == (
        D(2026, 3, 2),
        D(2026, 9, 2),
        "manual",
    )
    assert application.stages.get(status="open").due_on == D(2026, 9, 2)  # the company's real limit
    assert TestBooking.objects.get(company=company).status == "passed"

    # A warning inside 30 days, once, by SMS and on the dashboard.
    warned = services.reminders_send(now=at(2026, 8, 10))
    assert warned["documents"] == 1
    assert services.reminders_send(now=at(2026, 8, 11))["documents"] == 0
    assert Notification.objects.filter(dedupe_key=f"testdoc-expiring:{document.pk}").count() == 1

    services.material_upload(
        application=application, kind="capability", upload=pdf_upload(), user=user, now=now
    )
    with pytest.raises(Conflict) as expired:
        services.capability_submit(application=application, user=user, now=at(2026, 9, 3))
    assert expired.value.code == "test_document.expired"
    with pytest.raises(Conflict):  # still valid on 2 Sep: no re-test
        services.application_retest(application=application, user=user, now=at(2026, 9, 2))
    moved = services.reminders_send(now=at(2026, 9, 3))
    assert moved["retests"] == 1
    application.refresh_from_db()
    assert application.step == Step.TEST_BOOKING
    last = application.transitions.last()
    assert last is not None
    assert last.action == "retest"
    # Book again (a later month) and pass: back where the company left off.
    _pass_test(application, user=user, who=who, now=at(2026, 9, 7))
    assert application.step == Step.CAPABILITY_MATERIALS


def test_failed_test_keeps_the_slot_and_requires_next_month() -> None:
    now = at(2026, 3, 2)
    company, user, who, application = _application_at_test_booking(now)
    slot = services.test_slot_month_create(
        month=D(2026, 3, 1), user=who.ministry, capacity=2, opens_at=now - dt.timedelta(hours=1)
    )
    services.test_booking_create(company_id=company.pk, month=D(2026, 3, 1), user=user, now=now)
    application.refresh_from_db()
    assert application.stages.get(status="open").due_on == D(2026, 3, 31)
    services.test_result_record(application=application, user=who.ministry, passed=False, now=now)
    application.refresh_from_db()
    slot.refresh_from_db()
    assert application.step == Step.TEST_BOOKING
    assert slot.booked == 1  # a failed test frees nothing
    with pytest.raises(Conflict) as same_month:
        services.test_booking_create(company_id=company.pk, month=D(2026, 3, 1), user=user, now=now)
    assert same_month.value.code == "booking.already_booked"
    services.test_slot_month_create(month=D(2026, 4, 1), user=who.ministry, capacity=2)
    with pytest.raises(Conflict) as not_open:
        services.test_booking_create(company_id=company.pk, month=D(2026, 4, 1), user=user, now=now)
    assert not_open.value.code == "booking.not_open"
    # Opens at noon (Asia/Shanghai) on the 1st.
    services.test_booking_create(
        company_id=company.pk, month=D(2026, 4, 1), user=user, now=at(2026, 4, 1, 12)
    )


def test_quota_closed_city_refuses_applications_with_its_notice() -> None:
    company, user = company_with_contact()
    who = officials()
    with pytest.raises(PermissionDenied):  # Hangzhou's authority cannot close Ningbo
        services.city_quota_set(
            city_code="330200", accepting=False, user=who.city, notice_number="甬交〔2025〕9号"
        )
    with pytest.raises(ValidationFailed):  # closing needs the notice
        services.city_quota_set(city_code="330200", accepting=False, user=who.province)
    services.city_quota_set(
        city_code="330200",
        accepting=False,
        user=who.province,
        notice_number="甬交〔2025〕9号",
        notice_title="关于暂停新增网约车平台的通告",
        notice_date=D(2025, 12, 1),
    )
    with pytest.raises(Conflict) as closed:
        services.application_create(company=company, path="national", city_code="330200", user=user)
    assert closed.value.code == "quota.city_closed"
    assert "甬交〔2025〕9号" in closed.value.message
    assert closed.value.details[0].params["notice_number"] == "甬交〔2025〕9号"
    assert AuditEntry.objects.filter(action="licensing.city_quota.set", target_id="330200").exists()
    # Hangzhou accepts (no row: accepting by default); an open application is unique per city.
    services.application_create(company=company, path="national", city_code="330100", user=user)
    with pytest.raises(Conflict) as twice:
        services.application_create(company=company, path="national", city_code="330100", user=user)
    assert twice.value.code == "application.already_open"
    assert CityQuota.objects.get(city_code="330200").accepting is False


def test_each_party_acts_only_on_its_own_step_and_region() -> None:
    now = at(2026, 3, 2)
    company, user = company_with_contact()
    who = officials()
    _stranger, stranger_user = company_with_contact()
    from yunzheng.accounts.tests.factories import staff

    ningbo_city = staff("nb-city", department="transport", level="city", region="330200")
    jiangsu = staff("js-prov", department="transport", level="province", region="320000")
    application = services.application_create(
        company=company, path="national", city_code="330100", user=user, now=now
    )
    with pytest.raises(PermissionDenied):  # not a member of this company
        services.material_upload(
            application=application, kind="annex2", upload=pdf_upload(), user=stranger_user, now=now
        )
    advance_to(application, Step.QUOTA_REVIEW, user=user, who=who, now=now)
    for wrong in (ningbo_city, jiangsu, who.province, who.ministry, who.departments["pboc"]):
        with pytest.raises(PermissionDenied):
            services.work_letter_send(
                application=application, user=wrong, letter_number="x", letter_date=now.date(), now=now
            )
    with pytest.raises(PermissionDenied):  # the company cannot do the city's step
        services.work_letter_send(
            application=application, user=user, letter_number="x", letter_date=now.date(), now=now
        )
    with pytest.raises(Conflict):  # right party, wrong step
        services.ministry_reply_record(
            application=application, user=who.ministry, reply_number="x", reply_date=now.date(), now=now
        )
    services.quota_return(application=application, user=who.city, reason="附件3未盖章", now=now)
    application.refresh_from_db()
    assert application.step == Step.QUOTA_MATERIALS
    assert Stage.objects.filter(application=application, kind=Step.QUOTA_MATERIALS).count() == 2
