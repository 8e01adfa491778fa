"""SQLite now refuses a DELETE of the audit trail too, as PostgreSQL does (migration accounts 0004 refused UPDATE).

The one way past is `manage.py flush`, which empties the whole database (staff/management/commands/flush.py makes the
table `iamwatch_purge` for its duration).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

SQLITE_UP = """CREATE TRIGGER accounts_changerecord_no_delete BEFORE DELETE ON accounts_changerecord
    WHEN NOT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'iamwatch_purge')
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE refused'); END;"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS accounts_changerecord_no_delete;"


def up(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def down(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("staff", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
