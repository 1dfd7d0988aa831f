"""Make the database itself refuse to rewrite audit entries.

PostgreSQL: UPDATE and DELETE raise. (TRUNCATE stays possible for the owner; the hash chain
still exposes it through the verifier's id and link checks.) SQLite: UPDATE raises; DELETE stays
allowed because Django's test flush deletes rows, and the chain verifier exposes removals anyway.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION core_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_entry_no_update BEFORE UPDATE OR DELETE ON core_auditentry
    FOR EACH ROW EXECUTE FUNCTION core_auditentry_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_entry_no_update ON core_auditentry;
DROP FUNCTION IF EXISTS core_auditentry_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON core_auditentry
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only (UPDATE refused)');
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS audit_entry_no_update;"


def forward(apps, schema_editor):
    sql = {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    sql = {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_audit_log_and_statutory_calendar")]
    operations = [migrations.RunPython(forward, backward)]
