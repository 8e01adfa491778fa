"""The management commands of DESIGN.md "Interfaces", run as a user would: exit codes, stderr, stored rows."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import AwsAccount
from audits.export import FINDINGS_HEADER
from audits.models import AuditRun, Finding, PrincipalState, StoredReport
from audits.services import finding_tally_refresh
from tests.conftest import SAMPLE_ACCOUNT, SAMPLE_REPORT, SAMPLES, manage
from tests.reports import build_report, root_row, user_row

pytestmark = pytest.mark.django_db


def test_every_bad_sample_exits_non_zero_with_one_line_and_stores_nothing(cli_db: str) -> None:
    assert manage("add_account", SAMPLE_ACCOUNT, "--name", "sandbox", db_url=cli_db).returncode == 0
    for path in sorted((SAMPLES / "bad").iterdir()):
        done = manage("import_credential_report", str(path), "--account", SAMPLE_ACCOUNT, db_url=cli_db)
        assert done.returncode != 0, path.name
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert path.name in done.stderr
    export = manage("export_findings", "--status", "all", db_url=cli_db)
    assert export.returncode == 0 and export.stdout.strip() == ",".join(FINDINGS_HEADER)


def test_import_then_export_yields_the_samples_findings(cli_db: str) -> None:
    manage("add_account", SAMPLE_ACCOUNT, "--name", "sandbox", "--naming-standard", "initial_lastname", db_url=cli_db)
    done = manage(
        "import_credential_report",
        str(SAMPLE_REPORT),
        "--account",
        SAMPLE_ACCOUNT,
        "--generated-at",
        "2026-11-01T00:00:00+00:00",
        db_url=cli_db,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(manage("export_findings", "--account", SAMPLE_ACCOUNT, db_url=cli_db).stdout)))
    assert {(r["check_id"], r["principal"]) for r in rows} == {
        ("root.recent_use", "<root_account>"),
        ("user.console_without_mfa", "networkAdmin"), ("user.shared_account", "networkAdmin"), ("user.name_violation", "networkAdmin"),
        ("user.shared_account", "DbaAdmin"), ("user.name_violation", "DbaAdmin"), ("user.multiple_active_keys", "DbaAdmin"),
        ("user.access_key_not_rotated", "DbaAdmin"), ("user.console_without_mfa", "AWhite"), ("user.access_key_at_setup", "AWhite"),
        ("user.password_unused", "BJones"), ("user.name_violation", "ci-deploy"), ("user.access_key_not_rotated", "ci-deploy"),
    }  # fmt: skip
    assert {r["first_seen"] for r in rows} == {"2026-11-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["12345", "--name", "x"], "exactly 12 digits"),
        (["1234567890123", "--name", "x"], "12 digits"),
        (["111122223333", "--name", "x", "--role-arn", "arn:aws:iam::111122223333:user/bob"], "IAM role ARN"),
        (["111122223333", "--name", "x", "--role-arn", "arn:aws:iam::999988887777:role/IAMWatchAudit"], "another account"),
        (["111122223333", "--name", "x", "--root-email", "not-an-email"], "email"),
    ],
)
def test_add_account_refuses_bad_input_and_stores_nothing(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("add_account", *args)
    assert not AwsAccount.objects.exists()


def test_add_account_refuses_a_duplicate(sandbox: AwsAccount) -> None:
    with pytest.raises(CommandError, match="already registered"):
        call_command("add_account", SAMPLE_ACCOUNT, "--name", "again")


def test_add_account_with_the_company_preset_needs_the_company_initials(settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_COMPANY_INITIALS = ""
    with pytest.raises(CommandError, match="company's initials"):
        call_command("add_account", SAMPLE_ACCOUNT, "--name", "x", "--naming-standard", "company_employee_id")
    assert not AwsAccount.objects.exists()
    settings.IAMWATCH_COMPANY_INITIALS = "SF"
    call_command("add_account", SAMPLE_ACCOUNT, "--name", "x", "--naming-standard", "company_employee_id", stdout=io.StringIO())
    assert AwsAccount.objects.get().naming_standard.company_initials == "SF"  # type: ignore[union-attr]


def test_add_account_stores_the_role_and_never_a_secret() -> None:
    out = io.StringIO()
    call_command(
        "add_account", SAMPLE_ACCOUNT, "--name", "prod", "--role-arn", "arn:aws:iam::111122223333:role/IAMWatchAudit",
        "--external-id", "f3b1c2", "--root-email", "aws-root+111122223333@example.com", stdout=out,
    )  # fmt: skip
    account = AwsAccount.objects.get()
    assert (account.role_arn, account.external_id, account.root_email) == (
        "arn:aws:iam::111122223333:role/IAMWatchAudit",
        "f3b1c2",
        "aws-root+111122223333@example.com",
    )
    assert not any("secret" in f.name for f in AwsAccount._meta.get_fields())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--account", "999988887777"], "no AWS account '999988887777'"),
        (["--account", SAMPLE_ACCOUNT, "--generated-at", "yesterday"], "not an ISO 8601"),
        (["--account", SAMPLE_ACCOUNT, "--generated-at", "2026-11-01T00:00:00"], "no time zone"),
    ],
)
def test_import_refuses_bad_arguments(sandbox: AwsAccount, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("import_credential_report", str(SAMPLE_REPORT), *args)
    assert not AuditRun.objects.exists()


def test_import_of_a_missing_file_says_so(sandbox: AwsAccount, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_credential_report", str(tmp_path / "nope.csv"), "--account", SAMPLE_ACCOUNT)


@pytest.mark.parametrize(("today", "root_recent"), [("2026-11-20T00:00:00Z", True), ("2026-12-20T00:00:00Z", False)])
def test_import_without_generated_at_evaluates_at_the_time_of_import(sandbox: AwsAccount, today: str, root_recent: bool) -> None:
    with time_machine.travel(datetime.fromisoformat(today), tick=False):
        call_command("import_credential_report", str(SAMPLE_REPORT), "--account", SAMPLE_ACCOUNT, stdout=io.StringIO())
    run = AuditRun.objects.get()
    assert run.generated_at == datetime.fromisoformat(today)
    # Root was last used on 28 October: within 30 days of 20 November, not of 20 December.
    assert Finding.objects.filter(check_id="root.recent_use").exists() is root_recent


def test_export_neutralises_formula_cells(sandbox: AwsAccount, tmp_path: Path) -> None:
    names = ["=1+2", "+SUM", "-2+3", "@cmd", "JSmith"]
    content = build_report(
        root_row(), *(user_row(n, password_enabled="true", password_last_used="2026-10-30T00:00:00+00:00") for n in names)
    )
    (tmp_path / "r.csv").write_bytes(content)
    call_command(
        "import_credential_report",
        str(tmp_path / "r.csv"),
        "--account",
        SAMPLE_ACCOUNT,
        "--generated-at",
        "2026-11-01T00:00:00Z",
        stdout=io.StringIO(),
    )
    call_command("export_findings", "--output", str(tmp_path / "out.csv"))
    rows = list(csv.reader((tmp_path / "out.csv").open(newline="")))
    assert rows[0] == list(FINDINGS_HEADER)
    principals = {r[5] for r in rows[1:]}
    assert {"'=1+2", "'+SUM", "'-2+3", "'@cmd", "JSmith"} == principals
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows[1:] for cell in r)
    assert any(r[6] == "arn:aws:iam::111122223333:user/=1+2" for r in rows[1:])


def import_sample() -> None:
    """The sample report, imported through the command as of its generated time."""
    call_command(
        "import_credential_report",
        str(SAMPLE_REPORT),
        "--account",
        SAMPLE_ACCOUNT,
        "--generated-at",
        "2026-11-01T00:00:00Z",
        stdout=io.StringIO(),
    )


def test_export_writes_the_same_bytes_as_the_web_export(sandbox: AwsAccount, alice_client: Client, tmp_path: Path) -> None:
    import_sample()
    call_command("export_findings", "--status", "all", "--output", str(tmp_path / "cli.csv"))
    stdout = io.StringIO()
    call_command("export_findings", "--status", "all", stdout=stdout)
    web = alice_client.get("/findings.csv?status=all")
    assert web.status_code == 200
    body = b"".join(web.streaming_content)  # type: ignore[attr-defined]
    assert body == (tmp_path / "cli.csv").read_bytes() == stdout.getvalue().encode()
    assert body.count(b"\r\n") == 14


def test_export_statuses_filter_rows(sandbox: AwsAccount, tmp_path: Path) -> None:
    import_sample()
    Finding.objects.filter(principal="BJones").update(status="resolved")
    finding_tally_refresh([sandbox.pk])  # resolved by hand here, not by a run: counted as a run would
    for status, expected in (("open", 12), ("resolved", 1), ("accepted", 0), ("all", 13)):
        out = io.StringIO()
        call_command("export_findings", "--status", status, stdout=out)
        assert len(out.getvalue().splitlines()) == expected + 1


def test_export_refuses_an_unknown_account(db: None) -> None:
    with pytest.raises(CommandError, match="no AWS account"):
        call_command("export_findings", "--account", "999988887777")


def test_export_to_an_unwritable_place_says_so(sandbox: AwsAccount, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot write"):
        call_command("export_findings", "--output", str(tmp_path / "missing-dir" / "out.csv"))


def test_run_audit_refuses_unknown_accounts(sandbox: AwsAccount) -> None:
    with pytest.raises(CommandError, match="no AWS account 999988887777"):
        call_command("run_audit", "999988887777")
    assert not AuditRun.objects.exists() and not PrincipalState.objects.exists() and not StoredReport.objects.exists()


def test_run_audit_with_no_account_registered_says_so(db: None) -> None:
    with pytest.raises(CommandError, match="no active AWS account"):
        call_command("run_audit")


@pytest.mark.parametrize("command", ["import_credential_report", "export_findings", "run_audit"])
def test_an_account_id_that_is_not_12_digits_is_named_as_such_not_sent_to_add_account(command: str, tmp_path: Path) -> None:
    args = {
        "import_credential_report": [str(SAMPLES / "credential_report_111122223333.csv"), "--account", "0123456789"],
        "export_findings": ["--account", "0123456789"],
        "run_audit": ["0123456789"],
    }[command]
    with pytest.raises(CommandError) as refused:
        call_command(command, *args)
    assert "exactly 12 digits" in str(refused.value) and "add_account" not in str(refused.value)
