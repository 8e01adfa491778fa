"""Identity Center access as pure data: who reaches which account, directly or through a group, with which
permission set, and whether that permission set is administrator access (decided from its policies, as for IAM
users, never from its name). No Django, no AWS.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from audits.policies import grants_admin, is_aws_admin_policy
from people.matching import Owner, PeopleIndex


@dataclass(frozen=True, slots=True)
class SsoUser:
    user_id: str
    user_name: str
    email: str = ""
    employee_number: str = ""  # the enterprise extension's employeeNumber, where the identity source fills it
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class SsoGroup:
    group_id: str
    name: str
    member_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PermissionSet:
    arn: str
    name: str
    managed_policy_arns: tuple[str, ...] = ()
    inline_policy: Any = None  # a policy document (dict or JSON text), or None
    customer_policies: tuple[Any, ...] = ()  # the documents of its customer-managed policies, where read

    @property
    def is_admin(self) -> bool:
        """AWS's AdministratorAccess by its exact ARN, or any of its documents granting everything (or all of IAM)."""
        if any(is_aws_admin_policy(arn) for arn in self.managed_policy_arns):
            return True
        documents = [self.inline_policy, *self.customer_policies]
        return any(doc is not None and grants_admin(doc) for doc in documents)


@dataclass(frozen=True, slots=True)
class Assignment:
    account_id: str
    permission_set_arn: str
    principal_type: Literal["USER", "GROUP"]
    principal_id: str


@dataclass(frozen=True, slots=True)
class Path:
    """One way a user reaches an account: a permission set, directly or through a group."""

    account_id: str
    user: SsoUser
    permission_set: PermissionSet
    group: SsoGroup | None = None

    @property
    def direct(self) -> bool:
        return self.group is None

    def describe(self) -> str:
        via = "directly" if self.group is None else f"through group {self.group.name}"
        return f"{self.user.user_name} {via} with {self.permission_set.name} to {self.account_id}"


@dataclass(frozen=True, slots=True)
class Directory:
    """What Identity Center holds, as read in one run."""

    users: Sequence[SsoUser] = ()
    groups: Sequence[SsoGroup] = ()
    permission_sets: Sequence[PermissionSet] = ()
    assignments: Sequence[Assignment] = ()
    users_by_id: dict[str, SsoUser] = field(init=False, repr=False)
    groups_by_id: dict[str, SsoGroup] = field(init=False, repr=False)
    sets_by_arn: dict[str, PermissionSet] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "users_by_id", {u.user_id: u for u in self.users})
        object.__setattr__(self, "groups_by_id", {g.group_id: g for g in self.groups})
        object.__setattr__(self, "sets_by_arn", {p.arn: p for p in self.permission_sets})

    def paths(self) -> list[Path]:
        """Every (account, user, permission set, group) path that an assignment opens, in a stable order.
        Assignments to users or groups or permission sets that no longer exist open nothing."""
        found: list[Path] = []
        for a in self.assignments:
            permission_set = self.sets_by_arn.get(a.permission_set_arn)
            if permission_set is None:
                continue
            if a.principal_type == "USER":
                user = self.users_by_id.get(a.principal_id)
                if user is not None:
                    found.append(Path(a.account_id, user, permission_set))
            else:
                group = self.groups_by_id.get(a.principal_id)
                if group is not None:
                    found += [
                        Path(a.account_id, self.users_by_id[m], permission_set, group)
                        for m in sorted(group.member_ids)
                        if m in self.users_by_id
                    ]
        return sorted(found, key=lambda p: (p.account_id, p.user.user_name, p.permission_set.name, p.group.name if p.group else ""))


def person_of(user: SsoUser, *, by_employee_id: dict[str, Owner], by_email: dict[str, Owner], index: PeopleIndex | None) -> tuple[Owner, ...]:
    """The person an Identity Center user belongs to: by employee id (employeeNumber) where present, else by e-mail,
    else by user name under the naming rules (index). () for nobody; more than one for an ambiguous name."""
    if user.employee_number and user.employee_number in by_employee_id:
        return (by_employee_id[user.employee_number],)
    if user.email and user.email.casefold() in by_email:
        return (by_email[user.email.casefold()],)
    return index.resolve(user.user_name) if index is not None else ()


def owners_by_key(owners: Iterable[tuple[str, str, Owner]]) -> tuple[dict[str, Owner], dict[str, Owner]]:
    """(employee id, e-mail, owner) triples as the two lookups person_of takes."""
    by_employee_id: dict[str, Owner] = {}
    by_email: dict[str, Owner] = {}
    for employee_id, email, owner in owners:
        if employee_id:
            by_employee_id[employee_id] = owner
        if email:
            by_email[email.casefold()] = owner
    return by_employee_id, by_email
