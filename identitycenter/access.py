"""Identity Center access as pure data: who reaches which account, directly or through a group, with which
permission set, and whether that permission set is administrator access (decided from its policies, as for IAM
users, never from its name). No Django, no AWS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from audits.policies import Policy, Verdict, evaluate, known_document
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
class PolicyRef:
    """A customer-managed policy a permission set names: IAM Identity Center expects a policy of that name and path
    in every account it provisions the set to, and each account's copy may differ."""

    name: str
    path: str = "/"

    def arn(self, account_id: str, partition: str = "aws") -> str:
        return f"arn:{partition}:iam::{account_id}:policy{self.path}{self.name}"

    def __str__(self) -> str:
        return f"{self.path}{self.name}"


@dataclass(frozen=True, slots=True)
class Boundary:
    """A permission set's permissions boundary: an AWS managed policy (by ARN) or a customer-managed one."""

    managed_arn: str = ""
    customer: PolicyRef | None = None


# The customer-managed policy documents of one account, as read there (a policy not found there is absent).
Documents = Mapping[PolicyRef, Any]


@dataclass(frozen=True, slots=True)
class PermissionSet:
    arn: str
    name: str
    managed_policy_arns: tuple[str, ...] = ()
    inline_policy: Any = None  # a policy document (dict or JSON text), or None
    customer_policies: tuple[PolicyRef, ...] = ()
    boundary: Boundary | None = None

    @property
    def customer_refs(self) -> tuple[PolicyRef, ...]:
        """Every customer-managed policy whose document decides what the set grants: its policies and its boundary."""
        boundary = (self.boundary.customer,) if self.boundary is not None and self.boundary.customer is not None else ()
        return (*self.customer_policies, *boundary)

    def verdict_in(self, documents: Documents, managed: Mapping[str, Any] | None = None) -> Verdict:
        """The set's policies evaluated together (audits.policies) in an account whose customer-managed policies are
        `documents`; `managed`: AWS managed policies' documents by ARN (AdministratorAccess is known without them).
        A policy whose document is unknown, or missing from the account, grants nothing."""
        known = managed or {}
        policies = [Policy(arn.rsplit("/", 1)[-1], doc) for arn in self.managed_policy_arns if (doc := known_document(arn, known)) is not None]
        if self.inline_policy is not None:
            policies.append(Policy("inline policy", self.inline_policy))
        policies += [Policy(f"customer policy {ref}", documents[ref]) for ref in self.customer_policies if documents.get(ref) is not None]
        boundary = None
        if self.boundary is not None:
            if self.boundary.customer is not None:
                doc = documents.get(self.boundary.customer)
                name = f"boundary {self.boundary.customer}"
            else:
                doc = known_document(self.boundary.managed_arn, known)
                name = f"boundary {self.boundary.managed_arn.rsplit('/', 1)[-1]}"
            boundary = Policy(name, doc if doc is not None else {"Statement": []})  # an unknown boundary lets nothing through
        return evaluate(policies, boundary)

    @property
    def managed_arns(self) -> tuple[str, ...]:
        """Every AWS managed policy whose document decides what the set grants: its policies and its boundary."""
        boundary = (self.boundary.managed_arn,) if self.boundary is not None and self.boundary.managed_arn else ()
        return (*self.managed_policy_arns, *boundary)


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
    admin: bool = False  # whether the permission set grants administrator rights in this account
    escalation: str = ""  # when not: the step by which it can make itself administrator, if any

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
    documents: Mapping[str, Documents] = field(default_factory=dict)  # account id: its customer-managed policies
    managed: Mapping[str, Any] = field(default_factory=dict)  # AWS managed policies' documents, by ARN
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
        verdicts: dict[tuple[str, str], Verdict] = {}  # (permission set, account): each evaluated once
        for a in self.assignments:
            permission_set = self.sets_by_arn.get(a.permission_set_arn)
            if permission_set is None:
                continue
            key = (permission_set.arn, a.account_id)
            if key not in verdicts:
                verdicts[key] = self.verdict_in(permission_set, a.account_id)
            verdict = verdicts[key]
            admin, escalation = verdict.admin, str(verdict.escalation) if verdict.can_become_admin else ""
            if a.principal_type == "USER":
                user = self.users_by_id.get(a.principal_id)
                if user is not None:
                    found.append(Path(a.account_id, user, permission_set, admin=admin, escalation=escalation))
            else:
                group = self.groups_by_id.get(a.principal_id)
                if group is not None:
                    found += [
                        Path(a.account_id, self.users_by_id[m], permission_set, group, admin, escalation)
                        for m in sorted(group.member_ids)
                        if m in self.users_by_id
                    ]
        return sorted(
            found, key=lambda p: (p.account_id, p.user.user_name, p.permission_set.name, p.group.name if p.group else "")
        )

    def verdict_in(self, permission_set: PermissionSet, account_id: str) -> Verdict:
        return permission_set.verdict_in(self.documents.get(account_id, {}), self.managed)


def person_of(
    user: SsoUser, *, by_employee_id: dict[str, Owner], by_email: dict[str, Owner], index: PeopleIndex | None
) -> tuple[Owner, ...]:
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
