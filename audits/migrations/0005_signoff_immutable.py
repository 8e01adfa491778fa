"""The database itself refuses to change or delete a sign-off.

PostgreSQL: a trigger refuses every UPDATE and DELETE (TRUNCATE, which needs table ownership, is the
test suite's reset). SQLite: triggers refuse every UPDATE, and a DELETE while its review still exists
(the review is protected by the sign-off's foreign key, so only a whole-database flush gets there).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION iamwatch_signoff_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'sign-offs are immutable: UPDATE and DELETE are refused; sign a correction instead';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audits_signoff_immutable BEFORE UPDATE OR DELETE ON audits_signoff
    FOR EACH ROW EXECUTE FUNCTION iamwatch_signoff_immutable();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS audits_signoff_immutable ON audits_signoff;
DROP FUNCTION IF EXISTS iamwatch_signoff_immutable();
"""
SQLITE_UP = [
    """CREATE TRIGGER audits_signoff_no_update BEFORE UPDATE ON audits_signoff
       BEGIN SELECT RAISE(ABORT, 'sign-offs are immutable: UPDATE refused; sign a correction instead'); END;""",
    """CREATE TRIGGER audits_signoff_no_delete BEFORE DELETE ON audits_signoff
       WHEN EXISTS (SELECT 1 FROM audits_review WHERE id = OLD.review_id)
       BEGIN SELECT RAISE(ABORT, 'sign-offs are immutable: DELETE refused; sign a correction instead'); END;""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS audits_signoff_no_update;", "DROP TRIGGER IF EXISTS audits_signoff_no_delete;"]


def up(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP)
    elif vendor == "sqlite":
        for sql in SQLITE_UP:
            schema_editor.execute(sql)


def down(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN)
    elif vendor == "sqlite":
        for sql in SQLITE_DOWN:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audits", "0004_reviews")]
    operations = [migrations.RunPython(up, down)]
