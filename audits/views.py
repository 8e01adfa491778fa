"""Pages of the first web layer: overview, account, CSV exports. Every view needs a login (middleware)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from accounts.models import AwsAccount
from audits.checks import CHECKS_BY_ID
from audits.export import csv_lines, findings_csv
from audits.models import AuditRun
from audits.selectors import STATUS_FILTERS, account_overview, account_root_usage, account_runs, finding_list

OVERVIEW_HEADER = (
    "account_id",
    "account_name",
    "environment",
    "last_report_at",
    "open_critical",
    "open_high",
    "open_medium",
    "open_low",
    "open_total",
)
ROOT_USAGE_HEADER = ("account_id", "credential", "used_at", "first_seen_run_id", "first_seen_report_generated_at")
RUNS_HEADER = (
    "run_id",
    "account_id",
    "source",
    "status",
    "requested_at",
    "report_generated_at",
    "principals",
    "open_findings",
    "new_findings",
    "resolved_findings",
    "report_sha256",
    "error",
)


def _csv_response(lines: Iterator[bytes], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _status(request: HttpRequest) -> str:
    status = request.GET.get("status", "open")
    if status not in STATUS_FILTERS:
        raise Http404("unknown status filter")
    return status


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "audits/overview.html", {"accounts": account_overview()})


@require_GET
def overview_csv(request: HttpRequest) -> StreamingHttpResponse:
    rows = (
        (
            a.account_id,
            a.name,
            a.environment,
            a.last_success_at,
            a.open_critical,
            a.open_high,
            a.open_medium,
            a.open_low,
            a.open_total,
        )
        for a in account_overview()
    )
    return _csv_response(csv_lines(OVERVIEW_HEADER, rows), "iamwatch-accounts.csv")


@require_GET
def account_detail(request: HttpRequest, account_id: str) -> HttpResponse:
    account = get_object_or_404(AwsAccount.objects.select_related("naming_standard"), account_id=account_id)
    status = _status(request)
    findings = finding_list(account=account, status=status).select_related("last_run")
    context = {
        "account": account,
        "status": status,
        "statuses": STATUS_FILTERS,
        "findings": [(f, CHECKS_BY_ID.get(f.check_id)) for f in findings],
        "root_usage": account_root_usage(account=account)[:50],
        "runs": account_runs(account=account),
    }
    return render(request, "audits/account_detail.html", context)


@require_GET
def findings_export(request: HttpRequest) -> StreamingHttpResponse:
    account_id = request.GET.get("account")
    account = get_object_or_404(AwsAccount, account_id=account_id) if account_id else None
    status = _status(request)
    suffix = f"-{account.account_id}" if account else ""
    return _csv_response(findings_csv(finding_list(account=account, status=status)), f"iamwatch-findings{suffix}-{status}.csv")


@require_GET
def root_usage_csv(request: HttpRequest, account_id: str) -> StreamingHttpResponse:
    account = get_object_or_404(AwsAccount, account_id=account_id)
    rows = (
        (account.account_id, e.credential, e.used_at, e.first_seen_run_id, e.first_seen_run.generated_at)
        for e in account_root_usage(account=account).iterator(chunk_size=2000)
    )
    return _csv_response(csv_lines(ROOT_USAGE_HEADER, rows), f"iamwatch-root-usage-{account.account_id}.csv")


@require_GET
def runs_csv(request: HttpRequest, account_id: str) -> StreamingHttpResponse:
    account = get_object_or_404(AwsAccount, account_id=account_id)
    runs = AuditRun.objects.filter(account=account).select_related("report").order_by("-requested_at", "-id")
    rows = (
        (
            r.pk,
            account.account_id,
            r.source,
            r.status,
            r.requested_at,
            r.generated_at,
            r.principal_count,
            r.open_finding_count,
            r.new_finding_count,
            r.resolved_finding_count,
            r.report.sha256 if r.report else "",
            r.error,
        )
        for r in runs.iterator(chunk_size=2000)
    )
    return _csv_response(csv_lines(RUNS_HEADER, rows), f"iamwatch-runs-{account.account_id}.csv")


@require_GET
def run_report(request: HttpRequest, run_id: int) -> HttpResponse:
    """The raw credential report a run stored, byte for byte as received."""
    run = get_object_or_404(AuditRun.objects.select_related("report", "account"), pk=run_id, report__isnull=False)
    assert run.report is not None
    response = HttpResponse(gzip.decompress(bytes(run.report.compressed)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="credential_report_{run.account.account_id}_run{run.pk}.csv"'
    return response
