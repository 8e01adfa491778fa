"""CSV export: one generator of encoded lines serves the web download and `manage.py export_findings`."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from audits.models import Finding, FindingStatus, RootUsageEvent
from staff.export import csv_lines

FINDINGS_HEADER: tuple[str, ...] = (
    "account_id",
    "account_name",
    "check_id",
    "severity",
    "status",
    "principal",
    "arn",
    "detail",
    "first_seen",
    "last_seen",
    "resolved_at",
    "run_id",
    "report_generated_at",
)


ROOT_USAGE_HEADER: tuple[str, ...] = (
    "account_id",
    "credential",
    "used_at",
    "first_seen_run_id",
    "first_seen_report_generated_at",
)


def root_usage_row(event: RootUsageEvent) -> tuple[object, ...]:
    """A root-usage event as a ROOT_USAGE_HEADER row (select_related account and first_seen_run)."""
    return (event.account.account_id, event.credential, event.used_at, event.first_seen_run_id, event.first_seen_run.generated_at)


def finding_row(finding: Finding) -> tuple[object, ...]:
    # The run that is the evidence for the status: the run that resolved it, else the latest that saw it.
    run = finding.resolved_run if finding.status == FindingStatus.RESOLVED and finding.resolved_run else finding.last_run
    return (
        finding.account.account_id,
        finding.account.name,
        finding.check_id,
        finding.severity,
        finding.status,
        finding.principal,
        finding.arn,
        finding.detail,
        finding.first_seen,
        finding.last_seen,
        finding.resolved_at,
        run.pk,
        run.generated_at,
    )


def findings_csv(findings: QuerySet[Finding]) -> Iterator[bytes]:
    """The findings CSV (DESIGN.md header) of a queryset, streamed."""
    rows = (finding_row(f) for f in findings.select_related("account", "last_run", "resolved_run").iterator(chunk_size=2000))
    return csv_lines(FINDINGS_HEADER, rows)
