"""Fetching through boto3 against moto (in-process): sessions, polling, API-backed checks, run outcomes."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import boto3
import pytest

from accounts.aws import account_session, connection_test
from accounts.models import AwsAccount
from accounts.services import account_create
from audits.fetch import FetchError, admin_users, fetch_credential_report
from audits.models import AuditRun, Finding, RunStatus
from audits.runs import fleet_request, run_execute, run_request

# The member account's JSmith has the AWS managed AdministratorAccess attached, as in most real accounts.
pytestmark = pytest.mark.aws_managed_policies

MEMBER = "111111111111"
ROLE = f"arn:aws:iam::{MEMBER}:role/IAMWatchAudit"
EVERYTHING = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
READ_ONLY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]})


def member_iam() -> Any:
    """An IAM client acting inside the member account (moto maps assumed-role credentials to it)."""
    creds = boto3.client("sts").assume_role(RoleArn=ROLE, RoleSessionName="seed-member")["Credentials"]
    return boto3.client(
        "iam",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


@pytest.fixture
def member(aws: None, db: None) -> AwsAccount:
    iam = member_iam()
    iam.create_user(UserName="JSmith")
    iam.create_login_profile(UserName="JSmith", Password="Secret-passw0rd!")
    iam.attach_user_policy(UserName="JSmith", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.create_user(UserName="networkAdmin")
    iam.create_group(GroupName="ops")
    iam.put_group_policy(GroupName="ops", PolicyName="all", PolicyDocument=EVERYTHING)
    iam.add_user_to_group(GroupName="ops", UserName="networkAdmin")
    iam.create_user(UserName="BJones")
    arn = iam.create_policy(PolicyName="god-mode", PolicyDocument=EVERYTHING)["Policy"]["Arn"]
    iam.attach_user_policy(UserName="BJones", PolicyArn=arn)
    iam.create_user(UserName="AWhite")
    iam.put_user_policy(UserName="AWhite", PolicyName="read", PolicyDocument=READ_ONLY)
    return account_create(
        account_id=MEMBER, name="member", role_arn=ROLE, external_id="ext-123", naming_preset="initial_lastname"
    )


def test_the_session_assumes_the_role_with_the_external_id_and_acts_in_the_member_account(member: AwsAccount) -> None:
    access = account_session(member)
    identity = access.client("sts").get_caller_identity()
    assert identity["Account"] == MEMBER
    assert identity["Arn"].endswith(f"assumed-role/IAMWatchAudit/IAMWatch-{MEMBER}")
    assert access.credentials is not None and access.credentials["aws_session_token"]  # short-lived, in memory only


def test_a_fetch_run_stores_the_report_and_the_api_backed_findings(member: AwsAccount) -> None:
    run = run_execute(run_id=run_request(account=member, requested_by="alice").pk)
    assert run is not None and run.status == RunStatus.SUCCEEDED, run.error if run else None
    assert run.principal_count == 4 and run.report is not None
    # moto's GeneratedTime (2015) is earlier than every user inside: impossible, so not believed, with a warning.
    assert run.aws_generated_at is not None and run.aws_generated_at.year == 2015
    assert run.generated_at is not None and run.generated_at.year >= 2026
    assert any("earlier than the creation of every principal" in w for w in run.warnings)
    assert any("no <root_account> row" in w for w in run.warnings)
    assert any(w.startswith("not evaluated in this run") and "root.mfa_disabled" in w for w in run.warnings)
    open_ = set(Finding.objects.filter(account=member, status="open").values_list("check_id", "principal"))
    assert {("user.direct_admin", "JSmith"), ("user.direct_admin", "networkAdmin"), ("user.direct_admin", "BJones")} <= open_
    assert ("user.direct_admin", "AWhite") not in open_
    assert ("account.password_policy_weak", "") in open_ and ("account.report_missing_root", "") in open_
    detail = Finding.objects.get(check_id="user.direct_admin", principal="networkAdmin").detail
    assert "via group ops" in detail


def test_a_sound_password_policy_raises_nothing_and_a_weak_one_says_why(member: AwsAccount) -> None:
    iam = member_iam()
    iam.update_account_password_policy(MinimumPasswordLength=15, PasswordReusePrevention=24)
    run_execute(run_id=run_request(account=member, requested_by="alice").pk)
    assert not Finding.objects.filter(check_id="account.password_policy_weak").exists()

    iam.update_account_password_policy(MinimumPasswordLength=8, PasswordReusePrevention=5, MaxPasswordAge=90)
    run = run_execute(run_id=run_request(account=member, requested_by="alice").pk)
    assert run is not None and run.status == RunStatus.SUCCEEDED
    finding = Finding.objects.get(check_id="account.password_policy_weak")
    assert (
        "minimum length 8 < 15" in finding.detail and "reuse prevention 5 < 24" in finding.detail and "expiry" in finding.detail
    )


def test_an_imported_file_never_resolves_api_backed_findings(member: AwsAccount) -> None:
    from audits.services import report_import

    run_execute(run_id=run_request(account=member, requested_by="alice").pk)
    content = member_iam().get_credential_report()["Content"]
    report_import(account=member, content=content)
    assert Finding.objects.filter(check_id="user.direct_admin", status="open").count() == 3


def test_the_account_alias_is_recorded(member: AwsAccount) -> None:
    member_iam().create_account_alias(AccountAlias="acme-member")
    run_execute(run_id=run_request(account=member, requested_by="alice").pk)
    member.refresh_from_db()
    assert member.alias == "acme-member"


def test_a_second_delivery_of_the_same_run_does_nothing(member: AwsAccount) -> None:
    run = run_request(account=member, requested_by="alice")
    assert run_execute(run_id=run.pk) is not None
    assert run_execute(run_id=run.pk) is None
    assert AuditRun.objects.count() == 1


def test_a_double_request_queues_one_run(member: AwsAccount) -> None:
    assert run_request(account=member, requested_by="a").pk == run_request(account=member, requested_by="b").pk


def test_a_role_the_default_chain_may_not_assume_fails_the_run_with_the_call_named(
    aws: None, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = account_create(account_id="222222222222", name="broken", role_arn="arn:aws:iam::222222222222:role/Missing")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "")  # no credentials at all
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")
    run = run_execute(run_id=run_request(account=account, requested_by="alice").pk)
    assert run is not None and run.status == RunStatus.FAILED
    assert run.error.startswith("sts:AssumeRole arn:aws:iam::222222222222:role/Missing")
    assert not Finding.objects.exists()


def test_connection_test_lists_every_call(member: AwsAccount) -> None:
    steps = connection_test(member)
    assert [s.call for s in steps][:3] == ["sts:AssumeRole", "iam:GenerateCredentialReport", "iam:GetCredentialReport"]
    assert all(s.ok for s in steps), steps


def test_fleet_request_skips_accounts_fetched_within_four_hours_unless_forced(member: AwsAccount) -> None:
    run_execute(run_id=fleet_request(requested_by="schedule").runs[0].pk)
    again = fleet_request(requested_by="schedule")
    assert again.runs == [] and again.skipped_recent == [member]
    assert len(fleet_request(requested_by="alice", force=True).runs) == 1


class StuckAws:
    """Fake IAM whose report never finishes generating."""

    def __init__(self) -> None:
        self.calls = 0

    def generate_credential_report(self) -> dict[str, str]:
        self.calls += 1
        return {"State": "INPROGRESS"}


def test_a_report_that_stays_in_progress_fails_clearly_within_the_bound() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    stuck = StuckAws()
    with pytest.raises(FetchError, match="still INPROGRESS after 120 s") as caught:
        fetch_credential_report(stuck, max_wait=120, sleep=sleep, clock=lambda: now[0])
    assert not caught.value.transient
    assert sum(waits) <= 120 and waits[:4] == [1.0, 2.0, 4.0, 8.0]  # exponential backoff, bounded
    assert stuck.calls == len(waits) + 1


ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def test_a_customer_policy_named_administrator_access_is_judged_by_its_document() -> None:
    """Prowler's false positive: a look-alike name that grants s3:GetObject only is not admin; AWS's own is."""
    look_alike = "arn:aws:iam::111122223333:policy/AdministratorAccess"
    details = {
        "UserDetailList": [
            {"UserName": "lookalike", "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": look_alike}]},
            {"UserName": "real", "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]},
            {"UserName": "gov", "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws-us-gov:iam::aws:policy/AdministratorAccess"}]},
            {"UserName": "readonly-named", "AttachedManagedPolicies": [{"PolicyName": "ReadOnly", "PolicyArn": "arn:aws:iam::111122223333:policy/ReadOnly"}]},
        ],
        "Policies": [
            {"Arn": look_alike, "PolicyVersionList": [
                {"IsDefaultVersion": True, "Document": {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}},
                {"IsDefaultVersion": False, "Document": {"Statement": [ALL]}},  # an old version does not count
            ]},
            {"Arn": "arn:aws:iam::111122223333:policy/ReadOnly", "PolicyVersionList": [
                {"IsDefaultVersion": True, "Document": {"Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]}},
            ]},
        ],
    }  # fmt: skip
    assert admin_users(details) == {"real": ("AdministratorAccess",), "gov": ("AdministratorAccess",), "readonly-named": ("ReadOnly",)}


def test_admin_users_follows_groups_and_customer_policies() -> None:
    details = {
        "UserDetailList": [
            {"UserName": "a", "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]},
            {"UserName": "b", "GroupList": ["admins"]},
            {"UserName": "c", "AttachedManagedPolicies": [{"PolicyName": "mine", "PolicyArn": "arn:aws:iam::1:policy/mine"}]},
            {"UserName": "d", "AttachedManagedPolicies": [{"PolicyName": "ro", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]},
        ],
        "GroupDetailList": [{"GroupName": "admins", "GroupPolicyList": [{"PolicyName": "all", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]}],
        "Policies": [{"Arn": "arn:aws:iam::1:policy/mine", "PolicyVersionList": [{"IsDefaultVersion": True, "Document": {"Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]}}]}],
    }  # fmt: skip
    assert admin_users(details) == {"a": ("AdministratorAccess",), "b": ("inline all via group admins",), "c": ("mine",)}


def test_the_account_page_lists_each_direct_admin_with_mfa_and_links_the_role_practice(member: AwsAccount) -> None:
    from tests.conftest import client_for, member_of

    iam = member_iam()
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="jsmith")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName="JSmith", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321")
    run = run_execute(run_id=run_request(account=member, requested_by="alice").pk)
    assert run is not None and run.status == RunStatus.SUCCEEDED
    client = client_for(member_of("viewer", "auditor"))
    page = client.get(f"/accounts/{MEMBER}/")
    section = next(items for title, _, items in page.context["sections"] if title == "Administrator rights")
    assert sorted(f.principal for f in section) == ["BJones", "JSmith", "networkAdmin"]
    assert page.context["admins_with_mfa"] == {"JSmith"}
    assert b'href="/practice/#admin-role"' in page.content
    finding = Finding.objects.get(check_id="user.direct_admin", principal="networkAdmin")
    assert b'href="/practice/#admin-role"' in client.get(f"/findings/{finding.pk}/").content
    assert b"assume" in client.get("/practice/").content


def test_connection_refused_is_transient_then_fails_the_run_with_the_last_error(
    db: None, monkeypatch: pytest.MonkeyPatch, settings  # type: ignore[no-untyped-def]
) -> None:
    from accounts.models import AwsAccount
    from audits.runs import TransientRunError

    settings.IAMWATCH_AWS_MAX_ATTEMPTS = 1
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)  # port 9 (discard): nothing listens, the connection is refused
    account = AwsAccount.objects.create(account_id="123456789012", name="home")
    run = run_request(account=account, requested_by="alice")
    with pytest.raises(TransientRunError, match="EndpointConnectionError"):
        run_execute(run_id=run.pk, final_attempt=False)
    run.refresh_from_db()
    assert run.status == RunStatus.PENDING and "retrying after" in run.error
    last = run_execute(run_id=run.pk, final_attempt=True)
    assert last is not None and last.status == RunStatus.FAILED and "EndpointConnectionError" in last.error and last.report is None


def test_a_transient_failure_is_retried_after_a_doubling_delay_with_jitter(settings) -> None:  # type: ignore[no-untyped-def]
    from audits.runs import retry_delay

    settings.IAMWATCH_RETRY_BASE_SECONDS = 10
    for retries, centre in [(0, 10), (1, 20), (2, 40)]:
        delays = {retry_delay(retries) for _ in range(200)}
        assert all(0.8 * centre <= d <= 1.2 * centre for d in delays)
        assert len(delays) > 100 and max(delays) - min(delays) > 0.2 * centre  # spread, not one second for the fleet


def test_who_can_become_administrator_is_found_end_to_end_and_counted_apart_on_the_agenda(member: AwsAccount) -> None:
    """Against moto: a user allowed only iam:PutUserPolicy, one with AWS's IAMFullAccess (its document read with
    iam:GetPolicyVersion) and one with AdministratorAccess whose inline Deny of iam:* takes IAM away."""
    from tests.conftest import client_for, member_of

    iam = member_iam()
    iam.create_user(UserName="CDev")
    put_only = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PutUserPolicy", "Resource": "*"}]}
    iam.put_user_policy(UserName="CDev", PolicyName="self-service", PolicyDocument=json.dumps(put_only))
    iam.create_user(UserName="DOps")
    iam.attach_user_policy(UserName="DOps", PolicyArn="arn:aws:iam::aws:policy/IAMFullAccess")
    iam.create_user(UserName="EGuard")
    iam.attach_user_policy(UserName="EGuard", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    no_iam = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="EGuard", PolicyName="guard", PolicyDocument=json.dumps(no_iam))
    run = run_execute(run_id=run_request(account=member, requested_by="alice").pk)
    assert run is not None and run.status == RunStatus.SUCCEEDED, run.error if run else None

    found = dict(Finding.objects.filter(account=member, check_id="user.can_become_admin").values_list("principal", "detail"))
    assert found == {
        "CDev": "can become administrator: iam:PutUserPolicy allowed by inline self-service statement 1",
        "DOps": "can become administrator: iam:CreatePolicyVersion allowed by IAMFullAccess statement 1",
    }
    admins = set(Finding.objects.filter(account=member, check_id="user.direct_admin").values_list("principal", flat=True))
    assert admins == {"JSmith", "networkAdmin", "BJones"}  # EGuard is neither: AWS evaluates its two policies together

    client = client_for(member_of("viewer", "auditor"))
    row = next(a for g in client.get("/").context["groups"] for a in g["accounts"] if a["account_id"] == MEMBER)
    assert (row["iam_admins"], row["iam_can_become_admin"]) == (3, 2)
    table = list(csv.reader(io.StringIO(b"".join(client.get("/?format=csv").streaming_content).decode())))
    header, line = table[0], next(r for r in table[1:] if r[0] == MEMBER)
    assert (line[header.index("iam_admins")], line[header.index("iam_can_become_admin")]) == ("3", "2")
    listed = client.get(f"/findings/?account={MEMBER}&check=user.can_become_admin")
    assert listed.context["page"].paginator.count == 2
    section = next(items for title, _, items in client.get(f"/accounts/{MEMBER}/").context["sections"] if title == "Administrator rights")
    assert sorted((f.check_id, f.principal) for f in section if f.check_id == "user.can_become_admin") == [
        ("user.can_become_admin", "CDev"), ("user.can_become_admin", "DOps")
    ]


def test_a_role_that_may_not_read_aws_managed_policies_leaves_the_admin_checks_out(member: AwsAccount, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    import audits.fetch

    def refused(client: Any, arn: str) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetPolicy")

    member_iam().attach_user_policy(UserName="AWhite", PolicyArn="arn:aws:iam::aws:policy/IAMFullAccess")
    monkeypatch.setattr(audits.fetch, "read_managed_policy", refused)
    run = run_execute(run_id=run_request(account=member, requested_by="alice").pk)
    assert run is not None and run.status == RunStatus.PARTIAL
    assert any("user.can_become_admin" in w and "iam:GetPolicyVersion" in w for w in run.warnings), run.warnings
    assert not Finding.objects.filter(check_id__in=("user.direct_admin", "user.can_become_admin")).exists()


def test_a_run_that_succeeds_after_a_retry_keeps_no_error(member: AwsAccount, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 28 point 14: the first attempt is throttled, the retry succeeds; the run (and runs.csv) says no error."""
    from botocore.exceptions import ClientError

    import audits.runs
    from audits.runs import TransientRunError

    real = audits.runs.fetch_credential_report
    calls = []

    def throttled_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise FetchError("iam:GenerateCredentialReport: Throttling: Rate exceeded", transient=True) from ClientError(
                {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "GenerateCredentialReport"
            )
        return real(*args, **kwargs)

    monkeypatch.setattr(audits.runs, "fetch_credential_report", throttled_once)
    run = run_request(account=member, requested_by="alice")
    with pytest.raises(TransientRunError):
        run_execute(run_id=run.pk, final_attempt=False)
    run.refresh_from_db()
    assert run.error.startswith("retrying after: ")
    done = run_execute(run_id=run.pk, final_attempt=True)
    assert done is not None and done.status == RunStatus.SUCCEEDED and done.error == ""


def test_an_answer_that_is_not_aws_s_is_said_so_in_one_line() -> None:
    class HtmlAnswer:
        def generate_credential_report(self) -> dict[str, str]:
            raise KeyError("GenerateCredentialReportResult")  # what botocore's parser raises on a 200 HTML page

    with pytest.raises(FetchError) as caught:
        fetch_credential_report(HtmlAnswer(), max_wait=1)
    assert str(caught.value) == (
        "iam:GenerateCredentialReport: the answer was not AWS's (botocore could not read it: KeyError: "
        "'GenerateCredentialReportResult'); is a proxy or another service answering at the endpoint?"
    )
