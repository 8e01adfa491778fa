"""Run health in the open (issue 24 point 7): a fleet Runs page, failed and partial first, with each error and its hint;
an account page that says its last run failed in its header, not only in the run table at the bottom."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AccountScope, AwsAccount
from accounts.services import account_create
from audits.models import AuditRun, RunSource, RunStatus
from audits.services import report_import
from tests.conftest import SAMPLE_T, client_for, member_of

pytestmark = pytest.mark.django_db
DENIED = (
    "sts:AssumeRole: AccessDenied: User is not authorized to perform sts:AssumeRole "
    "(the role's trust policy does not let IAMWatch in: check its principal and its sts:ExternalId condition)"
)


def _run(account: AwsAccount, status: str, error: str = "", warnings: list[str] | None = None, minutes_ago: int = 10) -> AuditRun:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return AuditRun.objects.create(
        account=account, source=RunSource.FETCH, status=status, error=error, warnings=warnings or [], requested_at=at,
        finished_at=at if status not in (RunStatus.PENDING, RunStatus.RUNNING) else None, requested_by="scheduler",
    )  # fmt: skip


@pytest.fixture
def fleet(sandbox: AwsAccount, sample_bytes: bytes) -> dict[str, AwsAccount]:
    """web-prod succeeded, data-staging's fetch failed after an earlier report, logs partial, new never ran, and
    sandbox's latest is an import that succeeded."""
    report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    accounts = {"sandbox": sandbox}
    for n, (name, env) in enumerate(
        [("web-prod", "production"), ("data-staging", "staging"), ("logs", "production"), ("new", "")]
    ):
        accounts[name] = account_create(account_id=f"99990000000{n}", name=name, environment=env)
    _run(accounts["web-prod"], RunStatus.SUCCEEDED)
    _run(accounts["data-staging"], RunStatus.SUCCEEDED, minutes_ago=200)
    AwsAccount.objects.filter(pk=accounts["data-staging"].pk).update(last_success_at=timezone.now() - timedelta(minutes=200))
    _run(accounts["data-staging"], RunStatus.FAILED, error=DENIED)
    _run(
        accounts["logs"],
        RunStatus.PARTIAL,
        warnings=["iam:GetAccountPasswordPolicy denied: account.password_policy_weak not evaluated"],
    )
    return accounts


def test_the_runs_page_lists_every_accounts_latest_run_failed_and_partial_first(
    fleet: dict[str, AwsAccount], alice_client: Client
) -> None:
    page = alice_client.get("/runs/")
    assert page.status_code == 200
    order = [(r.account.name, r.health) for r in page.context["rows"]]
    assert order == [("data-staging", "failed"), ("logs", "partial"), ("new", "never"), ("sandbox", "ok"), ("web-prod", "ok")]
    html = page.content.decode()
    assert DENIED.replace("'", "&#x27;") in html  # the error with its hint
    assert page.context["counts"] == {"failed": 1, "partial": 1, "never": 1, "active": 0, "ok": 2}
    assert '<a href="/runs/" aria-current="page">Runs</a>' in html


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("health=failed", ["data-staging"]),
        ("health=never", ["new"]),
        ("environment=production", ["logs", "web-prod"]),
        ("q=data", ["data-staging"]),
        ("health=bogus", ["data-staging", "logs", "new", "sandbox", "web-prod"]),  # a bad filter filters nothing
    ],
)
def test_the_runs_page_filters(fleet: dict[str, AwsAccount], alice_client: Client, query: str, names: list[str]) -> None:
    rows = alice_client.get(f"/runs/?{query}").context["rows"]
    assert sorted(r.account.name for r in rows) == names


def test_the_runs_csv_has_the_rows_of_the_page(fleet: dict[str, AwsAccount], alice_client: Client) -> None:
    answer = alice_client.get("/runs/?format=csv&health=failed")
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))
    assert [(r["account_name"], r["last_run"], r["status"], r["error"]) for r in rows] == [
        ("data-staging", "failed", "failed", DENIED)
    ]


def test_a_scoped_reader_sees_only_their_accounts_runs(fleet: dict[str, AwsAccount]) -> None:
    bob = member_of("viewer", "bob")
    AccountScope.objects.create(user=bob, reason="web team").accounts.set([fleet["web-prod"]])
    rows = client_for(bob).get("/runs/").context["rows"]
    assert [r.account.name for r in rows] == ["web-prod"]


def test_the_account_header_says_the_last_run_failed_and_that_the_page_shows_an_older_report(
    fleet: dict[str, AwsAccount], alice_client: Client
) -> None:
    html = alice_client.get(f"/accounts/{fleet['data-staging'].account_id}/").content.decode()
    header = html.split('<dl class="facts">')[1].split("</dl>")[0]
    assert 'id="last-run"' in header and "failed" in header and "AccessDenied" in header
    assert 'class="warn last-run-failed">The last run failed, so this page shows the report of' in html
    partial = alice_client.get(f"/accounts/{fleet['logs'].account_id}/").content.decode()
    assert "some checks could not run" in partial.split('<dl class="facts">')[1].split("</dl>")[0]
    healthy = alice_client.get(f"/accounts/{fleet['web-prod'].account_id}/").content.decode()
    assert "last-run-failed" not in healthy and "last-run-partial" not in healthy


def test_the_runs_page_pages_the_fleet_failed_first_and_its_csv_holds_every_account(
    fleet: dict[str, AwsAccount], alice_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import audits.views

    monkeypatch.setattr(audits.views, "FLEET_RUNS_PAGE", 2)
    pages = [alice_client.get(f"/runs/?page={n}") for n in (1, 2, 3)]
    shown = [[r.account.name for r in p.context["rows"]] for p in pages]
    everyone = [
        r["account_name"]
        for r in csv.DictReader(
            io.StringIO(b"".join(alice_client.get("/runs/?format=csv&page=2").streaming_content).decode("utf-8-sig"))
        )
    ]
    assert shown[0][0] == "data-staging" and [n for page in shown for n in page] == everyone and len(everyone) == 5
    body = pages[0].content.decode()
    assert 'href="?page=2">Next accounts</a>' in body and "failed: 1" in body  # the counts are the fleet's, not the page's
    assert (
        'href="?environment=production&amp;page=2"' not in alice_client.get("/runs/?environment=production").content.decode()
    )  # one page
