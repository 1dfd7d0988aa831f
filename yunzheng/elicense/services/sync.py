"""Licences synchronised from the registries (`licence_sync`, called inside the registry's own
transaction; see docs/adr/0011-elicense-registry-sync.md).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company, User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.crypto import (
    lookup_hash,
    sm3_hex,
)
from yunzheng.core.errors import (
    Conflict,
    ErrorDetail,
    ValidationFailed,
)
from yunzheng.core.ids import region_code_exists
from yunzheng.elicense import qr_payload
from yunzheng.elicense.error_codes import ElicenseErrorCode as Code
from yunzheng.elicense.models import (
    ElectronicLicence,
    LicenceEvent,
    LicenceNumberSequence,
    LicenceStatus,
    LicenceType,
    MinistryIndexEntry,
)
from yunzheng.elicense.services._common import _REGION, MAX_ESSENTIAL_ITEMS, MAX_ESSENTIAL_TEXT

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
# The enums' `.values` build a new list on every access; bulk issues check each licence.
_LICENCE_TYPES = frozenset(LicenceType.values)
_LICENCE_STATUSES = frozenset(LicenceStatus.values)
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
    if licence_type not in _LICENCE_TYPES:
        problems.append(_invalid("licence_type", _("Unknown licence type.")))
    if not holder_name or not holder_name.strip():
        problems.append(_invalid("holder_name", _("The holder's name is required.")))
    if not _REGION.fullmatch(issuer_region or "") or not region_code_exists(issuer_region):
        problems.append(_invalid("issuer_region", _("The issuing region must be a GB/T 2260 code.")))
    if valid_from > valid_until:
        problems.append(_invalid("valid_until", _("A licence cannot end before it starts.")))
    if event not in SYNC_EVENTS:
        problems.append(_invalid("event", _("Unknown licence event.")))
    if status is not None and status not in _LICENCE_STATUSES:
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


# json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str),
# with the encoder built once (bulk issues hash every licence).
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def licence_content_hash(licence: ElectronicLicence) -> str:
    """Keyed hash (HMAC-SM3 with FIELD_HASH_KEY) of the licence's canonical content: a database
    user without the key cannot change a row and recompute it (the authenticity check)."""
    return content_hash_of({name: getattr(licence, name) for name in _HASHED_FIELDS})


def content_hash_of(values: Mapping[str, Any]) -> str:
    """licence_content_hash of a licence given as its field values (bulk writes build rows)."""
    content = {name: values[name] for name in _HASHED_FIELDS}
    canonical = _CANONICAL_JSON.encode(content)
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
    now = now_or(now)
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
