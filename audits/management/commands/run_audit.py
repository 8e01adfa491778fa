from __future__ import annotations

import signal
from typing import Any

from celery import current_app
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import AwsAccount, is_account_id
from audits.models import AuditRun, RunStatus
from audits.runs import ACTIVE, Interrupted, RunBusy, fleet_request, run_execute, run_request
from audits.tasks import QueueUnavailable, enqueue_run


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(signal.Signals(signum).name)


class Command(BaseCommand):
    help = "Fetch the credential report of the given accounts (default: every active account) now, synchronously, with no broker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_ids", nargs="*", metavar="ACCOUNT_ID")
        parser.add_argument(
            "--queue", action="store_true", help="queue the runs for the Celery workers instead of running them here"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        wanted: list[str] = options["account_ids"]
        malformed = [a for a in wanted if not is_account_id(a)]
        if malformed:
            raise CommandError(f"{', '.join(map(repr, malformed))}: an AWS account id is exactly 12 digits")
        accounts = AwsAccount.objects.filter(account_id__in=wanted) if wanted else AwsAccount.objects.filter(is_active=True)
        unknown = sorted(set(wanted) - set(accounts.values_list("account_id", flat=True)))
        if unknown:
            raise CommandError(f"no AWS account {', '.join(unknown)} is registered")
        if not accounts:
            raise CommandError("no active AWS account is registered (add one with manage.py add_account)")
        if options["queue"]:
            self._queue(list(accounts.order_by("account_id")))
            return
        failed = 0
        for signum in (signal.SIGTERM, signal.SIGINT):  # mark the run under way failed "interrupted", then stop
            signal.signal(signum, _interrupt)
        for account in accounts.order_by("account_id"):
            try:
                run = run_execute(run_id=run_request(account=account, requested_by="manage.py run_audit").pk)
            except Interrupted as exc:
                raise CommandError(f"interrupted by {exc} during {account}: its run is marked failed, nothing stored") from None
            except RunBusy as exc:
                failed += 1
                self.stderr.write(f"{account}: not run: {exc}")
                continue
            if run is not None:
                failed += self._say(account, run)
        if failed:
            raise CommandError(f"{failed} of {accounts.count()} account(s) failed")

    def _say(self, account: AwsAccount, run: AuditRun) -> int:
        """One line for the account's run; 1 if it failed."""
        if run.status == RunStatus.FAILED:
            self.stderr.write(f"{account}: run {run.pk} failed: {run.error}")
            return 1
        if run.status == RunStatus.UNCHANGED:
            self.stdout.write(f"{account}: run {run.pk} unchanged: {run.error}")
        elif run.status in (RunStatus.PENDING, RunStatus.RUNNING):
            self.stdout.write(f"{account}: run {run.pk} {run.status}{f' ({run.error})' if run.error else ''}")
        else:
            self.stdout.write(
                f"{account}: run {run.pk} {run.status}, {run.principal_count} principals, "
                f"{run.open_finding_count} open findings ({run.new_finding_count} new, {run.resolved_finding_count} resolved)"
            )
        return 0

    def _queue(self, accounts: list[AwsAccount]) -> None:
        """Queue a run per account; in eager mode they run here, one after another. Every way out (SIGTERM, SIGINT,
        an exception) leaves no run of this command pending or running: those not handed over, and in eager mode those
        not finished, are failed; one line is said and the exit is non-zero."""
        result = fleet_request(requested_by="manage.py run_audit --queue", force=True, accounts=accounts)
        eager = bool(current_app.conf.task_always_eager)
        stopped: list[str] = []

        def stop(signum: int, frame: object) -> None:
            stopped.append(signal.Signals(signum).name)
            raise Interrupted(stopped[-1])

        previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
        handed = 0
        try:
            for run in result.runs:
                enqueue_run(run)  # in eager mode the task catches Interrupted: `stopped` says it came
                handed += 1
                if stopped:
                    raise Interrupted(stopped[-1])
        except QueueUnavailable as exc:
            left = self._fail([r.pk for r in result.runs[handed + 1 :]], "could not be queued: the task broker (Redis) is unreachable")
            raise CommandError(f"{exc}; {left + 1} run(s) not queued, marked failed") from None
        except (Interrupted, KeyboardInterrupt, Exception) as exc:
            why = f"interrupted by {exc}" if isinstance(exc, Interrupted) else f"stopped: {type(exc).__name__}: {exc}".rstrip(": ")
            unfinished = result.runs if eager else result.runs[handed:]
            left = self._fail([r.pk for r in unfinished], f"{why} before it finished; nothing stored")
            raise CommandError(f"{why}: {left} run(s) not run or not finished, marked failed") from None
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write(f"queued {len(result.runs)} run(s): {', '.join(str(r.pk) for r in result.runs)}")
        if eager:  # the runs ran in this process: say how each ended, as without --queue
            failed = sum(self._say(run.account, AuditRun.objects.get(pk=run.pk)) for run in result.runs)
            if failed:
                raise CommandError(f"{failed} of {len(result.runs)} account(s) failed")

    @staticmethod
    def _fail(run_ids: list[int], error: str) -> int:
        """Fail those of `run_ids` still pending or running; how many."""
        return AuditRun.objects.filter(pk__in=run_ids, status__in=ACTIVE).update(
            status=RunStatus.FAILED, error=error, finished_at=timezone.now()
        )
