"""Reads of accounts and naming standards."""

from __future__ import annotations

from accounts.models import AwsAccount, NamingExemption
from accounts.naming import NO_STANDARD, NamingRule


class AccountNotFound(LookupError):
    pass


def account_get(*, account_id: str) -> AwsAccount:
    """The account with this 12-digit id, or AccountNotFound with a message for the user."""
    try:
        return AwsAccount.objects.select_related("naming_standard").get(account_id=account_id)
    except AwsAccount.DoesNotExist:
        raise AccountNotFound(f"no AWS account {account_id!r} is registered (add it with manage.py add_account)") from None


def account_naming_rule(*, account: AwsAccount) -> NamingRule:
    """The account's compiled naming standard with its exemptions; NO_STANDARD when none is set."""
    standard = account.naming_standard
    if standard is None:
        return NO_STANDARD
    exemptions = dict(NamingExemption.objects.filter(standard=standard).values_list("user_name", "reason"))
    return standard.rule(exemptions)
