"""Root events from CloudTrail's LookupEvents, in every region the account has enabled, through the account's
read-only role (`cloudtrail:LookupEvents`, `ec2:DescribeRegions`).

The first read of a region goes back 90 days (all LookupEvents keeps); later reads start at the newest event
stored for that region less an overlap, since CloudTrail delivers events up to about 15 minutes late. LookupEvents
allows 2 requests per second per account and region: calls to one region are paced at least 0.5 s apart, and
botocore's adaptive retries back off on ThrottlingException. A region that stays throttled, or that the role may
not read, is reported as not read, with why; the rest of the run still lands.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError

from accounts.aws import describe_error, is_transient

from .records import RootRecord, TrailFileError, is_root, lookup_record, root_account, root_record

LOOKUP_DAYS = 90
OVERLAP = timedelta(minutes=30)
MIN_INTERVAL = 0.5  # seconds between two calls to one region: LookupEvents allows 2 per second per account and region


@dataclass(frozen=True, slots=True)
class RegionRead:
    region: str
    start: datetime
    end: datetime
    events: int = 0
    problem: str = ""  # why the region was not read (throttled, denied): empty when it was


@dataclass(slots=True)
class Lookup:
    """What a run read from CloudTrail: the root events, and each region's window and outcome."""

    records: list[RootRecord] = field(default_factory=list)
    regions: list[RegionRead] = field(default_factory=list)
    skipped_not_root: int = 0

    @property
    def problems(self) -> list[str]:
        """Each problem once, with the regions it hit (a service that is not there fails every region the same way)."""
        hit: dict[str, list[str]] = {}
        for r in self.regions:
            if r.problem:
                hit.setdefault(r.problem, []).append(r.region)
        # What went wrong first, then what was not tried because of it
        order = sorted(hit.items(), key=lambda item: item[0].startswith(("not tried", "not read: the CloudTrail step")))
        return [f"{_regions_said(regions)}: {problem}" for problem, regions in order]


def _regions_said(regions: list[str]) -> str:
    return ", ".join(regions) if len(regions) <= 4 else f"{', '.join(regions[:3])} and {len(regions) - 3} more regions"


class Pacer:
    """At least `interval` seconds between two calls (one pacer per region)."""

    def __init__(self, interval: float = MIN_INTERVAL, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        self.interval, self.clock, self.sleep = interval, clock, sleep
        self.last: float | None = None

    def wait(self) -> None:
        if self.last is not None:
            left = self.interval - (self.clock() - self.last)
            if left > 0:
                self.sleep(left)
        self.last = self.clock()


def enabled_regions(ec2: Any) -> list[str]:
    """The regions the account has enabled (opted-in or not needing it), of the partition the client's own region is
    in: a commercial account reaches no cn- or us-gov- region (a fake AWS may list them all)."""
    partition = partition_of(ec2.meta.region_name)
    return sorted(name for r in ec2.describe_regions(AllRegions=False)["Regions"] if partition_of(name := r["RegionName"]) == partition)


@functools.cache
def _endpoint_data() -> botocore.session.Session:
    """One botocore session for its endpoint data: each new one reads botocore's endpoints file again (a second)."""
    return botocore.session.get_session()


@functools.cache
def partition_of(region: str) -> str:
    """AWS's partition of a region (aws, aws-cn, aws-us-gov, ...), from botocore's endpoint data."""
    try:
        return str(_endpoint_data().get_partition_for_region(region))
    except (ValueError, BotoCoreError):
        return "aws"


def window_start(now: datetime, newest: datetime | None) -> datetime:
    """Where a region's read starts: 90 days back, or the newest stored event less the overlap if later."""
    earliest = now - timedelta(days=LOOKUP_DAYS)
    return earliest if newest is None else max(earliest, newest - OVERLAP)


def lookup_region(
    client: Any, *, region: str, account_id: str, start: datetime, end: datetime, pacer: Pacer,
    stopped: Callable[[], bool] = lambda: False,
) -> tuple[list[RootRecord], int, str]:  # fmt: skip
    """The root events of one region in [start, end]: (records, records not by root, problem). A region that fails
    part-way gives no records at all: LookupEvents answers newest first, so keeping the first pages would move the
    region's next start past the events never read."""
    records: list[RootRecord] = []
    not_root = 0
    params: dict[str, Any] = {
        # Root's events carry the user name "root": the filter keeps the read small; the identity type decides.
        "LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "root"}],
        "StartTime": start,
        "EndTime": end,
        "MaxResults": 50,
    }
    while True:
        pacer.wait()
        if stopped():  # the step gave up on the regions not read yet (deadline, or the same failure everywhere)
            return [], not_root, ""
        try:
            page = client.lookup_events(**params)
        except (ClientError, BotoCoreError) as exc:
            said = describe_error(exc, call="cloudtrail:LookupEvents")
            return [], not_root, f"{said} (read again by the next run)" if is_transient(exc) else said
        for n, event in enumerate(page.get("Events", []), 1):
            try:
                record = lookup_record(f"LookupEvents in {region}", n, event.get("CloudTrailEvent") if isinstance(event, dict) else None)
            except TrailFileError as exc:
                return [], not_root, f"unreadable: {exc}"
            identity = record.get("userIdentity") if isinstance(record, dict) else None
            if not isinstance(identity, dict) or not is_root(identity) or root_account(record) != account_id:
                not_root += 1  # another identity, or another account's root (cross-account access)
                continue
            try:
                records.append(root_record(f"LookupEvents in {region}", n, record))
            except TrailFileError as exc:
                return [], not_root, f"unreadable: {exc}"
        token = page.get("NextToken")
        if not token:
            return records, not_root, ""
        params["NextToken"] = token


# Attempts of one LookupEvents call (botocore's backoff between them): a region that fails is read again, from the
# same start, by the next run, so more would only hold up this run (IAMWATCH_AWS_MAX_ATTEMPTS is for the report).
LOOKUP_ATTEMPTS = 3
SAME_FAILURE_REGIONS = 3  # regions failing the same way before the others are not tried
WORKERS = 8  # regions read at once (each still paced at 2 calls per second)


def lookup_root_events(
    client_for: Callable[[str], Any], *, regions: Sequence[str], account_id: str, newest: dict[str, datetime], now: datetime,
    sleep: Callable[[float], None] = time.sleep, deadline: float | None = None,
) -> Lookup:  # fmt: skip
    """Read every region, each from its own start (see window_start) to `now`, WORKERS at a time. When
    SAME_FAILURE_REGIONS regions fail the same way (a service or an endpoint that is not there), or `deadline` seconds
    have passed, the regions not read yet are not tried, each saying why; the problems are said once each."""
    made = threading.Lock()  # a boto3 session is not thread-safe: one client made at a time, when its region is read
    starts = {region: window_start(now, newest.get(region)) for region in regions}
    stop = threading.Event()
    read: dict[str, tuple[list[RootRecord], int, str]] = {}
    why_stopped = ""

    def one(region: str) -> tuple[list[RootRecord], int, str]:
        if stop.is_set():
            return [], 0, ""
        with made:
            client = client_for(region)
        return lookup_region(
            client, region=region, account_id=account_id, start=starts[region], end=now, pacer=Pacer(sleep=sleep),
            stopped=stop.is_set,
        )  # fmt: skip

    pool = ThreadPoolExecutor(max_workers=max(1, min(WORKERS, len(regions))), thread_name_prefix="lookup")
    futures = {pool.submit(one, region): region for region in regions}
    failures: dict[str, list[str]] = {}
    try:
        for future in as_completed(futures, timeout=deadline):
            region = futures[future]
            read[region] = future.result()
            problem = read[region][2]
            if problem:
                failures.setdefault(problem, []).append(region)
                if len(failures[problem]) >= SAME_FAILURE_REGIONS and len(read) < len(regions):
                    why_stopped = f"not tried: {len(failures[problem])} regions failed the same way"
                    break
    except FuturesTimeout:
        why_stopped = f"not read: the CloudTrail step's deadline ({deadline:g} s, IAMWATCH_CLOUDTRAIL_DEADLINE) passed"
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
    lookup = Lookup()
    for region in regions:
        records, not_root, problem = read.get(region, ([], 0, why_stopped or "not read"))
        lookup.records.extend(records)
        lookup.skipped_not_root += not_root
        lookup.regions.append(RegionRead(region, starts[region], now, len(records), problem))
    return lookup
