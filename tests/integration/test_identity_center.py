"""Identity Center end to end: an organisation on a moto server (IAM enforced), its Identity Center in a delegated
administrator account, read by a real Celery worker through the read-only audit roles, stored in the database.

moto lacks GetPermissionsBoundaryForPermissionSet: the FaultyAws proxy in front of it answers that call from
tests.motogaps.Boundaries, as AWS answers it; every other call reaches moto.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from django.test import Client

from accounts.models import AwsAccount
from accounts.services import account_create
from audits.models import AuditRun, Finding, RunSource, RunStatus
from identitycenter.models import AccessPath
from identitycenter.tasks import read_identity_center
from people.models import Person
from tests import servers
from tests.conftest import ROOT, client_for, member_of
from tests.fakeaws import ROLE_NAME, Fleet, _moto_api, faulty_proxy, seed_fleet, seed_organization
from tests.identitycenter.test_runs import text
from tests.integration.conftest import sending_to
from tests.motogaps import Boundaries

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
READ_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "ec2:Describe*"], "Resource": "*"}]}
# What the delegated administrator's audit role needs to read Identity Center (README, "Identity Center").
IDENTITY_CENTER_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["sso:List*", "sso:Describe*", "sso:Get*", "identitystore:List*"], "Resource": "*"}
    ],
}


@dataclass
class Org:
    fleet: Fleet
    holder: str  # the delegated administrator that holds Identity Center
    prod: str
    dev: str
    sandbox: str
    boundaries: Boundaries
    sso: Any
    instance_arn: str
    ids: dict[str, str]  # name: user, group or permission set id/ARN

    def assign(self, account: str, permission_set: str, kind: str, principal: str, *, remove: bool = False) -> None:
        call = self.sso.delete_account_assignment if remove else self.sso.create_account_assignment
        call(
            InstanceArn=self.instance_arn, TargetId=account, TargetType="AWS_ACCOUNT", PermissionSetArn=self.ids[permission_set],
            PrincipalType=kind, PrincipalId=self.ids[principal],
        )  # fmt: skip


def _clients(endpoint: str, account_id: str) -> dict[str, Any]:
    seed = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "seed", "aws_secret_access_key": "seed"}
    creds = boto3.client("sts", **seed).assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/seed", RoleSessionName="seed")["Credentials"]
    keys = {**seed, "aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"], "aws_session_token": creds["SessionToken"]}
    return {service: boto3.client(service, **keys) for service in ("iam", "sso-admin", "identitystore")}  # type: ignore[call-overload]


@pytest.fixture
def org(moto_url: str, transactional_db: None, settings) -> Iterator[Org]:  # type: ignore[no-untyped-def]
    """An organisation of four accounts: Identity Center in the delegated administrator, people in three groups'
    worth of paths to prod, dev and sandbox; then IAM enforced for every later call."""
    holder, prod, dev, sandbox = seed_organization(moto_url, 4)
    fleet = seed_fleet(moto_url, {holder: True, prod: True, dev: True, sandbox: True}, users=1, reset=False, enforce_auth=False)
    at = {a: _clients(moto_url, a) for a in (holder, prod, dev)}
    at[holder]["iam"].put_role_policy(RoleName=ROLE_NAME, PolicyName="iamwatch-identity-center", PolicyDocument=json.dumps(IDENTITY_CENTER_READ))
    # /ci/Deploy, the customer-managed policy of the Deployer set: prod's copy grants everything, dev's only reads.
    at[prod]["iam"].create_policy(PolicyName="Deploy", Path="/ci/", PolicyDocument=json.dumps(EVERYTHING))
    at[dev]["iam"].create_policy(PolicyName="Deploy", Path="/ci/", PolicyDocument=json.dumps(READ_ONLY))
    sso, store = at[holder]["sso-admin"], at[holder]["identitystore"]
    instance = sso.list_instances()["Instances"][0]
    sid, arn = instance["IdentityStoreId"], instance["InstanceArn"]
    ids: dict[str, str] = {}
    for name, email in (("alice", "alice@example.com"), ("bob", "bob@example.com"), ("dave", "dave@example.com"), ("temp", "temp@contractor.example")):
        ids[name] = store.create_user(
            IdentityStoreId=sid, UserName=name, DisplayName=name, Name={"GivenName": name, "FamilyName": "X"},
            Emails=[{"Value": email, "Primary": True}],
        )["UserId"]  # fmt: skip
    for group, members in (("Admins", ("alice", "bob", "dave")), ("Deployers", ("alice",)), ("Auditors", ())):
        ids[group] = store.create_group(IdentityStoreId=sid, DisplayName=group)["GroupId"]
        for m in members:
            store.create_group_membership(IdentityStoreId=sid, GroupId=ids[group], MemberId={"UserId": ids[m]})
    boundaries = Boundaries()
    for name, managed, inline, customer in (
        ("AdministratorAccess", ADMIN_ARN, None, None),
        ("Admin", None, READ_ONLY, None),  # named admin, grants read-only
        ("ReadOnly", None, EVERYTHING, None),  # named read-only, grants *:*
        ("Deployer", None, None, {"Name": "Deploy", "Path": "/ci/"}),
        ("Bounded", ADMIN_ARN, None, None),
    ):
        ids[name] = sso.create_permission_set(InstanceArn=arn, Name=name)["PermissionSet"]["PermissionSetArn"]
        ps = {"InstanceArn": arn, "PermissionSetArn": ids[name]}
        if managed:
            sso.attach_managed_policy_to_permission_set(**ps, ManagedPolicyArn=managed)
        if inline:
            sso.put_inline_policy_to_permission_set(**ps, InlinePolicy=json.dumps(inline))
        if customer:
            sso.attach_customer_managed_policy_reference_to_permission_set(**ps, CustomerManagedPolicyReference=customer)
        sso.provision_permission_set(**ps, TargetType="ALL_PROVISIONED_ACCOUNTS")
    boundaries.attach(ids["Bounded"], managed_arn="arn:aws:iam::aws:policy/ReadOnlyAccess")  # AdministratorAccess, bounded to reading
    o = Org(fleet, holder, prod, dev, sandbox, boundaries, sso, arn, ids)
    o.assign(prod, "AdministratorAccess", "GROUP", "Admins")  # alice, bob (has left), dave: 3 > 2 in production
    o.assign(prod, "Deployer", "GROUP", "Deployers")
    o.assign(dev, "Deployer", "GROUP", "Deployers")
    o.assign(dev, "Admin", "USER", "bob")
    o.assign(dev, "ReadOnly", "USER", "temp")  # maps to nobody, and an administrator set assigned directly
    o.assign(sandbox, "Bounded", "USER", "dave")
    o.assign(sandbox, "Admin", "GROUP", "Auditors")  # a group without members, still assigned
    _moto_api(moto_url, "/moto-api/reset-auth", b"0")  # from here on, every call is authorised like real AWS

    names = {holder: "identity", prod: "payments", dev: "dev", sandbox: "sandbox"}
    for account_id, name in names.items():
        account_create(
            account_id=account_id, name=name, environment="prod" if account_id == prod else "dev",
            role_arn=fleet.role_arn(account_id), external_id="iamwatch-ext",
        )  # fmt: skip
    for n, (first, email, active) in enumerate((("Alice", "alice@example.com", True), ("Bob", "bob@example.com", False), ("Dave", "dave@example.com", True))):
        Person.objects.create(employee_id=f"100{n + 1}", first_name=first, last_name="X", email=email, active=active)
    settings.IAMWATCH_IDENTITY_CENTER_ACCOUNT = holder
    settings.IAMWATCH_SSO_MAX_ADMINS_PROD = 2
    try:
        yield o
    finally:
        _moto_api(moto_url, "/moto-api/reset-auth", b"inf")


def test_a_worker_reads_the_organisation_through_a_throttled_identity_store_and_stores_every_path(
    org: Org, process_env: dict[str, str], broker: str, alice_client: Client
) -> None:
    """The scheduled task queues the run; ListUsers is throttled past botocore's attempts, so the first attempt goes
    back to pending and the worker's retry stores it: every path, admin decided per account, the five checks."""
    with faulty_proxy(org.fleet.endpoint, org.boundaries) as (faults, endpoint):
        env = {
            **process_env, **org.fleet.env(), "AWS_ENDPOINT_URL": endpoint, "IAMWATCH_AWS_MAX_ATTEMPTS": "2",
            "IAMWATCH_RETRY_BASE_SECONDS": "1", "IAMWATCH_IDENTITY_CENTER_ACCOUNT": org.holder, "IAMWATCH_SSO_MAX_ADMINS_PROD": "2",
        }  # fmt: skip
        faults.throttle["ListUsers"] = 2
        with servers.celery_worker(env):
            run_id = read_identity_center()  # the schedule's task: requests the run and queues it for the worker
            assert run_id is not None
            servers.wait_for(lambda: AuditRun.objects.get(pk=run_id).status not in ("pending", "running"), "the run", timeout=90, interval=0.2)
    run = AuditRun.objects.get(pk=run_id)
    assert (run.source, run.status, run.attempts) == (RunSource.IDENTITY_CENTER, RunStatus.SUCCEEDED, 2), run.error
    assert faults.seen.count("ListUsers") >= 3 and "GetPermissionsBoundaryForPermissionSet" in faults.seen
    assert run.account.account_id == org.holder and run.principal_count == 4
    paths = sorted(AccessPath.objects.values_list("account__name", "user_name", "permission_set_name", "group_name", "admin"))
    assert paths == [
        ("dev", "alice", "Deployer", "Deployers", False),  # dev's /ci/Deploy only reads
        ("dev", "bob", "Admin", "", False),  # named Admin, grants read-only
        ("dev", "temp", "ReadOnly", "", True),  # named ReadOnly, grants *:*
        ("payments", "alice", "AdministratorAccess", "Admins", True),
        ("payments", "alice", "Deployer", "Deployers", True),  # prod's /ci/Deploy grants everything
        ("payments", "bob", "AdministratorAccess", "Admins", True),
        ("payments", "dave", "AdministratorAccess", "Admins", True),
        ("sandbox", "dave", "Bounded", "", False),  # AdministratorAccess inside a read-only boundary
    ]
    findings = sorted(Finding.objects.values_list("account__name", "check_id", "principal"))
    assert findings == [
        ("dev", "sso.admin_direct_assignment", "sso-user:temp"),
        ("dev", "sso.user_departed", "sso-user:bob"),
        ("dev", "sso.user_no_person", "sso-user:temp"),
        ("payments", "sso.admin_in_production", ""),
        ("payments", "sso.user_departed", "sso-user:bob"),
        ("sandbox", "sso.group_empty_assignment", "sso-group:Auditors"),
    ]
    # Who has access where, for Bob who has left: his person page lists each path to each account.
    bob = text(alice_client.get("/people/1002/").content.decode())
    assert "Access through IAM Identity Center: 2 paths" in bob


def test_the_command_reads_again_and_the_changes_say_what_was_granted_and_taken_away(
    org: Org, process_env: dict[str, str], alice_client: Client
) -> None:
    """manage.py run_identity_center, twice, as an operator runs it; between the two, bob's direct assignment goes
    and dave is added to Deployers. A role without the identitystore permissions fails the run, naming the call."""
    with faulty_proxy(org.fleet.endpoint, org.boundaries) as (_, endpoint):
        env = {**process_env, **org.fleet.env(), "AWS_ENDPOINT_URL": endpoint, "IAMWATCH_IDENTITY_CENTER_ACCOUNT": org.holder}

        def command() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "manage.py", "run_identity_center"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
            )

        first = command()
        assert first.returncode == 0, first.stderr
        assert "4 users, 3 groups, 5 permission sets, 7 assignments; access paths: 8 added, 0 removed" in first.stdout
        _moto_api(org.fleet.endpoint, "/moto-api/reset-auth", b"inf")
        org.assign(org.dev, "Admin", "USER", "bob", remove=True)
        store = _clients(org.fleet.endpoint, org.holder)["identitystore"]
        sid = org.sso.list_instances()["Instances"][0]["IdentityStoreId"]
        store.create_group_membership(IdentityStoreId=sid, GroupId=org.ids["Deployers"], MemberId={"UserId": org.ids["dave"]})
        _moto_api(org.fleet.endpoint, "/moto-api/reset-auth", b"0")
        second = command()
        assert second.returncode == 0, second.stderr
        assert "access paths: 2 added, 1 removed" in second.stdout
        page = text(alice_client.get(f"/changes/?account={org.dev}").content.decode())
        assert "granted dev dave Deployer through Deployers" in page and "taken away dev bob Admin directly" in page
        assert Finding.objects.get(account__account_id=org.dev, check_id="sso.user_departed").status == "resolved"

        _moto_api(org.fleet.endpoint, "/moto-api/reset-auth", b"inf")
        _clients(org.fleet.endpoint, org.holder)["iam"].delete_role_policy(RoleName=ROLE_NAME, PolicyName="iamwatch-identity-center")
        _moto_api(org.fleet.endpoint, "/moto-api/reset-auth", b"0")
        refused = command()
    assert refused.returncode == 1 and "sso:ListInstances" in refused.stderr and "nothing stored" in refused.stderr
    assert AuditRun.objects.filter(source=RunSource.IDENTITY_CENTER).values_list("status", flat=True).order_by("pk")[2] == RunStatus.FAILED
    assert AccessPath.objects.filter(valid_to__isnull=True).count() == 9  # the refused run changed nothing
    assert AwsAccount.objects.count() == 4


def test_with_redis_down_read_now_says_so_and_the_run_is_failed_not_left_pending(transactional_db: None, settings) -> None:  # type: ignore[no-untyped-def]

    account_create(account_id="123456789012", name="identity")
    settings.IAMWATCH_IDENTITY_CENTER_ACCOUNT = "123456789012"
    admin = client_for(member_of("admin", "ada"))
    with sending_to(f"redis://127.0.0.1:{servers.free_port()}/0"):  # nothing listens there
        page = text(admin.post("/identity-center/read", follow=True).content.decode())
    assert "Not queued: runs cannot be queued right now: the task broker (Redis) is unreachable" in page
    run = AuditRun.objects.get()
    assert (run.source, run.status) == (RunSource.IDENTITY_CENTER, RunStatus.FAILED) and "could not be queued" in run.error
