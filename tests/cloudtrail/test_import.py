"""import_cloudtrail: files in, root events and their findings stored, all or nothing, each event once."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AwsAccount
from audits.models import AuditRun, Finding, FindingStatus, RunSource
from audits.services import report_import
from cloudtrail.models import RootEvent
from demo.trail import ACCOUNT, api_call, iam_user_call, log_file, lookup_events, sign_in
from tests.conftest import manage
from tests.reports import build_report, root_row

pytestmark = pytest.mark.django_db
T = datetime(2026, 11, 22, 9, 14, 3, tzinfo=UTC)


def write(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def imported(*files: str, account: str = ACCOUNT) -> str:
    out = io.StringIO()
    call_command("import_cloudtrail", *files, "--account", account, stdout=out)
    return out.getvalue().strip()


def findings() -> set[tuple[str, str, str]]:
    return set(Finding.objects.values_list("check_id", "subject", "status"))


def test_files_of_every_shape_land_once_by_event_id_with_their_findings(sandbox: AwsAccount, tmp_path: Path) -> None:
    login, call = sign_in(T, mfa="No", event_id="e-login"), api_call(T + timedelta(minutes=5), event_id="e-call")
    other = sign_in(T, account="999988887777")
    plain = write(tmp_path, "a.json", log_file(login, iam_user_call(T), other))
    zipped = write(tmp_path, "b.json.gz", log_file(login, call, gz=True))  # the sign-in again: overlapping files
    said = imported(plain, zipped)
    assert said == (
        "2 root events (2 new) from 2 files; records skipped: 1 of other accounts, 1 not by root; findings: 1 new, 0 seen again"
    )
    assert sorted(RootEvent.objects.values_list("event_id", flat=True)) == ["e-call", "e-login"]
    assert findings() == {("root.session", "e-login", "open")}  # one session: the sign-in without MFA and its call
    run = AuditRun.objects.get(source=RunSource.CLOUDTRAIL)
    assert run.requested_by == "manage.py import_cloudtrail" and run.new_finding_count == 1
    # The same events again, as the console's lookup-events download: nothing new, nothing twice.
    again = imported(write(tmp_path, "c.json", lookup_events(login, call)))
    assert again.startswith("2 root events (0 new) from 1 file;") and RootEvent.objects.count() == 2 and Finding.objects.count() == 1


def test_a_sessions_failed_sign_ins_are_counted_over_every_import(sandbox: AwsAccount, tmp_path: Path) -> None:
    imported(write(tmp_path, "a.json", log_file(sign_in(T, success=False, mfa=None, ip="198.51.100.7", event_id="f-1"))))
    imported(write(tmp_path, "b.json", log_file(sign_in(T + timedelta(minutes=20), success=False, mfa=None, ip="198.51.100.9", event_id="f-2"))))
    (finding,) = Finding.objects.filter(check_id="root.session")
    assert finding.subject == "f-1" and finding.severity == "high"
    assert finding.detail.startswith("2026-11-22 09:14 UTC 2 failed sign-ins, none succeeded from 198.51.100.7, 198.51.100.9")
    assert finding.first_run_id != finding.last_run_id  # opened by the first import, seen again by the second


def test_a_sign_in_after_failures_that_arrive_later_keeps_the_sessions_finding_and_makes_it_worse(sandbox: AwsAccount, tmp_path: Path) -> None:
    """The failures before a sign-in, in a file imported after it: the same session, the same finding, now critical."""
    imported(write(tmp_path, "a.json", log_file(sign_in(T, event_id="in"))))
    (finding,) = Finding.objects.filter(check_id="root.session")
    assert (finding.subject, finding.severity) == ("in", "medium")
    earlier = [sign_in(T - timedelta(minutes=5 - n), success=False, mfa=None, event_id=f"f-{n}") for n in range(3)]
    imported(write(tmp_path, "b.json", log_file(*earlier)))
    (finding,) = Finding.objects.filter(check_id="root.session")
    assert (finding.subject, finding.severity) == ("in", "critical") and "after 3 failed attempts" in finding.detail


def test_a_session_across_midnight_is_one_finding_whichever_file_brings_each_half(sandbox: AwsAccount, tmp_path: Path) -> None:
    late = datetime(2026, 11, 22, 23, 50, tzinfo=UTC)
    imported(write(tmp_path, "a.json", log_file(sign_in(late, event_id="in"))))
    imported(write(tmp_path, "b.json", log_file(api_call(late + timedelta(minutes=20), "CreateUser", event_id="after-midnight"))))
    (finding,) = Finding.objects.filter(check_id="root.session")
    assert finding.subject == "in" and finding.severity == "high" and "made changes: iam:CreateUser" in finding.detail


def test_a_malformed_file_among_good_ones_stores_nothing(sandbox: AwsAccount, tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", log_file(sign_in(T)))
    bad = write(tmp_path, "bad.json.gz", b"\x1f\x8b\x08broken")
    with pytest.raises(CommandError, match=r"^bad.json.gz|bad.json.gz: not a readable gzip file .*; nothing stored$"):
        imported(good, bad)
    assert (AuditRun.objects.count(), RootEvent.objects.count(), Finding.objects.count()) == (0, 0, 0)


def test_an_unknown_account_or_a_missing_file_is_one_line(sandbox: AwsAccount, tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", log_file(sign_in(T)))
    with pytest.raises(CommandError, match="no account 999988887777: register it with add_account first"):
        imported(good, account="999988887777")
    with pytest.raises(CommandError, match=r"nope\.json: cannot read"):
        imported(str(tmp_path / "nope.json"))
    assert RootEvent.objects.count() == 0


def test_in_a_real_process_a_bad_file_exits_non_zero_with_one_line(cli_db: str, tmp_path: Path) -> None:
    assert manage("add_account", ACCOUNT, "--name", "sandbox", db_url=cli_db).returncode == 0
    bad = write(tmp_path, "trail.json", b'{"Records": [{"eventID": "x"}]}')
    done = manage("import_cloudtrail", bad, "--account", ACCOUNT, db_url=cli_db)
    assert done.returncode != 0 and done.stderr.strip().splitlines() == [
        f"CommandError: {bad}: record 1 is not a CloudTrail event (it needs userIdentity, eventID and eventTime); nothing stored"
    ]
    good = write(tmp_path, "good.json", log_file(sign_in(T), api_call(T)))
    done = manage("import_cloudtrail", good, "--account", ACCOUNT, db_url=cli_db)
    assert done.returncode == 0 and done.stdout.startswith("2 root events (2 new) from 1 file; findings: 1 new"), done.stderr


def test_event_findings_outlive_later_reports_and_a_trail_import_is_no_report(sandbox: AwsAccount, tmp_path: Path) -> None:
    report_import(account=sandbox, content=build_report(root_row()), generated_at=T - timedelta(days=2))
    imported(write(tmp_path, "a.json", log_file(sign_in(T, event_id="e-1"))))
    # A report newer than the last report, though older than the CloudTrail import, is still the next report.
    report_import(account=sandbox, content=build_report(root_row()), generated_at=T - timedelta(days=1))
    report_import(account=sandbox, content=build_report(root_row()), generated_at=T + timedelta(days=1))
    assert Finding.objects.get(check_id="root.session").status == FindingStatus.OPEN
