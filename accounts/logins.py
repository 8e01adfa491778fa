"""The Users page: IAMWatch's own logins for admins, with their role, account scope and second factor; add a login,
change its role, limit it to some accounts, switch it off or on, reset its second factor, and clear a lockout. Every
change is in the audit trail, under the same actions the admin site records (user.added, user.changed,
accountscope.*, two_factor.reset, lockout.cleared), so that four-eyes sees who handled which login. With this page the
Django admin is for superusers only (issue 24).

No escalation, as in the admin site: an admin who is not a superuser manages viewers and reviewers only, and may
neither make an admin nor touch a superuser, a staff member or another admin (themselves included)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccountScope, AwsAccount
from accounts.services import account_scope_clear, account_scope_set
from staff.forms import form_errors
from staff.roles import ADMIN, ORGANISATION_WIDE, REVIEWER, VIEWER, actor_of, policy
from staff.trail import record_change
from staff.twofactor import two_factor_reset

ROLES = (VIEWER, REVIEWER, ADMIN)
ROLE_SAID = {
    VIEWER: "viewer (auditor): reads and downloads",
    REVIEWER: "reviewer: decides and signs reviews",
    ADMIN: "admin: manages accounts and logins",
}


class LoginAddForm(forms.Form):
    username = forms.RegexField(regex=r"^[\w.@+-]{1,150}$", error_messages={"invalid": "letters, digits and @ . + - _ only"})
    role = forms.ChoiceField(choices=[(r, ROLE_SAID[r]) for r in ROLES])


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=[(r, r) for r in ROLES])


class ScopeForm(forms.Form):
    """Limit a login to some accounts, by their 12-digit ids (one per line or comma-separated: a fleet has thousands,
    a scope a few), with the reason; or (`every`) let it see every account again."""

    accounts = forms.CharField(required=False, max_length=20000, widget=forms.Textarea)
    reason = forms.CharField(required=False, max_length=500)
    every = forms.BooleanField(required=False)

    def clean_accounts(self) -> list[AwsAccount]:
        wanted = set(re.split(r"[\s,;]+", self.cleaned_data["accounts"].strip())) - {""}
        malformed = sorted(a for a in wanted if not re.fullmatch(r"\d{12}", a))
        if malformed:
            raise ValidationError(f"an account id is 12 digits, not {', '.join(malformed[:5])}")
        found = list(AwsAccount.objects.filter(account_id__in=wanted))
        unknown = sorted(wanted - {a.account_id for a in found})
        if unknown:
            raise ValidationError(f"no registered AWS account {', '.join(unknown[:5])}")
        return found


@dataclass(frozen=True, slots=True)
class LoginRow:
    user: Any
    role: str
    scope: AccountScope | None
    scope_ids: str  # the scope's account ids, one per line, for its form
    two_factor: bool
    manageable: bool  # whether the reader may change it


def _role(user: Any) -> str:
    names = {g.name for g in user.groups.all()}
    return next((r for r in reversed(ROLES) if r in names), "")


def privileged(user: Any) -> bool:
    """Superusers, staff (who may use the admin) and admins: only a superuser manages them."""
    return bool(user.is_superuser or user.is_staff or _role(user) == ADMIN)


def may_manage(actor: Any, user: Any) -> bool:
    return bool(actor.is_superuser or not privileged(user))


def may_grant(actor: Any, role: str) -> bool:
    return bool(actor.is_superuser or role in (VIEWER, REVIEWER))


@policy(get="auth.view_user", post="auth.add_user", unscoped=ORGANISATION_WIDE)
def login_list(request: HttpRequest) -> HttpResponse:
    """Every login with its role, scope and second factor; POST adds one, with a first password shown once."""
    form = LoginAddForm(request.POST or None)
    created = None
    if request.method == "POST":
        if form.is_valid():
            username, role = form.cleaned_data["username"], form.cleaned_data["role"]
            if not may_grant(request.user, role):
                messages.error(request, f"Not added: only a superuser makes an {role}.")
            elif get_user_model().objects.filter(username__iexact=username).exists():
                messages.error(request, f"Not added: the login {username} exists already.")
            else:
                created = (username, login_add(username=username, role=role, actor=actor_of(request)))
        else:
            messages.error(request, f"Not added: {form_errors(form)}")
    users = get_user_model().objects.order_by("username").prefetch_related("groups")
    scopes = {s.user_id: s for s in AccountScope.objects.prefetch_related("accounts")}
    enrolled = set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    rows = [
        LoginRow(u, _role(u), scopes.get(u.pk), _ids(scopes.get(u.pk)), u.pk in enrolled, may_manage(request.user, u)) for u in users
    ]
    context = {
        "rows": rows,
        "form": LoginAddForm() if created else form,
        "created": created,
        "roles": ROLES,
        "attempts": AccessAttempt.objects.order_by("-attempt_time")[:200],
        "lockout_limit": settings.AXES_FAILURE_LIMIT,
        "address_limit": settings.IAMWATCH_ADDRESS_FAILURE_LIMIT,
        "sso": bool(settings.IAMWATCH_OIDC_ISSUER),
    }
    return render(request, "accounts/login_list.html", context, status=400 if request.method == "POST" and not created else 200)


def _ids(scope: AccountScope | None) -> str:
    return "\n".join(sorted(a.account_id for a in scope.accounts.all())) if scope else ""


@transaction.atomic
def login_add(*, username: str, role: str, actor: str) -> str:
    """A new login in `role` with a random first password, returned once: it must be changed at the first sign-in
    (staff.passwords: a password someone else set)."""
    password = secrets.token_urlsafe(12)
    user = get_user_model().objects.create_user(username, password=password)
    user.groups.set([Group.objects.get(name=role)])
    record_change(actor=actor, action="user.added", target=username, after={"role": role})
    return password


@policy(get="auth.view_user", post="auth.change_user", unscoped=ORGANISATION_WIDE)
def login_role(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=user_id)
    if request.method == "GET":  # the address a refused change leaves in the address bar opens the list
        return redirect("accounts:login-list")
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not changed: {form_errors(form)}")
    elif not may_manage(request.user, user) or not may_grant(request.user, form.cleaned_data["role"]):
        messages.error(request, f"Not changed: only a superuser manages admins and superusers ({user.get_username()}).")
    else:
        before, role = _role(user), form.cleaned_data["role"]
        if before != role:
            with transaction.atomic():
                user.groups.set([Group.objects.get(name=role)])
                record_change(
                    actor=actor_of(request),
                    action="user.changed",
                    target=user.get_username(),
                    before={"role": before},
                    after={"role": role},
                )
            messages.success(request, f"{user.get_username()} is now {role}.")
    return redirect("accounts:login-list")


@policy(get="auth.view_user", post="auth.change_user", unscoped=ORGANISATION_WIDE)
def login_two_factor_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=user_id)
    if request.method == "GET":
        return redirect("accounts:login-list")
    if not may_manage(request.user, user):
        messages.error(request, f"Not reset: only a superuser manages admins and superusers ({user.get_username()}).")
    else:
        with transaction.atomic():
            removed = two_factor_reset(user=user, actor=actor_of(request))
        messages.success(
            request,
            f"{user.get_username()}'s second factor reset ({removed} device{'s' if removed != 1 else ''} removed): they enrol again at their next sign-in.",
        )
    return redirect("accounts:login-list")


def _refused(request: HttpRequest, user: Any, what: str) -> bool:
    """Whether the reader may not change `user` (said in a message): admins and superusers are a superuser's."""
    if may_manage(request.user, user):
        return False
    messages.error(request, f"Not {what}: only a superuser manages admins and superusers ({user.get_username()}).")
    return True


@policy(get="auth.view_user", post="accounts.change_accountscope", unscoped=ORGANISATION_WIDE)
def login_scope(request: HttpRequest, user_id: int) -> HttpResponse:
    """Limit a login to some accounts, or let it see every account again (accountscope.* in the trail)."""
    user = get_object_or_404(get_user_model(), pk=user_id)
    if request.method == "GET":
        return redirect("accounts:login-list")
    form = ScopeForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Scope not changed: {form_errors(form)}")
    elif not _refused(request, user, "changed"):
        if form.cleaned_data["every"]:
            cleared = account_scope_clear(user=user, actor=actor_of(request))
            messages.success(request, f"{user.get_username()} sees every account{'' if cleared else ' (as before)'}.")
        elif not form.cleaned_data["accounts"]:
            messages.error(request, "Scope not changed: choose the accounts, or let them see every account.")
        else:
            try:
                with transaction.atomic():
                    scope = account_scope_set(
                        user=user, accounts=list(form.cleaned_data["accounts"]), reason=form.cleaned_data["reason"], actor=actor_of(request)
                    )
            except ValidationError as exc:
                messages.error(request, f"Scope not changed: {'; '.join(exc.messages)}.")
            else:
                messages.success(request, f"{user.get_username()} now sees {scope.accounts.count()} account(s) only.")
    return redirect(f"{reverse('accounts:login-list')}#login-{user.pk}")


@policy(get="auth.view_user", post="auth.change_user", unscoped=ORGANISATION_WIDE)
def login_active(request: HttpRequest, user_id: int) -> HttpResponse:
    """Switch a login off (it is signed out at its next page and cannot sign in) or on again (user.changed)."""
    user = get_object_or_404(get_user_model(), pk=user_id)
    if request.method == "GET":
        return redirect("accounts:login-list")
    active = request.POST.get("active") == "1"
    if user.pk == request.user.pk:
        messages.error(request, "Not changed: nobody switches their own login off.")
    elif not _refused(request, user, "changed") and user.is_active != active:
        with transaction.atomic():
            user.is_active = active
            user.save(update_fields=["is_active"])
            record_change(
                actor=actor_of(request),
                action="user.changed",
                target=user.get_username(),
                before={"is_active": not active},
                after={"is_active": active},
            )
        messages.success(request, f"{user.get_username()} is {'switched on again' if active else 'switched off: signed out, and cannot sign in'}.")
    return redirect(f"{reverse('accounts:login-list')}#login-{user.pk}")


@policy(get="auth.view_user", post="axes.delete_accessattempt", unscoped=ORGANISATION_WIDE)
def lockout_clear(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """Clear a lockout (the failed sign-ins of one user name from one address), lockout.cleared in the trail."""
    if request.method == "GET":
        return redirect("accounts:login-list")
    attempt = AccessAttempt.objects.filter(pk=attempt_id).first()
    if attempt is None:
        messages.error(request, "Not cleared: that lockout is gone already (cleared, or its cool-off ended).")
    else:
        with transaction.atomic():
            record_change(
                actor=actor_of(request),
                action="lockout.cleared",
                target=f"{attempt.username} from {attempt.ip_address}",
                before={"username": attempt.username, "ip_address": attempt.ip_address, "failures": attempt.failures_since_start},
            )
            attempt.delete()
        messages.success(request, f"Cleared: {attempt.username} may sign in from {attempt.ip_address} again.")
    return redirect(f"{reverse('accounts:login-list')}#lockouts")
