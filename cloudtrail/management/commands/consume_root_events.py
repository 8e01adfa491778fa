"""manage.py consume_root_events: root events pushed by EventBridge to SQS, stored and alerted within seconds."""

from __future__ import annotations

import re
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.aws import AccountAccess
from cloudtrail.push import Consumer

_REGION = re.compile(r"//sqs[.-]([a-z0-9-]+)\.amazonaws\.com")


def queue_region(url: str) -> str | None:
    """The region an SQS queue URL names (https://sqs.eu-west-1.amazonaws.com/...), or None (a local endpoint)."""
    found = _REGION.search(url)
    return found.group(1) if found else None


class Command(BaseCommand):
    help = (
        "Long-poll the root events queue (IAMWATCH_ROOT_EVENTS_QUEUE_URL) that the EventBridge rules of "
        "deploy/root-events.yaml fill: store each root event once by eventID, alert at once, delete each message after "
        "its commit; a message that is not a root event goes to the dead-letter queue with its reason."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue-url", default=settings.IAMWATCH_ROOT_EVENTS_QUEUE_URL, metavar="URL")
        parser.add_argument("--dead-letter-url", default=settings.IAMWATCH_ROOT_EVENTS_DLQ_URL, metavar="URL")
        parser.add_argument("--until-empty", action="store_true", help="stop when a receive returns no message")
        parser.add_argument("--wait-seconds", type=int, default=20, help="long-poll wait, 0-20 s (default 20)")
        parser.add_argument("--backoff-max", type=float, default=60.0, help="longest wait between retries, seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        queue, dead_letter = options["queue_url"], options["dead_letter_url"]
        if not queue:
            raise CommandError(
                "no queue: set IAMWATCH_ROOT_EVENTS_QUEUE_URL or give --queue-url (README, Root use within minutes)"
            )
        if not dead_letter:
            raise CommandError("no dead-letter queue: set IAMWATCH_ROOT_EVENTS_DLQ_URL or give --dead-letter-url")
        for name, url in (("--queue-url", queue), ("--dead-letter-url", dead_letter)):
            if not re.fullmatch(settings.IAMWATCH_SQS_QUEUE_URL_PATTERN, url):
                raise CommandError(f"{name}: not an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME): {url!r}")
        if not 0 <= options["wait_seconds"] <= 20:
            raise CommandError("--wait-seconds: SQS long-polls 0 to 20 seconds")
        if options["backoff_max"] <= 0:
            raise CommandError("--backoff-max: a positive number of seconds")
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())  # finish the batch in hand, then stop

        def say(line: str) -> None:
            self.stderr.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} UTC consume_root_events: {line}")

        consumer = Consumer(
            AccountAccess(None).client("sqs", queue_region(queue)),
            queue,
            dead_letter,
            say=say,
            wait_seconds=options["wait_seconds"],
            backoff_max=options["backoff_max"],
            stop=stop,
        )
        say(f"reading {queue}")
        done = consumer.run(until_empty=options["until_empty"])
        self.stdout.write(
            f"{done.messages} messages: {done.stored} root events stored in {len(done.runs)} runs, {done.duplicates} already "
            f"stored, {done.unregistered} of unregistered accounts, {done.dead_lettered} dead-lettered"
        )
