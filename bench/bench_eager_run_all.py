"""Benchmark: "Run all" in eager mode (`make run`: no broker, SQLite), through gunicorn, over BENCH_ACCOUNTS (default
100) accounts behind a latency proxy (every AWS call waits BENCH_LATENCY_MS, default 150 ms).

The page hands the runs to the web process's pool (audits.background, IAMWATCH_EAGER_THREADS) and answers; prints how
long the POST took to answer (target: under 1 s, issue 28 point 11), how long until every run ended, and how the runs
ended (target: every one succeeded, none left pending or running).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "100"))
LATENCY_MS = int(os.environ.get("BENCH_LATENCY_MS", "150"))
THREADS = os.environ.get("IAMWATCH_EAGER_THREADS", "8")
ANSWER_TARGET_S = 1.0
LOGIN = "bench-" + os.urandom(8).hex()  # a throwaway login of a throwaway database


def main() -> None:
    import requests

    from tests import servers
    from tests.fakeaws import faulty_proxy, seed_fleet

    database = Path(tempfile.mkdtemp(prefix="iamwatch-bench-")) / "bench.sqlite3"
    os.environ.update({"DATABASE_URL": f"sqlite:///{database}", "CELERY_TASK_ALWAYS_EAGER": "true", "DJANGO_SETTINGS_MODULE": "iamwatch.settings"})
    import django

    django.setup()
    from django.contrib.auth.models import Group, Permission, User
    from django.core.management import call_command

    from accounts.services import account_create
    from audits.models import AuditRun, RunStatus

    call_command("migrate", verbosity=0)
    ids = [f"{520000000000 + n}" for n in range(ACCOUNTS)]
    with servers.moto_server(load_managed_policies=False) as moto_url:
        started = time.perf_counter()
        fleet = seed_fleet(moto_url, dict.fromkeys(ids, True), users=2, admin_policy=False)
        for a in ids:
            account_create(account_id=a, name=f"acct-{a[-3:]}", role_arn=fleet.role_arn(a), external_id="iamwatch-ext", naming_preset="initial_lastname")
        alice = User.objects.create_user("alice", password=LOGIN)
        alice.user_permissions.add(Permission.objects.get(codename="add_auditrun"))
        alice.groups.add(Group.objects.get(name="viewer"))
        print(f"seeded {ACCOUNTS} accounts on moto and registered them in {time.perf_counter() - started:.0f} s")
        with faulty_proxy(moto_url) as (proxy, endpoint):
            proxy.latency = LATENCY_MS / 1000
            port = servers.free_port()
            env = {
                **os.environ, **fleet.env(), "AWS_ENDPOINT_URL": endpoint, "IAMWATCH_REQUIRE_2FA": "false",
                "SECRET_KEY": "bench-" + "x" * 50, "IAMWATCH_EAGER_THREADS": THREADS, "IAMWATCH_CLOUDTRAIL_LOOKUP": "false",
                "IAMWATCH_REPORT_FIRST_POLL": "0.05",
            }  # fmt: skip
            web = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1", "iamwatch.wsgi"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                base = f"http://127.0.0.1:{port}"
                servers.wait_for(lambda: _answers(base), "gunicorn", timeout=60, interval=0.2)
                browser = requests.Session()
                browser.get(f"{base}/login/", timeout=10)
                login = {"username": "alice", "password": LOGIN, "csrfmiddlewaretoken": browser.cookies["csrftoken"]}
                browser.post(f"{base}/login/", data=login, allow_redirects=False, timeout=10)
                clicked = time.perf_counter()
                answer = browser.post(f"{base}/run-all", data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]}, allow_redirects=False, timeout=60)
                answered = time.perf_counter() - clicked
                servers.wait_for(
                    lambda: not AuditRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists(),
                    "every run to end", timeout=900, interval=0.5,
                )  # fmt: skip
                ended = time.perf_counter() - clicked
            finally:
                web.terminate()
                web.wait(timeout=60)
    statuses = {s: AuditRun.objects.filter(status=s).count() for s in AuditRun.objects.values_list("status", flat=True).distinct()}
    print(f"latency proxy: every AWS call waits {LATENCY_MS} ms; gunicorn, 1 worker, {THREADS} run threads, SQLite")
    flag = "" if answered < ANSWER_TARGET_S and answer.status_code == 302 else "   <-- PAST TARGET"
    print(f"Run all over {ACCOUNTS} accounts answered (HTTP {answer.status_code}) in {answered * 1000:.0f} ms (target < {ANSWER_TARGET_S * 1000:.0f} ms){flag}")
    every = "" if statuses == {RunStatus.SUCCEEDED: ACCOUNTS} else "   <-- NOT EVERY RUN SUCCEEDED"
    print(f"every run ended after {ended:.0f} s: {statuses} (target: all {ACCOUNTS} succeeded){every}")


def _answers(base: str) -> bool:
    import requests

    try:
        return requests.get(f"{base}/login/", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


if __name__ == "__main__":
    main()
