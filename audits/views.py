"""The meeting's dashboard pages: overview, findings, finding, account, user, changes since the last review, alerts,
run now and run progress, the practice.

Every table here has a CSV of exactly its rows with the same filters (`?format=csv`), streamed; htmx requests get
the table partial only. Every view needs a login (middleware) and declares who may open it (staff.roles.policy)."""

from __future__ import annotations

import dataclasses
import gzip
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.models import AwsAccount, NamingExemption
from accounts.selectors import (
    account_or_404,
    account_scope,
    account_standard,
    in_accounts,
    outside_scope,
    redacted,
    standard_rule,
    visible_accounts,
)
from audits.charts import last_months, root_usage_timeline, sparkline, summary_charts, worse_or_better
from audits.checks import CHECKS_BY_ID
from audits.export import FINDINGS_HEADER, ROOT_USAGE_HEADER, finding_row, root_usage_row
from audits.forms import MAX_REPORT_MB, FindingFilterForm, OverviewForm, ReportUploadForm, SinceForm
from audits.models import Alert, AuditRun, Finding, PrincipalState, RunSource, RunStatus
from audits.report import ReportError
from audits.runs import ACTIVE, fleet_request, run_request
from audits.selectors import (
    STATUS_FILTERS,
    EnvironmentGroup,
    FindingFilters,
    account_root_usage,
    account_runs,
    account_sections,
    admins_with_mfa,
    changes_since,
    finding_history,
    finding_search,
    fleet_trend,
    group_by_environment,
    latest_people,
    latest_stored_run,
    overview_accounts,
    principal_states,
    trend_months,
    with_open_now,
)
from audits.services import report_import
from audits.tasks import QueueUnavailable, enqueue_run
from cloudtrail.selectors import account_root_events, root_last_event, trail_gaps
from identitycenter.selectors import account_paths, admin_counts, paths_changed
from reviews.selectors import open_review_decisions, review_cadence, review_since, visible_reviews
from staff.export import csv_response
from staff.forms import form_errors, start_of_day
from staff.roles import READ_PERMISSION, RUN_PERMISSION, policy
from staff.uploads import accepts_upload

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


@policy(get=READ_PERMISSION)
def account_detail(request: HttpRequest, account_id: str) -> HttpResponse:
    account = account_or_404(request, account_id)
    now = timezone.now()
    since = _since(request, None)
    only = AwsAccount.objects.filter(pk=account.pk)
    months = last_months(now.date())
    points = with_open_now(trend_months(within=only, months=months), months[-1], within=only)
    agenda = next(
        iter(overview_accounts(within=only, since=since, people=latest_people(points), root_events=root_last_event(within=only, since=since))),
        None,
    )
    trends = summary_charts(points.get(account.pk, {}), months)
    root_usage = list(account_root_usage(account=account).filter(used_at__gte=now - timedelta(days=365)))
    trail = list(account_root_events(account=account).filter(at__gte=now - timedelta(days=365, hours=4)))
    gaps = trail_gaps(account=account, uses=[(e.used_at, e.credential) for e in root_usage], events=trail)
    standard = account_standard(account=account)
    sections = account_sections(account=account)
    admin_findings = [f for _, checks, items in sections if "user.direct_admin" in checks for f in items if f.check_id == "user.direct_admin"]
    context = {
        "account": account,
        "upload_form": ReportUploadForm(),
        "agenda": agenda,
        "since": since,
        "trends": trends,
        "statuses": _status_counts(account),
        "sections": sections,
        "standard": standard,
        "naming": standard_rule(standard),
        "exemptions": NamingExemption.objects.filter(standard=standard).order_by("user_name") if standard else [],
        "admins_with_mfa": admins_with_mfa(account=account, names=[f.principal for f in admin_findings]),
        "root_usage": list(zip(root_usage, gaps, strict=True)),
        "trail_events": trail,
        "timeline": root_usage_timeline(
            [(e.used_at, e.credential) for e in root_usage], end=now, trail=[(e.at, _trail_mark(e)) for e in trail]
        ),
        "runs": _runs_page(request, account),
        "access_paths": account_paths(account=account),
        "root_email_rule": settings.IAMWATCH_ROOT_EMAIL_RULE,
    }
    return render(request, "audits/account_detail.html", context)


@policy(get=READ_PERMISSION)
def root_usage_csv(request: HttpRequest, account_id: str) -> StreamingHttpResponse:
    account = account_or_404(request, account_id)
    rows = (root_usage_row(e) for e in account_root_usage(account=account).select_related("account").iterator(chunk_size=2000))
    return csv_response(ROOT_USAGE_HEADER, rows, f"iamwatch-root-usage-{account.account_id}.csv")


@policy(get=READ_PERMISSION)
def runs_csv(request: HttpRequest, account_id: str) -> StreamingHttpResponse:
    account = account_or_404(request, account_id)
    runs = account_runs(account=account)
    outside = outside_scope(visible_accounts(request.user))
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
            _for_reader(r, outside).error,
        )
        for r in runs.iterator(chunk_size=2000)
    )
    return csv_response(RUNS_HEADER, rows, f"iamwatch-runs-{account.account_id}.csv")


@policy(get=READ_PERMISSION)
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


@policy(get=READ_PERMISSION)
def practice(request: HttpRequest) -> HttpResponse:
    """The practice the checks stand for: one user per person, naming, no shared logins, read-only then assume a role."""
    return render(request, "audits/practice.html")


PAGE_SIZE = 50


OVERVIEW_HEADER = (
    "account_id", "account_name", "environment", "last_report_at", "last_run_status", "open_critical", "open_high",
    "open_medium", "open_low", "open_total", "new_since", "root_used_since", "since",
    # the agenda's columns, added after the first ones so that older readers of this file keep working
    "root_last_used", "resolved_since", "users", "console_users", "console_without_mfa", "naming_violations",
    "review_decided", "review_to_decide", "iam_admins", "identity_center_admins",
    "iam_can_become_admin", "identity_center_can_become_admin",
)  # fmt: skip


HISTORY_HEADER = ("finding_id", "account_id", "check_id", "principal", "event", "report_generated_at", "run_id")


STATE_HEADER = (
    "account_id", "principal", "valid_from", "valid_to", "password_enabled", "password_last_used", "mfa_active",
    "key1_active", "key1_last_rotated", "key1_last_used", "key2_active", "key2_last_rotated", "key2_last_used", "changes",
)  # fmt: skip


USER_HEADER = ("account_id", "principal", "arn", "at")


def wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def _since(request: HttpRequest, value: object) -> datetime:
    return start_of_day(value) or review_since(now=timezone.now(), within=visible_accounts(request.user))


def _page(request: HttpRequest, template: str, partial: str, context: dict[str, object]) -> HttpResponse:
    return render(request, partial if request.headers.get("HX-Request") else template, context)


@policy(get=READ_PERMISSION)
def overview(request: HttpRequest) -> HttpResponseBase:
    form = OverviewForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    since = _since(request, data.get("since"))
    review, covered, decisions = open_review_decisions(visible_accounts(request.user))
    months = last_months(timezone.now().date())
    points = with_open_now(trend_months(within=visible_accounts(request.user), months=months), months[-1], within=visible_accounts(request.user))
    accounts = overview_accounts(
        within=visible_accounts(request.user),
        since=since,
        environment=data.get("environment", ""),
        q=data.get("q", ""),
        sort=data.get("sort") or "worst",
        review=(covered, decisions) if review is not None else None,
        trends={pk: _spark(by_month, months) for pk, by_month in points.items()},
        people=latest_people(points),
        root_events=root_last_event(within=visible_accounts(request.user), since=since),
        sso_admins=admin_counts(within=visible_accounts(request.user)),
    )
    outside = outside_scope(visible_accounts(request.user))
    if outside:  # a last run's error names no account outside the reader's scope
        accounts = [dataclasses.replace(a, last_run_error=redacted(a.last_run_error, outside)) if a.last_run_error else a for a in accounts]
    if wants_csv(request):
        rows = (
            (a.account_id, a.name, a.environment, a.last_success_at, a.last_run_status or "", a.open_critical, a.open_high, a.open_medium,
             a.open_low, a.open_total, a.new_since, "yes" if a.root_used_since else "no", since, a.root_last_used,
             a.resolved_since, a.users, a.console_users, a.without_mfa, a.naming_violations,
             "" if a.review_total is None else a.review_decided, "" if a.review_total is None else a.review_total - a.review_decided,
             a.iam_admins, a.sso_admins, a.iam_can_become_admin, a.sso_can_become_admin)
            for a in accounts
        )  # fmt: skip
        return csv_response(OVERVIEW_HEADER, rows, "iamwatch-overview.csv")
    environments = sorted({a.environment for a in accounts if a.environment})
    context = {
        "form": form,
        "groups": _agenda_groups(group_by_environment(accounts)),
        "review": review,
        "fleet_trends": summary_charts(fleet_trend(points, months), months),
        "since": since,
        "environments": environments,
        "count": len(accounts),
        "cadence": review_cadence(now=timezone.now(), within=visible_accounts(request.user)),
        "scope": account_scope(request.user),
    }
    return _page(request, "audits/overview.html", "audits/partials/overview_table.html", context)


@policy(get=READ_PERMISSION)
def finding_list(request: HttpRequest) -> HttpResponseBase:
    form = FindingFilterForm(request.GET)
    if not form.is_valid():
        return _page(request, "audits/finding_list.html", "audits/partials/finding_table.html", {"form": form, "page": None})
    findings = finding_search(form.filters(), within=visible_accounts(request.user))
    if wants_csv(request) or request.resolver_match.url_name == "findings-csv":  # type: ignore[union-attr]
        return csv_response(
            FINDINGS_HEADER, (finding_row(f) for f in findings.iterator(chunk_size=2000)), "iamwatch-findings.csv"
        )
    # The page shows no run columns: leave the run joins to the CSV.
    page = Paginator(findings.select_related(None).select_related("account"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "checks": CHECKS_BY_ID}
    return _page(request, "audits/finding_list.html", "audits/partials/finding_table.html", context)


@policy(get=READ_PERMISSION)
def finding_detail(request: HttpRequest, finding_id: int) -> HttpResponseBase:
    findings = in_accounts(Finding.objects.all(), visible_accounts(request.user))
    finding = get_object_or_404(findings.select_related("account", "first_run", "last_run", "resolved_run"), pk=finding_id)
    history = list(finding_history(finding=finding))
    latest = latest_stored_run(account=finding.account)
    gap = latest.not_evaluated.get(finding.check_id) if latest is not None else None
    if wants_csv(request):
        rows = (
            (finding.pk, finding.account.account_id, finding.check_id, finding.principal, e.kind, e.at, e.run_id) for e in history
        )
        return csv_response(HISTORY_HEADER, rows, f"iamwatch-finding-{finding.pk}-history.csv")
    return render(
        request,
        "audits/finding_detail.html",
        {
            "finding": finding,
            "check": CHECKS_BY_ID.get(finding.check_id),
            "history": history,
            "not_evaluated": (latest, gap) if gap else None,
            "decisions": finding.dispositions.filter(review__in=visible_reviews(visible_accounts(request.user)))
            .select_related("review")
            .order_by("-review__period_end", "-pk"),
        },
    )


def state_changes(states: list[PrincipalState]) -> list[tuple[PrincipalState, list[str]]]:
    """Each state with what changed from the one before, in words."""
    described: list[tuple[PrincipalState, list[str]]] = []
    previous = None
    for state in states:
        if previous is None:
            changes = ["first seen"]
        else:
            changes = []
            if state.mfa_active != previous.mfa_active:
                changes.append("MFA enabled" if state.mfa_active else "MFA removed")
            if state.password_enabled != previous.password_enabled:
                changes.append("console password added" if state.password_enabled else "console password removed")
            if state.password_last_used != previous.password_last_used and state.password_last_used:
                changes.append(f"console login {state.password_last_used:%Y-%m-%d}")
            for n in (1, 2):
                now_active, was_active = getattr(state, f"key{n}_active"), getattr(previous, f"key{n}_active")
                rotated, was_rotated = getattr(state, f"key{n}_last_rotated"), getattr(previous, f"key{n}_last_rotated")
                if now_active and not was_active:
                    changes.append(f"key {n} activated")
                elif was_active and not now_active:
                    changes.append(f"key {n} deactivated or removed")
                elif now_active and rotated != was_rotated:
                    changes.append(f"key {n} rotated")
                used, was_used = getattr(state, f"key{n}_last_used"), getattr(previous, f"key{n}_last_used")
                if used and used != was_used:
                    changes.append(f"key {n} used {used:%Y-%m-%d}")
            if not changes:
                changes = ["other details changed"]
        described.append((state, changes))
        previous = state
    return described


@policy(get=READ_PERMISSION)
def principal_detail(request: HttpRequest, account_id: str, name: str) -> HttpResponseBase:
    account = account_or_404(request, account_id)
    timeline = state_changes(principal_states(account=account, name=name))
    if not timeline:
        raise Http404("no such principal in this account")
    if wants_csv(request):
        rows = (
            (account.account_id, s.name, s.valid_from, s.valid_to, s.password_enabled, s.password_last_used, s.mfa_active, s.key1_active,
             s.key1_last_rotated, s.key1_last_used, s.key2_active, s.key2_last_rotated, s.key2_last_used, "; ".join(changes))
            for s, changes in timeline
        )  # fmt: skip
        return csv_response(STATE_HEADER, rows, f"iamwatch-{account.account_id}-{name}-history.csv")
    findings = finding_search(
        FindingFilters(account=account.account_id, user=name, status="all"), within=visible_accounts(request.user)
    )
    now = timezone.now()
    uses = sorted(
        {
            (t, credential)
            for state, _ in timeline
            for t, credential in (
                (state.password_last_used, "password"),
                (state.key1_last_used, "access_key_1"),
                (state.key2_last_used, "access_key_2"),
            )
            if t is not None
        }
    )
    context = {
        "account": account,
        "name": name,
        "timeline": list(reversed(folded_changes(timeline))),
        "uses": root_usage_timeline(uses, end=now),
        "use_count": len(uses),
        "current": timeline[-1][0],
        "findings": findings,
    }
    return render(request, "audits/principal_detail.html", context)


USE_ONLY = ("console login ", "key 1 used ", "key 2 used ")


@dataclass(frozen=True, slots=True)
class Period:
    """A stretch of a principal's history between two real changes; the credential uses in it are on the timeline."""

    state: PrincipalState  # the state that began it
    until: datetime | None
    changes: list[str]
    states: int  # how many recorded states it folds


def folded_changes(timeline: list[tuple[PrincipalState, list[str]]]) -> list[Period]:
    """The history with a row per real change (MFA, password, keys activated or rotated), not one per day of use."""
    periods: list[Period] = []
    for state, changes in timeline:
        real = [c for c in changes if not c.startswith(USE_ONLY)]
        if real or not periods:
            periods.append(Period(state, state.valid_to, real or changes, 1))
        else:
            last = periods[-1]
            periods[-1] = Period(last.state, state.valid_to, last.changes, last.states + 1)
    return periods


@policy(get=READ_PERMISSION)
def changes(request: HttpRequest) -> HttpResponseBase:
    form = SinceForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    since = _since(request, data.get("since"))
    account = account_or_404(request, data["account"]) if data.get("account") else None
    found = changes_since(since=since, account=account, within=visible_accounts(request.user))
    added, removed = paths_changed(since=since, within=visible_accounts(request.user), account=account)
    table = request.GET.get("table", "")
    rows: Iterable[Sequence[object]]
    if wants_csv(request):
        if table == "findings":
            rows = (
                (e.finding_id, e.finding.account.account_id, e.finding.check_id, e.finding.principal, e.kind, e.at, e.run_id)
                for e in found.findings
            )
            return csv_response(HISTORY_HEADER, rows, "iamwatch-changes-findings.csv")
        if table in ("new_users", "removed_users"):
            states = found.new_users if table == "new_users" else found.removed_users
            rows = ((s.account.account_id, s.name, s.arn, s.valid_from if table == "new_users" else s.valid_to) for s in states)
            return csv_response(USER_HEADER, rows, f"iamwatch-changes-{table}.csv")
        if table == "root":
            return csv_response(ROOT_USAGE_HEADER, map(root_usage_row, found.root_events), "iamwatch-changes-root.csv")
        if table in ("access_added", "access_removed"):
            paths = added if table == "access_added" else removed
            rows = (
                (p.account.account_id, p.user_name, p.permission_set_name, "yes" if p.admin else "no", p.group_name, p.valid_from if table == "access_added" else p.valid_to)
                for p in paths
            )  # fmt: skip
            return csv_response(ACCESS_CHANGE_HEADER, rows, f"iamwatch-changes-{table}.csv")
        raise Http404("unknown table")
    return render(
        request,
        "audits/changes.html",
        {"form": form, "since": since, "changes": found, "account": account, "query": request.GET.urlencode(), "access_added": added, "access_removed": removed},
    )


ACCESS_CHANGE_HEADER = ("account_id", "user_name", "permission_set", "administrator", "through_group", "at")
ALERT_HEADER = ("created_at", "account_id", "kind", "subject", "recipients", "sent_at", "error", "run_id")


@policy(get=READ_PERMISSION)
def alert_list(request: HttpRequest) -> HttpResponseBase:
    alerts = (
        in_accounts(Alert.objects.all(), visible_accounts(request.user)).select_related("account").order_by("-created_at", "-pk")
    )
    if wants_csv(request):
        rows = (
            (a.created_at, a.account.account_id, a.kind, a.subject, a.recipients, a.sent_at, a.error, a.run_id)
            for a in alerts.iterator()
        )
        return csv_response(ALERT_HEADER, rows, "iamwatch-alerts.csv")
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    # Delivery errors, each said once with how many alerts it held back (not a wall of the same message).
    problems = list(
        alerts.exclude(error="").order_by().values("error").annotate(count=Count("pk"), last=Max("created_at")).order_by("-count", "-last")
    )
    numbers = {p["error"]: n for n, p in enumerate(problems, start=1)}
    listed = [(a, numbers.get(a.error)) for a in page]
    return render(request, "audits/alert_list.html", {"page": page, "rows": listed, "problems": problems})


@policy(post=RUN_PERMISSION)
def run_now(request: HttpRequest, account_id: str) -> HttpResponse:
    account = account_or_404(request, account_id)
    run = run_request(account=account, requested_by=request.user.get_username())
    try:
        enqueue_run(run, background=True)
    except QueueUnavailable as exc:
        messages.error(request, f"{exc}. The dashboard still works; try again when the broker is back.")
    else:
        messages.success(request, f"Run {run.pk} for {account.name} is queued.")
    return redirect("audits:account-detail", account_id=account.account_id)


@accepts_upload(MAX_REPORT_MB * 1024 * 1024)
@policy(post=RUN_PERMISSION)
def report_upload(request: HttpRequest, account_id: str) -> HttpResponse:
    """Import a credential report from the console, as `manage.py import_credential_report` does: one run, all or nothing."""
    account = account_or_404(request, account_id)
    form = ReportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, f"Not imported: {form_errors(form)}")
        return redirect("audits:account-detail", account_id=account.account_id)
    upload = form.cleaned_data["report"]
    try:
        run = report_import(
            account=account,
            content=upload.read(),
            generated_at=form.cleaned_data["generated_at"],
            requested_by=request.user.get_username(),
        )
    except ReportError as exc:
        messages.error(request, f"Not imported: {upload.name}: {exc}")
    else:
        messages.success(
            request,
            f"Imported {upload.name} as run {run.pk}: {run.principal_count} principals, {run.open_finding_count} open "
            f"findings ({run.new_finding_count} new, {run.resolved_finding_count} resolved) as of "
            f"{run.generated_at:%Y-%m-%d %H:%M} UTC." + "".join(f" Warning: {w}" for w in run.warnings),
        )
    return redirect("audits:account-detail", account_id=account.account_id)


@policy(post=RUN_PERMISSION)
def run_all(request: HttpRequest) -> HttpResponse:
    # "All" is every active account the user may see.
    accounts = list(visible_accounts(request.user).filter(is_active=True))
    result = fleet_request(requested_by=request.user.get_username(), force=True, accounts=accounts)
    queued = 0
    for n, run in enumerate(result.runs):
        try:
            enqueue_run(run, background=True)
            queued += 1
        except QueueUnavailable as exc:
            # This run is failed "could not be queued"; so are the rest, never left pending for nobody.
            rest = [r.pk for r in result.runs[n + 1 :]]
            AuditRun.objects.filter(pk__in=rest, status=RunStatus.PENDING).update(
                status=RunStatus.FAILED, error="could not be queued: the task broker (Redis) is unreachable", finished_at=timezone.now()
            )
            messages.error(request, f"{exc}: {len(rest) + 1} run(s) not queued, marked failed. The dashboard still works; try again when the broker is back.")
            break
    if queued:
        messages.success(request, f"{queued} run(s) queued.")
    return redirect("audits:overview")


@policy(get=READ_PERMISSION)
def runs_partial(request: HttpRequest, account_id: str) -> HttpResponse:
    """The run table alone, for htmx polling while a run is pending or running."""
    account = account_or_404(request, account_id)
    runs = _runs_page(request, account)
    active = any(r.status in ACTIVE for r in runs)
    return render(request, "audits/partials/runs.html", {"account": account, "runs": runs, "active": active})


def _trail_mark(e: Any) -> str:
    what = "console sign-in" if e.is_sign_in else e.action
    mfa = {True: "MFA used", False: "no MFA", None: "MFA not recorded"}[e.mfa_used]
    outcome = "" if e.success else f", {e.error or 'failed'}"
    return f"{what} {e.at:%Y-%m-%d %H:%M:%S} UTC from {e.source_ip}, {mfa}{outcome}"


def _agenda_groups(groups: list[EnvironmentGroup]) -> list[dict[str, Any]]:
    """The agenda's groups of rows as dicts (see OverviewRow.as_dict), each row with its links."""
    findings = reverse("audits:finding-list")
    return [
        {
            "environment": group.environment,
            "accounts": [
                {
                    **row.as_dict(),
                    "url": reverse("audits:account-detail", args=[row.account_id]),
                    "findings": f"{findings}?account={row.account_id}",
                }
                for row in group.accounts
            ],
        }
        for group in groups
    ]


def _spark(by_month: dict[date, dict[str, int]], months: list[date]) -> tuple[str, str]:
    values, direction = worse_or_better(by_month, months)
    return sparkline(values), direction


def _status_counts(account: AwsAccount) -> list[tuple[str, int]]:
    counts = dict(Finding.objects.filter(account=account).values_list("status").annotate(n=Count("pk")).order_by())
    return [(s, counts.get(s, 0)) for s in STATUS_FILTERS if s != "all"]


RUNS_PER_PAGE = 10


ORGANISATION_NOTES = "notes about the whole organisation: not shown to a login limited to some accounts"


def _for_reader(run: AuditRun, outside: list[str]) -> AuditRun:
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


def _runs_page(request: HttpRequest, account: AwsAccount) -> Any:
    """A page of the account's runs, newest first (?runs=N); every run is in the runs CSV."""
    page = Paginator(account_runs(account=account), RUNS_PER_PAGE).get_page(request.GET.get("runs"))
    outside = outside_scope(visible_accounts(request.user))
    page.object_list = [_for_reader(r, outside) for r in page.object_list]
    return page
