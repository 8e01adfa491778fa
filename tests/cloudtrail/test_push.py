"""Root use within minutes (issue 25): the consumer of the root events queue, on moto's SQS in-process.

The real consumer process on a moto server, with the shipped template's rules delivering, is in
tests/integration/test_root_push.py."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import OperationalError

from accounts.models import AwsAccount
from audits.models import Alert, AuditRun, Finding, RunSource
from cloudtrail import push
from cloudtrail.models import PushPath, RootEvent, UnregisteredRootEvent
from cloudtrail.push import REASON_ATTRIBUTE, Consumer
from cloudtrail.records import TrailFileError, pushed_record
from cloudtrail.sessions import SESSION_CHECK
from demo.trail import api_call, pushed, sign_in

T = datetime(2026, 12, 4, 9, 14, 3, tzinfo=UTC)


@pytest.fixture
def queues(aws: None) -> dict[str, str]:
    sqs = boto3.client("sqs")
    dead = sqs.create_queue(QueueName="root-dead-letter")["QueueUrl"]
    # Visibility 0: a message not deleted comes back at the next receive (a consumer that died before deleting).
    queue = sqs.create_queue(QueueName="root-events", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    return {"queue": queue, "dead": dead}


def _put(queues: dict[str, str], *bodies: str) -> None:
    sqs = boto3.client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=queues["queue"], MessageBody=body)


def _consume(queues: dict[str, str], said: list[str] | None = None) -> push.Tally:
    consumer = Consumer(
        boto3.client("sqs"), queues["queue"], queues["dead"], say=(said if said is not None else []).append, wait_seconds=0
    )
    return consumer.run(until_empty=True)


def _left(url: str) -> list[dict[str, Any]]:
    answer = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    return list(answer.get("Messages", []))


# --- the envelope --------------------------------------------------------------------------------------------------


def test_an_envelope_is_read_by_the_same_rules_as_a_file() -> None:
    record = pushed_record("message m-1", pushed(sign_in(T, mfa="No", ip="198.51.100.5", event_id="e-1")))
    assert (record.event_id, record.at, record.name, record.source_ip, record.mfa_used, record.account_id) == (
        "e-1", T, "ConsoleLogin", "198.51.100.5", False, "111122223333",
    )  # fmt: skip
    call = pushed_record("message m-2", pushed(api_call(T, "CreateAccessKey", event_id="e-2")))
    assert (call.action, call.mfa_used) == ("iam:CreateAccessKey", True)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "message m: not JSON"),
        ("[]", "message m: not an EventBridge event"),
        (
            json.dumps({"detail-type": "EC2 Instance State-change Notification", "detail": {}}),
            "detail-type 'EC2 Instance State-change Notification' is not one of",
        ),
        (
            json.dumps({"detail-type": "AWS API Call via CloudTrail", "detail": "CreateUser"}),
            "its detail is not a CloudTrail record",
        ),
        (
            json.dumps({"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": "CreateUser"}}),
            "is not a CloudTrail event (it needs userIdentity, eventID and eventTime)",
        ),
        (
            json.dumps(
                {
                    "detail-type": "AWS API Call via CloudTrail",
                    "detail": {**api_call(T, event_id="x"), "userIdentity": {"type": "IAMUser", "accountId": "111122223333"}},
                }
            ),
            "is not root's",
        ),
        (
            json.dumps(
                {"detail-type": "AWS API Call via CloudTrail", "detail": {**api_call(T, event_id="x"), "eventTime": "yesterday"}}
            ),
            "has an eventTime that is not a time",
        ),
        (
            json.dumps(
                {
                    "detail-type": "AWS API Call via CloudTrail",
                    "detail": {**api_call(T, event_id="x"), "userIdentity": {"type": "Root"}, "recipientAccountId": ""},
                }
            ),
            "names no AWS account",
        ),
        ("x" * (push.MAX_REASON * 2000), "not an EventBridge message"),
    ],
)
def test_a_message_that_is_not_a_root_event_is_refused_with_its_reason(body: str, reason: str) -> None:
    with pytest.raises(TrailFileError, match=None) as refused:
        pushed_record("message m", body)
    assert reason in str(refused.value) and "\n" not in str(refused.value)


# --- the consumer --------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # alerts go out when the run commits
@time_machine.travel(T + timedelta(minutes=1), tick=False)
def test_a_pushed_sign_in_is_stored_alerted_and_deleted(queues: dict[str, str], sandbox: AwsAccount, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_ALERT_EMAIL = "security@example.com"
    _put(
        queues,
        pushed(sign_in(T, mfa="No", ip="198.51.100.5", event_id="e-1")),
        pushed(api_call(T + timedelta(minutes=2), event_id="e-2")),
    )
    done = _consume(queues)
    assert (done.messages, done.stored, done.duplicates, done.dead_lettered) == (2, 2, 0, 0)
    events = list(RootEvent.objects.order_by("at"))
    assert [(e.event_id, e.origin, e.run.source) for e in events] == [
        ("e-1", "push", RunSource.PUSH),
        ("e-2", "push", RunSource.PUSH),
    ]
    assert all(e.message_id and f"SQS message {e.message_id}" in e.source for e in events)
    # The session is one finding, as for any other source, and the alert went out at once.
    (session,) = Finding.objects.filter(check_id=SESSION_CHECK)
    assert session.subject == "e-1" and session.severity == "critical"
    (alert,) = Alert.objects.all()
    assert alert.key == "root-session:e-1" and alert.sent_at is not None
    assert [m.to for m in mail.outbox] == [["security@example.com"]] and "198.51.100.5" in mail.outbox[0].body
    assert _left(queues["queue"]) == [] and _left(queues["dead"]) == []
    path = PushPath.objects.get(account=sandbox)
    assert (path.messages, path.first_message_at, path.last_message_at, path.last_event_at) == (
        2,
        T + timedelta(minutes=1),
        T + timedelta(minutes=1),
        T + timedelta(minutes=2),
    )


@pytest.mark.django_db(transaction=True)
@time_machine.travel(T + timedelta(minutes=1), tick=False)
def test_a_duplicate_delivery_stores_and_alerts_nothing_twice(queues: dict[str, str], sandbox: AwsAccount, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_ALERT_EMAIL = "security@example.com"
    body = pushed(sign_in(T, event_id="e-1"))
    _put(queues, body)
    _consume(queues)
    _put(queues, body, body)  # EventBridge delivers at least once
    again = _consume(queues)
    assert (again.messages, again.stored, again.duplicates, again.runs) == (2, 0, 2, [])
    assert RootEvent.objects.count() == 1 and AuditRun.objects.filter(source=RunSource.PUSH).count() == 1
    assert Alert.objects.count() == 1 and len(mail.outbox) == 1
    assert PushPath.objects.get(account=sandbox).messages == 3
    assert _left(queues["queue"]) == []


class Killed(BaseException):
    """The consumer process dying (SIGKILL) between its commit and the delete."""


@pytest.mark.django_db(transaction=True)
@time_machine.travel(T + timedelta(minutes=1), tick=False)
def test_a_consumer_killed_between_store_and_delete_stores_nothing_twice(
    queues: dict[str, str],
    sandbox: AwsAccount,
    settings,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    settings.IAMWATCH_ALERT_EMAIL = "security@example.com"
    _put(queues, pushed(sign_in(T, event_id="e-1")), pushed(api_call(T + timedelta(minutes=1), event_id="e-2")))

    def die(self: Consumer, messages: Any) -> None:
        raise Killed

    with monkeypatch.context() as patched, pytest.raises(Killed):
        patched.setattr(Consumer, "delete", die)
        _consume(queues)
    assert RootEvent.objects.count() == 2 and Alert.objects.count() == 1  # committed and alerted, not deleted
    redelivered = _consume(queues)  # the next consumer sees both messages again
    assert (redelivered.messages, redelivered.stored, redelivered.duplicates) == (2, 0, 2)
    assert RootEvent.objects.count() == 2 and Alert.objects.count() == 1 and len(mail.outbox) == 1
    assert _left(queues["queue"]) == []


@pytest.mark.django_db(transaction=True)
def test_a_malformed_message_goes_to_the_dead_letter_queue_with_its_reason_and_blocks_nothing(
    queues: dict[str, str], sandbox: AwsAccount
) -> None:
    _put(queues, "{not json", pushed(sign_in(T, event_id="e-1")))
    said: list[str] = []
    done = _consume(queues, said)
    assert (done.dead_lettered, done.stored) == (1, 1)
    (dead,) = _left(queues["dead"])
    assert dead["Body"] == "{not json"
    assert (
        dead["MessageAttributes"][REASON_ATTRIBUTE]["StringValue"].startswith("message ")
        and "not JSON" in dead["MessageAttributes"][REASON_ATTRIBUTE]["StringValue"]
    )
    assert _left(queues["queue"]) == []
    assert any(line.startswith("dead-lettered message ") for line in said)
    assert RootEvent.objects.get().event_id == "e-1"


@pytest.mark.django_db(transaction=True)
def test_an_unregistered_account_is_kept_aside_once_and_listed_for_readers_of_every_account(
    queues: dict[str, str], sandbox: AwsAccount, personas: dict[str, Any], alice: Any
) -> None:
    from accounts.models import AccountScope

    stranger = pushed(sign_in(T, mfa="No", ip="198.51.100.77", account="999988887777", event_id="x-1"))
    _put(queues, stranger, stranger)
    done = _consume(queues)
    assert (done.unregistered, done.duplicates, done.stored) == (1, 1, 0)
    kept = UnregisteredRootEvent.objects.get()
    assert (kept.aws_account_id, kept.event_id, kept.mfa_used, kept.source_ip) == ("999988887777", "x-1", False, "198.51.100.77")
    assert RootEvent.objects.count() == 0 and _left(queues["queue"]) == []
    page = personas["viewer"].get("/root-activity/")
    assert b"Events from accounts not registered" in page.content and b"999988887777" in page.content
    # A reader scoped to some accounts sees none of it: an unregistered account is in nobody's scope.
    scope = AccountScope.objects.create(user=alice, reason="payments team")
    scope.accounts.add(sandbox)
    from tests.conftest import client_for

    assert b"999988887777" not in client_for(alice).get("/root-activity/").content


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_queue_makes_the_consumer_back_off_and_say_so(
    sandbox: AwsAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.servers import free_port

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    sqs = boto3.client("sqs", "us-east-1", endpoint_url=f"http://127.0.0.1:{free_port()}")
    said: list[str] = []
    stop = threading.Event()
    waits: list[float] = []
    consumer = Consumer(
        sqs,
        "http://127.0.0.1:1/123456789012/q",
        "http://127.0.0.1:1/123456789012/d",
        say=said.append,
        wait_seconds=0,
        backoff_max=4,
        stop=stop,
    )
    monkeypatch.setattr(stop, "wait", lambda delay: waits.append(delay) or (len(waits) >= 4 and stop.set()))
    consumer.run()
    assert waits == [1, 2, 4, 4]  # doubling up to the most it may wait
    assert len(said) == 4 and all(
        line.startswith("root events queue unreachable (sqs: EndpointConnectionError") and "retrying in" in line for line in said
    )


@pytest.mark.django_db(transaction=True)
def test_a_database_failure_leaves_the_messages_for_the_next_try(
    queues: dict[str, str], sandbox: AwsAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    _put(queues, pushed(sign_in(T, event_id="e-1")))

    def down(*args: Any, **kwargs: Any) -> push.Tally:
        raise OperationalError("could not connect to server")

    stop = threading.Event()
    said: list[str] = []
    consumer = Consumer(boto3.client("sqs"), queues["queue"], queues["dead"], say=said.append, wait_seconds=0, stop=stop)
    with monkeypatch.context() as patched:
        patched.setattr(push, "store_pushed", down)
        patched.setattr(stop, "wait", lambda delay: stop.set())
        consumer.run()
    assert said == ["database unavailable (OperationalError: could not connect to server): retrying in 1 s"]
    assert _consume(queues).stored == 1 and RootEvent.objects.count() == 1  # the message was still there


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no queue: set IAMWATCH_ROOT_EVENTS_QUEUE_URL or give --queue-url"),
        (["--queue-url", "https://sqs.us-east-1.amazonaws.com/123456789012/q"], "no dead-letter queue"),
        (
            ["--queue-url", "root-events", "--dead-letter-url", "https://sqs.us-east-1.amazonaws.com/123456789012/d"],
            "--queue-url: not an SQS queue URL",
        ),
        (
            [
                "--queue-url",
                "https://sqs.us-east-1.amazonaws.com/123456789012/q",
                "--dead-letter-url",
                "https://sqs.us-east-1.amazonaws.com/123456789012/d",
                "--wait-seconds",
                "21",
            ],
            "--wait-seconds: SQS long-polls 0 to 20 seconds",
        ),
    ],
)
def test_the_command_refuses_a_missing_or_bad_queue_in_one_line(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("consume_root_events", *args)


def test_the_queue_region_comes_from_its_url() -> None:
    from cloudtrail.management.commands.consume_root_events import queue_region

    assert queue_region("https://sqs.eu-west-1.amazonaws.com/123456789012/q") == "eu-west-1"
    assert queue_region("http://127.0.0.1:5000/123456789012/q") is None


# --- is the path live? ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_connection_test_looks_for_the_rule_and_the_account_page_says_whether_the_path_is_live(
    aws: None,
    personas: dict[str, Any],
    settings,  # type: ignore[no-untyped-def]
) -> None:
    from staff.models import ChangeRecord

    settings.IAMWATCH_ROOT_EVENTS_QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/root-events"
    account = AwsAccount.objects.create(account_id="123456789012", name="home")  # the default chain: moto's account
    admin = personas["admin"]

    def tested() -> dict[str, Any]:
        steps = admin.post("/accounts/123456789012/test-connection").context["steps"]
        account.refresh_from_db()
        return {s.call: s for s in steps}

    rule = "events:DescribeRule iamwatch-root-activity in us-east-1"
    assert not tested()[rule].ok and "not found" in tested()[rule].detail and account.push_rule_enabled_since is None
    assert "Push path not known" not in admin.get("/accounts/123456789012/").content.decode()
    events = boto3.client("events", "us-east-1")
    events.put_rule(
        Name="iamwatch-root-activity", EventPattern=json.dumps({"detail": {"userIdentity": {"type": ["Root"]}}}), State="DISABLED"
    )
    assert not tested()[rule].ok and account.push_rule == "DISABLED"
    assert (
        'found the root activity rule <span class="run-failed">DISABLED</span>'
        in admin.get("/accounts/123456789012/").content.decode()
    )
    events.enable_rule(Name="iamwatch-root-activity")
    assert tested()[rule].ok and account.push_rule == "ENABLED" and account.push_rule_enabled_since is not None
    PushPath.objects.create(account=account, first_message_at=T, last_message_at=T, last_event_at=T, messages=3)
    assert "<strong>Push path live</strong>" in admin.get("/accounts/123456789012/").content.decode()
    # Each change of the rule's state is in the trail.
    changes = [
        (c.before["push_rule"], c.after["push_rule"])
        for c in ChangeRecord.objects.filter(action="account.push_rule").order_by("pk")
    ]
    assert [after for _, after in changes] == [changes[0][1], "DISABLED", "ENABLED"] and changes[0][0] == "(never tested)"


@pytest.mark.django_db
def test_without_a_queue_the_connection_test_does_not_look_for_the_rule(aws: None, settings) -> None:  # type: ignore[no-untyped-def]
    from accounts.aws import connection_test

    settings.IAMWATCH_ROOT_EVENTS_QUEUE_URL = ""
    account = AwsAccount.objects.create(account_id="123456789012", name="home")
    assert not any(s.call.startswith("events:") for s in connection_test(account))


@pytest.mark.django_db
@time_machine.travel(T + timedelta(days=2), tick=False)
def test_the_agenda_flags_an_account_whose_root_events_lookup_found_and_the_push_path_missed(sandbox: AwsAccount) -> None:
    from cloudtrail.selectors import push_missed
    from tests.conftest import client_for, member_of

    viewer = client_for(member_of("viewer", "vera"))  # signed in at the travelled time

    other = AwsAccount.objects.create(account_id="444455556666", name="quiet")

    def looked_up(account: AwsAccount, event_id: str, at: datetime, recorded: datetime) -> None:
        RootEvent.objects.create(
            account=account, event_id=event_id, at=at, name="ConsoleLogin", event_source="signin.amazonaws.com", success=True,
            raw={}, origin=RootEvent.Origin.LOOKUP, run=AuditRun.objects.create(account=account, source=RunSource.FETCH, status="succeeded", requested_at=recorded),
            recorded_at=recorded,
        )  # fmt: skip

    # Before the path was in place, or read by LookupEvents within the grace: no miss. Without a path: no miss either.
    looked_up(sandbox, "before", T - timedelta(days=3), T)
    looked_up(sandbox, "quick", T + timedelta(hours=1), T + timedelta(hours=1, minutes=5))
    looked_up(other, "no-path", T + timedelta(hours=1), T + timedelta(days=1))
    PushPath.objects.create(
        account=sandbox, first_message_at=T - timedelta(days=1), last_message_at=T, last_event_at=T, messages=1
    )
    assert push_missed(within=AwsAccount.objects.all()) == {}
    looked_up(sandbox, "missed", T + timedelta(hours=2), T + timedelta(days=1))
    assert push_missed(within=AwsAccount.objects.all()) == {sandbox.pk: 1}
    assert push_missed(within=AwsAccount.objects.filter(pk=other.pk)) == {}
    assert push_missed(within=AwsAccount.objects.all(), since=T + timedelta(days=1, seconds=1)) == {}  # stored before the review
    response = viewer.get(f"/?since={(T - timedelta(days=1)).date()}")
    assert response.status_code == 200, response
    assert "push path missed 1" in response.content.decode()
    account_page = viewer.get(f"/accounts/{sandbox.account_id}/").content.decode()
    assert "LookupEvents found 1 root event the push path did not deliver" in account_page
    # A rule found enabled counts as a path in place too, from the connection test that found it.
    other.push_rule, other.push_rule_enabled_since = "ENABLED", T
    other.save()
    assert push_missed(within=AwsAccount.objects.all()) == {sandbox.pk: 1, other.pk: 1}


@pytest.mark.django_db(transaction=True)
def test_a_dead_letter_queue_that_refuses_leaves_the_bad_message_and_stores_the_rest(
    queues: dict[str, str], sandbox: AwsAccount
) -> None:
    boto3.client("sqs").delete_queue(QueueUrl=queues["dead"])  # gone, or the role lacks sqs:SendMessage on it
    _put(queues, "{not json", pushed(sign_in(T, event_id="e-1")))
    said: list[str] = []
    consumer = Consumer(boto3.client("sqs"), queues["queue"], queues["dead"], say=said.append, wait_seconds=0)
    done = consumer.handle(consumer.receive())
    assert (done.messages, done.stored, done.dead_lettered) == (2, 1, 0)
    assert RootEvent.objects.get().event_id == "e-1"
    (line,) = [x for x in said if x.startswith("could not dead-letter")]
    assert (
        "not JSON" in line
        and "sqs:SendMessage: AWS.SimpleQueueService.NonExistentQueue" in line
        and line.endswith("left on the queue")
    )
    assert [m["Body"] for m in _left(queues["queue"])] == ["{not json"]  # still there, for SQS's redrive
