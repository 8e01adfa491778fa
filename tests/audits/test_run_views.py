"""Run now, run all, progress polling and the connection test, as pages (AWS faked with moto)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from accounts.models import AwsAccount
from audits.models import AuditRun, RunStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(alice: User, alice_client: Client) -> Client:
    """Alice, allowed to run audits and test connections."""
    alice.user_permissions.add(*Permission.objects.filter(codename__in=["add_auditrun", "change_awsaccount"]))
    return alice_client


@pytest.fixture
def home(db: None) -> AwsAccount:
    """The account IAMWatch runs in: read through the default credential chain."""
    return AwsAccount.objects.create(account_id="123456789012", name="home")


def test_a_user_without_the_permission_cannot_run_or_test(home: AwsAccount, alice_client: Client) -> None:
    assert alice_client.post("/accounts/123456789012/run").status_code == 403
    assert alice_client.post("/run-all").status_code == 403
    assert alice_client.post("/accounts/123456789012/test-connection").status_code == 403
    assert not AuditRun.objects.exists()


def test_get_is_not_allowed_on_actions(home: AwsAccount, operator: Client) -> None:
    assert operator.get("/accounts/123456789012/run").status_code == 405
    assert operator.get("/run-all").status_code == 405


def test_run_now_queues_and_in_the_embedded_mode_runs_at_once(aws: None, home: AwsAccount, operator: Client) -> None:
    response = operator.post("/accounts/123456789012/run", follow=True)
    run = AuditRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED and run.requested_by == "alice"
    assert f"Run {run.pk} for home is queued." in response.content.decode()


def test_run_all_queues_one_run_per_active_account(aws: None, home: AwsAccount, operator: Client) -> None:
    AwsAccount.objects.create(account_id="999988887777", name="retired", is_active=False)
    operator.post("/run-all")
    assert list(AuditRun.objects.values_list("account__name", flat=True)) == ["home"]


def test_the_run_table_polls_only_while_a_run_is_active(home: AwsAccount, alice_client: Client) -> None:
    from django.utils import timezone

    run = AuditRun.objects.create(account=home, source="fetch", requested_at=timezone.now())
    assert 'hx-trigger="every 2s"' in alice_client.get("/accounts/123456789012/runs/").content.decode()
    AuditRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error="iam:GenerateCredentialReport: AccessDenied: no")
    body = alice_client.get("/accounts/123456789012/runs/").content.decode()
    assert "hx-trigger" not in body and "AccessDenied" in body


def test_the_connection_test_names_the_refused_call(home: AwsAccount, operator: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    home.role_arn = "arn:aws:iam::123456789012:role/IAMWatchAudit"
    home.save()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    body = operator.post("/accounts/123456789012/test-connection").content.decode()
    assert "sts:AssumeRole" in body and "refused" in body and "NoCredentialsError" in body


def test_the_connection_test_passes_in_a_reachable_account(aws: None, home: AwsAccount, operator: Client) -> None:
    body = operator.post("/accounts/123456789012/test-connection").content.decode()
    assert "Every call IAMWatch needs is allowed." in body


def test_without_any_credentials_the_connection_test_says_so_once_instead_of_allowed_then_refused(
    home: AwsAccount, operator: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    response = operator.post("/accounts/123456789012/test-connection")
    steps = response.context["steps"]
    assert [(s.call, s.ok) for s in steps] == [("credentials", False)]
    assert steps[0].detail.startswith("no AWS credentials: give the account a role ARN")
    assert "allowed" not in response.content.decode().split("<tbody>")[1]


def test_the_connection_test_names_who_the_default_chain_acts_as(aws: None, home: AwsAccount, operator: Client) -> None:
    steps = operator.post("/accounts/123456789012/test-connection").context["steps"]
    assert steps[0].call == "credentials" and steps[0].ok and "acting as arn:aws:" in steps[0].detail
