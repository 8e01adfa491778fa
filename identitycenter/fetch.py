"""Reading Identity Center through boto3 (`sso-admin` and `identitystore`), read-only, into the pure access model.

Which instance: the organisation's, in its management account or delegated administrator, in one region; the
run's role needs sso:ListInstances, sso:ListPermissionSets, sso:DescribePermissionSet,
sso:ListManagedPoliciesInPermissionSet, sso:GetInlinePolicyForPermissionSet,
sso:ListCustomerManagedPolicyReferencesInPermissionSet, sso:ListAccountsForProvisionedPermissionSet,
sso:ListAccountAssignments, identitystore:ListUsers, identitystore:ListGroups and
identitystore:ListGroupMemberships.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .access import Assignment, Directory, PermissionSet, SsoGroup, SsoUser


@dataclass(frozen=True, slots=True)
class Instance:
    instance_arn: str
    identity_store_id: str


def instances(sso_admin: Any) -> list[Instance]:
    return [Instance(i["InstanceArn"], i["IdentityStoreId"]) for page in sso_admin.get_paginator("list_instances").paginate() for i in page["Instances"]]


def _pages(client: Any, operation: str, key: str, **params: Any) -> Iterator[Any]:
    for page in client.get_paginator(operation).paginate(**params):
        yield from page[key]


ENTERPRISE = "aws:identitystore:enterprise"  # the SCIM enterprise extension: employeeNumber, where the source fills it


def _user(u: dict[str, Any]) -> SsoUser:
    emails = u.get("Emails") or []
    primary = next((e["Value"] for e in emails if e.get("Primary")), emails[0]["Value"] if emails else "")
    enterprise = (u.get("Extensions") or {}).get(ENTERPRISE) or {}
    employee = str(enterprise.get("employeeNumber") or "") if isinstance(enterprise, dict) else ""
    return SsoUser(u["UserId"], u["UserName"], primary, employee, u.get("DisplayName", ""))


def read_directory(sso_admin: Any, identitystore: Any, instance: Instance, account_ids: list[str]) -> Directory:
    """Users, groups and memberships, permission sets with their policies, and the assignments of every permission
    set provisioned to each of `account_ids` (the registered accounts)."""
    store = instance.identity_store_id
    users = [_user(u) for u in _pages(identitystore, "list_users", "Users", IdentityStoreId=store, Extensions=[ENTERPRISE])]
    groups = []
    for g in _pages(identitystore, "list_groups", "Groups", IdentityStoreId=store):
        members = frozenset(
            m["MemberId"]["UserId"]
            for m in _pages(identitystore, "list_group_memberships", "GroupMemberships", IdentityStoreId=store, GroupId=g["GroupId"])
            if "UserId" in m.get("MemberId", {})
        )
        groups.append(SsoGroup(g["GroupId"], g["DisplayName"], members))
    permission_sets, assignments = [], []
    for arn in _pages(sso_admin, "list_permission_sets", "PermissionSets", InstanceArn=instance.instance_arn):
        described = sso_admin.describe_permission_set(InstanceArn=instance.instance_arn, PermissionSetArn=arn)["PermissionSet"]
        managed = tuple(
            p["Arn"]
            for p in _pages(sso_admin, "list_managed_policies_in_permission_set", "AttachedManagedPolicies", InstanceArn=instance.instance_arn, PermissionSetArn=arn)
        )
        inline = sso_admin.get_inline_policy_for_permission_set(InstanceArn=instance.instance_arn, PermissionSetArn=arn).get("InlinePolicy") or None
        permission_sets.append(PermissionSet(arn, described["Name"], managed, json.loads(inline) if inline else None))
    known = {p.arn for p in permission_sets}
    for account_id in account_ids:
        provisioned = _pages(sso_admin, "list_permission_sets_provisioned_to_account", "PermissionSets", InstanceArn=instance.instance_arn, AccountId=account_id)
        for arn in sorted(set(provisioned) & known):
            for a in _pages(sso_admin, "list_account_assignments", "AccountAssignments", InstanceArn=instance.instance_arn, AccountId=account_id, PermissionSetArn=arn):
                assignments.append(Assignment(a["AccountId"], a["PermissionSetArn"], a["PrincipalType"], a["PrincipalId"]))
    return Directory(users=users, groups=groups, permission_sets=permission_sets, assignments=assignments)
