"""Run now (one account, or all), run progress for htmx polling, and the connection test."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.aws import connection_test
from accounts.roles import MANAGE_PERMISSION, RUN_PERMISSION, account_or_404, reader_required
from accounts.selectors import visible_accounts
from audits.runs import ACTIVE, fleet_request, run_request
from audits.selectors import account_runs
from audits.tasks import QueueUnavailable, enqueue_run


@require_POST
@permission_required(RUN_PERMISSION, raise_exception=True)
def run_now(request: HttpRequest, account_id: str) -> HttpResponse:
    account = account_or_404(request, account_id)
    run = run_request(account=account, requested_by=request.user.get_username())
    try:
        enqueue_run(run)
    except QueueUnavailable as exc:
        messages.error(request, f"{exc}. The dashboard still works; try again when the broker is back.")
    else:
        messages.success(request, f"Run {run.pk} for {account.name} is queued.")
    return redirect("audits:account-detail", account_id=account.account_id)


@require_POST
@permission_required(RUN_PERMISSION, raise_exception=True)
def run_all(request: HttpRequest) -> HttpResponse:
    # "All" is every active account the user may see.
    accounts = list(visible_accounts(request.user).filter(is_active=True))
    result = fleet_request(requested_by=request.user.get_username(), force=True, accounts=accounts)
    queued = 0
    for run in result.runs:
        try:
            enqueue_run(run)
            queued += 1
        except QueueUnavailable as exc:
            messages.error(request, f"{exc}. The dashboard still works; try again when the broker is back.")
            break
    if queued:
        messages.success(request, f"{queued} run(s) queued.")
    return redirect("audits:overview")


@require_GET
@reader_required
def runs_partial(request: HttpRequest, account_id: str) -> HttpResponse:
    """The run table alone, for htmx polling while a run is pending or running."""
    account = account_or_404(request, account_id)
    runs = list(account_runs(account=account))
    active = any(r.status in ACTIVE for r in runs)
    return render(request, "audits/partials/runs.html", {"account": account, "runs": runs, "active": active})


@require_POST
@permission_required(MANAGE_PERMISSION, raise_exception=True)
def test_connection(request: HttpRequest, account_id: str) -> HttpResponse:
    account = account_or_404(request, account_id)
    steps = connection_test(account)
    return render(request, "audits/test_connection.html", {"account": account, "steps": steps, "ok": all(s.ok for s in steps)})
