"""The Identity Center checks: pure functions over the access model, the people directory's answers and the
accounts' environments. Findings name the Identity Center user as `sso-user:NAME` and a group as `sso-group:NAME`
(a colon never occurs in an IAM user name, so the two kinds of principal never meet)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from audits.checks.base import ACCOUNT_PRINCIPAL, Result
from people.matching import Owner

from .access import Directory, Path, SsoUser

Resolve = Callable[[SsoUser], tuple[Owner, ...]]
AccountResult = tuple[str, Result]  # (the account the finding is about, the finding)


def user_principal(user: SsoUser) -> str:
    return f"sso-user:{user.user_name}"


def _paths_said(paths: Iterable[Path]) -> str:
    ways = {("directly" if p.group is None else f"through {p.group.name}") + f" with {p.permission_set.name}" for p in paths}
    return "; ".join(sorted(ways))


def evaluate_identity_center(directory: Directory, *, resolve: Resolve, production: set[str], max_admins_prod: int) -> list[AccountResult]:
    """Every finding Identity Center raises, with the account it is about."""
    results: list[AccountResult] = []
    by_account_user: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for path in directory.paths():
        by_account_user[(path.account_id, path.user.user_id)].append(path)
    admins: dict[str, dict[str, str]] = defaultdict(dict)  # account: {person or user key: name shown}
    for (account_id, _), paths in sorted(by_account_user.items()):
        user = paths[0].user
        principal = user_principal(user)
        owners = resolve(user)
        if not owners:
            said = f"{user.user_name} maps to nobody in the people directory; reaches {account_id} {_paths_said(paths)}"
            results.append((account_id, Result("sso.user_no_person", principal, "", said)))
        elif len(owners) > 1:
            who = " and ".join(o.describe() for o in owners)
            said = (
                f"{user.user_name} maps to {len(owners)} people in the people directory ({who}): link it to its person by "
                f"hand; reaches {account_id} {_paths_said(paths)}"
            )
            results.append((account_id, Result("sso.user_no_person", principal, "", said)))
        elif len(owners) == 1 and not owners[0].active:
            said = f"{owners[0].describe()} has left; {user.user_name} still reaches {account_id} {_paths_said(paths)}"
            results.append((account_id, Result("sso.user_departed", principal, "", said)))
        for p in paths:
            if p.admin and p.direct:
                said = f"administrator permission set {p.permission_set.name} assigned to {user.user_name} directly, not through a group"
                results.append((account_id, Result("sso.admin_direct_assignment", principal, p.permission_set.arn, said, subject=p.permission_set.name)))
        escalating = [p for p in paths if p.escalation and not any(q.admin for q in paths)]
        if escalating:
            steps = "; ".join(sorted({f"{p.permission_set.name}: {p.escalation}" for p in escalating}))
            said = f"{user.user_name} can make itself administrator of {account_id} ({steps})"
            results.append((account_id, Result("sso.can_become_admin", principal, "", said)))
        if any(p.admin for p in paths):
            key = f"person:{owners[0].person_id}" if len(owners) == 1 else f"user:{user.user_id}"
            admins[account_id][key] = owners[0].name if len(owners) == 1 else user.user_name
    for account_id in sorted(production):
        people = admins.get(account_id, {})
        if len(people) > max_admins_prod:
            said = f"{len(people)} people have administrator access through Identity Center (at most {max_admins_prod}): {', '.join(sorted(people.values()))}"
            results.append((account_id, Result("sso.admin_in_production", ACCOUNT_PRINCIPAL, "", said)))
    assigned_groups = {(a.account_id, a.principal_id) for a in directory.assignments if a.principal_type == "GROUP"}
    for account_id, group_id in sorted(assigned_groups):
        group = directory.groups_by_id.get(group_id)
        if group is not None and not (group.member_ids & directory.users_by_id.keys()):
            said = f"group {group.name} has no members but is still assigned to {account_id}"
            results.append((account_id, Result("sso.group_empty_assignment", f"sso-group:{group.name}", "", said)))
    return results
