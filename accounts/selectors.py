"""Reads of accounts and who may see them (account scopes), and of the naming standards they are held to."""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from accounts.models import AccountScope, AwsAccount, NamingExemption, NamingStandard, is_account_id
from accounts.naming import NO_STANDARD, NamingRule

_M = TypeVar("_M", bound=Model)


class AccountNotFound(LookupError):
    pass


def account_get(*, account_id: str) -> AwsAccount:
    """The account with this 12-digit id, or AccountNotFound with a message for the user."""
    if not is_account_id(account_id):
        raise AccountNotFound(f"{account_id!r} is not an AWS account id: an account id is exactly 12 digits")
    try:
        return AwsAccount.objects.select_related("naming_standard").get(account_id=account_id)
    except AwsAccount.DoesNotExist:
        raise AccountNotFound(f"no AWS account {account_id!r} is registered (add it with manage.py add_account)") from None


def account_scope(user: AbstractBaseUser | AnonymousUser) -> AccountScope | None:
    """The user's account scope; loaded with the user by accounts.backends, else one query, then cached."""
    try:
        return user.account_scope  # type: ignore[union-attr]
    except AccountScope.DoesNotExist:
        return None


def visible_accounts(user: AbstractBaseUser | AnonymousUser) -> QuerySet[AwsAccount]:
    """The accounts `user` may see: their account scope's, or every account when they have no scope.

    Limit a query with in_accounts(queryset, visible_accounts(user)). One SQL subquery deciding per
    row for both cases would cost a fleet-wide page a third more on PostgreSQL.
    """
    if not user.is_authenticated:
        return AwsAccount.objects.none()
    scope = account_scope(user)
    return AwsAccount.objects.all() if scope is None else AwsAccount.objects.filter(scopes=scope)


def every_account(accounts: QuerySet[AwsAccount]) -> bool:
    """Whether `accounts` is every account (unfiltered, as visible_accounts gives a user without a scope)."""
    return not accounts.query.has_filters()


def in_accounts(queryset: QuerySet[_M], accounts: QuerySet[AwsAccount], lookup: str = "account") -> QuerySet[_M]:
    """`queryset` limited to rows whose `lookup` is one of `accounts`.

    `accounts` unfiltered (a user without a scope sees every account) leaves `queryset` as it is: a
    fleet-wide page then keeps the database's cheapest plan instead of joining 150,000 findings to
    the account table for nothing.
    """
    if every_account(accounts):
        return queryset
    return queryset.filter(**{f"{lookup}__in": accounts})


def default_standard() -> NamingStandard | None:
    return NamingStandard.objects.filter(is_default=True).first()


def account_standard(*, account: AwsAccount) -> NamingStandard | None:
    """The account's own standard, else the organisation's default, else None."""
    return account.naming_standard if account.naming_standard_id else default_standard()


def standard_rule(standard: NamingStandard | None) -> NamingRule:
    """A standard compiled with its exemptions; NO_STANDARD for None."""
    if standard is None:
        return NO_STANDARD
    exemptions = dict(NamingExemption.objects.filter(standard=standard).values_list("user_name", "reason"))
    return standard.rule(exemptions)


def account_naming_rule(*, account: AwsAccount) -> NamingRule:
    """The account's compiled naming standard (its own or the organisation's) with its exemptions."""
    return standard_rule(account_standard(account=account))


def account_or_404(request: HttpRequest, account_id: str) -> AwsAccount:
    """The account with this id if the reader may see it; to a user scoped to other accounts it does not exist."""
    return get_object_or_404(visible_accounts(request.user).select_related("naming_standard"), account_id=account_id)


def accounts_under(standard: NamingStandard | None, *, is_default: bool) -> QuerySet[AwsAccount]:
    """The active accounts a standard applies to: its own, and those without one when it is the default."""
    scope = Q(naming_standard=standard) if standard is not None and standard.pk else Q(pk__in=[])
    if is_default:
        scope |= Q(naming_standard__isnull=True)
    return AwsAccount.objects.filter(scope, is_active=True)


OUTSIDE = "(an account outside your scope)"


def outside_scope(within: QuerySet[AwsAccount]) -> list[str]:
    """The ids and names of the accounts a reader of `within` may not see, longest first (for `redacted`); none for a
    reader without a scope."""
    if every_account(within):
        return []
    said = {text for pair in AwsAccount.objects.exclude(pk__in=within).values_list("account_id", "name") for text in pair if len(text) >= 3}
    return sorted(said, key=lambda text: (-len(text), text))


def redacted(text: str, outside: list[str]) -> str:
    """`text` (a run's note or error) with every id and name of `outside` replaced by OUTSIDE."""
    for found in outside:
        text = text.replace(found, OUTSIDE)
    return text
