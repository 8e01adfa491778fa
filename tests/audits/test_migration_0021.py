"""audits 0021: the trend points stored before it get their figures as columns, computed from their summaries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

BEFORE, AFTER = [("audits", "0020_push_runs")], [("audits", "0021_agenda_reads")]
T = datetime(2026, 10, 1, tzinfo=UTC)


def test_stored_trend_points_read_their_figures_as_columns(migrator: Any) -> None:
    old = migrator(BEFORE)
    account = old.get_model("accounts", "AwsAccount").objects.create(account_id="111122223333", name="sandbox")
    run = old.get_model("audits", "AuditRun").objects.create(
        account=account, source="import", status="succeeded", requested_at=T, generated_at=T
    )
    summary = {
        "critical": 1,
        "high": 2,
        "medium": 3,
        "low": 4,
        "users": 20,
        "console_users": 12,
        "without_mfa": 5,
        "naming_violations": 6,
    }
    TrendMonth = old.get_model("audits", "TrendMonth")
    TrendMonth.objects.create(account=account, month=date(2026, 10, 1), run=run, generated_at=T, summary=summary)
    TrendMonth.objects.create(
        account=account, month=date(2026, 9, 1), run=run, generated_at=T, summary={"users": 7}
    )  # an older summary: fewer keys

    migrator(AFTER)
    from audits.models import TrendMonth as Current

    october, september = Current.objects.order_by("-month")
    assert {key: getattr(october, key) for key in summary} == summary
    assert (september.users, september.critical) == (7, None)  # a figure the summary lacks is no figure, never 0
