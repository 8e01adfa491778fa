"""LookupEvents through botocore's Stubber on real boto3 clients (moto does not implement it): every request and
response is checked against CloudTrail's service model."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import time_machine
from botocore.stub import ANY, Stubber

from accounts.aws import AccountAccess
from accounts.models import AwsAccount
from audits.models import AuditRun, Finding, RunSource, RunStatus
from audits.runs import run_execute, run_request
from cloudtrail.fetch import LOOKUP_DAYS, OVERLAP, Pacer, lookup_region, lookup_root_events, window_start
from cloudtrail.models import RootEvent
from demo.trail import ACCOUNT, api_call, iam_user_call, sign_in

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
T = datetime(2026, 11, 22, 9, 14, 3, tzinfo=UTC)


def page(*records: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    """A LookupEvents answer as CloudTrail gives it: each record a JSON string in CloudTrailEvent."""
    answer: dict[str, Any] = {
        "Events": [
            {
                "EventId": r["eventID"], "EventName": r["eventName"], "ReadOnly": "false", "AccessKeyId": r["userIdentity"].get("accessKeyId", ""),
                "EventTime": datetime.fromisoformat(r["eventTime"].replace("Z", "+00:00")), "EventSource": r["eventSource"],
                "Username": "root", "Resources": [], "CloudTrailEvent": json.dumps(r),
            }
            for r in records
        ]
    }
    if token:
        answer["NextToken"] = token
    return answer


def expected(start: datetime, end: datetime = NOW, token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "root"}],
        "StartTime": start, "EndTime": end, "MaxResults": 50,
    }  # fmt: skip
    if token:
        params["NextToken"] = token
    return params


class Clock:
    """A fake monotonic clock whose sleep moves it on, to see the pacing without waiting."""

    def __init__(self) -> None:
        self.now, self.slept = 100.0, []  # type: ignore[var-annotated]

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def stubbed() -> Iterator[dict[str, Stubber]]:
    """A real CloudTrail client per region, each behind a Stubber; every queued answer must be used."""
    stubs: dict[str, Stubber] = {}
    for region in ("us-east-1", "eu-west-1"):
        client = boto3.client("cloudtrail", region_name=region, aws_access_key_id="k", aws_secret_access_key="s")
        stubs[region] = Stubber(client)
        stubs[region].activate()
    yield stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


def test_pages_are_followed_paced_at_two_per_second_and_only_root_is_kept(stubbed: dict[str, Stubber]) -> None:
    stub, start = stubbed["us-east-1"], NOW - timedelta(days=1)
    stub.add_response("lookup_events", page(sign_in(T, event_id="a"), iam_user_call(T), token="t2"), expected(start))
    stub.add_response("lookup_events", page(api_call(T, event_id="b"), sign_in(T, account="999988887777")), expected(start, token="t2"))
    clock = Clock()
    records, not_root, problem = lookup_region(
        stub.client, region="us-east-1", account_id=ACCOUNT, start=start, end=NOW, pacer=Pacer(clock=clock, sleep=clock.sleep)
    )
    assert ([r.event_id for r in records], not_root, problem) == (["a", "b"], 2, "")
    assert clock.slept == [0.5]  # the second call waited for the first one's half second


def test_the_first_read_goes_back_90_days_later_ones_from_the_newest_event_less_the_overlap() -> None:
    assert window_start(NOW, None) == NOW - timedelta(days=LOOKUP_DAYS)
    assert window_start(NOW, T) == T - OVERLAP
    assert window_start(NOW, NOW - timedelta(days=200)) == NOW - timedelta(days=LOOKUP_DAYS)


def test_a_throttled_region_and_a_denied_one_are_not_read_and_say_why(stubbed: dict[str, Stubber]) -> None:
    east, west = stubbed["us-east-1"], stubbed["eu-west-1"]
    # us-east-1 answers a first page, then stays throttled: the region gives nothing (its next read starts as early).
    east.add_response("lookup_events", page(sign_in(T), token="t2"), expected(NOW - timedelta(days=90)))
    east.add_client_error("lookup_events", service_error_code="ThrottlingException", service_message="Rate exceeded", http_status_code=400)
    west.add_client_error("lookup_events", service_error_code="AccessDeniedException", service_message="not allowed", http_status_code=400)
    lookup = lookup_root_events(
        lambda region: stubbed[region].client, regions=["eu-west-1", "us-east-1"], account_id=ACCOUNT, newest={}, now=NOW,
        sleep=lambda s: None,
    )  # fmt: skip
    assert lookup.records == []
    assert lookup.problems == [
        "eu-west-1: cloudtrail:LookupEvents: AccessDeniedException: not allowed"
        " (the role lacks this permission (README, Registering a real AWS account))",
        "us-east-1: cloudtrail:LookupEvents: ThrottlingException: Rate exceeded (read again by the next run)",
    ]


@pytest.mark.django_db
@pytest.mark.aws_managed_policies
def test_a_fetch_run_reads_cloudtrail_beside_the_report_and_a_denied_region_makes_it_partial(
    aws: None, sandbox: AwsAccount, stubbed: dict[str, Stubber], settings, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    """moto answers IAM (the report), the Stubbers answer CloudTrail: the report lands, the root events and their
    findings land with it, and eu-west-1's refusal makes the run partial with the reason."""
    settings.IAMWATCH_CLOUDTRAIL_LOOKUP = True
    settings.IAMWATCH_CLOUDTRAIL_REGIONS = ["us-east-1", "eu-west-1"]
    sandbox.account_id = boto3.client("sts").get_caller_identity()["Account"]
    sandbox.save()
    real_client = AccountAccess.client

    def client(self: AccountAccess, service: str, region: str | None = None, **options: Any) -> Any:
        return stubbed[region or "us-east-1"].client if service == "cloudtrail" else real_client(self, service, region, **options)

    monkeypatch.setattr(AccountAccess, "client", client)
    login = sign_in(T, mfa="No", event_id="e-1", account=sandbox.account_id)
    stubbed["us-east-1"].add_response("lookup_events", page(login), {**expected(ANY, ANY)})
    stubbed["eu-west-1"].add_client_error("lookup_events", service_error_code="AccessDeniedException", service_message="denied", http_status_code=400)
    run = run_execute(run_id=run_request(account=sandbox, source=RunSource.FETCH, requested_by="t").pk)
    assert run is not None and run.status == RunStatus.PARTIAL and run.report_id is not None
    assert run.not_evaluated["root.session"].startswith(
        "CloudTrail not read in eu-west-1: cloudtrail:LookupEvents: AccessDeniedException: denied (the role lacks this permission"
    )
    assert list(RootEvent.objects.values_list("event_id", "origin", "run")) == [("e-1", "lookup", run.pk)]
    assert {(f.check_id, f.subject, f.severity) for f in Finding.objects.filter(check_id__startswith="root.") if f.subject} == {
        ("root.session", "e-1", "critical"),
    }  # fmt: skip
    assert any(w.startswith("CloudTrail LookupEvents: 1 root event (1 new) in 1 region") for w in run.warnings)
    assert AuditRun.objects.count() == 1
    # Each finding the run opened (the report's and the events') has its one "opened" event, not one per recording.
    from audits.models import FindingEvent

    opened = list(FindingEvent.objects.filter(run=run, kind="opened").values_list("finding_id", flat=True))
    assert sorted(opened) == sorted(Finding.objects.filter(first_run=run).values_list("pk", flat=True)) and len(opened) > 2


@pytest.mark.django_db
def test_each_region_is_read_from_its_newest_stored_event_and_overlapping_reads_store_each_event_once(
    sandbox: AwsAccount, stubbed: dict[str, Stubber], settings  # type: ignore[no-untyped-def]
) -> None:
    from cloudtrail.services import LookupStep

    settings.IAMWATCH_CLOUDTRAIL_LOOKUP = True
    settings.IAMWATCH_CLOUDTRAIL_REGIONS = ["us-east-1", "eu-west-1"]
    access = type("Access", (), {"client": lambda self, service, region=None, **options: stubbed[region].client})()
    step = LookupStep()

    def fetch(east: list[dict[str, Any]], east_start: datetime, west_start: datetime, now: datetime) -> AuditRun:
        stubbed["us-east-1"].add_response("lookup_events", page(*east), expected(east_start, now))
        stubbed["eu-west-1"].add_response("lookup_events", page(), expected(west_start, now))
        run = AuditRun.objects.create(account=sandbox, source=RunSource.FETCH, status=RunStatus.SUCCEEDED, requested_at=now, generated_at=now)
        with time_machine.travel(now, tick=False):
            step.store(run, step.read(access, sandbox, now))  # type: ignore[arg-type]
        return run

    login = sign_in(T, event_id="e-1")
    fetch([login], NOW - timedelta(days=LOOKUP_DAYS), NOW - timedelta(days=LOOKUP_DAYS), NOW)
    # The next read: us-east-1 from its newest event less the overlap, eu-west-1 (nothing stored) 90 days back again;
    # the overlap brings e-1 a second time, stored once.
    later = api_call(T + timedelta(hours=2), event_id="e-2")
    an_hour_later = NOW + timedelta(hours=1)
    run = fetch([later, login], T - OVERLAP, an_hour_later - timedelta(days=LOOKUP_DAYS), an_hour_later)
    assert sorted(RootEvent.objects.values_list("event_id", flat=True)) == ["e-1", "e-2"]
    assert list(RootEvent.objects.filter(run=run).values_list("event_id", flat=True)) == ["e-2"]


@pytest.mark.django_db
@pytest.mark.parametrize("allowed", [True, False])
def test_the_connection_test_tries_the_cloudtrail_calls_when_lookup_is_on(
    aws: None, sandbox: AwsAccount, stubbed: dict[str, Stubber], settings, monkeypatch: pytest.MonkeyPatch, allowed: bool  # type: ignore[no-untyped-def]
) -> None:
    from accounts.aws import connection_test

    settings.IAMWATCH_CLOUDTRAIL_LOOKUP = True
    real_client = AccountAccess.client
    monkeypatch.setattr(
        AccountAccess, "client", lambda self, service, region=None, **options: stubbed["us-east-1"].client if service == "cloudtrail" else real_client(self, service, region, **options)
    )
    if allowed:
        stubbed["us-east-1"].add_response("lookup_events", {"Events": []}, {"MaxResults": 1})
    else:
        stubbed["us-east-1"].add_client_error("lookup_events", service_error_code="AccessDeniedException", service_message="no", http_status_code=400)
    steps = {s.call: s for s in connection_test(sandbox)}
    assert steps["ec2:DescribeRegions"].ok and steps["iam:GetCredentialReport"].ok
    assert steps["cloudtrail:LookupEvents"].ok is allowed
    if not allowed:
        assert steps["cloudtrail:LookupEvents"].detail.startswith("cloudtrail:LookupEvents: AccessDeniedException: no (the role lacks this permission")


def test_only_the_enabled_regions_of_the_accounts_own_partition_are_read(aws: None) -> None:
    """Issue 27, point 7: moto lists cn-* and us-gov-* regions too; no commercial account can reach them."""
    from cloudtrail.fetch import enabled_regions

    commercial = enabled_regions(boto3.client("ec2", region_name="us-east-1"))
    assert "us-east-1" in commercial and "eu-west-1" in commercial
    assert not [r for r in commercial if r.startswith(("cn-", "us-gov-", "us-iso"))]
    assert all(r.startswith("us-gov-") for r in enabled_regions(boto3.client("ec2", region_name="us-gov-west-1")))


class FakeTrail:
    """A CloudTrail client of one region answering after `delay` seconds: an empty page, or `error` (a ClientError)."""

    in_flight = 0  # calls being answered at this moment, across every region
    most_in_flight = 0
    lock = threading.Lock()

    def __init__(self, *, delay: float = 0.0, error: str = "") -> None:
        self.delay, self.error, self.calls = delay, error, 0

    def lookup_events(self, **params: Any) -> dict[str, Any]:
        self.calls += 1
        with FakeTrail.lock:
            FakeTrail.in_flight += 1
            FakeTrail.most_in_flight = max(FakeTrail.most_in_flight, FakeTrail.in_flight)
        time.sleep(self.delay)
        with FakeTrail.lock:
            FakeTrail.in_flight -= 1
        if self.error:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": self.error, "Message": "<html><title>Not Found</title></html>"}}, "LookupEvents")
        return {"Events": []}


def test_when_regions_fail_the_same_way_the_rest_are_not_tried_and_the_failure_is_said_once() -> None:
    """Issue 27, point 7: 38 regions each failing after botocore's retries, one after another, cost minutes."""
    regions = [f"r-{n}" for n in range(12)]
    clients = {r: FakeTrail(error="404") if n < 3 else FakeTrail(delay=0.3) for n, r in enumerate(regions)}
    lookup = lookup_root_events(clients.__getitem__, regions=regions, account_id=ACCOUNT, newest={}, now=NOW, sleep=lambda s: None)
    said = lookup.problems
    assert said[0] == "r-0, r-1, r-2: cloudtrail:LookupEvents: 404: an HTML page, not AWS's answer (\"Not Found\")"
    untried = [r.region for r in lookup.regions if r.problem.startswith("not tried: 3 regions failed the same way")]
    assert len(said) == 2 and untried and all(clients[r].calls <= 1 for r in untried)
    assert {r.region for r in lookup.regions if not r.problem} | set(untried) | {"r-0", "r-1", "r-2"} == set(regions)


def test_regions_not_read_by_the_deadline_say_so() -> None:
    regions = [f"r-{n}" for n in range(4)]
    clients = {r: FakeTrail(delay=0.5) for r in regions}
    lookup = lookup_root_events(clients.__getitem__, regions=regions, account_id=ACCOUNT, newest={}, now=NOW, deadline=0.1)
    assert {r.problem for r in lookup.regions} == {"not read: the CloudTrail step's deadline (0.1 s, IAMWATCH_CLOUDTRAIL_DEADLINE) passed"}
    assert lookup.records == [] and len(lookup.problems) == 1


def test_regions_are_read_at_once_each_still_paced() -> None:
    from cloudtrail.fetch import WORKERS

    regions = [f"r-{n}" for n in range(12)]
    clients = {r: FakeTrail(delay=0.2) for r in regions}
    FakeTrail.most_in_flight = 0
    lookup = lookup_root_events(clients.__getitem__, regions=regions, account_id=ACCOUNT, newest={}, now=NOW)
    assert not lookup.problems and all(c.calls == 1 for c in clients.values())
    assert 2 <= FakeTrail.most_in_flight <= WORKERS  # several regions at once, never more than the workers


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["read", "store"])
def test_a_cloudtrail_step_that_fails_for_any_reason_never_costs_the_run_its_report(
    aws: None, sandbox: AwsAccount, stubbed: dict[str, Stubber], settings, monkeypatch: pytest.MonkeyPatch, where: str  # type: ignore[no-untyped-def]
) -> None:
    """A record the database refuses (here DataError, as PostgreSQL raised for a NUL or an over-long eventID before
    records were bounded), or a read that raises: the report lands, the run is partial and says why in one line."""
    from django.db import DataError

    import cloudtrail.services

    settings.IAMWATCH_CLOUDTRAIL_LOOKUP = True
    settings.IAMWATCH_CLOUDTRAIL_REGIONS = ["us-east-1"]
    sandbox.account_id = boto3.client("sts").get_caller_identity()["Account"]
    sandbox.save()
    real_client = AccountAccess.client
    monkeypatch.setattr(
        AccountAccess, "client",
        lambda self, service, region=None, **options: stubbed["us-east-1"].client if service == "cloudtrail" else real_client(self, service, region, **options),
    )  # fmt: skip

    def refuse(**kwargs: Any) -> Any:
        raise DataError("value too long for type character varying(64)\nLINE 1: ...")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("Events")

    if where == "store":
        stubbed["us-east-1"].add_response("lookup_events", page(sign_in(T, event_id="e-1", account=sandbox.account_id)), {**expected(ANY, ANY)})
        monkeypatch.setattr(cloudtrail.services, "store_root_events", refuse)
    else:
        monkeypatch.setattr(cloudtrail.services, "lookup_root_events", broken)
    run = run_execute(run_id=run_request(account=sandbox, source=RunSource.FETCH, requested_by="t").pk)
    assert run is not None and run.status == RunStatus.PARTIAL and run.report_id is not None
    said = "CloudTrail not stored: " + ("DataError: value too long for type character varying(64) LINE 1: ..." if where == "store" else "KeyError: 'Events'")
    assert said in run.warnings and run.not_evaluated["root.session"] == said
    assert not RootEvent.objects.exists()
    assert Finding.objects.exclude(check_id="root.session").exists()  # the report's findings landed
