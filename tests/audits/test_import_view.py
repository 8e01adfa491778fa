"""Importing a console-downloaded credential report from the account page: the command's checks, one line, all or none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import AwsAccount
from audits.models import AuditRun, Finding, PrincipalState
from tests.conftest import client_for, member_of
from tests.reports import build_report, root_row, user_row

pytestmark = pytest.mark.django_db
URL = "/accounts/111122223333/import"


def upload(client: Client, content: bytes, name: str = "status_reports.csv", **extra: str):  # type: ignore[no-untyped-def]
    return client.post(URL, {"report": SimpleUploadedFile(name, content, content_type="text/csv"), **extra}, follow=True)


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]]


def stored() -> tuple[int, int, int]:
    return AuditRun.objects.count(), PrincipalState.objects.count(), Finding.objects.count()


def test_a_reviewer_imports_a_console_report_as_one_run(
    sandbox: AwsAccount, sample_bytes: bytes, personas: dict[str, Client]
) -> None:
    page = personas["reviewer"].get("/accounts/111122223333/").content.decode()
    assert f'action="{URL}" enctype="multipart/form-data"' in page
    response = upload(personas["reviewer"], sample_bytes, generated_at="2026-11-20T10:00")
    run = AuditRun.objects.get()
    assert (run.source, run.requested_by, run.generated_at) == (
        "import",
        "reviewer-user",
        datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
    )
    assert messages_of(response)[0].startswith(f"Imported status_reports.csv as run {run.pk}: ")
    assert run.principal_count > 0 and PrincipalState.objects.filter(account=sandbox).count() == run.principal_count


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"\x00\x01\x02binary", "binary"),
        (build_report(), "lists no principal"),
        (build_report(root_row()).replace(b"111122223333", b"999988887777"), "999988887777"),
    ],
    ids=["binary", "header-only", "another-account"],
)
def test_a_bad_report_is_refused_in_one_line_and_nothing_is_stored(
    sandbox: AwsAccount, personas: dict[str, Client], content: bytes, error: str
) -> None:
    response = upload(personas["reviewer"], content, name="bad.csv", generated_at="2026-11-20T10:00")
    [message] = messages_of(response)
    assert message.startswith("Not imported: bad.csv: ") and error in message and "\n" not in message
    assert stored() == (0, 0, 0)


def test_a_report_older_than_the_latest_run_is_refused(
    sandbox: AwsAccount, sample_bytes: bytes, personas: dict[str, Client]
) -> None:
    upload(personas["reviewer"], sample_bytes, generated_at="2026-11-20T10:00")
    before = stored()
    older = build_report(root_row(), user_row("JSmith", password_enabled="true"))
    [message] = messages_of(upload(personas["reviewer"], older, name="old.csv", generated_at="2026-11-01T10:00"))
    assert message.startswith("Not imported: old.csv: ") and "older than" in message
    assert stored() == before


def test_no_file_or_a_bad_time_is_refused_without_a_run(sandbox: AwsAccount, personas: dict[str, Client]) -> None:
    [message] = messages_of(personas["reviewer"].post(URL, {}, follow=True))
    assert message.startswith("Not imported: ") and "report" in message
    [message] = messages_of(upload(personas["reviewer"], b"x", generated_at="yesterday"))
    assert message == "Not imported: generated at: Enter a valid date/time."
    assert stored() == (0, 0, 0)


def test_only_who_may_run_audits_and_see_the_account_may_import(
    sandbox: AwsAccount, sample_bytes: bytes, personas: dict[str, Client]
) -> None:
    assert upload(personas["viewer"], sample_bytes).status_code == 403
    assert 'enctype="multipart/form-data"' not in personas["viewer"].get("/accounts/111122223333/").content.decode()
    elsewhere = member_of("reviewer", "scoped-reviewer")
    from accounts.models import AccountScope

    other = AwsAccount.objects.create(account_id="444455556666", name="other")
    AccountScope.objects.create(user=elsewhere).accounts.set([other])
    assert upload(client_for(elsewhere), sample_bytes).status_code == 404
    assert stored() == (0, 0, 0)


def test_the_report_time_is_required_unless_the_file_name_carries_it(
    sandbox: AwsAccount, sample_bytes: bytes, personas: dict[str, Client]
) -> None:
    """An old download imported without its time would be stamped with the time of the upload: "0 minutes old"."""
    refused = upload(personas["reviewer"], sample_bytes, name="credential-report.csv")
    [message] = messages_of(refused)
    assert message == (
        "Not imported: say when the report was generated (Generated at): credential-report.csv's name carries no time, "
        "and the time of the upload would make an old download look fresh"
    )
    assert stored() == (0, 0, 0)
    named = upload(personas["reviewer"], sample_bytes, name="status_reports_2026-11-20T09_15_42+01_00.csv")
    run = AuditRun.objects.get()
    assert run.generated_at == datetime(2026, 11, 20, 8, 15, 42, tzinfo=UTC)
    assert "as of 2026-11-20 08:15 UTC (the report's time: the file's name)" in messages_of(named)[0]


def test_a_time_entered_wins_over_the_file_name_and_says_so(
    sandbox: AwsAccount, sample_bytes: bytes, personas: dict[str, Client]
) -> None:
    done = upload(
        personas["reviewer"], sample_bytes, name="status_reports_2026-11-20T09_15_42+00_00.csv", generated_at="2026-11-21T07:00"
    )
    assert AuditRun.objects.get().generated_at == datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    assert "(the report's time: entered)" in messages_of(done)[0]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("status_reports_2026-12-03T09_15_42+00_00.csv", datetime(2026, 12, 3, 9, 15, 42, tzinfo=UTC)),
        ("status_reports_2026-12-03T09_15_42-07_00.csv", datetime(2026, 12, 3, 16, 15, 42, tzinfo=UTC)),
        ("status_reports_2026-12-03T09_15_42Z.csv", datetime(2026, 12, 3, 9, 15, 42, tzinfo=UTC)),
        ("status_reports_2026-13-03T09_15_42+00_00.csv", None),  # no 13th month
        ("status_reports.csv", None),
        ("report-2026-12-03.csv", None),  # a day is not a time
    ],
)
def test_the_time_a_console_download_carries_in_its_name(name: str, expected: datetime | None) -> None:
    from audits.report import time_in_name

    assert time_in_name(name) == expected
