"""Benchmark: root use within minutes (issue 25), the push path's consumer on a moto server.

Starts a moto server on loopback (the queue and its dead-letter queue) and a SQLite database, and runs the real
`manage.py consume_root_events` process:

1. Latency: a consumer long-polls; BENCH_LATENCY_EVENTS (20) root sign-ins, each a new session, are put on the queue
   one at a time, and each is timed from the put to its alert e-mail written by the consumer's mail backend.
   Target: under 5 s at the consumer (AWS's EventBridge delivery then makes the two minutes end to end).
2. Backlog: BENCH_EVENTS (10,000) queued root events of BENCH_ACCOUNTS (50) accounts, every tenth delivered twice,
   consumed by one long-running consumer (the queue topped up as it drains): the time, messages per second, its peak memory, and
   the events stored, which must be exactly the distinct ones. Target: peak memory under 200 MB, bounded (a consumer
   holds at most one batch), and exactly once.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EVENTS = int(os.environ.get("BENCH_EVENTS", "10000"))
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "50"))
LATENCY_EVENTS = int(os.environ.get("BENCH_LATENCY_EVENTS", "20"))
LATENCY_TARGET = 5.0
MEMORY_TARGET_MB = 200
DEPTH = 200


def _peak_kb(pid: int) -> int:
    """A process's peak resident memory (VmHWM), in KiB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main() -> None:
    import boto3
    import django

    from tests import servers

    work = Path(tempfile.mkdtemp(prefix="iamwatch-bench-push-"))
    mail = work / "mail"
    env = {
        **os.environ, "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}", "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1", "EMAIL_URL": f"filemail:///{mail}",
        "IAMWATCH_ALERT_EMAIL": "security@example.com", "IAMWATCH_CLOUDTRAIL_LOOKUP": "false",
    }  # fmt: skip
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iamwatch.settings")
    with servers.moto_server(load_managed_policies=False) as endpoint:
        os.environ["AWS_ENDPOINT_URL"] = env["AWS_ENDPOINT_URL"] = endpoint
        django.setup()
        from django.core.management import call_command

        from accounts.models import AwsAccount
        from cloudtrail.models import RootEvent
        from demo.trail import api_call, pushed, sign_in

        call_command("migrate", verbosity=0)
        accounts = [f"{500000000000 + n}" for n in range(ACCOUNTS)]
        AwsAccount.objects.bulk_create(AwsAccount(account_id=a, name=f"push-{n}") for n, a in enumerate(accounts))
        sqs = boto3.client("sqs", endpoint_url=endpoint)
        queue = sqs.create_queue(QueueName="root-events", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
        from cloudtrail.push import DRAIN

        dead = sqs.create_queue(QueueName="root-events-dead-letter")["QueueUrl"]
        argv = [sys.executable, "manage.py", "consume_root_events", "--queue-url", queue, "--dead-letter-url", dead]

        # 1. Latency: put -> alert e-mail, one event at a time, the consumer long-polling.
        consumer = subprocess.Popen(
            [*argv, "--wait-seconds", "20"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(work / "consumer.log").open("w"),
        )
        try:
            time.sleep(3)  # started and polling
            now = datetime.now(UTC).replace(microsecond=0)
            latencies = []
            for n in range(LATENCY_EVENTS):
                before = len(list(mail.glob("*.log"))) if mail.exists() else 0
                record = sign_in(
                    now - timedelta(hours=2 * (LATENCY_EVENTS - n)), mfa="No", account=accounts[0], event_id=f"latency-{n}"
                )
                started = time.perf_counter()
                sqs.send_message(QueueUrl=queue, MessageBody=pushed(record))
                servers.wait_for(
                    lambda b=before: mail.exists() and len(list(mail.glob("*.log"))) > b,
                    "the alert e-mail",
                    timeout=60,
                    interval=0.01,
                )
                latencies.append(time.perf_counter() - started)
        finally:
            consumer.terminate()
            consumer.wait(timeout=60)
        median, worst = statistics.median(latencies), max(latencies)
        print(f"push latency, message put -> alert e-mail written ({LATENCY_EVENTS} root sign-ins, each a new session):")
        print(f"  median {median:.2f} s, max {worst:.2f} s   [target < {LATENCY_TARGET:.0f} s at the consumer]")

        # 2. Backlog: EVENTS queued (every tenth twice), one consumer until empty.
        start = now - timedelta(days=30)
        bodies: list[str] = []
        for n in range(EVENTS):
            account = accounts[n % ACCOUNTS]
            at = start + timedelta(minutes=n // ACCOUNTS)  # each account: a call a minute, sessions of an hour's calls
            make = sign_in if (n // ACCOUNTS) % 60 == 0 else api_call
            bodies.append(pushed(make(at, account=account, event_id=f"backlog-{n}")))
        bodies += bodies[::10]  # delivered again, among the last
        # One consumer, running as in production; the queue topped up to DEPTH messages as it drains (moto's SQS scans
        # its whole queue at every call: 10,000 messages deep, its own time would swamp the consumer's).
        profiled = ["-m", "cProfile", "-o", str(work / "consumer.prof")] if os.environ.get("BENCH_PROFILE") else []
        consumer = subprocess.Popen(
            [argv[0], *profiled, *argv[1:], "--wait-seconds", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        backlog = RootEvent.objects.filter(event_id__startswith="backlog-")
        peak_kb = 0
        try:
            started = time.perf_counter()
            sent = 0
            while True:
                depth = sqs.get_queue_attributes(
                    QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
                )["Attributes"]
                waiting = int(depth["ApproximateNumberOfMessages"]) + int(depth["ApproximateNumberOfMessagesNotVisible"])
                if sent < len(bodies) and waiting < DEPTH:
                    for i in range(sent, min(sent + DEPTH, len(bodies)), 10):
                        sqs.send_message_batch(
                            QueueUrl=queue,
                            Entries=[
                                {"Id": str(j), "MessageBody": b} for j, b in enumerate(bodies[i : min(i + 10, sent + DEPTH)])
                            ],
                        )
                    sent = min(sent + DEPTH, len(bodies))
                    continue
                if sent == len(bodies) and waiting == 0:
                    break
                peak_kb = max(peak_kb, _peak_kb(consumer.pid))
                time.sleep(0.1)
            took = time.perf_counter() - started
            peak_kb = max(peak_kb, _peak_kb(consumer.pid))
        finally:
            consumer.terminate()
            out, _ = consumer.communicate(timeout=60)
        stored = backlog.count()
        distinct = backlog.values("account", "event_id").distinct().count()
        print(
            f"backlog: {len(bodies):,} messages ({EVENTS:,} root events of {ACCOUNTS} accounts, {len(bodies) - EVENTS:,} delivered twice), the queue kept {DEPTH} deep"
        )
        print(
            f"  consumed by one consumer in {took:.0f} s: {len(bodies) / took:.0f} messages/s (moto's SQS included); {out.strip()}"
        )
        print(f"  stored {stored:,} root events, {distinct:,} distinct, of {EVENTS:,} sent   [target: exactly once]")
        print(
            f"  the consumer's peak memory {peak_kb / 1024:.0f} MB   [target < {MEMORY_TARGET_MB} MB, bounded: at most {DRAIN} messages in hand]"
        )
        assert stored == distinct == EVENTS, "not exactly once"
        if profiled:  # BENCH_PROFILE=1: where the backlog consumer's time went
            import pstats

            pstats.Stats(str(work / "consumer.prof")).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
