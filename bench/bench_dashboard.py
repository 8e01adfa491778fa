"""Benchmark: the review-meeting pages over a year of history for a large fleet, on PostgreSQL.

Generates 500 accounts x 200 users x 365 daily runs straight into the tables (the ingest path has
its own benchmark), then prints each page's server-side render time (median of 5) and its number
of SQL queries. Target (issue 4): every page at most 300 ms; query counts independent of the data.
Also the pages of issues 6 and 7: a review over the whole fleet, the people directory, a person who
owns a user in every account, one account's owners and the audit trail; and of issue 14, the Root activity page
over root's CloudTrail events (four per root use, two regions read daily for 90 days, a night of failed sign-ins in
every tenth account), grouped into root sessions on the agenda, the account page and the Root activity page (issue 24);
and the fleet's Runs page.
Sizes: BENCH_ACCOUNTS, BENCH_USERS, BENCH_DAYS. Generation takes minutes at 500 accounts and most of an hour at 2,000
(issue 29): the generated database is kept as a pg_dump in .bench-cache/ and restored by the next run of the same sizes
and generator, which applies the migrations added since.
"""

from __future__ import annotations

import glob
import hashlib
import inspect
import os
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "500"))
USERS = int(os.environ.get("BENCH_USERS", "200"))
DAYS = int(os.environ.get("BENCH_DAYS", "365"))
END = datetime(2026, 11, 20, 2, tzinfo=UTC)
CHANGE_EVERY = (7, 14, 30, 60, 120)  # days between state changes of a user (logins, rotations, MFA)


def trend_summary(rng: random.Random) -> dict[str, int]:
    return {
        "critical": rng.randint(0, 5), "high": rng.randint(0, 40), "medium": rng.randint(0, 80), "low": rng.randint(0, 40),
        "users": USERS, "console_users": USERS, "without_mfa": rng.randint(0, USERS // 4),
        "naming_violations": rng.randint(0, USERS // 5),
    }  # fmt: skip


def generate() -> None:
    from django.db import transaction

    from accounts.models import AwsAccount
    from audits.bulk import insert_rows
    from audits.checks import CHECKS_BY_ID
    from audits.models import AuditRun, Finding, FindingEvent, PrincipalState, RootUsageEvent, TrendMonth
    from audits.services import finding_tally_refresh
    from cloudtrail.models import RootEvent, TrailRead

    rng = random.Random(1)
    checks = sorted(c for c in CHECKS_BY_ID if c.startswith("user."))
    times = [END - timedelta(days=DAYS - 1 - d) for d in range(DAYS)]
    started = time.perf_counter()
    AwsAccount.objects.bulk_create(
        AwsAccount(
            account_id=f"{300000000000 + n}",
            name=f"account-{n:04d}",
            environment=("prod", "staging", "dev", "sandbox")[n % 4],
            last_success_at=END,
        )
        for n in range(ACCOUNTS)
    )
    accounts = list(AwsAccount.objects.order_by("pk").values_list("pk", "account_id"))
    counts = {"runs": 0, "states": 0, "findings": 0, "events": 0, "root": 0}
    for pk, account_id in accounts:
        with transaction.atomic():
            insert_rows(
                AuditRun,
                ("account_id", "source", "status", "requested_at", "generated_at", "finished_at", "principal_count"),
                [(pk, "fetch", "succeeded", t, t, t, USERS) for t in times],
            )
            run_ids = dict(AuditRun.objects.filter(account_id=pk).values_list("generated_at", "pk"))
            states = []
            for u in range(USERS):
                name = f"user{u:03d}"
                every = rng.choice(CHANGE_EVERY)
                offset = rng.randrange(every)
                starts = [times[0]] + [t for d, t in enumerate(times) if d and (d + offset) % every == 0]
                for i, t in enumerate(starts):
                    until = starts[i + 1] if i + 1 < len(starts) else None
                    states.append(
                        (
                            pk,
                            name,
                            f"arn:aws:iam::{account_id}:user/{name}",
                            t,
                            until,
                            run_ids[t],
                            i == 0,
                            t - timedelta(hours=3),
                            i % 2 == 0,
                            True,
                        )
                    )
            insert_rows(
                PrincipalState,
                (
                    "account_id",
                    "name",
                    "arn",
                    "valid_from",
                    "valid_to",
                    "first_run_id",
                    "appeared",
                    "password_last_used",
                    "mfa_active",
                    "password_enabled",
                ),
                states,
            )
            findings = []
            for u in rng.sample(range(USERS), k=USERS * 3 // 4):
                for check in rng.sample(checks, k=2):
                    first = rng.choice(times)
                    resolved = rng.random() < 0.2 and first < times[-1]
                    done = rng.choice([t for t in times if t > first]) if resolved else None
                    findings.append((pk, check, f"user{u:03d}", "", CHECKS_BY_ID[check].severity.value, "generated", "resolved" if resolved else "open",
                                     first, done or END, done, run_ids[first], run_ids[done or times[-1]], run_ids[done] if done else None, 0))  # fmt: skip
            insert_rows(Finding, ("account_id", "check_id", "principal", "arn", "severity", "detail", "status", "first_seen", "last_seen", "resolved_at", "first_run_id", "last_run_id", "resolved_run_id", "reopened_count"), findings)  # fmt: skip
            ids = list(
                Finding.objects.filter(account_id=pk).values_list(
                    "pk", "first_seen", "first_run_id", "resolved_at", "resolved_run_id"
                )
            )
            events = [(f, r, t, "opened") for f, t, r, _, _ in ids] + [(f, r, t, "resolved") for f, _, _, t, r in ids if t]
            insert_rows(FindingEvent, ("finding_id", "run_id", "at", "kind"), events)
            uses = sorted(rng.sample(times, k=rng.randint(0, 8)))
            insert_rows(
                RootUsageEvent,
                ("account_id", "used_at", "credential", "first_seen_run_id"),
                [(pk, t - timedelta(hours=5), "password", run_ids[t]) for t in uses],
            )
            # Root's CloudTrail events: each use's sign-in and a few calls, and the last 90 days' reads of two regions.
            RootEvent.objects.bulk_create(
                RootEvent(
                    account_id=pk, event_id=f"{account_id}-{n}-{k}", at=t - timedelta(hours=5, minutes=-k), name="ConsoleLogin" if k == 0 else "ListBuckets",
                    event_source="signin.amazonaws.com" if k == 0 else "s3.amazonaws.com", region="us-east-1", source_ip="203.0.113.10",
                    user_agent="Mozilla/5.0", mfa_used=True, success=True, raw={}, origin="lookup", run_id=run_ids[t],
                    recorded_at=t,  # stored by the run that read it, as LookupEvents does
                )
                for n, t in enumerate(uses)
                for k in range(4)
            )  # fmt: skip
            # And a night of failed sign-ins from one address in every tenth account: a root session of its own.
            if pk % 10 == 0:
                night = END - timedelta(days=rng.randint(1, 60), hours=3)
                RootEvent.objects.bulk_create(
                    RootEvent(
                        account_id=pk, event_id=f"{account_id}-night-{k}", at=night + timedelta(minutes=7 * k), name="ConsoleLogin",
                        event_source="signin.amazonaws.com", region="us-east-1", source_ip="192.0.2.77", user_agent="Mozilla/5.0",
                        mfa_used=None, success=False, error="Failed authentication", raw={}, origin="lookup", run_id=run_ids[times[-1]],
                        recorded_at=night + timedelta(hours=2),
                    )
                    for k in range(6)
                )  # fmt: skip
            TrailRead.objects.bulk_create(
                TrailRead(account_id=pk, run_id=run_ids[t], region=region, start=t - timedelta(days=1, minutes=30), end=t)
                for t in times[-90:]
                for region in ("us-east-1", "eu-west-1")
            )
            # The trend: each month's latest run as its point (what ingest keeps), with a plausible summary.
            latest: dict[date, datetime] = {}
            for t in times:
                latest[t.date().replace(day=1)] = t
            TrendMonth.objects.bulk_create(
                TrendMonth(account_id=pk, month=month, run_id=run_ids[t], generated_at=t, summary=trend_summary(rng))
                for month, t in latest.items()
            )
        counts["runs"] += len(times)
        counts["states"] += len(states)
        counts["findings"] += len(findings)
        counts["events"] += len(events)
        counts["root"] += len(uses)
    with transaction.atomic():
        finding_tally_refresh(pk for pk, _ in accounts)  # what every write keeps: the open findings counted
    print(
        f"generated in {time.perf_counter() - started:.0f} s: {ACCOUNTS} accounts, "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
    )


def prepare() -> None:
    """The reader, and issues 6 and 7's data: a 10,000-person directory, one person owning a user in every account (by
    hand), and a review open over the whole fleet."""
    from datetime import date

    from django.contrib.auth.models import Group, User

    from accounts.models import AwsAccount
    from people.models import OwnerLink, Person
    from reviews.services import review_open

    viewer = User.objects.create_user("bench")
    viewer.groups.add(Group.objects.get(name="viewer"))
    Person.objects.bulk_create(
        [
            Person(employee_id=str(10000 + i), first_name="Pat", last_name=f"Person{i}", email=f"p{i}@example.com")
            for i in range(10000)
        ]
    )
    owner = Person.objects.get(employee_id="10007")
    accounts = list(AwsAccount.objects.all())
    OwnerLink.objects.bulk_create([OwnerLink(account=a, user_name="user007", person=owner, linked_by="bench") for a in accounts])
    review_open(period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), accounts=accounts, actor=viewer)


def measure() -> None:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    from audits.models import Finding, PrincipalState
    from bench.pagetimes import print_page_times
    from reviews.models import Review

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(User.objects.get(username="bench"))
    finding = Finding.objects.order_by("-pk").first()
    state = PrincipalState.objects.filter(account=finding.account).order_by("-pk").first()  # type: ignore[union-attr]
    assert finding is not None and state is not None
    review = Review.objects.get(period_start="2026-10-01")
    pages = {
        "overview (all accounts)": "/",
        "overview, prod, by name": "/?environment=prod&sort=name",
        "findings across accounts": "/findings/",
        "findings, filtered": "/findings/?severity=high&status=all&principal=user01",
        "finding page": f"/findings/{finding.pk}/",
        "account page": f"/accounts/{finding.account.account_id}/",
        "principal page": f"/accounts/{state.account.account_id}/users/{state.name}/",
        "changes since review": "/changes/",
        "review over every account": f"/reviews/{review.pk}/",
        "people directory": "/people/",
        "person with 500 users": "/people/10007/",
        "owners of one account": f"/accounts/{finding.account.account_id}/owners/",
        "audit trail": "/trail/",
        "root activity (fleet)": "/root-activity/",
        "root activity, one account": f"/root-activity/?account={finding.account.account_id}",
        "runs (fleet)": "/runs/",
        "runs, failed": "/runs/?health=failed",
        "alerts": "/alerts/",
    }
    only = os.environ.get("BENCH_PAGES")  # a part of the labels to measure, to iterate on one page
    print_page_times(client, {label: url for label, url in pages.items() if not only or only in label})


def cached_dump() -> Path:
    """Where a generated database of these sizes is kept between runs: named after the sizes and a digest of this
    generator's code, so a change to it generates afresh (BENCH_CACHE: the folder). Migrations added since the dump
    was kept are applied to it after the restore, as an upgrade would."""
    generator = (trend_summary, generate, prepare)
    digest = hashlib.sha256(repr((END, CHANGE_EVERY, [inspect.getsource(f) for f in generator])).encode())
    folder = Path(os.environ.get("BENCH_CACHE", ROOT / ".bench-cache"))
    return folder / f"dashboard-{ACCOUNTS}x{USERS}x{DAYS}-{digest.hexdigest()[:12]}.dump"


def pg_tool(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"{name} is not installed: run `make install` (Debian package postgresql)")
    return found[-1]


def main() -> None:
    """BENCH_DATABASE_URL: measure a database an earlier run held (BENCH_HOLD=1 keeps it, printing its URL)."""
    import django

    from tests import servers

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iamwatch.settings")
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        django.setup()
        measure()
        return
    with servers.postgres() as url:
        os.environ["DATABASE_URL"] = url
        django.setup()
        dump = cached_dump()
        if dump.exists():
            started = time.perf_counter()
            subprocess.run([pg_tool("pg_restore"), "--no-owner", "--jobs=2", "--dbname", url, str(dump)], check=True)
            from django.core.management import call_command
            from django.db import connection

            call_command("migrate", verbosity=0)  # those added since the dump was kept

            with connection.cursor() as cursor:  # a dump holds no planner statistics
                cursor.execute("ANALYZE")
            print(f"restored the generated database from {dump} in {time.perf_counter() - started:.0f} s")
        else:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            generate()
            prepare()
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            dump.parent.mkdir(exist_ok=True)
            partial = dump.with_suffix(".partial")
            subprocess.run([pg_tool("pg_dump"), "--format=custom", "--compress=1", "--file", str(partial), url], check=True)
            partial.rename(dump)
            print(f"kept the generated database in {dump} ({dump.stat().st_size / 1e6:.0f} MB) for the next run")
        measure()
        if os.environ.get("BENCH_HOLD"):
            import signal

            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # kill too stops the server (the context's finally)
            print(f"holding the database until interrupted: BENCH_DATABASE_URL={url}", flush=True)
            while True:
                time.sleep(60)


if __name__ == "__main__":
    main()
