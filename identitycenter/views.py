"""The fleet's Identity Center page: each permission set in use, administrator or not, and where (?set=ARN: each
account it reaches); CSV too."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render

from accounts.selectors import every_account, in_accounts, visible_accounts
from audits.models import AuditRun, RunSource
from audits.tasks import QueueUnavailable, enqueue_run
from identitycenter.selectors import current_paths, permission_set_reach, permission_set_use
from identitycenter.services import IdentityCenterError, identity_center_request
from staff.export import csv_response
from staff.roles import READ_PERMISSION, RUN_PERMISSION, policy

PATHS_HEADER = (
    "account_id", "account_name", "user_name", "email", "employee_number", "permission_set", "administrator", "through_group",
    "since", "person_employee_id", "person_has_left",
)  # fmt: skip


@policy(get=READ_PERMISSION)
def identity_center(request: HttpRequest) -> HttpResponseBase:
    within = visible_accounts(request.user)
    if request.GET.get("account"):  # one account's Access section (an account the reader may not see gives nothing)
        within = within.filter(account_id=request.GET["account"])
    if request.GET.get("format") == "csv":
        fields = (
            "account__account_id", "account__name", "user_name", "email", "employee_number", "permission_set_name", "admin",
            "group_name", "valid_from", "person__employee_id", "person__active",
        )  # fmt: skip
        rows = (
            (*row[:6], "yes" if row[6] else "no", *row[7:9], row[9] or "", "" if row[10] is None else ("no" if row[10] else "yes"))
            for row in current_paths(within=within).values_list(*fields).iterator(chunk_size=5000)
        )
        return csv_response(PATHS_HEADER, rows, "iamwatch-identity-center-access.csv")
    sets = permission_set_use(within=within)
    chosen = next((s for s in sets if s["permission_set_arn"] == request.GET.get("set")), None)
    reach = permission_set_reach(arn=str(chosen["permission_set_arn"]), within=within) if chosen else []
    runs = in_accounts(AuditRun.objects.filter(source=RunSource.IDENTITY_CENTER).select_related("account"), visible_accounts(request.user)).order_by("-requested_at")[:5]
    context = {
        "sets": sets, "chosen": chosen, "reach": reach, "runs": runs, "holder": settings.IAMWATCH_IDENTITY_CENTER_ACCOUNT,
        # An Identity Center run reads the whole organisation: its notes and errors (counts, other accounts' ids) are
        # not a scoped reader's to see.
        "scoped": not every_account(visible_accounts(request.user)),
    }  # fmt: skip
    return render(request, "identitycenter/identity_center.html", context)


@policy(post=RUN_PERMISSION)
def identity_center_read(request: HttpRequest) -> HttpResponse:
    """Queue a read of Identity Center now, as the daily schedule does; for those who may see the account holding it."""
    holder = settings.IAMWATCH_IDENTITY_CENTER_ACCOUNT
    if holder and not visible_accounts(request.user).filter(account_id=holder).exists():
        messages.error(request, f"Not queued: account {holder}, which holds Identity Center, is not among yours.")
        return redirect("identitycenter:identity-center")
    try:
        run = identity_center_request(requested_by=request.user.get_username())
        enqueue_run(run)
    except (IdentityCenterError, QueueUnavailable) as exc:
        messages.error(request, f"Not queued: {exc}.")
    else:
        messages.success(request, f"Identity Center run {run.pk} is queued.")
    return redirect("identitycenter:identity-center")
