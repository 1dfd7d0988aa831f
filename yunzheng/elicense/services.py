"""Every write of the electronic-licence core: signing keys, licences (sync from registries,
status changes, expiry), signing QR payloads, online verification, share codes, activation.

The registries (this app's vehicle certificates and traffic passes; later the One-Network Office
and the licensing workflow) call `licence_sync` from their own services, inside their own
transaction: the licence, its history and the ministry index then commit or roll back with the
registry record. See docs/adr/0011-elicense-registry-sync.md.

Settings (read with defaults):
    ELICENSE_KEY_SIGNING_DAYS = 365           a key signs for a year unless rotated earlier
    ELICENSE_KEY_VERIFY_GRACE_DAYS = 1095     ... and what it signed verifies 3 more years
    ELICENSE_TRUST_LIST_TTL_HOURS = 24        verifiers refuse a trust list older than this
    ELICENSE_VERIFY_RATE_LIMIT = 60           verification attempts per client IP ...
    ELICENSE_VERIFY_RATE_WINDOW_SECONDS = 60  ... per this window
    ELICENSE_SHARE_CODE_TTL_MINUTES = 10      a share code expires after 10 minutes
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company, User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.crypto import (
    generate_sm2_keypair,
    lookup_hash,
    mask_name,
    sm2_sign,
    sm3_hex,
)
from yunzheng.core.errors import (
    Conflict,
    ErrorDetail,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from yunzheng.core.ids import region_code_exists
from yunzheng.elicense import qr_payload, verifier
from yunzheng.elicense.error_codes import ElicenseErrorCode as Code
from yunzheng.elicense.models import (
    ElectronicLicence,
    LicenceEvent,
    LicenceNumberSequence,
    LicenceStatus,
    LicenceType,
    MinistryIndexEntry,
    ShareCode,
    SigningKey,
    VerificationAttempt,
)
from yunzheng.elicense.qr_payload import Claims, EssentialValue

ROOT_PROVINCE = "000000"  # the ministry: signs the trust list
_REGION = re.compile(r"\d{6}")
# Limits that keep every QR code small enough to scan from a phone screen (see qr_payload).
MAX_ESSENTIAL_TEXT = 40
MAX_ESSENTIAL_ITEMS = 8
SHARE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed
SHARE_CODE_LENGTH = 10


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def today_in_china(now: dt.datetime | None = None) -> dt.date:
    """Licence dates are calendar days in China Standard Time, whatever the server's zone."""
    return verifier.china_date(_now(now))


# --------------------------------------------------------------------------------------------
# Signing keys and the trust list
# --------------------------------------------------------------------------------------------


def _validate_province(province: str, *, purpose: str) -> str:
    province = (province or "").strip()
    if purpose == SigningKey.Purpose.TRUST_LIST:
        if province != ROOT_PROVINCE:
            raise ValidationFailed.single(
                field="province",
                code=Code.PROVINCE_INVALID,
                message=_("The trust-list key belongs to the ministry (000000)."),
            )
        return province
    if not (_REGION.fullmatch(province) and province.endswith("0000") and region_code_exists(province)):
        raise ValidationFailed.single(
            field="province",
            code=Code.PROVINCE_INVALID,
            message=_("Enter the GB/T 2260 code of a province, e.g. 330000."),
        )
    return province


def _new_key(*, province: str, purpose: str, now: dt.datetime) -> SigningKey:
    signing_days = _setting("ELICENSE_KEY_SIGNING_DAYS", 365)
    grace_days = _setting("ELICENSE_KEY_VERIFY_GRACE_DAYS", 1095)
    while True:
        pair = generate_sm2_keypair()
        fingerprint = sm3_hex(bytes.fromhex(pair.public_key_hex))
        kid = f"{province}-{fingerprint[:8]}"
        # A clash of the short id (1 in 4 billion per province) is never resolved by picking one of
        # two keys: the new key is discarded and another generated.
        if not SigningKey.objects.filter(Q(kid=kid) | Q(fingerprint=fingerprint)).exists():
            break
    valid_until = now + dt.timedelta(days=signing_days)
    return SigningKey.objects.create(
        kid=kid,
        province=province,
        purpose=purpose,
        public_key_hex=pair.public_key_hex,
        fingerprint=fingerprint,
        private_key=pair.private_key_hex,
        status=SigningKey.Status.ACTIVE,
        valid_from=now,
        valid_until=valid_until,
        verify_until=valid_until + dt.timedelta(days=grace_days),
        created_at=now,
    )


def _key_audit(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "province": key.province,
        "purpose": key.purpose,
        "status": key.status,
        "valid_until": key.valid_until,
        "verify_until": key.verify_until,
    }


def signing_key_create(
    *, province: str, actor: Actor, purpose: str = SigningKey.Purpose.LICENCE, now: dt.datetime | None = None
) -> SigningKey:
    """The first key of a province. A province that has an active key rotates instead."""
    province = _validate_province(province, purpose=purpose)
    now = _now(now)
    with transaction.atomic():
        if (
            SigningKey.objects.select_for_update()
            .filter(province=province, purpose=purpose, status="active")
            .exists()
        ):
            raise Conflict(
                Code.SIGNING_KEY_EXISTS, _("This province already has an active key; rotate it instead.")
            )
        key = _new_key(province=province, purpose=purpose, now=now)
        record_audit(
            actor=actor,
            action="elicense.key.create",
            target_type="signing_key",
            target_id=key.kid,
            after=_key_audit(key),
        )
    return key


def signing_key_rotate(
    *, province: str, actor: Actor, purpose: str = SigningKey.Purpose.LICENCE, now: dt.datetime | None = None
) -> SigningKey:
    """Stop signing with the province's current key and start a new one.

    The old key stays in the trust list and keeps verifying what it signed until its
    `verify_until`; from now on it signs nothing (a payload it signs later is refused).
    """
    province = _validate_province(province, purpose=purpose)
    now = _now(now)
    with transaction.atomic():
        old = (
            SigningKey.objects.select_for_update()
            .filter(province=province, purpose=purpose, status="active")
            .first()
        )
        if old is not None:
            old.status = SigningKey.Status.RETIRED
            old.retired_at = now
            old.valid_until = max(old.valid_from, now)
            old.save(update_fields=["status", "retired_at", "valid_until"])
        key = _new_key(province=province, purpose=purpose, now=now)
        record_audit(
            actor=actor,
            action="elicense.key.rotate",
            target_type="signing_key",
            target_id=key.kid,
            before=_key_audit(old) if old else None,
            after=_key_audit(key),
        )
    return key


def signing_key_mark_compromised(
    *, kid: str, actor: Actor, reason: str, now: dt.datetime | None = None
) -> SigningKey:
    """Refuse everything the key ever signed, at once (online) and from the next trust list
    (offline). If it was the active key, a replacement is created in the same transaction."""
    if not reason.strip():
        raise ValidationFailed.single(field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason."))
    now = _now(now)
    with transaction.atomic():
        key = SigningKey.objects.select_for_update().filter(kid=kid).first()
        if key is None:
            raise NotFound(Code.SIGNING_KEY_NOT_FOUND, _("No such signing key."))
        was_active = key.status == SigningKey.Status.ACTIVE
        before = _key_audit(key)
        key.status = SigningKey.Status.COMPROMISED
        key.compromised_at = now
        key.valid_until = min(key.valid_until, max(key.valid_from, now))
        key.save(update_fields=["status", "compromised_at", "valid_until"])
        if was_active:
            _new_key(province=key.province, purpose=key.purpose, now=now)
        record_audit(
            actor=actor,
            action="elicense.key.compromised",
            target_type="signing_key",
            target_id=kid,
            before=before,
            after=_key_audit(key),
            reason=reason,
        )
    return key


def root_key() -> SigningKey:
    """The ministry's trust-list key, created on first use (the demo and the tests need one; in
    production the operator creates it with `manage.py elicense_keys create --root`)."""
    key = SigningKey.objects.filter(purpose=SigningKey.Purpose.TRUST_LIST, status="active").first()
    if key is not None:
        return key
    return signing_key_create(
        province=ROOT_PROVINCE, purpose=SigningKey.Purpose.TRUST_LIST, actor=Actor.system("elicense")
    )


def trusted_key(key: SigningKey) -> verifier.TrustedKey:
    return verifier.TrustedKey(
        kid=key.kid,
        province=key.province,
        public_key_hex=key.public_key_hex,
        valid_from=key.valid_from,
        valid_until=key.valid_until,
        verify_until=key.verify_until,
        status=key.status,
        purpose=key.purpose,
    )


def trust_list_issue(*, now: dt.datetime | None = None) -> dict[str, str]:
    """The signed trust list verifiers download: every licence key that still verifies (and every
    compromised one, so verifiers can say why), plus licences revoked or suspended before expiry."""
    now = _now(now)
    signer = root_key()
    keys = SigningKey.objects.filter(purpose=SigningKey.Purpose.LICENCE).filter(
        Q(verify_until__gt=now) | Q(status=SigningKey.Status.COMPROMISED)
    )
    revoked = dict(
        ElectronicLicence.objects.filter(
            status__in=[LicenceStatus.REVOKED, LicenceStatus.SUSPENDED], valid_until__gte=today_in_china(now)
        ).values_list("lid", "status")
    )
    content = verifier.trust_list_content(
        issued_at=now,
        next_update=now + dt.timedelta(hours=_setting("ELICENSE_TRUST_LIST_TTL_HOURS", 24)),
        signer_kid=signer.kid,
        keys=[trusted_key(key) for key in keys.order_by("province", "valid_from")],
        revoked=revoked,
    )
    return verifier.trust_list_document(
        content=content, signature=sm2_sign(signer.private_key, content, public_key_hex=signer.public_key_hex)
    )


# --------------------------------------------------------------------------------------------
# Licences: sync from registries
# --------------------------------------------------------------------------------------------

SYNC_EVENTS = frozenset(
    {
        LicenceEvent.Kind.ISSUE,
        LicenceEvent.Kind.CHANGE,
        LicenceEvent.Kind.CANCEL,
        LicenceEvent.Kind.ANNUAL_INSPECTION,
        LicenceEvent.Kind.CREDIT_EVALUATION,
        LicenceEvent.Kind.SUSPEND,
        LicenceEvent.Kind.REINSTATE,
        LicenceEvent.Kind.REVOKE,
        LicenceEvent.Kind.EXPIRE,
    }
)
_ENDING_EVENTS: dict[str, str] = {
    LicenceEvent.Kind.CANCEL: LicenceStatus.REVOKED,
    LicenceEvent.Kind.REVOKE: LicenceStatus.REVOKED,
    LicenceEvent.Kind.SUSPEND: LicenceStatus.SUSPENDED,
    LicenceEvent.Kind.EXPIRE: LicenceStatus.EXPIRED,
}


def _invalid(field: str, message: str) -> ErrorDetail:
    return ErrorDetail(field=field, code=Code.LICENCE_INVALID_INPUT, message=message)


def _check_essentials(data: Mapping[str, Any]) -> list[ErrorDetail]:
    problems = []
    for data_key in qr_payload.DATA_KEY_TO_ESSENTIAL:
        if data_key not in data:
            continue
        value = data[data_key]
        items = value if isinstance(value, list) else [value]
        if len(items) > MAX_ESSENTIAL_ITEMS or not all(
            isinstance(item, str) and 0 < len(item) <= MAX_ESSENTIAL_TEXT for item in items
        ):
            problems.append(
                _invalid(
                    f"data.{data_key}",
                    _("Shown in the QR code: at most %(items)s texts of at most %(chars)s characters each.")
                    % {"items": MAX_ESSENTIAL_ITEMS, "chars": MAX_ESSENTIAL_TEXT},
                )
            )
    return problems


def _validate_sync(
    *,
    source_type: str,
    source_id: str,
    licence_type: str,
    holder_name: str,
    issuer_region: str,
    valid_from: dt.date,
    valid_until: dt.date,
    data: Mapping[str, Any],
    event: str,
    status: str | None,
) -> None:
    problems: list[ErrorDetail] = []
    if not source_type or len(source_type) > 64 or not source_id or len(str(source_id)) > 64:
        problems.append(
            _invalid("source_id", _("Name the registry and its record (at most 64 characters each)."))
        )
    if licence_type not in LicenceType.values:
        problems.append(_invalid("licence_type", _("Unknown licence type.")))
    if not holder_name or not holder_name.strip():
        problems.append(_invalid("holder_name", _("The holder's name is required.")))
    if not _REGION.fullmatch(issuer_region or "") or not region_code_exists(issuer_region):
        problems.append(_invalid("issuer_region", _("The issuing region must be a GB/T 2260 code.")))
    if valid_from > valid_until:
        problems.append(_invalid("valid_until", _("A licence cannot end before it starts.")))
    if event not in SYNC_EVENTS:
        problems.append(_invalid("event", _("Unknown licence event.")))
    if status is not None and status not in LicenceStatus.values:
        problems.append(_invalid("status", _("Unknown licence status.")))
    try:
        json.dumps(dict(data))
    except (TypeError, ValueError):
        problems.append(_invalid("data", _("Licence details must be plain JSON.")))
    else:
        problems.extend(_check_essentials(data))
    if problems:
        raise ValidationFailed(
            Code.LICENCE_INVALID_INPUT, _("The licence data is invalid."), details=problems
        )


def _status_after(event: str, *, current: str | None, valid_until: dt.date, today: dt.date) -> str:
    if event in _ENDING_EVENTS:
        return _ENDING_EVENTS[event]
    if current in (LicenceStatus.REVOKED, LicenceStatus.SUSPENDED) and event not in (
        LicenceEvent.Kind.ISSUE,
        LicenceEvent.Kind.REINSTATE,
    ):
        return current  # a change recorded on a revoked or suspended licence does not revive it
    return LicenceStatus.VALID if valid_until >= today else LicenceStatus.EXPIRED


def _next_lid(*, licence_type: str, issuer_region: str, year: int) -> str:
    prefix = f"{issuer_region[:2]}-{qr_payload.TYPE_CODES[licence_type]}-{year}"
    sequence, _created = LicenceNumberSequence.objects.select_for_update().get_or_create(prefix=prefix)
    LicenceNumberSequence.objects.filter(pk=sequence.pk).update(last_value=F("last_value") + 1)
    sequence.refresh_from_db(fields=["last_value"])
    return f"{prefix}-{sequence.last_value:06d}"


_HASHED_FIELDS = (
    "lid",
    "licence_type",
    "holder_kind",
    "holder_user_id",
    "holder_company_id",
    "holder_name",
    "holder_id_hash",
    "issuer_region",
    "valid_from",
    "valid_until",
    "status",
    "version",
    "source_type",
    "source_id",
    "data",
)


def licence_content_hash(licence: ElectronicLicence) -> str:
    """Keyed hash (HMAC-SM3 with FIELD_HASH_KEY) of the licence's canonical content: a database
    user without the key cannot change a row and recompute it (the authenticity check)."""
    content = {name: getattr(licence, name) for name in _HASHED_FIELDS}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return lookup_hash(sm3_hex(canonical.encode("utf-8")))


def _write_index(licence: ElectronicLicence) -> None:
    MinistryIndexEntry.objects.update_or_create(
        licence=licence,
        defaults={
            "lid": licence.lid,
            "licence_type": licence.licence_type,
            "issuer_province": licence.issuer_province,
            "issuer_region": licence.issuer_region,
            "status": licence.status,
            "version": licence.version,
            "valid_from": licence.valid_from,
            "valid_until": licence.valid_until,
            "holder_id_hash": licence.holder_id_hash,
            "content_hash": licence.content_hash,
            "updated_at": licence.updated_at,
        },
    )


def _record_event(
    licence: ElectronicLicence, *, kind: str, from_status: str, actor: Actor, reason: str, changed: list[str]
) -> None:
    LicenceEvent.objects.create(
        licence=licence,
        version=licence.version,
        kind=kind,
        from_status=from_status,
        to_status=licence.status,
        changed_fields=changed,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        reason=reason,
        at=licence.updated_at,
    )


def _save_version(
    licence: ElectronicLicence,
    *,
    kind: str,
    from_status: str,
    actor: Actor,
    reason: str,
    changed: list[str],
    now: dt.datetime,
) -> ElectronicLicence:
    """Persist a new version: the row, its history event, the ministry index, the audit entry."""
    licence.updated_at = now
    licence.content_hash = licence_content_hash(licence)
    licence.save()
    _record_event(licence, kind=kind, from_status=from_status, actor=actor, reason=reason, changed=changed)
    _write_index(licence)
    record_audit(
        actor=actor,
        action=f"elicense.licence.{kind}",
        target_type="electronic_licence",
        target_id=licence.lid,
        before={"status": from_status} if from_status else None,
        after={
            "version": licence.version,
            "status": licence.status,
            "source": f"{licence.source_type}:{licence.source_id}",
            "changed": changed,
        },
        reason=reason,
    )
    return licence


def licence_sync(
    *,
    source_type: str,
    source_id: str | int,
    licence_type: str,
    holder_name: str,
    issuer_region: str,
    valid_from: dt.date,
    valid_until: dt.date,
    data: Mapping[str, Any],
    event: str,
    actor: Actor,
    holder_user: User | None = None,
    holder_company: Company | None = None,
    holder_id_number: str | None = None,
    status: str | None = None,
    reason: str = "",
    source_updated_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> ElectronicLicence:
    """Create or update the electronic licence mirroring one registry record. Call it from the
    registry's service, inside its transaction, for every issue, change, cancellation, annual
    inspection and credit evaluation: the licence, its history and the ministry index then commit
    (or roll back) together with the record.

    - (source_type, source_id) identifies the record; the first call creates the licence
      (version 1, a new licence number), later calls update it and bump the version.
    - The status follows the event: cancel/revoke -> revoked, suspend -> suspended, expire ->
      expired; issue/reinstate/change/annual_inspection/credit_evaluation -> valid (expired if
      valid_until has passed), except that only issue and reinstate revive a revoked or
      suspended licence. `status` overrides this when the registry knows better.
    - A "change" with nothing changed is a no-op (no new version), so retries are harmless.
    - `data` holds the type-specific details; the keys in qr_payload.DATA_KEY_TO_ESSENTIAL
      (plate, sections, categories, ...) are shown in the QR code and must stay short.
    - `source_updated_at` is the record's own update time (default: now), for the timeliness check.
    """
    source_id = str(source_id)
    _validate_sync(
        source_type=source_type,
        source_id=source_id,
        licence_type=licence_type,
        holder_name=holder_name,
        issuer_region=issuer_region,
        valid_from=valid_from,
        valid_until=valid_until,
        data=data,
        event=event,
        status=status,
    )
    now = _now(now)
    today = today_in_china(now)
    holder_id_number = (holder_id_number or "").strip() or None
    fields: dict[str, Any] = {
        "licence_type": licence_type,
        "holder_kind": (
            ElectronicLicence.HolderKind.COMPANY
            if holder_company is not None
            else ElectronicLicence.HolderKind.PERSON
        ),
        "holder_user_id": holder_user.pk if holder_user is not None else None,
        "holder_company_id": holder_company.pk if holder_company is not None else None,
        "holder_name": holder_name.strip(),
        "holder_id_number": holder_id_number,
        "holder_id_hash": lookup_hash(holder_id_number) if holder_id_number else "",
        "issuer_region": issuer_region,
        "issuer_province": qr_payload.province_of(issuer_region),
        "valid_from": valid_from,
        "valid_until": valid_until,
        "data": json.loads(json.dumps(dict(data))),
    }
    with transaction.atomic():
        licence = (
            ElectronicLicence.objects.select_for_update()
            .filter(source_type=source_type, source_id=source_id)
            .first()
        )
        if licence is None:
            if event in _ENDING_EVENTS and status is None:
                raise Conflict(
                    Code.LICENCE_NOTHING_TO_CHANGE,
                    _("There is no electronic licence for this record yet, so it cannot be ended."),
                )
            licence = ElectronicLicence(
                lid=_next_lid(licence_type=licence_type, issuer_region=issuer_region, year=today.year),
                source_type=source_type,
                source_id=source_id,
                version=1,
                issued_at=now,
                **fields,
            )
            licence.status = status or _status_after(
                event, current=None, valid_until=valid_until, today=today
            )
            licence.source_updated_at = source_updated_at or now
            licence.synced_at = now
            licence.status_reason = reason
            return _save_version(
                licence,
                kind=event,
                from_status="",
                actor=actor,
                reason=reason,
                changed=sorted(fields),
                now=now,
            )
        if licence.licence_type != licence_type:
            raise Conflict(
                Code.LICENCE_STATUS_CONFLICT, _("A registry record cannot change the type of its licence.")
            )
        changed = sorted(name for name, value in fields.items() if getattr(licence, name) != value)
        new_status = status or _status_after(
            event, current=licence.status, valid_until=valid_until, today=today
        )
        if new_status != licence.status:
            changed.append("status")
        licence.source_updated_at = source_updated_at or now
        licence.synced_at = now
        if not changed and event == LicenceEvent.Kind.CHANGE:
            ElectronicLicence.objects.filter(pk=licence.pk).update(
                source_updated_at=licence.source_updated_at, synced_at=now
            )
            return licence
        from_status = licence.status
        for name, value in fields.items():
            setattr(licence, name, value)
        licence.status = new_status
        licence.version += 1
        if new_status != from_status:
            licence.status_reason = reason
        return _save_version(
            licence, kind=event, from_status=from_status, actor=actor, reason=reason, changed=changed, now=now
        )


# --------------------------------------------------------------------------------------------
# Licences: status changes by the authority, expiry
# --------------------------------------------------------------------------------------------


def _change_status(
    *,
    licence: ElectronicLicence,
    kind: str,
    to_status: str,
    allowed_from: set[str],
    actor: Actor,
    reason: str,
    now: dt.datetime | None,
) -> ElectronicLicence:
    if not reason.strip():
        raise ValidationFailed.single(field="reason", code=Code.REASON_REQUIRED, message=_("Give a reason."))
    now = _now(now)
    with transaction.atomic():
        locked = ElectronicLicence.objects.select_for_update().get(pk=licence.pk)
        if locked.status not in allowed_from:
            raise Conflict(
                Code.LICENCE_STATUS_CONFLICT,
                _("The licence is %(status)s; this change is not possible.")
                % {"status": locked.get_status_display()},
            )
        from_status = locked.status
        locked.status = to_status
        locked.status_reason = reason.strip()
        locked.version += 1
        _save_version(
            locked,
            kind=kind,
            from_status=from_status,
            actor=actor,
            reason=reason.strip(),
            changed=["status"],
            now=now,
        )
    return locked


def licence_revoke(
    *, licence: ElectronicLicence, actor: Actor, reason: str, now: dt.datetime | None = None
) -> ElectronicLicence:
    """Revoke at once: the online check answers "revoked" from the moment this commits."""
    return _change_status(
        licence=licence,
        kind=LicenceEvent.Kind.REVOKE,
        to_status=LicenceStatus.REVOKED,
        allowed_from={LicenceStatus.VALID, LicenceStatus.SUSPENDED, LicenceStatus.EXPIRED},
        actor=actor,
        reason=reason,
        now=now,
    )


def licence_suspend(
    *, licence: ElectronicLicence, actor: Actor, reason: str, now: dt.datetime | None = None
) -> ElectronicLicence:
    return _change_status(
        licence=licence,
        kind=LicenceEvent.Kind.SUSPEND,
        to_status=LicenceStatus.SUSPENDED,
        allowed_from={LicenceStatus.VALID},
        actor=actor,
        reason=reason,
        now=now,
    )


def licence_reinstate(
    *, licence: ElectronicLicence, actor: Actor, reason: str, now: dt.datetime | None = None
) -> ElectronicLicence:
    to_status = LicenceStatus.VALID if licence.valid_until >= today_in_china(now) else LicenceStatus.EXPIRED
    return _change_status(
        licence=licence,
        kind=LicenceEvent.Kind.REINSTATE,
        to_status=to_status,
        allowed_from={LicenceStatus.SUSPENDED},
        actor=actor,
        reason=reason,
        now=now,
    )


def licence_expire_due(*, now: dt.datetime | None = None) -> int:
    """Mark valid licences whose last day has passed as expired (run daily; the online check
    already answers "expired" from the dates, so a late run is never unsafe)."""
    now = _now(now)
    today = today_in_china(now)
    count = 0
    for licence_id in ElectronicLicence.objects.filter(
        status=LicenceStatus.VALID, valid_until__lt=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            licence = ElectronicLicence.objects.select_for_update().get(pk=licence_id)
            if licence.status != LicenceStatus.VALID or licence.valid_until >= today:
                continue
            licence.status = LicenceStatus.EXPIRED
            licence.version += 1
            _save_version(
                licence,
                kind=LicenceEvent.Kind.EXPIRE,
                from_status=LicenceStatus.VALID,
                actor=Actor.system("licence_expire_due"),
                reason="",
                changed=["status"],
                now=now,
            )
            count += 1
    return count


def licence_record_activation(
    *, licence: ElectronicLicence, user: Any, now: dt.datetime | None = None
) -> None:
    """The holder viewed or downloaded the licence: the first time counts as activation."""
    if licence.activated_at is not None or not user_holds_licence(user=user, licence=licence):
        return
    now = _now(now)
    ElectronicLicence.objects.filter(pk=licence.pk, activated_at__isnull=True).update(activated_at=now)
    licence.activated_at = now


def licence_record_staff_view(*, licence: ElectronicLicence, staff_user: User, what: str) -> None:
    """Staff seeing a licence in full (holder name, ID number) is audited."""
    record_audit(
        actor=Actor.for_user(staff_user),
        action=f"elicense.licence.staff_{what}",
        target_type="electronic_licence",
        target_id=licence.lid,
    )


def user_holds_licence(*, user: Any, licence: ElectronicLicence) -> bool:
    """Holder-only rule, in one place: the holder user, a member of the holder company, or a
    verified person whose ID number is the licence's."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if licence.holder_user_id is not None and licence.holder_user_id == user.pk:
        return True
    if licence.holder_company_id is not None:
        return bool(user.company_memberships.filter(company_id=licence.holder_company_id).exists())
    return bool(
        licence.holder_id_hash
        and getattr(user, "is_real_name_verified", False)
        and user.id_number_hash == licence.holder_id_hash
    )


# --------------------------------------------------------------------------------------------
# Signing QR payloads
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedPayload:
    text: str  # "YZ1:..."
    claims: Claims
    kid: str

    def qr_text(self, base_url: str) -> str:
        return qr_payload.verification_link(base_url, self.text)


def licence_essentials(licence: ElectronicLicence) -> dict[str, EssentialValue]:
    """What a verifier sees without consent: holder masked (persons), plate, sections, ..."""
    essentials: dict[str, EssentialValue] = {"n": licence.holder_display}
    for data_key, short in qr_payload.DATA_KEY_TO_ESSENTIAL.items():
        value = licence.data.get(data_key)
        if isinstance(value, str) and value:
            essentials[short] = value
        elif isinstance(value, list) and value:
            essentials[short] = [str(item) for item in value]
    return essentials


def active_signing_key(province: str) -> SigningKey:
    key = SigningKey.objects.filter(
        province=province, purpose=SigningKey.Purpose.LICENCE, status="active"
    ).first()
    if key is None:
        raise Conflict(
            Code.NO_SIGNING_KEY,
            _("Province %(province)s has no signing key; create one with manage.py elicense_keys create.")
            % {"province": province},
        )
    return key


def licence_sign(*, licence: ElectronicLicence, now: dt.datetime | None = None) -> SignedPayload:
    """Sign the licence's current version with its issuing province's active key, for a QR code.

    Works for any licence type (the One-Network Office signs credit vouchers through this after
    `licence_sync`). Only usable licences get a fresh QR: revoked, suspended or expired ones not.
    """
    now = _now(now)
    if licence.status != LicenceStatus.VALID or licence.valid_until < today_in_china(now):
        raise Conflict(
            Code.LICENCE_NOT_USABLE,
            _("This licence is %(status)s, so no QR code is issued for it.")
            % {"status": licence.get_status_display()},
        )
    key = active_signing_key(licence.issuer_province)
    if not key.valid_from <= now < key.valid_until:
        raise Conflict(
            Code.NO_SIGNING_KEY,
            _("The signing key of province %(province)s has expired; rotate it.")
            % {"province": key.province},
        )
    claims = Claims(
        v=qr_payload.FORMAT_VERSION,
        kid=key.kid,
        lid=licence.lid,
        typ=qr_payload.TYPE_CODES[licence.licence_type],
        ver=licence.version,
        iss=licence.issuer_region,
        nbf=qr_payload.date_to_int(licence.valid_from),
        exp=qr_payload.date_to_int(licence.valid_until),
        iat=qr_payload.date_to_int(today_in_china(now)),
        ess=licence_essentials(licence),
    )
    body = qr_payload.encode_claims(claims)
    text = qr_payload.assemble(body, sm2_sign(key.private_key, body, public_key_hex=key.public_key_hex))
    return SignedPayload(text=text, claims=claims, kid=key.kid)


# --------------------------------------------------------------------------------------------
# Online verification (rate-limited, logged)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerificationOutcome:
    result: str
    reason_code: str
    claims: Claims | None
    licence: ElectronicLicence | None

    @property
    def is_valid(self) -> bool:
        return self.result == verifier.VALID


def client_ip_hash(ip: str | None) -> str:
    return lookup_hash(f"ip:{ip or 'unknown'}")


def _rate_limited(*, ip_hash: str, channel: str, now: dt.datetime) -> RateLimited | None:
    """The error to raise (after the transaction commits the logged refusal), or None."""
    limit = _setting("ELICENSE_VERIFY_RATE_LIMIT", 60)
    window = dt.timedelta(seconds=_setting("ELICENSE_VERIFY_RATE_WINDOW_SECONDS", 60))
    if connection.vendor == "postgresql":
        # Serialise one client's attempts so two parallel requests cannot both take the last slot.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [0x454C4943 - 2**31, int(ip_hash[:8], 16) - 2**31]
            )
    recent = list(
        VerificationAttempt.objects.filter(ip_hash=ip_hash, counted=True, at__gt=now - window)
        .order_by("-at")
        .values_list("at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return None
    retry_after = max(1, math.ceil((recent[-1] + window - now).total_seconds()))
    VerificationAttempt.objects.create(
        at=now,
        ip_hash=ip_hash,
        channel=channel,
        result="rate_limited",
        reason_code=Code.VERIFY_RATE_LIMITED,
        counted=False,
    )
    return RateLimited(
        Code.VERIFY_RATE_LIMITED,
        _("Too many verification attempts. Try again in %(seconds)s seconds.") % {"seconds": retry_after},
        retry_after_seconds=retry_after,
    )


def _lookup_key(kid: str) -> verifier.TrustedKey | None:
    key = SigningKey.objects.filter(kid=kid).first()
    return trusted_key(key) if key is not None else None


def _live_verdict(
    genuine: verifier.Verdict, *, now: dt.datetime
) -> tuple[str, str, ElectronicLicence | None]:
    claims = genuine.claims
    if claims is None:
        return verifier.NOT_GENUINE, genuine.reason_code, None
    licence = ElectronicLicence.objects.filter(lid=claims.lid).first()
    if (
        licence is None
        or licence.licence_type != claims.licence_type
        or licence.issuer_region != claims.iss
        or claims.ver > licence.version
    ):
        # Signed by a trusted key yet unknown to the registry: never "valid".
        return verifier.NOT_GENUINE, "licence.unknown", None
    today = today_in_china(now)
    if licence.status == LicenceStatus.REVOKED:
        return verifier.REVOKED, "licence.revoked", licence
    if licence.status == LicenceStatus.SUSPENDED:
        return verifier.SUSPENDED, "licence.suspended", licence
    if licence.status == LicenceStatus.EXPIRED or licence.valid_until < today:
        return verifier.EXPIRED, "licence.expired", licence
    dated = verifier.validity_verdict(genuine, today=today)
    if not dated.is_valid:
        return dated.result, dated.reason_code, licence
    if licence.valid_from > today:
        return verifier.NOT_YET_VALID, "licence.not_yet_valid", licence
    if claims.ver < licence.version:
        return verifier.SUPERSEDED, "licence.superseded", licence
    return verifier.VALID, "licence.valid", licence


def verification_verify(
    *,
    text: str,
    client_ip: str | None,
    channel: str = VerificationAttempt.Channel.API,
    now: dt.datetime | None = None,
) -> VerificationOutcome:
    """Verify a scanned text: signature, key id and key validity first (the same code as the
    offline verifier), then the live status from the database (never cached). Every attempt is
    logged; more than ELICENSE_VERIFY_RATE_LIMIT per window from one client IP are refused."""
    now = _now(now)
    ip_hash = client_ip_hash(client_ip)
    with transaction.atomic():
        refusal = _rate_limited(ip_hash=ip_hash, channel=channel, now=now)
        outcome = (
            None if refusal is not None else _verify_and_log(text, ip_hash=ip_hash, channel=channel, now=now)
        )
    if refusal is not None or outcome is None:
        raise refusal or RuntimeError("unreachable")
    return outcome


def _verify_and_log(text: str, *, ip_hash: str, channel: str, now: dt.datetime) -> VerificationOutcome:
    genuine = verifier.verify_signature(text, key_lookup=_lookup_key, now=now)
    licence: ElectronicLicence | None = None
    if genuine.is_valid:
        result, reason_code, licence = _live_verdict(genuine, now=now)
    else:
        result, reason_code = genuine.result, genuine.reason_code
    claims = genuine.claims if result != verifier.NOT_GENUINE else None
    VerificationAttempt.objects.create(
        at=now,
        ip_hash=ip_hash,
        channel=channel,
        result=result,
        reason_code=reason_code,
        lid=(licence.lid if licence else "")[:32],
        kid=(genuine.claims.kid if genuine.claims else "")[:80],
    )
    return VerificationOutcome(result=result, reason_code=reason_code, claims=claims, licence=licence)


# --------------------------------------------------------------------------------------------
# Share codes (holder consent)
# --------------------------------------------------------------------------------------------


def _normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


def format_share_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


@dataclass(frozen=True)
class IssuedShareCode:
    share: ShareCode
    code: str  # shown once to the holder, never stored

    @property
    def display(self) -> str:
        return format_share_code(self.code)


def share_code_create(
    *, licence: ElectronicLicence, user: User, recipient_name: str, now: dt.datetime | None = None
) -> IssuedShareCode:
    """The holder lets a named third party see this licence in full, once, within minutes."""
    if not user_holds_licence(user=user, licence=licence):
        raise NotFound(Code.LICENCE_NOT_FOUND, _("No such licence."))
    recipient_name = (recipient_name or "").strip()
    if not recipient_name or len(recipient_name) > 100:
        raise ValidationFailed.single(
            field="recipient_name",
            code=Code.SHARE_RECIPIENT_REQUIRED,
            message=_("Name the person or organisation you share with (at most 100 characters)."),
        )
    if licence.status in (LicenceStatus.REVOKED,):
        raise Conflict(Code.LICENCE_NOT_USABLE, _("A revoked licence cannot be shared."))
    now = _now(now)
    code = "".join(secrets.choice(SHARE_CODE_ALPHABET) for _i in range(SHARE_CODE_LENGTH))
    with transaction.atomic():
        share = ShareCode.objects.create(
            licence=licence,
            code_hash=lookup_hash(f"share:{code}"),
            recipient_name=recipient_name,
            created_by=user,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=_setting("ELICENSE_SHARE_CODE_TTL_MINUTES", 10)),
        )
        record_audit(
            actor=Actor.for_user(user),
            action="elicense.share_code.create",
            target_type="electronic_licence",
            target_id=licence.lid,
            after={
                "share_code": share.pk,
                "recipient": mask_name(recipient_name),
                "expires_at": share.expires_at,
            },
        )
    return IssuedShareCode(share=share, code=code)


def _redeem_and_log(
    normalised: str, ip_hash: str, channel: str, now: dt.datetime
) -> tuple[ShareCode | None, bool]:
    share = (
        ShareCode.objects.select_related("licence")
        .filter(code_hash=lookup_hash(f"share:{normalised}"))
        .first()
        if re.fullmatch(f"[{SHARE_CODE_ALPHABET}]{{{SHARE_CODE_LENGTH}}}", normalised)
        else None
    )
    # The conditional UPDATE is the single-use guarantee: of two simultaneous redemptions,
    # exactly one changes the row.
    used = (
        share is not None
        and ShareCode.objects.filter(pk=share.pk, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now, used_by_ip_hash=ip_hash
        )
        == 1
    )
    VerificationAttempt.objects.create(
        at=now,
        ip_hash=ip_hash,
        channel=channel,
        result="shared" if used else "refused",
        reason_code="share_code.used" if used else Code.SHARE_CODE_INVALID,
        lid=share.licence.lid if share is not None else "",
    )
    if share is not None:
        record_audit(
            actor=Actor(kind="anonymous", label=f"ip#{ip_hash[:12]}"),
            action="elicense.share_code.use" if used else "elicense.share_code.refused",
            target_type="electronic_licence",
            target_id=share.licence.lid,
            after={"share_code": share.pk, "recipient": mask_name(share.recipient_name)},
        )
    return share, used


def share_code_redeem(
    *,
    code: str,
    client_ip: str | None,
    channel: str = VerificationAttempt.Channel.SHARE,
    now: dt.datetime | None = None,
) -> ShareCode:
    """Show the licence in full to the holder's named recipient: works once, before expiry, then
    never again. Unknown, used and expired codes get the same answer (no probing)."""
    now = _now(now)
    ip_hash = client_ip_hash(client_ip)
    normalised = _normalise_code(code)
    with transaction.atomic():
        refusal = _rate_limited(ip_hash=ip_hash, channel=channel, now=now)
        share, used = (
            (None, False) if refusal is not None else _redeem_and_log(normalised, ip_hash, channel, now)
        )
    if refusal is not None:
        raise refusal
    if share is None or not used:
        raise NotFound(
            Code.SHARE_CODE_INVALID, _("This share code is not valid: it is wrong, expired or already used.")
        )
    share.used_at = now
    share.used_by_ip_hash = ip_hash
    return share


def require_staff_covering(*, staff_user: Any, region_code: str) -> None:
    from yunzheng.accounts.scopes import staff_scope

    scope = staff_scope(staff_user)
    if not scope.covers(region_code):
        raise PermissionDenied("staff.out_of_scope", _("This is outside your region."))
