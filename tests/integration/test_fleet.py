"""A fleet audit end to end: a moto server with IAM enforced, Redis, real Celery worker processes, the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import AwsAccount
from audits.models import AuditRun, Finding, PrincipalState, RunStatus, StoredReport
from audits.runs import run_execute, run_request
from audits.tasks import fetch_account
from tests import servers
from tests.conftest import ROOT
from tests.fakeaws import Fleet, faulty_proxy, seed_fleet
from tests.integration.conftest import sending_to

ALLOWED, OTHER, DENIED = "111111111111", "222222222222", "333333333333"


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    servers.wait_for(condition, what, timeout=timeout, interval=0.2)


def finished() -> bool:
    return not AuditRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists()


@pytest.fixture
def fleet(moto_url: str) -> Fleet:
    return seed_fleet(moto_url, {ALLOWED: True, OTHER: True, DENIED: False})


def test_one_command_queues_a_fleet_run_and_a_real_worker_stores_two_runs_and_one_failure(
    fleet: Fleet, process_env: dict[str, str], broker: str, alice_client: Client
) -> None:
    fleet.register()
    env = {**process_env, **fleet.env()}
    with servers.celery_worker(env, concurrency=2):
        done = subprocess.run(
            [sys.executable, "manage.py", "run_audit", "--queue"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("queued 3 run(s)")
        wait_for(lambda: AuditRun.objects.count() == 3 and finished(), "three finished runs")

    runs = {r.account.account_id: r for r in AuditRun.objects.select_related("account")}
    for account_id in (ALLOWED, OTHER):
        assert runs[account_id].status == RunStatus.SUCCEEDED, runs[account_id].error
        assert runs[account_id].principal_count == 3
        assert Finding.objects.filter(
            account__account_id=account_id, check_id="user.shared_account", principal="networkAdmin"
        ).exists()
        # AdministratorAccess (an AWS managed policy) reached through the API-backed check.
        assert Finding.objects.filter(
            account__account_id=account_id, check_id="user.direct_admin", principal="networkAdmin"
        ).exists()
    failed = runs[DENIED]
    assert failed.status == RunStatus.FAILED
    assert failed.error.startswith("iam:GenerateCredentialReport: AccessDenied")
    assert "assumed-role/IAMWatchAudit" in failed.error
    assert not PrincipalState.objects.filter(account__account_id=DENIED).exists()

    overview = alice_client.get("/").content.decode()
    assert all(f"acct-{a[-3:]}" in overview for a in (ALLOWED, OTHER, DENIED))
    page = alice_client.get(f"/accounts/{DENIED}/").content.decode()
    assert "failed" in page and "AccessDenied" in page
    assert "succeeded" in alice_client.get(f"/accounts/{ALLOWED}/").content.decode()


def test_a_duplicate_delivery_never_stores_two_runs(fleet: Fleet, process_env: dict[str, str], broker: str) -> None:
    account = fleet.register()[0]
    run = run_request(account=account, requested_by="alice")
    fetch_account.apply_async(args=[run.pk])
    fetch_account.apply_async(args=[run.pk])  # the broker delivers the same work twice
    with servers.celery_worker({**process_env, **fleet.env()}, concurrency=2):
        wait_for(lambda: finished() and AuditRun.objects.get(pk=run.pk).status != RunStatus.PENDING, "the run")
        time.sleep(1)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.attempts == 1
    assert AuditRun.objects.count() == 1 and StoredReport.objects.count() == 1


def test_throttling_is_retried_then_the_run_succeeds(
    fleet: Fleet, transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = fleet.register()[0]
    with faulty_proxy(fleet.endpoint) as (faults, endpoint):
        for name, value in {**fleet.env(), "AWS_ENDPOINT_URL": endpoint}.items():
            monkeypatch.setenv(name, value)
        faults.throttle["GenerateCredentialReport"] = 2
        run = run_execute(run_id=run_request(account=account, requested_by="alice").pk)
    assert run is not None and run.status == RunStatus.SUCCEEDED, run.error if run else None
    assert faults.seen.count("GenerateCredentialReport") >= 3  # two throttled, then through


def test_persistent_throttling_is_a_transient_failure_that_celery_retries(
    fleet: Fleet, transactional_db: None, monkeypatch: pytest.MonkeyPatch, settings
) -> None:  # type: ignore[no-untyped-def]
    from audits.runs import TransientRunError

    settings.IAMWATCH_AWS_MAX_ATTEMPTS = 2  # botocore gives up sooner; the retry across tasks is what is tested
    account = fleet.register()[0]
    with faulty_proxy(fleet.endpoint) as (faults, endpoint):
        for name, value in {**fleet.env(), "AWS_ENDPOINT_URL": endpoint}.items():
            monkeypatch.setenv(name, value)
        faults.throttle["GenerateCredentialReport"] = 100
        run = run_request(account=account, requested_by="alice")
        with pytest.raises(TransientRunError, match="Throttling"):
            run_execute(run_id=run.pk, final_attempt=False)
        run.refresh_from_db()
        assert run.status == RunStatus.PENDING and "retrying after" in run.error
        last = run_execute(run_id=run.pk, final_attempt=True)
    assert last is not None and last.status == RunStatus.FAILED and "Throttling" in last.error


def test_a_persistent_fault_through_a_real_worker_fails_the_run_on_its_last_retry_never_leaves_it_pending(
    fleet: Fleet, process_env: dict[str, str], broker: str
) -> None:
    """Issue 30 point 14: the task's last retry (max_retries) is the run's final attempt, which ends it failed with
    the fault; one retry more and Celery would give up with the run still pending until the reaper, a day later."""
    account = fleet.register()[0]
    with faulty_proxy(fleet.endpoint) as (faults, endpoint):
        faults.throttle["GenerateCredentialReport"] = 1000  # every attempt, every retry
        env = {**process_env, **fleet.env(), "AWS_ENDPOINT_URL": endpoint, "IAMWATCH_AWS_MAX_ATTEMPTS": "1", "IAMWATCH_RETRY_BASE_SECONDS": "1"}
        run = run_request(account=account, requested_by="alice")
        fetch_account.apply_async(args=[run.pk])
        with servers.celery_worker(env):
            wait_for(lambda: AuditRun.objects.get(pk=run.pk).status == RunStatus.FAILED, "the run failed on its last retry", timeout=45)
    run.refresh_from_db()
    assert run.attempts == fetch_account.max_retries + 1 and "Throttling" in run.error and "retrying" not in run.error


def test_a_worker_killed_mid_run_leaves_nothing_partial_and_the_next_attempt_succeeds(
    fleet: Fleet, process_env: dict[str, str], broker: str
) -> None:
    account = fleet.register()[0]
    env = {
        **process_env,
        **fleet.env(),
        "IAMWATCH_RUN_TIME_LIMIT": "5",
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "CELERY_RESTORE_INTERVAL": "1",
    }
    with faulty_proxy(fleet.endpoint) as (faults, endpoint):
        faults.hold["GetCredentialReport"] = __import__("threading").Event()
        run = run_request(account=account, requested_by="alice")
        fetch_account.apply_async(args=[run.pk])
        with servers.celery_worker({**env, "AWS_ENDPOINT_URL": endpoint}) as worker:
            wait_for(faults.held.is_set, "the worker to be inside the run")
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        run.refresh_from_db()
        assert run.status == RunStatus.RUNNING
        assert (PrincipalState.objects.count(), Finding.objects.count(), StoredReport.objects.count()) == (0, 0, 0)
        faults.hold.clear()

        # The unacknowledged message comes back; once the dead attempt is stale, a new worker claims and finishes it.
        with servers.celery_worker({**env, "AWS_ENDPOINT_URL": endpoint}, name="w2"):
            wait_for(lambda: AuditRun.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED, "the retried run", timeout=90)
    run.refresh_from_db()
    assert run.attempts == 2 and run.principal_count == 3
    assert StoredReport.objects.count() == 1


def test_with_redis_down_the_dashboard_works_and_says_runs_cannot_be_queued(
    fleet: Fleet, transactional_db: None, alice_client: Client
) -> None:
    from django.contrib.auth.models import Permission

    account = fleet.register()[0]
    alice = alice_client.get("/").wsgi_request.user
    alice.user_permissions.add(Permission.objects.get(codename="add_auditrun"))  # type: ignore[union-attr]
    with sending_to(f"redis://127.0.0.1:{servers.free_port()}/0"):  # nothing listens there
        started = time.monotonic()
        response = alice_client.post(f"/accounts/{account.account_id}/run", follow=True)
        assert time.monotonic() - started < 15
    assert response.status_code == 200
    assert "runs cannot be queued right now" in response.content.decode()
    run = AuditRun.objects.get()
    assert run.status == RunStatus.FAILED and "could not be queued" in run.error
    assert alice_client.get("/").status_code == 200
    # "Run all": every run it could not queue is failed "could not be queued", none left pending (issue 28 point 13).
    with sending_to(f"redis://127.0.0.1:{servers.free_port()}/0"):
        everything = alice_client.post("/run-all", follow=True).content.decode()
    others = AuditRun.objects.exclude(pk=run.pk)
    assert others.count() == AwsAccount.objects.filter(is_active=True).count() > 1, everything
    assert {(r.status, r.error) for r in others} == {
        (RunStatus.FAILED, "could not be queued: the task broker (Redis) is unreachable")
    }


def test_run_audit_fetches_synchronously_from_the_endpoint_in_aws_endpoint_url(
    fleet: Fleet, transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from django.core.management import CommandError, call_command

    fleet.register()
    for name, value in fleet.env().items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    call_command("run_audit", ALLOWED, stdout=out)
    assert "succeeded, 3 principals" in out.getvalue()
    with pytest.raises(CommandError, match="1 of 1 account"):
        call_command("run_audit", DENIED, stdout=io.StringIO(), stderr=io.StringIO())
    assert AuditRun.objects.get(account__account_id=DENIED).error.startswith("iam:GenerateCredentialReport: AccessDenied")


# A 500 page is AWS-shaped enough for botocore (code "500"); a 200 HTML page breaks its parser (a KeyError deep in
# botocore), said as an answer that is not AWS's: either way that account's run fails with what happened, and the
# others are stored.
@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, "iam:GetCredentialReport: 500: Internal Server Error"),
        (200, "iam:GetCredentialReport: the answer was not AWS's (botocore could not read it: KeyError"),
    ],
)
def test_an_unparseable_answer_fails_that_account_alone_and_the_command_goes_on(
    moto_url: str, transactional_db: None, monkeypatch: pytest.MonkeyPatch, status: int, error: str
) -> None:
    """An HTML page from the endpoint (a proxy's error page) for the second account: the first and third are stored."""
    import io

    from django.core.management import CommandError, call_command

    from audits.models import PrincipalState

    fleet = seed_fleet(moto_url, {"555555555555": True, "666666666666": True, "777777777777": True})
    fleet.register()
    with faulty_proxy(fleet.endpoint) as (faults, endpoint):
        for name, value in {**fleet.env(), "AWS_ENDPOINT_URL": endpoint}.items():
            monkeypatch.setenv(name, value)
        faults.garble_after["GetCredentialReport"] = 1  # the first account's goes through, then the second's breaks
        faults.garble_status = status
        out, err = io.StringIO(), io.StringIO()
        with pytest.raises(CommandError, match="1 of 3 account"):
            call_command("run_audit", stdout=out, stderr=err)
    runs = {run.account.account_id: run for run in AuditRun.objects.select_related("account")}
    assert {a: r.status for a, r in runs.items()} == {
        "555555555555": RunStatus.SUCCEEDED, "666666666666": RunStatus.FAILED, "777777777777": RunStatus.SUCCEEDED,
    }  # fmt: skip
    failed = runs["666666666666"]
    assert error in failed.error and failed.report is None
    assert err.getvalue().strip() == f"acct-666 (666666666666): run {failed.pk} failed: {failed.error}"
    assert not PrincipalState.objects.filter(account__account_id="666666666666").exists()  # no half-run


def test_a_throttled_assume_role_is_retried_and_counts_as_transient(
    fleet: Fleet, transactional_db: None, monkeypatch: pytest.MonkeyPatch, settings
) -> None:  # type: ignore[no-untyped-def]
    from audits.runs import TransientRunError

    account = fleet.register()[0]
    with faulty_proxy(fleet.endpoint) as (faults, endpoint):
        for name, value in {**fleet.env(), "AWS_ENDPOINT_URL": endpoint}.items():
            monkeypatch.setenv(name, value)
        faults.throttle["AssumeRole"] = 2  # botocore's own retries get through
        run = run_execute(run_id=run_request(account=account, requested_by="alice").pk)
        assert run is not None and run.status == RunStatus.SUCCEEDED and faults.seen.count("AssumeRole") == 3
        settings.IAMWATCH_AWS_MAX_ATTEMPTS = 2
        faults.throttle["AssumeRole"] = 100  # past botocore's attempts: the run is retried later, not failed
        again = run_request(account=account, requested_by="alice")
        with pytest.raises(TransientRunError, match=r"sts:AssumeRole .*Throttling"):
            run_execute(run_id=again.pk, final_attempt=False)
    again.refresh_from_db()
    assert again.status == RunStatus.PENDING and "retrying after" in again.error


def test_in_eager_mode_a_persistent_fault_ends_the_run_failed_never_pending(
    fleet: Fleet, transactional_db: None, monkeypatch: pytest.MonkeyPatch, settings
) -> None:  # type: ignore[no-untyped-def]
    """`make run` runs tasks in the web process: "Run now" under throttling answers, and the run says why."""
    import io

    from django.core.management import CommandError, call_command

    settings.IAMWATCH_AWS_MAX_ATTEMPTS = 2
    fleet.register()
    with faulty_proxy(fleet.endpoint) as (faults, endpoint):
        for name, value in {**fleet.env(), "AWS_ENDPOINT_URL": endpoint}.items():
            monkeypatch.setenv(name, value)
        faults.throttle["GenerateCredentialReport"] = 1000
        err = io.StringIO()
        with pytest.raises(CommandError, match=r"could not|failed"):  # one line, no Retry traceback
            call_command("run_audit", ALLOWED, "--queue", stdout=io.StringIO(), stderr=err)
    run = AuditRun.objects.get(account__account_id=ALLOWED)
    assert run.status == RunStatus.FAILED and "Throttling" in run.error


def test_sigterm_to_run_audit_marks_its_run_failed_interrupted_at_once(
    fleet: Fleet, transactional_db: None, process_env: dict[str, str]
) -> None:
    import signal
    import time

    fleet.register()
    with faulty_proxy(fleet.endpoint) as (faults, endpoint):
        faults.hold["GenerateCredentialReport"] = threading.Event()  # the run waits inside AWS
        command = subprocess.Popen(
            [sys.executable, "manage.py", "run_audit", ALLOWED],
            cwd=ROOT, env={**process_env, **fleet.env(), "AWS_ENDPOINT_URL": endpoint},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert faults.held.wait(timeout=60)
        command.send_signal(signal.SIGTERM)
        started = time.monotonic()
        _, stderr = command.communicate(timeout=60)
        faults.hold["GenerateCredentialReport"].set()
    assert command.returncode != 0 and "interrupted by SIGTERM" in stderr and "Traceback" not in stderr
    assert time.monotonic() - started < 30
    run = AuditRun.objects.get(account__account_id=ALLOWED)
    assert run.status == RunStatus.FAILED and run.error.startswith("interrupted") and run.report is None
    # A re-run is not told that "a worker is running" a dead run: it runs.
    assert run.pk not in AuditRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).values_list("pk", flat=True)


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_a_stop_signal_to_an_eager_queue_leaves_no_run_pending_or_running(
    fleet: Fleet, transactional_db: None, process_env: dict[str, str], signame: str
) -> None:
    """Issue 28 point 12: `run_audit --queue` in eager mode runs the runs here; stopped during the first, it fails
    that one and every one not run yet, says so in one line (no traceback) and exits non-zero."""
    import signal
    import time

    accounts = fleet.register()
    with faulty_proxy(fleet.endpoint) as (faults, endpoint):
        faults.hold["GenerateCredentialReport"] = threading.Event()  # the first run waits inside AWS
        command = subprocess.Popen(
            [sys.executable, "manage.py", "run_audit", "--queue"],
            cwd=ROOT, env={**process_env, **fleet.env(), "AWS_ENDPOINT_URL": endpoint, "CELERY_TASK_ALWAYS_EAGER": "true"},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert faults.held.wait(timeout=60)
        command.send_signal(getattr(signal, signame))
        started = time.monotonic()
        _, stderr = command.communicate(timeout=60)
        faults.hold["GenerateCredentialReport"].set()
    assert command.returncode != 0 and "Traceback" not in stderr, stderr
    assert (
        stderr.strip()
        .splitlines()[-1]
        .endswith(f"interrupted by {signame}: {len(accounts) - 1} run(s) not run or not finished, marked failed")
    )
    assert time.monotonic() - started < 30
    assert AuditRun.objects.count() == len(accounts)
    assert not AuditRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists()
    assert all(r.error.startswith("interrupted") for r in AuditRun.objects.all())


def test_a_role_with_the_report_permissions_alone_gives_a_partial_run_not_a_lost_report(
    moto_url: str, transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet = seed_fleet(moto_url, {"888888888888": "report"})
    account = fleet.register()[0]
    for name, value in fleet.env().items():
        monkeypatch.setenv(name, value)
    run = run_execute(run_id=run_request(account=account, requested_by="alice").pk)
    assert run is not None and run.status == RunStatus.PARTIAL and run.report is not None, run.error if run else None
    assert run.principal_count == 3 and PrincipalState.objects.filter(account=account).count() == 3
    denied = next(w for w in run.warnings if w.startswith("the role may not make some read-only calls"))
    assert "account.password_policy_weak needs iam:GetAccountPasswordPolicy" in denied
    assert "user.direct_admin needs iam:GetAccountAuthorizationDetails" in denied
    not_run = next(w for w in run.warnings if w.startswith("not evaluated in this run"))
    assert "user.direct_admin" in not_run and "account.password_policy_weak" in not_run
    checks = set(Finding.objects.filter(account=account).values_list("check_id", flat=True))
    assert "user.console_without_mfa" in checks and not checks & {"user.direct_admin", "account.password_policy_weak"}


@pytest.mark.parametrize("hold_seconds", [1, None], ids=["finishes-within-the-grace", "interrupted-after-the-grace"])
def test_sigterm_to_a_worker_lets_a_run_finish_for_the_grace_then_marks_it_failed_interrupted(
    fleet: Fleet, process_env: dict[str, str], broker: str, hold_seconds: float | None
) -> None:
    """`docker stop`, systemd, Ctrl-C: a warm shutdown waits IAMWATCH_WORKER_SHUTDOWN_GRACE seconds, no longer."""
    allowed, other, _ = fleet.register()
    env = {**process_env, **fleet.env(), "IAMWATCH_WORKER_SHUTDOWN_GRACE": "3"}
    with faulty_proxy(fleet.endpoint) as (faults, endpoint):
        release = threading.Event()
        faults.hold["GetCredentialReport"] = release  # the run waits inside AWS
        held = run_request(account=allowed, requested_by="alice")
        queued = run_request(account=other, requested_by="alice")  # waits in the queue behind it (one slot)
        with servers.celery_worker({**env, "AWS_ENDPOINT_URL": endpoint}) as worker:
            fetch_account.apply_async(args=[held.pk])
            wait_for(faults.held.is_set, "the worker to be inside the run")
            fetch_account.apply_async(args=[queued.pk])
            if hold_seconds is not None:
                threading.Timer(hold_seconds, release.set).start()
            os.kill(worker.pid, signal.SIGTERM)  # to the worker (the main process) only, as `docker stop` does
            started = time.monotonic()
            worker.wait(timeout=60)
            stopped_in = time.monotonic() - started
        release.set()
        held.refresh_from_db()
        assert (PrincipalState.objects.filter(account=other).count(), AuditRun.objects.get(pk=queued.pk).status) == (
            0,
            RunStatus.PENDING,
        )  # the queued run was not started; its message went back to the queue
        if hold_seconds is None:
            assert 3 <= stopped_in < 30
            assert held.status == RunStatus.FAILED, held.error
            assert held.error == "interrupted (Interrupted: SIGTERM to the worker process); nothing stored"
            assert not PrincipalState.objects.filter(account=allowed).exists() and held.report is None  # no half-run
        else:
            assert held.status == RunStatus.SUCCEEDED, held.error
            assert PrincipalState.objects.filter(account=allowed).count() == 3
        # The next worker runs the rest of the fleet; the interrupted run's message comes back and changes nothing.
        faults.hold.clear()
        with servers.celery_worker({**env, "AWS_ENDPOINT_URL": endpoint}, name="w2"):
            wait_for(lambda: AuditRun.objects.get(pk=queued.pk).status == RunStatus.SUCCEEDED, "the queued run")
    final = AuditRun.objects.get(pk=held.pk)
    assert (final.status, final.error, final.attempts) == (held.status, held.error, 1)


def test_moto_killed_mid_run_then_restarted_the_runs_retry_and_succeed(process_env: dict[str, str], broker: str) -> None:
    """The AWS endpoint dies under two runs: each goes back to pending with the connection error, nothing
    half-stored; once the endpoint is back, the worker's retry stores both."""
    port = servers.free_port()
    accounts = {"121212121212": True, "343434343434": True}
    env = {
        **process_env,
        "IAMWATCH_REPORT_FIRST_POLL": "3",  # the runs wait between generating the report and fetching it
        "IAMWATCH_AWS_MAX_ATTEMPTS": "2",
        "IAMWATCH_RETRY_BASE_SECONDS": "4",
    }
    moto = servers.moto_server(load_managed_policies=False, port=port)
    endpoint = moto.__enter__()
    try:
        fleet = seed_fleet(endpoint, accounts, admin_policy=False, enforce_auth=False)
        runs = [run_request(account=a, requested_by="alice") for a in fleet.register()]
        with servers.celery_worker({**env, **fleet.env()}, concurrency=2):
            for run in runs:
                fetch_account.apply_async(args=[run.pk])
            wait_for(lambda: AuditRun.objects.filter(status=RunStatus.RUNNING).count() == 2, "both runs under way")
            moto.__exit__(None, None, None)  # the endpoint goes away mid-run
            moto = None
            wait_for(
                lambda: AuditRun.objects.filter(status=RunStatus.PENDING, error__startswith="retrying after").count() == 2,
                "both runs back to pending with the error",
            )
            errors = set(AuditRun.objects.values_list("error", flat=True))
            assert all("Could not connect to the endpoint URL" in e or "Connection" in e for e in errors), errors
            assert not PrincipalState.objects.exists() and not StoredReport.objects.exists()  # nothing half-stored
            moto = servers.moto_server(load_managed_policies=False, port=port)
            seed_fleet(moto.__enter__(), accounts, admin_policy=False, enforce_auth=False)
            wait_for(lambda: AuditRun.objects.filter(status=RunStatus.SUCCEEDED).count() == 2, "both runs stored", timeout=90)
    finally:
        if moto is not None:
            moto.__exit__(None, None, None)
    assert sorted(AuditRun.objects.values_list("attempts", flat=True)) == [2, 2]
    assert PrincipalState.objects.count() == 6 and StoredReport.objects.count() == 2


def test_a_redis_outage_under_a_worker_lets_the_runs_in_flight_finish(
    fleet: Fleet, process_env: dict[str, str], transactional_db: None
) -> None:
    """Issue 28 point 13: Redis goes away while a worker is inside a run (held in AWS) and comes back; the run finishes
    and is stored once, never "interrupted", and its redelivered message finds it done."""
    account = fleet.register()[0]
    port = servers.free_port()
    url = f"redis://127.0.0.1:{port}/0"
    env = {**process_env, **fleet.env(), "CELERY_BROKER_URL": url}
    with faulty_proxy(fleet.endpoint) as (faults, endpoint):
        faults.hold["GetCredentialReport"] = threading.Event()
        run = run_request(account=account, requested_by="alice")
        first = servers.redis(port)
        first.__enter__()
        try:
            with servers.celery_worker({**env, "AWS_ENDPOINT_URL": endpoint}):
                with sending_to(url):
                    fetch_account.apply_async(args=[run.pk])
                wait_for(faults.held.is_set, "the worker to be inside the run")
                first.__exit__(None, None, None)  # Redis goes down, the run still inside AWS
                first = None
                faults.hold["GetCredentialReport"].set()
                wait_for(
                    lambda: AuditRun.objects.get(pk=run.pk).status not in (RunStatus.PENDING, RunStatus.RUNNING),
                    "the run to end",
                    timeout=60,
                )
                with servers.redis(port):  # back: the worker reconnects; the unacknowledged message finds the run done
                    time.sleep(3)
        finally:
            if first is not None:
                first.__exit__(None, None, None)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.attempts == 1 and StoredReport.objects.count() == 1 and AuditRun.objects.count() == 1
