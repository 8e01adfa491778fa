"""The database refuses to rewrite the audit trail.

PostgreSQL: a trigger refuses every UPDATE and DELETE of a change record (TRUNCATE, which needs table
ownership, stays the test suite's reset). SQLite: a trigger refuses every UPDATE; a DELETE is refused by
the model and the admin only, because the test suite empties SQLite with DELETE.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION iamwatch_trail_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: UPDATE and DELETE are refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER accounts_changerecord_append_only BEFORE UPDATE OR DELETE ON accounts_changerecord
    FOR EACH ROW EXECUTE FUNCTION iamwatch_trail_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS accounts_changerecord_append_only ON accounts_changerecord;
DROP FUNCTION IF EXISTS iamwatch_trail_append_only();
"""
SQLITE_UP = """CREATE TRIGGER accounts_changerecord_no_update BEFORE UPDATE ON accounts_changerecord
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE refused'); END;"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS accounts_changerecord_no_update;"


def up(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor in ("postgresql", "sqlite"):
        schema_editor.execute(PG_UP if vendor == "postgresql" else SQLITE_UP)


def down(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor in ("postgresql", "sqlite"):
        schema_editor.execute(PG_DOWN if vendor == "postgresql" else SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_people_directory")]
    operations = [migrations.RunPython(up, down)]
