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
