"""The demo organisation's IAM Identity Center, as two reads a few weeks apart: people of the directory in groups,
permission sets judged from their policies (two named against what they grant), and the situations the sso.*
checks exist for. Pure: the people come in as (employee id, e-mail, active) and a Directory goes out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from identitycenter.access import Assignment, Directory, PermissionSet, SsoGroup, SsoUser

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
_EVERYTHING = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
_READS = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "athena:Get*"], "Resource": "*"}]})
# Deploys, and may hand a role to the functions it creates: one step from administrator (sso.can_become_admin).
_DEPLOYS = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["lambda:*", "ecs:*", "logs:*", "iam:PassRole"], "Resource": "*"}]})


def _set(n: int, name: str, managed: tuple[str, ...] = (), inline: str | None = None) -> PermissionSet:
    return PermissionSet(f"arn:aws:sso:::permissionSet/ssoins-7223d2a3e1f8b9c0/ps-{n:016x}", name, managed, inline)


SETS = {
    "admin": _set(1, "AdministratorAccess", (ADMIN_ARN,)),
    "readonly": _set(2, "ReadOnly", (READ_ONLY_ARN,)),
    "developer": _set(3, "Developer", inline=_DEPLOYS),
    "analyst": _set(4, "DataAnalyst", inline=_READS),
    "break_glass_view": _set(5, "Admin-View", inline=_READS),  # named admin, grants reading only
    "support": _set(6, "ReadOnlySupport", inline=_EVERYTHING),  # named read-only, grants *:*
}


@dataclass(frozen=True, slots=True)
class DemoPerson:
    employee_id: str
    email: str
    active: bool


def _user(p: DemoPerson, *, with_number: bool = True) -> SsoUser:
    name = p.email.split("@")[0]
    return SsoUser(f"u-{p.employee_id}", name, p.email, p.employee_id if with_number else "", name.replace(".", " ").title())


def demo_identity_center(people: Sequence[DemoPerson], accounts: Sequence[tuple[str, str]], *, later: bool) -> Directory:
    """Identity Center over `accounts` ((account id, environment), production first); `later`: the second read, after
    a platform admin joined, a developer left the Developers group and the contractor's assignment was added."""
    active = [p for p in people if p.active]
    departed = next(p for p in people if not p.active)
    platform, developers, data = active[:5], active[5:17], active[17:23]
    if later:
        platform, developers = active[:6], active[5:16]
    users = [_user(p, with_number=n % 3 != 0) for n, p in enumerate(active[:23])]  # a third by e-mail alone
    contractor = SsoUser("u-contractor", "ext.consultant", "consultant@partner.example", "", "External Consultant")
    users += [_user(departed), contractor]
    groups = [
        SsoGroup("g-platform", "PlatformAdmins", frozenset(f"u-{p.employee_id}" for p in platform)),
        SsoGroup("g-developers", "Developers", frozenset(f"u-{p.employee_id}" for p in developers)),
        SsoGroup("g-data", "DataTeam", frozenset(f"u-{p.employee_id}" for p in data)),
        SsoGroup("g-auditors", "ExternalAuditors"),  # emptied after last year's audit, still assigned
    ]
    prod = [a for a, environment in accounts if environment == "prod"]
    assignments = [Assignment(a, SETS["admin"].arn, "GROUP", "g-platform") for a, _ in accounts]
    assignments += [Assignment(a, SETS["developer"].arn, "GROUP", "g-developers") for a, env in accounts if env != "prod"]
    assignments += [Assignment(a, SETS["readonly"].arn, "GROUP", "g-developers") for a in prod]
    assignments += [Assignment(a, SETS["analyst"].arn, "GROUP", "g-data") for a, _ in accounts]
    assignments += [Assignment(a, SETS["readonly"].arn, "GROUP", "g-auditors") for a in prod]
    assignments += [
        Assignment(prod[0], SETS["admin"].arn, "USER", users[7].user_id),  # an administrator assigned directly
        Assignment(prod[-1], SETS["break_glass_view"].arn, "USER", f"u-{departed.employee_id}"),  # a leaver
        Assignment(accounts[-1][0], SETS["support"].arn, "USER", users[9].user_id),  # "read-only" that grants *:*
    ]
    if later:
        assignments.append(Assignment(accounts[-1][0], SETS["developer"].arn, "USER", contractor.user_id))
    return Directory(users=users, groups=groups, permission_sets=list(SETS.values()), assignments=assignments)
