"""Writing and checking the hash-chained audit log. Services call `record_audit` for every write
that matters, inside their transaction, as late as possible (it serialises audit writers).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from yunzheng.core.crypto import sm3_hex
from yunzheng.core.locks import advisory_xact_lock
from yunzheng.core.middleware import current_request_id
from yunzheng.core.models import AuditEntry

GENESIS_HASH = "0" * 64
# Any fixed 64-bit number: the key of the PostgreSQL advisory lock that serialises chain appends.
_CHAIN_LOCK_KEY = 0x59554E5A48454E47  # "YUNZHENG"


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str = ""
    label: str = ""

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind=AuditEntry.ActorKind.SYSTEM, label=label)

    @classmethod
    def for_user(cls, user: Any) -> Actor:
        if user is None or not getattr(user, "is_authenticated", False):
            return cls(kind=AuditEntry.ActorKind.ANONYMOUS)
        # A user model may say what kind of actor it is (e.g. government staff who are not Django
        # `is_staff`); otherwise Django's admin flag decides.
        declared = getattr(user, "audit_actor_kind", None)
        kind = declared or (AuditEntry.ActorKind.STAFF if user.is_staff else AuditEntry.ActorKind.USER)
        # Models may define `audit_label` (e.g. a masked phone) so no personal data lands here.
        label = getattr(user, "audit_label", None) or f"user#{user.pk}"
        return cls(kind=kind, id=str(user.pk), label=str(label))


def _json_safe(value: dict[str, Any] | None) -> dict[str, Any] | None:
    # Store exactly what is hashed: Decimals, dates, UUIDs become strings once, here.
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _entry_hash(entry: AuditEntry) -> str:
    payload = {
        "id": entry.pk,
        "created_at": entry.created_at.isoformat(timespec="microseconds"),
        "actor": [entry.actor_kind, entry.actor_id, entry.actor_label],
        "action": entry.action,
        "target": [entry.target_type, entry.target_id],
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
        "request_id": entry.request_id,
        "prev": entry.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return sm3_hex(canonical.encode())


def record_audit(
    *,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str | int = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    with transaction.atomic():
        advisory_xact_lock(_CHAIN_LOCK_KEY)
        last = AuditEntry.objects.order_by("-id").values_list("id", "entry_hash").first()
        entry = AuditEntry(
            id=(last[0] + 1) if last else 1,
            created_at=timezone.now(),
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_label=actor.label,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            before=_json_safe(before),
            after=_json_safe(after),
            reason=reason,
            request_id=current_request_id() if current_request_id() != "-" else "",
            prev_hash=last[1] if last else GENESIS_HASH,
        )
        entry.entry_hash = _entry_hash(entry)
        # The id is chosen under the lock so that chain order equals id order; force_insert keeps
        # save() from trying an UPDATE first.
        AuditEntry.objects.bulk_create([entry])
    return entry


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int
    problem: str


def verify_chain(*, chunk_size: int = 2000) -> Iterator[ChainProblem]:
    """Yield every place where the chain does not hold: a changed row, a removed row, a gap."""
    expected_prev, expected_id = GENESIS_HASH, 1
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=chunk_size):
        if entry.pk != expected_id:
            yield ChainProblem(entry.pk, f"entries {expected_id}..{entry.pk - 1} are missing")
        if entry.prev_hash != expected_prev:
            yield ChainProblem(
                entry.pk, "does not link to the previous entry (an entry was removed or rewritten)"
            )
        if _entry_hash(entry) != entry.entry_hash:
            yield ChainProblem(entry.pk, "content does not match its hash (the entry was altered)")
        expected_prev, expected_id = entry.entry_hash, entry.pk + 1
