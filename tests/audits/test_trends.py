"""Trends: each run's summary, the month's latest run as its point, the charts and the agenda's arrow."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client

from accounts.models import AwsAccount
from audits.charts import last_months, sparkline, summary_charts, worse_or_better
from audits.models import TrendMonth
from audits.services import report_import
from tests.reports import build_report, root_row, user_row

pytestmark = pytest.mark.django_db
CONSOLE = {"password_enabled": "true", "password_last_used": "2026-09-30T00:00:00+00:00"}


def report(*users: dict[str, str]) -> bytes:
    return build_report(root_row(), *users)


def test_last_months_are_twelve_first_days_ending_with_this_month() -> None:
    months = last_months(date(2026, 1, 15))
    assert months[0] == date(2025, 2, 1) and months[-1] == date(2026, 1, 1) and len(months) == 12


def test_a_runs_summary_counts_what_the_charts_plot_and_the_latest_run_of_a_month_is_its_point(sandbox: AwsAccount) -> None:
    first = report_import(
        account=sandbox,
        content=report(user_row("JSmith", mfa_active="true", **CONSOLE), user_row("x_y", **CONSOLE)),  # x_y: no MFA, off-standard
        generated_at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    assert first.summary["users"] == 2 and first.summary["console_users"] == 2
    assert first.summary["without_mfa"] == 1 and first.summary["naming_violations"] == 1
    assert sum(first.summary[s] for s in ("critical", "high", "medium", "low")) == first.open_finding_count
    later = report_import(
        account=sandbox,
        content=report(user_row("JSmith", mfa_active="true", **CONSOLE)),
        generated_at=datetime(2026, 10, 20, tzinfo=UTC),
    )
    november = report_import(
        account=sandbox,
        content=report(user_row("JSmith", mfa_active="true", **CONSOLE)),
        generated_at=datetime(2026, 11, 2, tzinfo=UTC),
    )
    points = {p.month: p.run_id for p in TrendMonth.objects.filter(account=sandbox)}
    assert points == {date(2026, 10, 1): later.pk, date(2026, 11, 1): november.pk}
    assert TrendMonth.objects.get(month=date(2026, 10, 1)).summary == later.summary


def test_the_charts_and_the_arrow_follow_the_month_points() -> None:
    months = [date(2026, m, 1) for m in (9, 10, 11)]
    base = {
        "critical": 1,
        "high": 2,
        "medium": 0,
        "low": 0,
        "users": 10,
        "console_users": 4,
        "without_mfa": 1,
        "naming_violations": 5,
    }
    by_month = {months[0]: base, months[2]: {**base, "high": 5, "without_mfa": 0}}
    values, direction = worse_or_better(by_month, months)
    assert values == [3.0, None, 6.0] and direction == "worse"
    assert worse_or_better({months[0]: {**base, "high": 9}, months[2]: base}, months)[1] == "better"
    severity, shares = summary_charts(by_month, months)
    assert [s.last for s in severity.series] == [1.0, 5.0, 0.0, 0.0]
    assert [(s.label, s.last) for s in shares.series] == [("MFA on console users", 100.0), ("names fitting the standard", 50.0)]
    assert shares.top == 100.0 and len(shares.series[0].points.split()) == 2  # September and November; October has no report
    assert sparkline([0.0, None, 6.0]) == "0.0,17.0 72.0,1.0"


def test_the_account_page_charts_and_the_agenda_says_worse_or_better(sandbox: AwsAccount, alice_client: Client) -> None:
    report_import(
        account=sandbox,
        content=report(user_row("JSmith", mfa_active="true", **CONSOLE)),
        generated_at=datetime(2026, 10, 5, tzinfo=UTC),
    )
    report_import(account=sandbox, content=report(user_row("JSmith", **CONSOLE)), generated_at=datetime(2026, 11, 5, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 11, 20, tzinfo=UTC), tick=False):
        page = alice_client.get("/accounts/111122223333/").content.decode()
        overview = alice_client.get("/").content.decode()
    assert page.count('<svg class="trend"') == 2 and "Open findings by severity" in page
    assert re.search(r"MFA on console users 0%", page)  # November: JSmith's console login lost its MFA
    assert "▲ worse" in overview and '<svg class="spark"' in overview
    assert overview.count('<svg class="trend"') == 2  # the fleet's charts


def test_the_fleet_trend_summed_in_the_database_is_the_sum_of_every_accounts_points(alice_client: Client) -> None:
    """The agenda's fleet chart adds up the past months in SQL and builds this month from each account's latest figures
    and its findings open now: the same as adding up each account's own chart points (its points, this month's with
    its open findings), which is how the account page draws one account."""
    from collections import Counter

    from audits.selectors import finding_counts, fleet_trend, latest_points, trend_months, with_open_now
    from tests.audits.test_dashboard import load_fleet

    load_fleet(3, days=45, users=5)  # a month and a half of daily runs
    everyone = AwsAccount.objects.all()
    with time_machine.travel(datetime(2026, 11, 20, 3, tzinfo=UTC), tick=False):
        months = last_months(date(2026, 11, 20))
        counts = finding_counts(everyone, datetime(2026, 11, 1, tzinfo=UTC))
        fleet = fleet_trend(within=everyone, months=months, latest=latest_points(within=everyone, months=months), counts=counts)
        by_account = with_open_now(trend_months(within=everyone, months=months), months[-1], within=everyone, counts=counts)
    summed: dict[date, Counter[str]] = {}
    for points in by_account.values():
        for month, point in points.items():
            summed.setdefault(month, Counter()).update(point)
    assert set(fleet) == {date(2026, 10, 1), date(2026, 11, 1)}  # 45 days back from 20 November: 7 October
    assert {m: {k: v for k, v in p.items() if v} for m, p in fleet.items()} == {
        m: {k: v for k, v in c.items() if v} for m, c in summed.items()
    }
    assert (
        fleet[date(2026, 11, 1)]["users"] > 0
        and sum(fleet[date(2026, 11, 1)][s] for s in ("critical", "high", "medium", "low")) > 0
    )
