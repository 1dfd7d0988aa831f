"""Electronic traffic passes (电子通行证, the Tianjin procedure): apply online with the vehicle's
task, the declaration that no other route avoids the restricted sections and supporting
materials; the city's traffic police review the data, then decide within the pass type's working
days (7 in the procedure) counted from the data review; progress visible to the applicant; the
approved pass issued as an electronic licence whose QR carries plate, holder, type, road
sections, times and validity. Pass types are data per city (:mod:`.traffic_pass_types`).

Transitions (every one recorded with from, to, who, why, when):

    submitted     -> data_approved (data review passed) | rejected (reason) | withdrawn
    data_approved -> approved | rejected (reason required) | withdrawn (by the applicant)
    approved      -> suspended (the vehicle's certificate cancelled or a new unremedied violation,
                     see :func:`recheck_for_vehicle`) | revoked (reason required)
    suspended     -> revoked (reason required)

Settings: ELICENSE_TRAFFIC_PASS_REGION = "120000" (the default city whose roads the passes cover).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yunzheng.accounts.guards import ensure_real_name_verified
from yunzheng.accounts.models import Company, User
from yunzheng.core import documents
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import today_in_china
from yunzheng.core.errors import Conflict, ErrorDetail, NotFound, ValidationFailed
from yunzheng.core.sms import send_sms_on_commit
from yunzheng.core.workdays import WorkingCalendar, provisional_due
from yunzheng.elicense.conf import app_settings
from yunzheng.elicense.error_codes import ElicenseErrorCode as Code
from yunzheng.elicense.models import (
    ElectronicLicence,
    LicenceEvent,
    LicenceNumberSequence,
    LicenceType,
    TrafficPassApplication,
    TrafficPassMaterial,
    TrafficPassTransition,
    VehicleTask,
    VehicleTransportCertificate,
)
from yunzheng.elicense.services import licence_sync
from yunzheng.elicense.traffic_pass_types import (
    DEFAULT_DECISION_WORKING_DAYS,
    MAX_TIME_WINDOWS,
    pass_type_of,
    require_traffic_police,
    time_windows_invalid,
)
from yunzheng.elicense.vehicles import validate_plate, vehicle_legal_problems

SOURCE_TYPE = "elicense.traffic_pass"
MAX_SECTIONS = 8
MAX_SECTION_LENGTH = 40
MAX_MATERIALS = 10
PENDING = (TrafficPassApplication.Status.SUBMITTED, TrafficPassApplication.Status.DATA_APPROVED)
Status = TrafficPassApplication.Status


def pass_region() -> str:
    return str(app_settings.ELICENSE_TRAFFIC_PASS_REGION)


@dataclass(frozen=True)
class PassRequest:
    plate_number: str
    pass_type: str
    road_sections: list[str]
    time_windows: list[str]
    valid_from: dt.date
    valid_until: dt.date
    # The procedure's second condition: the task the vehicle performs, and the declaration that no
    # other route avoids the restricted sections.
    vehicle_task: str = ""
    no_alternative_route: bool = False
    region_code: str = ""  # the city issuing the pass; empty: ELICENSE_TRAFFIC_PASS_REGION


def _error(field: str, code: str, message: str) -> ErrorDetail:
    return ErrorDetail(field=field, code=code, message=message)


def normalise_sections(raw: list[str] | str) -> list[str]:
    items = raw.splitlines() if isinstance(raw, str) else raw
    seen: list[str] = []
    for item in items:
        section = " ".join(str(item).split())
        if section and section not in seen:
            seen.append(section)
    return seen


def normalise_time_windows(raw: list[str] | str) -> list[str]:
    items = re.split(r"[\n,，;；]", raw) if isinstance(raw, str) else raw
    # NFKC turns full-width "２２：００－０６：００" into "22:00-06:00"; spaces and en/em dashes too.
    windows = []
    for item in items:
        text = unicodedata.normalize("NFKC", str(item)).replace(" ", "")
        text = re.sub("[\u2010-\u2015\u2212~～至到]", "-", text)
        if text:
            windows.append(text)
    return windows


def _check_request(request: PassRequest, *, today: dt.date) -> list[ErrorDetail]:
    problems = []
    pass_type = pass_type_of(request.region_code, request.pass_type)
    if pass_type is None:
        problems.append(_error("pass_type", Code.TP_TYPE_INVALID, _("Choose a pass type.")))
    if request.vehicle_task not in VehicleTask.values:
        problems.append(
            _error("vehicle_task", Code.TP_TASK_INVALID, _("Choose the task the vehicle performs."))
        )
    if not request.no_alternative_route:
        problems.append(
            _error(
                "no_alternative_route",
                Code.TP_DECLARATION_REQUIRED,
                _("A pass is granted only when no other route avoids the restricted sections: confirm it."),
            )
        )
    sections = request.road_sections
    if not 1 <= len(sections) <= MAX_SECTIONS or any(
        not 2 <= len(section) <= MAX_SECTION_LENGTH for section in sections
    ):
        problems.append(
            _error(
                "road_sections",
                Code.TP_SECTIONS_INVALID,
                _("List 1 to %(count)s road sections, one per line, each 2 to %(length)s characters.")
                % {"count": MAX_SECTIONS, "length": MAX_SECTION_LENGTH},
            )
        )
    windows = request.time_windows
    if time_windows_invalid(windows):
        problems.append(
            _error(
                "time_windows",
                Code.TP_TIMES_INVALID,
                _("Give 1 to %(count)s time windows such as 22:00-06:00 (24-hour clock, may cross midnight).")
                % {"count": MAX_TIME_WINDOWS},
            )
        )
    if request.valid_from < today or request.valid_until < request.valid_from:
        problems.append(
            _error(
                "valid_until",
                Code.TP_VALIDITY_INVALID,
                _("The validity must start today or later and end on or after its start."),
            )
        )
    elif pass_type is not None:
        longest = pass_type.max_validity_days
        if (request.valid_until - request.valid_from).days + 1 > longest:
            problems.append(
                _error(
                    "valid_until",
                    Code.TP_VALIDITY_INVALID,
                    _("This pass type is granted for at most %(days)s days.") % {"days": longest},
                )
            )
    return problems


def _owns_vehicle(certificate: VehicleTransportCertificate, *, user: User, company: Company | None) -> bool:
    if company is not None:
        return certificate.owner_company_id == company.pk
    return certificate.owner_user_id == user.pk or bool(
        certificate.owner_id_hash and certificate.owner_id_hash == user.id_number_hash
    )


def _next_reference(today: dt.date) -> str:
    prefix = f"TP{today:%Y%m%d}"
    sequence, _created = LicenceNumberSequence.objects.select_for_update().get_or_create(prefix=prefix)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return f"{prefix}{sequence.last_value:04d}"


def _transition(
    application: TrafficPassApplication,
    *,
    to_status: str,
    user: User | None,
    actor: Actor,
    reason: str,
    now: dt.datetime,
) -> None:
    from_status = application.status if application.pk and application.status != to_status else ""
    TrafficPassTransition.objects.create(
        application=application,
        from_status=from_status,
        to_status=to_status,
        actor_user=user,
        actor_label=actor.label,
        reason=reason,
        at=now,
    )


def traffic_pass_apply(
    *,
    user: User,
    request: PassRequest,
    company: Company | None = None,
    materials: list[tuple[str, Any]] | None = None,
    now: dt.datetime | None = None,
) -> TrafficPassApplication:
    """An individual (or a member acting for a company) applies for a pass for one vehicle, with
    supporting ``materials`` as (title, upload) pairs (PNG, JPEG or PDF, checked by content)."""
    ensure_real_name_verified(user)
    now = now or timezone.now()
    today = today_in_china(now)
    if company is not None and not user.company_memberships.filter(company=company).exists():
        raise NotFound(Code.TP_COMPANY_NOT_MEMBER, _("No such company."))
    plate = validate_plate(request.plate_number)
    configured = pass_type_of(request.region_code or pass_region(), request.pass_type)
    pass_type_name = configured.name if configured is not None else ""
    request = PassRequest(
        plate_number=plate,
        pass_type=request.pass_type,
        road_sections=normalise_sections(request.road_sections),
        time_windows=normalise_time_windows(request.time_windows),
        valid_from=request.valid_from,
        valid_until=request.valid_until,
        vehicle_task=request.vehicle_task,
        no_alternative_route=bool(request.no_alternative_route),
        region_code=request.region_code or pass_region(),
    )
    problems = _check_request(request, today=today)
    checked_materials = _check_materials(materials or [], already=0)
    certificate = (
        VehicleTransportCertificate.objects.filter(plate_number=plate)
        .exclude(status=VehicleTransportCertificate.Status.CANCELLED)
        .order_by("-valid_until")
        .first()
    )
    if certificate is None:
        problems.append(
            _error(
                "plate_number",
                Code.TP_VEHICLE_UNKNOWN,
                _("No road transport certificate is registered for this plate."),
            )
        )
    elif not _owns_vehicle(certificate, user=user, company=company):
        problems.append(
            _error(
                "plate_number",
                Code.TP_VEHICLE_NOT_OWNED,
                _("The vehicle is not registered to the applicant."),
            )
        )
    else:
        problems.extend(
            _error("plate_number", code, message)
            for code, message in vehicle_legal_problems(plate_number=plate, on=today)
        )
        if request.valid_until > certificate.valid_until:
            problems.append(
                _error(
                    "valid_until",
                    Code.TP_VALIDITY_INVALID,
                    _("The pass cannot outlast the road transport certificate (valid until %(date)s).")
                    % {"date": certificate.valid_until.isoformat()},
                )
            )
    if problems or certificate is None:
        first = problems[0] if problems else _error("plate_number", Code.TP_VEHICLE_UNKNOWN, "")
        raise ValidationFailed(first.code, first.message, details=problems)
    actor = Actor.for_user(user)
    with transaction.atomic():
        if TrafficPassApplication.objects.filter(
            plate_number=plate, pass_type=request.pass_type, status__in=PENDING
        ).exists():
            raise Conflict(
                Code.TP_ALREADY_PENDING, _("A pass of this type for this vehicle is already being decided.")
            )
        application = TrafficPassApplication(
            reference=_next_reference(today),
            applicant_user=user,
            applicant_company=company,
            region_code=request.region_code,
            vehicle=certificate,
            plate_number=plate,
            pass_type=request.pass_type,
            pass_type_name=pass_type_name,
            vehicle_task=request.vehicle_task,
            no_alternative_route=True,
            road_sections=request.road_sections,
            time_windows=request.time_windows,
            valid_from=request.valid_from,
            valid_until=request.valid_until,
            status=Status.SUBMITTED,
            submitted_at=now,
            due_date=None,  # runs from the data review
            updated_at=now,
        )
        application.save()
        _transition(application, to_status=Status.SUBMITTED, user=user, actor=actor, reason="", now=now)
        _store_materials(application, checked_materials, now=now)
        record_audit(
            actor=actor,
            action="elicense.traffic_pass.apply",
            target_type="traffic_pass_application",
            target_id=application.reference,
            after={
                "plate": plate,
                "pass_type": request.pass_type,
                "vehicle_task": request.vehicle_task,
                "no_alternative_route": True,
                "materials": len(checked_materials),
            },
        )
    return application


def traffic_pass_due_dates_recompute() -> int:
    """Recompute the provisional decision dates of applications past their data review (after
    staff confirm a statutory calendar year). Each change is audited; returns how many changed."""
    changed = 0
    calendar = WorkingCalendar(provisional=True)
    actor = Actor.system("statutory calendar")
    with transaction.atomic():
        pending = TrafficPassApplication.objects.select_for_update().filter(
            due_date_provisional=True, data_reviewed_at__isnull=False
        )
        for application in pending:
            assert application.data_reviewed_at is not None  # noqa: S101 - filtered above
            reviewed_on = today_in_china(application.data_reviewed_at)
            due = calendar.due(reviewed_on, _decision_days(application))
            if due.provisional and due.date == application.due_date:
                continue
            before = {"due_date": application.due_date, "due_date_provisional": True}
            application.due_date = due.date
            application.due_date_provisional = due.provisional
            application.save(update_fields=["due_date", "due_date_provisional"])
            record_audit(
                actor=actor,
                action="elicense.traffic_pass.due_date_recomputed",
                target_type="traffic_pass_application",
                target_id=application.reference,
                before=before,
                after={"due_date": due.date, "due_date_provisional": due.provisional},
            )
            changed += 1
    return changed


def _decision_days(application: TrafficPassApplication) -> int:
    """The pass type's working days for the decision (the procedure's 7 when the type is gone)."""
    pass_type = pass_type_of(application.region_code, application.pass_type)
    return pass_type.decision_working_days if pass_type is not None else DEFAULT_DECISION_WORKING_DAYS


def _check_materials(materials: list[tuple[str, Any]], *, already: int) -> list[tuple[str, Any]]:
    """Each material checked by content (PNG/JPEG re-encoded by core.uploads, PDF structure)."""
    if already + len(materials) > MAX_MATERIALS:
        raise ValidationFailed.single(
            field="materials",
            code=Code.TP_MATERIAL_LIMIT,
            message=_("At most %(count)s supporting materials.") % {"count": MAX_MATERIALS},
        )
    checked = []
    for index, (title, upload) in enumerate(materials):
        field = f"materials.{index}"
        checked_file = documents.check_document(upload, field=field)
        name = " ".join(str(title or "").split())[:100] or checked_file.original_name[:100]
        checked.append((name, checked_file))
    return checked


def _store_materials(
    application: TrafficPassApplication, checked: list[tuple[str, Any]], *, now: dt.datetime
) -> None:
    from yunzheng.core.private_files import store_private

    for title, checked_file in checked:
        TrafficPassMaterial.objects.create(
            application=application,
            title=title,
            stored_name=store_private(checked_file.content, folder="traffic-pass", now=now),
            content_type=checked_file.content_type,
            size=checked_file.size,
            sha256=checked_file.sha256,
            original_name=checked_file.original_name,
            uploaded_at=now,
        )


def traffic_pass_material_add(
    *,
    application: TrafficPassApplication,
    user: User,
    title: str,
    upload: Any,
    now: dt.datetime | None = None,
) -> TrafficPassMaterial:
    """The applicant adds a supporting material while the data review is pending."""
    if application.applicant_user_id != user.pk:
        raise NotFound(Code.TP_NOT_FOUND, _("No such application."))
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(application, expected=Status.SUBMITTED)
        checked = _check_materials([(title, upload)], already=locked.materials.count())
        _store_materials(locked, checked, now=now)
        material = locked.materials.order_by("-pk")[0]
        record_audit(
            actor=Actor.for_user(user),
            action="elicense.traffic_pass.material_add",
            target_type="traffic_pass_application",
            target_id=locked.reference,
            after={"title": material.title, "sha256": material.sha256},
        )
    return material


def traffic_pass_material_content(*, material: TrafficPassMaterial, viewer: User) -> bytes:
    """The stored bytes; callers check who may see the application first. A reader other than
    the applicant (the reviewing staff) is audited."""
    from yunzheng.core.private_files import read_private

    if viewer.pk != material.application.applicant_user_id:
        record_audit(
            actor=Actor.for_user(viewer),
            action="elicense.traffic_pass.material_view",
            target_type="traffic_pass_application",
            target_id=material.application.reference,
            after={"material": material.pk},
        )
    return read_private(material.stored_name)


def _locked(
    application: TrafficPassApplication, *, expected: str | tuple[str, ...]
) -> TrafficPassApplication:
    locked = TrafficPassApplication.objects.select_for_update().get(pk=application.pk)
    allowed = (expected,) if isinstance(expected, str) else expected
    if locked.status not in allowed:
        code = (
            Code.TP_NOT_REVIEWED
            if allowed == (Status.DATA_APPROVED,) and locked.status == Status.SUBMITTED
            else Code.TP_NOT_PENDING
            if Status.SUBMITTED in allowed or Status.DATA_APPROVED in allowed
            else Code.TP_NOT_APPROVED
        )
        raise Conflict(
            code,
            _("The application is %(status)s; this is not possible now.")
            % {"status": locked.get_status_display()},
        )
    return locked


def traffic_pass_withdraw(
    *, application: TrafficPassApplication, user: User, reason: str = "", now: dt.datetime | None = None
) -> TrafficPassApplication:
    if application.applicant_user_id != user.pk:
        raise NotFound(Code.TP_NOT_FOUND, _("No such application."))
    now = now or timezone.now()
    actor = Actor.for_user(user)
    with transaction.atomic():
        locked = _locked(application, expected=PENDING)
        _transition(
            locked, to_status=Status.WITHDRAWN, user=user, actor=actor, reason=reason.strip(), now=now
        )
        locked.status = Status.WITHDRAWN
        locked.updated_at = now
        locked.save(update_fields=["status", "updated_at"])
        record_audit(
            actor=actor,
            action="elicense.traffic_pass.withdraw",
            target_type="traffic_pass_application",
            target_id=locked.reference,
            reason=reason.strip(),
        )
    return locked


def _holder(application: TrafficPassApplication) -> dict[str, Any]:
    company = application.applicant_company
    if company is not None:
        return {
            "holder_company": company,
            "holder_user": None,
            "holder_name": company.name,
            "holder_id_number": company.credit_code,
        }
    user = application.applicant_user
    return {
        "holder_company": None,
        "holder_user": user,
        "holder_name": user.real_name or user.get_username(),
        "holder_id_number": user.id_number,
    }


def pass_licence_data(application: TrafficPassApplication) -> dict[str, Any]:
    """What the electronic pass shows (in Chinese, whatever the approver's language)."""
    pass_type = application.pass_type_name
    if not pass_type:
        configured = pass_type_of(application.region_code, application.pass_type)
        pass_type = configured.name if configured is not None else application.pass_type
    with translation.override("zh-hans"):
        task = str(VehicleTask(application.vehicle_task).label) if application.vehicle_task else ""
    return {
        "plate": application.plate_number,
        "plate_colour": application.vehicle.get_plate_colour_display(),
        "pass_type": pass_type,
        "pass_type_code": application.pass_type,
        "sections": list(application.road_sections),
        "times": list(application.time_windows),
        "task": task,
        "application": application.reference,
    }


def _sync_pass(
    application: TrafficPassApplication, *, event: str, actor: Actor, reason: str = ""
) -> ElectronicLicence:
    return licence_sync(
        source_type=SOURCE_TYPE,
        source_id=application.pk,
        licence_type=LicenceType.TRAFFIC_PASS,
        issuer_region=application.region_code,
        valid_from=application.valid_from,
        valid_until=application.valid_until,
        data=pass_licence_data(application),
        event=event,
        actor=actor,
        reason=reason,
        source_updated_at=application.updated_at,
        now=application.updated_at,
        **_holder(application),
    )


def _notify(application: TrafficPassApplication, text: str) -> None:
    phone = application.applicant_user.phone
    if phone:
        send_sms_on_commit(
            phone=phone, text=text, template="elicense.traffic_pass", params={"ref": application.reference}
        )


def traffic_pass_approve(
    *, application: TrafficPassApplication, staff_user: User, reason: str = "", now: dt.datetime | None = None
) -> TrafficPassApplication:
    """Approve and issue the electronic pass in the same transaction. The vehicle is checked
    again: a certificate cancelled or a violation recorded since the application blocks approval.
    Only after the data review has passed (:func:`traffic_pass_data_review`)."""
    require_traffic_police(staff_user=staff_user, region_code=application.region_code)
    now = now or timezone.now()
    problems = vehicle_legal_problems(plate_number=application.plate_number, on=today_in_china(now))
    if problems:
        raise ValidationFailed(
            problems[0][0],
            problems[0][1],
            details=[_error("plate_number", code, message) for code, message in problems],
        )
    actor = Actor.for_user(staff_user)
    with transaction.atomic():
        locked = _locked(application, expected=Status.DATA_APPROVED)
        _transition(
            locked, to_status=Status.APPROVED, user=staff_user, actor=actor, reason=reason.strip(), now=now
        )
        locked.status = Status.APPROVED
        locked.decided_at = now
        locked.decided_by = staff_user
        locked.decision_reason = reason.strip()
        locked.updated_at = now
        locked.save()
        locked.licence = _sync_pass(locked, event=LicenceEvent.Kind.ISSUE, actor=actor)
        locked.save(update_fields=["licence"])
        record_audit(
            actor=actor,
            action="elicense.traffic_pass.approve",
            target_type="traffic_pass_application",
            target_id=locked.reference,
            after={"licence": locked.licence.lid},
        )
        _notify(locked, _("Your traffic pass %(ref)s was approved.") % {"ref": locked.reference})
    return locked


def traffic_pass_reject(
    *, application: TrafficPassApplication, staff_user: User, reason: str, now: dt.datetime | None = None
) -> TrafficPassApplication:
    """Reject at the data review or at the decision; the reason goes to the applicant."""
    require_traffic_police(staff_user=staff_user, region_code=application.region_code)
    if not reason.strip():
        raise ValidationFailed.single(
            field="reason", code=Code.REASON_REQUIRED, message=_("Give the reason for the rejection.")
        )
    now = now or timezone.now()
    actor = Actor.for_user(staff_user)
    with transaction.atomic():
        locked = _locked(application, expected=PENDING)
        _transition(
            locked, to_status=Status.REJECTED, user=staff_user, actor=actor, reason=reason.strip(), now=now
        )
        locked.status = Status.REJECTED
        locked.decided_at = now
        locked.decided_by = staff_user
        locked.decision_reason = reason.strip()
        locked.updated_at = now
        locked.save()
        record_audit(
            actor=actor,
            action="elicense.traffic_pass.reject",
            target_type="traffic_pass_application",
            target_id=locked.reference,
            reason=reason.strip(),
        )
        _notify(locked, _("Your traffic pass application %(ref)s was rejected.") % {"ref": locked.reference})
    return locked


def traffic_pass_revoke(
    *, application: TrafficPassApplication, staff_user: User, reason: str, now: dt.datetime | None = None
) -> TrafficPassApplication:
    """Revoke an approved (or suspended) pass: the registry record and its electronic licence
    together."""
    require_traffic_police(staff_user=staff_user, region_code=application.region_code)
    if not reason.strip():
        raise ValidationFailed.single(field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason."))
    now = now or timezone.now()
    actor = Actor.for_user(staff_user)
    with transaction.atomic():
        locked = _locked(application, expected=(Status.APPROVED, Status.SUSPENDED))
        _transition(
            locked, to_status=Status.REVOKED, user=staff_user, actor=actor, reason=reason.strip(), now=now
        )
        locked.status = Status.REVOKED
        locked.updated_at = now
        locked.save(update_fields=["status", "updated_at"])
        _sync_pass(locked, event=LicenceEvent.Kind.REVOKE, actor=actor, reason=reason.strip())
        record_audit(
            actor=actor,
            action="elicense.traffic_pass.revoke",
            target_type="traffic_pass_application",
            target_id=locked.reference,
            reason=reason.strip(),
        )
    return locked


def traffic_pass_data_review(
    *, application: TrafficPassApplication, staff_user: User, reason: str = "", now: dt.datetime | None = None
) -> TrafficPassApplication:
    """The traffic police pass the data review (资料审核): the vehicle's task, the no-other-route
    declaration and the materials are in order. The decision is then due within the pass type's
    working days, counted from this day, as the procedure says."""
    require_traffic_police(staff_user=staff_user, region_code=application.region_code)
    now = now or timezone.now()
    actor = Actor.for_user(staff_user)
    with transaction.atomic():
        locked = _locked(application, expected=Status.SUBMITTED)
        days = _decision_days(locked)
        # Never refused for want of a holiday schedule: a provisional date until the year is confirmed.
        due = provisional_due(today_in_china(now), days)
        _transition(
            locked,
            to_status=Status.DATA_APPROVED,
            user=staff_user,
            actor=actor,
            reason=reason.strip(),
            now=now,
        )
        locked.status = Status.DATA_APPROVED
        locked.data_reviewed_at = now
        locked.data_reviewed_by = staff_user
        locked.due_date = due.date
        locked.due_date_provisional = due.provisional
        locked.updated_at = now
        locked.save()
        record_audit(
            actor=actor,
            action="elicense.traffic_pass.data_review",
            target_type="traffic_pass_application",
            target_id=locked.reference,
            after={
                "due_date": locked.due_date,
                "due_date_provisional": locked.due_date_provisional,
                "working_days": days,
            },
        )
        _notify(
            locked,
            _("The data of traffic pass application %(ref)s were accepted; decision due by %(date)s.")
            % {"ref": locked.reference, "date": locked.due_date.isoformat()},
        )
    return locked


def recheck_for_vehicle(
    *, plate_number: str, actor: Actor | None = None, now: dt.datetime | None = None
) -> list[TrafficPassApplication]:
    """Re-check the approved passes of a vehicle after a registry change: call it when the
    vehicle's road transport certificate is cancelled or a violation is recorded (in the
    registry's transaction). A vehicle that is no longer legal has its passes suspended, with the
    reason, their electronic licences suspended too, and each holder notified by SMS after commit.
    Returns the passes suspended."""
    now = now or timezone.now()
    actor = actor or Actor.system("elicense.traffic_pass.recheck")
    problems = vehicle_legal_problems(plate_number=plate_number, on=today_in_china(now))
    if not problems:
        return []
    reason = "; ".join(message for _code, message in problems)
    suspended = []
    with transaction.atomic():
        for locked in TrafficPassApplication.objects.select_for_update().filter(
            plate_number=plate_number, status=Status.APPROVED
        ):
            _transition(locked, to_status=Status.SUSPENDED, user=None, actor=actor, reason=reason, now=now)
            locked.status = Status.SUSPENDED
            locked.suspension_reason = reason
            locked.updated_at = now
            locked.save(update_fields=["status", "suspension_reason", "updated_at"])
            _sync_pass(locked, event=LicenceEvent.Kind.SUSPEND, actor=actor, reason=reason)
            record_audit(
                actor=actor,
                action="elicense.traffic_pass.suspend",
                target_type="traffic_pass_application",
                target_id=locked.reference,
                reason=reason,
                after={"codes": [code for code, _message in problems]},
            )
            _notify(
                locked,
                _("Your traffic pass %(ref)s is suspended: %(reason)s")
                % {"ref": locked.reference, "reason": reason},
            )
            suspended.append(locked)
    return suspended
