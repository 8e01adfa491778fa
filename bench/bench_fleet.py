"""Benchmark: fetch a fleet of accounts from a moto server through Celery workers on Redis and PostgreSQL.

Prints accounts per minute through one worker process (the baseline) and through two worker
processes, measured in the same run on two fresh sets of accounts. Target (issue 3): two workers
reach at least 1.6x the baseline.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "200"))
USERS = int(os.environ.get("BENCH_USERS_PER_ACCOUNT", "5"))


def main() -> None:
    from tests import servers
    from tests.fakeaws import seed_fleet

    with servers.postgres() as pg_url, servers.redis() as redis_url, servers.moto_server(load_managed_policies=False) as moto_url:
        os.environ.update({"DATABASE_URL": pg_url, "CELERY_BROKER_URL": redis_url, "CELERY_TASK_ALWAYS_EAGER": "false"})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iamwatch.settings")
        import django

        django.setup()
        from django.core.management import call_command

        from accounts.services import account_create
        from audits.models import AuditRun, RunStatus
        from audits.runs import fleet_request
        from audits.tasks import enqueue_run

        call_command("migrate", verbosity=0)
        ids = [f"{500000000000 + n}" for n in range(2 * ACCOUNTS)]
        started = time.perf_counter()
        fleet = seed_fleet(moto_url, dict.fromkeys(ids, True), users=USERS, admin_policy=False)
        print(f"seeded {len(ids)} accounts x {USERS} users on moto in {time.perf_counter() - started:.0f} s")
        accounts = [account_create(account_id=a, name=f"bench-{a}", role_arn=fleet.role_arn(a)) for a in ids]
        # moto generates a report at once: poll after 50 ms so that the figures measure work, not sleep.
        env = {
            **os.environ,
            **fleet.env(),
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "IAMWATCH_REPORT_FIRST_POLL": "0.05",
        }

        def measure(workers: int, batch: list) -> float:
            runs = fleet_request(requested_by="bench", force=True, accounts=batch).runs
            ids = [r.pk for r in runs]
            with contextlib.ExitStack() as stack:
                for n in range(workers):
                    stack.enter_context(servers.celery_worker(env, concurrency=1, name=f"bench{workers}-{n}"))
                began = time.perf_counter()
                for run in runs:
                    enqueue_run(run)
                while AuditRun.objects.filter(pk__in=ids, status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists():
                    time.sleep(0.2)
                took = time.perf_counter() - began
            done = AuditRun.objects.filter(pk__in=ids, status=RunStatus.SUCCEEDED).count()
            if done != len(ids):
                errors = set(
                    AuditRun.objects.filter(pk__in=ids).exclude(status=RunStatus.SUCCEEDED).values_list("error", flat=True)
                )
                raise SystemExit(f"{len(ids) - done} runs did not succeed: {sorted(errors)[:3]}")
            return len(ids) / took * 60

        one = measure(1, accounts[:ACCOUNTS])
        two = measure(2, accounts[ACCOUNTS:])
        print(f"1 worker process : {one:.0f} accounts/min ({ACCOUNTS} accounts)")
        print(f"2 worker processes: {two:.0f} accounts/min ({ACCOUNTS} accounts)")
        print(f"speed-up: {two / one:.2f}x   [target >= 1.6x]")


if __name__ == "__main__":
    main()
