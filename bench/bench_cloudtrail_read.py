"""Benchmark: the CloudTrail step of a fetch run (issue 27, point 7), which cost minutes per account.

1. One account, default settings (LookupEvents on, every region the account has enabled), against a plain moto
   server, which has no LookupEvents: `run_audit` end to end (the credential report, DescribeRegions, CloudTrail).
   Target: under 5 s, with one clear warning (not one per region, no HTML). It took 127-132 s before.
2. LookupEvents in 17 regions behind a proxy that answers every call itself after BENCH_LATENCY_MS (150 ms, AWS's
   round trip). Target: under 3 s.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LATENCY_MS = int(os.environ.get("BENCH_LATENCY_MS", "150"))
REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
    "ap-southeast-2", "sa-east-1",
]  # fmt: skip


def main() -> None:
    from tests import servers
    from tests.fakeaws import faulty_proxy

    with tempfile.TemporaryDirectory() as tmp, servers.moto_server(load_managed_policies=False) as moto_url:
        os.environ.update({
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1", "EMAIL_URL": "dummymail://",
            "IAMWATCH_CLOUDTRAIL_LOOKUP": os.environ.get("IAMWATCH_CLOUDTRAIL_LOOKUP", "true"),
        })  # fmt: skip
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iamwatch.settings")
        import boto3
        import django

        django.setup()
        import logging

        logging.getLogger("botocore").setLevel(logging.ERROR)
        from django.core.management import CommandError, call_command

        from accounts.services import account_create
        from audits.models import AuditRun
        from cloudtrail.fetch import lookup_root_events

        call_command("migrate", verbosity=0)
        account_id = boto3.client("sts").get_caller_identity()["Account"]
        boto3.client("iam").create_user(UserName="JSmith")  # a report needs a principal
        account_create(account_id=account_id, name="bench")
        err = io.StringIO()
        started = time.perf_counter()
        try:
            call_command("run_audit", account_id, stdout=io.StringIO(), stderr=err)
        except CommandError:
            print(f"  run_audit failed: {err.getvalue().strip()[:300]}")
        elapsed = time.perf_counter() - started
        run = AuditRun.objects.filter(account__account_id=account_id).latest("pk")
        cloudtrail = [w for w in run.warnings if w.startswith("CloudTrail not read")]
        print(f"one account, default settings, plain moto: {elapsed * 1000:.0f} ms (target <= 5000 ms); run {run.status}")
        print(f"  CloudTrail problem warnings: {len(cloudtrail)} (target 1: one line, each problem once, no HTML)")
        for warning in cloudtrail:
            print(f"    {warning[:300]}")

        with faulty_proxy(moto_url) as (faults, proxy_url):
            faults.latency = LATENCY_MS / 1000
            faults.answers["LookupEvents"] = b'{"Events": []}'
            clients = {r: boto3.client("cloudtrail", region_name=r, endpoint_url=proxy_url) for r in REGIONS}
            started = time.perf_counter()
            lookup = lookup_root_events(clients.__getitem__, regions=REGIONS, account_id=account_id, newest={}, now=datetime.now(UTC))
            elapsed = time.perf_counter() - started
        print(
            f"LookupEvents in {len(REGIONS)} regions at {LATENCY_MS} ms a call: {elapsed * 1000:.0f} ms (target <= 3000 ms); "
            f"{len(lookup.problems)} problems"
        )


if __name__ == "__main__":
    main()
