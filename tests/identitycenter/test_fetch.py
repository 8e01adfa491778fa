"""Reading Identity Center from moto (which implements sso-admin and identitystore) into the access model."""

from __future__ import annotations

import json

import boto3
from botocore.stub import Stubber

from identitycenter.access import Boundary, PolicyRef
from identitycenter.fetch import Instance, instances, read_directory
from tests.motogaps import Boundaries

READ_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
PROD, DEV = "210987654321", "410987654321"


def test_users_groups_permission_sets_and_assignments_are_read_into_paths(boundaries: Boundaries) -> None:
    sso, store = boto3.client("sso-admin"), boto3.client("identitystore")
    (instance,) = instances(sso)
    sid = instance.identity_store_id

    def user(name: str, email: str) -> str:
        return str(store.create_user(
            IdentityStoreId=sid, UserName=name, DisplayName=name, Name={"GivenName": name, "FamilyName": "X"},
            Emails=[{"Value": email, "Primary": True}],
        )["UserId"])  # fmt: skip

    alice, bob = user("alice", "alice@example.com"), user("bob", "bob@example.com")
    admins = store.create_group(IdentityStoreId=sid, DisplayName="Admins")["GroupId"]
    store.create_group_membership(IdentityStoreId=sid, GroupId=admins, MemberId={"UserId": alice})
    store.create_group(IdentityStoreId=sid, DisplayName="Auditors")

    def permission_set(name: str, *, managed: str = "", inline: dict[str, object] | None = None, customer: str = "") -> str:
        arn = str(sso.create_permission_set(InstanceArn=instance.instance_arn, Name=name)["PermissionSet"]["PermissionSetArn"])
        if managed:
            sso.attach_managed_policy_to_permission_set(
                InstanceArn=instance.instance_arn, PermissionSetArn=arn, ManagedPolicyArn=managed
            )
        if customer:
            sso.attach_customer_managed_policy_reference_to_permission_set(
                InstanceArn=instance.instance_arn,
                PermissionSetArn=arn,
                CustomerManagedPolicyReference={"Name": customer, "Path": "/ci/"},
            )
        if inline:
            sso.put_inline_policy_to_permission_set(
                InstanceArn=instance.instance_arn, PermissionSetArn=arn, InlinePolicy=json.dumps(inline)
            )
        sso.provision_permission_set(
            InstanceArn=instance.instance_arn, PermissionSetArn=arn, TargetType="ALL_PROVISIONED_ACCOUNTS"
        )
        return arn

    admin_named = permission_set("Admin", inline=READ_ONLY)  # named admin, grants read-only
    read_named = permission_set("ReadOnly", inline=EVERYTHING)  # named read-only, grants everything
    real_admin = permission_set("AdministratorAccess", managed="arn:aws:iam::aws:policy/AdministratorAccess")
    deployer = permission_set("Deployer", customer="Deploy")  # whatever each account's own /ci/Deploy grants
    bounded = permission_set("Bounded", managed="arn:aws:iam::aws:policy/AdministratorAccess")
    boundaries.attach(bounded, name="Guard")  # administrator rights only where the account's Guard grants them too

    def assign(account: str, arn: str, kind: str, principal: str) -> None:
        sso.create_account_assignment(
            InstanceArn=instance.instance_arn, TargetId=account, TargetType="AWS_ACCOUNT", PermissionSetArn=arn,
            PrincipalType=kind, PrincipalId=principal,
        )  # fmt: skip

    assign(PROD, real_admin, "GROUP", admins)
    assign(PROD, admin_named, "USER", bob)
    assign(DEV, read_named, "USER", bob)
    for account in (PROD, DEV):
        assign(account, deployer, "GROUP", admins)
        assign(account, bounded, "GROUP", admins)
    in_accounts = {
        (PROD, "/ci/Deploy"): EVERYTHING,
        (DEV, "/ci/Deploy"): READ_ONLY,
        (PROD, "/Guard"): READ_ONLY,
        (DEV, "/Guard"): EVERYTHING,
    }
    asked: list[tuple[str, str]] = []

    def read_policy(account_id: str, ref: PolicyRef) -> object:
        asked.append((account_id, str(ref)))
        return in_accounts.get((account_id, str(ref)))

    directory = read_directory(sso, store, instance, [PROD, DEV, "999999999999"], read_policy)
    sets = {p.name: p for p in directory.permission_sets}
    assert {name: p.verdict_in({}).admin for name, p in sets.items()} == {
        "Admin": False, "ReadOnly": True, "AdministratorAccess": True, "Deployer": False, "Bounded": False
    }  # fmt: skip
    assert sets["Deployer"].customer_policies == (PolicyRef("Deploy", "/ci/"),) and sets["Bounded"].boundary == Boundary(
        customer=PolicyRef("Guard")
    )
    assert sorted(asked) == sorted(in_accounts)  # each account's copy, once, and only where a set naming it is assigned
    assert {g.name: len(g.member_ids) for g in directory.groups} == {"Admins": 1, "Auditors": 0}
    assert [(p.describe(), p.admin) for p in directory.paths()] == [
        (f"alice through group Admins with AdministratorAccess to {PROD}", True),
        (f"alice through group Admins with Bounded to {PROD}", False),
        (f"alice through group Admins with Deployer to {PROD}", True),
        (f"bob directly with Admin to {PROD}", False),
        (f"alice through group Admins with Bounded to {DEV}", True),
        (f"alice through group Admins with Deployer to {DEV}", False),
        (f"bob directly with ReadOnly to {DEV}", True),
    ]
    assert {u.user_name: u.email for u in directory.users} == {"alice": "alice@example.com", "bob": "bob@example.com"}


def test_the_employee_number_comes_from_the_scim_enterprise_extension() -> None:
    """moto keeps no extension: the answer of ListUsers as AWS gives it, checked against the service model by Stubber."""
    store = boto3.client("identitystore", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    answer = {"Users": [{
        "IdentityStoreId": "d-1", "UserId": "u-3", "UserName": "csmith", "DisplayName": "Carol Smith", "Revision": "1",
        "UserArn": "arn:aws:identitystore::111122223333:identitystore/d-1/user/u-3",
        "Emails": [{"Value": "carol@example.com", "Primary": True}],
        "Extensions": {"aws:identitystore:enterprise": {"employeeNumber": "1003"}},
    }]}  # fmt: skip
    with Stubber(store) as stub:
        stub.add_response("list_users", answer, {"IdentityStoreId": "d-1", "Extensions": ["aws:identitystore:enterprise"]})
        stub.add_response("list_groups", {"Groups": []}, {"IdentityStoreId": "d-1"})
        sso = boto3.client("sso-admin", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
        with Stubber(sso) as admin:
            admin.add_response("list_permission_sets", {"PermissionSets": []}, {"InstanceArn": "arn:aws:sso:::instance/ssoins-1"})
            (carol,) = read_directory(sso, store, Instance("arn:aws:sso:::instance/ssoins-1", "d-1"), []).users
    assert (carol.user_name, carol.employee_number, carol.email) == ("csmith", "1003", "carol@example.com")
