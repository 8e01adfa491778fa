"""Benchmark: Identity Center for a large organisation, fetched from a moto server and stored, then its pages.

Starts PostgreSQL and a moto server on loopback. Registers BENCH_ACCOUNTS (default 500) accounts and a people
directory of one person per Identity Center user (one in twenty has left). Seeds Identity Center with BENCH_SSO_USERS
(2,000) users, BENCH_SSO_GROUPS (300) groups of about 15 members, BENCH_SSO_SETS (40) permission sets (AWS's
AdministratorAccess, inline policies that grant everything or only read, a customer-managed policy whose copy
differs between accounts, one held in by a permissions boundary) and, per account, 8 group and 2 direct user
assignments. Then runs `identity_center_run` twice (the first stores every path; the second finds nothing changed)
and prints the time of each, split into reading AWS and storing, and then each access page's server-side render time
(median and max of 5) and SQL queries. Target (issue 15): every page within the dashboard's budget, 300 ms.

moto deviations that make this a worst case: ListPermissionSetsProvisionedToAccount ignores AccountId (every set
looks provisioned to every account, so the read lists the assignments of 40 sets in each of the 500 accounts:
20,000 calls), and it lacks GetPermissionsBoundaryForPermissionSet (answered here as AWS would, from
tests.motogaps, registered the way moto registers itself).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "500"))
USERS = int(os.environ.get("BENCH_SSO_USERS", "2000"))
GROUPS = int(os.environ.get("BENCH_SSO_GROUPS", "300"))
SETS = int(os.environ.get("BENCH_SSO_SETS", "40"))
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
READ_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "ec2:Describe*"], "Resource": "*"}]}


def account_id(n: int) -> str:
    return f"{400000000000 + n}"


def seed_identity_center(endpoint: str, rng: random.Random) -> tuple[str, int]:
    """Users, groups, memberships, permission sets and assignments in moto's Identity Center; (holder, calls made)."""
    import boto3

    from tests import motogaps

    keys = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    sso, store, sts = boto3.client("sso-admin", **keys), boto3.client("identitystore", **keys), boto3.client("sts", **keys)
    holder = sts.get_caller_identity()["Account"]
    instance = sso.list_instances()["Instances"][0]
    sid, arn = instance["IdentityStoreId"], instance["InstanceArn"]
    calls = 0
    users = []
    for n in range(USERS):
        users.append(store.create_user(
            IdentityStoreId=sid, UserName=f"user{n:04d}", DisplayName=f"User {n}", Name={"GivenName": "User", "FamilyName": str(n)},
            Emails=[{"Value": f"user{n:04d}@example.com", "Primary": True}],
        )["UserId"])  # fmt: skip
    groups = []
    for g in range(GROUPS):
        group = store.create_group(IdentityStoreId=sid, DisplayName=f"team-{g:03d}")["GroupId"]
        groups.append(group)
        if g % 50 == 49:
            continue  # an empty group, assigned all the same: sso.group_empty_assignment
        for member in rng.sample(users, 15):
            store.create_group_membership(IdentityStoreId=sid, GroupId=group, MemberId={"UserId": member})
            calls += 1
    calls += USERS + GROUPS
    boundaries = motogaps.Boundaries()
    sets = []
    for s in range(SETS):
        ps = sso.create_permission_set(InstanceArn=arn, Name=f"set-{s:02d}")["PermissionSet"]["PermissionSetArn"]
        sets.append(ps)
        params = {"InstanceArn": arn, "PermissionSetArn": ps}
        if s % 10 == 0:
            sso.attach_managed_policy_to_permission_set(**params, ManagedPolicyArn=ADMIN_ARN)
        elif s % 10 == 1:
            sso.put_inline_policy_to_permission_set(**params, InlinePolicy=json.dumps(EVERYTHING))
        elif s % 10 == 2:
            sso.attach_customer_managed_policy_reference_to_permission_set(**params, CustomerManagedPolicyReference={"Name": "Deploy", "Path": "/ci/"})
        else:
            sso.put_inline_policy_to_permission_set(**params, InlinePolicy=json.dumps(READ_ONLY))
        if s == 3:
            sso.attach_managed_policy_to_permission_set(**params, ManagedPolicyArn=ADMIN_ARN)
            boundaries.attach(ps, managed_arn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        sso.provision_permission_set(**params, TargetType="ALL_PROVISIONED_ACCOUNTS")
        calls += 3
    motogaps.installed = boundaries
    for n in range(ACCOUNTS):
        target = {"InstanceArn": arn, "TargetId": account_id(n), "TargetType": "AWS_ACCOUNT"}
        for group in rng.sample(groups, 8):
            sso.create_account_assignment(**target, PermissionSetArn=rng.choice(sets), PrincipalType="GROUP", PrincipalId=group)
        for user in rng.sample(users, 2):
            sso.create_account_assignment(**target, PermissionSetArn=rng.choice(sets), PrincipalType="USER", PrincipalId=user)
        calls += 10
    return holder, calls


def register(holder: str) -> None:
    from accounts.models import AwsAccount
    from people.models import Person

    AwsAccount.objects.bulk_create(
        [AwsAccount(account_id=holder, name="identity", environment="prod")]
        + [
            AwsAccount(account_id=account_id(n), name=f"account-{n:04d}", environment=("prod", "staging", "dev", "sandbox")[n % 4])
            for n in range(ACCOUNTS)
        ]
    )
    Person.objects.bulk_create(
        Person(employee_id=str(10000 + n), first_name="User", last_name=str(n), email=f"user{n:04d}@example.com", active=n % 20 != 7)
        for n in range(USERS)
    )


def fetch_and_store() -> None:
    from unittest import mock

    from identitycenter import services
    from identitycenter.models import AccessPath

    reading = [0.0]
    real = services.read_directory

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            reading[0] = time.perf_counter() - began

    for label in ("first run (every path new)", "second run (nothing changed)"):
        began = time.perf_counter()
        with mock.patch.object(services, "read_directory", timed):
            run = services.identity_center_run(requested_by="bench")
        total = time.perf_counter() - began
        assert run.status == "succeeded", run.error
        print(f"{label:30} {total:7.1f} s in all: reading AWS {reading[0]:6.1f} s, storing {total - reading[0]:5.1f} s")
        print(f"{'':30} {run.warnings[0]}")
    print(f"{'':30} {AccessPath.objects.count():,} access paths stored, {run.open_finding_count:,} open sso findings")


def measure() -> None:
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from bench.pagetimes import print_page_times
    from identitycenter.models import AccessPath

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    viewer = User.objects.create_user("bench")
    viewer.groups.add(Group.objects.get(name="viewer"))
    client.force_login(viewer)
    busiest = AccessPath.objects.filter(account__environment="prod").values_list("account__account_id", flat=True).first()
    employee = AccessPath.objects.exclude(person=None).values_list("person__employee_id", flat=True).first()
    pages = {
        "Identity Center (fleet)": "/identity-center/",
        "account page, Access": f"/accounts/{busiest}/",
        "person page, every path": f"/people/{employee}/",
        "changes, access granted": "/changes/",
        "overview, admins by path": "/",
        "CSV of every path": "/identity-center/?format=csv",
    }
    print_page_times(client, pages)


def main() -> None:
    from tests import servers

    with servers.postgres() as pg_url, servers.moto_server(load_managed_policies=False) as moto_url:
        os.environ.update({
            "DATABASE_URL": pg_url, "AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1", "IAMWATCH_CLOUDTRAIL_LOOKUP": "false",
            # The leavers' critical findings alert the list, as in production; delivered nowhere here (as `make run`).
            "EMAIL_URL": "dummymail://", "IAMWATCH_ALERT_EMAIL": "security@example.com",
        })  # fmt: skip
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iamwatch.settings")
        import django

        django.setup()
        import logging

        logging.getLogger("botocore").setLevel(logging.WARNING)  # not a line per client about where its credentials came from
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        began = time.perf_counter()
        holder, calls = seed_identity_center(moto_url, random.Random(15))
        print(
            f"seeded moto in {time.perf_counter() - began:.0f} s ({calls:,} calls): {ACCOUNTS} accounts, {USERS:,} users, "
            f"{GROUPS} groups, {SETS} permission sets, {ACCOUNTS * 10:,} assignments"
        )
        register(holder)
        settings.IAMWATCH_IDENTITY_CENTER_ACCOUNT = holder
        fetch_and_store()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        measure()


if __name__ == "__main__":
    main()
