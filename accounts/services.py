"""Writes for accounts and naming standards."""

from __future__ import annotations

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
