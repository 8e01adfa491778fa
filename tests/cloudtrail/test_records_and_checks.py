"""CloudTrail records in, root events out: the pure parser, and the known networks (tests/cloudtrail/test_sessions.py:
the sessions and their findings)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import pytest

from cloudtrail.checks import known_networks, outside
from cloudtrail.records import TrailFileError, records_in, sort_records
from demo.trail import ACCOUNT, api_call, iam_user_call, log_file, lookup_events, sign_in

T = datetime(2026, 11, 22, 9, 14, 3, tzinfo=UTC)


def root_of(*records: dict, account: str = ACCOUNT):  # type: ignore[no-untyped-def]
    return sort_records("f.json", records, account).root


@pytest.mark.parametrize("content", [log_file(sign_in(T)), log_file(sign_in(T), gz=True), lookup_events(sign_in(T))])
def test_s3_log_files_gzip_and_lookup_events_output_read_the_same(content: bytes) -> None:
    (event,) = root_of(*records_in("f", content))
    assert (event.name, event.at, event.source_ip, event.mfa_used, event.success) == ("ConsoleLogin", T, "203.0.113.10", True, True)
    assert event.account_id == ACCOUNT and event.arn == f"arn:aws:iam::{ACCOUNT}:root"


@pytest.mark.parametrize("stamp", ["2026-11-22T23:30:00-05:00", "2026-11-23T05:30:00+01:00", "2026-11-23T04:30:00Z"])
def test_an_event_time_with_any_offset_is_read_as_utc(stamp: str) -> None:
    """Issue 30 point 6: an offset other than UTC is converted, so that the event lands on its UTC day (a sign-in at
    23:30 in New York is the next day in UTC: the day buckets, the sessions and the snapshot's period use it)."""
    (event,) = root_of({**sign_in(T), "eventTime": stamp})
    assert event.at.isoformat() == "2026-11-23T04:30:00+00:00"


def test_other_accounts_and_other_identities_are_skipped_and_counted() -> None:
    records = [sign_in(T), sign_in(T, account="999988887777"), iam_user_call(T), api_call(T)]
    sorted_ = sort_records("f.json", records, ACCOUNT)
    assert [r.name for r in sorted_.root] == ["ConsoleLogin", "CreateUser"]
    assert (sorted_.other_accounts, sorted_.not_root) == (1, 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "trail.json: not JSON"),
        (b"\x1f\x8bnot gzip at all", "trail.json: not a readable gzip file"),
        (json.dumps({"records": []}).encode(), "trail.json: not CloudTrail records"),
        (json.dumps([sign_in(T)]).encode(), "trail.json: not CloudTrail records"),
        (json.dumps({"Records": [1]}).encode(), "trail.json: record 1 is not an object"),
        (json.dumps({"Events": [{"EventId": "x"}]}).encode(), "trail.json: event 1 has no CloudTrailEvent"),
        (json.dumps({"Events": [{"CloudTrailEvent": "{"}]}).encode(), "trail.json: event 1's CloudTrailEvent is not JSON"),
        (gzip.compress(b"\xff\xfe"), "trail.json: not JSON"),
    ],
)
def test_a_file_that_is_not_cloudtrail_is_refused_in_one_line(content: bytes, message: str) -> None:
    with pytest.raises(TrailFileError) as refused:
        records_in("trail.json", content)
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("eventID"), "record 2 is not a CloudTrail event"),
        (lambda r: r.pop("userIdentity"), "record 2 is not a CloudTrail event"),
        (lambda r: r.update(eventTime="yesterday"), "record 2 has an eventTime that is not a time: 'yesterday'"),
        (lambda r: r.update(eventTime="2026-11-22T09:14:03"), "record 2 has an eventTime without its zone"),
    ],
)
def test_a_record_without_its_identity_id_or_time_is_refused(change, message: str) -> None:  # type: ignore[no-untyped-def]
    bad = sign_in(T)
    change(bad)
    with pytest.raises(TrailFileError, match=message):
        sort_records("trail.json", [sign_in(T), bad], ACCOUNT)


def test_what_is_kept_of_a_refused_call_and_a_failed_sign_in() -> None:
    call, failed = root_of(api_call(T, "DeleteTrail", source="cloudtrail.amazonaws.com", error="AccessDenied", mfa=False), sign_in(T, success=False, mfa=None))
    assert (call.success, call.error, call.mfa_used, call.access_key_id) == (False, "AccessDenied: AccessDenied for root", False, "ASIAEXAMPLEROOTSESSION")
    assert (failed.success, failed.error, failed.mfa_used) == (False, "Failed authentication", None)
    assert call.raw["eventName"] == "DeleteTrail"  # the whole record is kept


def test_known_networks_refuse_a_bad_cidr_and_a_service_is_never_outside() -> None:
    with pytest.raises(ValueError, match="not a network"):
        known_networks(["10.0.0.0/8", "10.0.0.0/33"])
    assert not outside("signin.amazonaws.com", known_networks(["10.0.0.0/8"]))
    assert outside("11.0.0.1", known_networks(["10.0.0.0/8"]))
