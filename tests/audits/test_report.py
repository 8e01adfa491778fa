"""The parser: real-shaped files in, typed rows out; everything suspect refused with one line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from audits.report import COLUMNS, ROOT_USER, ReportError, parse_report
from tests.conftest import SAMPLE_REPORT, SAMPLES
from tests.reports import build_report, root_row, user_row


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_sample_report_parses_into_typed_rows() -> None:
    report = parse_report(SAMPLE_REPORT.read_bytes())
    assert report.account_id == "111122223333"
    assert [r.user for r in report.rows] == [ROOT_USER, "JSmith", "networkAdmin", "DbaAdmin", "AWhite", "BJones", "ci-deploy"]
    root = report.root
    assert root is not None and root.password_enabled is None and root.mfa_active
    assert root.password_last_used == utc("2026-10-28T09:14:55+00:00")
    awhite = next(r for r in report.users if r.user == "AWhite")
    assert awhite.password_enabled is True and awhite.password_never_used and awhite.password_last_used is None
    assert awhite.access_key_1.active and awhite.access_key_1.last_used is None
    dba = next(r for r in report.users if r.user == "DbaAdmin")
    assert dba.access_key_1.last_used_region == "eu-west-1" and dba.access_key_1.last_used_service == "rds"
    assert dba.access_key_2.last_used_region == ""
    assert len(report.sha256) == 64


def test_upper_case_booleans_as_in_the_aws_docs_are_accepted() -> None:
    report = parse_report(
        build_report(root_row(mfa_active="TRUE"), user_row("JSmith", password_enabled="TRUE", mfa_active="False"))
    )
    assert report.root is not None and report.root.mfa_active
    assert report.users[0].password_enabled is True and report.users[0].mfa_active is False


def test_z_suffix_and_other_offsets_are_normalised_to_utc() -> None:
    report = parse_report(
        build_report(
            user_row(
                "JSmith",
                user_creation_time="2026-01-01T02:00:00+02:00",
                password_enabled="true",
                password_last_used="2026-02-01T00:00:00Z",
            )
        )
    )
    row = report.users[0]
    assert row.user_creation_time == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert row.password_last_used == datetime(2026, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize("value", ["true", "false", "not_supported"])
def test_root_password_enabled_may_be_true_false_or_not_supported(value: str) -> None:
    root = parse_report(build_report(root_row(password_enabled=value))).root
    assert root is not None
    assert root.password_enabled == {"true": True, "false": False, "not_supported": None}[value]


def test_motos_deviations_are_accepted_no_root_row_and_not_supported_fields() -> None:
    moto_user = user_row(
        "alice", password_last_used="not_supported", access_key_1_active="true", access_key_1_last_rotated="2026-11-01T10:00:00+00:00",
        access_key_1_last_used_date="N/A", access_key_1_last_used_region="not_supported", access_key_1_last_used_service="not_supported",
    )  # fmt: skip
    report = parse_report(build_report(moto_user))
    assert report.root is None
    key = report.users[0].access_key_1
    assert key.active and key.last_used is None and key.last_used_region == "" and key.last_used_service == ""
    assert report.users[0].password_last_used is None and not report.users[0].password_never_used


def test_columns_added_in_future_are_kept_aside_and_ignored() -> None:
    columns = (*COLUMNS[:5], "password_passkey_count", *COLUMNS[5:], "future_column")
    rows = [{**user_row("JSmith"), "password_passkey_count": "2", "future_column": "x"}]
    report = parse_report(build_report(*rows, columns=columns))
    assert report.extra_columns == ("password_passkey_count", "future_column")
    assert report.users[0].user == "JSmith"


def test_a_header_only_report_is_refused_every_account_has_root() -> None:
    with pytest.raises(ReportError, match="lists no principal"):
        parse_report(build_report())


def test_a_byte_order_mark_and_crlf_line_ends_are_accepted() -> None:
    content = b"\xef\xbb\xbf" + build_report(user_row("JSmith")).replace(b"\n", b"\r\n")
    assert parse_report(content).users[0].user == "JSmith"


@pytest.mark.parametrize("path", sorted((SAMPLES / "bad").iterdir()), ids=lambda p: p.name)
def test_every_bad_sample_is_refused_with_one_line(path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ReportError) as caught:
        parse_report(path.read_bytes())
    assert "\n" not in str(caught.value) and str(caught.value)


def _refusal(content: bytes) -> str:
    with pytest.raises(ReportError) as caught:
        parse_report(content)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_an_empty_file_is_refused() -> None:
    assert "empty" in _refusal(b"  \n")


def test_text_that_is_not_utf8_is_refused() -> None:
    assert "UTF-8" in _refusal("user,arn\nJos\xe9,x\n".encode("latin-1"))


def test_a_csv_that_is_not_a_credential_report_is_refused() -> None:
    assert "no credential report header" in _refusal(b"name,email\nalice,alice@example.com\n")


@pytest.mark.parametrize("copy", ["mfa_active", "MFA_Active", " mfa_active "])
def test_a_header_that_repeats_a_column_is_refused_not_read_from_its_last_copy(copy: str) -> None:
    """Issue 30 point 4: a second mfa_active (in any spelling the header accepts) saying "true" would turn a console
    user without MFA into one with MFA if the last copy won."""
    lines = build_report(root_row(), user_row("JSmith", password_enabled="true", mfa_active="false")).decode().splitlines()
    forged = "\n".join([f"{lines[0]},{copy}", *(f"{line},true" for line in lines[1:])]) + "\n"
    assert _refusal(forged.encode()) == "the header repeats a column name"


def test_a_ragged_row_is_refused_with_its_line() -> None:
    content = build_report(user_row("JSmith")) + b"BJones,arn:aws:iam::111122223333:user/BJones,true\n"
    assert _refusal(content).startswith("line 3:")


def test_a_timestamp_without_a_time_zone_is_refused() -> None:
    message = _refusal(build_report(user_row("JSmith", user_creation_time="2026-01-01T00:00:00")))
    assert "line 2, column user_creation_time" in message and "time zone" in message


def test_a_word_where_a_boolean_belongs_is_refused() -> None:
    assert "column mfa_active" in _refusal(build_report(user_row("JSmith", mfa_active="yes")))


def test_a_user_whose_password_state_is_not_supported_is_refused() -> None:
    assert "password_enabled" in _refusal(build_report(user_row("JSmith", password_enabled="not_supported")))


def test_a_user_listed_twice_is_refused() -> None:
    assert "appears twice" in _refusal(build_report(user_row("JSmith"), user_row("JSmith")))


def test_arns_of_two_accounts_are_refused() -> None:
    other = {**user_row("BJones"), "arn": "arn:aws:iam::999988887777:user/BJones"}
    assert "more than one AWS account" in _refusal(build_report(user_row("JSmith"), other))


@pytest.mark.parametrize(
    "arn",
    ["arn:aws:iam::111122223333:root", "arn:aws:s3:::bucket", "JSmith"],  # a short account id: see below
)
def test_an_arn_that_is_not_the_users_iam_arn_is_refused(arn: str) -> None:
    assert "is not the IAM ARN" in _refusal(build_report({**user_row("JSmith"), "arn": arn}))


def test_a_root_row_with_a_user_arn_is_refused() -> None:
    assert "is not the IAM ARN" in _refusal(build_report({**root_row(), "arn": "arn:aws:iam::111122223333:user/root"}))


def test_an_unterminated_quote_is_refused() -> None:
    content = build_report(user_row("JSmith")) + b'"BJones,arn\n'
    assert _refusal(content)


# --- IAM's own rules for names and paths -------------------------------------------------------------------

EVERY_ALLOWED = "aZ09+=,.@_-"


@pytest.mark.parametrize(
    "name", [EVERY_ALLOWED, "x" * 64, "=cmd", "@admin", "+1", "-x", "a.b,c", "Ab_cd-ef@example.com"]
)
def test_every_name_iam_allows_is_read(name: str) -> None:
    assert parse_report(build_report(root_row(), user_row(name))).rows[1].user == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("x" * 65, "65 characters"),
        ("J Smith", "a space"),
        ("Jösé", "letters IAM does not take"),
        ("a/b", "a slash"),
        ("tab\there", "a tab"),
        ("semi;colon", "a semicolon"),
        ("\uff46\uff55\uff4c\uff4c", "full-width letters"),
        ("<script>", "angle brackets"),
    ],
)
def test_a_name_iam_would_refuse_refuses_the_report_on_its_line(name: str, why: str) -> None:
    message = _refusal(build_report(root_row(), user_row("JSmith"), user_row(name)))
    assert message.startswith("line 4:") and "is not an IAM user name" in message, why


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:iam::111122223333:user/division abc/JSmith", "is not an IAM path"),
        ("arn:aws:iam::111122223333:user/divisiön/JSmith", "is not an IAM path"),
        ("arn:aws:iam::111122223333:user/" + "p/" * 256 + "JSmith", "is not an IAM path"),
        ("arn:aws:iam::111122223333:user/BJones", "names user 'BJones', not 'JSmith'"),
        ("arn:aws:iam::111122223333:user/ops/BJones", "names user 'BJones', not 'JSmith'"),
    ],
)
def test_a_path_iam_would_refuse_or_an_arn_of_another_user_refuses_the_report(arn: str, expected: str) -> None:
    message = _refusal(build_report(root_row(), {**user_row("JSmith"), "arn": arn}))
    assert message.startswith("line 3:") and expected in message


def test_a_path_of_512_characters_is_read() -> None:
    path = "/" + "p/" * 254 + "qq/"
    assert len(path) == 512
    arn = f"arn:aws:iam::111122223333:user{path}JSmith"
    assert parse_report(build_report({**user_row("JSmith"), "arn": arn})).rows[0].arn == arn


@pytest.mark.parametrize("content", [b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n  \n", b"\n\n"])
def test_a_report_that_is_only_a_byte_order_mark_or_blank_is_refused_in_one_line(content: bytes) -> None:
    assert "empty" in _refusal(content)


def test_header_names_are_matched_in_any_case_and_with_spaces_around() -> None:
    content = build_report(root_row(), user_row("JSmith"))
    header, rest = content.split(b"\n", 1)
    shouted = b",".join(b" " + name.capitalize() + b" " for name in header.split(b",")) + b",Future_Column\n"
    rows = [line + b",x" for line in rest.splitlines()]
    report = parse_report(shouted + b"\n".join(rows) + b"\n")
    assert [r.user for r in report.rows] == [ROOT_USER, "JSmith"] and report.extra_columns == ("Future_Column",)


@pytest.mark.parametrize(
    ("encoding", "named"), [("utf-16", "UTF-16 with BOM"), ("utf-16-le", "UTF-16"), ("utf-16-be", "UTF-16")]
)
def test_a_utf16_file_is_named_as_such(encoding: str, named: str) -> None:
    text = build_report(root_row(), user_row("JSmith")).decode()
    message = _refusal(text.encode(encoding))
    assert message.startswith(f"the file is {named} (") and "save it as CSV UTF-8" in message


@pytest.mark.parametrize("account", ["0123456789", "fakearn", "1111222233334"])
def test_an_arn_whose_account_id_is_not_12_digits_says_so(account: str) -> None:
    bad = {**user_row("JSmith"), "arn": f"arn:aws:iam::{account}:user/JSmith"}
    message = _refusal(build_report(bad))
    assert f"names account {account!r}, which is not an AWS account id (exactly 12 digits)" in message
    root = {**root_row(), "arn": f"arn:aws:iam::{account}:root"}
    assert "which is not an AWS account id" in _refusal(build_report(root))


@pytest.mark.parametrize("arn", ["arn:aws:iam::111122223333:root\n", "arn:aws:iam::111122223333:user/JSmith\n"])
def test_an_arn_with_a_trailing_line_break_is_refused(arn: str) -> None:
    rows = [root_row(arn=arn), user_row("JSmith")] if arn.endswith("root\n") else [root_row(), user_row("JSmith", arn=arn)]
    with pytest.raises(ReportError, match="is not the IAM ARN of"):
        parse_report(build_report(*rows))


def test_more_rows_than_iam_allows_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import audits.report

    monkeypatch.setattr(audits.report, "MAX_REPORT_ROWS", 3)
    rows = [root_row(), *(user_row(f"user{n}") for n in range(3))]
    with pytest.raises(ReportError, match=r"^4 rows: more than 3 \(IAM allows 5,000 users an account\), not a credential report$"):
        parse_report(build_report(*rows))
    assert len(parse_report(build_report(*rows[:3])).rows) == 3
