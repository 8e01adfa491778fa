"""The audit pages: findings, a user's history, alerts, an account's runs and its stored reports, run now, run all, the
report import. (The pages that compose audits with the domains above it, the agenda and the account page among them,
are the dashboard's.)

Every table here has a CSV of exactly its rows with the same filters (`?format=csv`), streamed; htmx requests get
the table partial only. Every view needs a login (middleware) and declares who may open it (staff.roles.policy)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts.selectors import (
    account_or_404,
    in_accounts,
    outside_scope,
    visible_accounts,
)
from audits.charts import root_usage_timeline
from audits.checks import CHECKS_BY_ID
from audits.export import FINDINGS_HEADER, ROOT_USAGE_HEADER, finding_row, root_usage_row
from audits.forms import MAX_REPORT_MB, FindingFilterForm, ReportUploadForm, RunFilterForm
from audits.models import Alert, AuditRun, PrincipalState, RunStatus
from audits.report import ReportError
from audits.runs import ACTIVE, fleet_request, run_request
from audits.selectors import (
    RUN_HEALTH,
    FindingFilters,
    account_root_usage,
    account_runs,
    finding_search,
    fleet_runs,
    principal_states,
    run_for_reader,
    runs_page,
    tallied_findings,
)
from audits.services import report_import
from audits.tasks import QueueUnavailable, enqueue_run
from staff.export import csv_response
from staff.forms import form_errors
from staff.pages import page_or_partial, query_without_page, wants_csv
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
            run_for_reader(r, outside).error,
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


PAGE_SIZE = 50


STATE_HEADER = (
    "account_id", "principal", "valid_from", "valid_to", "password_enabled", "password_last_used", "mfa_active",
    "key1_active", "key1_last_rotated", "key1_last_used", "key2_active", "key2_last_rotated", "key2_last_used", "changes",
)  # fmt: skip


@policy(get=READ_PERMISSION)
def finding_list(request: HttpRequest) -> HttpResponseBase:
    form = FindingFilterForm(request.GET)
    if not form.is_valid():
        return page_or_partial(
            request, "audits/finding_list.html", "audits/partials/finding_table.html", {"form": form, "page": None}
        )
    findings = finding_search(form.filters(), within=visible_accounts(request.user))
    if wants_csv(request) or request.resolver_match.url_name == "findings-csv":  # type: ignore[union-attr]
        return csv_response(
            FINDINGS_HEADER, (finding_row(f) for f in findings.iterator(chunk_size=2000)), "iamwatch-findings.csv"
        )
    # Open findings by account, check or severity page from the tally; the page shows no run columns: no run joins.
    tallied = tallied_findings(form.filters(), within=visible_accounts(request.user))
    listed = tallied if tallied is not None else findings.select_related(None).select_related("account")
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))  # type: ignore[arg-type]
    context = {"form": form, "page": page, "query": query_without_page(request), "checks": CHECKS_BY_ID}
    return page_or_partial(request, "audits/finding_list.html", "audits/partials/finding_table.html", context)


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
    latest: PrincipalState  # the last of them: its "last used" times are the period's latest


def folded_changes(timeline: list[tuple[PrincipalState, list[str]]]) -> list[Period]:
    """The history with a row per real change (MFA, password, keys activated or rotated), not one per day of use."""
    periods: list[Period] = []
    for state, changes in timeline:
        real = [c for c in changes if not c.startswith(USE_ONLY)]
        if real or not periods:
            periods.append(Period(state, state.valid_to, real or changes, 1, state))
        else:
            last = periods[-1]
            periods[-1] = Period(last.state, state.valid_to, last.changes, last.states + 1, state)
    return periods


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
        alerts.exclude(error="")
        .order_by()
        .values("error")
        .annotate(count=Count("pk"), last=Max("created_at"))
        .order_by("-count", "-last")
    )
    numbers = {p["error"]: n for n, p in enumerate(problems, start=1)}
    listed = [(a, numbers.get(a.error)) for a in page]
    return render(request, "audits/alert_list.html", {"page": page, "rows": listed, "problems": problems})


FLEET_RUNS_HEADER = (
    "account_id", "account_name", "environment", "last_run", "run_id", "source", "status", "requested_at", "finished_at",
    "report_generated_at", "error", "last_report_at",
)  # fmt: skip


@policy(get=READ_PERMISSION)
def run_list(request: HttpRequest) -> HttpResponseBase:
    """The fleet's run health: every account's latest run, failed and partial first, with the error (and its hint)."""
    form = RunFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    visible = visible_accounts(request.user)
    rows = fleet_runs(within=visible, health=data.get("health", ""), environment=data.get("environment", ""), q=data.get("q", ""))
    outside = outside_scope(visible)
    page = Paginator(rows, FLEET_RUNS_PAGE).get_page(request.GET.get("page"))
    for row in rows if wants_csv(request) else page:  # what is shown, as this reader may see it
        if row.run is not None:
            run_for_reader(row.run, outside)
    if wants_csv(request):
        lines = (
            (r.account.account_id, r.account.name, r.account.environment, r.health, r.run.pk if r.run else "",
             r.run.source if r.run else "", r.run.status if r.run else "", r.run.requested_at if r.run else "",
             r.run.finished_at if r.run else "", r.run.generated_at if r.run else "", r.run.error if r.run else "",
             r.account.last_success_at)
            for r in rows
        )  # fmt: skip
        return csv_response(FLEET_RUNS_HEADER, lines, "iamwatch-runs.csv")
    counts = {h: sum(1 for r in rows if r.health == h) for h in RUN_HEALTH}
    environments = sorted(set(visible.exclude(environment="").values_list("environment", flat=True)))
    context = {
        "form": form,
        "rows": page.object_list,
        "page": page,
        "counts": counts,
        "environments": environments,
        "query": query_without_page(request),
    }
    return render(request, "audits/run_list.html", context)


FLEET_RUNS_PAGE = 100  # accounts per page of the fleet's runs, failed first; the CSV holds every account


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
            f"{run.generated_at:%Y-%m-%d %H:%M} UTC (the report's time: {form.time_from})."
            + "".join(f" Warning: {w}" for w in run.warnings),
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
                status=RunStatus.FAILED,
                error="could not be queued: the task broker (Redis) is unreachable",
                finished_at=timezone.now(),
            )
            messages.error(
                request,
                f"{exc}: {len(rest) + 1} run(s) not queued, marked failed. The dashboard still works; try again when the broker is back.",
            )
            break
    if queued:
        messages.success(request, f"{queued} run(s) queued.")
    return redirect("audits:overview")


@policy(get=READ_PERMISSION)
def runs_partial(request: HttpRequest, account_id: str) -> HttpResponse:
    """The run table alone, for htmx polling while a run is pending or running."""
    account = account_or_404(request, account_id)
    runs = runs_page(account=account, visible=visible_accounts(request.user), number=request.GET.get("runs"))
    active = any(r.status in ACTIVE for r in runs)
    return render(request, "audits/partials/runs.html", {"account": account, "runs": runs, "active": active})
