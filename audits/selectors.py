"""Reads for audits: findings, runs and the overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from django.db.models import Case, Count, Exists, Model, OuterRef, Q, QuerySet, Subquery, Value, When

from accounts.models import AwsAccount
from accounts.selectors import every_account, in_accounts
from audits.checks import Severity
from audits.models import AuditRun, Finding, FindingEvent, FindingStatus, PrincipalState, Review, RootUsageEvent, SignOff

_M = TypeVar("_M", bound=Model)
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


# --- The review-meeting dashboard -------------------------------------------------------------
REVIEW_WINDOW = timedelta(days=30)
SORTS = ("worst", "name", "environment", "age")


def visible_reviews(within: QuerySet[AwsAccount]) -> QuerySet[Review]:
    """The reviews all of whose accounts are in `within` (those the reader may see): a review that covers
    an account hidden from the reader is hidden as a whole, evidence pack and sign-off included."""
    if every_account(within):
        return Review.objects.all()
    return Review.objects.exclude(accounts__in=AwsAccount.objects.exclude(pk__in=within))


def review_since(*, now: datetime) -> datetime:
    """Since the last review: the latest sign-off, or 30 days back before the first one."""
    last = SignOff.objects.order_by("-signed_at").values_list("signed_at", flat=True).first()
    return last if last is not None else now - REVIEW_WINDOW


@dataclass(frozen=True, slots=True)
class OverviewRow:
    """One account on the meeting's agenda."""

    account_id: str
    name: str
    environment: str
    is_active: bool
    last_success_at: datetime | None
    last_run_status: str | None
    last_run_error: str | None
    root_used_since: bool
    open_critical: int
    open_high: int
    open_medium: int
    open_low: int
    new_since: int

    @property
    def open_total(self) -> int:
        return self.open_critical + self.open_high + self.open_medium + self.open_low


@dataclass(frozen=True, slots=True)
class EnvironmentGroup:
    environment: str
    accounts: list[OverviewRow]


def _worst_key(a: OverviewRow) -> tuple[object, ...]:
    return (-a.open_critical, -a.open_high, not a.root_used_since, a.last_run_status != "failed", -a.open_total, a.name)


def overview_accounts(
    *, within: QuerySet[AwsAccount], since: datetime, environment: str = "", q: str = "", sort: str = "worst"
) -> list[OverviewRow]:
    """Every account of `within` (those the reader may see) with what the meeting needs (open findings by severity, new findings and root use
    since `since`, the last run's status), in three queries whatever the number of accounts."""
    last_run = AuditRun.objects.filter(account=OuterRef("pk")).order_by("-requested_at", "-pk")
    accounts = within.annotate(
        root_used_since=Exists(RootUsageEvent.objects.filter(account=OuterRef("pk"), used_at__gte=since)),
        last_run_status=Subquery(last_run.values("status")[:1]),
        last_run_error=Subquery(last_run.values("error")[:1]),
    )
    if environment:
        accounts = accounts.filter(environment=environment)
    if q:
        accounts = accounts.filter(Q(name__icontains=q) | Q(account_id__startswith=q))
    # Aggregates apart from the account query: joined into it, they would multiply each other's rows.
    open_counts: dict[tuple[int, str], int] = {
        (a, sev): n
        for a, sev, n in in_accounts(Finding.objects.filter(status=FindingStatus.OPEN), within)
        .values_list("account", "severity")
        .annotate(n=Count("pk"))
        .order_by()
    }
    new_counts = dict(
        in_accounts(
            FindingEvent.objects.filter(at__gte=since, kind__in=[FindingEvent.Kind.OPENED, FindingEvent.Kind.REOPENED]),
            within,
            "finding__account",
        )
        .values_list("finding__account")
        .annotate(n=Count("pk"))
        .order_by()
    )
    fields = (
        "pk",
        "account_id",
        "name",
        "environment",
        "is_active",
        "last_success_at",
        "last_run_status",
        "last_run_error",
        "root_used_since",
    )
    rows = []
    for values in accounts.values(*fields):
        pk = values.pop("pk")
        rows.append(
            OverviewRow(
                **values,
                open_critical=open_counts.get((pk, Severity.CRITICAL.value), 0),
                open_high=open_counts.get((pk, Severity.HIGH.value), 0),
                open_medium=open_counts.get((pk, Severity.MEDIUM.value), 0),
                open_low=open_counts.get((pk, Severity.LOW.value), 0),
                new_since=new_counts.get(pk, 0),
            )
        )
    if sort == "name":
        rows.sort(key=lambda a: (a.name, a.account_id))
    elif sort == "age":
        rows.sort(key=lambda a: (a.last_success_at is not None, a.last_success_at or datetime.min.replace(tzinfo=UTC)))
    elif sort == "environment":
        rows.sort(key=lambda a: (a.environment, _worst_key(a)))
    else:
        rows.sort(key=_worst_key)
    return rows


def group_by_environment(accounts: list[OverviewRow]) -> list[EnvironmentGroup]:
    """Groups in the order their first (worst) account appears."""
    groups: dict[str, list[OverviewRow]] = {}
    for account in accounts:
        groups.setdefault(account.environment or "(none)", []).append(account)
    return [EnvironmentGroup(env, rows) for env, rows in groups.items()]


@dataclass(frozen=True, slots=True)
class FindingFilters:
    account: str = ""
    checks: tuple[str, ...] = ()
    severity: str = ""
    status: str = "open"
    since: datetime | None = None
    principal: str = ""
    user: str = ""  # exact principal name


def finding_search(filters: FindingFilters, *, within: QuerySet[AwsAccount]) -> QuerySet[Finding]:
    """Findings across the accounts of `within` (those the reader may see), filtered, worst first then by
    account, check, principal."""
    findings = in_accounts(Finding.objects.select_related("account", "last_run", "resolved_run"), within)
    if filters.account:
        findings = findings.filter(account__account_id=filters.account)
    if filters.checks:
        findings = findings.filter(check_id__in=filters.checks)
    if filters.severity:
        findings = findings.filter(severity=filters.severity)
    if filters.status != "all":
        findings = findings.filter(status=filters.status)
    if filters.since is not None:
        findings = findings.filter(first_seen__gte=filters.since)
    if filters.principal:
        findings = findings.filter(principal__icontains=filters.principal)
    if filters.user:
        findings = findings.filter(principal=filters.user)
    severity_rank = Case(*(When(severity=s.value, then=Value(i)) for i, s in enumerate(Severity)), default=Value(9))
    return findings.annotate(severity_rank=severity_rank).order_by("severity_rank", "account__name", "check_id", "principal")


def finding_history(*, finding: Finding) -> QuerySet[FindingEvent]:
    return FindingEvent.objects.filter(finding=finding).select_related("run").order_by("at", "pk")


def principal_states(*, account: AwsAccount, name: str, limit: int = 200) -> list[PrincipalState]:
    """A principal's last `limit` states, oldest first."""
    return list(reversed(PrincipalState.objects.filter(account=account, name=name).order_by("-valid_from")[:limit]))


@dataclass(frozen=True, slots=True)
class Changes:
    findings: list[FindingEvent]
    new_users: list[PrincipalState]
    removed_users: list[PrincipalState]
    root_events: list[RootUsageEvent]


def changes_since(
    *, since: datetime, within: QuerySet[AwsAccount], account: AwsAccount | None = None, limit: int = 500
) -> Changes:
    """What changed since the last review in the accounts of `within` (those the reader may see), or in one account:
    findings opened, resolved, reopened; users added and removed; root use."""

    def scoped(queryset: QuerySet[_M], lookup: str = "account") -> QuerySet[_M]:
        return queryset.filter(**{lookup: account}) if account is not None else in_accounts(queryset, within, lookup)

    events = (
        scoped(FindingEvent.objects.filter(at__gte=since), "finding__account")
        .select_related("finding__account", "run")
        .order_by("-at", "pk")
    )
    # Marked at ingest (and indexed): a state that opened a principal's life, or one closed by its removal.
    new_users = (
        scoped(PrincipalState.objects.filter(appeared=True, valid_from__gte=since))
        .select_related("account")
        .order_by("-valid_from")
    )
    removed = (
        scoped(PrincipalState.objects.filter(removed=True, valid_to__gte=since)).select_related("account").order_by("-valid_to")
    )
    root = scoped(RootUsageEvent.objects.filter(first_seen_run__generated_at__gte=since)).select_related(
        "account", "first_seen_run"
    )
    return Changes(
        findings=list(events[:limit]),
        new_users=list(new_users[:limit]),
        removed_users=list(removed[:limit]),
        root_events=list(root.order_by("-used_at")[:limit]),
    )


# The account page's sections, in meeting order: (title, checks).
ACCOUNT_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Root user", ("root.access_key_exists", "root.recent_use", "account.root_email_not_alias", "account.report_missing_root")),
    ("MFA gaps", ("root.mfa_disabled", "root.hardware_mfa", "user.console_without_mfa")),
    ("Naming standard", ("user.name_violation",)),
    ("Shared accounts", ("user.shared_account",)),
    ("Owners and leavers", ("user.owner_departed", "user.no_owner")),
    ("Administrator rights", ("user.direct_admin",)),
    (
        "Stale credentials and keys",
        (
            "user.password_unused",
            "user.access_key_unused",
            "user.access_key_not_rotated",
            "user.multiple_active_keys",
            "user.access_key_at_setup",
        ),
    ),
    ("Password policy", ("account.password_policy_weak",)),
)


def account_sections(*, account: AwsAccount) -> list[tuple[str, tuple[str, ...], list[Finding]]]:
    """The account's open findings, split into the meeting's sections, in one query."""
    open_findings = list(Finding.objects.filter(account=account, status=FindingStatus.OPEN).order_by("check_id", "principal"))
    sections = []
    placed: set[str] = set()
    for title, checks in ACCOUNT_SECTIONS:
        sections.append((title, checks, [f for f in open_findings if f.check_id in checks]))
        placed.update(checks)
    rest = [f for f in open_findings if f.check_id not in placed]
    if rest:
        sections.append(("Other", tuple(sorted({f.check_id for f in rest})), rest))
    return sections


def admins_with_mfa(*, account: AwsAccount, names: list[str]) -> set[str]:
    """Which of these users have MFA in the latest report (the admin-practice table)."""
    if not names:
        return set()
    return set(
        PrincipalState.objects.filter(account=account, name__in=names, valid_to__isnull=True, mfa_active=True).values_list(
            "name", flat=True
        )
    )
