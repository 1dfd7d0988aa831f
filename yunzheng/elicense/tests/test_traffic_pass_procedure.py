"""Issue #17 items 12-14: the traffic-pass procedure as the Tianjin document describes it.

12 - the second condition (the vehicle's task, the no-other-route declaration) captured and
     reviewed; supporting materials uploaded (PNG/JPEG/PDF, checked by content);
13 - the 7 working days run from the data review; pass types are data per city; the reviewing
     authority is the city's traffic police;
14 - an approved pass is re-checked when the vehicle's certificate is cancelled or a new
     unremedied violation is recorded: suspended with the reason, the holder notified.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yunzheng.accounts.models import StaffProfile, User
from yunzheng.accounts.tests.factories import png_bytes
from yunzheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from yunzheng.core.sms import read_outbox
from yunzheng.core.workdays import add_working_days
from yunzheng.elicense.models import LicenceEvent, TrafficPassApplication, VehicleTask
from yunzheng.elicense.tests.conftest import SYSTEM, make_staff, staff_client, today, user_client
from yunzheng.elicense.traffic_pass_types import pass_types_for_region, traffic_pass_type_save
from yunzheng.elicense.traffic_passes import (
    PassRequest,
    recheck_for_vehicle,
    traffic_pass_apply,
    traffic_pass_approve,
    traffic_pass_data_review,
    traffic_pass_material_add,
    traffic_pass_material_content,
)
from yunzheng.elicense.vehicles import vehicle_certificate_cancel, vehicle_violation_record
from yunzheng.licensing.demo import minimal_pdf


def request(**overrides: Any) -> PassRequest:
    values: dict[str, Any] = {
        "plate_number": "津A12345",
        "pass_type": "truck_night",
        "road_sections": ["快速路中环线"],
        "time_windows": ["22:00-06:00"],
        "valid_from": today(),
        "valid_until": today() + dt.timedelta(days=29),
        "vehicle_task": VehicleTask.CONSTRUCTION,
        "no_alternative_route": True,
    }
    values.update(overrides)
    return PassRequest(**values)


def codes(error: ValidationFailed) -> dict[str, str]:
    return {detail.field: detail.code for detail in error.details}


# --- item 12 -------------------------------------------------------------------------------------


def test_the_six_tasks_of_the_procedure_are_offered() -> None:
    assert set(VehicleTask.values) == {
        "administration",
        "municipal",
        "business_production",
        "residents_life",
        "freight",
        "construction",
    }


def test_task_and_declaration_are_required(holder: User, truck: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        traffic_pass_apply(
            user=holder, request=request(vehicle_task="sightseeing", no_alternative_route=False)
        )
    assert codes(caught.value) == {
        "vehicle_task": "traffic_pass.task_invalid",
        "no_alternative_route": "traffic_pass.declaration_required",
    }
    application = traffic_pass_apply(user=holder, request=request())
    assert (application.vehicle_task, application.no_alternative_route) == ("construction", True)


def test_materials_are_checked_by_content_and_stored_privately(holder: User, truck: Any) -> None:
    pdf = minimal_pdf("施工合同")
    application = traffic_pass_apply(
        user=holder,
        request=request(),
        materials=[("施工合同", SimpleUploadedFile("contract.pdf", pdf)), ("车辆照片", png_bytes())],
    )
    stored = list(application.materials.order_by("pk"))
    assert [(m.title, m.content_type) for m in stored] == [
        ("施工合同", "application/pdf"),
        ("车辆照片", "image/png"),
    ]
    assert traffic_pass_material_content(material=stored[0], viewer=holder) == pdf
    # a renamed text file is refused, whatever its name says
    with pytest.raises(ValidationFailed) as caught:
        traffic_pass_material_add(
            application=application,
            user=holder,
            title="路线说明",
            upload=SimpleUploadedFile("route.pdf", b"just some text, not a PDF"),
        )
    assert caught.value.details[0].field == "materials.0"
    added = traffic_pass_material_add(
        application=application, user=holder, title="路线说明", upload=png_bytes(width=300)
    )
    assert added.content_type == "image/png"
    assert application.materials.count() == 3


def test_staff_review_sees_task_declaration_and_materials_and_reads_are_audited(
    keys: Any, holder: User, truck: Any, tianjin_staff: User
) -> None:
    from yunzheng.core.models import AuditEntry

    application = traffic_pass_apply(
        user=holder, request=request(), materials=[("施工合同", minimal_pdf("x"))]
    )
    staff = staff_client(tianjin_staff)
    page = staff.get(f"/elicense/staff/passes/{application.pk}/").content.decode()
    assert "施工" in page  # the task, in Chinese
    assert 'data-testid="pass-declaration"' in page
    assert 'data-testid="staff-data-review"' in page
    material = application.materials.get()
    download = staff.get(f"/elicense/staff/passes/{application.pk}/materials/{material.pk}/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download.content.startswith(b"%PDF-")
    assert AuditEntry.objects.filter(action="elicense.traffic_pass.material_view").exists()


def test_apply_page_flow_with_task_declaration_and_materials(
    keys: Any, holder: User, truck: Any, tianjin_staff: User
) -> None:
    applicant = user_client(holder)
    form = applicant.get("/elicense/passes/apply/").content.decode()
    assert 'name="vehicle_task"' in form
    assert 'name="no_alternative_route"' in form
    assert 'enctype="multipart/form-data"' in form
    base = {
        "plate_number": "津A12345",
        "pass_type": "truck_night",
        "road_sections": "快速路中环线",
        "time_windows": "22:00-06:00",
        "valid_from": today(),
        "valid_until": today() + dt.timedelta(days=20),
        "vehicle_task": "freight",
        "company": "",
    }
    refused = applicant.post("/elicense/passes/apply/", base)  # no declaration
    assert refused.status_code == 200
    assert "errorlist" in refused.content.decode()
    assert not TrafficPassApplication.objects.exists()
    posted = applicant.post(
        "/elicense/passes/apply/",
        {
            **base,
            "no_alternative_route": "on",
            "materials": [
                SimpleUploadedFile("a.pdf", minimal_pdf("a"), content_type="application/pdf"),
                SimpleUploadedFile("b.png", png_bytes(), content_type="image/png"),
            ],
        },
    )
    assert posted.status_code == 302, posted.content.decode()[:3000]
    application = TrafficPassApplication.objects.get()
    assert application.materials.count() == 2
    detail = applicant.get(posted["Location"]).content.decode()
    assert "a.pdf" in detail
    assert 'data-testid="pass-add-material"' in detail
    # the traffic police pass the data review on their page, then approve
    staff = staff_client(tianjin_staff)
    staff.post(f"/elicense/staff/passes/{application.pk}/", {"action": "data_review", "reason": "资料齐全"})
    application.refresh_from_db()
    assert application.status == "data_approved"
    staff.post(f"/elicense/staff/passes/{application.pk}/", {"action": "approve", "reason": ""})
    application.refresh_from_db()
    assert application.status == "approved"


# --- item 13 -------------------------------------------------------------------------------------


def test_the_decision_is_due_seven_working_days_after_the_data_review(
    keys: Any, holder: User, truck: Any, tianjin_staff: User
) -> None:
    application = traffic_pass_apply(user=holder, request=request())
    assert application.due_date is None
    with pytest.raises(Conflict) as caught:
        traffic_pass_approve(application=application, staff_user=tianjin_staff)
    assert caught.value.code == "traffic_pass.data_review_pending"
    review_time = dt.datetime.combine(today() + dt.timedelta(days=3), dt.time(10), tzinfo=dt.UTC)
    reviewed = traffic_pass_data_review(application=application, staff_user=tianjin_staff, now=review_time)
    assert reviewed.due_date == add_working_days(today() + dt.timedelta(days=3), 7)
    assert reviewed.data_reviewed_by == tianjin_staff


def test_pass_types_are_data_per_city(keys: Any, holder: User, truck: Any, tianjin_staff: User) -> None:
    assert {t.code for t in pass_types_for_region("120000")} == {"truck_day", "truck_night", "hazmat", "muck"}
    assert not pass_types_for_region("330100").exists()  # another city has its own (none yet)
    # Tianjin's traffic police add a type with its own limits and retire one
    traffic_pass_type_save(
        staff_user=tianjin_staff,
        region_code="120000",
        code="school_bus",
        name="校车通行证",
        max_validity_days=365,
        decision_working_days=5,
    )
    traffic_pass_type_save(
        staff_user=tianjin_staff, region_code="120000", code="muck", name="渣土运输车辆通行证", active=False
    )
    with pytest.raises(ValidationFailed) as caught:
        traffic_pass_apply(user=holder, request=request(pass_type="muck"))
    assert codes(caught.value) == {"pass_type": "traffic_pass.type_invalid"}
    application = traffic_pass_apply(
        user=holder,
        request=request(pass_type="school_bus", valid_until=today() + dt.timedelta(days=300)),
    )
    assert application.pass_type_name == "校车通行证"
    reviewed = traffic_pass_data_review(application=application, staff_user=tianjin_staff)
    assert reviewed.due_date == add_working_days(today(), 5)
    approved = traffic_pass_approve(application=reviewed, staff_user=tianjin_staff)
    assert approved.licence is not None
    assert approved.licence.data["pass_type"] == "校车通行证"
    # the apply page offers the city's types
    form = user_client(holder).get("/elicense/passes/apply/").content.decode()
    assert "校车通行证" in form
    assert 'value="muck"' not in form


def test_pass_type_fields_are_validated(tianjin_staff: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        traffic_pass_type_save(staff_user=tianjin_staff, region_code="120000", code="Bad Code", name="x")
    assert caught.value.details[0].field == "code"
    with pytest.raises(ValidationFailed) as caught:
        traffic_pass_type_save(
            staff_user=tianjin_staff, region_code="120000", code="ok", name="通行证", decision_working_days=0
        )
    assert caught.value.details[0].field == "decision_working_days"


def test_the_reviewing_authority_is_the_citys_traffic_police(
    keys: Any, holder: User, truck: Any, tianjin_staff: User
) -> None:
    application = traffic_pass_apply(user=holder, request=request())
    transport = make_staff("120000", department=StaffProfile.Department.TRANSPORT)
    with pytest.raises(PermissionDenied) as caught:
        traffic_pass_data_review(application=application, staff_user=transport)
    assert caught.value.code == "staff.action_not_allowed"
    with pytest.raises(PermissionDenied):
        traffic_pass_type_save(staff_user=transport, region_code="120000", code="x1", name="某通行证")
    other_city_police = make_staff("330100", level="city", department=StaffProfile.Department.PUBLIC_SECURITY)
    with pytest.raises(PermissionDenied):
        traffic_pass_data_review(application=application, staff_user=other_city_police)
    assert (
        traffic_pass_data_review(application=application, staff_user=tianjin_staff).status == "data_approved"
    )


# --- item 14 -------------------------------------------------------------------------------------


def _approved(holder: User, staff: User) -> TrafficPassApplication:
    application = traffic_pass_apply(user=holder, request=request())
    application = traffic_pass_data_review(application=application, staff_user=staff)
    return traffic_pass_approve(application=application, staff_user=staff)


def test_cancelled_certificate_suspends_the_approved_pass_and_notifies_the_holder(
    keys: Any, holder: User, truck: Any, tianjin_staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    approved = _approved(holder, tianjin_staff)
    with django_capture_on_commit_callbacks(execute=True):
        vehicle_certificate_cancel(certificate=truck, actor=SYSTEM, reason="车辆转出")
    approved.refresh_from_db()
    assert approved.status == "suspended"
    assert "道路运输证" in approved.suspension_reason or "certificate" in approved.suspension_reason
    assert approved.licence is not None
    approved.licence.refresh_from_db()
    assert approved.licence.status == "suspended"
    assert approved.licence.events.filter(kind=LicenceEvent.Kind.SUSPEND).exists()
    transition = approved.transitions.order_by("-pk").first()
    assert transition is not None
    assert (transition.from_status, transition.to_status) == ("approved", "suspended")
    assert transition.reason == approved.suspension_reason
    assert any(approved.reference in n.text for n in read_outbox(phone=holder.phone))
    page = user_client(holder).get(f"/elicense/passes/{approved.pk}/").content.decode()
    assert 'data-testid="pass-suspension"' in page


def test_a_new_unremedied_violation_suspends_the_pass(
    keys: Any, holder: User, truck: Any, tianjin_staff: User
) -> None:
    approved = _approved(holder, tianjin_staff)
    vehicle_violation_record(plate_number="津A12345", occurred_on=today(), description="闯禁行", actor=SYSTEM)
    approved.refresh_from_db()
    assert approved.status == "suspended"
    assert approved.suspension_reason


def test_recheck_leaves_a_legal_vehicle_alone(
    keys: Any, holder: User, truck: Any, tianjin_staff: User
) -> None:
    approved = _approved(holder, tianjin_staff)
    assert recheck_for_vehicle(plate_number="津A12345") == []
    approved.refresh_from_db()
    assert approved.status == "approved"
