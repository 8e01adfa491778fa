"""Reading Identity Center through boto3 (`sso-admin` and `identitystore`), read-only, into the pure access model.

Which instance: the organisation's, in its management account or delegated administrator, in one region; the
run's role needs sso:ListInstances, sso:ListPermissionSets, sso:DescribePermissionSet,
sso:ListManagedPoliciesInPermissionSet, sso:GetInlinePolicyForPermissionSet,
sso:ListCustomerManagedPolicyReferencesInPermissionSet, sso:GetPermissionsBoundaryForPermissionSet,
sso:ListPermissionSetsProvisionedToAccount, sso:ListAccountAssignments, identitystore:ListUsers,
identitystore:ListGroups and identitystore:ListGroupMemberships. A customer-managed policy lives in each account a
set is provisioned to, and each account's copy may differ: it is read there (iam:GetPolicy, iam:GetPolicyVersion,
through that account's audit role) by the `read_policy` the caller passes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from audits.policies import is_aws_admin_policy

from .access import Assignment, Boundary, Directory, PermissionSet, PolicyRef, SsoGroup, SsoUser

T = TypeVar("T")
R = TypeVar("R")
# (account id, policy) -> the policy's document as that account holds it, or None where the account has no such policy
PolicyReader = Callable[[str, PolicyRef], Any]


@dataclass(frozen=True, slots=True)
class Instance:
    instance_arn: str
    identity_store_id: str


def instances(sso_admin: Any) -> list[Instance]:
    return [
        Instance(i["InstanceArn"], i["IdentityStoreId"])
        for page in sso_admin.get_paginator("list_instances").paginate()
        for i in page["Instances"]
    ]


def _pages(client: Any, operation: str, key: str, **params: Any) -> Iterator[Any]:
    for page in client.get_paginator(operation).paginate(**params):
        yield from page[key]


# Calls in flight at once: an organisation's read is thousands of small list calls (per group, per permission set and
# account), each a round trip; botocore's adaptive retries slow all of them down together when AWS throttles.
CONCURRENCY = 8


def in_parallel(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`work` on each item, CONCURRENCY at a time, results in the items' order; the first error stops the rest."""
    pool = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="identitycenter")
    try:
        return list(pool.map(work, items))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


ENTERPRISE = "aws:identitystore:enterprise"  # the SCIM enterprise extension: employeeNumber, where the source fills it


def _user(u: dict[str, Any]) -> SsoUser:
    emails = u.get("Emails") or []
    primary = next((e["Value"] for e in emails if e.get("Primary")), emails[0]["Value"] if emails else "")
    enterprise = (u.get("Extensions") or {}).get(ENTERPRISE) or {}
    employee = str(enterprise.get("employeeNumber") or "") if isinstance(enterprise, dict) else ""
    return SsoUser(u["UserId"], u["UserName"], primary, employee, u.get("DisplayName", ""))


def _ref(ref: dict[str, Any]) -> PolicyRef:
    return PolicyRef(ref["Name"], ref.get("Path") or "/")


def _boundary(sso_admin: Any, instance_arn: str, arn: str) -> Boundary | None:
    try:
        found = sso_admin.get_permissions_boundary_for_permission_set(InstanceArn=instance_arn, PermissionSetArn=arn)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":  # AWS's answer for "none attached"
            return None
        raise
    boundary = found.get("PermissionsBoundary") or {}
    customer = boundary.get("CustomerManagedPolicyReference")
    return Boundary(boundary.get("ManagedPolicyArn", ""), _ref(customer) if customer else None)


def _permission_set(sso_admin: Any, instance_arn: str, arn: str) -> PermissionSet:
    described = sso_admin.describe_permission_set(InstanceArn=instance_arn, PermissionSetArn=arn)["PermissionSet"]
    ps = {"InstanceArn": instance_arn, "PermissionSetArn": arn}
    managed = tuple(
        p["Arn"] for p in _pages(sso_admin, "list_managed_policies_in_permission_set", "AttachedManagedPolicies", **ps)
    )
    customer = tuple(
        _ref(r)
        for r in _pages(
            sso_admin, "list_customer_managed_policy_references_in_permission_set", "CustomerManagedPolicyReferences", **ps
        )
    )
    inline = sso_admin.get_inline_policy_for_permission_set(**ps).get("InlinePolicy") or None
    return PermissionSet(
        arn, described["Name"], managed, json.loads(inline) if inline else None, customer, _boundary(sso_admin, instance_arn, arn)
    )


def read_directory(
    sso_admin: Any,
    identitystore: Any,
    instance: Instance,
    account_ids: list[str],
    read_policy: PolicyReader | None = None,
    read_managed: Callable[[str], Any] | None = None,
) -> Directory:
    """Users, groups and memberships, permission sets with their policies and boundary, and the assignments of every
    permission set provisioned to each of `account_ids` (the registered accounts); with `read_policy`, the documents
    of the customer-managed policies of every set assigned in each account, and with `read_managed` those of the AWS
    managed policies the assigned sets hold, each read once (without them, they grant nothing; AWS's
    AdministratorAccess is known)."""
    store, instance_arn = instance.identity_store_id, instance.instance_arn
    users = [_user(u) for u in _pages(identitystore, "list_users", "Users", IdentityStoreId=store, Extensions=[ENTERPRISE])]

    def group(g: dict[str, Any]) -> SsoGroup:
        memberships = _pages(identitystore, "list_group_memberships", "GroupMemberships", IdentityStoreId=store, GroupId=g["GroupId"])
        return SsoGroup(g["GroupId"], g["DisplayName"], frozenset(m["MemberId"]["UserId"] for m in memberships if "UserId" in m.get("MemberId", {})))

    groups = in_parallel(group, list(_pages(identitystore, "list_groups", "Groups", IdentityStoreId=store)))
    permission_sets = in_parallel(
        lambda arn: _permission_set(sso_admin, instance_arn, arn), list(_pages(sso_admin, "list_permission_sets", "PermissionSets", InstanceArn=instance_arn))
    )
    known = {p.arn for p in permission_sets}

    def assigned(account_id: str) -> list[Assignment]:
        provisioned = _pages(sso_admin, "list_permission_sets_provisioned_to_account", "PermissionSets", InstanceArn=instance_arn, AccountId=account_id)
        return [
            Assignment(a["AccountId"], a["PermissionSetArn"], a["PrincipalType"], a["PrincipalId"])
            for arn in sorted(set(provisioned) & known)
            for a in _pages(sso_admin, "list_account_assignments", "AccountAssignments", InstanceArn=instance_arn, AccountId=account_id, PermissionSetArn=arn)
        ]

    assignments = [a for found in in_parallel(assigned, account_ids) for a in found]
    documents = _customer_documents(permission_sets, assignments, read_policy) if read_policy is not None else {}
    managed: dict[str, Any] = {}
    if read_managed is not None:
        used = {arn for p in permission_sets if p.arn in {a.permission_set_arn for a in assignments} for arn in p.managed_arns}
        read = {arn: read_managed(arn) for arn in sorted(used) if not is_aws_admin_policy(arn)}
        managed = {arn: doc for arn, doc in read.items() if doc is not None}
    return Directory(
        users=users, groups=groups, permission_sets=permission_sets, assignments=assignments, documents=documents, managed=managed
    )


def _customer_documents(
    permission_sets: list[PermissionSet], assignments: list[Assignment], read_policy: PolicyReader
) -> dict[str, dict[PolicyRef, Any]]:
    """Each account's copy of the customer-managed policies its assigned permission sets name, each read once."""
    refs = {p.arn: p.customer_refs for p in permission_sets}
    needed: dict[str, set[PolicyRef]] = defaultdict(set)
    for a in assignments:
        needed[a.account_id].update(refs[a.permission_set_arn])
    documents: dict[str, dict[PolicyRef, Any]] = {}
    for account_id, wanted in sorted(needed.items()):
        read = {ref: read_policy(account_id, ref) for ref in sorted(wanted, key=str)}
        documents[account_id] = {ref: doc for ref, doc in read.items() if doc is not None}
    return documents
