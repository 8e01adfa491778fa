"""Pages for the naming standards, their exemptions, an account's choice of standard, and the connection test (a
standard's own page, with the users it would flag, is the dashboard's)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts.aws import PUSH_RULE_CALL, connection_test
from accounts.forms import AccountStandardForm, ExemptionForm
from accounts.models import NamingExemption, NamingStandard
from accounts.selectors import account_or_404, visible_accounts
from accounts.services import account_set_standard, exemption_add, exemption_remove, push_rule_record
from staff.forms import form_errors
from staff.roles import MANAGE_PERMISSION, ORGANISATION_WIDE, READ_PERMISSION, actor_of, policy


@policy(get=READ_PERMISSION)
def standard_list(request: HttpRequest) -> HttpResponse:
    accounts = Prefetch("accounts", queryset=visible_accounts(request.user))
    standards = NamingStandard.objects.order_by("-is_default", "name").prefetch_related("exemptions", accounts)
    return render(request, "accounts/standard_list.html", {"standards": standards})


@policy(post="accounts.add_namingexemption", unscoped=ORGANISATION_WIDE)
def exemption_create(request: HttpRequest, standard_id: int) -> HttpResponse:
    standard = get_object_or_404(NamingStandard, pk=standard_id)
    form = ExemptionForm(request.POST)
    if form.is_valid():
        try:
            exemption_add(standard=standard, actor=actor_of(request), **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            messages.success(request, f"Exempted {form.cleaned_data['user_name']} from {standard.name}.")
    else:
        messages.error(request, form_errors(form))
    return redirect("accounts:standard-edit", standard_id=standard.pk)


@policy(post="accounts.delete_namingexemption", unscoped=ORGANISATION_WIDE)
def exemption_delete(request: HttpRequest, exemption_id: int) -> HttpResponse:
    exemption = get_object_or_404(NamingExemption.objects.select_related("standard"), pk=exemption_id)
    exemption_remove(exemption=exemption, actor=actor_of(request))
    messages.success(request, f"{exemption.user_name} is no longer exempted from {exemption.standard.name}.")
    return redirect("accounts:standard-edit", standard_id=exemption.standard_id)


@policy(post=MANAGE_PERMISSION)
def account_standard_set(request: HttpRequest, account_id: str) -> HttpResponse:
    account = account_or_404(request, account_id)
    form = AccountStandardForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed naming standards.")
    else:
        account_set_standard(account=account, standard=form.cleaned_data["standard"], actor=actor_of(request))
        messages.success(request, "Naming standard changed; it applies from the next run.")
    return redirect("people:account-owners", account_id=account.account_id)


@policy(get=READ_PERMISSION, post=MANAGE_PERMISSION)
def test_connection(request: HttpRequest, account_id: str) -> HttpResponse:
    account = account_or_404(request, account_id)
    if request.method == "GET":  # the address the result was shown at opens the account page, where the test is run
        return redirect("audits:account-detail", account_id=account.account_id)
    steps = connection_test(account)
    for step in steps:
        if step.call.startswith(PUSH_RULE_CALL):
            push_rule_record(account=account, step=step, actor=actor_of(request))
    return render(request, "accounts/test_connection.html", {"account": account, "steps": steps, "ok": all(s.ok for s in steps)})
