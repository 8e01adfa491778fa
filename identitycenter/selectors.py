"""Reads of Identity Center access for the pages, limited to the accounts the reader may see."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet

from accounts.models import AwsAccount
from accounts.selectors import in_accounts
from identitycenter.models import AccessPath


def current_paths(*, within: QuerySet[AwsAccount]) -> QuerySet[AccessPath]:
    """Every path Identity Center grants now, to the visible accounts."""
    return in_accounts(AccessPath.objects.filter(valid_to__isnull=True), within).select_related("account").order_by(
        "account__name", "user_name", "permission_set_name", "group_name"
    )


def paths_changed(
    *, since: datetime, within: QuerySet[AwsAccount], account: AwsAccount | None = None
) -> tuple[QuerySet[AccessPath], QuerySet[AccessPath]]:
    """Identity Center access granted and taken away since `since`: (added, removed), newest first, as queries (a page
    shows the first rows, a CSV every one)."""
    paths = in_accounts(AccessPath.objects.select_related("account"), within)
    if account is not None:
        paths = paths.filter(account=account)
    added = paths.filter(valid_from__gte=since).order_by("-valid_from", "account__name", "user_name", "pk")
    removed = paths.filter(valid_to__gte=since).order_by("-valid_to", "account__name", "user_name", "pk")
    return added, removed


def account_paths(*, account: AwsAccount) -> QuerySet[AccessPath]:
    return AccessPath.objects.filter(account=account, valid_to__isnull=True).select_related("person").order_by("-admin", "user_name", "permission_set_name", "group_name")


def person_paths(*, person_id: int, within: QuerySet[AwsAccount]) -> QuerySet[AccessPath]:
    """The paths of the Identity Center users that map to this person (by employee id, e-mail, or name under the
    naming rules, as the last run mapped them: identitycenter.access.person_of)."""
    return current_paths(within=within).filter(person_id=person_id)


def permission_set_use(*, within: QuerySet[AwsAccount]) -> list[dict[str, object]]:
    """Each permission set assigned now: administrator or not, and how many accounts and users it reaches."""
    return list(
        current_paths(within=within)
        .order_by()
        .values("permission_set_arn", "permission_set_name", "admin")
        .annotate(accounts=Count("account", distinct=True), users=Count("user_id", distinct=True))
        .order_by("-admin", "permission_set_name")
    )


def permission_set_reach(*, arn: str, within: QuerySet[AwsAccount]) -> list[dict[str, object]]:
    """Where one permission set is assigned now: each visible account, administrator there or not, its users."""
    return list(
        current_paths(within=within)
        .filter(permission_set_arn=arn)
        .order_by()
        .values("account__account_id", "account__name", "account__environment", "admin")
        .annotate(users=Count("user_id", distinct=True), groups=Count("group_id", distinct=True, filter=~Q(group_id="")))
        .order_by("account__name")
    )


def admin_counts(*, within: QuerySet[AwsAccount]) -> dict[int, int]:
    """Each visible account's Identity Center users with an administrator permission set now, by account pk."""
    return dict(
        in_accounts(AccessPath.objects.filter(valid_to__isnull=True, admin=True), within)
        .values_list("account")
        .annotate(n=Count("user_id", distinct=True))
        .order_by()
    )
