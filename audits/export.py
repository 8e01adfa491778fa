"""CSV export: one generator of encoded lines serves the web download and `manage.py export_findings`."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from audits.models import Finding, FindingStatus, RootUsageEvent

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
# A cell starting with one of these is read as a formula by spreadsheets (IAM names may start with =+-@).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """Render a value for CSV; prefix a quote where a spreadsheet would run the text as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso_utc(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def iso_utc(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else ""


class _Line:
    """A file-like object whose write returns the line, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """Yield the UTF-8 CSV lines of a header and rows, neutralising formula cells; constant memory."""
    writer = csv.writer(_Line())
    yield writer.writerow(header).encode()
    for row in rows:
        yield writer.writerow([safe_cell(v) for v in row]).encode()


ROOT_USAGE_HEADER: tuple[str, ...] = (
    "account_id",
    "credential",
    "used_at",
    "first_seen_run_id",
    "first_seen_report_generated_at",
)


def csv_response(header: Sequence[str], rows: Iterable[Sequence[object]], filename: str) -> StreamingHttpResponse:
    """A streamed CSV download of a header and rows (the web side of csv_lines)."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


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
