"""An SSO login's role and account scope from its groups claim, decided at every login (IAMWATCH_OIDC_ROLE_GROUPS,
IAMWATCH_OIDC_SCOPE_GROUPS). Never superuser: no claim grants it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import AccountScope, AwsAccount
from accounts.services import account_scope_clear, account_scope_set
from signin.models import SsoIdentity
from staff.roles import ADMIN, REVIEWER, VIEWER
from staff.trail import record_change

RANK = {VIEWER: 1, REVIEWER: 2, ADMIN: 3}
EVERY_ACCOUNT = "*"


class Refused(Exception):
    """A login none of whose groups IAMWatch maps to a role; `groups`: those it had."""

    def __init__(self, message: str, groups: list[str]) -> None:
        super().__init__(message)
        self.groups = groups


@dataclass(frozen=True, slots=True)
class Judged:
    role: str
    groups: list[str]
    scope: list[str] | None  # account ids and env:NAME the login may see; None: every account


def claimed_groups(claims: dict[str, Any]) -> list[str]:
    raw = claims.get(settings.IAMWATCH_OIDC_GROUPS_CLAIM) or []
    return sorted({str(g) for g in ([raw] if isinstance(raw, str) else raw)})


def expected_groups() -> list[str]:
    return sorted(settings.IAMWATCH_OIDC_ROLE_GROUPS)


def judge_groups(claims: dict[str, Any]) -> Judged:
    """The highest role any of the login's groups maps to, and the union of its groups' scopes; Refused without a role."""
    groups = claimed_groups(claims)
    roles = [settings.IAMWATCH_OIDC_ROLE_GROUPS[g] for g in groups if g in settings.IAMWATCH_OIDC_ROLE_GROUPS]
    if not roles:
        raise Refused(
            f"none of the groups in the {settings.IAMWATCH_OIDC_GROUPS_CLAIM!r} claim ({', '.join(groups) or 'none'}) is mapped to a role",
            groups,
        )
    role = max(roles, key=RANK.__getitem__)
    if not settings.IAMWATCH_OIDC_SCOPE_GROUPS:
        return Judged(role, groups, None)
    targets = sorted({t for g in groups for t in settings.IAMWATCH_OIDC_SCOPE_GROUPS.get(g, [])})
    return Judged(role, groups, None if EVERY_ACCOUNT in targets else targets)


@transaction.atomic
def apply_groups(*, user: Any, claims: dict[str, Any], judged: Judged) -> None:
    """Give `user` (an SSO login) the role and scope `judged` from its groups; each change, and the login, in the trail
    with the issuer, subject and groups seen."""
    identity = SsoIdentity.objects.select_for_update().get(user=user)
    actor = f"sso:{identity.subject}"
    seen = {"issuer": identity.issuer, "subject": identity.subject, "groups": judged.groups}
    before_role = identity.role
    user.groups.set([Group.objects.get(name=judged.role)])
    if user.is_superuser or user.is_staff:
        user.is_superuser = user.is_staff = False  # never from a claim (the admin site is for local superusers)
        user.save(update_fields=["is_superuser", "is_staff"])
    if before_role != judged.role:
        record_change(
            actor=actor,
            action="sso.role",
            target=f"user {user.username}",
            before={"role": before_role or "(none)"},
            after={"role": judged.role, **seen},
        )
    _apply_scope(user=user, scope=judged.scope, actor=actor)
    identity.groups, identity.role, identity.last_login_at = judged.groups, judged.role, timezone.now()
    identity.save(update_fields=["groups", "role", "last_login_at"])
    record_change(
        actor=actor,
        action="sso.login",
        target=f"user {user.username}",
        after={**seen, "role": judged.role, "scope": judged.scope or "every account"},
    )


def _apply_scope(*, user: Any, scope: list[str] | None, actor: str) -> None:
    if scope is None:
        account_scope_clear(user=user, actor=actor)
        return
    ids = [t for t in scope if not t.startswith("env:")]
    environments = [t.removeprefix("env:") for t in scope if t.startswith("env:")]
    accounts = list(AwsAccount.objects.filter(account_id__in=ids) | AwsAccount.objects.filter(environment__in=environments))
    reason = f"single sign-on groups: {', '.join(scope)}"
    current = AccountScope.objects.filter(user=user).first()
    if current is not None and current.reason == reason and {a.pk for a in current.accounts.all()} == {a.pk for a in accounts}:
        return
    account_scope_set(user=user, accounts=accounts, reason=reason, actor=actor)
