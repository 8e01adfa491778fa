"""CloudTrail records as AWS's documentation writes them (issue 27, points 1 and 2): every field read as AWS writes
it, in any case, and a root event is the root of the account in userIdentity, not of the account that received it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cloudtrail.records import records_in, root_record, sort_records

A, B = "111122223333", "444455556666"


def console_login(*, mfa: str | None = "YES", result: str = "Success", owner: str = A, recipient: str = A) -> dict[str, Any]:
    """The CloudTrail User Guide's root ConsoleLogin record (AWS Management Console sign-in events), as written there."""
    record: dict[str, Any] = {
        "eventVersion": "1.05",
        "userIdentity": {"type": "Root", "principalId": owner, "arn": f"arn:aws:iam::{owner}:root", "accountId": owner, "accessKeyId": ""},
        "eventTime": "2014-07-16T15:49:27Z",
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-2",
        "sourceIPAddress": "192.0.2.110",
        "userAgent": "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:24.0) Gecko/20100101 Firefox/24.0",
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": result},
        "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true", "MobileVersion": "No"},
        "eventID": "deb1e1f9-c99b-4612-8e9f-21f93b5c79c0",
        "eventType": "AwsConsoleSignIn",
        "recipientAccountId": recipient,
    }
    if mfa is not None:
        record["additionalEventData"]["MFAUsed"] = mfa
    return record


@pytest.mark.parametrize(("said", "used"), [("YES", True), ("Yes", True), ("yes", True), ("No", False), ("NO", False), (None, None)])
def test_mfa_used_is_read_in_any_case(said: str | None, used: bool | None) -> None:
    assert root_record("guide", 1, console_login(mfa=said)).mfa_used is used


@pytest.mark.parametrize(("result", "success"), [("Success", True), ("SUCCESS", True), ("Failure", False), ("FAILURE", False)])
def test_the_sign_in_result_is_read_in_any_case(result: str, success: bool) -> None:
    assert root_record("guide", 1, console_login(result=result)).success is success


def test_a_root_sign_in_with_mfa_as_the_guide_writes_it_raises_no_missing_mfa() -> None:
    from cloudtrail.sessions import evaluate_events

    (result,) = evaluate_events([root_record("guide", 1, console_login(mfa="YES"))])
    assert (result.check_id, result.severity) == ("root.session", "medium") and "; MFA" in result.detail


def test_another_accounts_root_received_here_is_skipped_and_counted_as_another_accounts() -> None:
    """Account B's root acted on account A's resources: A receives a copy whose userIdentity is B's root."""
    records = [console_login(owner=B, recipient=A), console_login(owner=A, recipient=A)]
    records[1]["eventID"] = "own"
    at_a = sort_records("a.json", records, A)
    assert [r.event_id for r in at_a.root] == ["own"] and at_a.other_accounts == 1 and at_a.not_root == 0
    at_b = sort_records("b.json", records, B)
    assert [r.account_id for r in at_b.root] == [B] and at_b.other_accounts == 1


@pytest.mark.parametrize("shape", ["s3", "console", "lookup-events"])
def test_each_file_shape_takes_the_root_of_the_identitys_account(shape: str) -> None:
    record = console_login(owner=B, recipient=A)
    if shape == "s3":
        body = {"Records": [record]}
    elif shape == "console":
        body = {"Records": [record]}  # the console's event history download: the same records
    else:
        body = {"Events": [{"EventId": record["eventID"], "EventName": "ConsoleLogin", "CloudTrailEvent": json.dumps(record)}]}
    records = records_in(f"{shape}.json", json.dumps(body).encode())
    assert sort_records(shape, records, A).root == [] and [r.account_id for r in sort_records(shape, records, B).root] == [B]


def test_lookup_events_keeps_only_this_accounts_root() -> None:
    from datetime import UTC, datetime

    import boto3
    from botocore.stub import Stubber

    from cloudtrail.fetch import Pacer, lookup_region

    client = boto3.client("cloudtrail", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    own, other = console_login(owner=A, recipient=A), console_login(owner=B, recipient=A)
    own["eventID"], other["eventID"] = "own", "other"
    events = [
        {"EventId": r["eventID"], "EventName": "ConsoleLogin", "EventTime": datetime(2014, 7, 16, tzinfo=UTC), "CloudTrailEvent": json.dumps(r)}
        for r in (own, other)
    ]
    with Stubber(client) as stub:
        stub.add_response("lookup_events", {"Events": events})
        records, skipped, problem = lookup_region(
            client, region="us-east-1", account_id=A, start=datetime(2014, 7, 1, tzinfo=UTC), end=datetime(2014, 8, 1, tzinfo=UTC),
            pacer=Pacer(clock=lambda: 0.0, sleep=lambda s: None),
        )  # fmt: skip
    assert [r.event_id for r in records] == ["own"] and skipped == 1 and problem == ""
