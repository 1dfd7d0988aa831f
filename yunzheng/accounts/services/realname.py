"""Real-name verification: photo upload and OCR prefill, submission checks, backend and staff decisions."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts.conf import app_settings
from yunzheng.accounts.error_codes import AccountsErrorCode as Code
from yunzheng.accounts.identity import (
    IdentityClaim,
    IdentityDecision,
    Outcome,
    backend_label,
    get_identity_backend,
)
from yunzheng.accounts.models import RealNameVerification, StaffProfile, User
from yunzheng.accounts.ocr import IdCardFields, OcrBusy, read_id_card_front
from yunzheng.accounts.permissions import authorize
from yunzheng.accounts.services._common import (
    minutes_from_seconds,
    seconds_until,
    window_limit,
)
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or
from yunzheng.core.crypto import lookup_hash, mask_id_number, mask_name
from yunzheng.core.errors import (
    Conflict,
    DomainError,
    ErrorDetail,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from yunzheng.core.ids import validate_resident_id
from yunzheng.core.private_files import private_storage, read_private, store_private
from yunzheng.core.sms import send_sms_on_commit
from yunzheng.core.uploads import Readable, validate_image_upload

logger = logging.getLogger(__name__)

# Departments whose staff review real-name submissions.
REAL_NAME_REVIEW_DEPARTMENTS = (StaffProfile.Department.TRANSPORT, StaffProfile.Department.PUBLIC_SECURITY)
_NAME = re.compile(r"[\u3400-\u9fff]+(?:·[\u3400-\u9fff]+)*")
# ID photos: refused above 25 megapixels from the header alone (core's general cap is 40), and kept
# at most 2560 px on the longer side, JPEGs decoded downscaled: a phone's 48-megapixel photo costs
# the memory and time of a 3-megapixel one. A card stays legible far below that.
REAL_NAME_PHOTO_MAX_PIXELS = 25_000_000
REAL_NAME_PHOTO_MAX_SIDE = 2560
# Seconds a client is told to wait when every OCR place of the worker is taken.
OCR_BUSY_RETRY_SECONDS = 5


def realname_photo_bytes(*, verification: RealNameVerification) -> bytes:
    """The decrypted photo of a verification (callers check who may see it, and audit staff access)."""
    if not verification.photo_name:
        raise NotFound(Code.REAL_NAME_NOT_FOUND, _("This verification has no photo."))
    return read_private(verification.photo_name)


def _require_can_start_verification(user: User) -> None:
    if user.kind != User.Kind.PUBLIC:
        raise PermissionDenied(Code.SMS_LOGIN_NOT_ALLOWED, _("Staff accounts are not verified this way."))
    if user.is_real_name_verified:
        raise Conflict(Code.REAL_NAME_ALREADY_VERIFIED, _("Your real name is already verified."))
    if RealNameVerification.objects.filter(user=user, status=RealNameVerification.Status.PENDING).exists():
        raise Conflict(
            Code.REAL_NAME_PENDING,
            _("Your previous submission is still under review; please wait for the result."),
        )


def realname_photo_upload(
    *, user: User, upload: bytes | Readable, now: dt.datetime | None = None
) -> RealNameVerification:
    """Check the photo (by content), read it with OCR and keep it as a draft with prefill fields.

    OCR runs before the transaction, so its CPU time holds no database lock, and in a bounded pool
    (`ocr.read_id_card_front`): when the worker's OCR places are all taken the upload is refused
    at once with `real_name.ocr_busy` (429, retry after a few seconds) rather than holding a thread.
    A user keeps at most ACCOUNTS_REALNAME_OPEN_DRAFTS (3) unsubmitted photos: a new upload
    discards the oldest beyond that (photos deleted, audited).
    """
    now = now_or(now)
    _require_can_start_verification(user)
    per_hour = int(app_settings.ACCOUNTS_REALNAME_UPLOADS_PER_HOUR)
    free_at = window_limit(
        RealNameVerification.objects.filter(user=user), window=dt.timedelta(hours=1), limit=per_hour, now=now
    )
    if free_at is not None:
        seconds = seconds_until(free_at, now)
        raise RateLimited(
            Code.REAL_NAME_TOO_MANY_UPLOADS,
            _("Too many photos uploaded. Try again in %(minutes)s minutes.")
            % {"minutes": minutes_from_seconds(seconds)},
            retry_after_seconds=seconds,
        )
    clean = validate_image_upload(
        upload, field="photo", max_pixels=REAL_NAME_PHOTO_MAX_PIXELS, max_side=REAL_NAME_PHOTO_MAX_SIDE
    )
    try:
        fields = read_id_card_front(clean.content).fields
    except OcrBusy:
        raise RateLimited(
            Code.REAL_NAME_OCR_BUSY,
            _("Many photos are being read right now. Please send yours again in a few seconds."),
            retry_after_seconds=OCR_BUSY_RETRY_SECONDS,
        ) from None
    except Exception:
        # The user can still type every field; staff see the photo.
        logger.exception("OCR of an ID photo failed")
        fields = IdCardFields()
    photo_name = store_private(clean.content, folder="realname", now=now)
    try:
        with transaction.atomic():
            verification = RealNameVerification.objects.create(
                user=user,
                status=RealNameVerification.Status.DRAFT,
                photo_name=photo_name,
                photo_sha256=clean.sha256,
                photo_content_type=clean.content_type,
                prefill=fields.to_json(),
                created_at=now,
            )
            record_audit(
                actor=Actor.for_user(user),
                action="real_name.photo_upload",
                target_type="real_name_verification",
                target_id=verification.pk,
                after={"photo_sha256": clean.sha256, "ocr_read": not fields.is_empty},
            )
            discarded = _discard_drafts_beyond_limit(user=user, keep=verification)
    except Exception:
        private_storage().delete(photo_name)
        raise
    for name in discarded:
        private_storage().delete(name)
    return verification


def _discard_drafts_beyond_limit(*, user: User, keep: RealNameVerification) -> list[str]:
    """Delete the user's oldest open drafts beyond the limit (inside the caller's transaction);
    returns their photo names, deleted from storage once the transaction has committed."""
    limit = max(1, int(app_settings.ACCOUNTS_REALNAME_OPEN_DRAFTS))
    drafts = list(
        RealNameVerification.objects.select_for_update()
        .filter(user=user, status=RealNameVerification.Status.DRAFT)
        .exclude(pk=keep.pk)
        .order_by("-created_at", "-pk")
    )
    stale = drafts[limit - 1 :]
    if not stale:
        return []
    RealNameVerification.objects.filter(pk__in=[draft.pk for draft in stale]).delete()
    for draft in stale:
        record_audit(
            actor=Actor.for_user(user),
            action="real_name.draft_discard",
            target_type="real_name_verification",
            target_id=draft.pk,
            after={"reason": "open_draft_limit", "limit": limit},
        )
    return [draft.photo_name for draft in stale if draft.photo_name]


@dataclass(frozen=True)
class RealNameSubmission:
    name: str
    sex: str
    ethnicity: str
    birth_date: dt.date | None
    address: str
    id_number: str


@dataclass(frozen=True)
class _CheckedSubmission:
    name: str
    sex: str
    ethnicity: str
    birth_date: dt.date
    address: str
    id_number: str
    region_code: str


def _field_error(field: str, code: str, message: str) -> ErrorDetail:
    return ErrorDetail(field=field, code=code, message=message)


def realname_submission_check(submission: RealNameSubmission) -> _CheckedSubmission:
    """Validate every field at once: ID checksum, possible birth date and real region (core.ids),
    and that the birth date and sex fields agree with the ID number."""
    errors: list[ErrorDetail] = []
    name = re.sub(r"\s+", "", submission.name).replace("•", "·")
    if not (2 <= len(name) <= 30 and _NAME.fullmatch(name)):
        errors.append(
            _field_error(
                "name",
                Code.REAL_NAME_NAME_INVALID,
                _("Enter the name exactly as printed on the ID card (Chinese characters)."),
            )
        )
    for field, value, limit in (
        ("ethnicity", submission.ethnicity, 20),
        ("address", submission.address, 120),
    ):
        if not value.strip() or len(value.strip()) > limit:
            errors.append(
                _field_error(
                    field,
                    Code.REAL_NAME_FIELD_REQUIRED,
                    _("This field is required (at most %(limit)s characters).") % {"limit": limit},
                )
            )
    if submission.sex not in RealNameVerification.Sex.values:
        errors.append(
            _field_error("sex", Code.REAL_NAME_FIELD_REQUIRED, _("Choose the sex shown on the card."))
        )
    if submission.birth_date is None:
        errors.append(_field_error("birth_date", Code.REAL_NAME_FIELD_REQUIRED, _("Enter the birth date.")))
    resident = None
    try:
        resident = validate_resident_id(submission.id_number, field="id_number")
    except ValidationFailed as invalid:
        errors.extend(invalid.details)
    if resident is not None:
        if submission.birth_date is not None and submission.birth_date != resident.birth_date:
            errors.append(
                _field_error(
                    "birth_date",
                    Code.REAL_NAME_BIRTH_DATE_MISMATCH,
                    _("The birth date does not match the ID number (which says %(date)s).")
                    % {"date": resident.birth_date.isoformat()},
                )
            )
        if submission.sex in RealNameVerification.Sex.values and submission.sex != resident.gender:
            errors.append(
                _field_error("sex", Code.REAL_NAME_SEX_MISMATCH, _("The sex does not match the ID number."))
            )
    if errors or resident is None or submission.birth_date is None:
        first = errors[0]
        raise ValidationFailed(first.code, first.message, details=errors)
    return _CheckedSubmission(
        name=name,
        sex=submission.sex,
        ethnicity=submission.ethnicity.strip(),
        birth_date=submission.birth_date,
        address=submission.address.strip(),
        id_number=resident.number,
        region_code=resident.region_code,
    )


def _id_number_taken(id_number_hash: str, *, except_user: User) -> bool:
    return (
        User.objects.filter(id_number_hash=id_number_hash, real_name_status=User.RealNameStatus.VERIFIED)
        .exclude(pk=except_user.pk)
        .exists()
    )


def _id_number_taken_error() -> Conflict:
    return Conflict(
        Code.REAL_NAME_ID_NUMBER_TAKEN,
        _(
            "Another account is already verified with this ID number. If that is not you, contact the "
            "transport authority."
        ),
    )


def realname_verification_submit(
    *,
    user: User,
    verification_id: int,
    submission: RealNameSubmission,
    now: dt.datetime | None = None,
) -> RealNameVerification:
    """Submit checked fields for a draft; then the identity backend decides, or staff review it."""
    now = now_or(now)
    checked = realname_submission_check(submission)
    id_number_hash = lookup_hash(checked.id_number)
    with transaction.atomic():
        verification = (
            RealNameVerification.objects.select_for_update().filter(pk=verification_id, user=user).first()
        )
        if verification is None:
            raise NotFound(Code.REAL_NAME_NOT_FOUND, _("No such real-name verification."))
        if verification.status != RealNameVerification.Status.DRAFT:
            raise Conflict(Code.REAL_NAME_NOT_DRAFT, _("This verification has already been submitted."))
        locked_user = User.objects.select_for_update().get(pk=user.pk)
        _require_can_start_verification(locked_user)
        if _id_number_taken(id_number_hash, except_user=user):
            raise _id_number_taken_error()
        verification.name = checked.name
        verification.sex = checked.sex
        verification.ethnicity = checked.ethnicity
        verification.birth_date = checked.birth_date
        verification.address = checked.address
        verification.id_number = checked.id_number
        verification.id_number_hash = id_number_hash
        verification.region_code = checked.region_code
        verification.status = RealNameVerification.Status.PENDING
        verification.submitted_at = now
        verification.save()
        locked_user.real_name_status = User.RealNameStatus.PENDING
        locked_user.save(update_fields=["real_name_status"])
        record_audit(
            actor=Actor.for_user(user),
            action="real_name.submit",
            target_type="real_name_verification",
            target_id=verification.pk,
            after={
                "name": mask_name(checked.name),
                "id_number": mask_id_number(checked.id_number),
                "region_code": checked.region_code,
            },
        )
    decision = _backend_decision(verification, checked)
    if decision.outcome in (Outcome.APPROVE, Outcome.REJECT):
        try:
            verification = _decide(
                verification_id=verification.pk,
                approve=decision.outcome == Outcome.APPROVE,
                actor=Actor.system(backend_label()),
                reason=decision.reason,
            )
        except DomainError:
            # E.g. another account got verified with this ID number meanwhile: staff decide.
            logger.warning("Automatic real-name decision failed; left for staff review", exc_info=True)
    user.refresh_from_db()
    return verification


def _backend_decision(verification: RealNameVerification, checked: _CheckedSubmission) -> IdentityDecision:
    """Ask the configured backend, outside any transaction; a failing backend leaves it to staff."""
    try:
        photo = realname_photo_bytes(verification=verification) if verification.photo_name else None
        claim = IdentityClaim(
            name=checked.name,
            id_number=checked.id_number,
            sex=checked.sex,
            birth_date=checked.birth_date,
            ethnicity=checked.ethnicity,
            address=checked.address,
            ocr=IdCardFields.from_json(verification.prefill),
            photo=photo,
        )
        return get_identity_backend().verify(claim)
    except Exception:
        logger.exception("Identity verification backend failed; the submission waits for staff")
        return IdentityDecision(Outcome.REVIEW)


def _require_reviewer(*, reviewer: User, verification: RealNameVerification) -> None:
    authorize(reviewer, "realname.review", region_code=verification.region_code)


def _decide(
    *,
    verification_id: int,
    approve: bool,
    actor: Actor,
    reason: str,
    reviewer: User | None = None,
    now: dt.datetime | None = None,
) -> RealNameVerification:
    now = now_or(now)
    with transaction.atomic():
        verification = RealNameVerification.objects.select_for_update().get(pk=verification_id)
        if reviewer is not None:
            _require_reviewer(reviewer=reviewer, verification=verification)
        if verification.status != RealNameVerification.Status.PENDING:
            raise Conflict(Code.REAL_NAME_NOT_PENDING, _("This verification has already been decided."))
        user = User.objects.select_for_update().get(pk=verification.user_id)
        verification.reviewed_by = reviewer
        verification.reviewed_at = now
        verification.backend = "" if reviewer is not None else actor.label
        verification.reason = reason
        if approve:
            if _id_number_taken(verification.id_number_hash, except_user=user):
                raise _id_number_taken_error()
            verification.status = RealNameVerification.Status.APPROVED
            user.real_name = verification.name
            user.id_number = verification.id_number
            user.id_number_hash = verification.id_number_hash
            user.real_name_status = User.RealNameStatus.VERIFIED
            user.real_name_verified_at = now
        else:
            verification.status = RealNameVerification.Status.REJECTED
            user.real_name_status = User.RealNameStatus.REJECTED
        verification.save()
        try:
            with transaction.atomic():
                user.save(
                    update_fields=[
                        "real_name",
                        "id_number",
                        "id_number_hash",
                        "real_name_status",
                        "real_name_verified_at",
                    ]
                )
        except IntegrityError:
            # The partial unique index (one verified account per ID number) caught a race.
            raise _id_number_taken_error() from None
        record_audit(
            actor=actor,
            action="real_name.approve" if approve else "real_name.reject",
            target_type="real_name_verification",
            target_id=verification.pk,
            before={"status": RealNameVerification.Status.PENDING},
            after={"status": verification.status, "user": user.pk},
            reason=reason,
        )
        if user.phone:
            text = (
                _("[Road Transport Administration] Your real-name verification was approved.")
                if approve
                else _("[Road Transport Administration] Your real-name verification was rejected: %(reason)s")
                % {"reason": reason}
            )
            send_sms_on_commit(phone=user.phone, text=text, template="real_name_decision")
    return verification


def realname_verification_approve(
    *, verification: RealNameVerification, reviewer: User, now: dt.datetime | None = None
) -> RealNameVerification:
    """A staff decision: copies name and ID number to the user, who becomes verified."""
    return _decide(
        verification_id=verification.pk,
        approve=True,
        actor=Actor.for_user(reviewer),
        reason="",
        reviewer=reviewer,
        now=now,
    )


def realname_verification_reject(
    *, verification: RealNameVerification, reviewer: User, reason: str, now: dt.datetime | None = None
) -> RealNameVerification:
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.single(
            field="reason",
            code=Code.REAL_NAME_REASON_REQUIRED,
            message=_("Say why the verification is rejected; the applicant sees it."),
        )
    return _decide(
        verification_id=verification.pk,
        approve=False,
        actor=Actor.for_user(reviewer),
        reason=reason[:500],
        reviewer=reviewer,
        now=now,
    )


def realname_staff_access_record(*, staff_user: User, verification: RealNameVerification, what: str) -> None:
    """Staff reading someone's identity data is itself audited (who looked at whose data, when)."""
    record_audit(
        actor=Actor.for_user(staff_user),
        action="real_name.view_photo" if what == "photo" else "real_name.view",
        target_type="real_name_verification",
        target_id=verification.pk,
    )


def realname_verification_record_in_person(
    *, user: User, name: str, id_number: str, ethnicity: str, address: str, recorded_by: Actor, reason: str
) -> RealNameVerification:
    """Record an identity checked outside the app (at a service counter, or demo data): approved at
    once, without a photo. Same validation and the same one-account-per-ID rule."""
    resident = validate_resident_id(id_number)
    checked = realname_submission_check(
        RealNameSubmission(
            name=name,
            sex=resident.gender,
            ethnicity=ethnicity,
            birth_date=resident.birth_date,
            address=address,
            id_number=id_number,
        )
    )
    now = timezone.now()
    with transaction.atomic():
        locked_user = User.objects.select_for_update().get(pk=user.pk)
        _require_can_start_verification(locked_user)
        verification = RealNameVerification.objects.create(
            user=user,
            status=RealNameVerification.Status.PENDING,
            name=checked.name,
            sex=checked.sex,
            ethnicity=checked.ethnicity,
            birth_date=checked.birth_date,
            address=checked.address,
            id_number=checked.id_number,
            id_number_hash=lookup_hash(checked.id_number),
            region_code=checked.region_code,
            created_at=now,
            submitted_at=now,
        )
        verification = _decide(
            verification_id=verification.pk, approve=True, actor=recorded_by, reason=reason
        )
    user.refresh_from_db()
    return verification


def realname_draft_purge(
    *, now: dt.datetime | None = None, older_than: dt.timedelta = dt.timedelta(days=1)
) -> int:
    """Delete drafts (and their photos) that were never submitted."""
    now = now_or(now)
    storage = private_storage()
    drafts = list(
        RealNameVerification.objects.filter(
            status=RealNameVerification.Status.DRAFT, created_at__lt=now - older_than
        )
    )
    for draft in drafts:
        if draft.photo_name:
            storage.delete(draft.photo_name)
    with transaction.atomic():
        RealNameVerification.objects.filter(pk__in=[d.pk for d in drafts]).delete()
    return len(drafts)
