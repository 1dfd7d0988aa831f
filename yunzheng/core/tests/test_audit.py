"""The audit log is append-only and its hash chain exposes tampering with any past row."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from yunzheng.core.audit import GENESIS_HASH, Actor, record_audit, verify_chain
from yunzheng.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _three_entries() -> list[AuditEntry]:
    actor = Actor(kind="staff", id="7", label="clerk#7")
    return [
        record_audit(
            actor=actor, action="case.accept", target_type="case", target_id=1, after={"state": "accepted"}
        ),
        record_audit(
            actor=actor,
            action="case.reject",
            target_type="case",
            target_id=2,
            before={"state": "accepted"},
            after={"state": "rejected"},
            reason="材料不全",
        ),
        record_audit(actor=Actor.system(), action="calendar.update", target_type="calendar", target_id=2027),
    ]


def _raw_update(sql: str, params: list[str | int]) -> None:
    """Tamper the way a database administrator could: with the append-only trigger out of the way."""
    table = AuditEntry._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
        cursor.execute(sql.format(table=table), params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def test_entries_link_into_a_chain() -> None:
    first, second, third = _three_entries()
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.entry_hash
    assert third.prev_hash == second.entry_hash
    assert [e.id for e in (first, second, third)] == [1, 2, 3]
    assert list(verify_chain()) == []
    stored = AuditEntry.objects.get(pk=2)
    assert stored.reason == "材料不全"
    assert stored.before == {"state": "accepted"}


def test_orm_refuses_to_change_or_delete_entries() -> None:
    entry = _three_entries()[0]
    entry.action = "something.else"
    with pytest.raises(TypeError, match="append-only"):
        entry.save()
    with pytest.raises(TypeError, match="append-only"):
        entry.delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEntry.objects.filter(pk=entry.pk).update(action="x")
    with pytest.raises(TypeError, match="append-only"):
        AuditEntry.objects.all().delete()


def test_database_refuses_update_even_through_raw_sql() -> None:
    _three_entries()
    sql = "UPDATE core_auditentry SET reason = 'x' WHERE id = 1"
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


def test_verify_detects_an_altered_row(capsys: pytest.CaptureFixture[str]) -> None:
    _three_entries()
    _raw_update("UPDATE {table} SET reason = %s WHERE id = 2", ["材料齐全"])
    problems = list(verify_chain())
    assert [(p.entry_id, "altered" in p.problem) for p in problems] == [(2, True)]
    with pytest.raises(CommandError, match="audit chain broken"):
        call_command("verify_audit")


def test_verify_detects_a_rehashed_row_through_the_next_link() -> None:
    # A careful attacker recomputes the altered row's own hash; the next row still points at the old one.
    entries = _three_entries()
    _raw_update("UPDATE {table} SET entry_hash = %s WHERE id = 2", ["f" * 64])
    problems = {p.entry_id for p in verify_chain()}
    assert problems == {2, 3}
    assert entries[2].prev_hash != "f" * 64


def test_verify_detects_a_removed_row() -> None:
    _three_entries()
    _raw_update("DELETE FROM {table} WHERE id = %s", [2])
    problems = list(verify_chain())
    assert problems
    assert problems[0].entry_id == 3


def test_verify_command_reports_an_intact_chain(capsys: pytest.CaptureFixture[str]) -> None:
    _three_entries()
    call_command("verify_audit")
    assert "3 entries verified" in capsys.readouterr().out


def test_actor_for_user_uses_the_audit_label_not_personal_data(django_user_model) -> None:
    user = django_user_model.objects.create_user(username="driver-1", password="x", phone="13812345678")
    actor = Actor.for_user(user)
    assert actor.kind == "user"
    assert "13812345678" not in actor.label


def test_actor_kind_can_be_declared_by_the_user_model(django_user_model) -> None:
    clerk = django_user_model.objects.create_user(username="hz-transport", password="x", kind="staff")
    driver = django_user_model.objects.create_user(username="driver-2", password="x")
    assert not clerk.is_staff
    assert Actor.for_user(clerk).kind == "staff"
    assert Actor.for_user(driver).kind == "user"
