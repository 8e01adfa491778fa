"""Reads for audits: findings, runs, the overview, and the IAM users of an account or a person with their owners."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar, overload

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, F, Max, Model, OuterRef, Q, QuerySet, Subquery, Sum, Value, When, Window
from django.db.models.functions import Lower, RowNumber
from django.utils import timezone

from accounts.models import AwsAccount, NamingStandard
from accounts.naming import NamingRule
from accounts.selectors import default_standard, in_accounts, outside_scope, redacted
from audits.checks import Severity
from audits.models import (
    REPORT_SOURCES,
    AuditRun,
    Finding,
    FindingEvent,
    FindingStatus,
    FindingTally,
    PrincipalState,
    RootUsageEvent,
    RunSource,
    RunStatus,
    TrendMonth,
)
from audits.report import ROOT_USER
from people.matching import Owner, PeopleIndex, PersonFacts, people_index, standard_name
from people.models import OwnerLink, Person
from people.selectors import directory_people, person_facts

_M = TypeVar("_M", bound=Model)
STATUS_FILTERS = ("open", "resolved", "accepted", "all")


def latest_stored_run(*, account: AwsAccount) -> AuditRun | None:
    """The account's latest run whose report landed (succeeded or partial)."""
    return AuditRun.objects.stored_reports().filter(account=account).order_by("-generated_at", "-pk").first()


def account_runs(*, account: AwsAccount) -> QuerySet[AuditRun]:
    """The account's runs, newest first, with their stored reports."""
    return AuditRun.objects.filter(account=account).select_related("report").order_by("-requested_at", "-id")


RUNS_PER_PAGE = 10
ORGANISATION_NOTES = "notes about the whole organisation: not shown to a login limited to some accounts"


@dataclass(frozen=True, slots=True)
class FleetRun:
    """An account and its latest report run (None: never run), for the fleet's Runs page."""

    account: AwsAccount
    run: AuditRun | None

    @property
    def health(self) -> str:
        """failed, partial, never, active (pending or running) or ok (succeeded, unchanged)."""
        if self.run is None:
            return "never"
        status = self.run.status
        if status in (RunStatus.FAILED, RunStatus.PARTIAL):
            return str(status)
        return "active" if status in (RunStatus.PENDING, RunStatus.RUNNING) else "ok"


RUN_HEALTH = ("failed", "partial", "never", "active", "ok")  # the Runs page's order: what needs a look first


def fleet_runs(*, within: QuerySet[AwsAccount], health: str = "", environment: str = "", q: str = "") -> list[FleetRun]:
    """Every account of `within` with its latest report run (REPORT_SOURCES, as the agenda's "last run"): failed first,
    then partial, never run, under way, and those that succeeded; by account name within each. Two queries."""
    latest = AuditRun.objects.filter(account=OuterRef("pk"), source__in=REPORT_SOURCES).order_by("-requested_at", "-pk")
    accounts = within.annotate(latest_run_id=Subquery(latest.values("pk")[:1]))
    if environment:
        accounts = accounts.filter(environment=environment)
    if q:
        accounts = accounts.filter(Q(name__icontains=q) | Q(account_id__startswith=q))
    listed = list(accounts.order_by("name", "account_id"))
    runs = AuditRun.objects.defer("summary", "not_evaluated").in_bulk([a.latest_run_id for a in listed if a.latest_run_id])
    rows = [FleetRun(a, runs.get(a.latest_run_id)) for a in listed]
    if health:
        rows = [r for r in rows if r.health == health]
    return sorted(rows, key=lambda r: RUN_HEALTH.index(r.health))


def run_for_reader(run: AuditRun, outside: list[str]) -> AuditRun:
    """A run's notes and error as a reader with a scope may see them (`outside`: the ids and names of the accounts
    outside it). An Identity Center run reads the whole organisation: its notes and error (counts, other accounts)
    are not theirs to see, even on the page of the account that holds Identity Center; any other run's name no
    account outside the scope (a report of another account, say)."""
    if not outside:
        return run
    if run.source == RunSource.IDENTITY_CENTER:
        run.warnings, run.error = [ORGANISATION_NOTES], ""
    else:
        run.warnings, run.error = [redacted(w, outside) for w in run.warnings], redacted(run.error, outside)
    return run


def runs_page(*, account: AwsAccount, visible: QuerySet[AwsAccount], number: str | None) -> Page[AuditRun]:
    """A page of the account's runs, newest first (page `number`), as a reader who sees `visible` may see them; every
    run is in the runs CSV."""
    page = Paginator(account_runs(account=account), RUNS_PER_PAGE).get_page(number)
    outside = outside_scope(visible)
    page.object_list = [run_for_reader(r, outside) for r in page.object_list]
    return page


def account_root_usage(*, account: AwsAccount) -> QuerySet[RootUsageEvent]:
    return RootUsageEvent.objects.filter(account=account).select_related("first_seen_run").order_by("-used_at")


SORTS = ("worst", "name", "environment", "age")


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
    open_critical: int
    open_high: int
    open_medium: int
    open_low: int
    new_since: int  # findings first seen since (any status): the findings page with status=all&since=
    new_serious: int = 0  # of them, critical or high
    resolved_since: int = 0  # findings resolved since: status=resolved&resolved_since=
    root_last_used: datetime | None = None  # root's last use since, if any
    report_root_used: datetime | None = None  # root's last use since as the credential report says it
    # Root's sessions since (cloudtrail.sessions.RootSession, from cloudtrail.selectors): one line each on the agenda.
    root_sessions: tuple[Any, ...] = ()
    pk: int = 0
    users: int = 0  # current IAM users (root not counted)
    console_users: int = 0  # of them, with a console password
    without_mfa: int = 0  # open user.console_without_mfa findings
    naming_violations: int = 0  # open user.name_violation findings
    iam_admins: int = 0  # open user.direct_admin findings: IAM users with administrator rights
    sso_admins: int = 0  # Identity Center users with an administrator permission set on the account
    iam_can_become_admin: int = 0  # open user.can_become_admin findings: IAM users one step from administrator
    sso_can_become_admin: int = 0  # open sso.can_become_admin findings: Identity Center users one step from it
    review_total: int | None = None  # findings the open review decides in this account (None: not in it)
    review_decided: int = 0
    spark: str = ""  # open critical + high over 12 months, as sparkline points
    trend: str = "same"  # the last month against the one before: worse, better, same

    @property
    def open_total(self) -> int:
        return self.open_critical + self.open_high + self.open_medium + self.open_low

    @property
    def root_used_since(self) -> bool:
        return self.root_last_used is not None

    @property
    def to_discuss(self) -> bool:
        """Whether the meeting discusses the account (issue 29): its last run failed or was partial or it was never
        read, root was used, a critical or high finding is new since the review, or the open review has findings of
        it still without a decision. The others are summed up in one line."""
        return (
            self.last_run_status in ("failed", "partial")
            or self.last_success_at is None
            or self.root_used_since
            or self.new_serious > 0
            or (self.review_total is not None and self.review_decided < self.review_total)
        )

    def as_dict(self) -> dict[str, Any]:
        """The row with its properties, for a template: the template engine reads a dict's key at once, but tries
        row[name] before getattr(row, name) on an object, one caught exception per cell (a third of the agenda's
        time at 500 accounts)."""
        return {name: getattr(self, name) for name in (*self.__slots__, "open_total", "root_used_since", "to_discuss")}


@dataclass(frozen=True, slots=True)
class EnvironmentGroup:
    environment: str
    accounts: list[OverviewRow]


_SEVERITIES = tuple(s.value for s in Severity)  # worst first; read once (an enum member's .value is a descriptor call)


@dataclass(slots=True)
class _AccountFacts:
    """What the agenda's order reads of an account; the rest of its row is read only when the row is."""

    pk: int
    account_id: str
    name: str
    environment: str
    is_active: bool
    last_success_at: datetime | None
    last_run_status: str | None
    last_run_error: str | None
    report_root_used: datetime | None
    root_last_used: datetime | None
    root_sessions: tuple[Any, ...]
    open_critical: int
    open_high: int
    open_medium: int
    open_low: int


def _worst_key(a: _AccountFacts) -> tuple[object, ...]:
    """Worst first: an account whose last run failed or was partial, or that was never read, before any finding
    count (its counts say nothing, or not everything); then critical, high, root used, the total."""
    unknown = a.last_run_status in ("failed", "partial") or a.last_success_at is None
    total = a.open_critical + a.open_high + a.open_medium + a.open_low
    return (not unknown, -a.open_critical, -a.open_high, a.root_last_used is None, -total, a.name)


class AgendaRows(Sequence[OverviewRow]):
    """The agenda's accounts in their order, each row built when it is read: a page of the overview builds its fifty
    rows, the CSV every one. Ordering and counting read only _AccountFacts (issue 29: 2,000 accounts)."""

    def __init__(self, facts: list[_AccountFacts], build: Callable[[_AccountFacts], OverviewRow]) -> None:
        self._facts = facts
        self._build = build

    def __len__(self) -> int:
        return len(self._facts)

    @overload
    def __getitem__(self, index: int) -> OverviewRow: ...

    @overload
    def __getitem__(self, index: slice) -> list[OverviewRow]: ...

    def __getitem__(self, index: int | slice) -> OverviewRow | list[OverviewRow]:
        if isinstance(index, slice):
            return [self._build(f) for f in self._facts[index]]
        return self._build(self._facts[index])

    def environments(self) -> list[str]:
        return sorted({f.environment for f in self._facts if f.environment})

    def mapped(self, change: Callable[[OverviewRow], OverviewRow]) -> AgendaRows:
        """The same rows, each passed through `change` when it is built."""
        build = self._build
        return AgendaRows(self._facts, lambda f: change(build(f)))


def overview_accounts(
    *,
    within: QuerySet[AwsAccount],
    since: datetime,
    environment: str = "",
    q: str = "",
    sort: str = "worst",
    review: tuple[set[int], dict[int, tuple[int, int]]] | None = None,
    people: dict[int, tuple[int, int]] | None = None,
    sso_admins: dict[int, int] | None = None,
    root_sessions: Mapping[int, Sequence[Any]] | None = None,
    counts: AgendaCounts | None = None,
) -> AgendaRows:
    """Every account of `within` (those the reader may see) with what the meeting needs (open findings by severity, new findings and root use
    since `since`, the last run's status), in three queries whatever the number of accounts, in the order `sort` asks
    (each row built when read, AgendaRows). `root_sessions`: each
    account's root sessions since `since` (cloudtrail.selectors.sessions_since); `sso_admins`: each
    account's Identity Center users with administrator access (identitycenter.selectors.admin_counts); `counts`:
    finding_counts(within, since), when the caller has read it already."""
    # Each account's last report run's status and error (last_report_run_idx finds the run; the index alone holds its
    # status), as columns of the account query.
    last_run = AuditRun.objects.filter(account=OuterRef("pk"), source__in=REPORT_SOURCES).order_by("-requested_at", "-pk")
    accounts = within.annotate(
        last_run_status=Subquery(last_run.values("status")[:1]), last_run_error=Subquery(last_run.values("error")[:1])
    )
    # Root's latest use per account: used since, or seen since in a report that arrived late (one aggregate query).
    root_used = dict(
        in_accounts(RootUsageEvent.objects.filter(Q(used_at__gte=since) | Q(first_seen_run__in=_stored_since(since))), within)
        .values_list("account")
        .annotate(latest=Max("used_at"))
        .order_by()
    )
    if environment:
        accounts = accounts.filter(environment=environment)
    if q:
        accounts = accounts.filter(Q(name__icontains=q) | Q(account_id__startswith=q))
    # Aggregates apart from the account query: joined into it, they would multiply each other's rows.
    counts = finding_counts(within, since) if counts is None else counts
    listed = accounts.values_list(
        "pk", "account_id", "name", "environment", "is_active", "last_success_at", "last_run_status", "last_run_error"
    )
    open_, sessions_of = counts.open, root_sessions or {}
    critical, high, medium, low = _SEVERITIES
    facts = []
    for pk, account_id, name, env, is_active, last_success_at, status, error in listed:
        reported = root_used.get(pk)
        # Root's last use since: the credential report's, or the start of CloudTrail's latest session if later.
        sessions = tuple(sessions_of.get(pk, ()))
        latest = max((x.start for x in sessions), default=None)
        used = reported if latest is None or (reported is not None and reported >= latest) else latest
        facts.append(
            _AccountFacts(
                pk, account_id, name, env, is_active, last_success_at, status, error, reported, used, sessions,
                open_.get((pk, critical), 0), open_.get((pk, high), 0), open_.get((pk, medium), 0), open_.get((pk, low), 0),
            )
        )  # fmt: skip
    if sort == "name":
        facts.sort(key=lambda a: (a.name, a.account_id))
    elif sort == "age":
        facts.sort(key=lambda a: (a.last_success_at is not None, a.last_success_at or datetime.min.replace(tzinfo=UTC)))
    elif sort == "environment":
        facts.sort(key=lambda a: (a.environment, _worst_key(a)))
    else:
        facts.sort(key=_worst_key)
    agenda_checks, new = counts.checks, counts.new

    def build(f: _AccountFacts) -> OverviewRow:
        pk = f.pk
        users, console_users = (people or {}).get(pk, (0, 0))
        serious = new.get((pk, critical), 0) + new.get((pk, high), 0)
        return OverviewRow(
            account_id=f.account_id,
            name=f.name,
            environment=f.environment,
            is_active=f.is_active,
            last_success_at=f.last_success_at,
            last_run_status=f.last_run_status,
            last_run_error=f.last_run_error,
            open_critical=f.open_critical,
            open_high=f.open_high,
            open_medium=f.open_medium,
            open_low=f.open_low,
            new_since=serious + new.get((pk, medium), 0) + new.get((pk, low), 0),
            new_serious=serious,
            resolved_since=counts.resolved.get(pk, 0),
            root_last_used=f.root_last_used,
            report_root_used=f.report_root_used,
            root_sessions=f.root_sessions,
            pk=pk,
            users=users,
            console_users=console_users,
            without_mfa=agenda_checks.get((pk, "user.console_without_mfa"), 0),
            naming_violations=agenda_checks.get((pk, "user.name_violation"), 0),
            iam_admins=agenda_checks.get((pk, "user.direct_admin"), 0),
            sso_admins=(sso_admins or {}).get(pk, 0),
            iam_can_become_admin=agenda_checks.get((pk, "user.can_become_admin"), 0),
            sso_can_become_admin=agenda_checks.get((pk, "sso.can_become_admin"), 0),
            **_review_columns(pk, review, f.open_critical + f.open_high + f.open_medium + f.open_low),
        )

    return AgendaRows(facts, build)


def _review_columns(pk: int, review: tuple[set[int], dict[int, tuple[int, int]]] | None, open_total: int) -> dict[str, Any]:
    """What the open review decides in an account (its open findings and those it decided) and how many it decided."""
    if review is None or pk not in review[0]:
        return {}
    done, done_not_open = review[1].get(pk, (0, 0))
    return {"review_total": open_total + done_not_open, "review_decided": done}


def group_by_environment(accounts: list[OverviewRow]) -> list[EnvironmentGroup]:
    """Groups in the order their first (worst) account appears."""
    groups: dict[str, list[OverviewRow]] = {}
    for account in accounts:
        groups.setdefault(account.environment or "(none)", []).append(account)
    return [EnvironmentGroup(env, rows) for env, rows in groups.items()]


def _stored_since(since: datetime) -> QuerySet[AuditRun, Any]:
    """The runs stored since `since`, as a subquery: the database reads them through their index once, instead of
    joining every run to what they saw."""
    return AuditRun.objects.filter(requested_at__gte=since).values("pk")


def new_since(since: datetime) -> Q:
    """Findings new since `since`: first seen since, or stored since (a report or file of an earlier time that arrived
    later is new to whoever reviewed before it came).

    A finding is first seen at its first run's evaluation time, so the runs stored since that add anything are those of
    an earlier time, a few at most: read first, they leave two index conditions (first_seen, first_run) instead of a
    subquery the database would test against every finding."""
    late = list(AuditRun.objects.filter(requested_at__gte=since, generated_at__lt=since).values_list("pk", flat=True))
    return Q(first_seen__gte=since) | Q(first_run__in=late) if late else Q(first_seen__gte=since)


def _events_since(kind: str, since: datetime) -> QuerySet[FindingEvent, Any]:
    return FindingEvent.objects.filter(kind=kind, at__gte=since).values("finding")


def resolved_since(since: datetime) -> Q:
    """Findings resolved since `since`, whether or not they have come back since (the changes page lists each event)."""
    return Q(pk__in=_events_since(FindingEvent.Kind.RESOLVED, since))


@dataclass(frozen=True, slots=True)
class FindingFilters:
    account: str = ""
    resolved_since: datetime | None = None
    checks: tuple[str, ...] = ()
    severity: str = ""
    status: str = "open"
    since: datetime | None = None
    principal: str = ""
    user: str = ""  # exact principal name


def _by_account_check_severity(rows: QuerySet[_M], filters: FindingFilters) -> QuerySet[_M]:
    """Findings, or their tally, limited to the filters' account, checks and severity (the columns both have)."""
    if filters.account:
        rows = rows.filter(account__account_id=filters.account)
    if filters.checks:
        rows = rows.filter(check_id__in=filters.checks)
    if filters.severity:
        rows = rows.filter(severity=filters.severity)
    return rows


def finding_search(filters: FindingFilters, *, within: QuerySet[AwsAccount]) -> QuerySet[Finding]:
    """Findings across the accounts of `within` (those the reader may see), filtered, worst first then by
    account, check, principal."""
    findings = _by_account_check_severity(in_accounts(Finding.objects.select_related("account", "last_run", "resolved_run"), within), filters)
    if filters.status != "all":
        findings = findings.filter(status=filters.status)
    if filters.since is not None:
        findings = findings.filter(new_since(filters.since))
    if filters.resolved_since is not None:
        findings = findings.filter(resolved_since(filters.resolved_since))
    if filters.principal:
        findings = findings.filter(principal__icontains=filters.principal)
    if filters.user:
        findings = findings.filter(principal=filters.user)
    return findings.annotate(severity_rank=SEVERITY_RANK).order_by(*FINDING_ORDER)


SEVERITY_RANK = Case(*(When(severity=s.value, then=Value(i)) for i, s in enumerate(Severity)), default=Value(9))
# Worst first, then by account, check, principal; the last three keys only break ties, so that pages never overlap.
FINDING_ORDER = ("severity_rank", "account__name", "account__account_id", "check_id", "principal", "subject", "pk")


class TalliedFindings:
    """The open findings of a search the tally can describe (status open; an account, checks and a severity at most),
    in finding_search's order, for a Paginator over the fleet: the count is the tally's, and a page reads only the
    findings of the (severity, account) groups it spans, instead of sorting every open finding of the fleet to skip
    to its rows. Three queries whatever the page: the tally, and the page's groups (with their accounts)."""

    def __init__(self, groups: list[tuple[str, int, int]], checks: tuple[str, ...]) -> None:
        self.groups = groups  # (severity, account pk, open findings), in the order of the pages
        self.checks = checks

    def count(self) -> int:
        return sum(n for *_, n in self.groups)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[Finding]:
        start, stop = key.start or 0, key.stop if key.stop is not None else self.count()
        spanned, offset, skip = Q(pk__in=[]), 0, None
        for severity, account, n in self.groups:
            if offset + n > start and offset < stop:
                skip = start - offset if skip is None else skip  # rows of the first group before the page
                spanned |= Q(account_id=account, severity=severity)
            offset += n
        if skip is None:
            return []
        findings = Finding.objects.filter(spanned, status=FindingStatus.OPEN).select_related("account")
        if self.checks:
            findings = findings.filter(check_id__in=self.checks)
        return list(findings.annotate(severity_rank=SEVERITY_RANK).order_by(*FINDING_ORDER)[skip : skip + stop - start])


def tallied_findings(filters: FindingFilters, *, within: QuerySet[AwsAccount]) -> TalliedFindings | None:
    """finding_search's open findings, paged from the tally (TalliedFindings), when the filters are ones the tally keeps;
    None for any other search (resolved, since a date, by principal), which finding_search pages itself."""
    if filters.status != FindingStatus.OPEN or filters.since or filters.resolved_since or filters.principal or filters.user:
        return None
    tally = _by_account_check_severity(in_accounts(FindingTally.objects.all(), within), filters)
    rank = {s.value: i for i, s in enumerate(Severity)}
    rows = (
        tally.values_list("severity", "account")
        .annotate(n=Sum("open"))
        .order_by("account__name", "account__account_id")  # the database's collation, as finding_search's order
    )
    ordered = sorted(rows, key=lambda r: rank.get(r[0], 9))  # stable: by name within each severity
    return TalliedFindings([(severity, account, n) for severity, account, n in ordered if n], filters.checks)


def finding_history(*, finding: Finding) -> QuerySet[FindingEvent]:
    return FindingEvent.objects.filter(finding=finding).select_related("run").order_by("at", "pk")


def principal_states(*, account: AwsAccount, name: str, limit: int = 200) -> list[PrincipalState]:
    """A principal's last `limit` states, oldest first."""
    return list(reversed(PrincipalState.objects.filter(account=account, name=name).order_by("-valid_from")[:limit]))


@dataclass(frozen=True, slots=True)
class Changes:
    """Each kind of change as a query, newest first: a page shows the first rows, a CSV every one."""

    findings: QuerySet[FindingEvent]
    new_users: QuerySet[PrincipalState]
    removed_users: QuerySet[PrincipalState]
    root_events: QuerySet[RootUsageEvent]


def changes_since(*, since: datetime, within: QuerySet[AwsAccount], account: AwsAccount | None = None) -> Changes:
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
        .order_by("-valid_from", "pk")
    )
    removed = (
        scoped(PrincipalState.objects.filter(removed=True, valid_to__gte=since)).select_related("account").order_by("-valid_to", "pk")
    )
    root = scoped(RootUsageEvent.objects.filter(first_seen_run__generated_at__gte=since)).select_related(
        "account", "first_seen_run"
    )
    return Changes(findings=events, new_users=new_users, removed_users=removed, root_events=root.order_by("-used_at", "pk"))


# The account page's sections, in meeting order: (title, checks).
ACCOUNT_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Root user",
        (
            "root.access_key_exists", "root.recent_use", "account.root_email_not_alias", "account.report_missing_root",
            # root's own events in CloudTrail
            "root.session", "root.evidence_conflict",
            # retired: single root events, before root sessions (findings raised then still show)
            "root.console_login", "root.login_without_mfa", "root.failed_login", "root.api_activity", "root.unknown_network",
        ),
    ),
    ("MFA gaps", ("root.mfa_disabled", "root.hardware_mfa", "user.console_without_mfa")),
    ("Naming standard", ("user.name_violation",)),
    ("Shared accounts", ("user.shared_account",)),
    ("Owners and leavers", ("user.owner_departed", "user.no_owner")),
    ("Administrator rights", ("user.direct_admin", "user.can_become_admin")),
    (
        "Identity Center",
        (
            "sso.user_departed", "sso.user_no_person", "sso.admin_direct_assignment", "sso.admin_in_production",
            "sso.can_become_admin", "sso.group_empty_assignment",
        ),
    ),
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


def current_users(accounts: QuerySet[AwsAccount]) -> QuerySet[PrincipalState]:
    """Every IAM user in the latest report of these accounts (root excluded)."""
    states = in_accounts(PrincipalState.objects.filter(valid_to__isnull=True).exclude(name=ROOT_USER), accounts)
    return states.select_related("account").order_by("account__name", "account__account_id", "name")


def standard_preview(*, rule: NamingRule, accounts: QuerySet[AwsAccount]) -> list[PrincipalState]:
    """The current users of these accounts that the rule would flag (exempted names excepted)."""
    return [s for s in current_users(accounts) if not rule.fits(s.name) and rule.exemption(s.name) is None]


def _standards(accounts: Iterable[AwsAccount]) -> dict[int, NamingStandard | None]:
    fallback = default_standard()
    return {a.pk: a.naming_standard if a.naming_standard_id else fallback for a in accounts}


class _Indexes:
    """One PeopleIndex per naming standard, plus every account's hand-made links; built lazily."""

    def __init__(self, people: list[PersonFacts], standards: dict[int, NamingStandard | None]) -> None:
        self.people = people
        self.standards = standards
        self._by_standard: dict[int | None, PeopleIndex] = {}
        by_pk = {p.person_id: p for p in people}
        self.links: dict[tuple[int, str], Owner] = {}
        for account_id, user_name, person_id in OwnerLink.objects.values_list("account_id", "user_name", "person_id"):
            self.links[(account_id, user_name.casefold())] = by_pk[person_id].owner("linked by hand")

    def resolve(self, account_pk: int, user_name: str) -> tuple[Owner, ...]:
        link = self.links.get((account_pk, user_name.casefold()))
        if link is not None:
            return (link,)
        standard = self.standards.get(account_pk)
        key = standard.pk if standard is not None else None
        index = self._by_standard.get(key)
        if index is None:
            index = people_index(
                self.people,
                preset=standard.preset if standard else "",
                company_initials=standard.company_initials if standard else "",
            )
            self._by_standard[key] = index
        return index.resolve(user_name)


@dataclass(frozen=True, slots=True)
class AccessRow:
    state: PrincipalState
    owners: tuple[Owner, ...]

    @property
    def owner(self) -> Owner | None:
        return self.owners[0] if len(self.owners) == 1 else None


def access_rows(accounts: QuerySet[AwsAccount]) -> Iterator[AccessRow]:
    """Every current IAM user of these accounts with its owner(s) in the directory."""
    indexes = _Indexes(directory_people(), _standards(accounts.select_related("naming_standard")))
    for state in current_users(accounts).iterator(chunk_size=2000):
        yield AccessRow(state, indexes.resolve(state.account_id, state.name))


def person_access(*, person: Person, within: QuerySet[AwsAccount]) -> list[AccessRow]:
    """Every current IAM user this person owns, across the accounts of `within` (those the reader may see).

    One query for the candidates: the names the person's users may have (under each standard in use,
    their e-mail, their hand-made links), case-insensitively; each candidate is then resolved as the
    checks do, so that a name two people fit, or a user linked to somebody else, is not theirs.
    """
    facts = person_facts(person)
    standards = _standards(within.select_related("naming_standard"))
    names = {facts.email.casefold()} if facts.email else set()
    for standard in {s for s in standards.values() if s is not None}:
        names.add(standard_name(facts, standard.preset, standard.company_initials).casefold())
    names |= {u.casefold() for u in OwnerLink.objects.filter(person=person).values_list("user_name", flat=True)}
    names.discard("")
    candidates = current_users(within).annotate(lower_name=Lower("name")).filter(lower_name__in=names)
    indexes = _Indexes(directory_people(), standards)
    rows = [AccessRow(s, indexes.resolve(s.account_id, s.name)) for s in candidates]
    return [r for r in rows if r.owner is not None and r.owner.person_id == person.pk]


# --- trends ---------------------------------------------------------------------------------------------------


def trend_months(*, within: QuerySet[AwsAccount], months: list[date]) -> dict[int, dict[date, dict[str, int]]]:
    """Per account (pk) of `within`, the summary of each month's latest run, for `months`: one query."""
    points: dict[int, dict[date, dict[str, int]]] = defaultdict(dict)
    rows = in_accounts(TrendMonth.objects.filter(month__gte=months[0], month__lte=months[-1]), within)
    for account, month, summary in rows.values_list("account", "month", "summary"):
        points[int(account)][month] = summary
    return points


def latest_people(points: dict[int, dict[date, dict[str, int]]]) -> dict[int, tuple[int, int]]:
    """Per account: (IAM users, console users) as its latest trend point (its latest run) counted them."""
    latest = {pk: by_month[max(by_month)] for pk, by_month in points.items() if by_month}
    return {pk: (summary.get("users", 0), summary.get("console_users", 0)) for pk, summary in latest.items()}


# The checks the agenda counts on its own, beside the severities.
AGENDA_CHECKS = ("user.console_without_mfa", "user.name_violation", "user.direct_admin", "user.can_become_admin", "sso.can_become_admin")


@dataclass(frozen=True, slots=True)
class AgendaCounts:
    """Per account: open findings by severity and of each of AGENDA_CHECKS (from the tally kept at ingest), findings
    new since the review by severity and those resolved since (through the indexes that hold just those)."""

    open: dict[tuple[int, str], int]  # (account, severity)
    checks: dict[tuple[int, str], int]  # (account, check)
    new: dict[tuple[int, str], int]  # (account, severity)
    resolved: dict[int, int]

    def open_by_severity(self, account: int) -> dict[str, int]:
        return {s: self.open.get((account, s), 0) for s in _SEVERITIES}


def finding_counts(within: QuerySet[AwsAccount], since: datetime) -> AgendaCounts:
    """The counts of findings the agenda, the trend and the account page share (AgendaCounts), for the accounts of
    `within`, in four aggregate queries (and new_since's one) that read no finding that is not counted."""
    severities = _SEVERITIES
    # One row an account, its counts side by side (a row per account and severity or check is five times the rows).
    by_severity = {f"s{n}": Sum("open", filter=Q(severity=sev)) for n, sev in enumerate(severities)}
    by_check = {f"c{n}": Sum("open", filter=Q(check_id=check)) for n, check in enumerate(AGENDA_CHECKS)}
    tally = in_accounts(FindingTally.objects.all(), within).values("account").annotate(**by_severity, **by_check).order_by()
    open_: dict[tuple[int, str], int] = {}
    checks: dict[tuple[int, str], int] = {}
    for account, *counts in tally.values_list("account", *by_severity, *by_check):
        open_.update(((account, sev), n) for sev, n in zip(severities, counts[: len(severities)], strict=True) if n)
        checks.update(((account, check), n) for check, n in zip(AGENDA_CHECKS, counts[len(severities) :], strict=True) if n)
    new_by_severity = {f"s{n}": Count("account", filter=Q(severity=sev)) for n, sev in enumerate(severities)}
    new_rows = (
        in_accounts(Finding.objects.filter(new_since(since)), within)  # from the index alone
        .values("account")
        .annotate(**new_by_severity)
        .order_by()
        .values_list("account", *new_by_severity)
    )
    new = {(account, sev): n for account, *counts in new_rows for sev, n in zip(severities, counts, strict=True) if n}
    # Resolved since (resolved_since): those still resolved, by when they were (the index holds them), and those that
    # came back since, by their events (a few); apart, neither is a join of every finding to the events.
    still = Finding.objects.filter(status=FindingStatus.RESOLVED, resolved_at__gte=since)
    back = Finding.objects.filter(resolved_since(since), pk__in=_events_since(FindingEvent.Kind.REOPENED, since)).exclude(
        status=FindingStatus.RESOLVED
    )
    resolved: dict[int, int] = defaultdict(int)
    for findings in (still, back):
        for account, n in in_accounts(findings, within).values_list("account").annotate(n=Count("*")).order_by():
            resolved[account] += n
    return AgendaCounts(open=open_, checks=checks, new=new, resolved=dict(resolved))


def tally_drift() -> dict[tuple[Any, ...], tuple[int, int]]:
    """Where the kept tally of open findings (FindingTally) differs from a count of the findings themselves:
    (account, check, severity) -> (tallied, counted). Empty when every write kept it; the test suite checks it after
    every test that touches the database."""
    tallied: dict[tuple[Any, ...], int] = {(a, c, s): n for a, c, s, n in FindingTally.objects.values_list("account", "check_id", "severity", "open")}
    grouped = Finding.objects.filter(status=FindingStatus.OPEN).values_list("account", "check_id", "severity")
    counted: dict[tuple[Any, ...], int] = {(a, c, s): n for a, c, s, n in grouped.annotate(n=Count("pk")).order_by()}
    keys = tallied.keys() | counted.keys()
    return {k: (tallied.get(k, 0), counted.get(k, 0)) for k in keys if tallied.get(k, 0) != counted.get(k, 0)}


def with_open_now(
    points: dict[int, dict[date, dict[str, int]]],
    month: date,
    *,
    within: QuerySet[AwsAccount],
    counts: AgendaCounts | None = None,
) -> dict[int, dict[date, dict[str, int]]]:
    """`points` with `month` (the current one) holding each read account's open findings by severity as they are now,
    as the findings page counts them: a month's stored point is its latest report run's, and CloudTrail, Identity Center
    and the review's decisions have changed the count since (`counts`: finding_counts(within, ...), read here if not
    given)."""
    counts = finding_counts(within, timezone.now()) if counts is None else counts
    patched: dict[int, dict[date, dict[str, int]]] = {}
    for pk, by_month in points.items():
        latest = by_month[max(by_month)] if by_month else {}
        patched[pk] = {**by_month, month: {**latest, **counts.open_by_severity(pk)}}
    return patched


SUMMARY_PEOPLE = ("users", "console_users", "without_mfa", "naming_violations")  # a trend point's figures beside the severities


def latest_points(*, within: QuerySet[AwsAccount], months: list[date]) -> dict[int, dict[str, int]]:
    """Each account's latest trend point within `months` (its latest report run there): its people figures
    (SUMMARY_PEOPLE), read in the database, one row an account."""
    latest_first = Window(RowNumber(), partition_by=[F("account")], order_by=F("month").desc())
    points = (
        in_accounts(TrendMonth.objects.filter(month__gte=months[0], month__lte=months[-1]), within)
        .annotate(nth=latest_first)
        .filter(nth=1)
        .values_list("account", *SUMMARY_PEOPLE)
    )
    return {account: {k: v or 0 for k, v in zip(SUMMARY_PEOPLE, values, strict=True)} for account, *values in points}


def fleet_trend(
    *, within: QuerySet[AwsAccount], months: list[date], latest: dict[int, dict[str, int]], counts: AgendaCounts
) -> dict[date, dict[str, int]]:
    """The accounts' month points added up, the past months in the database; the current month (the last of `months`)
    as with_open_now makes it for each account that has a point (`latest`: latest_points): its latest figures with its
    open findings now (`counts`). Months where no account has a point are left out."""
    keys = (*(s.value for s in Severity), *SUMMARY_PEOPLE)
    past = (
        in_accounts(TrendMonth.objects.filter(month__gte=months[0], month__lt=months[-1]), within)
        .values("month")
        .annotate(**{f"sum_{key}": Sum(key) for key in keys})
        .order_by()
    )
    fleet = {row["month"]: {key: row[f"sum_{key}"] or 0 for key in keys} for row in past}
    if latest:
        current = dict.fromkeys(keys, 0)
        for figures in latest.values():
            for key in SUMMARY_PEOPLE:
                current[key] += figures[key]
        for (pk, severity), n in counts.open.items():
            if pk in latest:
                current[severity] += n
        fleet[months[-1]] = current
    return {m: fleet[m] for m in months if m in fleet}
