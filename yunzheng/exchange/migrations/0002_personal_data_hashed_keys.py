"""Personal data at rest (ADR 0005): license_id columns widened for lookup_hash, existing rows protected.

``PositionRecord`` and ``EventRecord`` are partitioned tables created by hand-written SQL on
PostgreSQL (0001), so the column change is hand-written too: ``ALTER TABLE`` on the partitioned
parent propagates to every partition and keeps ``COLLATE "C"`` (Django's AlterField would reset
the collation). varchar(32) -> varchar(64) is binary-coercible: no table rewrite, no index rebuild.
Elsewhere (SQLite) the schema editor alters the column from the model state.

Rows stored before this migration (development databases that loaded the demo uploads) are
converted in place: ``license_id`` and personal natural-key parts hashed, personal payload values
and outbox envelopes encrypted. A row that becomes a duplicate (its licence number differed only
in the case of the check digit, which ``lookup_hash`` normalises) is deleted. Written for small
pre-production tables; a fresh database skips it.
"""

from typing import Any

from django.db import IntegrityError, migrations, models, transaction

POSITION_DRIVER = 16385

WIDEN_SQL = [
    'ALTER TABLE exchange_positionrecord ALTER COLUMN license_id TYPE varchar(64) COLLATE "C"',
    'ALTER TABLE exchange_eventrecord ALTER COLUMN license_id TYPE varchar(64) COLLATE "C"',
]
NARROW_SQL = [  # fails while 64-character hashes are stored: a hash cannot be turned back
    'ALTER TABLE exchange_positionrecord ALTER COLUMN license_id TYPE varchar(32) COLLATE "C"',
    'ALTER TABLE exchange_eventrecord ALTER COLUMN license_id TYPE varchar(32) COLLATE "C"',
]


def _alter_license_id(apps: Any, schema_editor: Any, length: int) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in WIDEN_SQL if length == 64 else NARROW_SQL:
            schema_editor.execute(sql)
        return
    for name in ("PositionRecord", "EventRecord"):
        model = apps.get_model("exchange", name)
        old = model._meta.get_field("license_id")
        new = models.CharField(max_length=length, blank=True, default="")
        new.set_attributes_from_name("license_id")
        new.model = model
        schema_editor.alter_field(model, old, new)


def widen(apps: Any, schema_editor: Any) -> None:
    _alter_license_id(apps, schema_editor, 64)


def narrow(apps: Any, schema_editor: Any) -> None:
    _alter_license_id(apps, schema_editor, 32)


# ---------------------------------------------------------------------------------------------
# existing rows
# ---------------------------------------------------------------------------------------------


def _is_hash(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _json(value: Any) -> dict[str, Any]:
    import json

    return json.loads(value) if isinstance(value, str | bytes) else dict(value)


def _needs_protection(personal: Any, record: dict[str, Any]) -> bool:
    from yunzheng.core.crypto import is_field_token

    return any(
        type(record.get(name)) is str and record[name] and not is_field_token(record[name])
        for name, _kind in personal.fields
    )


def _update_or_drop(connection: Any, update: tuple[str, list[Any]], delete: tuple[str, list[Any]]) -> None:
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(*update)
    except IntegrityError:  # the protected row exists already: this one was a duplicate
        with connection.cursor() as cursor:
            cursor.execute(*delete)


def protect_existing_rows(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM exchange_ingestbatch")
        if cursor.fetchone() is None:
            return  # nothing was ever uploaded
    import msgspec

    from yunzheng.exchange import personal_data
    from yunzheng.exchange.ingest import plan_for
    from yunzheng.exchange.spec import get_spec

    encode = msgspec.json.Encoder().encode
    sealer = personal_data.Sealer()
    spec = get_spec()
    personal_codes = {
        i.ipc_type_code: i for i in spec.interfaces.values() if personal_data.for_interface(i).any
    }

    # positionDriver: license_id -> lookup_hash
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT license_id FROM exchange_positionrecord WHERE interface = %s AND license_id <> ''",
            [POSITION_DRIVER],
        )
        plain = [value for (value,) in cursor.fetchall() if not _is_hash(value)]
    for value in plain:
        digest = sealer.hash(value)
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM exchange_positionrecord WHERE interface = %s AND license_id = %s AND EXISTS "
                "(SELECT 1 FROM exchange_positionrecord q WHERE q.interface = %s "
                "AND q.company_id = exchange_positionrecord.company_id "
                "AND q.position_time = exchange_positionrecord.position_time AND q.license_id = %s)",
                [POSITION_DRIVER, value, POSITION_DRIVER, digest],
            )
            cursor.execute(
                "UPDATE exchange_positionrecord SET license_id = %s WHERE interface = %s AND license_id = %s",
                [digest, POSITION_DRIVER, value],
            )

    # events and base information: natural key, license_id and payload
    codes = sorted(personal_codes)
    marks = ", ".join(["%s"] * len(codes))
    tables = (
        ("exchange_eventrecord", "event_time"),
        ("exchange_baseinforecord", "update_time"),
        ("exchange_baseinfocurrent", "update_time"),
    )
    for table, time_column in tables:
        has_licence = table == "exchange_eventrecord"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, interface, {time_column}, payload FROM {table} WHERE interface IN ({marks})",  # noqa: S608
                codes,
            )
            rows = cursor.fetchall()
        for row_id, code, moment, payload in rows:
            record = _json(payload)
            iface = personal_codes[code]
            plan = plan_for(iface)
            if not _needs_protection(plan.personal, record):
                continue
            sets = ["natural_key = %s", "payload = %s"]
            params: list[Any] = [
                plan.stored_key(record, sealer),
                encode(plan.stored_record(record, sealer)).decode(),
            ]
            if has_licence:
                sets.append("license_id = %s")
                params.append(sealer.hash(record.get("LicenseId", "")))
            where = f"id = %s AND {time_column} = %s"  # the time lets PostgreSQL prune partitions
            _update_or_drop(
                connection,
                (f"UPDATE {table} SET {', '.join(sets)} WHERE {where}", [*params, row_id, moment]),  # noqa: S608
                (f"DELETE FROM {table} WHERE {where}", [row_id, moment]),  # noqa: S608
            )

    # forwarding outbox: envelopes of interfaces with personal data -> one token
    with connection.cursor() as cursor:
        sql = f"SELECT id, payload FROM exchange_forwardingoutbox WHERE interface IN ({marks})"  # noqa: S608
        cursor.execute(sql, codes)
        outbox = cursor.fetchall()
    for row_id, payload in outbox:
        if not payload.startswith("sm4gcm:"):
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE exchange_forwardingoutbox SET payload = %s WHERE id = %s",
                    [personal_data.seal_text(payload), row_id],
                )


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0001_ingest_storage_forwarding"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The state as Django sees it; the tables are altered by `widen` (vendor-specific SQL).
            state_operations=[
                migrations.AlterField(
                    model_name="eventrecord",
                    name="license_id",
                    field=models.CharField(blank=True, default="", max_length=64),
                ),
                migrations.AlterField(
                    model_name="positionrecord",
                    name="license_id",
                    field=models.CharField(blank=True, default="", max_length=64),
                ),
            ],
            database_operations=[migrations.RunPython(widen, narrow)],
        ),
        migrations.RunPython(protect_existing_rows, migrations.RunPython.noop),
    ]
