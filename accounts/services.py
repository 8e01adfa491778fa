"""Writes for accounts and naming standards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.aws import ConnectionStep, one_line
from accounts.environments import environment_from
from accounts.models import AccountScope, AwsAccount, NamingExemption, NamingStandard
from accounts.naming import NamingRuleError, Preset, compile_rule
from staff.trail import record_change, snapshot

ACCOUNT_FIELDS = ("account_id", "name", "environment", "role_arn", "root_email", "naming_standard", "is_active")


def naming_standard_for_preset(*, preset: str) -> NamingStandard:
    """The organisation's standard for a built-in preset, created on first use."""
    if preset == Preset.CUSTOM:
        raise NamingRuleError("a custom naming standard needs a name and a regular expression; create it in the admin")
    initials = settings.IAMWATCH_COMPANY_INITIALS if preset == Preset.COMPANY_EMPLOYEE_ID else ""
    compile_rule(preset, company_initials=initials)  # raises NamingRuleError for an unknown or incomplete preset
    standard, _ = NamingStandard.objects.get_or_create(name=preset, defaults={"preset": preset, "company_initials": initials})
    return standard


@transaction.atomic
def account_create(
    *,
    account_id: str,
    name: str,
    environment: str = "",
    role_arn: str = "",
    external_id: str = "",
    root_email: str = "",
    naming_preset: str | None = None,
    actor: str = "manage.py add_account",
) -> AwsAccount:
    """Register an AWS account; raise ValidationError (or NamingRuleError) on bad input, storing nothing."""
    if AwsAccount.objects.filter(account_id=account_id).exists():
        raise ValidationError(f"account {account_id} is already registered")
    account = AwsAccount(
        account_id=account_id,
        name=name,
        environment=environment,
        role_arn=role_arn,
        external_id=external_id,
        root_email=root_email,
    )
    account.full_clean(exclude=["naming_standard"])  # fields and AwsAccount.clean, as the admin checks them
    if naming_preset:
        account.naming_standard = naming_standard_for_preset(preset=naming_preset)
    account.save()
    record_change(
        actor=actor, action="account.added", target=f"account {account.account_id}", after=snapshot(account, ACCOUNT_FIELDS)
    )
    return account


@dataclass(frozen=True, slots=True)
class OrganizationSync:
    created: list[AwsAccount]
    updated: list[AwsAccount]
    deactivated: list[AwsAccount]
    unchanged: int


def organization_sync(*, members: list[dict[str, Any]], actor: str = "manage.py sync_organization") -> OrganizationSync:
    """Register new member accounts and update names, root emails and status; suspended or closed ones go inactive, never deleted.

    `members` are AWS Organizations ListAccounts entries (Id, Name, Email, Status or State), with the account's
    tags (Tags: key -> value) and OU names from the root down (OuPath) where read: the environment comes from them
    (accounts.environments), and never overwrites one set by hand.
    """
    created: list[AwsAccount] = []
    updated: list[AwsAccount] = []
    deactivated: list[AwsAccount] = []
    unchanged = 0
    with transaction.atomic():
        for member in members:
            status = str(member.get("State") or member.get("Status") or "ACTIVE").upper()
            active = status == "ACTIVE"
            environment = environment_from(
                tags=member.get("Tags") or {}, ou_path=member.get("OuPath") or [], tag_key=settings.IAMWATCH_ENVIRONMENT_TAG
            )
            account = AwsAccount.objects.select_for_update().filter(account_id=member["Id"]).first()
            if account is None:
                account = AwsAccount(
                    account_id=member["Id"],
                    name=member.get("Name", member["Id"]),
                    root_email=member.get("Email", ""),
                    role_arn=f"arn:aws:iam::{member['Id']}:role/{settings.IAMWATCH_MEMBER_ROLE_NAME}",
                    external_id=settings.IAMWATCH_MEMBER_EXTERNAL_ID,
                    is_active=active,
                    organization_status=status,
                    environment=environment,
                    environment_from_organization=bool(environment),
                )
                account.full_clean()
                account.save()
                record_change(
                    actor=actor,
                    action="account.added",
                    target=f"account {account.account_id}",
                    after=snapshot(account, ACCOUNT_FIELDS),
                )
                created.append(account)
                continue
            fields = ("name", "root_email", "is_active", "organization_status", "environment")
            before = tuple(getattr(account, f) for f in fields)
            account.name = member.get("Name", account.name)
            account.root_email = member.get("Email", account.root_email)
            account.organization_status = status
            if not active:
                account.is_active = False
            if environment and (account.environment_from_organization or not account.environment):
                account.environment, account.environment_from_organization = environment, True
            if tuple(getattr(account, f) for f in fields) == before:
                unchanged += 1
                continue
            account.full_clean()
            account.save()
            record_change(
                actor=actor,
                action="account.changed",
                target=f"account {account.account_id}",
                before=dict(zip(fields, before, strict=True)),
                after=snapshot(account, fields),
            )
            (updated if active or before[2] is False else deactivated).append(account)
    return OrganizationSync(created=created, updated=updated, deactivated=deactivated, unchanged=unchanged)


STANDARD_FIELDS = ("name", "preset", "custom_regex", "company_initials", "is_default")


@transaction.atomic
def standard_save(*, standard: NamingStandard, actor: str) -> NamingStandard:
    """Create or change a naming standard; it must compile. Making it the default unsets the old default."""
    try:
        standard.rule()
    except NamingRuleError as exc:
        raise ValidationError(str(exc)) from None
    before = None
    if standard.pk:
        before = snapshot(NamingStandard.objects.select_for_update().get(pk=standard.pk), STANDARD_FIELDS)
    if standard.is_default:
        for old in NamingStandard.objects.select_for_update().filter(is_default=True).exclude(pk=standard.pk):
            old.is_default = False
            old.save(update_fields=["is_default"])
            record_change(
                actor=actor,
                action="naming_standard.changed",
                target=f"naming standard {old.name}",
                before={"is_default": True},
                after={"is_default": False},
            )
    standard.full_clean()
    standard.save()
    record_change(
        actor=actor,
        action="naming_standard.changed" if before else "naming_standard.added",
        target=f"naming standard {standard.name}",
        before=before,
        after=snapshot(standard, STANDARD_FIELDS),
    )
    return standard


@transaction.atomic
def account_set_standard(*, account: AwsAccount, standard: NamingStandard | None, actor: str) -> None:
    """Give an account its own standard, or None to follow the organisation's default."""
    before = str(account.naming_standard) if account.naming_standard_id else "(organisation default)"
    account.naming_standard = standard
    account.save(update_fields=["naming_standard"])
    record_change(
        actor=actor,
        action="account.changed",
        target=f"account {account.account_id}",
        before={"naming_standard": before},
        after={"naming_standard": str(standard) if standard else "(organisation default)"},
    )


@transaction.atomic
def exemption_add(*, standard: NamingStandard, user_name: str, reason: str, actor: str) -> NamingExemption:
    """Exempt a user name from a standard (and from the shared and owner checks); a reason is required."""
    if not reason.strip():
        raise ValidationError("an exemption needs a reason (e.g. break-glass user, documented service user)")
    if NamingExemption.objects.filter(standard=standard, user_name=user_name).exists():
        raise ValidationError(f"{user_name} is already exempted from {standard.name}")
    exemption = NamingExemption(standard=standard, user_name=user_name, reason=reason.strip())
    exemption.full_clean()
    exemption.save()
    record_change(
        actor=actor,
        action="exemption.added",
        target=f"{user_name} in naming standard {standard.name}",
        after={"reason": exemption.reason},
    )
    return exemption


@transaction.atomic
def exemption_remove(*, exemption: NamingExemption, actor: str) -> None:
    record_change(
        actor=actor,
        action="exemption.removed",
        target=f"{exemption.user_name} in naming standard {exemption.standard.name}",
        before={"reason": exemption.reason},
    )
    exemption.delete()


def _scope_values(scope: AccountScope) -> dict[str, Any]:
    """A scope as the trail records it: its reason and its accounts by name."""
    return {"reason": scope.reason, "accounts": sorted(str(a) for a in scope.accounts.all())}


@transaction.atomic
def account_scope_set(*, user: Any, accounts: list[AwsAccount], reason: str, actor: str) -> AccountScope:
    """Restrict `user` to `accounts` (replacing any earlier scope); a reason is required."""
    if not reason.strip():
        raise ValidationError("an account scope needs a reason (e.g. the payments team)")
    scope = AccountScope.objects.select_for_update().filter(user=user).first()
    before = _scope_values(scope) if scope else None
    if scope is None:
        scope = AccountScope(user=user)
    scope.reason = reason.strip()
    scope.save()
    scope.accounts.set(accounts)
    record_change(
        actor=actor,
        action=f"accountscope.{'changed' if before else 'added'}",
        target=str(scope),
        before=before,
        after=_scope_values(scope),
    )
    return scope


@transaction.atomic
def account_scope_clear(*, user: Any, actor: str) -> bool:
    """Lift `user`'s scope (they see every account again); False when they had none."""
    scope = AccountScope.objects.select_for_update().filter(user=user).first()
    if scope is None:
        return False
    record_change(actor=actor, action="accountscope.removed", target=str(scope), before=_scope_values(scope))
    scope.delete()
    return True


def push_rule_record(*, account: AwsAccount, step: ConnectionStep, actor: str, at: datetime | None = None) -> None:
    """Keep what a connection test found of the account's root activity rule (accounts.aws.push_rule_step): its state,
    when, and since when it has been found enabled (the push path's misses count from then). A change of state is in
    the trail."""
    now = at or timezone.now()
    state = step.state or one_line(step.detail)[:300]
    before = account.push_rule
    account.push_rule, account.push_rule_checked_at = state, now
    if state == "ENABLED":
        account.push_rule_enabled_since = account.push_rule_enabled_since or now
    else:
        account.push_rule_enabled_since = None
    with transaction.atomic():
        account.save(update_fields=["push_rule", "push_rule_checked_at", "push_rule_enabled_since"])
        if before != state:
            record_change(
                actor=actor, action="account.push_rule", target=f"account {account.account_id}",
                before={"push_rule": before or "(never tested)"}, after={"push_rule": state},
            )  # fmt: skip
