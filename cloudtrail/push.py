"""Root use within minutes: the root events EventBridge rules push to an SQS queue (deploy/root-events.yaml), consumed
as they come by `manage.py consume_root_events` (README, "Root use within minutes").

Each message's `detail` is read as a CloudTrail record by the same rules as files and LookupEvents
(cloudtrail.records.pushed_record), stored once per eventID in one run per account and batch (all or nothing), and its
root session alerted at once (audits.alerts, once per session); the messages are deleted only after their commit, so a
consumer killed in between sees them again and stores nothing twice. A message that is not a root event goes to the
dead-letter queue with its reason and never blocks the queue; a root event of an account IAMWatch does not review is
kept aside (UnregisteredRootEvent). An unreachable queue or database makes the consumer back off and say so.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from accounts.aws import AWS_ERRORS, describe_error
from accounts.models import AwsAccount
from audits.alerts import alerts_for_run
from audits.models import AuditRun, RunSource, RunStatus
from cloudtrail.models import PushPath, RootEvent, UnregisteredRootEvent
from cloudtrail.records import RootRecord, TrailFileError, pushed_record
from cloudtrail.services import store_root_events

CONSUMER = "consume_root_events"
BATCH = 10  # SQS's most messages a receive returns
DRAIN = 100  # the most messages handled at once: memory stays bounded, well within the queue's visibility timeout
REASON_ATTRIBUTE = "iamwatch-reason"
MAX_REASON = 1000


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    receipt: str
    body: str


@dataclass
class Tally:
    """What a consumer did, for its log line and the benchmark."""

    messages: int = 0
    stored: int = 0  # root events stored for the first time
    duplicates: int = 0  # delivered again, or already read by LookupEvents or a file
    unregistered: int = 0
    dead_lettered: int = 0
    runs: list[int] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.messages += other.messages
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.unregistered += other.unregistered
        self.dead_lettered += other.dead_lettered
        self.runs += other.runs


def store_pushed(items: Sequence[tuple[Message, RootRecord]], *, received_at: datetime | None = None) -> Tally:
    """Store the root events of one account's messages as one run (in its own transaction, alerted on commit), or keep
    them aside when the account is not registered. Every item is of the same account (RootRecord.account_id)."""
    now = received_at or timezone.now()
    account_id = items[0][1].account_id
    if any(record.account_id != account_id for _, record in items):
        raise ValueError("store_pushed takes the messages of one account")
    tally = Tally(messages=len(items))
    account = AwsAccount.objects.filter(account_id=account_id).first()
    if account is None:
        kept = set(
            UnregisteredRootEvent.objects.filter(
                aws_account_id=account_id, event_id__in=[r.event_id for _, r in items]
            ).values_list("event_id", flat=True)
        )
        UnregisteredRootEvent.objects.bulk_create(
            [
                UnregisteredRootEvent(
                    aws_account_id=account_id,
                    event_id=r.event_id,
                    at=r.at,
                    name=r.name,
                    source_ip=r.source_ip,
                    success=r.success,
                    mfa_used=r.mfa_used,
                    raw=r.raw,
                    message_id=m.id,
                    received_at=now,
                )
                for m, r in items
            ],
            ignore_conflicts=True,  # delivered again: kept once
        )
        tally.unregistered = len({r.event_id for _, r in items} - kept)
        tally.duplicates = len(items) - tally.unregistered
        return tally
    with transaction.atomic():
        # The account's push path first, locked: two consumers storing one account's events go one after the other.
        path, _ = PushPath.objects.select_for_update().get_or_create(
            account=account, defaults={"first_message_at": now, "last_message_at": now, "last_event_at": items[0][1].at}
        )
        known = set(
            RootEvent.objects.filter(account=account, event_id__in=[r.event_id for _, r in items]).values_list(
                "event_id", flat=True
            )
        )
        new: dict[str, tuple[Message, RootRecord]] = {}
        for m, r in items:
            if r.event_id not in known:
                new.setdefault(r.event_id, (m, r))
        tally.duplicates = len(items) - len(new)
        if new:
            run = AuditRun.objects.create(
                account=account, source=RunSource.PUSH, status=RunStatus.SUCCEEDED, requested_at=now, requested_by=CONSUMER,
                started_at=now, finished_at=now, generated_at=now,
            )  # fmt: skip
            stored = store_root_events(
                run=run, records=[r for _, r in new.values()], origin=RootEvent.Origin.PUSH, recorded_at=now,
                message_ids={event_id: m.id for event_id, (m, _) in new.items()},
            )  # fmt: skip
            run.open_finding_count, run.new_finding_count = stored.findings.open, stored.findings.new
            run.warnings = [
                f"EventBridge push: {stored.new} root event{'s' if stored.new != 1 else ''} from {len(items)} "
                f"message{'s' if len(items) != 1 else ''}; findings: {stored.findings.new} new"
            ]
            run.save(update_fields=["open_finding_count", "new_finding_count", "warnings"])
            tally.stored, tally.runs = stored.new, [run.pk]
            run_id = run.pk
            transaction.on_commit(lambda: alerts_for_run(run_id=run_id))
        path.messages += len(items)
        path.last_message_at = now
        path.last_event_at = max(path.last_event_at, *(r.at for _, r in items))
        path.save(update_fields=["messages", "last_message_at", "last_event_at"])
    return tally


class Consumer:
    """Long-polls the queue and handles each batch: see the module. `say`: where its one-line reports go."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        dead_letter_url: str,
        *,
        say: Callable[[str], None],
        wait_seconds: int = 20,
        backoff_max: float = 60.0,
        stop: threading.Event | None = None,
    ) -> None:
        self.sqs, self.queue_url, self.dead_letter_url = sqs, queue_url, dead_letter_url
        self.say, self.wait_seconds, self.backoff_max = say, wait_seconds, backoff_max
        self.stop = stop or threading.Event()
        self.tally = Tally()

    def receive(self) -> list[Message]:
        """What the queue holds, up to DRAIN messages: one long poll, then more at once while each receive comes back
        full (a backlog), so that a burst of one account's events is one run, not one run per ten."""
        messages: list[Message] = []
        wait = self.wait_seconds
        while len(messages) < DRAIN:
            answer = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=BATCH, WaitTimeSeconds=wait)
            got = [Message(m["MessageId"], m["ReceiptHandle"], m.get("Body", "")) for m in answer.get("Messages", [])]
            messages += got
            if len(got) < BATCH:
                break
            wait = 0
        return messages

    def handle(self, messages: Sequence[Message]) -> Tally:
        """Store a received batch and delete what was stored or dead-lettered; raise on an AWS or database failure
        (what was not deleted comes back after the queue's visibility timeout)."""
        tally = Tally()
        by_account: dict[str, list[tuple[Message, RootRecord]]] = defaultdict(list)
        for m in messages:
            try:
                record = pushed_record(f"message {m.id}", m.body)
            except TrailFileError as exc:
                tally.messages += 1
                try:
                    self.dead_letter(m, str(exc))
                except AWS_ERRORS as failed:
                    # Left on the queue: the others are stored all the same, and the queue's redrive policy moves
                    # this one to the dead-letter queue after its fifth receive.
                    self.say(f"could not dead-letter {exc} ({describe_error(failed, call='sqs:SendMessage')}): left on the queue")
                else:
                    tally.dead_lettered += 1
                continue
            by_account[record.account_id].append((m, record))
        stored: list[Message] = []
        try:
            for items in by_account.values():
                tally.add(store_pushed(items))  # committed, one account at a time
                stored += [m for m, _ in items]
        finally:
            # Only what was committed, in one call; a consumer that dies before it sees these again, as duplicates.
            self.delete(stored)
        return tally

    def dead_letter(self, message: Message, reason: str) -> None:
        self.sqs.send_message(
            QueueUrl=self.dead_letter_url,
            MessageBody=message.body or "(empty)",
            MessageAttributes={
                REASON_ATTRIBUTE: {"DataType": "String", "StringValue": reason[:MAX_REASON]},
                "iamwatch-message-id": {"DataType": "String", "StringValue": message.id},
            },
        )
        self.delete([message])
        self.say(f"dead-lettered {reason}")

    def delete(self, messages: Sequence[Message]) -> None:
        for start in range(0, len(messages), BATCH):
            chunk = messages[start : start + BATCH]
            answer = self.sqs.delete_message_batch(
                QueueUrl=self.queue_url, Entries=[{"Id": str(n), "ReceiptHandle": m.receipt} for n, m in enumerate(chunk)]
            )
            for failed in answer.get("Failed", []):
                # Stored already: its next delivery is a duplicate, stored nothing twice.
                self.say(
                    f"could not delete message {chunk[int(failed['Id'])].id}: {failed.get('Code')}: {failed.get('Message', '')}"
                )

    def run(self, *, until_empty: bool = False) -> Tally:
        """Consume until stopped (or, with `until_empty`, until a receive returns nothing)."""
        delay = 1.0
        while not self.stop.is_set():
            try:
                messages = self.receive()
                if not messages:
                    if until_empty:
                        break
                    continue
                done = self.handle(messages)
            except AWS_ERRORS as exc:
                self.say(f"root events queue unreachable ({describe_error(exc, call='sqs')}): retrying in {delay:.0f} s")
            except DatabaseError as exc:
                self.say(
                    f"database unavailable ({type(exc).__name__}: {' '.join(str(exc).split())[:300]}): retrying in {delay:.0f} s"
                )
            else:
                delay = 1.0
                self.tally.add(done)
                self.say(
                    f"{done.messages} message{'s' if done.messages != 1 else ''}: {done.stored} root event{'s' if done.stored != 1 else ''} "
                    f"stored, {done.duplicates} already stored, {done.unregistered} of unregistered accounts, "
                    f"{done.dead_lettered} dead-lettered"
                )
                continue
            self.stop.wait(delay)
            delay = min(delay * 2, self.backoff_max)
        return self.tally
