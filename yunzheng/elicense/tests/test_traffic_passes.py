"""Electronic traffic passes: apply, vehicle checks, 7-working-day due date, decisions, the pass
as a signed licence, and the applicant's and staff pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from yunzheng.accounts.models import User
from yunzheng.core.errors import Conflict, NotAuthenticated, PermissionDenied, ValidationFailed
from yunzheng.core.sms import read_outbox
from yunzheng.core.workdays import add_working_days
from yunzheng.elicense import qr_payload, services
from yunzheng.elicense.models import LicenceType, PassType, TrafficPassApplication
from yunzheng.elicense.tests.conftest import SYSTEM, make_staff, staff_client, today, user_client
from yunzheng.elicense.traffic_passes import (
    PassRequest,
    traffic_pass_apply,
    traffic_pass_approve,
    traffic_pass_data_review,
    traffic_pass_reject,
    traffic_pass_revoke,
    traffic_pass_withdraw,
)
from yunzheng.elicense.vehicles import (
    validate_plate,
    vehicle_certificate_cancel,
    vehicle_violation_record,
    vehicle_violation_resolve,
)


def request(**overrides: Any) -> PassRequest:
    values: dict[str, Any] = {
        "plate_number": "津A12345",
        "pass_type": PassType.TRUCK_NIGHT,
        "road_sections": ["外环线（津静公路—津塘公路）", "快速路中环线"],
        "time_windows": ["22:00-06:00"],
        "valid_from": today(),
        "valid_until": today() + dt.timedelta(days=59),
        "vehicle_task": "freight",
        "no_alternative_route": True,
    }
    values.update(overrides)
    return PassRequest(**values)


def reviewed(application: TrafficPassApplication, staff: User) -> TrafficPassApplication:
    """The traffic police pass the data review (the decision's clock starts here)."""
    return traffic_pass_data_review(application=application, staff_user=staff)


def problems(error: ValidationFailed) -> set[str]:
    return {detail.code for detail in error.details}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("津A12345", "津A12345"),
        ("津a12345", "津A12345"),
        (" 津A·12345 ", "津A12345"),
        ("津AD12345", "津AD12345"),
    ],
)
def test_plate_numbers(raw, expected):
    assert validate_plate(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("津Ａ12345", "plate.fullwidth"),
        ("津A1234", "plate.format"),
        ("津I12345", "plate.format"),
        ("XA12345", "plate.format"),
        ("", "plate.format"),
    ],
)
def test_bad_plate_numbers(raw, code):
    with pytest.raises(ValidationFailed) as info:
        validate_plate(raw)
    assert info.value.code == code


def test_apply_sets_due_date_and_timeline(holder, truck):
    application = traffic_pass_apply(user=holder, request=request(time_windows="２２：００－０６：００"))
    assert application.status == "submitted"
    assert application.due_date is None  # runs from the data review
    assert application.time_windows == ["22:00-06:00"]  # full-width input normalised
    assert application.region_code == "120000"
    assert list(application.transitions.values_list("from_status", "to_status")) == [("", "submitted")]
    with pytest.raises(Conflict):
        traffic_pass_apply(user=holder, request=request())


def test_apply_validation(holder, truck):
    with pytest.raises(ValidationFailed) as info:
        traffic_pass_apply(
            user=holder,
            request=request(
                road_sections=[],
                time_windows=["25:00-06:00"],
                pass_type="bogus",
                valid_from=today() - dt.timedelta(days=1),
            ),
        )
    assert {
        "traffic_pass.sections_invalid",
        "traffic_pass.times_invalid",
        "traffic_pass.type_invalid",
        "traffic_pass.validity_invalid",
    } <= problems(info.value)
    with pytest.raises(ValidationFailed) as info:
        traffic_pass_apply(user=holder, request=request(pass_type=PassType.HAZMAT))  # at most 30 days
    assert problems(info.value) == {"traffic_pass.validity_invalid"}
    with pytest.raises(ValidationFailed) as info:
        traffic_pass_apply(user=holder, request=request(plate_number="津B99999"))
    assert problems(info.value) == {"traffic_pass.vehicle_unknown"}


def test_vehicle_must_belong_to_the_applicant(other_user, truck):
    with pytest.raises(ValidationFailed) as info:
        traffic_pass_apply(user=other_user, request=request())
    assert problems(info.value) == {"traffic_pass.vehicle_not_owned"}


def test_unverified_user_cannot_apply(db, truck):
    user = User.objects.create_user(username="unverified")
    with pytest.raises(PermissionDenied):
        traffic_pass_apply(user=user, request=request())
    with pytest.raises(NotAuthenticated):
        traffic_pass_apply(user=None, request=request())  # type: ignore[arg-type]


def test_unresolved_violation_blocks_application_and_approval(keys, holder, truck, tianjin_staff):
    violation = vehicle_violation_record(
        plate_number="津A12345", occurred_on=today(), description="闯禁行", actor=SYSTEM
    )
    with pytest.raises(ValidationFailed) as info:
        traffic_pass_apply(user=holder, request=request())
    assert problems(info.value) == {"traffic_pass.unresolved_violations"}
    vehicle_violation_resolve(violation=violation, actor=SYSTEM)
    application = traffic_pass_apply(user=holder, request=request())
    application = reviewed(application, tianjin_staff)
    vehicle_violation_record(plate_number="津A12345", occurred_on=today(), description="超速", actor=SYSTEM)
    with pytest.raises(ValidationFailed) as info:
        traffic_pass_approve(application=application, staff_user=tianjin_staff)
    assert problems(info.value) == {"traffic_pass.unresolved_violations"}


def test_cancelled_certificate_makes_the_vehicle_illegal(keys, holder, truck, tianjin_staff):
    application = reviewed(traffic_pass_apply(user=holder, request=request()), tianjin_staff)
    vehicle_certificate_cancel(certificate=truck, actor=SYSTEM, reason="车辆报废")
    with pytest.raises(ValidationFailed) as info:
        traffic_pass_approve(application=application, staff_user=tianjin_staff)
    assert "traffic_pass.vehicle_not_legal" in problems(info.value)


def test_approval_issues_a_signed_pass_with_everything_in_the_qr(
    keys, holder, truck, tianjin_staff, django_capture_on_commit_callbacks
):
    application = reviewed(traffic_pass_apply(user=holder, request=request()), tianjin_staff)
    with django_capture_on_commit_callbacks(execute=True):
        approved = traffic_pass_approve(application=application, staff_user=tianjin_staff, reason="准予通行")
    licence = approved.licence
    assert licence is not None
    assert (licence.licence_type, licence.status, licence.issuer_region) == (
        LicenceType.TRAFFIC_PASS,
        "valid",
        "120000",
    )
    assert licence.lid.startswith("12-TP-")
    signed = services.licence_sign(licence=licence)
    claims, _body, _sig = qr_payload.parse(signed.text)
    assert claims.ess["p"] == "津A12345"
    assert claims.ess["n"] == "王**"
    assert claims.ess["pt"] == "货车夜间通行证"
    assert claims.ess["s"] == ["外环线（津静公路—津塘公路）", "快速路中环线"]
    assert claims.ess["t"] == ["22:00-06:00"]
    assert (claims.valid_from, claims.valid_until) == (application.valid_from, application.valid_until)
    assert [t.to_status for t in approved.transitions.all()] == ["submitted", "data_approved", "approved"]
    notices = read_outbox(phone=holder.phone)
    assert len(notices) == 1
    assert application.reference in notices[0].text
    # Revocation goes to the licence at once.
    traffic_pass_revoke(application=approved, staff_user=tianjin_staff, reason="违规通行")
    licence.refresh_from_db()
    assert licence.status == "revoked"
    assert services.verification_verify(text=signed.text, client_ip="10.2.2.2").result == "revoked"


def test_reject_needs_a_reason_and_withdraw(keys, holder, truck, tianjin_staff):
    application = traffic_pass_apply(user=holder, request=request())
    with pytest.raises(ValidationFailed):
        traffic_pass_reject(application=application, staff_user=tianjin_staff, reason="  ")
    rejected = traffic_pass_reject(
        application=reviewed(application, tianjin_staff),
        staff_user=tianjin_staff,
        reason="路段不在货车通行范围",
    )
    assert rejected.status == "rejected"
    assert rejected.licence is None
    with pytest.raises(Conflict):
        traffic_pass_approve(application=rejected, staff_user=tianjin_staff)
    second = traffic_pass_apply(user=holder, request=request())
    withdrawn = traffic_pass_withdraw(application=second, user=holder, reason="不再需要")
    assert [t.to_status for t in withdrawn.transitions.all()] == ["submitted", "withdrawn"]


def test_staff_of_another_region_cannot_decide(keys, holder, truck):
    application = traffic_pass_apply(user=holder, request=request())
    zhejiang = make_staff("330000", department="public_security")
    with pytest.raises(PermissionDenied):
        traffic_pass_approve(application=application, staff_user=zhejiang)
    response = staff_client(zhejiang).post(
        f"/api/v1/elicense/staff/traffic-passes/{application.pk}/approve", {}, content_type="application/json"
    )
    assert response.status_code == 404
    assert staff_client(zhejiang).get(f"/elicense/staff/passes/{application.pk}/").status_code == 404


def test_api_flow(keys, holder, truck, tianjin_staff):
    applicant = user_client(holder)
    created = applicant.post(
        "/api/v1/elicense/traffic-passes",
        {
            "plate_number": "津A12345",
            "pass_type": "truck_night",
            "road_sections": ["快速路中环线"],
            "time_windows": ["22:00-06:00"],
            "valid_from": str(today()),
            "valid_until": str(today() + dt.timedelta(days=30)),
            "vehicle_task": "freight",
            "no_alternative_route": True,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    application_id = created.json()["id"]
    bad = applicant.post(
        "/api/v1/elicense/traffic-passes",
        {
            "plate_number": "津Ａ12345",
            "pass_type": "truck_day",
            "road_sections": ["x"],
            "time_windows": [],
            "valid_from": str(today()),
            "valid_until": str(today()),
        },
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["code"] == "plate.fullwidth"
    staff = staff_client(tianjin_staff)
    queue = staff.get("/api/v1/elicense/staff/traffic-passes").json()
    assert [item["id"] for item in queue] == [application_id]
    assert staff.get("/api/v1/elicense/staff/traffic-passes?overdue=true").json() == []
    # A staff member without a second factor, and a public user, are refused.
    assert user_client(tianjin_staff).get("/api/v1/elicense/staff/traffic-passes").status_code == 403
    assert applicant.get("/api/v1/elicense/staff/traffic-passes").status_code == 403
    rejected = staff.post(
        f"/api/v1/elicense/staff/traffic-passes/{application_id}/reject",
        {"reason": ""},
        content_type="application/json",
    )
    assert rejected.status_code == 422
    early = staff.post(
        f"/api/v1/elicense/staff/traffic-passes/{application_id}/approve",
        {"reason": "ok"},
        content_type="application/json",
    )
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "traffic_pass.data_review_pending"
    review = staff.post(
        f"/api/v1/elicense/staff/traffic-passes/{application_id}/data-review",
        {"reason": ""},
        content_type="application/json",
    )
    assert review.status_code == 200, review.content
    assert review.json()["due_date"] == str(add_working_days(today(), 7))
    approved = staff.post(
        f"/api/v1/elicense/staff/traffic-passes/{application_id}/approve",
        {"reason": "ok"},
        content_type="application/json",
    )
    assert approved.status_code == 200
    assert approved.json()["licence_id"].startswith("12-TP-")
    progress = applicant.get(f"/api/v1/elicense/traffic-passes/{application_id}").json()
    assert progress["status"] == "approved"
    assert [t["to_status"] for t in progress["transitions"]] == ["submitted", "data_approved", "approved"]
    qr = applicant.get(f"/api/v1/elicense/licences/{progress['licence_id']}/qr").json()
    assert qr["qr_version"] <= 14
    assert qr["qr_text"].endswith(qr["payload"])


def test_overdue_queue(keys, holder, truck, tianjin_staff):
    from yunzheng.elicense import selectors

    application = reviewed(traffic_pass_apply(user=holder, request=request()), tianjin_staff)
    TrafficPassApplication.objects.filter(pk=application.pk).update(due_date=today() - dt.timedelta(days=1))
    overdue = selectors.application_queue(staff_user=tianjin_staff, overdue_only=True)
    assert list(overdue) == [TrafficPassApplication.objects.get(pk=application.pk)]
    page = staff_client(tianjin_staff).get("/elicense/staff/passes/?overdue=1")
    assert page.status_code == 200
    assert application.reference in page.content.decode()


def test_pages(keys, holder, truck, tianjin_staff):
    applicant = user_client(holder)
    form = applicant.get("/elicense/passes/apply/")
    assert form.status_code == 200
    posted = applicant.post(
        "/elicense/passes/apply/",
        {
            "plate_number": "津A12345",
            "pass_type": "truck_night",
            "road_sections": "快速路中环线\n津滨高速",
            "time_windows": "22:00-06:00",
            "valid_from": today(),
            "valid_until": today() + dt.timedelta(days=30),
            "vehicle_task": "freight",
            "no_alternative_route": "on",
            "company": "",
        },
    )
    assert posted.status_code == 302, posted.content.decode()[:2000]
    application = TrafficPassApplication.objects.get(applicant_user=holder)
    assert application.road_sections == ["快速路中环线", "津滨高速"]
    detail = applicant.get(posted["Location"])
    assert application.reference in detail.content.decode()
    invalid = applicant.post(
        "/elicense/passes/apply/",
        {
            "plate_number": "津Ａ12345",
            "pass_type": "truck_night",
            "road_sections": "x路",
            "time_windows": "22:00-06:00",
            "valid_from": today(),
            "valid_until": today(),
        },
    )
    assert invalid.status_code == 200
    assert "errorlist" in invalid.content.decode()
    staff = staff_client(tianjin_staff)
    assert application.reference in staff.get("/elicense/staff/passes/").content.decode()
    staff.post(f"/elicense/staff/passes/{application.pk}/", {"action": "data_review", "reason": ""})
    decided = staff.post(f"/elicense/staff/passes/{application.pk}/", {"action": "approve", "reason": ""})
    assert decided.status_code == 302
    application.refresh_from_db()
    assert application.status == "approved"
    assert application.licence is not None
    pass_page = applicant.get(f"/elicense/licences/{application.licence.lid}/")
    assert 'data-testid="licence-qr"' in pass_page.content.decode()
    assert applicant.get("/elicense/").status_code == 200
    assert applicant.get("/elicense/passes/").status_code == 200


def test_applicant_adds_a_material_and_withdraws_on_the_pass_page(keys, holder, truck):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    application = traffic_pass_apply(user=holder, request=request())
    applicant = user_client(holder)
    page = f"/elicense/passes/{application.pk}/"
    missing = applicant.post(page, {"action": "material", "title": "行驶证"}, follow=True)
    assert [str(m) for m in missing.context["messages"]] == [
        "请选择文件。"
    ]  # said once (not again as its detail)
    buffer = io.BytesIO()
    Image.new("RGB", (200, 120), "white").save(buffer, format="PNG")
    photo = SimpleUploadedFile("licence.png", buffer.getvalue(), content_type="image/png")
    added = applicant.post(page, {"action": "material", "title": "行驶证", "file": photo}, follow=True)
    assert [str(m) for m in added.context["messages"]] == ["材料已添加。"]
    assert [m.title for m in application.materials.all()] == ["行驶证"]
    assert applicant.post(page, {"action": "withdraw", "reason": "不再需要"}).status_code == 302
    application.refresh_from_db()
    assert application.status == "withdrawn"
