"""Benchmark: import 100,000 CloudTrail records (1% by root) from gzipped log files, against json.load + a filter.

The floor is the least any importer does: decompress and parse each file and keep the root records of the account.
IAMWatch's import does that, then checks every record, stores the root events once by eventID and raises their
findings, in one transaction (SQLite). Prints both times, their ratio and the import a second time (the same files
again: every event already stored). Target (issue 14): the import <= 3x the floor.
Sizes: BENCH_RECORDS, BENCH_FILES.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RECORDS = int(os.environ.get("BENCH_RECORDS", "100000"))
FILES = int(os.environ.get("BENCH_FILES", "100"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
ACCOUNT = "111122223333"
START = datetime(2026, 9, 1, tzinfo=UTC)


def generate() -> list[tuple[str, bytes]]:
    """FILES gzipped log files of RECORDS records in all, 1% by root (sign-ins, failed ones, calls), the rest by IAM
    users, spread over 90 days."""
    from demo.trail import api_call, iam_user_call, sign_in

    rng = random.Random(14)
    per_file = RECORDS // FILES
    files = []
    for f in range(FILES):
        records = []
        for n in range(per_file):
            at = START + timedelta(seconds=rng.randrange(90 * 86400))
            if (f * per_file + n) % 100 == 0:
                kind = rng.random()
                ip = f"198.51.100.{rng.randrange(1, 20)}"
                if kind < 0.3:
                    records.append(sign_in(at, mfa=rng.choice(["Yes", "No"]), ip=ip))
                elif kind < 0.4:
                    records.append(sign_in(at, success=False, mfa=None, ip=ip))
                else:
                    records.append(api_call(at, rng.choice(["CreateUser", "ListBuckets", "GetAccountSummary"]), ip=ip))
            else:
                records.append(iam_user_call(at))
        files.append((f"{ACCOUNT}_CloudTrail_us-east-1_{f:04d}.json.gz", gzip.compress(json.dumps({"Records": records}).encode())))
    return files


def floor_seconds(files: list[tuple[str, bytes]]) -> float:
    started = time.perf_counter()
    kept = 0
    for _, content in files:
        for record in json.loads(gzip.decompress(content))["Records"]:
            identity = record.get("userIdentity") or {}
            if identity.get("type") == "Root" and (record.get("recipientAccountId") or identity.get("accountId")) == ACCOUNT:
                kept += 1
    assert kept == RECORDS // 100, kept
    return time.perf_counter() - started


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="iamwatch-bench-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iamwatch.settings")
    os.environ["EMAIL_URL"] = "dummymail://"  # the imported events alert: to nowhere here
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.services import account_create
    from audits.models import Finding
    from cloudtrail.models import RootEvent
    from cloudtrail.services import cloudtrail_import

    call_command("migrate", verbosity=0)
    files = generate()
    size = sum(len(c) for _, c in files)
    print(f"files: {FILES} gzipped log files, {RECORDS:,} records ({RECORDS // 100:,} by root), {size / 1e6:.1f} MB")
    floors = [floor_seconds(files) for _ in range(REPEAT)]
    imports, again = [], []
    for i in range(REPEAT):
        account = account_create(account_id=ACCOUNT if i == 0 else f"{ACCOUNT[:-1]}{i}", name=f"bench-{i}")
        body = files if i == 0 else [(n, gzip.compress(gzip.decompress(c).replace(ACCOUNT.encode(), account.account_id.encode()))) for n, c in files]
        started = time.perf_counter()
        result = cloudtrail_import(account=account, files=body, actor="bench")
        imports.append(time.perf_counter() - started)
        started = time.perf_counter()
        cloudtrail_import(account=account, files=body, actor="bench")
        again.append(time.perf_counter() - started)
        if i == 0:
            print(f"first import: {result.summary()}")
            print(f"stored: {RootEvent.objects.filter(account=account).count():,} root events, {Finding.objects.filter(account=account).count():,} findings")
    floor, took, repeat = statistics.median(floors), statistics.median(imports), statistics.median(again)
    print(f"floor: gunzip + json.load + root filter: {floor * 1000:.0f} ms")
    print(f"import (median of {REPEAT}): {took * 1000:.0f} ms = {took / floor:.2f}x the floor   [target <= 3x]")
    print(f"the same files again (every event already stored): {repeat * 1000:.0f} ms = {repeat / floor:.2f}x the floor")


if __name__ == "__main__":
    main()
