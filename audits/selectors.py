"""Reads for audits: findings, runs and the overview."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts.models import AwsAccount
from audits.checks import Severity
from audits.models import AuditRun, Finding, FindingStatus, RootUsageEvent

STATUS_FILTERS = ("open", "resolved", "accepted", "all")


def finding_list(*, account: AwsAccount | None = None, status: str = "open") -> QuerySet[Finding]:
    """Findings in a stable order (account, check, principal), filtered by account and status ('all' for every status)."""
    if status not in STATUS_FILTERS:
        raise ValueError(f"unknown status {status!r} (choose from {', '.join(STATUS_FILTERS)})")
    findings = Finding.objects.all()
    if account is not None:
        findings = findings.filter(account=account)
    if status != "all":
        findings = findings.filter(status=status)
    return findings.order_by("account__name", "account__account_id", "check_id", "principal")


def account_overview() -> QuerySet[AwsAccount]:
    """Every account with its open findings counted by severity, in one query."""
    open_ = Q(findings__status=FindingStatus.OPEN)
    counts = {f"open_{s.value}": Count("findings", filter=open_ & Q(findings__severity=s.value)) for s in Severity}
    return AwsAccount.objects.annotate(open_total=Count("findings", filter=open_), **counts).order_by(
        "-open_critical", "-open_high", "-open_total", "name"
    )


def account_runs(*, account: AwsAccount, limit: int = 20) -> QuerySet[AuditRun]:
    return AuditRun.objects.filter(account=account).select_related("report").order_by("-requested_at", "-id")[:limit]


def account_root_usage(*, account: AwsAccount) -> QuerySet[RootUsageEvent]:
    return RootUsageEvent.objects.filter(account=account).select_related("first_seen_run").order_by("-used_at")
