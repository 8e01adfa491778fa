"""Benchmark: "Run all" in eager mode (`make run`: no broker, SQLite), through gunicorn, over BENCH_ACCOUNTS (default
100) accounts behind a latency proxy (every AWS call waits BENCH_LATENCY_MS, default 150 ms).

The page hands the runs to the web process's pool (audits.background, IAMWATCH_EAGER_THREADS) and answers; prints how
long the POST took to answer (target: under 1 s, issue 28 point 11), how long until every run ended, and how the runs
ended (target: every one succeeded, none left pending or running).
"""

from __future__ import annotations

import os
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
    from tests import servers
    from tests.fakeaws import faulty_proxy, seed_fleet
    from tests.webapp import gunicorn, runner, signed_in

    database = Path(tempfile.mkdtemp(prefix="iamwatch-bench-")) / "bench.sqlite3"
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "DJANGO_SETTINGS_MODULE": "iamwatch.settings",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    from audits.models import AuditRun, RunStatus

    call_command("migrate", verbosity=0)
    ids = [f"{520000000000 + n}" for n in range(ACCOUNTS)]
    with servers.moto_server(load_managed_policies=False) as moto_url:
        started = time.perf_counter()
        fleet = seed_fleet(moto_url, dict.fromkeys(ids, True), users=2, admin_policy=False)
        fleet.register()
        runner("alice", LOGIN)
        print(f"seeded {ACCOUNTS} accounts on moto and registered them in {time.perf_counter() - started:.0f} s")
        with faulty_proxy(moto_url) as (proxy, endpoint):
            proxy.latency = LATENCY_MS / 1000
            env = {
                **os.environ, **fleet.env(), "AWS_ENDPOINT_URL": endpoint, "IAMWATCH_REQUIRE_2FA": "false",
                "SECRET_KEY": "bench-" + "x" * 50, "IAMWATCH_EAGER_THREADS": THREADS, "IAMWATCH_CLOUDTRAIL_LOOKUP": "false",
                "IAMWATCH_REPORT_FIRST_POLL": "0.05",
            }  # fmt: skip
            with gunicorn(env) as (base, _):
                browser = signed_in(base, "alice", LOGIN)
                clicked = time.perf_counter()
                answer = browser.post(
                    f"{base}/run-all",
                    data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
                    allow_redirects=False,
                    timeout=60,
                )
                answered = time.perf_counter() - clicked
                servers.wait_for(
                    lambda: not AuditRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists(),
                    "every run to end", timeout=900, interval=0.5,
                )  # fmt: skip
                ended = time.perf_counter() - clicked
    statuses = {
        s: AuditRun.objects.filter(status=s).count() for s in AuditRun.objects.values_list("status", flat=True).distinct()
    }
    print(f"latency proxy: every AWS call waits {LATENCY_MS} ms; gunicorn, 1 worker, {THREADS} run threads, SQLite")
    flag = "" if answered < ANSWER_TARGET_S and answer.status_code == 302 else "   <-- PAST TARGET"
    print(
        f"Run all over {ACCOUNTS} accounts answered (HTTP {answer.status_code}) in {answered * 1000:.0f} ms (target < {ANSWER_TARGET_S * 1000:.0f} ms){flag}"
    )
    every = "" if statuses == {RunStatus.SUCCEEDED: ACCOUNTS} else "   <-- NOT EVERY RUN SUCCEEDED"
    print(f"every run ended after {ended:.0f} s: {statuses} (target: all {ACCOUNTS} succeeded){every}")


if __name__ == "__main__":
    main()
