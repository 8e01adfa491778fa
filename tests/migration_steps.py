"""The two halves of the layout-migration test, each run in its own process against its own database.

`old`: migrate to the last migrations of the one-app-per-two-domains layout (accounts 0005, audits 0008), fill
the tables through that layout's historical models, print what was stored. `new`: migrate to the current layout
and print the same facts as the current models read them. tests/test_layout_migration.py compares the two.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from typing import Any

import django

OLD_LAYOUT = [("accounts", "0005_account_scope"), ("audits", "0008_current_principal_lower_name")]
T = datetime(2026, 10, 1, tzinfo=UTC)


def _old() -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    for app, name in OLD_LAYOUT:
        call_command("migrate", app, name, verbosity=0)
    apps = MigrationExecutor(connection).loader.project_state(OLD_LAYOUT, at_end=True).apps
    model = apps.get_model

    account = model("accounts", "AwsAccount").objects.create(account_id="111122223333", name="payments", environment="prod")
    run = model("audits", "AuditRun").objects.create(
        account=account, source="import", status="succeeded", requested_at=T, generated_at=T, finished_at=T
    )
    finding = model("audits", "Finding").objects.create(
        account=account, check_id="user.console_without_mfa", principal="networkAdmin", severity="high",
        detail="console password without MFA", first_seen=T, last_seen=T, first_run=run, last_run=run,
    )  # fmt: skip
    review = model("audits", "Review").objects.create(
        title="October 2026", period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), status="signed", created_by="alice"
    )
    review.accounts.add(account)
    model("audits", "Disposition").objects.create(
        review=review, finding=finding, kind="remediation_planned", ticket="SEC-1", due_on=date(2026, 12, 1), decided_by="alice"
    )
    model("audits", "SignOff").objects.create(
        review=review, signed_by="bob", prepared_by="alice", signed_at=T, comment="ok", snapshot={"format": "x"}, snapshot_sha256="ab" * 32
    )
    model("accounts", "ChangeRecord").objects.create(actor="alice", action="account.added", target="account 111122223333")
    person = model("accounts", "Person").objects.create(employee_id="1234", first_name="John", last_name="Smith", active=False)
    model("accounts", "OwnerLink").objects.create(account=account, user_name="networkAdmin", person=person, linked_by="alice")
    user = model("auth", "User").objects.create(username="carol")
    content_types = model("contenttypes", "ContentType").objects
    person_type = content_types.get(app_label="accounts", model="person")
    # A permission granted to one user directly (not through a role) must survive the move of its model.
    user.user_permissions.add(model("auth", "Permission").objects.get(content_type=person_type, codename="view_person"))
    model("audits", "CalendarFeed").objects.create(user=user, token_sha256="cd" * 32)
    return {
        "findings": [[finding.check_id, finding.principal, finding.status]],
        "reviews": [[review.title, review.status, ["111122223333"], [["SEC-1", "remediation_planned"]], ["bob"]]],
        "trail": [["alice", "account.added", "account 111122223333"]],
        "people": [["1234", False, ["networkAdmin"]]],
        "calendar_feeds": ["carol"],
        "content_type_ids": {"person": person_type.pk, "signoff": content_types.get(app_label="audits", model="signoff").pk},
        "carol_may_view_people": True,
    }


def _new() -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import DatabaseError, connection, transaction

    from audits.models import Finding
    from people.models import Person
    from reviews.models import CalendarFeed, Review
    from staff.models import ChangeRecord

    call_command("migrate", verbosity=0)
    refused = []
    for sql in ("UPDATE audits_signoff SET comment = 'rewritten'", "UPDATE accounts_changerecord SET actor = 'mallory'"):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
        except DatabaseError:
            refused.append(sql.split()[1])
    return {
        "findings": [[f.check_id, f.principal, f.status] for f in Finding.objects.all()],
        "reviews": [
            [
                r.title,
                r.status,
                [a.account_id for a in r.accounts.all()],
                [[d.ticket, d.kind] for d in r.dispositions.all()],
                [s.signed_by for s in r.signoffs.all()],
            ]
            for r in Review.objects.all()
        ],
        "trail": [[c.actor, c.action, c.target] for c in ChangeRecord.objects.all()],
        "people": [[p.employee_id, p.active, [link.user_name for link in p.owner_links.all()]] for p in Person.objects.all()],
        "calendar_feeds": [feed.user.username for feed in CalendarFeed.objects.all()],
        "content_type_ids": {
            "person": ContentType.objects.get(app_label="people", model="person").pk,
            "signoff": ContentType.objects.get(app_label="reviews", model="signoff").pk,
        },
        "carol_may_view_people": User.objects.get(username="carol").has_perm("people.view_person"),
        "refused_by_the_database": refused,
    }


def main(step: str) -> None:
    django.setup()
    print(json.dumps(_old() if step == "old" else _new()))


if __name__ == "__main__":
    main(sys.argv[1])
