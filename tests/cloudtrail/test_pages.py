"""The Root activity page, the account page's CloudTrail table and gaps, the upload, and the agenda's root column."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.html import strip_tags

from accounts.models import AwsAccount
from accounts.services import account_create
from audits.models import AuditRun, RunSource, RunStatus
from audits.services import report_import
from cloudtrail.models import RootEvent, TrailRead
from cloudtrail.services import cloudtrail_import
from demo.trail import ACCOUNT, api_call, log_file, sign_in
from tests.accounts.test_account_scope import scoped
from tests.conftest import client_for, member_of
from tests.reports import build_report, root_row

pytestmark = pytest.mark.django_db
T = datetime(2026, 11, 22, 9, 14, 3, tzinfo=UTC)
OTHER = "444455556666"


@pytest.fixture
def trail(sandbox: AwsAccount) -> AwsAccount:
    """The sandbox's root: a sign-in with MFA, one without, a failed one, calls from two addresses; root in another
    account too."""
    other = account_create(account_id=OTHER, name="other")
    records = [
        sign_in(T, event_id="in-mfa"), sign_in(T + timedelta(days=1), mfa="No", ip="198.51.100.5", event_id="in-nomfa"),
        sign_in(T + timedelta(days=2), success=False, mfa=None, ip="192.0.2.9", event_id="failed"),
        api_call(T + timedelta(hours=1), "CreateUser", event_id="call-1"),
        api_call(T + timedelta(days=3), "DeleteTrail", source="cloudtrail.amazonaws.com", ip="198.51.100.5", error="AccessDenied", event_id="call-2"),
    ]  # fmt: skip
    cloudtrail_import(account=sandbox, files=[("a.json", log_file(*records))], actor="t")
    cloudtrail_import(account=other, files=[("b.json", log_file(sign_in(T, account=OTHER, event_id="elsewhere")))], actor="t")
    return sandbox


def shown(client: Client, query: str = "") -> list[str]:
    response = client.get(f"/root-activity/?{query}&format=csv")
    assert response.status_code == 200
    return [row["event_id"] for row in csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("query", "events"),
    [
        ("", ["call-2", "failed", "in-nomfa", "call-1", "elsewhere", "in-mfa"]),  # newest first
        (f"account={ACCOUNT}", ["call-2", "failed", "in-nomfa", "call-1", "in-mfa"]),
        ("kind=sign_in", ["in-nomfa", "elsewhere", "in-mfa"]),
        ("kind=failed_sign_in", ["failed"]),
        ("kind=call", ["call-2", "call-1"]),
        ("mfa=no", ["in-nomfa"]),
        ("mfa=yes", ["call-2", "call-1", "elsewhere", "in-mfa"]),
        ("kind=sign_in&mfa=no", ["in-nomfa"]),
        ("mfa=unknown", ["failed"]),
        ("address=198.51.100.", ["call-2", "in-nomfa"]),
        ("since=2026-11-23&until=2026-11-24", ["failed", "in-nomfa"]),
    ],
)
def test_each_filter_lists_exactly_its_events_and_the_csv_the_same(
    trail: AwsAccount, alice_client: Client, query: str, events: list[str]
) -> None:
    assert shown(alice_client, query) == events
    page = alice_client.get(f"/root-activity/?{query}").content.decode()
    assert f"{len(events)} root event" in page


def test_a_scoped_reader_sees_the_root_events_of_their_accounts_only(trail: AwsAccount) -> None:
    assert shown(scoped("viewer", trail)) == ["call-2", "failed", "in-nomfa", "call-1", "in-mfa"]


@pytest.mark.parametrize(
    ("query", "error"),
    [("address=1.2.3.4%3Bdrop", "address: An address or its start"), ("since=2026-11-24&until=2026-11-23", "The period ends before it starts."),
     ("kind=everything", "kind: Select a valid choice")],
)  # fmt: skip
def test_a_bad_filter_is_a_400_with_one_line(trail: AwsAccount, alice_client: Client, query: str, error: str) -> None:
    response = alice_client.get(f"/root-activity/?{query}")
    assert response.status_code == 400 and error in response.content.decode()


def test_a_user_agent_that_starts_a_formula_is_neutralised_in_the_csv(sandbox: AwsAccount, alice_client: Client) -> None:
    record = sign_in(T, event_id="evil")
    record["userAgent"] = '=HYPERLINK("http://x")'
    cloudtrail_import(account=sandbox, files=[("a.json", log_file(record))], actor="t")
    body = b"".join(alice_client.get("/root-activity/?format=csv").streaming_content).decode()  # type: ignore[attr-defined]
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body


def test_a_reviewer_uploads_files_on_the_account_page_all_or_nothing(sandbox: AwsAccount) -> None:
    reviewer = client_for(member_of("reviewer", "rita"))
    good = SimpleUploadedFile("a.json.gz", log_file(sign_in(T, event_id="e-1"), gz=True))
    response = reviewer.post(f"/accounts/{ACCOUNT}/cloudtrail", {"trail_files": [good]}, follow=True)
    assert "1 root event (1 new) from 1 file" in response.content.decode()
    assert AuditRun.objects.get(source=RunSource.CLOUDTRAIL).requested_by == "rita"
    good, bad = SimpleUploadedFile("b.json", log_file(sign_in(T, event_id="e-2"))), SimpleUploadedFile("c.json", b"{")
    response = reviewer.post(f"/accounts/{ACCOUNT}/cloudtrail", {"trail_files": [good, bad]}, follow=True)
    assert "Not imported: c.json: not JSON" in strip_tags(response.content.decode())
    assert list(RootEvent.objects.values_list("event_id", flat=True)) == ["e-1"]


def _with_report_use(account: AwsAccount, used: datetime) -> None:
    content = build_report(root_row(password_last_used=used.strftime("%Y-%m-%dT%H:%M:%S+00:00")))
    report_import(account=account, content=content, generated_at=used + timedelta(hours=1))


def _read(account: AwsAccount, start: datetime, end: datetime, problem: str = "") -> None:
    run = AuditRun.objects.create(
        account=account, source=RunSource.FETCH, status=RunStatus.SUCCEEDED, requested_at=end, generated_at=end
    )
    TrailRead.objects.create(account=account, run=run, region="us-east-1", start=start, end=end, problem=problem)


def gap_column(client: Client) -> str:
    page = client.get(f"/accounts/{ACCOUNT}/").content.decode()
    return strip_tags(page.split("Root uses the credential reports saw")[1].split("</table>")[0]).split("First seen by run")[1]


@time_machine.travel(datetime(2026, 11, 28, tzinfo=UTC), tick=False)
def test_the_account_page_says_for_each_report_use_whether_cloudtrail_has_it_and_why_not(
    sandbox: AwsAccount, alice_client: Client
) -> None:
    used = T
    _with_report_use(sandbox, used)
    assert "no: CloudTrail not read for this account" in gap_column(alice_client)
    cloudtrail_import(account=sandbox, files=[("other-day.json", log_file(api_call(used + timedelta(days=3))))], actor="t")
    assert "no: no LookupEvents read covers this time, and no imported file has it" in gap_column(alice_client)
    _read(sandbox, used + timedelta(days=1), used + timedelta(days=2))
    assert "no: before the first 90 days CloudTrail was read for" in gap_column(alice_client)
    _read(sandbox, used - timedelta(days=90), used + timedelta(days=1))
    assert "no: not in CloudTrail, though it was read for this time" in gap_column(alice_client)
    cloudtrail_import(account=sandbox, files=[("a.json", log_file(sign_in(used + timedelta(seconds=40))))], actor="t")
    column = gap_column(alice_client)
    assert "yes" in column and "no:" not in column
    page = alice_client.get(f"/accounts/{ACCOUNT}/").content.decode()
    assert (
        'class="mark mark-cloudtrail"><title>console sign-in 2026-11-22 09:14:43 UTC from 203.0.113.10, MFA used</title>' in page
    )


@time_machine.travel(datetime(2026, 11, 28, tzinfo=UTC), tick=False)
def test_the_agendas_root_column_counts_a_cloudtrail_event_the_report_did_not_see(
    sandbox: AwsAccount, alice_client: Client
) -> None:
    report_import(account=sandbox, content=build_report(root_row()), generated_at=T - timedelta(days=20))
    assert 'class="root-session' not in alice_client.get("/?since=2026-11-01").content.decode()
    cloudtrail_import(account=sandbox, files=[("a.json", log_file(api_call(T)))], actor="t")
    page = alice_client.get("/?since=2026-11-01").content.decode()
    cell = page.split('class="root-cell">')[1].split("</td>")[0]
    assert (
        'class="root-session sev-high"' in cell
        and '<time datetime="2026-11-22T09:14:03+00:00">2026-11-22 09:14 UTC</time></a> calls from 203.0.113.10' in cell
    )
    # Since a later day, the event happened before it but was stored after it: late evidence, still root used (issue 23.3)
    assert '<span class="late">arrived late</span>' in alice_client.get("/?since=2026-11-23").content.decode()
    assert 'class="root-session' not in alice_client.get("/?since=2026-11-28T00:00:01Z").content.decode()


@time_machine.travel(datetime(2026, 11, 28, tzinfo=UTC), tick=False)
def test_the_agenda_shows_when_root_signed_in_not_its_sessions_last_call(sandbox: AwsAccount, alice_client: Client) -> None:
    """Issue 23.6: the agenda said 23:00 (a call) where the report and CloudTrail said root signed in at 22:56."""
    signed_in = datetime(2026, 11, 22, 22, 56, 10, tzinfo=UTC)
    report_import(
        account=sandbox,
        content=build_report(root_row(password_last_used=signed_in.isoformat())),
        generated_at=signed_in + timedelta(hours=4),
    )
    calls = [api_call(signed_in + timedelta(minutes=4), "CreateUser", event_id="call")]
    cloudtrail_import(account=sandbox, files=[("a.json", log_file(sign_in(signed_in, event_id="in"), *calls))], actor="t")
    agenda = next(a for g in alice_client.get("/?since=2026-11-01").context["groups"] for a in g["accounts"])
    report_time = sandbox.root_usage_events.get(credential="password").used_at
    assert agenda["root_last_used"] == signed_in == report_time
    cloudtrail_import(
        account=sandbox,
        files=[("b.json", log_file(api_call(signed_in + timedelta(days=2), "ListUsers", event_id="later")))],
        actor="t",
    )
    agenda = next(a for g in alice_client.get("/?since=2026-11-01").context["groups"] for a in g["accounts"])
    assert agenda["root_last_used"] == signed_in + timedelta(days=2)  # a call outside any session shows as itself


def sessions_csv(client: Client, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"/root-activity/?{query}&format=csv&table=sessions")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))  # type: ignore[attr-defined]


@time_machine.travel(T + timedelta(days=10), tick=False)
def test_the_root_activity_page_lists_the_sessions_and_their_csv(trail: AwsAccount, alice_client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_KNOWN_NETWORKS = ["203.0.113.0/24"]
    page = alice_client.get("/root-activity/")
    listed = [(a.name, s.subject, s.severity.value) for a, s in page.context["sessions"]]
    # Five sessions, the latest first: call-2 alone (no sign-in before it in the idle time), the failures, the sign-in
    # without MFA, the sign-in with MFA and its call an hour later, and the other account's.
    assert listed == [
        ("sandbox", "call-2", "critical"), ("sandbox", "failed", "high"), ("sandbox", "in-nomfa", "critical"),
        ("sandbox", "in-mfa", "high"), ("other", "elsewhere", "medium"),
    ]  # fmt: skip
    html = page.content.decode()
    assert "2026-11-22 09:14 UTC console sign-in from 203.0.113.10; MFA; 1 call in us-east-1: iam:CreateUser" in html
    rows = sessions_csv(alice_client, f"account={ACCOUNT}&since=2026-11-23")
    assert [(r["event_ids"], r["kind"], r["mfa"], r["outside_known_networks"]) for r in rows] == [
        ("call-2", "calls", "yes", "198.51.100.5"), ("failed", "failed", "", "192.0.2.9"), ("in-nomfa", "console", "no", "198.51.100.5"),
    ]  # fmt: skip


def test_a_scoped_reader_sees_only_their_accounts_sessions(trail: AwsAccount) -> None:
    other = AwsAccount.objects.get(account_id=OTHER)
    client = scoped("viewer", other)
    with time_machine.travel(T + timedelta(days=10), tick=False):
        assert [r["event_ids"] for r in sessions_csv(client)] == ["elsewhere"]


@time_machine.travel(T + timedelta(days=10), tick=False)
def test_the_account_page_lists_each_root_session_with_its_finding(trail: AwsAccount, alice_client: Client) -> None:
    page = alice_client.get(f"/accounts/{ACCOUNT}/")
    sessions = page.context["root_sessions"]
    assert [s.subject for s, _ in sessions] == ["call-2", "failed", "in-nomfa", "in-mfa"]
    assert all(f is not None and f.check_id == "root.session" and f.subject == s.subject for s, f in sessions)
    table = page.content.decode().split('id="root-sessions"')[1].split("</table>")[0]
    assert '<strong class="sev-critical">no</strong>' in table and "<code>iam:CreateUser</code>" in table
