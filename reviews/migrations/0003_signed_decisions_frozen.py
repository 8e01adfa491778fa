"""The database refuses to change or delete a decision of a signed review (a correction reopens the review first).

On SQLite the sign-off's own DELETE trigger (audits 0005) also gives way to `manage.py flush` alone, not to any
order in which a flush may delete tables.

PostgreSQL and SQLite alike; on SQLite `manage.py flush`, which empties the whole database, is the one way past (see
staff/management/commands/flush.py). PostgreSQL's TRUNCATE, the test suite's reset, does not fire row triggers.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

SIGNED = "EXISTS (SELECT 1 FROM audits_review WHERE id = OLD.review_id AND status = 'signed')"
PG_UP = f"""
CREATE OR REPLACE FUNCTION iamwatch_signed_decision_frozen() RETURNS trigger AS $$
BEGIN
    IF {SIGNED} THEN
        RAISE EXCEPTION 'the decisions of a signed review are frozen: UPDATE and DELETE are refused; start a correction';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audits_disposition_signed_frozen BEFORE UPDATE OR DELETE ON audits_disposition
    FOR EACH ROW EXECUTE FUNCTION iamwatch_signed_decision_frozen();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS audits_disposition_signed_frozen ON audits_disposition;
DROP FUNCTION IF EXISTS iamwatch_signed_decision_frozen();
"""
NOT_PURGING = "NOT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'iamwatch_purge')"
SQLITE_UP = [
    f"""CREATE TRIGGER audits_disposition_signed_no_{op.lower()} BEFORE {op} ON audits_disposition
        WHEN {SIGNED} AND {NOT_PURGING}
        BEGIN SELECT RAISE(ABORT, 'the decisions of a signed review are frozen: {op} refused; start a correction'); END;"""
    for op in ("UPDATE", "DELETE")
]
SQLITE_UP += [
    "DROP TRIGGER IF EXISTS audits_signoff_no_delete;",
    f"""CREATE TRIGGER audits_signoff_no_delete BEFORE DELETE ON audits_signoff WHEN {NOT_PURGING}
        BEGIN SELECT RAISE(ABORT, 'sign-offs are immutable: DELETE refused; sign a correction instead'); END;""",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS audits_disposition_signed_no_{op};" for op in ("update", "delete")]
SQLITE_DOWN += [
    "DROP TRIGGER IF EXISTS audits_signoff_no_delete;",
    """CREATE TRIGGER audits_signoff_no_delete BEFORE DELETE ON audits_signoff
       WHEN EXISTS (SELECT 1 FROM audits_review WHERE id = OLD.review_id)
       BEGIN SELECT RAISE(ABORT, 'sign-offs are immutable: DELETE refused; sign a correction instead'); END;""",
]


def up(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for sql in [PG_UP] if vendor == "postgresql" else SQLITE_UP if vendor == "sqlite" else []:
        schema_editor.execute(sql)


def down(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for sql in [PG_DOWN] if vendor == "postgresql" else SQLITE_DOWN if vendor == "sqlite" else []:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("reviews", "0002_signers_by_identity")]
    operations = [migrations.RunPython(up, down)]
