"""Anchoring the audit chain outside the database.

The hash chain (`core.audit`) proves order and integrity only against someone who cannot recompute
it; a database administrator can rewrite a row and recompute every following hash with SM3, or
delete the newest rows. A checkpoint is an SM2 signature, by a key used for nothing else, over
"entry N has hash H". Checkpoints are written at a regular interval (`manage.py audit_checkpoint`
from cron or a systemd timer) and appended as JSON lines to storage the database host cannot
rewrite (see README). `verify_checkpoints` then detects:

- rewritten history: the entry a checkpoint names no longer has the signed hash (any rewrite before
  it changes that hash, since every hash covers the previous one);
- a truncated tail: the checkpoint names an entry that no longer exists;
- forged or edited checkpoints: the signature does not verify with the public key.

Entries written after the last checkpoint are covered only from the next one on: the interval is
the window of exposure.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from yunzheng.core.conf import app_settings
from yunzheng.core.crypto import CryptoError, sm2_public_key_from_private, sm2_sign, sm2_verify, sm3_hex
from yunzheng.core.models import AuditCheckpoint, AuditEntry

EXPORT_FILE_NAME = "audit-checkpoints.jsonl"


@dataclass(frozen=True)
class CheckpointRecord:
    created_at: str
    entry_id: int
    entry_hash: str
    key_id: str
    signature: str

    def as_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True, separators=(",", ":"))


def _signed_bytes(*, created_at: str, entry_id: int, entry_hash: str) -> bytes:
    payload = {
        "created_at": created_at,
        "entry_hash": entry_hash,
        "entry_id": entry_id,
        "kind": "yz-audit-head",
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def public_key() -> str:
    configured = str(app_settings.AUDIT_CHECKPOINT_PUBLIC_KEY or "")
    if configured:
        return configured.lower()
    private = str(app_settings.AUDIT_CHECKPOINT_PRIVATE_KEY or "")
    if not private:
        raise ImproperlyConfigured(
            "Set AUDIT_CHECKPOINT_PUBLIC_KEY (or the private key) to verify checkpoints."
        )
    return sm2_public_key_from_private(private)


def key_id(public_key_hex: str) -> str:
    return sm3_hex(bytes.fromhex(public_key_hex))[:16]


def export_path(target: str | Path | None = None) -> Path | None:
    """The JSON-lines file: `target` (a file, or a directory holding audit-checkpoints.jsonl), else
    settings.AUDIT_CHECKPOINT_EXPORT, else None (no export)."""
    raw = target if target else app_settings.AUDIT_CHECKPOINT_EXPORT
    if not raw:
        return None
    path = Path(raw)
    return path / EXPORT_FILE_NAME if path.is_dir() or str(raw).endswith("/") else path


def audit_checkpoint_create(*, export_to: str | Path | None = None) -> CheckpointRecord | None:
    """Sign the current chain head, keep it, and append it to the export file. None if the chain
    is empty or the head is already checkpointed."""
    private = str(app_settings.AUDIT_CHECKPOINT_PRIVATE_KEY or "")
    if not private:
        raise ImproperlyConfigured("AUDIT_CHECKPOINT_PRIVATE_KEY is not set.")
    public = sm2_public_key_from_private(private)
    with transaction.atomic():
        head = AuditEntry.objects.order_by("-id").values_list("id", "entry_hash").first()
        if head is None:
            return None
        last = AuditCheckpoint.objects.order_by("-id").first()
        if last is not None and last.entry_id == head[0] and last.entry_hash == head[1]:
            return None
        moment = timezone.now().astimezone(dt.UTC)
        created_at = moment.isoformat(timespec="microseconds")
        signature = sm2_sign(
            private,
            _signed_bytes(created_at=created_at, entry_id=head[0], entry_hash=head[1]),
            public_key_hex=public,
        ).hex()
        record = CheckpointRecord(
            created_at=created_at,
            entry_id=head[0],
            entry_hash=head[1],
            key_id=key_id(public),
            signature=signature,
        )
        AuditCheckpoint.objects.create(
            created_at=moment,
            entry_id=record.entry_id,
            entry_hash=record.entry_hash,
            key_id=record.key_id,
            signature=record.signature,
        )
    path = export_path(export_to)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(record.as_json() + "\n")
            handle.flush()
    return record


def load_export(path: Path) -> list[CheckpointRecord]:
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data: dict[str, Any] = json.loads(line)
            records.append(CheckpointRecord(**{k: data[k] for k in CheckpointRecord.__dataclass_fields__}))
    return records


def _database_records() -> list[CheckpointRecord]:
    """Checkpoints kept in the database. Weaker than the export: the same administrator can delete
    them (though not forge one without the private key, which the database never holds)."""
    return [
        CheckpointRecord(
            created_at=c.created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            entry_id=c.entry_id,
            entry_hash=c.entry_hash,
            key_id=c.key_id,
            signature=c.signature,
        )
        for c in AuditCheckpoint.objects.order_by("id")
    ]


def verify_checkpoints(records: list[CheckpointRecord] | None = None) -> list[str]:
    """Problems found checking the chain against signed checkpoints (empty: all hold): the given
    (exported) records, else the database's own copies."""
    problems: list[str] = []
    checkpoints = records if records is not None else _database_records()
    public = public_key() if checkpoints else ""
    head = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for number, checkpoint in enumerate(checkpoints, start=1):
        data = _signed_bytes(
            created_at=checkpoint.created_at,
            entry_id=checkpoint.entry_id,
            entry_hash=checkpoint.entry_hash,
        )
        try:
            genuine = sm2_verify(public, data, bytes.fromhex(checkpoint.signature))
        except (ValueError, CryptoError):
            genuine = False
        if not genuine:
            problems.append(f"checkpoint {number}: the signature does not verify (forged or edited)")
            continue
        if checkpoint.entry_id > head:
            problems.append(
                f"checkpoint {number}: entry {checkpoint.entry_id} was signed but the log ends at {head} "
                f"(entries {head + 1}..{checkpoint.entry_id} were deleted)"
            )
            continue
        stored = (
            AuditEntry.objects.filter(pk=checkpoint.entry_id).values_list("entry_hash", flat=True).first()
        )
        if stored is None:
            problems.append(f"checkpoint {number}: entry {checkpoint.entry_id} is missing")
        elif stored != checkpoint.entry_hash:
            problems.append(
                f"checkpoint {number}: entry {checkpoint.entry_id} no longer has the signed hash "
                "(history up to it was rewritten)"
            )
    return problems
