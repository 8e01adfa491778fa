"""identitycenter 0003: the open paths of a database from before take their person by employee id, then e-mail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

BEFORE, AFTER = [("identitycenter", "0002_daily_schedule")], [("identitycenter", "0004_access_path_refreshed")]  # 0003, then what the model needs since
T = datetime(2026, 10, 1, tzinfo=UTC)


def test_open_paths_are_mapped_by_employee_id_then_e_mail_and_closed_ones_are_left(migrator: Any) -> None:
    old = migrator(BEFORE)
    account = old.get_model("accounts", "AwsAccount").objects.create(account_id="111122223333", name="sandbox")
    run = old.get_model("audits", "AuditRun").objects.create(account=account, source="sso", status="succeeded", requested_at=T, generated_at=T)
    Person = old.get_model("people", "Person")
    ann = Person.objects.create(employee_id="1402", first_name="Anna", last_name="White", email="anna@example.com")
    bo = Person.objects.create(employee_id="1500", first_name="Bo", last_name="Li", email="Bo.Li@example.com")
    Path = old.get_model("identitycenter", "AccessPath")

    def path(user: str, employee: str, email: str, closed: bool = False) -> int:
        return int(Path.objects.create(
            account=account, user_id=f"u-{user}", user_name=user, email=email, employee_number=employee,
            permission_set_arn="arn:aws:sso:::permissionSet/ssoins-1/ps-1", permission_set_name="ReadOnly", admin=False,
            valid_from=T, valid_to=T if closed else None, first_run=run, last_run=run,
        ).pk)  # fmt: skip

    ids = [path("anna", "1402", "other@example.com"), path("bo", "", "bo.li@EXAMPLE.com"), path("temp", "", ""), path("old", "1402", "", closed=True)]
    migrator(AFTER)
    from identitycenter.models import AccessPath

    assert [AccessPath.objects.get(pk=pk).person_id for pk in ids] == [ann.pk, bo.pk, None, None]
