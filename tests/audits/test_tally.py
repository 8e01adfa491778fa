"""The tally of open findings (FindingTally): counted from the findings by the migration that adds it, kept by every
write since (the suite checks it after every test that touches the database: tests/conftest.py), read by the agenda."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from accounts.models import AwsAccount
from audits.models import Finding, FindingTally
from audits.selectors import TalliedFindings, tally_drift
from audits.services import finding_tally_refresh, report_import
from tests.conftest import SAMPLE_T

BEFORE, AFTER = [("audits", "0017_run_requested_at_index")], [("audits", "0018_finding_tally")]
T = datetime(2026, 10, 1, tzinfo=UTC)


def test_the_migration_counts_every_accounts_open_findings_by_check_and_severity(migrator: Any) -> None:
    old = migrator(BEFORE)
    Account, Run, Finding_ = (
        old.get_model(*m) for m in (("accounts", "AwsAccount"), ("audits", "AuditRun"), ("audits", "Finding"))
    )
    a, b = (Account.objects.create(account_id=i, name=i) for i in ("111122223333", "444455556666"))
    run = Run.objects.create(account=a, source="fetch", status="succeeded", requested_at=T, generated_at=T)
    for account, check, severity, status, principal in (
        (a, "user.console_without_mfa", "high", "open", "x"),
        (a, "user.console_without_mfa", "high", "open", "y"),
        (a, "user.console_without_mfa", "high", "resolved", "z"),
        (a, "user.console_without_mfa", "high", "accepted", "w"),
        (a, "user.no_owner", "medium", "open", "x"),
        (b, "user.no_owner", "medium", "open", "x"),
        (b, "user.no_owner", "medium", "resolved", "y"),
    ):
        Finding_.objects.create(account=account, check_id=check, principal=principal, severity=severity, status=status,
                                first_seen=T, last_seen=T, first_run=run, last_run=run)  # fmt: skip

    migrator(AFTER)
    assert sorted(FindingTally.objects.values_list("account_id", "check_id", "severity", "open")) == [
        (a.pk, "user.console_without_mfa", "high", 2),  # the resolved and the accepted not counted
        (a.pk, "user.no_owner", "medium", 1),
        (b.pk, "user.no_owner", "medium", 1),
    ]
    assert tally_drift() == {}


@pytest.fixture
def imported(sandbox: AwsAccount, sample_bytes: bytes) -> None:
    report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)


def agenda_open_high(client: Client) -> int:
    rows = list(csv.DictReader(io.StringIO(b"".join(client.get("/?format=csv").streaming_content).decode())))  # type: ignore[attr-defined]
    return int(rows[0]["open_high"])


def test_the_suites_check_sees_a_finding_changed_without_its_tally(sandbox: AwsAccount, imported: None) -> None:
    finding = Finding.objects.filter(account=sandbox, status="open").order_by("pk").first()
    assert finding is not None and tally_drift() == {}
    Finding.objects.filter(pk=finding.pk).update(status="resolved")  # behind the services' back
    key = (sandbox.pk, finding.check_id, finding.severity)
    tallied = FindingTally.objects.get(account=sandbox, check_id=finding.check_id, severity=finding.severity).open
    assert tally_drift() == {key: (tallied, tallied - 1)}
    finding_tally_refresh([sandbox.pk])
    assert tally_drift() == {}


def test_the_agenda_counts_open_findings_from_the_tally(sandbox: AwsAccount, imported: None, alice_client: Client) -> None:
    assert agenda_open_high(alice_client) == Finding.objects.filter(account=sandbox, status="open", severity="high").count() > 0
    rows = FindingTally.objects.filter(account=sandbox, severity="high")
    rows.update(open=99)  # what the agenda reads, and nothing else changed
    assert agenda_open_high(alice_client) == 99 * rows.count()
    finding_tally_refresh([sandbox.pk])  # put back: the suite's check holds after this test too


@pytest.mark.parametrize(
    "query",
    [
        "",
        "severity=high",
        "severity=critical",
        "check=user.console_without_mfa",
        "account=700000000001",
        "check=user.console_without_mfa&check=user.shared_account&severity=high",
    ],
)
def test_open_findings_paged_from_the_tally_are_the_searchs_rows_in_its_order(
    alice_client: Client, monkeypatch, query: str
) -> None:  # type: ignore[no-untyped-def]
    import audits.views
    from tests.audits.test_dashboard import load_fleet

    load_fleet(3, days=4, users=8, first=0)
    AwsAccount.objects.filter(account_id="700000000002").update(name="aaa")  # the accounts' names not in their ids' order
    monkeypatch.setattr(audits.views, "PAGE_SIZE", 4)
    searched = [
        (f.account.account_id, f.check_id, f.principal, f.subject)
        for f in alice_client.get(f"/findings/?{query}&status=all").context["page"].paginator.object_list.filter(status="open")
    ]
    first = alice_client.get(f"/findings/?{query}")
    assert isinstance(first.context["page"].paginator.object_list, TalliedFindings)
    pages = first.context["page"].paginator.num_pages
    paged = [
        (f.account.account_id, f.check_id, f.principal, f.subject)
        for n in range(1, pages + 1)
        for f in alice_client.get(f"/findings/?{query}&page={n}").context["page"]
    ]
    assert paged == searched and len(searched) > 0
    assert first.context["page"].paginator.count == len(searched)
