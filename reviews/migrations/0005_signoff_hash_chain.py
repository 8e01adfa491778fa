"""Sign-offs become a hash chain (staff.chain) holding the audit trail's head at each signing; the database refuses a
signed review's status change other than the start of a correction, and a review marked signed with no sign-off.

On SQLite no trigger gives way to a table named iamwatch_purge any more (`manage.py flush` drops and remakes them);
SQLite rebuilds audits_signoff to add its unique columns, which drops its triggers: every guard of the review tables is
made again at the end, as it now reads.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

from staff.chain import GENESIS, chain_time, link_sha256

SIGNED_DECISION = "EXISTS (SELECT 1 FROM audits_review WHERE id = OLD.review_id AND status = 'signed')"
STATUS_LEFT = "OLD.status = 'signed' AND NEW.status NOT IN ('signed', 'correcting')"
SIGNED_UNSIGNED = "NEW.status = 'signed' AND OLD.status <> 'signed' AND NOT EXISTS (SELECT 1 FROM audits_signoff WHERE review_id = NEW.id)"
STATUS_REFUSAL = "a signed review changes status only by a correction, and becomes signed only by a sign-off"
SQLITE_TRIGGERS = {
    "audits_signoff_no_update": """CREATE TRIGGER audits_signoff_no_update BEFORE UPDATE ON audits_signoff
        BEGIN SELECT RAISE(ABORT, 'sign-offs are immutable: UPDATE refused; sign a correction instead'); END;""",
    "audits_signoff_no_delete": """CREATE TRIGGER audits_signoff_no_delete BEFORE DELETE ON audits_signoff
        BEGIN SELECT RAISE(ABORT, 'sign-offs are immutable: DELETE refused; sign a correction instead'); END;""",
    **{
        f"audits_disposition_signed_no_{op.lower()}": f"""CREATE TRIGGER audits_disposition_signed_no_{op.lower()}
        BEFORE {op} ON audits_disposition WHEN {SIGNED_DECISION}
        BEGIN SELECT RAISE(ABORT, 'the decisions of a signed review are frozen: {op} refused; start a correction'); END;"""
        for op in ("UPDATE", "DELETE")
    },
    "audits_review_signed_status": f"""CREATE TRIGGER audits_review_signed_status BEFORE UPDATE OF status ON audits_review
        WHEN ({STATUS_LEFT}) OR ({SIGNED_UNSIGNED})
        BEGIN SELECT RAISE(ABORT, '{STATUS_REFUSAL}'); END;""",
}
PG_UP = f"""
CREATE OR REPLACE FUNCTION iamwatch_review_signed_status() RETURNS trigger AS $$
BEGIN
    IF ({STATUS_LEFT}) OR ({SIGNED_UNSIGNED}) THEN
        RAISE EXCEPTION '{STATUS_REFUSAL}';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audits_review_signed_status BEFORE UPDATE OF status ON audits_review
    FOR EACH ROW EXECUTE FUNCTION iamwatch_review_signed_status();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS audits_review_signed_status ON audits_review;
DROP FUNCTION IF EXISTS iamwatch_review_signed_status();
"""
PG_SIGNOFF_TRIGGER = "audits_signoff_immutable"


def unguard(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};")
    elif vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE audits_signoff DISABLE TRIGGER {PG_SIGNOFF_TRIGGER}")
        schema_editor.execute(PG_DOWN)


def guard(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for name, sql in SQLITE_TRIGGERS.items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};")
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE audits_signoff ENABLE TRIGGER {PG_SIGNOFF_TRIGGER}")
        schema_editor.execute(PG_DOWN + PG_UP)


def chain(apps: Any, schema_editor: Any) -> None:
    SignOff = apps.get_model("reviews", "SignOff")
    signoffs = SignOff.objects.using(schema_editor.connection.alias)
    prev = GENESIS
    for s in signoffs.order_by("pk"):
        content = {
            "review_id": s.review_id, "signed_by": s.signed_by, "signed_by_user_id": s.signed_by_user_id,
            "prepared_by": s.prepared_by, "signed_at": chain_time(s.signed_at), "comment": s.comment,
            "corrects_id": s.corrects_id, "snapshot_sha256": s.snapshot_sha256, "trail_sha256": "",
        }  # fmt: skip
        sha = link_sha256(content, prev)
        signoffs.filter(pk=s.pk).update(prev_sha256=prev, sha256=sha, trail_sha256="")
        prev = sha


class Migration(migrations.Migration):
    dependencies = [("reviews", "0004_decisions_carried_over"), ("staff", "0003_trail_hash_chain")]

    operations = [
        migrations.RunPython(unguard, guard),
        migrations.AddField(model_name="signoff", name="prev_sha256", field=models.CharField(max_length=64, null=True)),
        migrations.AddField(model_name="signoff", name="sha256", field=models.CharField(max_length=64, null=True)),
        migrations.AddField(
            model_name="signoff",
            name="trail_sha256",
            field=models.CharField(
                blank=True, default="", help_text="the audit trail's latest record at signing (empty: signed before it was kept)", max_length=64
            ),
            preserve_default=False,
        ),
        migrations.RunPython(chain, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="signoff",
            name="prev_sha256",
            field=models.CharField(help_text="the sha256 of the sign-off before (64 zeros: the first)", max_length=64, unique=True),
        ),
        migrations.AlterField(
            model_name="signoff",
            name="sha256",
            field=models.CharField(help_text="SHA-256 of this sign-off's chain link (staff.chain)", max_length=64, unique=True),
        ),
        migrations.RunPython(guard, unguard),
    ]
