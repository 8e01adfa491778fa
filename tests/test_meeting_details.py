"""The meeting, round two, point 8: the smaller things that made the demo's pages disagree with each other or say less
than they know (issue 24)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils.html import strip_tags

from accounts.models import AwsAccount
from audits.models import AuditRun, RunSource, RunStatus
from audits.services import report_import
from people.directory import directory_import
from people.models import Person
from tests.reports import build_report, root_row, user_row

pytestmark = pytest.mark.django_db
HEADER = "employee_id,first_name,last_name,email,active\n"


def test_the_identity_center_page_does_not_say_not_configured_above_its_reads(
    sandbox: AwsAccount, alice_client: Client, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_IDENTITY_CENTER_ACCOUNT = ""
    assert "Not configured" in alice_client.get("/identity-center/").content.decode()
    for hours in (30, 2):
        at = datetime.now(UTC) - timedelta(hours=hours)
        AuditRun.objects.create(
            account=sandbox,
            source=RunSource.IDENTITY_CENTER,
            status=RunStatus.SUCCEEDED,
            requested_at=at,
            finished_at=at,
            requested_by="t",
        )
    page = alice_client.get("/identity-center/").content.decode()
    assert "Not configured" not in page
    assert (
        "Read 2 times below, the last from account 111122223333, but not read daily: set IAMWATCH_IDENTITY_CENTER_ACCOUNT" in page
    )


def test_a_principal_page_and_a_person_page_agree_on_when_the_password_was_last_used(
    sandbox: AwsAccount, alice_client: Client
) -> None:
    """Days that only add a use fold into one row of the principal's history: the row shows the period's last use,
    as the person page and the header do, not the use of the day the period began."""
    t = datetime(2026, 11, 1, tzinfo=UTC)
    for day, used in ((0, "2026-08-06T10:00:00+00:00"), (1, "2026-11-01T08:00:00+00:00"), (2, "2026-11-02T08:00:00+00:00")):
        report = build_report(root_row(), user_row("JSmith", password_enabled="true", password_last_used=used, mfa_active="true"))
        report_import(account=sandbox, content=report, generated_at=t + timedelta(days=day))
    directory_import(content=(HEADER + "1,John,Smith,john.smith@example.com,true\n").encode(), actor="t")
    principal = strip_tags(alice_client.get(f"/accounts/{sandbox.account_id}/users/JSmith/").content.decode())
    person = strip_tags(alice_client.get("/people/1/").content.decode())
    assert "console 2026-11-02" in person
    assert "Last usedconsole 2026-11-02;" in principal
    rows = principal.split("State over time")[1]
    assert "2026-11-02" in rows and "2026-08-06" not in rows


def test_a_leavers_page_says_when_the_directory_said_they_left(alice_client: Client) -> None:
    with time_machine.travel(datetime(2026, 10, 1, 9, 0, tzinfo=UTC), tick=False):
        directory_import(content=(HEADER + "1,John,Smith,,true\n2,Anna,White,,true\n").encode(), actor="t")
    with time_machine.travel(datetime(2026, 11, 12, 9, 30, tzinfo=UTC), tick=False):
        directory_import(content=(HEADER + "2,Anna,White,,true\n").encode(), actor="t")  # John is gone from the export
    with time_machine.travel(datetime(2026, 11, 20, 9, 30, tzinfo=UTC), tick=False):
        directory_import(content=(HEADER + "2,Anna,White,,true\n").encode(), actor="t")  # still gone: the date stays
    john = Person.objects.get(employee_id="1")
    assert john.left_at == datetime(2026, 11, 12, 9, 30, tzinfo=UTC)
    page = strip_tags(alice_client.get("/people/1/").content.decode())
    assert "left as of the people directory imported 2026-11-12 09:30 UTC: every user below should be gone" in page
    directory_import(content=(HEADER + "1,John,Smith,,true\n2,Anna,White,,true\n").encode(), actor="t")  # rehired
    assert Person.objects.get(employee_id="1").left_at is None


def test_a_leaver_marked_before_the_date_was_kept_says_so(alice_client: Client) -> None:
    Person.objects.create(employee_id="9", first_name="Old", last_name="Leaver", active=False)
    page = alice_client.get("/people/9/").content.decode()
    assert "(when is not known: marked as left before IAMWatch kept the date)" in page
