"""The account page, its CSV exports and raw reports. Every view needs a login (middleware)."""

from __future__ import annotations

import gzip
from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import NamingExemption
from accounts.roles import account_or_404, reader_required
from accounts.selectors import account_standard, in_accounts, standard_rule, visible_accounts
from audits.charts import root_usage_timeline
from audits.checks import CHECKS_BY_ID
from audits.export import ROOT_USAGE_HEADER, csv_response, root_usage_row
from audits.models import AuditRun
from audits.selectors import STATUS_FILTERS, account_root_usage, account_runs, account_sections, admins_with_mfa, finding_list

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


def _status(request: HttpRequest) -> str:
    status = request.GET.get("status", "open")
    if status not in STATUS_FILTERS:
        raise Http404("unknown status filter")
    return status


@require_GET
@reader_required
def account_detail(request: HttpRequest, account_id: str) -> HttpResponse:
    account = account_or_404(request, account_id)
    status = _status(request)
    findings = finding_list(account=account, status=status).select_related("last_run")
    now = timezone.now()
    root_usage = list(account_root_usage(account=account).filter(used_at__gte=now - timedelta(days=365)))
    standard = account_standard(account=account)
    sections = account_sections(account=account)
    admin_findings = [f for _, checks, items in sections if "user.direct_admin" in checks for f in items]
    context = {
        "account": account,
        "status": status,
        "statuses": STATUS_FILTERS,
        "findings": [(f, CHECKS_BY_ID.get(f.check_id)) for f in findings],
        "sections": sections,
        "standard": standard,
        "naming": standard_rule(standard),
        "exemptions": NamingExemption.objects.filter(standard=standard).order_by("user_name") if standard else [],
        "admins_with_mfa": admins_with_mfa(account=account, names=[f.principal for f in admin_findings]),
        "root_usage": root_usage,
        "timeline": root_usage_timeline([(e.used_at, e.credential) for e in root_usage], end=now),
        "runs": account_runs(account=account),
        "root_email_rule": settings.IAMWATCH_ROOT_EMAIL_RULE,
    }
    return render(request, "audits/account_detail.html", context)


@require_GET
@reader_required
def root_usage_csv(request: HttpRequest, account_id: str) -> StreamingHttpResponse:
    account = account_or_404(request, account_id)
    rows = (root_usage_row(e) for e in account_root_usage(account=account).select_related("account").iterator(chunk_size=2000))
    return csv_response(ROOT_USAGE_HEADER, rows, f"iamwatch-root-usage-{account.account_id}.csv")


@require_GET
@reader_required
def runs_csv(request: HttpRequest, account_id: str) -> StreamingHttpResponse:
    account = account_or_404(request, account_id)
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
    return csv_response(RUNS_HEADER, rows, f"iamwatch-runs-{account.account_id}.csv")


@require_GET
@reader_required
def run_report(request: HttpRequest, run_id: int) -> HttpResponse:
    """The raw credential report a run stored, byte for byte as received."""
    run = get_object_or_404(
        in_accounts(AuditRun.objects.select_related("report", "account"), visible_accounts(request.user)),
        pk=run_id,
        report__isnull=False,
    )
    if run.report is None:
        raise Http404("this run stored no report")
    response = HttpResponse(gzip.decompress(bytes(run.report.compressed)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="credential_report_{run.account.account_id}_run{run.pk}.csv"'
    return response
