"""Electronic licences for many new registry records at once (bulk imports from the provinces).

`licences_issue_bulk` is `services.licence_sync(event="issue")` for records that have no licence
yet, written with a handful of bulk statements instead of ~8 queries per record: the licence
numbers come from one locked bump of each number sequence, and the licences, their first history
events and their ministry-index entries are inserted in bulk. One audit entry covers the batch
(the per-licence history is the LicenceEvent rows). Call it inside the registry's transaction, as
for licence_sync (docs/adr/0011).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F

from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.bulk_insert import insert_rows
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import lookup_hash
from yunzheng.elicense import qr_payload
from yunzheng.elicense.models import (
    ElectronicLicence,
    LicenceEvent,
    LicenceNumberSequence,
    MinistryIndexEntry,
)
from yunzheng.elicense.services.sync import (
    _status_after,
    _validate_sync,
    content_hash_of,
    licence_content_hash,
)


@dataclass(frozen=True)
class NewLicence:
    source_type: str
    source_id: str
    licence_type: str
    holder_name: str
    issuer_region: str
    valid_from: dt.date
    valid_until: dt.date
    data: Mapping[str, Any]
    holder_user_id: int | None = None
    holder_id_number: str | None = None
    holder_id_hash: str = ""  # pass it when the caller has computed it already
    status: str | None = None  # e.g. "revoked" for a record imported as revoked
    # `encrypt_field` tokens of holder_name.strip() and holder_id_number.strip(), when the caller
    # has encrypted them for its own record already: the licence stores the same tokens.
    sealed_holder_name: str = ""
    sealed_holder_id_number: str = ""


def _allocate_numbers(prefixes: Counter[str]) -> dict[str, int]:
    """First number of a reserved block per prefix (one locked bump per sequence)."""
    first: dict[str, int] = {}
    for prefix, count in sorted(prefixes.items()):
        sequence, _created = LicenceNumberSequence.objects.select_for_update().get_or_create(prefix=prefix)
        LicenceNumberSequence.objects.filter(pk=sequence.pk).update(last_value=F("last_value") + count)
        sequence.refresh_from_db(fields=["last_value"])
        first[prefix] = sequence.last_value - count + 1
    return first


def licences_issue_bulk(
    *, items: Sequence[NewLicence], actor: Actor, reason: str, now: dt.datetime
) -> list[str]:
    """Issue a licence for each new record (none may have one yet: the unique (source_type,
    source_id) constraint refuses a second). Returns the licence numbers in the order given."""
    if not items:
        return []
    today = today_in_china(now)
    for item in items:
        _validate_sync(
            source_type=item.source_type,
            source_id=item.source_id,
            licence_type=item.licence_type,
            holder_name=item.holder_name,
            issuer_region=item.issuer_region,
            valid_from=item.valid_from,
            valid_until=item.valid_until,
            data=item.data,
            event="issue",
            status=item.status,
        )
    prefix_of = [
        f"{item.issuer_region[:2]}-{qr_payload.TYPE_CODES[item.licence_type]}-{today.year}" for item in items
    ]
    with transaction.atomic():
        next_number = _allocate_numbers(Counter(prefix_of))
        # Plain rows, not model instances: the same values, a fraction of the cost per row.
        licences: list[dict[str, Any]] = []
        for item, prefix in zip(items, prefix_of, strict=True):
            number = next_number[prefix]
            next_number[prefix] = number + 1
            id_number = (item.holder_id_number or "").strip() or None
            row: dict[str, Any] = {
                "lid": f"{prefix}-{number:06d}",
                "licence_type": item.licence_type,
                "holder_kind": ElectronicLicence.HolderKind.PERSON.value,
                "holder_user_id": item.holder_user_id,
                "holder_company_id": None,
                "holder_name": item.holder_name.strip(),
                "holder_id_number": id_number,
                "holder_id_hash": item.holder_id_hash or (lookup_hash(id_number) if id_number else ""),
                "issuer_region": item.issuer_region,
                "issuer_province": qr_payload.province_of(item.issuer_region),
                "valid_from": item.valid_from,
                "valid_until": item.valid_until,
                "status": item.status
                or _status_after("issue", current=None, valid_until=item.valid_until, today=today),
                "version": 1,
                "source_type": item.source_type,
                "source_id": str(item.source_id),
                "source_updated_at": now,
                "synced_at": now,
                "data": dict(item.data),  # plain JSON already (checked by _validate_sync)
                "status_reason": reason,
                "issued_at": now,
                "updated_at": now,
            }
            row["content_hash"] = content_hash_of(row)  # over the plaintext name
            if item.sealed_holder_name:
                row["holder_name"] = item.sealed_holder_name
            if item.sealed_holder_id_number and id_number:
                row["holder_id_number"] = item.sealed_holder_id_number
            licences.append(row)
        ids = insert_rows(ElectronicLicence, licences)
        for licence, pk in zip(licences, ids, strict=True):
            licence["id"] = pk
        insert_rows(
            LicenceEvent,
            [
                {
                    "licence_id": licence["id"],
                    "version": 1,
                    "kind": "issue",
                    "from_status": "",
                    "to_status": licence["status"],
                    "changed_fields": ["issued"],
                    "actor_kind": actor.kind,
                    "actor_id": actor.id,
                    "actor_label": actor.label,
                    "reason": reason,
                    "at": now,
                }
                for licence in licences
            ],
        )
        insert_rows(
            MinistryIndexEntry,
            [
                {
                    "licence_id": licence["id"],
                    "lid": licence["lid"],
                    "licence_type": licence["licence_type"],
                    "issuer_province": licence["issuer_province"],
                    "issuer_region": licence["issuer_region"],
                    "status": licence["status"],
                    "version": 1,
                    "valid_from": licence["valid_from"],
                    "valid_until": licence["valid_until"],
                    "holder_id_hash": licence["holder_id_hash"],
                    "content_hash": licence["content_hash"],
                    "updated_at": now,
                }
                for licence in licences
            ],
        )
        record_audit(
            actor=actor,
            action="elicense.licence.issue_bulk",
            target_type="electronic_licence",
            target_id=f"{licences[0]['lid']}..{licences[-1]['lid']}",
            after={
                "count": len(licences),
                "by_type": dict(Counter(licence["licence_type"] for licence in licences)),
                "first": licences[0]["lid"],
                "last": licences[-1]["lid"],
            },
            reason=reason,
        )
    return [licence["lid"] for licence in licences]


@dataclass(frozen=True)
class LicenceChange:
    """A registry event for a record whose licence exists: its new validity and data."""

    source_type: str
    source_id: str
    valid_until: dt.date
    data: Mapping[str, Any]


def licences_update_bulk(
    *, changes: Sequence[LicenceChange], event: str, actor: Actor, reason: str, now: dt.datetime
) -> list[str]:
    """`services.licence_sync(event=...)` for many records whose licences exist (e.g. annual
    inspections): one locked read, one UPDATE of the licences, their history events in bulk and
    one UPDATE of the ministry index, one audit entry for the batch (the per-licence history is the
    LicenceEvent rows). Call it inside the registry's transaction. Returns the source ids that had
    no licence yet (the caller syncs those one by one)."""
    if not changes:
        return []
    today = today_in_china(now)
    by_source = {change.source_id: change for change in changes}
    source_types = {change.source_type for change in changes}
    with transaction.atomic():
        licences = list(
            ElectronicLicence.objects.select_for_update()
            .filter(source_type__in=source_types, source_id__in=list(by_source))
            .order_by("pk")
        )
        events: list[dict[str, Any]] = []
        for licence in licences:
            change = by_source[licence.source_id]
            from_status = licence.status
            changed = [
                name for name in ("valid_until", "data") if getattr(licence, name) != getattr(change, name)
            ]
            licence.valid_until = change.valid_until
            licence.data = json.loads(json.dumps(dict(change.data)))
            licence.status = _status_after(
                event, current=from_status, valid_until=change.valid_until, today=today
            )
            if licence.status != from_status:
                changed.append("status")
                licence.status_reason = reason
            licence.version += 1
            licence.source_updated_at = licence.synced_at = licence.updated_at = now
            licence.content_hash = licence_content_hash(licence)
            events.append(
                {
                    "licence_id": licence.pk,
                    "version": licence.version,
                    "kind": event,
                    "from_status": from_status,
                    "to_status": licence.status,
                    "changed_fields": changed,
                    "actor_kind": actor.kind,
                    "actor_id": actor.id,
                    "actor_label": actor.label,
                    "reason": reason,
                    "at": now,
                }
            )
        if licences:
            ElectronicLicence.objects.bulk_update(
                licences,
                ["valid_until", "data", "status", "status_reason", "version", "source_updated_at",
                 "synced_at", "updated_at", "content_hash"],
            )  # fmt: skip
            insert_rows(LicenceEvent, events)
            entries = {e.licence_id: e for e in MinistryIndexEntry.objects.filter(licence__in=licences)}
            for licence in licences:
                entry = entries[licence.pk]
                entry.status, entry.version, entry.valid_until = (
                    licence.status,
                    licence.version,
                    licence.valid_until,
                )
                entry.content_hash, entry.updated_at = licence.content_hash, now
            MinistryIndexEntry.objects.bulk_update(
                list(entries.values()), ["status", "version", "valid_until", "content_hash", "updated_at"]
            )
            record_audit(
                actor=actor,
                action=f"elicense.licence.{event}_bulk",
                target_type="electronic_licence",
                target_id=f"{licences[0].lid}..{licences[-1].lid}",
                after={"count": len(licences), "lids": [licence.lid for licence in licences][:50]},
                reason=reason,
            )
    found = {licence.source_id for licence in licences}
    return [source_id for source_id in by_source if source_id not in found]
