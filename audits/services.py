"""Writes for audits: a credential report (fetched or imported) becomes one all-or-nothing audit run.

The one code path: every trigger (import command, fetch task, demo loader) ends in `report_ingest`,
which parses nothing itself and trusts nothing it was not given: the parsed report, its raw bytes and
the evaluation time.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter, itemgetter

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Count, DateTimeField, IntegerField, Max, Value
from django.utils import timezone

from accounts.models import AwsAccount
from accounts.selectors import account_standard, standard_rule
from audits.alerts import alerts_for_run
from audits.bulk import insert_rows, insert_select, paused_gc
from audits.checks import CHECKS_BY_ID, ApiFacts, CheckContext, Result, Severity, Thresholds, checks_for, evaluate_report
from audits.models import (
    AuditRun,
    Finding,
    FindingEvent,
    FindingStatus,
    FindingTally,
    PrincipalState,
    RootUsageEvent,
    RunSource,
    RunStatus,
    StoredReport,
    TrendMonth,
)
from audits.report import ROOT_USER, CredentialReport, ReportError, ReportRow, parse_report
from people.selectors import people_index_for

# Clock skew tolerated between a stated report time and this machine's clock.
FUTURE_SKEW = timedelta(minutes=5)
_CHUNK = 500  # ids per UPDATE ... WHERE id IN (...), well under every backend's parameter limit

STATE_FIELDS: tuple[str, ...] = (
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_never_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "key1_active",
    "key1_last_rotated",
    "key1_last_used",
    "key1_last_used_region",
    "key1_last_used_service",
    "key2_active",
    "key2_last_rotated",
    "key2_last_used",
    "key2_last_used_region",
    "key2_last_used_service",
    "cert1_active",
    "cert1_last_rotated",
    "cert2_active",
    "cert2_last_rotated",
)


FINDING_COLUMNS = (
    "account_id", "check_id", "principal", "subject", "arn", "severity", "detail", "status",
    "first_seen", "last_seen", "resolved_at", "first_run_id", "last_run_id", "resolved_run_id", "reopened_count",
)  # fmt: skip


def _state_values(row: ReportRow) -> tuple[object, ...]:
    """A report row as the tuple of STATE_FIELDS, in order (the row's own layout after the user name)."""
    return (*row[1:9], *row.access_key_1, *row.access_key_2, *row.cert_1, *row.cert_2)


def thresholds_from_settings() -> Thresholds:
    return Thresholds(
        root_recent_use_days=settings.IAMWATCH_ROOT_RECENT_USE_DAYS,
        password_unused_days=settings.IAMWATCH_PASSWORD_UNUSED_DAYS,
        access_key_unused_days=settings.IAMWATCH_ACCESS_KEY_UNUSED_DAYS,
        access_key_rotation_days=settings.IAMWATCH_ACCESS_KEY_ROTATION_DAYS,
    )


@dataclass(frozen=True, slots=True)
class EvaluationTime:
    at: datetime
    warnings: tuple[str, ...] = ()


def evaluation_time(*, report: CredentialReport, stated: datetime | None, received_at: datetime) -> EvaluationTime:
    """T for a report: the stated generated time (AWS's GeneratedTime, or --generated-at), never the time of import;
    only a stated time that is impossible, earlier than the creation of every principal in the report (as moto's
    fixed 2015 GeneratedTime), gives way to the time received, with a warning. No stated time: the time received."""
    if stated is None:
        return EvaluationTime(received_at)
    if stated > received_at + FUTURE_SKEW:
        raise ReportError(f"the report's generated time {stated.isoformat()} is in the future")
    created = report.earliest_creation()
    if created is not None and stated < created:
        return EvaluationTime(
            received_at,
            (
                f"stated generated time {stated.isoformat()} is earlier than the creation of every principal in the report "
                f"(the first: {created.isoformat()}); evaluated at the time received, {received_at.isoformat()}",
            ),
        )
    return EvaluationTime(stated)


def ensure_report_belongs(*, report: CredentialReport, account: AwsAccount) -> None:
    if report.account_id is not None and report.account_id != account.account_id:
        raise ReportError(f"the report's ARNs belong to account {report.account_id}, not {account.account_id}")


def _check_newer(*, account: AwsAccount, at: datetime) -> None:
    latest = AuditRun.objects.stored_reports().filter(account=account).aggregate(latest=Max("generated_at"))["latest"]
    if latest is not None and at <= latest:
        if at == latest:
            raise ReportError(f"a report generated at {at.isoformat()} was already stored for account {account.account_id}")
        raise ReportError(
            f"the report (generated {at.isoformat()}) is older than account {account.account_id}'s latest run "
            f"({latest.isoformat()}); history only moves forward"
        )


def report_import(
    *,
    account: AwsAccount,
    content: bytes,
    generated_at: datetime | None = None,
    requested_by: str = "",
    source: str = RunSource.IMPORT,
    received_at: datetime | None = None,
) -> AuditRun:
    """Import report bytes as a run exactly as if fetched; raise ReportError and store nothing on bad input."""
    received_at = received_at or timezone.now()
    with paused_gc():
        report = parse_report(content)
        ensure_report_belongs(report=report, account=account)
        when = evaluation_time(report=report, stated=generated_at, received_at=received_at)
        with transaction.atomic():
            _check_newer(account=account, at=when.at)
            run = AuditRun.objects.create(
                account=account,
                source=source,
                status=RunStatus.RUNNING,
                requested_at=received_at,
                requested_by=requested_by,
                aws_generated_at=generated_at,
            )
            report_ingest(run=run, report=report, content=content, at=when.at, warnings=when.warnings)
            transaction.on_commit(lambda: alerts_for_run(run_id=run.pk))
    return run


def _store_report(content: bytes, sha256: str) -> StoredReport:
    stored = StoredReport.objects.filter(sha256=sha256).first()
    if stored is None:
        stored = StoredReport.objects.create(
            sha256=sha256, size=len(content), compressed=gzip.compress(content, compresslevel=3, mtime=0)
        )
    return stored


def _ids_in_chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _record_history(*, run: AuditRun, report: CredentialReport, at: datetime) -> int:
    """Write a state row only for principals whose state changed; close the rows of vanished principals."""
    account = run.account
    current = {
        name: (pk, values)
        for pk, name, *values in PrincipalState.objects.filter(account=account, valid_to__isnull=True).values_list(
            "pk", "name", *STATE_FIELDS
        )
    }
    to_close: list[int] = []
    to_create: list[tuple[object, ...]] = []
    for row in report.rows:
        values = _state_values(row)
        previous = current.pop(row.user, None)
        if previous is not None:
            if tuple(previous[1]) == values:
                continue
            to_close.append(previous[0])
        to_create.append((account.pk, row.user, at, None, run.pk, previous is None, *values))
    if report.root is None:
        current.pop(ROOT_USER, None)  # a report without a root row says nothing of root: its state carries on
    vanished = [pk for pk, _ in current.values()]  # principals no longer in the report
    for chunk in _ids_in_chunks(to_close):
        PrincipalState.objects.filter(pk__in=chunk).update(valid_to=at)
    for chunk in _ids_in_chunks(vanished):
        PrincipalState.objects.filter(pk__in=chunk).update(valid_to=at, removed=True)
    # In the unique index's order: each row lands next to the previous one instead of at a random page.
    to_create.sort(key=itemgetter(1))
    insert_rows(
        PrincipalState, ("account_id", "name", "valid_from", "valid_to", "first_run_id", "appeared", *STATE_FIELDS), to_create
    )
    return len(to_create)


def _record_root_usage(*, run: AuditRun, report: CredentialReport) -> int:
    """One event per distinct root use: all of them the first time, then each last-used time that moved forward."""
    root = report.root
    if root is None:
        return 0
    latest = dict(
        RootUsageEvent.objects.filter(account=run.account)
        .values("credential")
        .annotate(latest=Max("used_at"))
        .values_list("credential", "latest")
    )
    events = [
        RootUsageEvent(account=run.account, credential=credential, used_at=used_at, first_seen_run=run)
        for credential, used_at in (
            (RootUsageEvent.Credential.PASSWORD, root.password_last_used),
            (RootUsageEvent.Credential.ACCESS_KEY_1, root.access_key_1.last_used),
            (RootUsageEvent.Credential.ACCESS_KEY_2, root.access_key_2.last_used),
        )
        if used_at is not None and (latest.get(credential) is None or used_at > latest[credential])
    ]
    RootUsageEvent.objects.bulk_create(events)
    return len(events)


@dataclass(frozen=True, slots=True)
class FindingCounts:
    open: int
    new: int
    resolved: int


def _insert_findings(*, account: AwsAccount, run: AuditRun, at: datetime, results: list[Result]) -> None:
    """Open a finding for each of `results` (none of them in the table yet), first seen by `run`, with its "opened"
    event: the events are selected from the new findings in the database, not read back and written again."""
    severity = {c.id: c.severity.value for c in CHECKS_BY_ID.values()}
    insert_rows(
        Finding,
        FINDING_COLUMNS,
        [
            # first_seen, last_seen, resolved_at, first_run, last_run, resolved_run, reopened_count
            (account.pk, r.check_id, r.principal, r.subject, r.arn, r.severity or severity[r.check_id], r.detail, FindingStatus.OPEN.value,
             at, at, None, run.pk, run.pk, None, 0)
            for r in sorted(results, key=attrgetter("check_id", "principal", "subject"))  # the unique index's order
        ],
    )  # fmt: skip
    if not results:
        return
    # Only these checks' findings: a fetch run also records its CloudTrail events' findings, in the same run.
    mine = Finding.objects.filter(account=account, first_run=run, check_id__in={r.check_id for r in results}).order_by()
    opened = mine.values_list(
        "pk", Value(run.pk, IntegerField()), Value(at, DateTimeField()), Value(FindingEvent.Kind.OPENED.value, CharField())
    )
    insert_select(FindingEvent, ("finding_id", "run_id", "at", "kind"), opened)


def _record_findings(
    *, run: AuditRun, results: list[Result], evaluated: frozenset[str], at: datetime, account: AwsAccount | None = None
) -> FindingCounts:
    """Carry each (check, principal, subject) finding of `account` (default: the run's) across runs: create, keep open,
    resolve, reopen. The caller recounts the account's tally (finding_tally_refresh) before the transaction ends."""
    account = account or run.account
    severity = {c.id: c.severity.value for c in CHECKS_BY_ID.values()}
    raised = {(r.check_id, r.principal, r.subject): r for r in results}
    to_resolve: list[int] = []
    to_update: list[Finding] = []
    reopened: list[int] = []
    existing = Finding.objects.filter(account=account, check_id__in=evaluated).only(
        "pk", "check_id", "principal", "subject", "status", "severity", "detail", "arn", "reopened_count", "accepted_until"
    )
    for finding in existing:
        result = raised.pop((finding.check_id, finding.principal, finding.subject), None)
        if result is None:
            if finding.status != FindingStatus.RESOLVED:
                to_resolve.append(finding.pk)
            continue
        changed = (finding.detail, finding.arn, finding.severity) != (result.detail, result.arn, result.severity or severity[result.check_id])
        if finding.status == FindingStatus.RESOLVED:
            # Back within a signed review's acceptance: still accepted (the expiry task reopens it later).
            accepted = finding.accepted_until is not None and finding.accepted_until > at
            finding.status = FindingStatus.ACCEPTED if accepted else FindingStatus.OPEN
            finding.resolved_at = None
            finding.resolved_run = None
            finding.reopened_count += 1
            reopened.append(finding.pk)
            changed = True
        if changed:
            finding.detail, finding.arn, finding.severity = result.detail, result.arn, result.severity or severity[result.check_id]
            to_update.append(finding)
    for chunk in _ids_in_chunks(to_resolve):
        Finding.objects.filter(pk__in=chunk).update(status=FindingStatus.RESOLVED, resolved_at=at, resolved_run=run)
    Finding.objects.bulk_update(
        to_update, ["status", "resolved_at", "resolved_run", "reopened_count", "detail", "arn", "severity"], batch_size=500
    )
    # Every existing finding still raised (carried over or reopened) was last seen by this run; new ones
    # are written with it below.
    carried = Finding.objects.filter(
        account=account, check_id__in=evaluated, status__in=[FindingStatus.OPEN, FindingStatus.ACCEPTED]
    ).update(last_seen=at, last_run=run)
    _insert_findings(account=account, run=run, at=at, results=list(raised.values()))
    insert_rows(
        FindingEvent,
        ("finding_id", "run_id", "at", "kind"),
        [
            *((pk, run.pk, at, FindingEvent.Kind.RESOLVED.value) for pk in to_resolve),
            *((pk, run.pk, at, FindingEvent.Kind.REOPENED.value) for pk in reopened),
        ],
    )
    return FindingCounts(open=carried + len(raised), new=len(raised), resolved=len(to_resolve))


def finding_tally_refresh(account_ids: Iterable[int]) -> None:
    """Recount the open findings of these accounts by check and severity (FindingTally): every write that changes a
    finding's status or severity calls it before its transaction commits. The accounts' rows are locked first (in one
    order), so two writers of one account recount one after the other."""
    ids = sorted(set(account_ids))
    for chunk in _ids_in_chunks(ids):
        list(AwsAccount.objects.select_for_update().filter(pk__in=chunk).order_by("pk").values_list("pk", flat=True))
        FindingTally.objects.filter(account_id__in=chunk).delete()
        grouped = (
            Finding.objects.filter(account_id__in=chunk, status=FindingStatus.OPEN)
            .values_list("account", "check_id", "severity")
            .annotate(n=Count("pk"))
            .order_by()
        )
        FindingTally.objects.bulk_create(FindingTally(account_id=a, check_id=c, severity=sev, open=n) for a, c, sev, n in grouped)


def state_findings_record(*, run: AuditRun, results: list[tuple[AwsAccount, Result]], accounts: list[AwsAccount], checks: frozenset[str]) -> FindingCounts:
    """Findings of a state that evidence beside the reports decides for several accounts in one run (Identity Center):
    in each of `accounts`, `checks` were evaluated, so a finding not raised again resolves, as a report run's does."""
    at = run.generated_at
    if at is None:
        raise ValueError(f"run {run.pk} has no time to record its findings at")
    by_account: dict[int, list[Result]] = {a.pk: [] for a in accounts}
    for account, result in results:
        by_account.setdefault(account.pk, []).append(result)
    total = FindingCounts(0, 0, 0)
    for account in accounts:
        counts = _record_findings(run=run, results=by_account[account.pk], evaluated=checks, at=at, account=account)
        total = FindingCounts(total.open + counts.open, total.new + counts.new, total.resolved + counts.resolved)
    finding_tally_refresh(a.pk for a in accounts)  # once for them all, a few hundred accounts a statement
    return total


def event_findings_record(*, run: AuditRun, results: list[Result]) -> FindingCounts:
    """Record the findings that events raise (root activity from CloudTrail), as of the run's time.

    A new (check, principal, subject) opens a finding; one already there is seen again by this run and takes the
    new detail (a day's failed sign-ins grow as more records arrive). No run ever resolves one: events are facts,
    and a review decides each (accepted, remediated, false positive)."""
    account, at = run.account, run.generated_at
    if at is None:
        raise ValueError(f"run {run.pk} has no time to record its event findings at")
    raised = {(r.check_id, r.principal, r.subject): r for r in results}
    seen: list[Finding] = []
    for finding in Finding.objects.filter(
        account=account, check_id__in={r.check_id for r in results}, subject__in={r.subject for r in results}
    ).only("pk", "check_id", "principal", "subject", "detail", "severity"):
        result = raised.pop((finding.check_id, finding.principal, finding.subject), None)
        if result is not None:  # seen again: a root session that grew may also have grown worse
            finding.detail, finding.last_seen, finding.last_run = result.detail, at, run
            finding.severity = result.severity or finding.severity
            seen.append(finding)
    Finding.objects.bulk_update(seen, ["detail", "last_seen", "last_run", "severity"], batch_size=500)
    new = list(raised.values())
    _insert_findings(account=account, run=run, at=at, results=new)
    finding_tally_refresh([account.pk])
    return FindingCounts(open=len(seen) + len(new), new=len(new), resolved=0)


def report_ingest(
    *,
    run: AuditRun,
    report: CredentialReport,
    content: bytes,
    at: datetime,
    warnings: Sequence[str] = (),
    api_facts: ApiFacts | None = None,
) -> AuditRun:
    """Store evidence, history, root usage and findings of a parsed report for `run`; call inside a transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("report_ingest must run inside transaction.atomic(): a run is all-or-nothing")
    account = run.account
    notes = list(warnings)
    if report.extra_columns:
        notes.append(f"columns unknown to IAMWatch kept in the raw report and ignored: {', '.join(report.extra_columns)}")
    standard = account_standard(account=account)
    context = CheckContext(
        thresholds=thresholds_from_settings(),
        naming=standard_rule(standard),
        people=people_index_for(account=account, standard=standard),
        api=api_facts,
        account_id=account.account_id,
        root_email=account.root_email,
        root_email_rule=settings.IAMWATCH_ROOT_EMAIL_RULE,
    )
    as_of, moved = report.as_of(at)
    if moved:
        shown = "; ".join(moved[:10]) + (f"; and {len(moved) - 10} more" if len(moved) > 10 else "")
        notes.append(f"times later than the evaluation time {at.isoformat()} count as at it (age zero): {shown}")
    evaluated = checks_for(context, report)
    if report.root is None:
        notes.append(f"the report has no {ROOT_USER} row (as moto's reports)")
    if api_facts is not None and api_facts.missing:
        notes.append(
            "the role may not make some read-only calls: "
            + "; ".join(f"{check} needs {permission}" for check, permission in sorted(api_facts.missing.items()))
        )
    skipped = sorted({c.id for c in checks_for(context)} - {c.id for c in evaluated})
    missing = api_facts.missing if api_facts is not None else {}
    run.not_evaluated = {
        check: f"the role may not call {missing[check]}" if check in missing else f"no {ROOT_USER} row in the report"
        for check in skipped
    }
    if skipped:
        notes.append("not evaluated in this run, their findings left as they were: " + ", ".join(skipped))
    results = evaluate_report(as_of, context, at)

    changed = _record_history(run=run, report=report, at=at)
    _record_root_usage(run=run, report=report)
    counts = _record_findings(run=run, results=results, evaluated=frozenset(c.id for c in evaluated), at=at)
    finding_tally_refresh([account.pk])

    run.report = _store_report(content, report.sha256)
    run.status = RunStatus.PARTIAL if api_facts is not None and api_facts.missing else RunStatus.SUCCEEDED
    run.generated_at = at
    run.finished_at = timezone.now()
    run.warnings = notes
    run.principal_count = len(report.rows)
    run.changed_principal_count = changed
    # Every open finding of the account, those of checks this run could not evaluate (left as they were) included.
    run.open_finding_count = open_finding_count(account)
    run.new_finding_count = counts.new
    run.resolved_finding_count = counts.resolved
    run.summary = _run_summary(account=account, report=report)
    run.save()
    _record_trend(run, at)
    AwsAccount.objects.filter(pk=account.pk).update(last_success_at=at)
    return run


def open_finding_count(account: AwsAccount) -> int:
    """The account's open findings now, whatever check or run raised them: what a run's summary counts."""
    return Finding.objects.filter(account=account, status=FindingStatus.OPEN).count()


TREND_CHECKS = ("user.console_without_mfa", "user.name_violation")


def _run_summary(*, account: AwsAccount, report: CredentialReport) -> dict[str, int]:
    """What the trend charts plot, as the account stands after this run (two aggregate queries)."""
    open_ = Finding.objects.filter(account=account, status=FindingStatus.OPEN)
    summary = {s.value: 0 for s in Severity}
    summary.update(open_.values_list("severity").annotate(n=Count("pk")).order_by())
    checks = dict(open_.filter(check_id__in=TREND_CHECKS).values_list("check_id").annotate(n=Count("pk")).order_by())
    summary.update(
        users=len(report.users),
        console_users=sum(1 for row in report.users if row.password_enabled),
        without_mfa=checks.get("user.console_without_mfa", 0),
        naming_violations=checks.get("user.name_violation", 0),
    )
    return summary


def _record_trend(run: AuditRun, at: datetime) -> None:
    """Make `run` (evaluated at `at`) its month's trend point unless a later report of that month is already one."""
    month = at.date().replace(day=1)
    point = TrendMonth.objects.select_for_update().filter(account=run.account, month=month).first()
    if point is None:
        TrendMonth.objects.create(account=run.account, month=month, run=run, generated_at=at, summary=run.summary)
    elif point.generated_at <= at:
        TrendMonth.objects.filter(pk=point.pk).update(run=run, generated_at=at, summary=run.summary)
