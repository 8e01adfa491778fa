"""An Identity Center run end to end on moto: access paths as history, sso.* findings per account, all or nothing."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import boto3
import pytest

from accounts.models import AwsAccount
from accounts.services import account_create
from audits.models import AuditRun, Finding, RunStatus
from identitycenter.models import AccessPath
from identitycenter.services import IdentityCenterError, identity_center_run
from people.models import Person
from tests.conftest import client_for, member_of
from tests.motogaps import Boundaries

pytestmark = pytest.mark.django_db
PROD, DEV = "210987654321", "410987654321"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def text(html: str) -> str:
    """A page's words as a reader sees them: every tag a space, runs of space one."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


class Org:
    """An Identity Center instance on moto, seeded with users, a group and permission sets."""

    def __init__(self) -> None:
        self.sso, self.store = boto3.client("sso-admin"), boto3.client("identitystore")
        instance = self.sso.list_instances()["Instances"][0]
        self.arn, self.sid = instance["InstanceArn"], instance["IdentityStoreId"]

    def user(self, name: str, email: str) -> str:
        return str(self.store.create_user(
            IdentityStoreId=self.sid, UserName=name, DisplayName=name, Name={"GivenName": name, "FamilyName": "X"},
            Emails=[{"Value": email, "Primary": True}],
        )["UserId"])  # fmt: skip

    def group(self, name: str, *members: str) -> str:
        group = str(self.store.create_group(IdentityStoreId=self.sid, DisplayName=name)["GroupId"])
        for m in members:
            self.store.create_group_membership(IdentityStoreId=self.sid, GroupId=group, MemberId={"UserId": m})
        return group

    def permission_set(self, name: str, managed: str = "", *, customer: str = "", inline: dict[str, Any] | None = None) -> str:
        arn = str(self.sso.create_permission_set(InstanceArn=self.arn, Name=name)["PermissionSet"]["PermissionSetArn"])
        if inline:
            self.sso.put_inline_policy_to_permission_set(InstanceArn=self.arn, PermissionSetArn=arn, InlinePolicy=json.dumps(inline))
        if managed:
            self.sso.attach_managed_policy_to_permission_set(InstanceArn=self.arn, PermissionSetArn=arn, ManagedPolicyArn=managed)
        if customer:
            path, _, policy = customer.rpartition("/")
            self.sso.attach_customer_managed_policy_reference_to_permission_set(
                InstanceArn=self.arn, PermissionSetArn=arn, CustomerManagedPolicyReference={"Name": policy, "Path": path + "/"}
            )
        self.sso.provision_permission_set(InstanceArn=self.arn, PermissionSetArn=arn, TargetType="ALL_PROVISIONED_ACCOUNTS")
        return arn

    def assign(self, account: str, permission_set: str, kind: str, principal: str, *, remove: bool = False) -> None:
        call = self.sso.delete_account_assignment if remove else self.sso.create_account_assignment
        params: dict[str, Any] = {
            "InstanceArn": self.arn,
            "TargetId": account,
            "TargetType": "AWS_ACCOUNT",
            "PermissionSetArn": permission_set,
            "PrincipalType": kind,
            "PrincipalId": principal,
        }
        call(**params)


def list_users_fails(monkeypatch: pytest.MonkeyPatch, *errors: tuple[str, str]) -> None:
    """identitystore:ListUsers answers each (code, message) in turn (botocore's Stubber); every other call goes to moto."""
    from botocore.stub import Stubber

    from accounts.aws import AccountAccess

    faulty = boto3.client("identitystore")
    stub = Stubber(faulty)
    for code, message in errors:
        stub.add_client_error("list_users", service_error_code=code, service_message=message, http_status_code=400)
    stub.activate()
    real = AccountAccess.client
    monkeypatch.setattr(AccountAccess, "client", lambda self, service, region=None: faulty if service == "identitystore" else real(self, service, region))


@pytest.fixture
def fleet(aws: None, settings) -> Org:  # type: ignore[no-untyped-def]
    holder = boto3.client("sts").get_caller_identity()["Account"]
    settings.IAMWATCH_IDENTITY_CENTER_ACCOUNT = holder
    account_create(account_id=holder, name="management")
    account_create(account_id=PROD, name="payments", environment="prod")
    account_create(account_id=DEV, name="dev", environment="dev")
    Person.objects.create(employee_id="1001", first_name="Alice", last_name="Jones", email="alice@example.com", active=True)
    Person.objects.create(employee_id="1002", first_name="Bob", last_name="Brown", email="bob@example.com", active=False)
    return Org()


def test_a_run_stores_each_path_and_the_findings_of_each_account(fleet: Org) -> None:
    alice, bob = fleet.user("alice", "alice@example.com"), fleet.user("bob", "bob@example.com")
    stranger = fleet.user("temp", "temp@contractor.example")
    admins = fleet.group("Admins", alice, bob)
    fleet.group("Auditors")  # empty, unassigned
    admin = fleet.permission_set("AdministratorAccess", ADMIN_ARN)
    read = fleet.permission_set("ReadOnly", "arn:aws:iam::aws:policy/ReadOnlyAccess")
    fleet.assign(PROD, admin, "GROUP", admins)
    fleet.assign(DEV, admin, "USER", stranger)
    fleet.assign(DEV, read, "USER", alice)
    run = identity_center_run(requested_by="t")
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert sorted(AccessPath.objects.values_list("account__account_id", "user_name", "permission_set_name", "group_name", "admin")) == [
        (PROD, "alice", "AdministratorAccess", "Admins", True), (PROD, "bob", "AdministratorAccess", "Admins", True),
        (DEV, "alice", "ReadOnly", "", False), (DEV, "temp", "AdministratorAccess", "", True),
    ]  # fmt: skip
    assert sorted(Finding.objects.values_list("account__account_id", "check_id", "principal", "subject")) == [
        (PROD, "sso.user_departed", "sso-user:bob", ""),
        (DEV, "sso.admin_direct_assignment", "sso-user:temp", "AdministratorAccess"),
        (DEV, "sso.user_no_person", "sso-user:temp", ""),
    ]  # fmt: skip
    # The next run: bob's group assignment is gone; his finding resolves, his paths close, nothing else moves.
    fleet.assign(PROD, admin, "GROUP", admins, remove=True)
    fleet.assign(PROD, admin, "USER", alice)
    again = identity_center_run(requested_by="t")
    assert again.status == RunStatus.SUCCEEDED, again.error
    assert again.warnings[0].endswith("access paths: 1 added, 2 removed")
    assert Finding.objects.get(check_id="sso.user_departed").status == "resolved"
    assert list(
        AccessPath.objects.filter(valid_to__isnull=True, account__account_id=PROD).values_list("user_name", "group_name")
    ) == [("alice", "")]
    # The changes since the review list what was granted and what was taken away, on the page and as CSV.
    client = client_for(member_of("viewer", "vera"))
    page = text(client.get(f"/changes/?account={PROD}").content.decode())
    assert "taken away payments alice AdministratorAccess administrator through Admins" in page
    assert "taken away payments bob AdministratorAccess administrator through Admins" in page
    assert "granted payments alice AdministratorAccess administrator directly" in page
    body = b"".join(client.get(f"/changes/?account={PROD}&table=access_removed&format=csv").streaming_content).decode()  # type: ignore[attr-defined]
    assert sorted(line.split(",")[1] for line in body.strip().splitlines()[1:]) == ["alice", "bob"]


def test_without_the_setting_or_the_permission_nothing_is_stored_and_the_error_names_the_call(
    fleet: Org,
    settings,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """identitystore:ListUsers refused (a role without identitystore:*): the run fails naming the call; nothing lands."""


    fleet.assign(PROD, fleet.permission_set("AdministratorAccess", ADMIN_ARN), "USER", fleet.user("alice", "alice@example.com"))
    list_users_fails(monkeypatch, ("AccessDeniedException", "not allowed"))
    run = identity_center_run(requested_by="t")
    assert run.status == RunStatus.FAILED
    assert run.error.startswith("identitystore:ListUsers: AccessDeniedException: not allowed") and run.error.endswith(
        "; nothing stored"
    )
    assert (AccessPath.objects.count(), Finding.objects.count()) == (0, 0)
    settings.IAMWATCH_IDENTITY_CENTER_ACCOUNT = "999999999999"
    with pytest.raises(IdentityCenterError, match="Identity Center is not configured"):
        identity_center_run(requested_by="t")
    assert AuditRun.objects.count() == 1 and AwsAccount.objects.count() == 3


def test_the_account_page_and_the_person_page_show_each_identity_center_path(fleet: Org, alice_client) -> None:  # type: ignore[no-untyped-def]
    alice, bob = fleet.user("alice", "alice@example.com"), fleet.user("bob", "bob@example.com")
    admins = fleet.group("Admins", alice, bob)
    fleet.assign(PROD, fleet.permission_set("AdministratorAccess", ADMIN_ARN), "GROUP", admins)
    fleet.assign(DEV, fleet.permission_set("ReadOnly", "arn:aws:iam::aws:policy/ReadOnlyAccess"), "USER", alice)
    assert identity_center_run(requested_by="t").status == RunStatus.SUCCEEDED
    page = text(alice_client.get(f"/accounts/{PROD}/").content.decode())
    assert "Access through IAM Identity Center 2" in page
    assert "alice alice@example.com Alice Jones AdministratorAccess administrator through group Admins" in page
    assert "bob bob@example.com Bob Brown (left) AdministratorAccess" in page
    assert "sso-user:bob" in page and "Bob Brown (employee 1002) has left" in page  # the finding, in its section
    person = text(alice_client.get("/people/1001/").content.decode())
    assert "Access through IAM Identity Center: 2 paths" in person
    assert f"payments {PROD} alice AdministratorAccess administrator through group Admins" in person
    assert f"dev {DEV} alice ReadOnly assigned directly" in person
    # The Access section's CSV: this account's paths alone.
    assert f'href="/identity-center/?account={PROD}&amp;format=csv"' in alice_client.get(f"/accounts/{PROD}/").content.decode()
    body = b"".join(alice_client.get("/identity-center/", {"account": PROD, "format": "csv"}).streaming_content).decode()  # type: ignore[attr-defined]
    assert [(r["account_id"], r["user_name"], r["administrator"], r["through_group"], r["person_employee_id"], r["person_has_left"]) for r in csv.DictReader(io.StringIO(body))] == [
        (PROD, "alice", "yes", "Admins", "1001", "no"), (PROD, "bob", "yes", "Admins", "1002", "yes"),
    ]  # fmt: skip


def test_the_schedule_reads_identity_center_daily_when_it_is_configured(fleet: Org, settings) -> None:  # type: ignore[no-untyped-def]
    from django_celery_beat.models import PeriodicTask

    from identitycenter.tasks import read_identity_center

    daily = PeriodicTask.objects.get(task="identitycenter.read")
    assert (daily.crontab.hour, daily.crontab.minute, daily.enabled) == ("2", "0", True)  # type: ignore[union-attr]
    run_id = read_identity_center()
    assert run_id is not None and AuditRun.objects.get(pk=run_id).status == RunStatus.SUCCEEDED
    settings.IAMWATCH_IDENTITY_CENTER_ACCOUNT = ""
    assert read_identity_center() is None and AuditRun.objects.count() == 1


def test_the_fleet_page_lists_each_permission_set_in_use_and_the_csv_every_path(fleet: Org, alice_client) -> None:  # type: ignore[no-untyped-def]
    alice, bob = fleet.user("alice", "alice@example.com"), fleet.user("bob", "bob@example.com")
    admin = fleet.permission_set("AdministratorAccess", ADMIN_ARN)
    fleet.assign(PROD, admin, "GROUP", fleet.group("Admins", alice, bob))
    fleet.assign(DEV, admin, "USER", alice)
    fleet.assign(DEV, fleet.permission_set("ReadOnly", "arn:aws:iam::aws:policy/ReadOnlyAccess"), "USER", bob)
    assert identity_center_run(requested_by="t").status == RunStatus.SUCCEEDED
    page = text(alice_client.get("/identity-center/").content.decode())
    assert f"AdministratorAccess {admin} yes 2 2" in page and "ReadOnly" in page and " no 1 1" in page
    # Where one set is assigned: each account, administrator there or not, its users and groups.
    reach = text(alice_client.get("/identity-center/", {"set": admin}).content.decode())
    assert f"Where AdministratorAccess is assigned Account Environment Administrator there Users Groups dev {DEV} dev yes 1 0 payments {PROD} prod yes 2 1" in reach
    assert "is assigned" not in text(alice_client.get("/identity-center/", {"set": "arn:aws:sso:::permissionSet/unknown"}).content.decode())
    # A viewer restricted to dev sees the set reach dev alone, and the CSV holds dev's paths alone.
    from accounts.services import account_scope_set

    dev_only = member_of("viewer", "dora")
    account_scope_set(user=dev_only, accounts=[AwsAccount.objects.get(account_id=DEV)], reason="dev team", actor="t")
    scoped = client_for(dev_only)
    assert "payments" not in text(scoped.get("/identity-center/", {"set": admin}).content.decode())
    rows = b"".join(scoped.get("/identity-center/?format=csv").streaming_content).decode().strip().splitlines()[1:]  # type: ignore[attr-defined]
    assert sorted(r.split(",")[0] for r in rows) == [DEV, DEV]
    hidden = b"".join(scoped.get("/identity-center/", {"account": PROD, "format": "csv"}).streaming_content).decode()  # type: ignore[attr-defined]
    assert hidden.strip().splitlines()[1:] == []  # another account's paths are not hers to see
    body = b"".join(alice_client.get("/identity-center/?format=csv").streaming_content).decode()  # type: ignore[attr-defined]
    assert len(body.strip().splitlines()) == 1 + 4 and body.startswith("account_id,account_name,user_name,")
    # The agenda counts each account's administrators by path: IAM users, and Identity Center users.
    overview = list(csv.DictReader(io.StringIO(b"".join(alice_client.get("/?format=csv").streaming_content).decode())))  # type: ignore[attr-defined]
    assert {
        r["account_id"]: (r["iam_admins"], r["identity_center_admins"]) for r in overview if r["account_id"] in (PROD, DEV)
    } == {
        PROD: ("0", "2"),
        DEV: ("0", "1"),
    }


def member_iam(account_id: str) -> Any:
    """IAM in a member account of moto, as that account's audit role sees it."""
    creds = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/IAMWatchAudit", RoleSessionName="seed")[
        "Credentials"
    ]
    return boto3.client(
        "iam",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def test_customer_policies_and_boundaries_are_read_in_each_account_where_the_set_is_assigned(
    fleet: Org, boundaries: Boundaries
) -> None:
    """Deployer names the customer policy /ci/Deploy: prod's copy grants everything, dev's only reads, so alice is an
    administrator in prod and not in dev. Bounded holds AdministratorAccess inside a read-only AWS boundary."""
    for account_id in (PROD, DEV):
        AwsAccount.objects.filter(account_id=account_id).update(role_arn=f"arn:aws:iam::{account_id}:role/IAMWatchAudit")
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    read_only = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
    member_iam(PROD).create_policy(PolicyName="Deploy", Path="/ci/", PolicyDocument=json.dumps(everything))
    member_iam(DEV).create_policy(PolicyName="Deploy", Path="/ci/", PolicyDocument=json.dumps(read_only))
    alice = fleet.user("alice", "alice@example.com")
    deployer = fleet.permission_set("Deployer", customer="/ci/Deploy")
    bounded = fleet.permission_set("Bounded", ADMIN_ARN)
    boundaries.attach(bounded, managed_arn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    guarded = fleet.permission_set("Guarded", ADMIN_ARN)
    boundaries.attach(guarded, name="Guard")  # no account holds a policy named Guard: nothing gets through
    ops = fleet.group("Ops", alice)
    for account_id in (PROD, DEV):
        for permission_set in (deployer, bounded, guarded):
            fleet.assign(account_id, permission_set, "GROUP", ops)
    run = identity_center_run(requested_by="t")
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert sorted(AccessPath.objects.values_list("account__account_id", "permission_set_name", "admin")) == [
        (PROD, "Bounded", False), (PROD, "Deployer", True), (PROD, "Guarded", False),
        (DEV, "Bounded", False), (DEV, "Deployer", False), (DEV, "Guarded", False),
    ]  # fmt: skip
    assert run.warnings[1:] == [
        f"customer-managed policy /Guard not found in 2 account(s) ({PROD}, {DEV}): it grants nothing there",
        # moto here holds no AWS managed policy but AdministratorAccess (known without reading it)
        "AWS managed policy arn:aws:iam::aws:policy/ReadOnlyAccess not found: it grants nothing",
    ]


@pytest.mark.aws_managed_policies
def test_a_permission_set_that_can_make_itself_administrator_is_found_and_counted_apart(fleet: Org) -> None:
    """One set allows only iam:PutUserPolicy (inline); another holds AWS's IAMFullAccess, whose document is read in
    the account holding Identity Center. Neither is administrator; both are one step from it."""
    alice = fleet.user("alice", "alice@example.com")
    put_only = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PutUserPolicy", "Resource": "*"}]}
    fleet.assign(PROD, fleet.permission_set("SelfService", inline=put_only), "USER", alice)
    fleet.assign(DEV, fleet.permission_set("IamAdmins", "arn:aws:iam::aws:policy/IAMFullAccess"), "USER", alice)
    run = identity_center_run(requested_by="t")
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert sorted(AccessPath.objects.values_list("account__account_id", "permission_set_name", "admin")) == [
        (PROD, "SelfService", False), (DEV, "IamAdmins", False),
    ]  # fmt: skip
    assert sorted(Finding.objects.filter(check_id="sso.can_become_admin").values_list("account__account_id", "principal", "detail")) == [
        (PROD, "sso-user:alice", f"alice can make itself administrator of {PROD} (SelfService: iam:PutUserPolicy allowed by inline policy statement 1)"),
        (DEV, "sso-user:alice", f"alice can make itself administrator of {DEV} (IamAdmins: iam:CreatePolicyVersion allowed by IAMFullAccess statement 1)"),
    ]  # fmt: skip
    assert not Finding.objects.filter(check_id__in=("sso.admin_direct_assignment", "sso.admin_in_production")).exists()
    client = client_for(member_of("viewer", "vera"))
    row = next(a for g in client.get("/").context["groups"] for a in g["accounts"] if a["account_id"] == PROD)
    assert (row["sso_admins"], row["sso_can_become_admin"]) == (0, 1)
    assert 'check=sso.can_become_admin">1</a>' in client.get("/").content.decode()


def test_a_transient_fault_puts_the_run_back_to_pending_for_a_retry_and_the_last_attempt_fails_it(
    fleet: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Throttled on identitystore:ListUsers: the run goes back to pending for the worker's retry (the fetch's
    failure model); the final attempt fails it with the call; nothing is stored either way. A refused call is not retried."""

    from audits.runs import TransientRunError, run_execute
    from identitycenter.services import identity_center_request

    fleet.assign(PROD, fleet.permission_set("AdministratorAccess", ADMIN_ARN), "USER", fleet.user("alice", "alice@example.com"))
    list_users_fails(monkeypatch, ("ThrottlingException", "Rate exceeded"), ("ThrottlingException", "Rate exceeded"), ("AccessDeniedException", "no"))
    run = identity_center_request(requested_by="schedule")
    with pytest.raises(TransientRunError):
        run_execute(run_id=run.pk, final_attempt=False)
    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.PENDING, 1)
    assert run.error == "retrying after: identitystore:ListUsers: ThrottlingException: Rate exceeded; nothing stored"
    assert identity_center_request(requested_by="alice").pk == run.pk  # a second request joins the pending run
    failed = run_execute(run_id=run.pk, final_attempt=True)
    assert failed is not None and (failed.status, failed.attempts) == (RunStatus.FAILED, 2)
    assert failed.error == "identitystore:ListUsers: ThrottlingException: Rate exceeded; nothing stored"
    refused = run_execute(run_id=identity_center_request(requested_by="t").pk, final_attempt=False)  # no retry for a refusal
    assert (
        refused is not None
        and refused.status == RunStatus.FAILED
        and refused.error.startswith("identitystore:ListUsers: AccessDeniedException")
    )
    assert (AccessPath.objects.count(), Finding.objects.count()) == (0, 0)


def test_a_departed_person_still_assigned_alerts_the_list_of_the_account_she_reaches(  # type: ignore[no-untyped-def]
    fleet: Org, settings, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    settings.IAMWATCH_ALERT_EMAIL = "security@example.com"
    AwsAccount.objects.filter(account_id=PROD).update(alert_email="payments-sec@example.com")
    bob = fleet.user("bob", "bob@example.com")  # Bob Brown has left
    fleet.assign(PROD, fleet.permission_set("ReadOnly", "arn:aws:iam::aws:policy/ReadOnlyAccess"), "USER", bob)
    for _ in range(2):  # alerted once per opening, not per run
        with django_capture_on_commit_callbacks(execute=True):
            assert identity_center_run(requested_by="t").status == RunStatus.SUCCEEDED
    (mail,) = mailoutbox
    assert mail.to == ["payments-sec@example.com"]
    assert mail.subject == f"[IAMWatch] critical: sso.user_departed in payments ({PROD})"
    assert "Seen in the IAM Identity Center read of" in mail.body


def test_read_now_queues_a_run_for_those_who_may_run_and_see_the_account_holding_it(fleet: Org, settings) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Permission

    from accounts.services import account_scope_set

    fleet.assign(PROD, fleet.permission_set("ReadOnly", "arn:aws:iam::aws:policy/ReadOnlyAccess"), "USER", fleet.user("alice", "alice@example.com"))
    viewer = client_for(member_of("viewer", "vera"))
    assert "Read Identity Center now" not in viewer.get("/identity-center/").content.decode()
    assert viewer.post("/identity-center/read").status_code == 403 and not AuditRun.objects.exists()
    runner = member_of("viewer", "rita")
    runner.user_permissions.add(Permission.objects.get(codename="add_auditrun"))
    client = client_for(runner)
    assert "Read Identity Center now" in client.get("/identity-center/").content.decode()
    page = text(client.post("/identity-center/read", follow=True).content.decode())  # eager here: the run happens at once
    run = AuditRun.objects.get()
    assert f"Identity Center run {run.pk} is queued" in page and run.status == RunStatus.SUCCEEDED and run.requested_by == "rita"
    assert f"{run.pk} " in page and "rita Succeeded Identity Center: 1 users, 0 groups" in page  # the reads, newest first
    # Restricted to dev, she may not read the organisation through the account that holds it.
    account_scope_set(user=runner, accounts=[AwsAccount.objects.get(account_id=DEV)], reason="dev team", actor="t")
    refused = text(client.post("/identity-center/read", follow=True).content.decode())
    assert "is not among yours" in refused and AuditRun.objects.count() == 1
    assert "Reads of Identity Center" in refused and f"{run.pk} " not in refused.split("Reads of Identity Center")[1][:200]
    settings.IAMWATCH_IDENTITY_CENTER_ACCOUNT = ""
    unconfigured = text(client_for(member_of("admin", "ada")).post("/identity-center/read", follow=True).content.decode())
    assert "Not queued: Identity Center is not configured" in unconfigured and AuditRun.objects.count() == 1


def test_the_command_says_so_when_a_worker_is_reading_identity_center_already(fleet: Org) -> None:
    from django.core.management import CommandError, call_command
    from django.utils import timezone

    from identitycenter.services import identity_center_request

    running = identity_center_request(requested_by="schedule")
    AuditRun.objects.filter(pk=running.pk).update(status=RunStatus.RUNNING, started_at=timezone.now())
    with pytest.raises(CommandError, match=rf"Identity Center run {running.pk} is under way in a worker"):
        call_command("run_identity_center")
    assert AuditRun.objects.get().status == RunStatus.RUNNING  # left to the worker that holds it


def test_a_member_role_that_may_not_read_a_customer_policy_fails_the_run_naming_the_policy(fleet: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    """Who is an administrator cannot be decided without the policy: the run fails, naming the call and the policy's
    ARN in that account, and stores nothing."""
    from botocore.stub import Stubber

    from accounts.aws import AccountAccess

    fleet.assign(DEV, fleet.permission_set("Deployer", customer="/ci/Deploy"), "USER", fleet.user("alice", "alice@example.com"))
    iam = boto3.client("iam")
    stub = Stubber(iam)
    stub.add_client_error("get_policy", service_error_code="AccessDenied", service_message="not authorized to perform: iam:GetPolicy", http_status_code=403)
    stub.activate()
    real = AccountAccess.client
    monkeypatch.setattr(AccountAccess, "client", lambda self, service, region=None: iam if service == "iam" else real(self, service, region))
    run = identity_center_run(requested_by="t")
    assert run.status == RunStatus.FAILED
    assert run.error.startswith(f"iam:GetPolicy arn:aws:iam::{DEV}:policy/ci/Deploy: AccessDenied: not authorized") and run.error.endswith("; nothing stored")
    assert (AccessPath.objects.count(), Finding.objects.count()) == (0, 0)


def test_an_account_without_an_identity_center_instance_fails_the_run_in_one_line(fleet: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    from identitycenter import services

    monkeypatch.setattr(services, "instances", lambda sso: [])
    run = identity_center_run(requested_by="t")
    holder = AwsAccount.objects.get(name="management").account_id
    assert (run.status, run.error) == (RunStatus.FAILED, f"no Identity Center instance in account {holder}, region us-east-1; nothing stored")


def test_a_person_added_to_the_directory_is_kept_on_her_open_paths_by_the_next_run(fleet: Org, alice_client) -> None:  # type: ignore[no-untyped-def]
    fleet.assign(PROD, fleet.permission_set("ReadOnly", "arn:aws:iam::aws:policy/ReadOnlyAccess"), "USER", fleet.user("carol", "carol@example.com"))
    assert identity_center_run(requested_by="t").status == RunStatus.SUCCEEDED
    assert "carol carol@example.com nobody ReadOnly" in text(alice_client.get(f"/accounts/{PROD}/").content.decode())
    carol = Person.objects.create(employee_id="1003", first_name="Carol", last_name="King", email="Carol@Example.com", active=True)
    assert identity_center_run(requested_by="t").status == RunStatus.SUCCEEDED
    path = AccessPath.objects.get()
    assert (path.person_id, path.valid_to) == (carol.pk, None)  # the same path, now hers; nothing closed or opened
    assert Finding.objects.get(check_id="sso.user_no_person").status == "resolved"
    assert "Access through IAM Identity Center: 1 path" in text(alice_client.get("/people/1003/").content.decode())


def test_a_reader_scoped_to_the_holding_account_sees_no_organisation_wide_run_notes(fleet: Org) -> None:
    """Issue 28 point 7: a run's notes count the whole organisation and name other accounts; a login limited to the
    account holding Identity Center sees the run and its status, not its notes, on every page that lists runs."""
    from accounts.models import AccountScope

    alice = fleet.user("alice", "alice@example.com")
    fleet.assign(PROD, fleet.permission_set("ReadOnly", "arn:aws:iam::aws:policy/ReadOnlyAccess"), "USER", alice)
    run = identity_center_run(requested_by="t")
    assert run.status == RunStatus.SUCCEEDED and any("access paths" in w for w in run.warnings)
    holder = run.account
    viewer = member_of("viewer", "held")
    scope = AccountScope.objects.create(user=viewer, reason="the holding account's team")
    scope.accounts.set([holder])
    scoped, everyone = client_for(viewer), client_for(member_of("viewer", "vera"))
    for url in ("/identity-center/", f"/accounts/{holder.account_id}/", f"/accounts/{holder.account_id}/runs.csv"):
        shown = b"".join(r.streaming_content) if (r := scoped.get(url)).streaming else r.content  # type: ignore[attr-defined]
        assert r.status_code == 200 and b"access paths" not in shown and PROD.encode() not in shown, url
        full = b"".join(r.streaming_content) if (r := everyone.get(url)).streaming else r.content  # type: ignore[attr-defined]
        assert (b"access paths" in full) or url.endswith(".csv"), url
    assert b"not shown to a login limited to some accounts" in scoped.get("/identity-center/").content
