"""Audit anchoring: signed checkpoints exported outside the database expose what the hash chain
alone cannot — a history rewritten with recomputed hashes, and deleted newest entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from yunzheng.core.audit import Actor, _entry_hash, record_audit, verify_chain
from yunzheng.core.audit_anchor import audit_checkpoint_create, load_export, verify_checkpoints
from yunzheng.core.models import AuditCheckpoint, AuditEntry
from yunzheng.core.tests.test_audit import _raw_update

pytestmark = pytest.mark.django_db

ACTOR = Actor(kind="staff", id="7", label="clerk#7")


def _entries(count: int) -> None:
    for number in range(count):
        record_audit(
            actor=ACTOR, action="case.accept", target_type="case", target_id=number, after={"n": number}
        )


def _rewrite_with_recomputed_hashes(entry_id: int, reason: str) -> None:
    """The attack the chain alone misses: change a row, then recompute its hash and every later one
    with the project's own hash function."""
    _raw_update("UPDATE {table} SET reason = %s WHERE id = %s", [reason, entry_id])
    previous = AuditEntry.objects.get(pk=entry_id - 1).entry_hash if entry_id > 1 else "0" * 64
    for entry in AuditEntry.objects.filter(pk__gte=entry_id).order_by("id"):
        entry.prev_hash = previous
        new_hash = _entry_hash(entry)
        _raw_update(
            "UPDATE {table} SET prev_hash = %s, entry_hash = %s WHERE id = %s", [previous, new_hash, entry.pk]
        )
        previous = new_hash


def test_checkpoint_is_signed_exported_and_verifies(tmp_path: Path) -> None:
    _entries(3)
    out = tmp_path / "anchor"
    out.mkdir()
    call_command("audit_checkpoint", "--export", str(out))
    lines = (out / "audit-checkpoints.jsonl").read_text().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["entry_id"] == 3
    assert line["entry_hash"] == AuditEntry.objects.get(pk=3).entry_hash
    assert AuditCheckpoint.objects.count() == 1
    assert audit_checkpoint_create(export_to=out) is None  # nothing new since
    assert verify_checkpoints(load_export(out / "audit-checkpoints.jsonl")) == []
    assert verify_checkpoints() == []  # the database copies verify too
    call_command("verify_audit", "--checkpoints", str(out))


def test_rewritten_history_with_recomputed_hashes_is_detected(tmp_path: Path) -> None:
    _entries(3)
    export = tmp_path / "checkpoints.jsonl"
    audit_checkpoint_create(export_to=export)
    _entries(2)
    audit_checkpoint_create(export_to=export)
    _rewrite_with_recomputed_hashes(2, "rewritten")
    assert list(verify_chain()) == []  # the chain alone is fooled
    problems = verify_checkpoints(load_export(export))
    assert len(problems) == 2
    assert all("no longer has the signed hash" in p for p in problems)
    with pytest.raises(CommandError):
        call_command("verify_audit", "--checkpoints", str(export))


def test_deleted_tail_entries_are_detected(tmp_path: Path) -> None:
    _entries(5)
    export = tmp_path / "checkpoints.jsonl"
    audit_checkpoint_create(export_to=export)
    _raw_update("DELETE FROM {table} WHERE id > %s", [3])
    assert list(verify_chain()) == []  # no gap, no broken link: the chain alone is fooled
    problems = verify_checkpoints(load_export(export))
    assert problems == ["checkpoint 1: entry 5 was signed but the log ends at 3 (entries 4..5 were deleted)"]
    assert verify_checkpoints() != []  # the database copy notices as well


def test_an_edited_checkpoint_line_fails_its_signature(tmp_path: Path) -> None:
    _entries(2)
    export = tmp_path / "checkpoints.jsonl"
    audit_checkpoint_create(export_to=export)
    _rewrite_with_recomputed_hashes(1, "rewritten")
    line = json.loads(export.read_text())
    line["entry_hash"] = AuditEntry.objects.get(pk=2).entry_hash  # the attacker "fixes" the anchor
    export.write_text(json.dumps(line) + "\n")
    assert verify_checkpoints(load_export(export)) == [
        "checkpoint 1: the signature does not verify (forged or edited)"
    ]
