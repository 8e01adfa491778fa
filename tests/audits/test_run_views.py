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


@pytest.mark.background_runs
@pytest.mark.django_db(transaction=True)
def test_in_eager_mode_a_page_answers_at_once_and_the_run_table_follows_the_run(aws: None, alice: User, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 28 point 11: the run goes to the web process's pool; the page answers while AWS is still being read, the
    run table shows it pending or running, then its result."""
    import threading
    import time

    import audits.background

    alice.user_permissions.add(*Permission.objects.filter(codename__in=["add_auditrun", "change_awsaccount"]))
    operator = Client()
    operator.force_login(alice)
    AwsAccount.objects.create(account_id="123456789012", name="home")
    release = threading.Event()
    real = audits.background.run_execute

    def slow_aws(**kwargs: object) -> object:
        assert release.wait(30), "never released"
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(audits.background, "run_execute", slow_aws)
    started = time.monotonic()
    response = operator.post("/accounts/123456789012/run", follow=True)
    assert time.monotonic() - started < 1 and response.status_code == 200
    run = AuditRun.objects.get()
    assert run.status == RunStatus.PENDING and f"Run {run.pk} for home is queued." in response.content.decode()
    assert 'hx-trigger="every 2s"' in operator.get("/accounts/123456789012/runs/").content.decode()
    release.set()
    deadline = time.monotonic() + 30
    while AuditRun.objects.get().status in (RunStatus.PENDING, RunStatus.RUNNING) and time.monotonic() < deadline:
        time.sleep(0.1)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert "hx-trigger" not in operator.get("/accounts/123456789012/runs/").content.decode()


@pytest.mark.background_runs
@pytest.mark.django_db(transaction=True)
def test_runs_the_pool_never_started_are_failed_when_the_process_stops(alice: User) -> None:
    """A gunicorn restart or Ctrl-C: the runs still waiting in the pool's queue end failed, not pending for ever."""
    from django.utils import timezone

    import audits.background

    account = AwsAccount.objects.create(account_id="123456789012", name="home")
    run = AuditRun.objects.create(account=account, source="fetch", requested_at=timezone.now())
    with audits.background._lock:
        audits.background._waiting.add(run.pk)  # handed to the pool, not started
    audits.background._stop()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error == "not run: the web process stopped before it could run it"
    audits.background._pool = None  # the next test's pool is a new one
