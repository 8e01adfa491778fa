"""The audit trail becomes a hash chain (staff.chain): each record keeps the SHA-256 of its content and of the record
before it. The records already written are chained in the order they were written.

SQLite's DELETE trigger no longer gives way to a table named iamwatch_purge: `manage.py flush` drops and recreates the
triggers instead (staff/management/commands/flush.py). SQLite rebuilds the table to add the unique columns, which drops
its triggers: they are made again at the end.
"""

from __future__ import annotations

from typing import Any

import django.utils.timezone
from django.db import migrations, models

from staff.chain import GENESIS, chain_time, link_sha256

TABLE = "accounts_changerecord"
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER accounts_changerecord_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE refused'); END;""",
    f"""CREATE TRIGGER accounts_changerecord_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE refused'); END;""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS accounts_changerecord_no_update;", "DROP TRIGGER IF EXISTS accounts_changerecord_no_delete;"]
PG_TRIGGER = "accounts_changerecord_append_only"


def unguard(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {PG_TRIGGER}")


def guard(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE_DROP + SQLITE_TRIGGERS:
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {PG_TRIGGER}")


def chain(apps: Any, schema_editor: Any) -> None:
    ChangeRecord = apps.get_model("staff", "ChangeRecord")
    prev = GENESIS
    for r in ChangeRecord.objects.using(schema_editor.connection.alias).order_by("pk").iterator(chunk_size=2000):
        content = {"at": chain_time(r.at), "actor": r.actor, "action": r.action, "target": r.target, "before": r.before, "after": r.after}
        sha = link_sha256(content, prev)
        ChangeRecord.objects.using(schema_editor.connection.alias).filter(pk=r.pk).update(prev_sha256=prev, sha256=sha)
        prev = sha


class Migration(migrations.Migration):
    dependencies = [("staff", "0002_trail_no_delete_on_sqlite")]

    operations = [
        migrations.RunPython(unguard, guard),
        migrations.AlterField(
            model_name="changerecord", name="at", field=models.DateTimeField(db_index=True, default=django.utils.timezone.now)
        ),
        migrations.AddField(model_name="changerecord", name="prev_sha256", field=models.CharField(max_length=64, null=True)),
        migrations.AddField(model_name="changerecord", name="sha256", field=models.CharField(max_length=64, null=True)),
        migrations.RunPython(chain, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="changerecord",
            name="prev_sha256",
            field=models.CharField(
                help_text="the sha256 of the record before (64 zeros: the first)", max_length=64, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="changerecord",
            name="sha256",
            field=models.CharField(help_text="SHA-256 of this record's chain link (staff.chain)", max_length=64, unique=True),
        ),
        migrations.RunPython(guard, unguard),
    ]
