"""Root use within minutes (issue 25), end to end on a moto server: the shipped CloudFormation template deployed in the
security account and in a member account, a root sign-in put as an event in the member account, delivered by moto's
EventBridge through the security account's bus to the queue, and a real `manage.py consume_root_events` process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from accounts.models import AwsAccount
from audits.models import Alert, Finding
from cloudtrail.models import PushPath, RootEvent
from cloudtrail.push import REASON_ATTRIBUTE
from cloudtrail.sessions import SESSION_CHECK
from demo.trail import api_call, sign_in
from tests import servers

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATE = (ROOT / "deploy" / "root-events.yaml").read_text()
SECURITY = "123456789012"  # moto's own account: the default credentials act in it
MEMBER = "210987654321"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _client(service: str, region: str, endpoint: str, **credentials: str) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint, **(credentials or CREDENTIALS))


def _member(service: str, region: str, endpoint: str) -> Any:
    sts = _client("sts", "us-east-1", endpoint)
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{MEMBER}:role/StackSetExecution", RoleSessionName="stackset")["Credentials"]
    return _client(
        service,
        region,
        endpoint,
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
    )


def _stack(cf: Any, name: str, parameters: dict[str, str]) -> dict[str, str]:
    cf.create_stack(
        StackName=name, TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )  # fmt: skip
    stack = cf.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.fixture
def deployed(moto_url: str) -> Iterator[dict[str, str]]:
    """The template in the security account's queue region and in a member account's other region (a StackSet's
    instances); unique names, and the stacks deleted after the test, as the moto server lives for the whole session
    (another test's rules would deliver each event twice)."""
    suffix = uuid.uuid4().hex[:8]
    parameters = {"SecurityAccountId": SECURITY, "QueueName": f"root-{suffix}", "RuleName": f"root-activity-{suffix}"}
    outputs = _stack(
        _client("cloudformation", "us-east-1", moto_url),
        f"iamwatch-root-{suffix}",
        {**parameters, "OrganizationId": "o-abcdefghij"},
    )
    assert set(outputs) == {"QueueUrl", "DeadLetterQueueUrl", "ConsumerPolicyArn"}
    member_outputs = _stack(_member("cloudformation", "eu-west-1", moto_url), f"iamwatch-root-{suffix}", parameters)
    assert member_outputs == {}  # a member account forwards; the queue is the security account's alone
    # The rule the connection test looks for is there, enabled, in both.
    for events in (_client("events", "us-east-1", moto_url), _member("events", "eu-west-1", moto_url)):
        assert events.describe_rule(Name=parameters["RuleName"])["State"] == "ENABLED"
    # The queue is the template's: its dead-letter queue takes what no consumer could store five times.
    sqs = _client("sqs", "us-east-1", moto_url)
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=outputs["QueueUrl"], AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    )
    assert (
        redrive["deadLetterTargetArn"].endswith(f":{SECURITY}:root-{suffix}-dead-letter") and int(redrive["maxReceiveCount"]) == 5
    )
    yield {**outputs, "endpoint": moto_url}
    _member("cloudformation", "eu-west-1", moto_url).delete_stack(StackName=f"iamwatch-root-{suffix}")
    _client("cloudformation", "us-east-1", moto_url).delete_stack(StackName=f"iamwatch-root-{suffix}")
    assert not _member("events", "eu-west-1", moto_url).list_rules(NamePrefix=parameters["RuleName"])["Rules"]


def _consume(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "consume_root_events", "--until-empty", "--wait-seconds", "1", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture
def consumer_env(process_env: dict[str, str], deployed: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {
        **process_env,
        "AWS_ENDPOINT_URL": deployed["endpoint"], "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "IAMWATCH_ROOT_EVENTS_QUEUE_URL": deployed["QueueUrl"], "IAMWATCH_ROOT_EVENTS_DLQ_URL": deployed["DeadLetterQueueUrl"],
        "EMAIL_URL": f"filemail:///{tmp_path / 'mail'}", "IAMWATCH_ALERT_EMAIL": "security@example.com",
    }  # fmt: skip


def _mails(env: dict[str, str]) -> list[str]:
    folder = Path(env["EMAIL_URL"].removeprefix("filemail:///"))
    return [p.read_text() for p in sorted(folder.glob("*.log"))] if folder.exists() else []


def _put_root_events(endpoint: str, *records: dict[str, Any]) -> None:
    events = _member("events", "eu-west-1", endpoint)
    for r in records:
        kind = "AWS Console Sign In via CloudTrail" if r["eventName"] == "ConsoleLogin" else "AWS API Call via CloudTrail"
        answer = events.put_events(Entries=[{"Source": "aws.signin", "DetailType": kind, "Detail": json.dumps(r)}])
        assert answer["FailedEntryCount"] == 0


def test_a_root_sign_in_in_a_member_account_is_stored_alerted_and_deleted_by_the_consumer_process(
    consumer_env: dict[str, str], deployed: dict[str, str]
) -> None:
    account = AwsAccount.objects.create(account_id=MEMBER, name="payments-prod", environment="prod")
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    sign = sign_in(at, mfa="No", ip="198.51.100.5", account=MEMBER, event_id=f"e-{uuid.uuid4()}")
    call = api_call(
        at + timedelta(seconds=40), "CreateAccessKey", account=MEMBER, region="eu-west-1", event_id=f"e-{uuid.uuid4()}"
    )
    _put_root_events(deployed["endpoint"], sign, call)
    # Not root's: the rule's pattern lets it through to no queue.
    not_root = {**api_call(at, account=MEMBER, event_id="not-root"), "userIdentity": {"type": "IAMUser", "accountId": MEMBER}}
    _put_root_events(deployed["endpoint"], not_root)
    # A malformed message on the queue itself: dead-lettered with its reason, the others stored all the same.
    sqs = _client("sqs", "us-east-1", deployed["endpoint"])
    sqs.send_message(
        QueueUrl=deployed["QueueUrl"], MessageBody='{"detail-type": "AWS API Call via CloudTrail", "detail": "oops"}'
    )

    done = _consume(consumer_env)
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.strip()
        == "3 messages: 2 root events stored in 1 runs, 0 already stored, 0 of unregistered accounts, 1 dead-lettered"
    )
    events = {e.event_id: e for e in RootEvent.objects.filter(account=account)}
    assert set(events) == {sign["eventID"], call["eventID"]} and {e.origin for e in events.values()} == {"push"}
    (session,) = Finding.objects.filter(account=account, check_id=SESSION_CHECK)
    assert session.subject == sign["eventID"] and session.severity == "critical"  # a sign-in without MFA
    (alert,) = Alert.objects.filter(account=account)
    assert alert.sent_at is not None
    (mail,) = _mails(consumer_env)
    assert "root signed in in payments-prod (210987654321)" in mail and "198.51.100.5" in mail and "iam:CreateAccessKey" in mail
    assert sqs.receive_message(QueueUrl=deployed["QueueUrl"], WaitTimeSeconds=0).get("Messages") is None  # deleted
    (dead,) = sqs.receive_message(QueueUrl=deployed["DeadLetterQueueUrl"], MessageAttributeNames=["All"])["Messages"]
    assert "its detail is not a CloudTrail record" in dead["MessageAttributes"][REASON_ATTRIBUTE]["StringValue"]
    assert PushPath.objects.get(account=account).messages == 2

    # Delivered again (EventBridge delivers at least once): nothing stored or alerted twice.
    _put_root_events(deployed["endpoint"], sign)
    again = _consume(consumer_env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().startswith("1 messages: 0 root events stored in 0 runs, 1 already stored")
    assert RootEvent.objects.filter(account=account).count() == 2 and Alert.objects.filter(account=account).count() == 1
    assert len(_mails(consumer_env)) == 1


def test_a_consumer_process_killed_between_its_commit_and_the_delete_stores_nothing_twice(
    consumer_env: dict[str, str], deployed: dict[str, str]
) -> None:
    import threading

    from tests.fakeaws import faulty_proxy

    account = AwsAccount.objects.create(account_id=MEMBER, name="payments-prod")
    sqs = _client("sqs", "us-east-1", deployed["endpoint"])
    sqs.set_queue_attributes(QueueUrl=deployed["QueueUrl"], Attributes={"VisibilityTimeout": "2"})  # back soon after
    sign = sign_in(datetime.now(UTC).replace(microsecond=0), account=MEMBER, event_id=f"e-{uuid.uuid4()}")
    _put_root_events(deployed["endpoint"], sign)
    with faulty_proxy(deployed["endpoint"]) as (proxy, endpoint):
        proxy.hold["DeleteMessageBatch"] = threading.Event()  # the delete never answers: the process is killed in it
        process = subprocess.Popen(
            [sys.executable, "manage.py", "consume_root_events", "--wait-seconds", "1"],
            cwd=ROOT, env={**consumer_env, "AWS_ENDPOINT_URL": endpoint}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            assert proxy.held.wait(timeout=60), "the consumer never came to delete"
            assert RootEvent.objects.filter(account=account).count() == 1  # committed before the delete
            process.kill()  # SIGKILL: no clean-up of any kind
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        # (Inside the proxy's lifetime: leaving it releases the held delete.)
        time.sleep(3)  # past the visibility timeout: the message is delivered again
        again = _consume(consumer_env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().startswith("1 messages: 0 root events stored in 0 runs, 1 already stored"), again.stderr
    assert RootEvent.objects.filter(account=account).count() == 1 and Alert.objects.filter(account=account).count() == 1
    assert len(_mails(consumer_env)) == 1
    assert sqs.receive_message(QueueUrl=deployed["QueueUrl"], WaitTimeSeconds=0).get("Messages") is None


def test_an_unreachable_queue_makes_the_consumer_process_back_off_and_say_so_not_crash(
    consumer_env: dict[str, str], tmp_path: Path
) -> None:
    # Nothing listens there; one attempt a call (botocore's own retries would only slow the test down).
    env = {**consumer_env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{servers.free_port()}", "IAMWATCH_AWS_MAX_ATTEMPTS": "1"}
    log = tmp_path / "consumer.err"
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "consume_root_events", "--wait-seconds", "1", "--backoff-max", "2"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err, text=True,
        )  # fmt: skip
        try:

            def unreachable() -> list[str]:
                return [line for line in log.read_text().splitlines() if "unreachable" in line]

            servers.wait_for(lambda: len(unreachable()) >= 3, "three attempts", timeout=90, interval=0.2)
            assert process.poll() is None  # still running
            process.terminate()  # SIGTERM: stops at the next wait, cleanly
            out, _ = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 0, log.read_text()
    lines = unreachable()
    assert all("root events queue unreachable (sqs: EndpointConnectionError" in line for line in lines)
    assert ["retrying in 1 s" in lines[0], "retrying in 2 s" in lines[1], "retrying in 2 s" in lines[2]] == [True, True, True]
    assert out.startswith("0 messages: 0 root events stored")
