"""Root sessions (issue 24 point 2): root's events grouped into what one person did in one sitting, each one finding
as bad as what it was. Hand-written CloudTrail sequences: a console session with calls, an API-only session with a
root access key, a night of failures, two sessions an hour apart, and the edges between them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloudtrail.checks import known_networks
from cloudtrail.records import sort_records
from cloudtrail.sessions import IDLE, Kind, evaluate_events, root_sessions
from demo.trail import ACCOUNT, api_call, sign_in

T = datetime(2026, 12, 3, 0, 0, 0, tzinfo=UTC)
OFFICE = known_networks(["203.0.113.0/24"])
ROOT_KEY = "AKIAROOTKEYEXAMPLE01"


def sessions(*records: dict, networks=OFFICE):  # type: ignore[no-untyped-def]
    return root_sessions(sort_records("f.json", records, ACCOUNT).root, networks)


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


def test_a_console_session_with_calls_is_one_session_and_one_finding() -> None:
    records = [
        sign_in(T, event_id="in"),
        api_call(at(2), "GetAccountSummary", event_id="c1"),
        api_call(at(4), "ListUsers", event_id="c2", region="eu-west-1"),
        api_call(at(70), "GetAccountSummary", event_id="c3"),  # past the idle time, but the session's own key
    ]
    (session,) = sessions(*records)
    assert (session.kind, session.start, session.end, session.subject) == (Kind.CONSOLE, T, at(70), "in")
    assert session.event_ids == ("in", "c1", "c2", "c3")
    assert (session.mfa, session.outside_known, session.failed_attempts, session.changes) == (True, False, 0, ())
    assert session.regions == ("eu-west-1", "us-east-1") and session.addresses == ("203.0.113.10",)
    assert session.severity == "medium"  # with MFA, from the office, only looked: still to be explained, once
    assert session.summary() == (
        "2026-12-03 00:00 UTC console sign-in from 203.0.113.10; MFA; 3 calls in eu-west-1, us-east-1: "
        "iam:GetAccountSummary x2, iam:ListUsers; until 01:10 UTC"
    )
    (finding,) = evaluate_events(sort_records("f.json", records, ACCOUNT).root, OFFICE)
    assert (finding.check_id, finding.subject, finding.severity) == ("root.session", "in", "medium")
    assert finding.detail.startswith(session.summary())


def test_the_harmless_sign_in_of_the_demo_is_one_finding_not_three() -> None:
    results = evaluate_events(sort_records("f.json", [sign_in(T), api_call(at(4), "GetAccountSummary")], ACCOUNT).root, OFFICE)
    assert [r.check_id for r in results] == ["root.session"]


@pytest.mark.parametrize(
    ("records", "severity", "reason"),
    [
        ([sign_in(T, mfa="No")], "critical", "signed in without MFA"),
        ([sign_in(T, mfa=None)], "critical", "MFA not recorded for the sign-in"),
        ([sign_in(T, ip="198.51.100.7")], "critical", "from outside the known networks (198.51.100.7)"),
        ([sign_in(T), api_call(at(3), "CreateAccessKey")], "high", "made changes: iam:CreateAccessKey"),
        (
            [sign_in(T), api_call(at(3), "DeleteTrail", source="cloudtrail.amazonaws.com", error="AccessDenied")],
            "high",
            "1 call refused",
        ),
        ([sign_in(T), api_call(at(3), "ListUsers")], "medium", "a sign-in with MFA from a known network that changed nothing"),
    ],
    ids=["no-mfa", "mfa-not-recorded", "unknown-network", "changes", "refused-call", "only-looked"],
)
def test_a_sessions_severity_is_what_it_was(records: list[dict], severity: str, reason: str) -> None:
    (session,) = sessions(*records)
    assert session.severity == severity and any(r.startswith(reason) for r in session.reasons), session.reasons


def test_an_api_only_session_with_a_root_access_key_is_critical_and_its_own() -> None:
    records = [
        api_call(at(0), "ListBuckets", source="s3.amazonaws.com", access_key=ROOT_KEY, event_id="k1", ip="192.0.2.44"),
        api_call(at(30), "CreateUser", access_key=ROOT_KEY, event_id="k2", ip="192.0.2.44"),
        api_call(at(200), "CreateUser", access_key=ROOT_KEY, event_id="k3", ip="192.0.2.44"),  # the same key, hours later
        sign_in(at(35), event_id="in"),  # a console session at the same time is another session
        api_call(at(37), "ListUsers", event_id="c1"),
    ]
    key_session, console = sessions(*records, networks=())
    assert (key_session.kind, key_session.event_ids, key_session.subject) == (Kind.ACCESS_KEY, ("k1", "k2", "k3"), "k1")
    assert key_session.severity == "critical" and "a root access key was used: root should have none" in key_session.reasons
    assert (console.kind, console.event_ids) == (Kind.CONSOLE, ("in", "c1"))
    assert key_session.summary().startswith(f"2026-12-03 00:00 UTC calls with the root access key {ROOT_KEY} from 192.0.2.44")


def test_a_night_of_failures_from_one_address_is_one_session_and_nobody_got_in() -> None:
    night = [sign_in(at(7 * n), success=False, mfa=None, ip="192.0.2.77", event_id=f"f{n}") for n in range(6)]
    (session,) = sessions(*night)
    assert (session.kind, session.failed_attempts, session.subject, session.severity) == (Kind.FAILED, 6, "f0", "high")
    assert (
        session.summary()
        == "2026-12-03 00:00 UTC 6 failed sign-ins, none succeeded from 192.0.2.77; outside the known networks (192.0.2.77); until 00:35 UTC"
    )


def test_a_sign_in_after_failures_is_the_same_session_and_critical() -> None:
    records = [sign_in(at(n), success=False, mfa=None, ip="192.0.2.77", event_id=f"f{n}") for n in range(3)]
    (session,) = sessions(*records, sign_in(at(10), ip="192.0.2.77", event_id="in"))
    assert (session.kind, session.subject, session.start, session.failed_attempts) == (Kind.CONSOLE, "in", at(10), 3)
    assert session.severity == "critical" and "signed in after 3 failed attempts" in session.reasons


def test_two_sign_ins_an_hour_apart_are_two_sessions() -> None:
    first, second = sessions(sign_in(T, event_id="a"), api_call(at(5), "ListUsers"), sign_in(at(65), event_id="b"))
    assert (first.subject, second.subject) == ("a", "b") and len(first.events) == 2 and len(second.events) == 1


def test_failures_a_pause_apart_are_two_sessions_and_a_call_after_failures_is_not_theirs() -> None:
    records = [
        sign_in(T, success=False, mfa=None, event_id="f1"),
        sign_in(T + IDLE + timedelta(seconds=1), success=False, mfa=None, event_id="f2"),
        api_call(T + IDLE + timedelta(minutes=2), "ListUsers", event_id="c"),
    ]
    assert [s.event_ids for s in sessions(*records)] == [("f1",), ("f2",), ("c",)]


def test_calls_with_no_sign_in_in_the_trail_are_a_session_of_their_own() -> None:
    (session,) = sessions(api_call(T, "ListUsers", event_id="c1"), api_call(at(20), "GetAccountSummary", event_id="c2"))
    assert session.kind == Kind.CALLS and session.severity == "high" and session.mfa is True


def test_the_grouping_does_not_depend_on_the_order_the_records_came_in() -> None:
    records = [sign_in(T, event_id="in"), api_call(at(2), "ListUsers", event_id="c1"), sign_in(at(65), event_id="b")]
    assert [s.event_ids for s in sessions(*records)] == [s.event_ids for s in sessions(*reversed(records))]


def test_a_temporary_key_used_by_several_sessions_belongs_to_the_latest_sign_in() -> None:
    """The console may sign calls of two sittings with one session key: a call goes with the sign-in just before it."""
    records = [
        sign_in(T, event_id="first"), api_call(at(4), "GetAccountSummary", event_id="first-call"),
        sign_in(at(360), event_id="second"), api_call(at(364), "GetAccountSummary", event_id="second-call"),
    ]  # fmt: skip
    first, second = sessions(*records)
    assert (first.event_ids, second.event_ids) == (("first", "first-call"), ("second", "second-call"))
