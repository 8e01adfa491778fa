"""Writes for accounts and naming standards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import AwsAccount, NamingStandard
from accounts.naming import NamingRuleError, Preset, compile_rule


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
    if role_arn and f":{account_id}:" not in role_arn:
        raise ValidationError(f"role ARN {role_arn} belongs to another account than {account_id}")
    account.full_clean(exclude=["naming_standard"])
    if naming_preset:
        account.naming_standard = naming_standard_for_preset(preset=naming_preset)
    account.save()
    return account


@dataclass(frozen=True, slots=True)
class OrganizationSync:
    created: list[AwsAccount]
    updated: list[AwsAccount]
    deactivated: list[AwsAccount]
    unchanged: int


def organization_sync(*, members: list[dict[str, Any]]) -> OrganizationSync:
    """Register new member accounts and update names, root emails and status; suspended or closed ones go inactive, never deleted.

    `members` are AWS Organizations ListAccounts entries (Id, Name, Email, Status or State).
    """
    created: list[AwsAccount] = []
    updated: list[AwsAccount] = []
    deactivated: list[AwsAccount] = []
    unchanged = 0
    with transaction.atomic():
        for member in members:
            status = str(member.get("State") or member.get("Status") or "ACTIVE").upper()
            active = status == "ACTIVE"
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
                )
                account.full_clean()
                account.save()
                created.append(account)
                continue
            before = (account.name, account.root_email, account.is_active, account.organization_status)
            account.name = member.get("Name", account.name)
            account.root_email = member.get("Email", account.root_email)
            account.organization_status = status
            if not active:
                account.is_active = False
            if (account.name, account.root_email, account.is_active, account.organization_status) == before:
                unchanged += 1
                continue
            account.full_clean()
            account.save()
            (updated if active or before[2] is False else deactivated).append(account)
    return OrganizationSync(created=created, updated=updated, deactivated=deactivated, unchanged=unchanged)
