"""Benchmark: a fleet run at scale, bound by AWS's latency as a real one is.

Starts PostgreSQL, Redis and a moto server on loopback, with a latency proxy in front of moto (every AWS call
waits BENCH_LATENCY_MS, default 150 ms, as real IAM answers in tens to hundreds of milliseconds). Creates an AWS
Organization of BENCH_ACCOUNTS + BENCH_BASELINE_ACCOUNTS members, each with the audit role and a few IAM users,
registers them with `manage.py sync_organization`, then fetches:

- BENCH_BASELINE_ACCOUNTS (default 100) accounts through one worker slot (`--concurrency 1`): the baseline;
- BENCH_ACCOUNTS (default 1,000) other accounts through BENCH_SLOTS (default 16) slots of one worker;
- the same number again through two workers of BENCH_SLOTS / 2 slots each, as two machines would share the queue
  (skipped with BENCH_TWO_WORKERS=0).

Slots are prefork processes (Celery's default pool): a run's own work (parsing, the ORM, the transaction) is
Python that holds the GIL, a process per slot keeps one run's memory and faults to itself, and a stopping
worker interrupts a run through its process (README, Faults). Threads would save memory, not time.

Prints accounts per minute, the speed-up over one slot, the time for the whole fleet and the peak resident
memory (VmHWM) of every worker process, and the CPU time (user + system) the worker processes spent per account,
which bounds how many accounts one machine's slots can fetch (issue 29). Targets (issue 16): the slots >= 10x one slot, peak RSS per worker
process <= 200 MB, 1,000 accounts in under 5 minutes.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "1000"))
BASELINE = int(os.environ.get("BENCH_BASELINE_ACCOUNTS", "100"))
SLOTS = int(os.environ.get("BENCH_SLOTS", "16"))
LATENCY_MS = int(os.environ.get("BENCH_LATENCY_MS", "150"))
USERS = int(os.environ.get("BENCH_USERS_PER_ACCOUNT", "5"))
TWO_WORKERS = os.environ.get("BENCH_TWO_WORKERS", "1") != "0"


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (a prefork worker: the main process and its pool processes)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def peak_rss_mb(pid: int) -> float:
    """The peak resident set (VmHWM) of one process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes and their descendants so far (exited children included), in seconds."""
    total = 0
    for pid in pids:
        for p in process_tree(pid):
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
                total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime (in clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def main() -> None:
    from tests import servers
    from tests.fakeaws import faulty_proxy, seed_fleet, seed_organization

    with (
        servers.postgres() as pg_url,
        servers.redis() as redis_url,
        servers.moto_server(load_managed_policies=False) as moto_url,
    ):
        os.environ.update({"DATABASE_URL": pg_url, "CELERY_BROKER_URL": redis_url, "CELERY_TASK_ALWAYS_EAGER": "false"})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iamwatch.settings")
        import django

        django.setup()
        from django.core.management import call_command

        from accounts.models import AwsAccount
        from audits.models import AuditRun, RunStatus
        from audits.runs import fleet_request
        from audits.tasks import enqueue_run

        call_command("migrate", verbosity=0)
        members = ACCOUNTS * (2 if TWO_WORKERS else 1) + BASELINE
        started = time.perf_counter()
        ids = seed_organization(moto_url, members)
        fleet = seed_fleet(moto_url, dict.fromkeys(ids, True), users=USERS, admin_policy=False, reset=False)
        print(f"seeded an Organization of {members} member accounts x {USERS} IAM users on moto in {time.perf_counter() - started:.0f} s")
        for name, value in fleet.env().items():
            os.environ[name] = value
        out = io.StringIO()
        call_command("sync_organization", stdout=out)
        print(f"sync_organization: {out.getvalue().strip()}")
        accounts = list(AwsAccount.objects.filter(account_id__in=ids).order_by("account_id"))

        with faulty_proxy(moto_url) as (proxy, endpoint):
            proxy.latency = LATENCY_MS / 1000
            # moto generates a report at once: poll after 50 ms, so that the figures measure AWS's latency, not sleep.
            env = {
                **os.environ,
                **fleet.env(),
                "AWS_ENDPOINT_URL": endpoint,
                "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
                "IAMWATCH_REPORT_FIRST_POLL": "0.05",
            }
            print(f"latency proxy: every AWS call waits {LATENCY_MS} ms; slots are prefork processes")

            fan_out: list[float] = []

            def measure(label: str, workers: list[int], batch: list[AwsAccount]) -> float:
                began = time.perf_counter()
                runs = fleet_request(requested_by="bench", force=True, accounts=batch).runs
                fan_out.append((time.perf_counter() - began) / len(runs))
                run_ids = [r.pk for r in runs]
                calls = len(proxy.seen)
                with contextlib.ExitStack() as stack:
                    pids = [
                        stack.enter_context(servers.celery_worker(env, concurrency=slots, name=f"bench-{label}-{n}")).pid
                        for n, slots in enumerate(workers)
                    ]
                    cpu_before = cpu_seconds(pids)  # the workers' start-up is not the runs' work
                    began = time.perf_counter()
                    for run in runs:
                        enqueue_run(run)
                    active = [RunStatus.PENDING, RunStatus.RUNNING]
                    while AuditRun.objects.filter(pk__in=run_ids, status__in=active).exists():
                        time.sleep(0.25)
                    took = time.perf_counter() - began
                    rss = [peak_rss_mb(p) for pid in pids for p in process_tree(pid)]
                    cpu = cpu_seconds(pids) - cpu_before
                done = AuditRun.objects.filter(pk__in=run_ids, status=RunStatus.SUCCEEDED).count()
                if done != len(run_ids):
                    errors = AuditRun.objects.filter(pk__in=run_ids).exclude(status=RunStatus.SUCCEEDED)
                    raise SystemExit(f"{len(run_ids) - done} runs did not succeed: {sorted(set(errors.values_list('error', flat=True)))[:3]}")
                rate = len(run_ids) / took * 60
                per_run = (len(proxy.seen) - calls) / len(run_ids)
                print(
                    f"{label:>28}: {len(run_ids):5} accounts in {took:6.1f} s = {rate:6.0f} accounts/min "
                    f"({per_run:.1f} AWS calls per account); peak RSS per worker process {max(rss):.0f} MB "
                    f"({len(rss)} processes, {sum(rss):.0f} MB together); {cpu / len(run_ids):.3f} CPU s per account in the workers"
                )
                return rate

            one = measure("1 worker x 1 slot", [1], accounts[:BASELINE])
            many = measure(f"1 worker x {SLOTS} slots", [SLOTS], accounts[BASELINE : BASELINE + ACCOUNTS])
            print(f"speed-up, {SLOTS} slots over 1: {many / one:.1f}x   [target >= 10x]")
            print(f"{ACCOUNTS} accounts through {SLOTS} slots: {ACCOUNTS / many:.1f} min   [target < 5 min]")
            if TWO_WORKERS:
                half = max(1, SLOTS // 2)
                two = measure(f"2 workers x {half} slots", [half, half], accounts[BASELINE + ACCOUNTS :])
                print(f"two workers sharing the queue: {two / one:.1f}x one slot")
            print("[target: peak RSS <= 200 MB per worker process]")
            print(f"fan-out (a pending run per account, one transaction each): {max(fan_out) * 1000:.1f} ms per account")


if __name__ == "__main__":
    main()
