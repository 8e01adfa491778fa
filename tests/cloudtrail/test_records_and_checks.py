"""CloudTrail records in, root events and root-activity findings out: the pure parser and checks."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from cloudtrail.checks import evaluate_events, known_networks, outside
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


def found(*records: dict, networks: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    return [(r.check_id, r.subject, r.detail) for r in evaluate_events(root_of(*records), known_networks(networks))]


def test_a_sign_in_with_mfa_is_one_console_login_finding() -> None:
    record = sign_in(T, event_id="e-1")
    assert found(record) == [
        ("root.console_login", "e-1", f"root signed in at 2026-11-22 09:14:03 UTC from 203.0.113.10 with MFA ({record['userAgent']})")
    ]


@pytest.mark.parametrize("mfa", ["No", None])
def test_a_sign_in_without_mfa_is_also_a_login_without_mfa(mfa: str | None) -> None:
    assert [(c, s) for c, s, _ in found(sign_in(T, mfa=mfa, event_id="e-1"))] == [("root.console_login", "e-1"), ("root.login_without_mfa", "e-1")]


def test_failed_sign_ins_are_one_finding_per_utc_day_with_count_and_addresses() -> None:
    midnight = datetime(2026, 11, 23, tzinfo=UTC)
    records = [
        sign_in(midnight - timedelta(seconds=1), success=False, mfa=None, ip="198.51.100.7"),
        sign_in(midnight - timedelta(hours=3), success=False, mfa=None, ip="198.51.100.9"),
        sign_in(midnight, success=False, mfa=None, ip="198.51.100.7"),  # the next UTC day
    ]
    assert found(*records) == [
        ("root.failed_login", "2026-11-22", "2 failed root sign-ins on 2026-11-22 from 198.51.100.7, 198.51.100.9"),
        ("root.failed_login", "2026-11-23", "1 failed root sign-in on 2026-11-23 from 198.51.100.7"),
    ]


def test_calls_are_one_finding_per_utc_day_and_address_with_their_names() -> None:
    records = [
        api_call(T, "CreateUser"), api_call(T + timedelta(minutes=1), "ListBuckets", source="s3.amazonaws.com"),
        api_call(T, "CreateUser", ip="192.0.2.44", error="AccessDenied"),
        api_call(T.replace(hour=23, minute=59, second=59), "GetAccountSummary"),
        api_call(T.replace(hour=0, minute=0, second=0) + timedelta(days=1), "GetAccountSummary"),
    ]  # fmt: skip
    assert found(*records) == [
        ("root.api_activity", "2026-11-22 192.0.2.44", "1 root call on 2026-11-22 from 192.0.2.44: iam:CreateUser (1 refused)"),
        ("root.api_activity", "2026-11-22 203.0.113.10", "3 root calls on 2026-11-22 from 203.0.113.10: iam:CreateUser, iam:GetAccountSummary, s3:ListBuckets"),
        ("root.api_activity", "2026-11-23 203.0.113.10", "1 root call on 2026-11-23 from 203.0.113.10: iam:GetAccountSummary"),
    ]  # fmt: skip


def test_an_event_from_outside_the_known_networks_is_flagged_at_the_networks_edges() -> None:
    networks = ("203.0.113.0/28", "2001:db8::/32")
    inside_first, inside_last, just_outside = "203.0.113.0", "203.0.113.15", "203.0.113.16"
    records = [
        sign_in(T, ip=inside_first, event_id="in-1"), api_call(T, ip=inside_last, event_id="in-2"),
        api_call(T, ip="2001:db8::1", event_id="in-3"), sign_in(T, ip=just_outside, event_id="out-1"),
        api_call(T, ip="2001:db9::1", event_id="out-2"), api_call(T, ip="AWS Internal", event_id="service"),
    ]  # fmt: skip
    flagged = [(s, d) for c, s, d in found(*records, networks=networks) if c == "root.unknown_network"]
    assert flagged == [
        ("out-1", "root sign-in at 2026-11-22 09:14:03 UTC from 203.0.113.16, outside the known networks"),
        ("out-2", "root call iam:CreateUser at 2026-11-22 09:14:03 UTC from 2001:db9::1, outside the known networks"),
    ]
    assert not any(c == "root.unknown_network" for c, _, _ in found(*records))  # off when no network is configured


def test_known_networks_refuse_a_bad_cidr_and_a_service_is_never_outside() -> None:
    with pytest.raises(ValueError, match="not a network"):
        known_networks(["10.0.0.0/8", "10.0.0.0/33"])
    assert not outside("signin.amazonaws.com", known_networks(["10.0.0.0/8"]))
    assert outside("11.0.0.1", known_networks(["10.0.0.0/8"]))
