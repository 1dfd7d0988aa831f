"""Every write of the One-Network Office: applications, the case workflow, the certificate registry.

Each service runs in one transaction, is audited (`record_audit`), takes keyword-only arguments and
raises `yunzheng.core.errors.DomainError`s. Case transitions are looked up in `workflow.TABLE`,
recorded as `CaseTransition` rows and audit entries, and announced to the applicant by SMS after
commit. Deadlines come from `deadlines.py` and are stored on the case. `now` can be injected (tests
move time that way).

Applicants are checked against the case (another user's case is "not found"); staff against their
scope (transport department, region covering the certificate's issuing region).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts.guards import ensure_real_name_verified
from yunzheng.accounts.models import StaffProfile, User
from yunzheng.accounts.scopes import StaffScope, staff_scope
from yunzheng.accounts.selectors import realname_latest_for_user
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.crypto import lookup_hash, mask_name
from yunzheng.core.errors import Conflict, ErrorDetail, NotFound, PermissionDenied, ValidationFailed
from yunzheng.core.ids import region_code_exists, validate_mobile, validate_resident_id
from yunzheng.core.private_files import private_storage, read_private, store_private
from yunzheng.core.sms import send_sms_on_commit
from yunzheng.core.uploads import Readable, validate_image_upload
from yunzheng.core.workdays import CalendarYearUnknown, WorkingCalendar
from yunzheng.practitioners import catalogue, deadlines, licences, workflow
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.models import (
    OPEN_STATES,
    CaseMaterial,
    CaseNumberSequence,
    CaseState,
    CaseTransition,
    CaseType,
    CertificateCategory,
    CertificateCategoryGrant,
    CreditAssessment,
    CreditGrade,
    DeliveryMethod,
    MaterialKind,
    QualificationCertificate,
    ServiceCase,
)
from yunzheng.practitioners.workflow import Action, Role

# Departments whose staff handle practitioner cases.
OFFICE_DEPARTMENTS = (StaffProfile.Department.TRANSPORT,)
CERTIFICATE_VALIDITY_YEARS = 6

# ISO 3166-2:CN subdivision codes, keyed by the first two digits of a GB/T 2260 code: the prefix
# of human-readable case numbers (ZJ-2026-000123).
PROVINCE_ABBREVIATIONS = {
    "11": "BJ", "12": "TJ", "13": "HE", "14": "SX", "15": "NM", "21": "LN", "22": "JL", "23": "HL",
    "31": "SH", "32": "JS", "33": "ZJ", "34": "AH", "35": "FJ", "36": "JX", "37": "SD", "41": "HA",
    "42": "HB", "43": "HN", "44": "GD", "45": "GX", "46": "HI", "50": "CQ", "51": "SC", "52": "GZ",
    "53": "YN", "54": "XZ", "61": "SN", "62": "GS", "63": "QH", "64": "NX", "65": "XJ",
}  # fmt: skip


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localdate(moment)


def scope_codes(region_code: str) -> tuple[str, str]:
    """(province, city) GB/T 2260 codes of a region: 330106 -> (330000, 330100)."""
    return region_code[:2] + "0000", region_code[:4] + "00"


# --------------------------------------------------------------------------------------------
# Personal information on a case (stored encrypted)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    method: str = ""
    recipient: str = ""
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class PersonalInfo:
    name: str = ""  # always the verified name of the account, never typed
    phone: str = ""
    address: str = ""
    contact_name: str = ""
    delivery: Delivery = field(default_factory=Delivery)

    @property
    def is_complete(self) -> bool:
        return bool(self.name and self.phone and self.address and self.contact_name)


def personal_info(case: ServiceCase) -> PersonalInfo:
    if not case.personal_data:
        return PersonalInfo()
    raw = json.loads(case.personal_data)
    delivery = Delivery(**raw.pop("delivery", {}))
    return PersonalInfo(**raw, delivery=delivery)


def _store_personal(case: ServiceCase, info: PersonalInfo) -> None:
    case.personal_data = json.dumps(asdict(info), ensure_ascii=False)


def personal_prefill(*, user: User) -> PersonalInfo:
    """What the personal-information form starts with: the account's phone, verified name and the
    address on the verified ID card."""
    verification = realname_latest_for_user(user=user)
    address = ""
    if verification is not None and verification.status == verification.Status.APPROVED:
        address = verification.address or ""
    name = user.real_name or ""
    return PersonalInfo(name=name, phone=user.phone or "", address=address, contact_name=name)


# --------------------------------------------------------------------------------------------
# Access checks
# --------------------------------------------------------------------------------------------


def _case_not_found() -> NotFound:
    return NotFound(Code.CASE_NOT_FOUND, _("No such case."))


def office_scope(user: Any) -> StaffScope:
    """The staff scope of someone who handles practitioner cases; PermissionDenied otherwise."""
    scope = staff_scope(user)
    if not scope.in_department(*OFFICE_DEPARTMENTS):
        raise PermissionDenied(
            Code.DEPARTMENT_NOT_ALLOWED, _("Your department does not handle practitioner services.")
        )
    return scope


def _require_staff_covers(user: User, case: ServiceCase) -> None:
    if not office_scope(user).covers(case.region_code):
        raise PermissionDenied(Code.OUT_OF_SCOPE, _("This case is outside your region."))


def _lock_case(case: ServiceCase | int) -> ServiceCase:
    pk = case.pk if isinstance(case, ServiceCase) else case
    locked = ServiceCase.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise _case_not_found()
    return locked


def _lock_own_case(case: ServiceCase | int, applicant: User) -> ServiceCase:
    locked = _lock_case(case)
    if locked.applicant_id != applicant.pk:
        raise _case_not_found()
    return locked


def _lock_own_draft(case: ServiceCase | int, applicant: User) -> ServiceCase:
    ensure_real_name_verified(applicant)
    locked = _lock_own_case(case, applicant)
    if locked.state != CaseState.DRAFT:
        raise Conflict(
            Code.NOT_A_DRAFT, _("This application has been submitted and can no longer be edited.")
        )
    return locked


# --------------------------------------------------------------------------------------------
# Certificates: association with verified accounts
# --------------------------------------------------------------------------------------------


def certificates_associate_for_user(*, user: User) -> int:
    """Attach the certificates whose holder ID number is the user's verified one to the account.

    Called whenever a verified user opens the office (lazily: accounts need not know about this
    app). Cheap when there is nothing to do: one indexed query. Returns how many were attached.
    """
    if not getattr(user, "is_real_name_verified", False) or not user.id_number_hash:
        return 0
    pending = QualificationCertificate.objects.filter(holder_id_hash=user.id_number_hash).exclude(holder=user)
    if not pending.exists():
        return 0
    attached = 0
    with transaction.atomic():
        for certificate in pending.select_for_update():
            previous = certificate.holder_id
            certificate.holder = user
            certificate.save(update_fields=["holder", "updated_at"])
            record_audit(
                actor=Actor.system("office.association"),
                action="office.certificate.associate",
                target_type="qualification_certificate",
                target_id=certificate.pk,
                before={"holder": previous},
                after={"holder": user.pk, "by": "id_number_hash"},
                reason="real-name verified holder",
            )
            attached += 1
    return attached


def _eligible(certificate: QualificationCertificate, *, case_type: str, today: dt.date) -> bool:
    definition = catalogue.service(case_type)
    if definition.needs_valid_certificate:
        return certificate.is_within_validity(today)
    return certificate.status != QualificationCertificate.Status.CANCELLED


def _certificate_busy(
    certificate: QualificationCertificate, *, except_case: ServiceCase | None = None
) -> bool:
    open_cases = ServiceCase.objects.filter(certificate=certificate, state__in=OPEN_STATES)
    if except_case is not None:
        open_cases = open_cases.exclude(pk=except_case.pk)
    return open_cases.exists()


def _own_certificate(*, user: User, certificate_id: int) -> QualificationCertificate:
    certificate = QualificationCertificate.objects.filter(
        pk=certificate_id, holder_id_hash=user.id_number_hash
    ).first()
    if certificate is None or not user.id_number_hash:
        raise NotFound(Code.CERTIFICATE_NOT_FOUND, _("No such certificate among yours."))
    return certificate


# --------------------------------------------------------------------------------------------
# Applying: draft, form, delivery, materials
# --------------------------------------------------------------------------------------------


def case_draft_create(
    *, applicant: User, case_type: str, certificate_id: int, agreed: bool, now: dt.datetime | None = None
) -> ServiceCase:
    """Start (or resume) an application once the applicant has read and agreed to the instructions
    and chosen a certificate. The same draft is returned for the same service and certificate."""
    ensure_real_name_verified(applicant)
    now = _now(now)
    if case_type not in CaseType.values:
        raise NotFound(Code.SERVICE_NOT_FOUND, _("No such service."))
    if not agreed:
        raise ValidationFailed.single(
            field="agree",
            code=Code.INSTRUCTIONS_NOT_AGREED,
            message=_("Read the business instructions and agree to them first."),
        )
    certificate = _own_certificate(user=applicant, certificate_id=certificate_id)
    if not _eligible(certificate, case_type=case_type, today=_local_date(now)):
        raise Conflict(
            Code.CERTIFICATE_NOT_ELIGIBLE,
            _("This certificate is not within its validity, so this service is not available for it."),
        )
    if _certificate_busy(certificate):
        raise Conflict(
            Code.CERTIFICATE_BUSY, _("This certificate is already in a case that is being handled.")
        )
    with transaction.atomic():
        existing = (
            ServiceCase.objects.select_for_update()
            .filter(applicant=applicant, certificate=certificate, case_type=case_type, state=CaseState.DRAFT)
            .first()
        )
        if existing is not None:
            existing.agreed_at = now
            existing.updated_at = now
            existing.save(update_fields=["agreed_at", "updated_at"])
            return existing
        province, city = scope_codes(certificate.region_code)
        case = ServiceCase(
            case_type=case_type,
            applicant=applicant,
            certificate=certificate,
            region_code=certificate.region_code,
            province_code=province,
            city_code=city,
            state=CaseState.DRAFT,
            agreed_at=now,
            created_at=now,
            updated_at=now,
        )
        _store_personal(case, personal_prefill(user=applicant))
        case.save()
        record_audit(
            actor=Actor.for_user(applicant),
            action="office.case.draft_create",
            target_type="office_case",
            target_id=case.pk,
            after={"case_type": case_type, "certificate": certificate.number, "agreed_at": now},
        )
    return case


def _personal_errors(*, phone: str, address: str, contact_name: str) -> tuple[str, list[ErrorDetail]]:
    errors: list[ErrorDetail] = []
    try:
        phone = validate_mobile(phone, field="phone")
    except ValidationFailed as failed:
        errors.extend(failed.details)
    if not address.strip():
        errors.append(
            ErrorDetail(field="address", code=Code.FIELD_REQUIRED, message=_("This field is required."))
        )
    if not contact_name.strip():
        errors.append(
            ErrorDetail(field="contact_name", code=Code.FIELD_REQUIRED, message=_("This field is required."))
        )
    return phone, errors


def case_form_save(
    *,
    case: ServiceCase,
    applicant: User,
    phone: str,
    address: str,
    contact_name: str,
    details: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> ServiceCase:
    """Save the personal-information form (the name always comes from the verified account) and
    the service's own fields; every problem is reported at once, field by field."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock_own_draft(case, applicant)
        phone, errors = _personal_errors(phone=phone, address=address, contact_name=contact_name)
        try:
            cleaned = catalogue.clean_details(
                case_type=locked.case_type,
                certificate=locked.certificate,
                raw=details,
                today=_local_date(now),
                account_name=applicant.real_name or "",
            )
        except ValidationFailed as failed:
            errors.extend(failed.details)
            cleaned = {}
        if errors:
            raise ValidationFailed(Code.FORM_INVALID, _("Please correct the marked fields."), details=errors)
        current = personal_info(locked)
        _store_personal(
            locked,
            PersonalInfo(
                name=applicant.real_name or "",
                phone=phone,
                address=address.strip()[:120],
                contact_name=contact_name.strip()[:40],
                delivery=current.delivery,
            ),
        )
        locked.details = cleaned
        locked.updated_at = now
        locked.save(update_fields=["personal_data", "details", "updated_at"])
        # Changing the categories to cancel changes which materials are required: drop the rest.
        allowed = set(allowed_materials_for(locked))
        locked.materials.filter(replaced_at__isnull=True).exclude(kind__in=allowed).update(replaced_at=now)
        record_audit(
            actor=Actor.for_user(applicant),
            action="office.case.form_save",
            target_type="office_case",
            target_id=locked.pk,
            after={"details": cleaned, "personal": "updated (encrypted)"},
        )
    return locked


def case_delivery_save(
    *,
    case: ServiceCase,
    applicant: User,
    method: str,
    recipient: str = "",
    phone: str = "",
    address: str = "",
    now: dt.datetime | None = None,
) -> ServiceCase:
    """Choose how a new certificate reaches the applicant: collected in person, or mailed."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock_own_draft(case, applicant)
        if not catalogue.service(locked.case_type).issues_new_certificate:
            raise Conflict(Code.DELIVERY_NOT_APPLICABLE, _("No new certificate results from this service."))
        errors: list[ErrorDetail] = []
        if method not in DeliveryMethod.values:
            errors.append(
                ErrorDetail(
                    field="method", code=Code.DELIVERY_REQUIRED, message=_("Choose how to receive it.")
                )
            )
        delivery = Delivery(method=method)
        if method == DeliveryMethod.MAIL:
            clean_phone, errors_personal = _personal_errors(
                phone=phone, address=address, contact_name=recipient
            )
            for detail in errors_personal:
                errors.append(
                    ErrorDetail(
                        field={"contact_name": "recipient"}.get(detail.field, detail.field),
                        code=detail.code,
                        message=detail.message,
                    )
                )
            delivery = Delivery(
                method=method,
                recipient=recipient.strip()[:40],
                phone=clean_phone,
                address=address.strip()[:120],
            )
        if errors:
            raise ValidationFailed(Code.FORM_INVALID, _("Please correct the marked fields."), details=errors)
        current = personal_info(locked)
        _store_personal(
            locked,
            PersonalInfo(
                name=current.name,
                phone=current.phone,
                address=current.address,
                contact_name=current.contact_name,
                delivery=delivery,
            ),
        )
        locked.delivery_method = method
        locked.updated_at = now
        locked.save(update_fields=["personal_data", "delivery_method", "updated_at"])
        record_audit(
            actor=Actor.for_user(applicant),
            action="office.case.delivery_save",
            target_type="office_case",
            target_id=locked.pk,
            after={"delivery_method": method},
        )
    return locked


def _certificate_categories(case: ServiceCase) -> list[str]:
    return catalogue.valid_categories(case.certificate)


def required_materials_for(case: ServiceCase) -> list[str]:
    return catalogue.required_materials(
        case_type=case.case_type, details=case.details, certificate_categories=_certificate_categories(case)
    )


def allowed_materials_for(case: ServiceCase) -> list[str]:
    return catalogue.allowed_materials(
        case_type=case.case_type, details=case.details, certificate_categories=_certificate_categories(case)
    )


def material_bytes(*, material: CaseMaterial) -> bytes:
    """The decrypted image of a material (callers check who may see it and audit staff access)."""
    return read_private(material.storage_name)


def case_material_upload(
    *, case: ServiceCase, applicant: User, kind: str, upload: bytes | Readable, now: dt.datetime | None = None
) -> CaseMaterial:
    """Accept one material (a PNG or JPEG checked by content, at most 10 MB), replacing an earlier
    upload of the same kind. Allowed while drafting and while the case waits for a supplement."""
    ensure_real_name_verified(applicant)
    now = _now(now)
    # Validate (decode, re-encode) before taking any lock: it is the slow part.
    clean = validate_image_upload(upload, field="file")
    storage = private_storage()
    name = store_private(clean.content, folder="office", now=now)
    try:
        with transaction.atomic():
            locked = _lock_own_case(case, applicant)
            if locked.state not in (CaseState.DRAFT, CaseState.RETURNED):
                raise Conflict(
                    Code.NOT_EDITABLE, _("Materials can only be changed while drafting or supplementing.")
                )
            if kind not in allowed_materials_for(locked):
                raise ValidationFailed.single(
                    field="kind",
                    code=Code.MATERIAL_KIND_NOT_ALLOWED,
                    message=_("This service does not take that material."),
                )
            locked.materials.filter(kind=kind, replaced_at__isnull=True).update(replaced_at=now)
            material = CaseMaterial.objects.create(
                case=locked,
                kind=kind,
                storage_name=name,
                sha256=clean.sha256,
                content_type=clean.content_type,
                size=len(clean.content),
                width=clean.width,
                height=clean.height,
                uploaded_at=now,
            )
            ServiceCase.objects.filter(pk=locked.pk).update(updated_at=now)
            record_audit(
                actor=Actor.for_user(applicant),
                action="office.material.upload",
                target_type="office_case",
                target_id=locked.pk,
                after={"kind": kind, "sha256": clean.sha256, "size": material.size, "state": locked.state},
            )
    except BaseException:
        storage.delete(name)
        raise
    return material


def case_draft_discard(*, case: ServiceCase, applicant: User) -> None:
    with transaction.atomic():
        locked = _lock_own_draft(case, applicant)
        record_audit(
            actor=Actor.for_user(applicant),
            action="office.case.draft_discard",
            target_type="office_case",
            target_id=locked.pk,
            before={"case_type": locked.case_type, "certificate": locked.certificate.number},
        )
        names = list(locked.materials.values_list("storage_name", flat=True))
        locked.delete()
    storage = private_storage()
    for name in names:
        storage.delete(name)


# --------------------------------------------------------------------------------------------
# Transitions
# --------------------------------------------------------------------------------------------


def _service_label(case: ServiceCase) -> str:
    return str(CaseType(case.case_type).label)


def _notify(case: ServiceCase, text: str) -> None:
    phone = case.applicant.phone
    if phone:
        send_sms_on_commit(
            phone=phone,
            text=text,
            template=f"office_case_{case.state}",
            params={"case": case.number or "", "state": case.state},
        )


def _transition(
    case: ServiceCase,
    *,
    action: Action,
    role: Role,
    actor_user: User | None,
    actor: Actor,
    reason: str = "",
    now: dt.datetime,
    extra_after: Mapping[str, Any] | None = None,
) -> CaseState:
    """Move a locked case along the table; record it (CaseTransition + audit). The caller saves."""
    transition = workflow.find_transition(case_type=case.case_type, state=case.state, action=action)
    if transition is None or role not in transition.roles:
        raise Conflict(
            Code.TRANSITION_NOT_ALLOWED,
            _("This cannot be done while the case is “%(state)s”.") % {"state": CaseState(case.state).label},
        )
    if transition.reason_required and not reason.strip():
        raise ValidationFailed.single(
            field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason; the applicant will see it.")
        )
    source = CaseState(case.state)
    case.state = transition.target
    case.updated_at = now
    CaseTransition.objects.create(
        case=case,
        action=action,
        from_state=source,
        to_state=transition.target,
        actor=actor_user,
        actor_role=role,
        reason=reason,
        at=now,
    )
    record_audit(
        actor=actor,
        action=f"office.case.{action}",
        target_type="office_case",
        target_id=case.pk,
        before={"state": source},
        after={"state": transition.target, "number": case.number, **(extra_after or {})},
        reason=reason,
    )
    return transition.target


def _next_case_number(*, region_code: str, year: int) -> str:
    prefix = PROVINCE_ABBREVIATIONS.get(region_code[:2], region_code[:2])
    try:
        with transaction.atomic():
            sequence, _created = CaseNumberSequence.objects.select_for_update().get_or_create(
                prefix=prefix, year=year
            )
    except IntegrityError:  # another submission created the row first
        sequence = CaseNumberSequence.objects.select_for_update().get(prefix=prefix, year=year)
    CaseNumberSequence.objects.filter(pk=sequence.pk).update(last_value=F("last_value") + 1)
    sequence.refresh_from_db(fields=["last_value"])
    return f"{prefix}-{year}-{sequence.last_value:06d}"


def _submission_problems(case: ServiceCase, info: PersonalInfo, today: dt.date) -> list[ErrorDetail]:
    problems: list[ErrorDetail] = []
    definition = catalogue.service(case.case_type)
    if case.agreed_at is None:
        problems.append(
            ErrorDetail(
                field="agree",
                code=Code.INSTRUCTIONS_NOT_AGREED,
                message=_("Read the business instructions and agree to them first."),
            )
        )
    if not info.is_complete:
        problems.append(
            ErrorDetail(
                field="form", code=Code.FORM_INCOMPLETE, message=_("Fill in the personal information form.")
            )
        )
    try:
        catalogue.clean_details(
            case_type=case.case_type, certificate=case.certificate, raw=case.details, today=today
        )
    except ValidationFailed as failed:
        problems.extend(failed.details)
    if definition.issues_new_certificate and case.delivery_method not in DeliveryMethod.values:
        problems.append(
            ErrorDetail(
                field="delivery",
                code=Code.DELIVERY_REQUIRED,
                message=_("Choose how to receive the new certificate."),
            )
        )
    present = set(case.materials.filter(replaced_at__isnull=True).values_list("kind", flat=True))
    missing = [kind for kind in required_materials_for(case) if kind not in present]
    if missing:
        problems.append(
            ErrorDetail(
                field="materials",
                code=Code.MATERIALS_MISSING,
                message=_("Upload these materials: %(kinds)s.")
                % {"kinds": "、".join(str(MaterialKind(kind).label) for kind in missing)},
                params={"missing": missing},
            )
        )
    if not _eligible(case.certificate, case_type=case.case_type, today=today):
        problems.append(
            ErrorDetail(
                field="certificate",
                code=Code.CERTIFICATE_NOT_ELIGIBLE,
                message=_(
                    "This certificate is not within its validity, so this service is not available for it."
                ),
            )
        )
    return problems


def case_submit(*, case: ServiceCase, applicant: User, now: dt.datetime | None = None) -> ServiceCase:
    """Submit a complete draft: it gets its number and its acceptance (or answer) deadline."""
    now = _now(now)
    today = _local_date(now)
    try:
        with transaction.atomic():
            locked = _lock_own_draft(case, applicant)
            info = personal_info(locked)
            problems = _submission_problems(locked, info, today)
            if problems:
                raise ValidationFailed(
                    Code.FORM_INCOMPLETE, _("The application is not complete yet."), details=problems
                )
            if _certificate_busy(locked.certificate, except_case=locked):
                raise Conflict(
                    Code.CERTIFICATE_BUSY, _("This certificate is already in a case that is being handled.")
                )
            locked.number = _next_case_number(region_code=locked.region_code, year=today.year)
            calendar = WorkingCalendar()
            if locked.case_type == CaseType.INFO_VERIFICATION:
                due = deadlines.or_unknown(lambda: deadlines.answer_due(today, calendar=calendar))
            else:
                due = deadlines.or_unknown(lambda: deadlines.acceptance_due(today, calendar=calendar))
            locked.accept_due_on = due
            locked.due_on = due
            locked.submitted_at = now
            _transition(
                locked,
                action=Action.SUBMIT,
                role=Role.APPLICANT,
                actor_user=applicant,
                actor=Actor.for_user(applicant),
                now=now,
                extra_after={"due_on": due},
            )
            locked.save()
            _notify(locked, _submitted_text(locked))
    except IntegrityError:
        # The partial unique index (one open case per certificate) caught a concurrent submission.
        raise Conflict(
            Code.CERTIFICATE_BUSY, _("This certificate is already in a case that is being handled.")
        ) from None
    return locked


def _due_text(day: dt.date | None) -> str:
    return day.isoformat() if day else _("(to be set once the holiday calendar is published)")


def _submitted_text(case: ServiceCase) -> str:
    return _(
        "[Road Transport Administration] Your application %(number)s (%(service)s) was submitted; "
        "the authority answers by %(due)s."
    ) % {"number": case.number, "service": _service_label(case), "due": _due_text(case.due_on)}


def case_withdraw(
    *, case: ServiceCase, applicant: User, reason: str = "", now: dt.datetime | None = None
) -> ServiceCase:
    """The applicant takes the application back; only until the authority has accepted it."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock_own_case(case, applicant)
        if locked.accepted_at is not None:
            raise Conflict(
                Code.WITHDRAW_AFTER_ACCEPTANCE,
                _("The case has been accepted, so it can no longer be withdrawn."),
            )
        _transition(
            locked,
            action=Action.WITHDRAW,
            role=Role.APPLICANT,
            actor_user=applicant,
            actor=Actor.for_user(applicant),
            reason=reason.strip()[:300],
            now=now,
        )
        locked.withdrawn_at = now
        locked.due_on = None
        locked.save()
        _notify(
            locked,
            _("[Road Transport Administration] Your application %(number)s (%(service)s) was withdrawn.")
            % {"number": locked.number, "service": _service_label(locked)},
        )
    return locked


def _lock_for_staff(case: ServiceCase | int, staff: User) -> ServiceCase:
    office_scope(staff)
    locked = _lock_case(case)
    _require_staff_covers(staff, locked)
    return locked


def case_accept(*, case: ServiceCase, staff: User, now: dt.datetime | None = None) -> ServiceCase:
    """Accept a submitted case (受理): the 3-working-day decision clock starts."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock_for_staff(case, staff)
        accepted_on = _local_date(now)
        due = deadlines.or_unknown(lambda: deadlines.decision_due(accepted_on))
        _transition(
            locked,
            action=Action.ACCEPT,
            role=Role.STAFF,
            actor_user=staff,
            actor=Actor.for_user(staff),
            now=now,
            extra_after={"decide_due_on": due},
        )
        locked.accepted_at = now
        locked.decide_due_on = due
        locked.due_on = due
        locked.handled_by = staff
        locked.save()
        _notify(
            locked,
            _(
                "[Road Transport Administration] Your application %(number)s (%(service)s) was accepted; "
                "a decision is due by %(due)s."
            )
            % {"number": locked.number, "service": _service_label(locked), "due": _due_text(due)},
        )
    return locked


def case_return_for_supplement(
    *, case: ServiceCase, staff: User, reason: str, now: dt.datetime | None = None
) -> ServiceCase:
    """Ask the applicant for corrected or further materials (补正): the decision clock pauses."""
    now = _now(now)
    reason = reason.strip()[:500]
    with transaction.atomic():
        locked = _lock_for_staff(case, staff)
        _transition(
            locked,
            action=Action.RETURN,
            role=Role.STAFF,
            actor_user=staff,
            actor=Actor.for_user(staff),
            reason=reason,
            now=now,
        )
        locked.returned_on = _local_date(now)
        locked.due_on = None
        locked.outcome_reason = reason
        locked.handled_by = staff
        locked.save()
        _notify(
            locked,
            _(
                "[Road Transport Administration] Your application %(number)s needs a supplement: "
                "%(reason)s Please supplement it in My Office."
            )
            % {"number": locked.number, "reason": reason},
        )
    return locked


def case_supplement(
    *, case: ServiceCase, applicant: User, note: str = "", now: dt.datetime | None = None
) -> ServiceCase:
    """The applicant has re-uploaded what was asked for: the decision clock resumes, extended by
    the working days it stood still."""
    now = _now(now)
    today = _local_date(now)
    with transaction.atomic():
        locked = _lock_own_case(case, applicant)
        if locked.state == CaseState.RETURNED:
            present = set(locked.materials.filter(replaced_at__isnull=True).values_list("kind", flat=True))
            if any(kind not in present for kind in required_materials_for(locked)):
                raise ValidationFailed.single(
                    field="materials",
                    code=Code.MATERIALS_MISSING,
                    message=_("Upload every required material before sending the supplement."),
                )
        returned_on = locked.returned_on or today
        accepted_on = _local_date(locked.accepted_at) if locked.accepted_at else today
        calendar = WorkingCalendar()
        try:
            total_paused = locked.paused_working_days + deadlines.paused_working_days(
                returned_on, today, calendar=calendar
            )
            due: dt.date | None = deadlines.decision_due(
                accepted_on, paused_working_days=total_paused, calendar=calendar
            )
        except CalendarYearUnknown:
            # The pause reaches into a year whose holidays are unknown: the decision date is
            # unknown too (never guessed) until staff enter that calendar; the pause is not counted.
            total_paused, due = locked.paused_working_days, None
        _transition(
            locked,
            action=Action.SUPPLEMENT,
            role=Role.APPLICANT,
            actor_user=applicant,
            actor=Actor.for_user(applicant),
            reason=note.strip()[:300],
            now=now,
            extra_after={"paused_working_days": total_paused, "decide_due_on": due},
        )
        locked.paused_working_days = total_paused
        locked.decide_due_on = due
        locked.due_on = due
        locked.returned_on = None
        locked.save()
        _notify(
            locked,
            _(
                "[Road Transport Administration] We received the supplement for %(number)s; "
                "a decision is due by %(due)s."
            )
            % {"number": locked.number, "due": _due_text(due)},
        )
    return locked


def case_reject(
    *, case: ServiceCase, staff: User, reason: str, now: dt.datetime | None = None
) -> ServiceCase:
    """Refuse the application (before acceptance: 不予受理; after: 不予批准), with a reason."""
    now = _now(now)
    reason = reason.strip()[:500]
    with transaction.atomic():
        locked = _lock_for_staff(case, staff)
        _transition(
            locked,
            action=Action.REJECT,
            role=Role.STAFF,
            actor_user=staff,
            actor=Actor.for_user(staff),
            reason=reason,
            now=now,
        )
        locked.decided_at = now
        locked.due_on = None
        locked.outcome_reason = reason
        locked.handled_by = staff
        locked.save()
        _notify(
            locked,
            _(
                "[Road Transport Administration] Your application %(number)s (%(service)s) was rejected: "
                "%(reason)s"
            )
            % {"number": locked.number, "service": _service_label(locked), "reason": reason},
        )
    return locked


def case_approve(
    *, case: ServiceCase, staff: User, grade: str = "", now: dt.datetime | None = None
) -> ServiceCase:
    """Approve an accepted case and apply it to the registry in the same transaction. Services that
    issue no new certificate are completed at once; the others wait for `case_complete`."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock_for_staff(case, staff)
        if locked.case_type == CaseType.CREDIT_ASSESSMENT and grade not in CreditGrade.values:
            raise ValidationFailed.single(
                field="grade", code=Code.GRADE_REQUIRED, message=_("Choose the credit grade for the cycle.")
            )
        actor = Actor.for_user(staff)
        _transition(
            locked,
            action=Action.APPROVE,
            role=Role.STAFF,
            actor_user=staff,
            actor=actor,
            now=now,
            extra_after={"grade": grade} if grade else None,
        )
        locked.decided_at = now
        locked.due_on = None
        locked.outcome_reason = ""
        locked.handled_by = staff
        _apply_to_registry(locked, staff=staff, actor=actor, grade=grade, now=now)
        if catalogue.service(locked.case_type).issues_new_certificate:
            text = _(
                "[Road Transport Administration] Your application %(number)s (%(service)s) was approved; "
                "we will tell you when the new certificate is ready."
            )
        else:
            _transition(
                locked, action=Action.COMPLETE, role=Role.SYSTEM, actor_user=None, actor=actor, now=now
            )
            locked.completed_at = now
            text = _(
                "[Road Transport Administration] Your application %(number)s (%(service)s) was approved "
                "and is completed."
            )
        locked.save()
        _notify(locked, text % {"number": locked.number, "service": _service_label(locked)})
    return locked


def case_complete(
    *, case: ServiceCase, staff: User, note: str = "", now: dt.datetime | None = None
) -> ServiceCase:
    """The new certificate was handed over or posted (the note says which, e.g. the tracking number)."""
    now = _now(now)
    note = note.strip()[:200]
    with transaction.atomic():
        locked = _lock_for_staff(case, staff)
        if not note:
            note = (
                _("Posted to the address given.")
                if locked.delivery_method == DeliveryMethod.MAIL
                else _("Collected in person.")
            )
        _transition(
            locked,
            action=Action.COMPLETE,
            role=Role.STAFF,
            actor_user=staff,
            actor=Actor.for_user(staff),
            reason=note,
            now=now,
        )
        locked.completed_at = now
        locked.completion_note = note
        locked.handled_by = staff
        locked.save()
        _notify(
            locked,
            _("[Road Transport Administration] Your application %(number)s is completed: %(note)s")
            % {"number": locked.number, "note": note},
        )
    return locked


def case_answer_verification(
    *,
    case: ServiceCase,
    staff: User,
    answer: str,
    corrections: Mapping[str, str],
    now: dt.datetime | None = None,
) -> ServiceCase:
    """The issuing authority answers an information-verification request: corrections (if any)
    update the registry (audited with before and after), and the answer is recorded on the case."""
    now = _now(now)
    answer = answer.strip()[:500]
    if not answer:
        raise ValidationFailed.single(
            field="answer",
            code=Code.ANSWER_REQUIRED,
            message=_("Write the answer; the applicant will see it."),
        )
    with transaction.atomic():
        locked = _lock_for_staff(case, staff)
        if locked.case_type != CaseType.INFO_VERIFICATION:
            raise Conflict(Code.TRANSITION_NOT_ALLOWED, _("Only verification requests are answered."))
        changes = _clean_corrections(corrections)
        actor = Actor.for_user(staff)
        _transition(
            locked,
            action=Action.ANSWER,
            role=Role.STAFF,
            actor_user=staff,
            actor=actor,
            reason=answer,
            now=now,
            extra_after={"corrected": sorted(changes)},
        )
        if changes:
            certificate = QualificationCertificate.objects.select_for_update().get(pk=locked.certificate_id)
            _certificate_update(
                certificate, changes=changes, actor=actor, reason=answer, case=locked, now=now
            )
        locked.decided_at = now
        locked.completed_at = now
        locked.due_on = None
        locked.outcome_reason = answer
        locked.details = {**locked.details, "corrected": {k: str(v) for k, v in changes.items()}}
        locked.handled_by = staff
        locked.save()
        _notify(
            locked,
            _(
                "[Road Transport Administration] The issuing authority answered your request %(number)s: "
                "%(answer)s"
            )
            % {"number": locked.number, "answer": answer},
        )
    return locked


def _clean_corrections(corrections: Mapping[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    errors: list[ErrorDetail] = []
    for key, raw in corrections.items():
        if key not in catalogue.VERIFIABLE_FIELDS:
            errors.append(ErrorDetail(field=key, code=Code.CORRECTION_INVALID, message=_("Unknown field.")))
            continue
        value = (raw or "").strip()
        if not value:
            continue
        if key in catalogue.DATE_FIELDS:
            try:
                changes[key] = dt.date.fromisoformat(value)
            except ValueError:
                errors.append(
                    ErrorDetail(field=key, code=Code.DATE_INVALID, message=_("Enter a date as YYYY-MM-DD."))
                )
        else:
            changes[key] = value[:200]
    if errors:
        raise ValidationFailed(
            Code.CORRECTION_INVALID, _("Please correct the marked fields."), details=errors
        )
    return changes


def case_deadlines_refresh(*, now: dt.datetime | None = None) -> int:
    """Fill in deadlines that were unknown because their year's holidays were not published yet
    (run after staff enter a new statutory calendar year). Returns how many cases were updated."""
    now = _now(now)
    updated = 0
    calendar = WorkingCalendar()
    with transaction.atomic():
        pending = ServiceCase.objects.select_for_update().filter(
            state__in=[CaseState.SUBMITTED, CaseState.ACCEPTED], due_on__isnull=True
        )
        for case in pending:
            if case.state == CaseState.SUBMITTED and case.submitted_at:
                submitted_on = _local_date(case.submitted_at)
                compute = (
                    deadlines.answer_due
                    if case.case_type == CaseType.INFO_VERIFICATION
                    else deadlines.acceptance_due
                )
                due = deadlines.or_unknown(lambda: compute(submitted_on, calendar=calendar))  # noqa: B023
                case.accept_due_on = due
            elif case.accepted_at:
                accepted_on = _local_date(case.accepted_at)
                paused = case.paused_working_days
                due = deadlines.or_unknown(
                    lambda: deadlines.decision_due(accepted_on, paused_working_days=paused, calendar=calendar)  # noqa: B023
                )
                case.decide_due_on = due
            else:
                continue
            if due is None:
                continue
            case.due_on = due
            case.save(update_fields=["accept_due_on", "decide_due_on", "due_on"])
            record_audit(
                actor=Actor.system("office.deadlines"),
                action="office.case.deadline_set",
                target_type="office_case",
                target_id=case.pk,
                after={"due_on": due},
            )
            updated += 1
    return updated


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------

_PERSONAL_FIELDS = {"holder_name": mask_name, "holder_address": lambda value: "***" if value else ""}


def _audit_value(name: str, value: Any) -> Any:
    masker = _PERSONAL_FIELDS.get(name)
    if masker is not None:
        return masker(str(value or ""))
    return value.isoformat() if isinstance(value, dt.date) else value


def _certificate_update(
    certificate: QualificationCertificate,
    *,
    changes: Mapping[str, Any],
    actor: Actor,
    reason: str,
    case: ServiceCase | None,
    now: dt.datetime,
    event: str = "change",
) -> list[str]:
    """Apply field changes to a locked certificate: new version, audit with before/after (masked),
    and the electronic licence updated in the same transaction."""
    changed = [name for name, value in changes.items() if getattr(certificate, name) != value]
    before = {name: _audit_value(name, getattr(certificate, name)) for name in changed}
    for name in changed:
        setattr(certificate, name, changes[name])
    if certificate.valid_until < certificate.valid_from:
        raise ValidationFailed.single(
            field="valid_until",
            code=Code.CORRECTION_INVALID,
            message=_("A certificate cannot end before it starts."),
        )
    certificate.version += 1
    certificate.save()
    record_audit(
        actor=actor,
        action="office.certificate.update",
        target_type="qualification_certificate",
        target_id=certificate.pk,
        before=before,
        after={
            **{name: _audit_value(name, changes[name]) for name in changed},
            "version": certificate.version,
            "case": case.number if case else None,
        },
        reason=reason,
    )
    licences.certificate_licence_sync(
        certificate=certificate, event=event, actor=actor, reason=reason, now=now
    )
    return changed


def _apply_to_registry(case: ServiceCase, *, staff: User, actor: Actor, grade: str, now: dt.datetime) -> None:
    today = _local_date(now)
    certificate = QualificationCertificate.objects.select_for_update().get(pk=case.certificate_id)
    details = case.details
    reason = _("Case %(number)s approved") % {"number": case.number}
    kind = CaseType(case.case_type)
    if kind == CaseType.CREDIT_ASSESSMENT:
        assessment = CreditAssessment.objects.create(
            certificate=certificate,
            cycle_year=int(details["cycle_year"]),
            grade=grade,
            assessed_on=today,
            authority=certificate.issuing_authority,
            case=case,
        )
        record_audit(
            actor=actor,
            action="office.credit.assess",
            target_type="qualification_certificate",
            target_id=certificate.pk,
            after={"cycle_year": assessment.cycle_year, "grade": grade, "case": case.number},
            reason=reason,
        )
        licences.credit_voucher_sync(assessment=assessment, actor=actor, now=now)
    elif kind == CaseType.RENEWAL:
        valid_from = today
        valid_until = add_years(valid_from, CERTIFICATE_VALIDITY_YEARS) - dt.timedelta(days=1)
        _certificate_update(
            certificate,
            changes={"valid_from": valid_from, "valid_until": valid_until},
            actor=actor,
            reason=reason,
            case=case,
            now=now,
            event="issue",
        )
    elif kind == CaseType.REPLACEMENT:
        certificate.version += 1
        certificate.save(update_fields=["version", "updated_at"])
        record_audit(
            actor=actor,
            action="office.certificate.replace",
            target_type="qualification_certificate",
            target_id=certificate.pk,
            after={"version": certificate.version, "case": case.number},
            reason=reason,
        )
        licences.certificate_licence_sync(
            certificate=certificate, event="issue", actor=actor, reason=reason, now=now
        )
    elif kind == CaseType.CHANGE_UNIT:
        _certificate_update(
            certificate,
            changes={"service_unit": details["new_unit"], "service_unit_phone": details["unit_phone"]},
            actor=actor,
            reason=reason,
            case=case,
            now=now,
        )
    elif kind == CaseType.CHANGE_INFO:
        changes: dict[str, Any] = {}
        if details.get("update_name") and case.applicant.real_name:
            changes["holder_name"] = case.applicant.real_name
        if details.get("new_address"):
            changes["holder_address"] = details["new_address"]
        _certificate_update(certificate, changes=changes, actor=actor, reason=reason, case=case, now=now)
    elif kind == CaseType.CANCELLATION:
        chosen = set(details.get("categories") or [])
        grants = list(
            certificate.grants.select_for_update().filter(status=CertificateCategoryGrant.Status.VALID)
        )
        for grant in grants:
            if grant.category in chosen:
                grant.status = CertificateCategoryGrant.Status.CANCELLED
                grant.cancelled_on = today
                grant.save(update_fields=["status", "cancelled_on"])
        remaining = [g.category for g in grants if g.category not in chosen]
        before_status = certificate.status
        if not remaining:
            certificate.status = QualificationCertificate.Status.CANCELLED
        certificate.version += 1
        certificate.save(update_fields=["status", "version", "updated_at"])
        record_audit(
            actor=actor,
            action="office.certificate.cancel_categories",
            target_type="qualification_certificate",
            target_id=certificate.pk,
            before={"status": before_status},
            after={
                "cancelled": sorted(chosen),
                "remaining": sorted(remaining),
                "status": certificate.status,
                "version": certificate.version,
                "case": case.number,
            },
            reason=reason,
        )
        licences.certificate_licence_sync(
            certificate=certificate,
            event="cancel" if not remaining else "change",
            actor=actor,
            reason=reason,
            now=now,
        )
        if not remaining:
            # A cancelled certificate's credit vouchers stop verifying as valid too.
            for assessment in certificate.credit_assessments.filter(revoked_at__isnull=True):
                assessment.revoked_at = now
                assessment.save(update_fields=["revoked_at"])
                licences.credit_voucher_sync(assessment=assessment, actor=actor, now=now)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def certificate_register(
    *,
    number: str,
    holder_name: str,
    holder_id_number: str,
    categories: list[str],
    issuing_authority: str,
    region_code: str,
    first_issued_on: dt.date,
    valid_from: dt.date,
    valid_until: dt.date,
    service_unit: str = "",
    service_unit_phone: str = "",
    holder_address: str = "",
    actor: Actor,
    now: dt.datetime | None = None,
) -> QualificationCertificate:
    """Enter a certificate into the registry (data migration from the issuing authority, demo data)."""
    now = _now(now)
    resident = validate_resident_id(holder_id_number, field="holder_id_number")
    if valid_until < valid_from:
        raise ValidationFailed.single(
            field="valid_until",
            code=Code.CORRECTION_INVALID,
            message=_("A certificate cannot end before it starts."),
        )
    if not region_code_exists(region_code):
        raise ValidationFailed.single(
            field="region_code",
            code=Code.FIELD_REQUIRED,
            message=_("The issuing region must be a GB/T 2260 code."),
        )
    unknown = [c for c in categories if c not in CertificateCategory.values]
    if not categories or unknown:
        raise ValidationFailed.single(
            field="categories", code=Code.CATEGORIES_REQUIRED, message=_("Give at least one known category.")
        )
    with transaction.atomic():
        certificate = QualificationCertificate.objects.create(
            number=number,
            holder_name=holder_name,
            holder_id_number=resident.number,
            holder_id_hash=lookup_hash(resident.number),
            holder_address=holder_address or None,
            issuing_authority=issuing_authority,
            region_code=region_code,
            first_issued_on=first_issued_on,
            valid_from=valid_from,
            valid_until=valid_until,
            service_unit=service_unit,
            service_unit_phone=service_unit_phone,
        )
        CertificateCategoryGrant.objects.bulk_create(
            [
                CertificateCategoryGrant(
                    certificate=certificate, category=category, granted_on=first_issued_on
                )
                for category in categories
            ]
        )
        record_audit(
            actor=actor,
            action="office.certificate.register",
            target_type="qualification_certificate",
            target_id=certificate.pk,
            after={
                "number": number,
                "holder": mask_name(holder_name),
                "categories": categories,
                "region_code": region_code,
                "valid_until": valid_until,
            },
        )
        licences.certificate_licence_sync(
            certificate=certificate, event="issue", actor=actor, reason="registered", now=now
        )
    return certificate
