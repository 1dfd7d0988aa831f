"""Applying: draft, form, delivery, materials, submission, withdrawal and supplement (the
applicant's side of a case).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from yunzheng.accounts.guards import ensure_real_name_verified
from yunzheng.accounts.models import User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.errors import Conflict, ErrorDetail, NotFound, ValidationFailed
from yunzheng.core.ids import validate_mobile
from yunzheng.core.private_files import private_storage, read_private, store_private
from yunzheng.core.uploads import Readable, validate_image_upload
from yunzheng.core.workdays import WorkingCalendar, counted_due
from yunzheng.practitioners import catalogue, deadlines
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.models import (
    OPEN_STATES,
    CaseMaterial,
    CaseNumberSequence,
    CaseState,
    CaseType,
    DeliveryMethod,
    MaterialKind,
    QualificationCertificate,
    ServiceCase,
)
from yunzheng.practitioners.services._common import (
    PROVINCE_ABBREVIATIONS,
    _due_text,
    _lock_own_case,
    _lock_own_draft,
    _notify,
    _service_label,
    _submitted_text,
    _transition,
    scope_codes,
)
from yunzheng.practitioners.services.personal import (
    Delivery,
    PersonalInfo,
    _store_personal,
    personal_info,
    personal_prefill,
)
from yunzheng.practitioners.workflow import Action, Role

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
    now = now_or(now)
    if case_type not in CaseType.values:
        raise NotFound(Code.SERVICE_NOT_FOUND, _("No such service."))
    if not agreed:
        raise ValidationFailed.single(
            field="agree",
            code=Code.INSTRUCTIONS_NOT_AGREED,
            message=_("Read the business instructions and agree to them first."),
        )
    certificate = _own_certificate(user=applicant, certificate_id=certificate_id)
    if not _eligible(certificate, case_type=case_type, today=today_in_china(now)):
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
    now = now_or(now)
    with transaction.atomic():
        locked = _lock_own_draft(case, applicant)
        phone, errors = _personal_errors(phone=phone, address=address, contact_name=contact_name)
        try:
            cleaned = catalogue.clean_details(
                case_type=locked.case_type,
                certificate=locked.certificate,
                raw=details,
                today=today_in_china(now),
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
    now = now_or(now)
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
    """The materials the certificate's province asks for (the national list by default)."""
    return catalogue.required_materials(
        case_type=case.case_type,
        details=case.details,
        certificate_categories=_certificate_categories(case),
        region_code=case.region_code,
    )


def allowed_materials_for(case: ServiceCase) -> list[str]:
    return catalogue.allowed_materials(
        case_type=case.case_type,
        details=case.details,
        certificate_categories=_certificate_categories(case),
        region_code=case.region_code,
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
    now = now_or(now)
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
    now = now_or(now)
    today = today_in_china(now)
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
            compute = (
                deadlines.answer_due
                if locked.case_type == CaseType.INFO_VERIFICATION
                else deadlines.acceptance_due
            )
            # Never refused for want of a holiday schedule: provisional until the year is confirmed.
            counted = counted_due(lambda calendar: compute(today, calendar=calendar))
            due = counted.date
            locked.accept_due_on = due
            locked.due_on = due
            locked.due_provisional = counted.provisional
            locked.submitted_at = now
            _transition(
                locked,
                action=Action.SUBMIT,
                role=Role.APPLICANT,
                actor_user=applicant,
                actor=Actor.for_user(applicant),
                now=now,
                extra_after={"due_on": due, "due_provisional": counted.provisional},
            )
            locked.save()
            _notify(locked, _submitted_text(locked))
    except IntegrityError:
        # The partial unique index (one open case per certificate) caught a concurrent submission.
        raise Conflict(
            Code.CERTIFICATE_BUSY, _("This certificate is already in a case that is being handled.")
        ) from None
    return locked


def case_withdraw(
    *, case: ServiceCase, applicant: User, reason: str = "", now: dt.datetime | None = None
) -> ServiceCase:
    """The applicant takes the application back; only until the authority has accepted it."""
    now = now_or(now)
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
        locked.due_on, locked.due_provisional = None, False
        locked.save()
        _notify(
            locked,
            _("[Road Transport Administration] Your application %(number)s (%(service)s) was withdrawn.")
            % {"number": locked.number, "service": _service_label(locked)},
        )
    return locked


def case_supplement(
    *, case: ServiceCase, applicant: User, note: str = "", now: dt.datetime | None = None
) -> ServiceCase:
    """The applicant has re-uploaded what was asked for: the decision clock resumes, extended by
    the working days it stood still."""
    now = now_or(now)
    today = today_in_china(now)
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
        accepted_on = today_in_china(locked.accepted_at) if locked.accepted_at else today
        # A pause or a count reaching into a year whose holidays are unknown counts its weekdays
        # and makes the date provisional (recomputed from the stored pause once it is confirmed).
        calendar = WorkingCalendar(provisional=True)
        total_paused = locked.paused_working_days + deadlines.paused_working_days(
            returned_on, today, calendar=calendar
        )
        due = deadlines.decision_due(accepted_on, paused_working_days=total_paused, calendar=calendar)
        provisional = bool(calendar.provisional_years)
        _transition(
            locked,
            action=Action.SUPPLEMENT,
            role=Role.APPLICANT,
            actor_user=applicant,
            actor=Actor.for_user(applicant),
            reason=note.strip()[:300],
            now=now,
            extra_after={
                "paused_working_days": total_paused,
                "decide_due_on": due,
                "due_provisional": provisional,
            },
        )
        locked.paused_working_days = total_paused
        locked.decide_due_on = due
        locked.due_on = due
        locked.due_provisional = provisional
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
