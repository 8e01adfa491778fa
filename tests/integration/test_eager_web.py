"""In eager mode (`make run`, a small install without Redis) the pages hand runs to the web process's own pool: through
gunicorn with its real timeout, "Run all" answers while AWS still holds every run, and every run then ends.

(The time "Run all" takes to answer over 100 accounts behind 150 ms is a figure of `make bench`, not a timed test.)"""

from __future__ import annotations

import threading
import time

from audits.models import AuditRun, RunStatus
from tests import servers, webapp
from tests.fakeaws import faulty_proxy, seed_fleet

ACCOUNTS = [f"{510000000000 + n}" for n in range(20)]
PASSWORD = "correct horse battery"


def test_run_all_answers_while_aws_holds_every_run_and_every_run_then_ends(
    transactional_db: None, process_env: dict[str, str]
) -> None:
    with servers.moto_server(load_managed_policies=False) as moto_url:  # its own: 20 accounts would slow the shared one's resets
        _run_all_through_gunicorn(moto_url, process_env)


def _run_all_through_gunicorn(moto_url: str, process_env: dict[str, str]) -> None:
    fleet = seed_fleet(moto_url, dict.fromkeys(ACCOUNTS, True), users=1, admin_policy=False)
    fleet.register()
    webapp.runner("alice", PASSWORD)
    with faulty_proxy(fleet.endpoint) as (faults, endpoint):
        faults.latency = 0.150  # every AWS call waits 150 ms
        faults.hold["GenerateCredentialReport"] = threading.Event()  # and no run gets past its report until released
        env = {
            **process_env, **fleet.env(), "AWS_ENDPOINT_URL": endpoint, "CELERY_TASK_ALWAYS_EAGER": "true",
            "IAMWATCH_REQUIRE_2FA": "false", "SECRET_KEY": "eager-web-test-" + "x" * 40, "IAMWATCH_EAGER_THREADS": "8",
        }  # fmt: skip
        # gunicorn's timeout mechanism, shortened from 30 s to 5 s to keep the test short
        with webapp.gunicorn(env, timeout=5, stderr=True) as (base, web):
            try:
                browser = webapp.signed_in(base, "alice", PASSWORD)
                token = browser.cookies["csrftoken"]  # rotated at login: the new one
                answer = browser.post(f"{base}/run-all", data={"csrfmiddlewaretoken": token}, allow_redirects=False, timeout=30)
                assert answer.status_code == 302  # answered while AWS holds every run: the request waited on none
                assert AuditRun.objects.count() == len(ACCOUNTS)
                assert AuditRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).count() == len(ACCOUNTS)
                assert "queued" in browser.get(f"{base}/", timeout=30).text  # the overview answers meanwhile too
                time.sleep(7)  # past gunicorn's timeout, with every run still held: the worker is not killed
                assert web.poll() is None and "WORKER TIMEOUT" not in webapp.stderr_so_far(web)
                faults.hold["GenerateCredentialReport"].set()

                def all_final() -> bool:
                    return not AuditRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists()

                servers.wait_for(all_final, "every run to end", timeout=300, interval=1)
                statuses = dict(AuditRun.objects.values_list("account__account_id", "status"))
                assert set(statuses.values()) == {RunStatus.SUCCEEDED}, {
                    s: e for s, e in AuditRun.objects.values_list("status", "error")
                }
                assert web.poll() is None, "the web worker died"
                assert "WORKER TIMEOUT" not in webapp.stderr_so_far(web)
            finally:
                faults.hold["GenerateCredentialReport"].set()  # a run under way finishes before the process ends
