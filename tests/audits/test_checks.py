"""The check engine: pure functions, rows built in memory, a fixed NOW, boundaries to the second. No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.naming import compile_rule
from audits.checks import REPORT_CHECKS, CheckContext, Result, Thresholds, evaluate_report
from audits.report import ROOT_USER, parse_report
from tests.reports import build_report, root_row, user_row

NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
JSMITH = CheckContext(naming=compile_rule("initial_lastname"))


def iso(t: datetime) -> str:
    return t.isoformat()


def ago(days: float, seconds: int = 0) -> str:
    return iso(NOW - timedelta(days=days) + timedelta(seconds=seconds))


def findings(*rows: dict[str, str], context: CheckContext = JSMITH, now: datetime = NOW) -> set[tuple[str, str]]:
    report = parse_report(build_report(*rows))
    return {(r.check_id, r.principal) for r in evaluate_report(report, context, now)}


def raised(check_id: str, *rows: dict[str, str], context: CheckContext = JSMITH) -> bool:
    return any(c == check_id for c, _ in findings(*rows, context=context))


def test_every_check_has_metadata_and_a_unique_id() -> None:
    ids = [c.id for c in REPORT_CHECKS]
    assert len(ids) == len(set(ids)) == 15
    assert all(c.title and c.reference and c.rationale for c in REPORT_CHECKS)


def test_a_clean_account_raises_nothing() -> None:
    clean = user_row("JSmith", password_enabled="true", password_last_used=ago(1), mfa_active="true")
    assert findings(root_row(), clean) == set()


# root.access_key_exists
@pytest.mark.parametrize(
    ("key1", "key2", "expected"), [("false", "false", False), ("true", "false", True), ("false", "TRUE", True)]
)
def test_root_access_key_exists(key1: str, key2: str, expected: bool) -> None:
    assert raised("root.access_key_exists", root_row(access_key_1_active=key1, access_key_2_active=key2)) is expected


# root.mfa_disabled
@pytest.mark.parametrize(
    ("password_enabled", "mfa", "key", "expected"),
    [
        ("not_supported", "true", "false", False),
        ("not_supported", "false", "false", True),  # the usual root: it has a password
        ("true", "false", "false", True),
        ("false", "false", "false", False),  # centrally managed root access: no password, no key
        ("false", "false", "true", True),  # no password but an active key
    ],
)
def test_root_mfa_disabled(password_enabled: str, mfa: str, key: str, expected: bool) -> None:
    row = root_row(password_enabled=password_enabled, mfa_active=mfa, access_key_1_active=key)
    assert raised("root.mfa_disabled", row) is expected


# root.recent_use: within 30 days means NOW - 30 x 24 h <= t
@pytest.mark.parametrize(
    ("last_used", "expected"),
    [
        (ago(29), True),
        (ago(30), True),  # exactly 30 x 24 h: within
        (ago(30, seconds=-1), False),  # one second older
        (ago(31), False),
        ("no_information", False),
        ("N/A", False),
        ("not_supported", False),
    ],
)
def test_root_recent_use_by_password(last_used: str, expected: bool) -> None:
    assert raised("root.recent_use", root_row(password_last_used=last_used)) is expected


def test_root_recent_use_takes_the_latest_of_password_and_keys() -> None:
    # The key was used after the password: the key's use decides.
    row = root_row(
        password_last_used=ago(200),
        access_key_1_active="true",
        access_key_1_last_rotated=ago(400),
        access_key_1_last_used_date=ago(2),
    )
    result = evaluate_report(parse_report(build_report(row)), JSMITH, NOW)
    recent = [r for r in result if r.check_id == "root.recent_use"]
    assert len(recent) == 1 and "access key 1" in recent[0].detail


@pytest.mark.parametrize("recent", ["password", "access key 1", "access key 2"])
def test_root_recent_use_is_the_latest_credential_wherever_it_is_listed(recent: str) -> None:
    """Issue 30 point 1: each credential in turn the recent one, the other two used long ago (a recent password with
    keys last used months before, the case no test had): the latest decides, not the first or last listed."""
    used = {"password": ago(200), "access key 1": ago(300), "access key 2": ago(250), recent: ago(2)}
    row = root_row(
        password_last_used=used["password"],
        access_key_1_active="true", access_key_1_last_rotated=ago(400), access_key_1_last_used_date=used["access key 1"],
        access_key_2_active="true", access_key_2_last_rotated=ago(400), access_key_2_last_used_date=used["access key 2"],
    )  # fmt: skip
    result = evaluate_report(parse_report(build_report(row)), JSMITH, NOW)
    [finding] = [r for r in result if r.check_id == "root.recent_use"]
    assert finding.detail.startswith(f"root {recent} last used ")


def test_root_recent_use_by_the_second_key_alone() -> None:
    row = root_row(access_key_2_active="false", access_key_2_last_rotated=ago(400), access_key_2_last_used_date=ago(10))
    assert raised("root.recent_use", row)


def test_root_recent_use_threshold_comes_from_the_context() -> None:
    row = root_row(password_last_used=ago(40))
    assert not raised("root.recent_use", row)
    assert raised("root.recent_use", row, context=CheckContext(thresholds=Thresholds(root_recent_use_days=60)))


# user.console_without_mfa
@pytest.mark.parametrize(
    ("password", "mfa", "expected"),
    [("true", "false", True), ("TRUE", "FALSE", True), ("true", "true", False), ("false", "false", False)],
)
def test_console_without_mfa(password: str, mfa: str, expected: bool) -> None:
    assert raised("user.console_without_mfa", user_row("JSmith", password_enabled=password, mfa_active=mfa)) is expected


# user.password_unused: older than 45 days means t < NOW - 45 x 24 h
@pytest.mark.parametrize(
    ("last_used", "expected"),
    [(ago(44), False), (ago(45), False), (ago(45, seconds=-1), True), (ago(46), True)],
)
def test_password_unused_by_last_use(last_used: str, expected: bool) -> None:
    row = user_row("JSmith", password_enabled="true", mfa_active="true", password_last_used=last_used)
    assert raised("user.password_unused", row) is expected


@pytest.mark.parametrize(
    ("changed", "created", "expected"),
    [
        (ago(44), ago(400), False),  # set recently: the change counts, not the creation
        (ago(46), ago(400), True),
        ("N/A", ago(46), True),  # no change recorded: creation time counts
        ("N/A", ago(45), False),
    ],
)
def test_password_never_used(changed: str, created: str, expected: bool) -> None:
    row = user_row(
        "JSmith", password_enabled="true", mfa_active="true", password_last_used="no_information",
        password_last_changed=changed, user_creation_time=created,
    )  # fmt: skip
    assert raised("user.password_unused", row) is expected


def test_password_unused_ignores_users_without_a_password() -> None:
    assert not raised("user.password_unused", user_row("JSmith", password_enabled="false", user_creation_time=ago(900)))


def key(n: int, *, active: str = "true", rotated: str | None = None, used: str = "N/A") -> dict[str, str]:
    return {
        f"access_key_{n}_active": active,
        f"access_key_{n}_last_rotated": rotated or ago(10),
        f"access_key_{n}_last_used_date": used,
    }


# user.access_key_unused
@pytest.mark.parametrize(
    ("rotated", "used", "active", "expected"),
    [
        (ago(100), ago(44), "true", False),
        (ago(100), ago(45), "true", False),
        (ago(100), ago(45, seconds=-1), "true", True),
        (ago(100), ago(46), "true", True),
        (ago(44), "N/A", "true", False),  # never used, created 44 days ago
        (ago(45), "N/A", "true", False),
        (ago(46), "N/A", "true", True),
        (ago(400), ago(300), "false", False),  # an inactive key is not a finding
    ],
)
def test_access_key_unused(rotated: str, used: str, active: str, expected: bool) -> None:
    row = user_row("JSmith", **key(1, active=active, rotated=rotated, used=used))
    assert raised("user.access_key_unused", row) is expected


def test_access_key_unused_checks_the_second_key_too() -> None:
    assert raised("user.access_key_unused", user_row("JSmith", **key(2, rotated=ago(300), used=ago(200))))


# user.access_key_not_rotated: more than 90 days
@pytest.mark.parametrize(
    ("rotated", "active", "expected"),
    [
        (ago(89), "true", False),
        (ago(90), "true", False),
        (ago(90, seconds=-1), "true", True),
        (ago(91), "true", True),
        (ago(900), "false", False),
    ],
)
def test_access_key_not_rotated(rotated: str, active: str, expected: bool) -> None:
    row = user_row("JSmith", **key(1, active=active, rotated=rotated, used=ago(1)))
    assert raised("user.access_key_not_rotated", row) is expected


def test_key_thresholds_come_from_the_context() -> None:
    row = user_row("JSmith", **key(1, rotated=ago(50), used=ago(1)))
    assert not raised("user.access_key_not_rotated", row)
    assert raised("user.access_key_not_rotated", row, context=CheckContext(thresholds=Thresholds(access_key_rotation_days=30)))


# user.multiple_active_keys
@pytest.mark.parametrize(("k1", "k2", "expected"), [("true", "true", True), ("true", "false", False), ("false", "true", False)])
def test_multiple_active_keys(k1: str, k2: str, expected: bool) -> None:
    row = user_row("JSmith", **key(1, active=k1, used=ago(1)), **key(2, active=k2, used=ago(1)))
    assert raised("user.multiple_active_keys", row) is expected


# user.access_key_at_setup
@pytest.mark.parametrize(
    ("password", "used", "expected"),
    [("true", "N/A", True), ("true", ago(1), False), ("false", "N/A", False)],
)
def test_access_key_at_setup(password: str, used: str, expected: bool) -> None:
    row = user_row("JSmith", password_enabled=password, mfa_active="true", password_last_used=ago(1), **key(1, used=used))
    assert raised("user.access_key_at_setup", row) is expected


# user.name_violation and user.shared_account
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("JSmith", False),
        ("AWhite", False),
        ("networkAdmin", True),
        ("DbaAdmin", True),
        ("ci-deploy", True),
        ("jsmith", True),
        ("J.Smith", True),
    ],
)
def test_name_violation_against_the_jsmith_standard(name: str, expected: bool) -> None:
    assert raised("user.name_violation", user_row(name)) is expected


def test_name_violation_is_not_raised_without_a_standard() -> None:
    assert not raised("user.name_violation", user_row("whatever"), context=CheckContext())


def test_an_exempted_name_is_neither_a_violation_nor_shared() -> None:
    context = CheckContext(naming=compile_rule("initial_lastname", exemptions={"breakglass-admin": "sealed envelope, SEC-12"}))
    breakglass = user_row("breakglass-admin", password_enabled="true", mfa_active="true", password_last_used=ago(1))
    assert findings(root_row(), breakglass, context=context) == set()
    assert ("user.shared_account", "breakglass-admin") in findings(root_row(), breakglass)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("networkAdmin", True), ("DbaAdmin", True), ("AccountsAdmin", True), ("ops", True), ("shared-login", True),
        ("team_billing", True), ("JSmith", False), ("ci-deploy", False), ("AWhite", False), ("Bob_Adminson", False),
    ],
)  # fmt: skip
def test_shared_account_by_role_or_team_words(name: str, expected: bool) -> None:
    console = user_row(name, password_enabled="true", mfa_active="true", password_last_used=ago(1))
    assert raised("user.shared_account", console, context=CheckContext()) is expected


@pytest.mark.parametrize(("password", "key", "expected"), [("false", "false", False), ("true", "false", True), ("false", "true", True)])
def test_shared_account_needs_something_to_share(password: str, key: str, expected: bool) -> None:
    row = user_row("networkAdmin", password_enabled=password, mfa_active="true", password_last_used=ago(1) if password == "true" else "N/A",
                   access_key_1_active=key, access_key_1_last_rotated=ago(3), access_key_1_last_used_date=ago(1))  # fmt: skip
    assert raised("user.shared_account", row, context=CheckContext()) is expected


# account.report_missing_root
def test_a_report_without_root_raises_missing_root_and_no_root_check() -> None:
    result = findings(user_row("JSmith"))
    assert ("account.report_missing_root", "") in result
    assert not any(check.startswith("root.") for check, _ in result)
    assert ("account.report_missing_root", "") not in findings(root_row(), user_row("JSmith"))


def test_root_is_never_judged_by_user_checks() -> None:
    row = root_row(password_enabled="true", mfa_active="true", password_last_used=ago(400))
    assert {c for c, p in findings(row) if p == ROOT_USER} == set()


def test_checks_do_not_read_the_clock_the_same_input_gives_the_same_output() -> None:
    report = parse_report(build_report(root_row(password_last_used=ago(2)), user_row("networkAdmin", password_enabled="true")))
    first: list[Result] = evaluate_report(report, JSMITH, NOW)
    assert first == evaluate_report(report, JSMITH, NOW)
    assert {r.check_id for r in evaluate_report(report, JSMITH, NOW + 60 * DAY)} != {r.check_id for r in first}


# account.root_email_not_alias
@pytest.mark.parametrize(
    ("email", "rule", "expected"),
    [
        ("aws-root+111122223333@example.com", "aws-root+{account_id}@example.com", False),
        ("AWS-Root+111122223333@Example.com", "aws-root+{account_id}@example.com", False),
        ("aws-root+999988887777@example.com", "aws-root+{account_id}@example.com", True),
        ("john.smith@example.com", "aws-root+{account_id}@example.com", True),
        ("security+prod@example.com", "@example.com", False),
        ("john@gmail.com", "@example.com", True),
        ("john@example.com.evil.io", "@example.com", True),
        ("", "@example.com", True),  # not recorded
        ("john@gmail.com", "", False),  # no rule configured: not evaluated
    ],
)
def test_root_email_not_alias(email: str, rule: str, expected: bool) -> None:
    context = CheckContext(naming=JSMITH.naming, account_id="111122223333", root_email=email, root_email_rule=rule)
    assert raised("account.root_email_not_alias", root_row(), context=context) is expected
