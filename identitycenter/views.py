"""The fleet's Identity Center page: each permission set in use, administrator or not, and where (?set=ARN: each
account it reaches); CSV too."""

from __future__ import annotations

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

from accounts.selectors import visible_accounts
from identitycenter.selectors import current_paths, permission_set_reach, permission_set_use
from staff.export import csv_response
from staff.roles import READ_PERMISSION, policy

PATHS_HEADER = ("account_id", "account_name", "user_name", "email", "employee_number", "permission_set", "administrator", "through_group", "since")


@policy(get=READ_PERMISSION)
def identity_center(request: HttpRequest) -> HttpResponseBase:
    within = visible_accounts(request.user)
    if request.GET.get("account"):  # one account's Access section (an account the reader may not see gives nothing)
        within = within.filter(account_id=request.GET["account"])
    if request.GET.get("format") == "csv":
        fields = ("account__account_id", "account__name", "user_name", "email", "employee_number", "permission_set_name", "admin", "group_name", "valid_from")
        rows = (
            (*row[:6], "yes" if row[6] else "no", *row[7:])
            for row in current_paths(within=within).values_list(*fields).iterator(chunk_size=5000)
        )
        return csv_response(PATHS_HEADER, rows, "iamwatch-identity-center-access.csv")
    sets = permission_set_use(within=within)
    chosen = next((s for s in sets if s["permission_set_arn"] == request.GET.get("set")), None)
    reach = permission_set_reach(arn=str(chosen["permission_set_arn"]), within=within) if chosen else []
    return render(request, "identitycenter/identity_center.html", {"sets": sets, "chosen": chosen, "reach": reach})
