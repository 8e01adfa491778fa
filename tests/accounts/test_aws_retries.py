"""IAMWATCH_AWS_MAX_ATTEMPTS is the number of requests a throttled call makes, counted at a throttling proxy."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from accounts.aws import AccountAccess
from tests.fakeaws import faulty_proxy


@pytest.mark.parametrize("attempts", [1, 3])
def test_a_call_throttled_every_time_is_sent_exactly_max_attempts_times(
    attempts: int, settings, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    settings.IAMWATCH_AWS_MAX_ATTEMPTS = attempts
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with faulty_proxy("http://127.0.0.1:9") as (faults, endpoint):  # nothing is forwarded: every call is throttled
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        faults.throttle["GenerateCredentialReport"] = 100
        with pytest.raises(ClientError, match="Throttling"):
            AccountAccess(None).client("iam").generate_credential_report()
    assert faults.seen == ["GenerateCredentialReport"] * attempts


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Call")


@pytest.mark.parametrize(
    ("code", "status", "transient"),
    [
        ("Throttling", 400, True), ("TooManyRequestsException", 400, True), ("RequestLimitExceeded", 503, True),
        ("ServiceUnavailable", 503, True), ("InternalFailure", 500, True), ("SomethingNew", 502, True),
        ("ServiceFailure", 500, True),  # issue 30 point 15: IAM's 500, a code outside the list: a 5xx is transient
        ("SomethingNew", 599, True), ("SomethingNew", 499, False),
        ("ExpiredToken", 400, True),  # the assumed role's 15 minutes ran out mid-run: a new attempt assumes anew
        ("AccessDenied", 403, False), ("NoSuchEntity", 404, False), ("InvalidClientTokenId", 403, False),
        ("ValidationError", 400, False),
    ],
)  # fmt: skip
def test_the_failure_model_sorts_aws_errors(code: str, status: int, transient: bool) -> None:
    from accounts.aws import is_transient

    assert is_transient(_client_error(code, status)) is transient


def test_no_answer_and_an_unparseable_answer_are_transient() -> None:
    from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
    from botocore.parsers import ResponseParserError

    from accounts.aws import is_transient

    assert is_transient(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    assert is_transient(ReadTimeoutError(endpoint_url="http://127.0.0.1:9"))
    assert is_transient(ResponseParserError("not XML"))
    assert not is_transient(ValueError("a bug is not an AWS fault"))


def test_permanent_errors_carry_a_hint() -> None:
    from accounts.aws import describe_error

    assert "trust policy" in describe_error(_client_error("AccessDenied", 403), call="sts:AssumeRole arn:aws:iam::1:role/x")
    assert "lacks this permission" in describe_error(_client_error("AccessDenied", 403), call="iam:GetCredentialReport")


HTML_PAGE = "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n<body>\n<h1>Not Found</h1>\n" + "<p>x</p>\n" * 500 + "</body></html>"


@pytest.mark.parametrize("body", [HTML_PAGE, HTML_PAGE.upper(), "<html><body>oops</body></html>"])
def test_an_html_page_in_place_of_aws_s_answer_is_said_in_one_short_line(body: str) -> None:
    """Issue 27, point 7: the run's warnings repeated a server's HTML error page, once per region."""
    from botocore.exceptions import ClientError

    from accounts.aws import describe_error

    said = describe_error(ClientError({"Error": {"Code": "404", "Message": body}}, "LookupEvents"), call="cloudtrail:LookupEvents")
    assert "\n" not in said and len(said) < 140 and said.startswith("cloudtrail:LookupEvents: 404: an HTML page, not AWS's answer")
    assert "<" not in said


def test_a_long_message_is_cut_to_one_line() -> None:
    from accounts.aws import MAX_SAID, one_line

    assert one_line("first line\nsecond   line") == "first line second line"
    assert len(one_line("x" * 5000)) == MAX_SAID
