"""In eager mode (`make run`, a small install without Redis) the pages hand runs to the web process's own pool: through
gunicorn with its real timeout, "Run all" answers while AWS still holds every run, and every run then ends.

(The time "Run all" takes to answer over 100 accounts behind 150 ms is a figure of `make bench`, not a timed test.)"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from django.contrib.auth.models import Group, Permission, User

from accounts.services import account_create
from audits.models import AuditRun, RunStatus
from tests import servers
from tests.conftest import ROOT
from tests.fakeaws import faulty_proxy, seed_fleet

ACCOUNTS = [f"{510000000000 + n}" for n in range(20)]
PASSWORD = "correct horse battery"


def test_run_all_answers_while_aws_holds_every_run_and_every_run_then_ends(transactional_db: None, process_env: dict[str, str]) -> None:
    with servers.moto_server(load_managed_policies=False) as moto_url:  # its own: 20 accounts would slow the shared one's resets
        _run_all_through_gunicorn(moto_url, process_env)


def _run_all_through_gunicorn(moto_url: str, process_env: dict[str, str]) -> None:
    fleet = seed_fleet(moto_url, dict.fromkeys(ACCOUNTS, True), users=1, admin_policy=False)
    for a in ACCOUNTS:
        account_create(account_id=a, name=f"acct-{a[-3:]}", role_arn=fleet.role_arn(a), external_id="iamwatch-ext", naming_preset="initial_lastname")
    alice = User.objects.create_user("alice", password=PASSWORD)
    alice.user_permissions.add(Permission.objects.get(codename="add_auditrun"))
    alice.groups.add(Group.objects.get(name="viewer"))
    port = servers.free_port()
    base = f"http://127.0.0.1:{port}"
    with faulty_proxy(fleet.endpoint) as (faults, endpoint):
        faults.latency = 0.150  # every AWS call waits 150 ms
        faults.hold["GenerateCredentialReport"] = threading.Event()  # and no run gets past its report until released
        env = {
            **process_env, **fleet.env(), "AWS_ENDPOINT_URL": endpoint, "CELERY_TASK_ALWAYS_EAGER": "true",
            "IAMWATCH_REQUIRE_2FA": "false", "SECRET_KEY": "eager-web-test-" + "x" * 40, "IAMWATCH_EAGER_THREADS": "8",
        }  # fmt: skip
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        web = subprocess.Popen(  # gunicorn's timeout mechanism, shortened from 30 s to 5 s to keep the test short
            [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "5", "iamwatch.wsgi"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            servers.wait_for(lambda: _answers(base), "gunicorn", timeout=60, interval=0.2)
            browser = requests.Session()
            browser.get(f"{base}/login/", timeout=10)
            login = {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]}
            assert browser.post(f"{base}/login/", data=login, allow_redirects=False, timeout=10).status_code == 302
            token = browser.cookies["csrftoken"]  # rotated at login: the new one
            answer = browser.post(f"{base}/run-all", data={"csrfmiddlewaretoken": token}, allow_redirects=False, timeout=30)
            assert answer.status_code == 302  # answered while AWS holds every run: the request waited on none
            assert AuditRun.objects.count() == len(ACCOUNTS)
            assert AuditRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).count() == len(ACCOUNTS)
            assert "queued" in browser.get(f"{base}/", timeout=30).text  # the overview answers meanwhile too
            time.sleep(7)  # past gunicorn's timeout, with every run still held: the worker is not killed
            assert web.poll() is None and "WORKER TIMEOUT" not in _stderr_so_far(web)
            faults.hold["GenerateCredentialReport"].set()

            def all_final() -> bool:
                return not AuditRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists()

            servers.wait_for(all_final, "every run to end", timeout=300, interval=1)
            statuses = dict(AuditRun.objects.values_list("account__account_id", "status"))
            assert set(statuses.values()) == {RunStatus.SUCCEEDED}, {s: e for s, e in AuditRun.objects.values_list("status", "error")}
            assert web.poll() is None, "the web worker died"
            assert "WORKER TIMEOUT" not in _stderr_so_far(web)
        finally:
            faults.hold["GenerateCredentialReport"].set()  # a run under way finishes before the process ends
            web.terminate()
            try:
                web.wait(timeout=60)
            except subprocess.TimeoutExpired:
                web.kill()
                raise


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/login/", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def _stderr_so_far(process: subprocess.Popen[str]) -> str:
    import os

    assert process.stderr is not None
    os.set_blocking(process.stderr.fileno(), False)
    return process.stderr.read() or ""
